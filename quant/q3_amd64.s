//go:build amd64 && !noasm && !purego

// First pass of make_q3_quants on two groups of 16 (reference:
// q3InitPairGo in searchpair.go; tests require identical results).

#include "textflag.h"

// q3Init layout (checked by TestQ3InitLayout): w 0, wx 128, p1 256,
// p2 384, L 512, sumlx 640, suml2 648, max 656, amax 664.

DATA q3const<>+0(SB)/4, $0x7fffffff
DATA q3const<>+4(SB)/4, $0xc0800000 // -4.0
DATA q3const<>+8(SB)/4, $0x4b400000 // 12582912.0
DATA q3const<>+12(SB)/4, $0x007fffff
DATA q3const<>+16(SB)/4, $0x00400000
DATA q3const<>+20(SB)/4, $-4
DATA q3const<>+24(SB)/4, $3
GLOBL q3const<>(SB), RODATA|NOPTR, $28

// Q3GROUP handles group g: x in Ya (elements 0-7) and Yb (8-15) at
// xoff(SI), results at offset 64·g (floats) / 4·g (scalars).
#define Q3GROUP(Ya, Yb, xoff, eoff, soff) \
	VANDPS       Y15, Ya, Y4; \
	VANDPS       Y15, Yb, Y5; \
	VMAXPS       Y5, Y4, Y6; \
	VEXTRACTF128 $1, Y6, X7; \
	VMAXPS       X7, X6, X6; \
	VMOVHLPS     X6, X6, X7; \
	VMAXPS       X7, X6, X6; \
	VMOVSHDUP    X6, X7; \
	VMAXSS       X7, X6, X6; \
	VMOVSS       X6, 664+soff(DI); \
	VBROADCASTSS X6, Y6; \
	VCMPPS       $0, Y6, Y5, Y7; \
	VMOVMSKPS    Y7, AX; \
	VCMPPS       $0, Y6, Y4, Y7; \
	VMOVMSKPS    Y7, BX; \
	SHLL         $8, AX; \
	ORL          BX, AX; \
	BSFL         AX, AX; \
	VMOVSS       xoff(SI)(AX*4), X6; \
	VMOVSS       X6, 656+soff(DI); \
	VMOVSS       q3const<>+4(SB), X7; \
	VDIVSS       X6, X7, X7; \
	VBROADCASTSS X7, Y7; \
	Q3HALF(Ya, eoff); \
	Q3HALF(Yb, eoff+32)

// Q3HALF: codes, x², x³ and the products of 8 elements in Yx (Y7 = iscale).
#define Q3HALF(Yx, eoff) \
	VMULPS       Y7, Yx, Y4; \
	VADDPS       Y14, Y4, Y4; \
	VPAND        Y13, Y4, Y4; \
	VPSUBD       Y12, Y4, Y4; \
	VPMAXSD      Y11, Y4, Y4; \
	VPMINSD      Y10, Y4, Y4; \
	VMOVDQU      Y4, 512+eoff(DI); \
	VCVTDQ2PS    Y4, Y4; \
	VMULPS       Yx, Yx, Y5; \
	VMOVUPS      Y5, eoff(DI); \
	VMULPS       Yx, Y5, Y6; \
	VMOVUPS      Y6, 128+eoff(DI); \
	VMULPS       Y4, Y6, Y6; \
	VMOVUPS      Y6, 256+eoff(DI); \
	VMULPS       Y4, Y5, Y5; \
	VMULPS       Y4, Y5, Y5; \
	VMOVUPS      Y5, 384+eoff(DI)

// func q3InitPairAVX2(x *float32, s *q3Init)
TEXT ·q3InitPairAVX2(SB), NOSPLIT, $0-16
	MOVQ         x+0(FP), SI
	MOVQ         s+8(FP), DI
	VBROADCASTSS q3const<>+0(SB), Y15
	VBROADCASTSS q3const<>+8(SB), Y14
	VPBROADCASTD q3const<>+12(SB), Y13
	VPBROADCASTD q3const<>+16(SB), Y12
	VPBROADCASTD q3const<>+20(SB), Y11
	VPBROADCASTD q3const<>+24(SB), Y10
	VMOVUPS      0(SI), Y0
	VMOVUPS      32(SI), Y1
	VMOVUPS      64(SI), Y2
	VMOVUPS      96(SI), Y3
	Q3GROUP(Y0, Y1, 0, 0, 0)
	Q3GROUP(Y2, Y3, 64, 64, 4)

	// Σ(w·x)·l and Σ(w·l)·l in element order, both groups side by side
	VXORPS       X0, X0, X0
	VXORPS       X1, X1, X1
	VXORPS       X2, X2, X2
	VXORPS       X3, X3, X3
	XORQ         R8, R8
q3_sums:
	VADDSS       256(DI)(R8*1), X0, X0
	VADDSS       384(DI)(R8*1), X1, X1
	VADDSS       320(DI)(R8*1), X2, X2
	VADDSS       448(DI)(R8*1), X3, X3
	ADDQ         $4, R8
	CMPQ         R8, $64
	JB           q3_sums
	VMOVSS       X0, 640(DI)
	VMOVSS       X2, 644(DI)
	VMOVSS       X1, 648(DI)
	VMOVSS       X3, 652(DI)
	VZEROUPPER
	RET

// Q3QS stores the low two bits of four rows of 32 codes as one row of qs.
#define Q3QS(Ya, Yb, Yc, Yd, off) \
	VPAND        Y13, Ya, Y8; \
	VPAND        Y13, Yb, Y9; \
	VPSLLW       $2, Y9, Y9; \
	VPOR         Y9, Y8, Y8; \
	VPAND        Y13, Yc, Y9; \
	VPSLLW       $4, Y9, Y9; \
	VPOR         Y9, Y8, Y8; \
	VPAND        Y13, Yd, Y9; \
	VPSLLW       $6, Y9, Y9; \
	VPOR         Y9, Y8, Y8; \
	VMOVDQU      Y8, off(DI)

DATA q3pconst<>+0(SB)/4, $0x04040404
DATA q3pconst<>+4(SB)/4, $0x03030303
GLOBL q3pconst<>(SB), RODATA|NOPTR, $8

// func q3PackAVX2(dst *byte, L *int8)
// Packs 256 codes 0..7 into a Q3_K block's hmask (bit b of hmask[m] is
// bit 2 of L[32b+m]) and qs (low two bits, as packQ2K). Reference: the
// loops at the end of finishQ3K.
TEXT ·q3PackAVX2(SB), NOSPLIT, $0-16
	MOVQ         dst+0(FP), DI
	MOVQ         L+8(FP), SI
	VPBROADCASTD q3pconst<>+0(SB), Y14
	VPBROADCASTD q3pconst<>+4(SB), Y13
	VMOVDQU      0(SI), Y0
	VMOVDQU      32(SI), Y1
	VMOVDQU      64(SI), Y2
	VMOVDQU      96(SI), Y3
	VMOVDQU      128(SI), Y4
	VMOVDQU      160(SI), Y5
	VMOVDQU      192(SI), Y6
	VMOVDQU      224(SI), Y7
	VPAND        Y14, Y0, Y8
	VPSRLW       $2, Y8, Y8
	VPAND        Y14, Y1, Y9
	VPSRLW       $1, Y9, Y9
	VPOR         Y9, Y8, Y8
	VPAND        Y14, Y2, Y9
	VPOR         Y9, Y8, Y8
	VPAND        Y14, Y3, Y9
	VPSLLW       $1, Y9, Y9
	VPOR         Y9, Y8, Y8
	VPAND        Y14, Y4, Y9
	VPSLLW       $2, Y9, Y9
	VPOR         Y9, Y8, Y8
	VPAND        Y14, Y5, Y9
	VPSLLW       $3, Y9, Y9
	VPOR         Y9, Y8, Y8
	VPAND        Y14, Y6, Y9
	VPSLLW       $4, Y9, Y9
	VPOR         Y9, Y8, Y8
	VPAND        Y14, Y7, Y9
	VPSLLW       $5, Y9, Y9
	VPOR         Y9, Y8, Y8
	VMOVDQU      Y8, 0(DI)
	Q3QS(Y0, Y1, Y2, Y3, 32)
	Q3QS(Y4, Y5, Y6, Y7, 64)
	VZEROUPPER
	RET

DATA q3cconst<>+0(SB)/4, $0x4b400000 // 12582912.0
DATA q3cconst<>+4(SB)/4, $0x007fffff
DATA q3cconst<>+8(SB)/4, $0x00400000
DATA q3cconst<>+12(SB)/4, $-4
DATA q3cconst<>+16(SB)/4, $3
GLOBL q3cconst<>(SB), RODATA|NOPTR, $20

// Q3CAND evaluates 8 elements at byte offset off: the candidate code
// clamp(nearest_int(x·sl2/slx), −4, 3) with slx = Σlx − wx·l and
// sl2 = Σl2 − (w·l)·l, stored to newL; AX gets a bit for each element
// with slx > 0 whose candidate differs from l.
#define Q3CAND(off) \
	VMOVDQU      off(R9), Y3; \
	VCVTDQ2PS    Y3, Y4; \
	VMULPS       off(R8), Y4, Y5; \
	VSUBPS       Y5, Y0, Y5; \
	VMULPS       off(DX), Y4, Y6; \
	VMULPS       Y4, Y6, Y6; \
	VSUBPS       Y6, Y1, Y6; \
	VMULPS       off(SI), Y6, Y6; \
	VDIVPS       Y5, Y6, Y6; \
	VADDPS       Y15, Y6, Y6; \
	VPAND        Y14, Y6, Y6; \
	VPSUBD       Y13, Y6, Y6; \
	VPMAXSD      Y12, Y6, Y6; \
	VPMINSD      Y11, Y6, Y6; \
	VMOVDQU      Y6, off(DI); \
	VPCMPEQD     Y3, Y6, Y6; \
	VCMPPS       $0x1e, Y2, Y5, Y5; \
	VPANDN       Y5, Y6, Y6; \
	VMOVMSKPS    Y6, AX

// func q3CandAVX2(x, w, wx *float32, L *int32, sumlx, suml2 float32, newL *int32) uint32
// Reference: q3CandGo (searchpair.go). The candidate is ggml's new_l in
// make_q3_quants's refinement, computed for all 16 elements of a group
// with the current sums.
TEXT ·q3CandAVX2(SB), NOSPLIT, $0-52
	MOVQ         x+0(FP), SI
	MOVQ         w+8(FP), DX
	MOVQ         wx+16(FP), R8
	MOVQ         L+24(FP), R9
	MOVQ         newL+40(FP), DI
	VBROADCASTSS sumlx+32(FP), Y0
	VBROADCASTSS suml2+36(FP), Y1
	VXORPS       Y2, Y2, Y2
	VBROADCASTSS q3cconst<>+0(SB), Y15
	VPBROADCASTD q3cconst<>+4(SB), Y14
	VPBROADCASTD q3cconst<>+8(SB), Y13
	VPBROADCASTD q3cconst<>+12(SB), Y12
	VPBROADCASTD q3cconst<>+16(SB), Y11
	Q3CAND(32)
	MOVL         AX, BX
	SHLL         $8, BX
	Q3CAND(0)
	ORL          BX, AX
	VZEROUPPER
	MOVL         AX, ret+48(FP)
	RET
