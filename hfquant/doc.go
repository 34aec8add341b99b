// Package hfquant writes and reads the quantized Hugging Face checkpoints
// that transformers and vLLM load: GPTQ (qweight/qzeros/scales/g_idx,
// quant_method "gptq") and compressed-tensors (pack-quantized W4A16/W8A16
// and float-quantized FP8). The layouts are described, and read, in package
// hfquant/spec; docs/EXPORTS.md has the commands.
//
// # Quantizing
//
// A [Quantized] is a matrix on an integer [Scheme]: codes, a scale and zero
// point per output row and group of input columns, and the group of each
// column (g_idx, a permutation under GPTQ's act-order). [QuantizeRTN]
// rounds to nearest on GPTQ's and compressed-tensors' grid (Scheme.Params,
// Scheme.Code); the calibrated methods (GPTQ, AWQ) produce the same struct,
// using Scheme.Params for each group and Scheme.Code for each weight, and
// pass their results to [Export] (ExportOptions.Quantized) or to the
// writers. Scales are rounded to the file's precision (F16 for GPTQ) before
// codes are chosen, so a written file dequantizes to exactly the values
// the quantizer measured.
//
// # Writing
//
// [Export] quantizes the linear layers of a modelfile.Model ([Targets]:
// attention and feed-forward projections; embeddings, norms and lm_head
// stay dense) and writes a complete folder — model.safetensors (or
// shards), config.json with quantization_config, generation_config.json,
// tokenizer files — one tensor at a time, atomically. [WriteGPTQ],
// [WriteCompressedTensors] and [WriteCompressedTensorsFP8] write matrices
// already quantized. Maps are keyed by GGUF tensor name with rows in lmc's
// canonical order; the writers permute llama's q/k rows back to Hugging
// Face's rotate-half order.
//
// # Reading
//
// modelfile.Open recognizes quantization_config and presents every
// quantized layer as a dense F32 tensor dequantized on read (exact), so
// model.Load runs these folders on its float32 kernels (4 bytes per
// weight; a kernel that computes on the packed codes is future work).
// [LoadQuantized] returns the quantized layers themselves.
//
// # Limits
//
// Writers accept 4- and 8-bit integer grids, group sizes dividing the
// input dimension (or −1), dimensions divisible by the pack factor (GPTQ:
// both; compressed-tensors pads), scales exactly representable in the
// stored dtype, one scheme per checkpoint, and finite weights (NaN and
// ±Inf give an error wrapping [ErrNonFinite], naming row and column). GPTQ
// v1 files cannot hold a zero point of 0: RTN keeps asymmetric zeros ≥ 1
// for them, and the writer refuses 0. The readers' limits are listed in
// package hfquant/spec.
package hfquant
