// Package awq implements activation-aware weight quantization (AWQ, Lin et
// al. 2023): before rounding, each input channel j of a linear layer is
// scaled by s_j = mean|x_j|^α, so that the channels carrying large
// activations get a finer grid; the inverse scale is folded into the
// operation that produces the input (an RMSNorm's weights, or the rows of
// the previous linear layer), which leaves the model's function unchanged
// before rounding. α is searched on a grid for the value that minimizes the
// layers' output error, and the weights are then clipped group by group to
// the threshold that minimizes it (auto-clip).
//
// The objective is the output error on the calibration inputs,
// tr(E·H·Eᵀ) with E the weight error and H = Σxᵀx (a [gptq.Hessian]),
// summed over the linears sharing an input. It equals the mean squared
// error of the layers' outputs over the calibration tokens without
// keeping the tokens (AutoAWQ measures the output of the whole attention
// or MLP block instead; lmc measures the linear layers themselves).
//
// Any grid works: [IntGrid] (the integer grids of GPTQ and
// compressed-tensors files) or [GGMLGrid] (a ggml block format, with its
// own importance-weighted quantizer).
package awq
