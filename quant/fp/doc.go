// Package fp implements the floating-point and special weight formats:
// FP8 E4M3 with per-tensor or per-channel scales, bitsandbytes' NF4 with
// double quantization, OCP MXFP4 (ggml's block layout) and NVIDIA's NVFP4
// (ggml's block layout and the two-level form compressed-tensors writes).
// ggml's integer block formats (Q4_0 … IQ4_XS) live in package quant.
//
// # FP8 E4M3
//
// [QuantizeFP8] keeps one float32 scale per tensor ([PerTensor]) or per
// output row ([PerChannel]), scale = amax/448, and stores
// F32ToF8E4M3Sat(x/scale): compressed-tensors' "float-quantized" weights,
// which vLLM loads. Dequantization is F8E4M3ToF32(code)·scale. Error: at
// most 2^−4 of |x| for values in E4M3's normal range, scale·2^−10 below.
//
// # NF4 (bitsandbytes)
//
// [QuantizeNF4] follows bitsandbytes' quantize_4bit (default backend): the
// tensor is flattened and cut into blocks of 64; each value is scaled by
// 1/absmax and takes the nearest of the 16 [NF4Code] values (the exact
// float32 table of bitsandbytes); two codes per byte, the first in the
// high nibble. With double quantization (compress_statistics), the
// absmax values minus their mean are quantized in blocks of 256 to 8 bits
// with bitsandbytes' signed dynamic map ([DynamicMap]) and one float32 per
// block. Error: at most (1 − 0.6962)/2 ≈ 0.152 of the block's absmax,
// plus the absmax's own error when double-quantized (about 1%).
//
// # MXFP4 (OCP MX, ggml type 39)
//
//	block_mxfp4 (17 bytes, 32 values):  u8 e | u8 qs[16]
//
// e is an E8M0 exponent; value j is KValuesMXFP4[nibble]·2^(e−128)
// (ggml stores the E2M1 values doubled, so the scale is halved). Element
// j is in the low nibble of qs[j], element j+16 in the high nibble.
// [QuantizeRowMXFP4] is ggml's quantize_row_mxfp4_ref, bit for bit:
// e = floor(log2(amax)) − 2 + 127, then the nearest value (first on ties).
//
// # NVFP4 (ggml type 40, and NVIDIA/compressed-tensors)
//
//	block_nvfp4 (36 bytes, 64 values):  u8 d[4] | u8 qs[32]
//
// Four sub-blocks of 16, each with an unsigned E4M3 scale d[s] (decoded
// halved, [UE4M3ToF32Half]); sub-block s uses qs[8s..8s+7], its element j
// in the low nibble and j+8 in the high nibble. [QuantizeRowNVFP4] is
// ggml's quantize_row_nvfp4_ref, bit for bit (scale = UE4M3(amax/6),
// rounded half up, saturating at 0x7E).
//
// [QuantizeNVFP4] produces NVIDIA's two-level form as compressed-tensors
// writes it ("nvfp4-pack-quantized"): groups of 16 along each row, FP8
// E4M3 group scales that already include a per-tensor global scale
// 448·6/amax, E2M1 codes two per byte (first element in the low nibble),
// value = E2M1·scale/global. See [NVFP4].
//
// # Kernels
//
// Importing this package registers kernels.Matrix constructors for
// gguf.TypeMXFP4 and gguf.TypeNVFP4, so GGUF files holding them run in
// lmc's engine. Activations are quantized to Q8_0 as llama.cpp's CPU
// backend does ([QuantizeRowQ8_0]); [DotNVFP4Q8_0] reproduces llama.cpp's
// AVX2 vec_dot bit for bit (eight float32 lanes, fused multiply-adds,
// hsum_float_8), and [DotMXFP4Q8_0] the blockwise order of llama.cpp's
// repacked MXFP4 kernels. The kernels are pure Go.
//
// # Verification
//
// testdata/gen_ggml.py calls ggml's own routines in the libggml that
// node-llama-cpp ships and stores their output: quantize and dequantize
// of MXFP4 and NVFP4 on edge-case inputs, random-byte dequantization,
// Q8_0 activations and dot products. The tests require every byte and
// float32 bit to match, and run books5M quantized to MXFP4 and NVFP4 in
// llama.cpp and in lmc (same greedy tokens; probabilities within 1e-2,
// 1.4e-6 observed for MXFP4).
//
// # Limits and errors
//
// Quantizers return a *[ValueError] (wrapping [ErrNonFinite]) for NaN or
// ±Inf input, naming the element. Row functions panic when a length is
// not a whole number of blocks (a programming error); the matrix
// quantizers return an error for a bad shape. NF4 block sizes are powers
// of two from 32 to 4096. Every byte pattern decodes (E8M0 255 and UE4M3
// 0x7F follow ggml: 2^127 and 0). The FP8 scale of an all-zero tensor or
// row is 1; an all-zero NF4 block gets code 0 (−1.0 × absmax 0), as in
// bitsandbytes.
package fp
