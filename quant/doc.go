// Package quant implements ggml's block quantization formats: quantizers
// that reproduce llama.cpp's llama-quantize byte for byte, exact
// dequantizers, and the fused dot products (vec_dot) that llama.cpp's CPU
// backend uses for matrix multiplication, in pure Go and in AVX2 assembly.
//
// Formats: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 (32-element blocks), the k-quants
// Q2_K, Q3_K, Q4_K, Q5_K, Q6_K (256-element super-blocks), IQ4_NL (32) and
// IQ4_XS (256), and Q8_K, the activation format of the k-quant dot
// products. Each is a [*Format] (Q4_0 … IQ4_XS); block sizes come from
// gguf.Type's table.
//
// # Quantizing
//
// [Format.Quantize] and [Format.QuantizeRows] take float32 rows and an
// optional importance matrix (one weight per column, llama.cpp's imatrix).
// Without one they run ggml's reference quantizers (quantize_row_*_ref;
// for IQ4_NL and IQ4_XS the search with weights x², ntry 7), which is what
// llama-quantize runs; the acceptance test requires every block of
// llama.cpp's books5M quantizations (c392e509, all twelve types, pure and
// mixed files) to come out identical. With one they run the
// importance-weighted quantizers (quantize_row_*_impl), ported with the
// same care but without reference files to check them against. Q8_0 and
// Q8_K ignore the importance matrix, as ggml does.
//
// Bit-exactness rests on repeating ggml's float32 operations in order:
// nearest_int's 1.5·2^23 trick (round half to even), roundf (Q8_0), fp16
// rounding to nearest even, and no fused multiply-adds (llama.cpp's build
// has none; Go may fuse x*y+z, so every product that feeds a sum is
// rounded explicitly with float32(...)).
//
// Limits and errors: rows must be a positive multiple of the block size
// (ErrRowLength); NaN and ±Inf inputs are refused with a *ValueError naming
// the row and column (ErrNonFinite); an importance matrix must have one
// finite, non-negative weight per column (ErrImatrix). Wrongly sized
// output buffers are programming errors and panic.
//
// # Dequantizing and dot products
//
// [Format.Dequantize] decodes any bytes (a NaN or Inf scale gives NaN or
// Inf values, as in ggml) and is bit-identical to ggml's
// dequantize_row_*. [Format.VecDot] multiplies a weight row by activations
// quantized with [QuantizeRowQ8_0] (the 32-element formats and IQ4_NL) or
// [QuantizeRowQ8_K] (the k-quants and IQ4_XS): exact integer dot products
// per block, scaled and summed in float32, so kernels differ only in the
// float summation order. (ggml pairs Q4_1 and Q5_1 with Q8_1, which stores
// d·Σq; with Q8_0 the kernel computes Σq itself.) The assembly kernels
// use VPSIGNB and VPMADDUBSW like ggml's, so an activation code of −128
// against a negative weight code wraps as in ggml; the quantizers here
// never produce −128.
//
// Kernels are chosen once from the CPU (golang.org/x/sys/cpu): AVX2 with
// FMA and F16C, else pure Go; GODEBUG=cpu.avx2=off or the build tags noasm
// and purego select the pure-Go kernels, which are also the reference the
// tests hold the assembly to.
//
// # Block layouts
//
// All fields are little-endian and packed; "half" is an IEEE binary16
// scale. Element j of a block is written x[j]; d, m are the block's scale
// and min.
//
//	Q4_0   18 B / 32   half d; u8 qs[16]
//	       x[j] = (qs[j]&15 − 8)·d, x[j+16] = (qs[j]>>4 − 8)·d   (j < 16)
//	Q4_1   20 B / 32   half d; half m; u8 qs[16]
//	       x[j] = (qs[j]&15)·d + m, x[j+16] = (qs[j]>>4)·d + m
//	Q5_0   22 B / 32   half d; u8 qh[4]; u8 qs[16]
//	       q = nibble as in Q4_0 | bit j of the u32 qh << 4; x[j] = (q − 16)·d
//	Q5_1   24 B / 32   half d; half m; u8 qh[4]; u8 qs[16]
//	       q as in Q5_0; x[j] = q·d + m
//	Q8_0   34 B / 32   half d; i8 qs[32]                 x[j] = qs[j]·d
//	IQ4_NL 18 B / 32   half d; u8 qs[16]
//	       nibbles as in Q4_0 index kvalues = {−127, −104, −83, −65, −49,
//	       −35, −22, −10, 1, 13, 25, 38, 53, 69, 89, 113}; x[j] = d·kvalues[q]
//
//	Q2_K   84 B / 256  u8 scales[16]; u8 qs[64]; half d; half dmin
//	       sub-block s (16 elements): sc = scales[s]&15, mn = scales[s]>>4;
//	       element 128h + 32k + 16i + l (h < 2, k < 4, i < 2, l < 16) is
//	       bits 2k..2k+1 of qs[32h + 16i + l]; x = d·sc·q − dmin·mn
//	Q3_K  110 B / 256  u8 hmask[32]; u8 qs[64]; u8 scales[12]; half d
//	       low two bits as in Q2_K; element e's third bit is bit e/32 of
//	       hmask[e%32], and q − 4 when it is clear; sixteen 6-bit scales:
//	       scale s has its low 4 bits in scales[s%8] (high nibble when
//	       s ≥ 8) and its high 2 bits at bits 2(s/4) of scales[8 + s%4];
//	       x = d·(scale − 32)·q
//	Q4_K  144 B / 256  half d; half dmin; u8 scales[12]; u8 qs[128]
//	       chunk c (64 elements) uses qs[32c..32c+31]: low nibbles are
//	       elements 0–31 with sub-block 2c, high nibbles 32–63 with 2c+1;
//	       eight 6-bit scales sc and mins mn: for j < 4 sc = s[j]&63,
//	       mn = s[j+4]&63, else sc = s[j+4]&15 | (s[j−4]>>6)<<4,
//	       mn = s[j+4]>>4 | (s[j]>>6)<<4; x = d·sc·q − dmin·mn
//	Q5_K  176 B / 256  half d; half dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]
//	       as Q4_K plus a fifth bit: bit 2c of qh[l] for element l of
//	       chunk c's low half, bit 2c+1 for its high half
//	Q6_K  210 B / 256  u8 ql[128]; u8 qh[64]; i8 scales[16]; half d
//	       half h (128 elements) uses ql[64h..], qh[32h..], scales[8h..];
//	       element 32k + l (k < 4, l < 32) takes the low (k < 2) or high
//	       (k ≥ 2) nibble of ql[l + 32(k%2)] and bits 2k..2k+1 of qh[l]
//	       as bits 4–5; x = d·scales[l/16 + 2k]·(q − 32)
//	IQ4_XS 136 B / 256 half d; u16 scales_h; u8 scales_l[4]; u8 qs[128]
//	       sub-block b (32 elements, qs[16b..]) as IQ4_NL with scale
//	       ls = (scales_l[b/2] >> 4(b%2))&15 | ((scales_h >> 2b)&3)<<4;
//	       x = d·(ls − 32)·kvalues[q]
//	Q8_K  292 B / 256  f32 d; i8 qs[256]; i16 bsums[16]
//	       x[j] = d·qs[j]; bsums[i] = Σ qs[16i..16i+15]
//
// Products are evaluated left to right, as in ggml (which matters only
// where they are inexact: Q6_K, IQ4_XS, Q8_K).
package quant
