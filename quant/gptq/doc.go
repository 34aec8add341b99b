// Package gptq implements GPTQ (Frantar et al. 2022), post-training
// quantization that rounds a weight matrix one input column at a time and
// moves each column's rounding error onto the columns not yet rounded, in
// the proportions that minimize the layer's output error on calibration
// inputs. The inputs enter only through H = Σxᵀx ([Hessian]).
//
// # Algorithm
//
// As in the reference implementation: columns whose inputs were always 0
// are zeroed; optionally (act-order, desc_act) columns are taken in order
// of decreasing H_jj; H is dampened by Damp·mean(diag H) (1% by default,
// raised tenfold up to three times if H is still not positive definite);
// U is the upper Cholesky factor of H⁻¹ (computed here as J·L⁻¹·J, L the
// Cholesky factor of J·H·J, J the reversal: one factorization, one
// triangular inverse); then for each column j, q_j = round(w_j), the error
// (w_j − q_j)/U_jj is subtracted, times U_j,k, from every later column k of
// the current block of BlockSize columns at once, and from the columns
// after the block once per block (lazy batch updates, a matrix product on
// the kernels' SIMD dot products). Arithmetic is float64 for H and its
// factor and float32 for the weights and updates.
//
// # Grids
//
// [QuantizeInt] rounds onto an integer grid (hfquant/spec.Scheme: 4 or 8
// bits, groups of 32/64/128 or per row, symmetric or not): a group's scale
// and zero point come from its weights when GPTQ reaches its first column
// (find_params), and the result is a spec.Quantized that the GPTQ and
// compressed-tensors writers store. [QuantizeGGML] rounds onto a ggml
// block format (Q4_K, Q6_K, Q8_0, IQ4_XS, …): when GPTQ reaches a block,
// the format's own quantizer (importance-weighted with the Hessian's
// diagonal, when given) quantizes the block's current weights, which fixes
// the block's scales; every column of the block is then rounded onto that
// block's grid (decoded from the block's bytes) with GPTQ's error feedback,
// and the codes are written back. The result is an ordinary tensor of that
// type: llama.cpp runs it as it runs its own.
//
// # Limits
//
// NaN or ±Inf weights are refused (ErrNonFinite, naming row and column); a
// Hessian that stays indefinite gives ErrNotPD. Memory is O(cols²) float64
// for the factor plus a float32 copy of the matrix; time is O(cols³) for
// the factor and O(rows·cols²) for the updates.
package gptq
