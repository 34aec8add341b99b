//go:build amd64 && !noasm && !purego

// Hand-written AVX2/AVX-512 conversion kernels. The Go reference for each
// TEXT symbol is the loop with the same stem in kernels_generic.go
// (f16ToF32AVX512 -> f16ToF32Go, f16ToF32LE), itself defined by the scalar
// function (F16ToF32); tests check them bit for bit. Every kernel takes
// (dst, src unsafe.Pointer, n int) with n a positive multiple of its
// width; loads and stores are unaligned.

#include "textflag.h"

// Constants for F32 -> BF16 rounding, broadcast into registers.
DATA bf16k<>+0(SB)/4, $0x00007fff // rounding bias
DATA bf16k<>+4(SB)/4, $0x00000001 // lsb of the kept half
DATA bf16k<>+8(SB)/4, $0x7fffffff // abs mask
DATA bf16k<>+12(SB)/4, $0x7f800000 // +Inf: |x| above it is NaN
DATA bf16k<>+16(SB)/4, $0x00000040 // BF16 quiet bit
GLOBL bf16k<>(SB), RODATA|NOPTR, $20

// func f16ToF32AVX512(dst, src unsafe.Pointer, n int)
// Width 16. VCVTPH2PS is exact; NaNs come out quiet.
TEXT ·f16ToF32AVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX

f16f32z_loop64:
	CMPQ      CX, $64
	JB        f16f32z_loop16
	VCVTPH2PS (SI), Z0
	VCVTPH2PS 32(SI), Z1
	VCVTPH2PS 64(SI), Z2
	VCVTPH2PS 96(SI), Z3
	VMOVUPS   Z0, (DI)
	VMOVUPS   Z1, 64(DI)
	VMOVUPS   Z2, 128(DI)
	VMOVUPS   Z3, 192(DI)
	ADDQ      $128, SI
	ADDQ      $256, DI
	SUBQ      $64, CX
	JMP       f16f32z_loop64

f16f32z_loop16:
	TESTQ     CX, CX
	JZ        f16f32z_done
	VCVTPH2PS (SI), Z0
	VMOVUPS   Z0, (DI)
	ADDQ      $32, SI
	ADDQ      $64, DI
	SUBQ      $16, CX
	JMP       f16f32z_loop16

f16f32z_done:
	VZEROUPPER
	RET

// func f16ToF32AVX2(dst, src unsafe.Pointer, n int)
// Width 8 (F16C on YMM).
TEXT ·f16ToF32AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX

f16f32y_loop32:
	CMPQ      CX, $32
	JB        f16f32y_loop8
	VCVTPH2PS (SI), Y0
	VCVTPH2PS 16(SI), Y1
	VCVTPH2PS 32(SI), Y2
	VCVTPH2PS 48(SI), Y3
	VMOVUPS   Y0, (DI)
	VMOVUPS   Y1, 32(DI)
	VMOVUPS   Y2, 64(DI)
	VMOVUPS   Y3, 96(DI)
	ADDQ      $64, SI
	ADDQ      $128, DI
	SUBQ      $32, CX
	JMP       f16f32y_loop32

f16f32y_loop8:
	TESTQ     CX, CX
	JZ        f16f32y_done
	VCVTPH2PS (SI), Y0
	VMOVUPS   Y0, (DI)
	ADDQ      $16, SI
	ADDQ      $32, DI
	SUBQ      $8, CX
	JMP       f16f32y_loop8

f16f32y_done:
	VZEROUPPER
	RET

// func f32ToF16AVX512(dst, src unsafe.Pointer, n int)
// Width 16. Immediate 0 selects round to nearest even regardless of MXCSR.
TEXT ·f32ToF16AVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX

f32f16z_loop64:
	CMPQ      CX, $64
	JB        f32f16z_loop16
	VMOVUPS   (SI), Z0
	VMOVUPS   64(SI), Z1
	VMOVUPS   128(SI), Z2
	VMOVUPS   192(SI), Z3
	VCVTPS2PH $0, Z0, Y0
	VCVTPS2PH $0, Z1, Y1
	VCVTPS2PH $0, Z2, Y2
	VCVTPS2PH $0, Z3, Y3
	VMOVDQU   Y0, (DI)
	VMOVDQU   Y1, 32(DI)
	VMOVDQU   Y2, 64(DI)
	VMOVDQU   Y3, 96(DI)
	ADDQ      $256, SI
	ADDQ      $128, DI
	SUBQ      $64, CX
	JMP       f32f16z_loop64

f32f16z_loop16:
	TESTQ     CX, CX
	JZ        f32f16z_done
	VMOVUPS   (SI), Z0
	VCVTPS2PH $0, Z0, Y0
	VMOVDQU   Y0, (DI)
	ADDQ      $64, SI
	ADDQ      $32, DI
	SUBQ      $16, CX
	JMP       f32f16z_loop16

f32f16z_done:
	VZEROUPPER
	RET

// func f32ToF16AVX2(dst, src unsafe.Pointer, n int)
// Width 8.
TEXT ·f32ToF16AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX

f32f16y_loop32:
	CMPQ      CX, $32
	JB        f32f16y_loop8
	VMOVUPS   (SI), Y0
	VMOVUPS   32(SI), Y1
	VMOVUPS   64(SI), Y2
	VMOVUPS   96(SI), Y3
	VCVTPS2PH $0, Y0, X0
	VCVTPS2PH $0, Y1, X1
	VCVTPS2PH $0, Y2, X2
	VCVTPS2PH $0, Y3, X3
	VMOVDQU   X0, (DI)
	VMOVDQU   X1, 16(DI)
	VMOVDQU   X2, 32(DI)
	VMOVDQU   X3, 48(DI)
	ADDQ      $128, SI
	ADDQ      $64, DI
	SUBQ      $32, CX
	JMP       f32f16y_loop32

f32f16y_loop8:
	TESTQ     CX, CX
	JZ        f32f16y_done
	VMOVUPS   (SI), Y0
	VCVTPS2PH $0, Y0, X0
	VMOVDQU   X0, (DI)
	ADDQ      $32, SI
	ADDQ      $16, DI
	SUBQ      $8, CX
	JMP       f32f16y_loop8

f32f16y_done:
	VZEROUPPER
	RET

// func bf16ToF32AVX512(dst, src unsafe.Pointer, n int)
// Width 16: zero-extend each 16-bit word and shift it to the top.
TEXT ·bf16ToF32AVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX

bf16f32z_loop64:
	CMPQ      CX, $64
	JB        bf16f32z_loop16
	VPMOVZXWD (SI), Z0
	VPMOVZXWD 32(SI), Z1
	VPMOVZXWD 64(SI), Z2
	VPMOVZXWD 96(SI), Z3
	VPSLLD    $16, Z0, Z0
	VPSLLD    $16, Z1, Z1
	VPSLLD    $16, Z2, Z2
	VPSLLD    $16, Z3, Z3
	VMOVDQU32 Z0, (DI)
	VMOVDQU32 Z1, 64(DI)
	VMOVDQU32 Z2, 128(DI)
	VMOVDQU32 Z3, 192(DI)
	ADDQ      $128, SI
	ADDQ      $256, DI
	SUBQ      $64, CX
	JMP       bf16f32z_loop64

bf16f32z_loop16:
	TESTQ     CX, CX
	JZ        bf16f32z_done
	VPMOVZXWD (SI), Z0
	VPSLLD    $16, Z0, Z0
	VMOVDQU32 Z0, (DI)
	ADDQ      $32, SI
	ADDQ      $64, DI
	SUBQ      $16, CX
	JMP       bf16f32z_loop16

bf16f32z_done:
	VZEROUPPER
	RET

// func bf16ToF32AVX2(dst, src unsafe.Pointer, n int)
// Width 8.
TEXT ·bf16ToF32AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX

bf16f32y_loop32:
	CMPQ      CX, $32
	JB        bf16f32y_loop8
	VPMOVZXWD (SI), Y0
	VPMOVZXWD 16(SI), Y1
	VPMOVZXWD 32(SI), Y2
	VPMOVZXWD 48(SI), Y3
	VPSLLD    $16, Y0, Y0
	VPSLLD    $16, Y1, Y1
	VPSLLD    $16, Y2, Y2
	VPSLLD    $16, Y3, Y3
	VMOVDQU   Y0, (DI)
	VMOVDQU   Y1, 32(DI)
	VMOVDQU   Y2, 64(DI)
	VMOVDQU   Y3, 96(DI)
	ADDQ      $64, SI
	ADDQ      $128, DI
	SUBQ      $32, CX
	JMP       bf16f32y_loop32

bf16f32y_loop8:
	TESTQ     CX, CX
	JZ        bf16f32y_done
	VPMOVZXWD (SI), Y0
	VPSLLD    $16, Y0, Y0
	VMOVDQU   Y0, (DI)
	ADDQ      $16, SI
	ADDQ      $32, DI
	SUBQ      $8, CX
	JMP       bf16f32y_loop8

bf16f32y_done:
	VZEROUPPER
	RET

// BF16RNE_Z rounds the 16 floats in zmm X to BF16 in the low halves of its
// dwords, leaving them in R; H and T are scratch, K1 is clobbered:
//   R = (x + 0x7fff + ((x>>16)&1)) >> 16, or (x>>16)|0x40 where x is NaN.
// Z10..Z14 hold the bf16k constants.
#define BF16RNE_Z(X, R, H, T) \
	VPSRLD   $16, X, H; \
	VPANDD   Z11, H, T; \
	VPADDD   Z10, X, R; \
	VPADDD   T, R, R; \
	VPSRLD   $16, R, R; \
	VPANDD   Z12, X, T; \
	VPCMPGTD Z13, T, K1; \
	VPORD    Z14, H, K1, R

// func f32ToBF16AVX512(dst, src unsafe.Pointer, n int)
// Width 16. Integer RNE: VCVTNEPS2BF16 would flush subnormal inputs.
TEXT ·f32ToBF16AVX512(SB), NOSPLIT, $0-24
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	VPBROADCASTD bf16k<>+0(SB), Z10
	VPBROADCASTD bf16k<>+4(SB), Z11
	VPBROADCASTD bf16k<>+8(SB), Z12
	VPBROADCASTD bf16k<>+12(SB), Z13
	VPBROADCASTD bf16k<>+16(SB), Z14

f32bf16z_loop32:
	CMPQ      CX, $32
	JB        f32bf16z_loop16
	VMOVDQU32 (SI), Z0
	VMOVDQU32 64(SI), Z1
	BF16RNE_Z(Z0, Z2, Z3, Z4)
	BF16RNE_Z(Z1, Z5, Z6, Z7)
	VPMOVDW   Z2, Y2
	VPMOVDW   Z5, Y5
	VMOVDQU   Y2, (DI)
	VMOVDQU   Y5, 32(DI)
	ADDQ      $128, SI
	ADDQ      $64, DI
	SUBQ      $32, CX
	JMP       f32bf16z_loop32

f32bf16z_loop16:
	TESTQ     CX, CX
	JZ        f32bf16z_done
	VMOVDQU32 (SI), Z0
	BF16RNE_Z(Z0, Z2, Z3, Z4)
	VPMOVDW   Z2, Y2
	VMOVDQU   Y2, (DI)
	ADDQ      $64, SI
	ADDQ      $32, DI
	SUBQ      $16, CX
	JMP       f32bf16z_loop16

f32bf16z_done:
	VZEROUPPER
	RET

// BF16RNE_Y is BF16RNE_Z for 8 floats in ymm X, with a byte blend instead
// of a mask register; Y10..Y14 hold the bf16k constants.
#define BF16RNE_Y(X, R, H, T) \
	VPSRLD    $16, X, H; \
	VPAND     Y11, H, T; \
	VPADDD    Y10, X, R; \
	VPADDD    T, R, R; \
	VPSRLD    $16, R, R; \
	VPAND     Y12, X, T; \
	VPCMPGTD  Y13, T, T; \
	VPOR      Y14, H, H; \
	VPBLENDVB T, H, R, R

// func f32ToBF16AVX2(dst, src unsafe.Pointer, n int)
// Width 16: two YMM of dwords are packed into one YMM of words.
TEXT ·f32ToBF16AVX2(SB), NOSPLIT, $0-24
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	VPBROADCASTD bf16k<>+0(SB), Y10
	VPBROADCASTD bf16k<>+4(SB), Y11
	VPBROADCASTD bf16k<>+8(SB), Y12
	VPBROADCASTD bf16k<>+12(SB), Y13
	VPBROADCASTD bf16k<>+16(SB), Y14

f32bf16y_loop16:
	TESTQ     CX, CX
	JZ        f32bf16y_done
	VMOVDQU   (SI), Y0
	VMOVDQU   32(SI), Y1
	BF16RNE_Y(Y0, Y2, Y3, Y4)
	BF16RNE_Y(Y1, Y5, Y6, Y7)
	VPACKUSDW Y5, Y2, Y2    // per lane: Y2 words then Y5 words
	VPERMQ    $0xd8, Y2, Y2 // restore element order across lanes
	VMOVDQU   Y2, (DI)
	ADDQ      $64, SI
	ADDQ      $32, DI
	SUBQ      $16, CX
	JMP       f32bf16y_loop16

f32bf16y_done:
	VZEROUPPER
	RET
