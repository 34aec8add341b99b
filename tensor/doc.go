// Package tensor holds lmc's element types (dtypes) and the exact, fast
// conversions between them. It is the one place where the size and name of
// each dtype is defined; the file-format packages (safetensors, gguf, hf)
// and the kernels all import this table.
//
// # Scalar conversions
//
// [F32ToF16], [F32ToBF16], [F32ToF8E4M3], [F32ToF8E5M2] and their inverses
// convert one value. Every narrowing conversion rounds to nearest, ties to
// even (RNE), including into the subnormal range; every widening
// conversion is exact. Special values:
//
//   - ±0 keep their sign; subnormal inputs are never flushed to zero.
//   - F16 and F8_E5M2 overflow to ±Inf (IEEE 754): a value rounds to Inf
//     exactly when it is at least max+ulp/2 (65520 for F16, 61440 for
//     F8_E5M2; the tie goes to Inf because the largest finite value has an
//     odd mantissa). BF16 likewise overflows to ±Inf.
//   - F8_E4M3 is OCP "e4m3fn": no infinities, largest finite 448, one NaN
//     per sign (0x7F, 0xFF). [F32ToF8E4M3] follows PyTorch's
//     x.to(torch.float8_e4m3fn): a value that rounds above 448 (|x| > 464),
//     ±Inf and NaN all give NaN, keeping the sign. [F32ToF8E4M3Sat] instead
//     clamps finite overflow and ±Inf to ±448 (NaN stays NaN), which is what
//     FP8 quantizers that clamp before casting produce.
//   - NaN stays NaN with its sign. Conversions between F32, F16 and BF16
//     follow IEEE 754 convertFormat and the x86 F16C instructions: the
//     result is a quiet NaN that keeps the leading payload bits, so a
//     signaling NaN comes out quiet. [BF16ToF32] is the one exception: it is
//     a plain 16-bit shift and keeps every bit pattern. Narrowing to FP8
//     gives the single pattern 0x7F (with the sign), as PyTorch does.
//
// Every F16 and BF16 bit pattern therefore survives a round trip through
// float32 unchanged, except the signaling NaNs, which come back with the
// quiet bit set.
//
// # Bulk conversions
//
// [F16ToF32Slice], [F32ToF16Slice], [BF16ToF32Slice] and [F32ToBF16Slice]
// convert slices; [Convert], [DecodeF32] and [EncodeF32] convert
// little-endian byte buffers between any two of F32, F16, BF16, F64,
// F8_E4M3 and F8_E5M2. They give bit-for-bit the results of the scalar
// functions. Pairs without a direct kernel go through float32 in chunks of
// 2048 elements held on the stack, so no conversion allocates. Narrowing
// from F64 to a type smaller than F32 rounds once, correctly: the float64 is
// first rounded to float32 with round-to-odd, which makes the second
// rounding exact (plain float32(x) followed by RNE could round twice).
//
// On amd64 the F16, BF16 <-> F32 kernels use AVX-512 (16 lanes) or
// AVX2+F16C (8 lanes) assembly chosen once at start-up with
// golang.org/x/sys/cpu (GODEBUG=cpu.avx512f=off selects AVX2, cpu.avx2=off
// the Go loops). F16 uses VCVTPH2PS and VCVTPS2PH with immediate rounding
// mode RNE; BF16 uses integer shifts and integer RNE (VCVTNEPS2BF16 is not
// used because it flushes subnormal inputs to zero). The build tags noasm
// and purego select the pure-Go loops, which are also the reference the
// assembly is tested against; they use typed loads and stores where the
// machine is little-endian and the buffers are aligned, and byte-by-byte
// little-endian decoding otherwise. The FP8 and F64 loops are Go on every
// platform (FP8 decoding is a 256-entry table lookup).
//
// # Limits
//
// The functions here never allocate and never read or write outside the
// given slices. The Slice functions panic when dst is shorter than src (a
// programmer error); Convert, DecodeF32 and EncodeF32 return errors
// wrapping [ErrUnsupported] for a non-float dtype and [ErrLength] when the
// buffer lengths do not match a whole number of elements.
package tensor
