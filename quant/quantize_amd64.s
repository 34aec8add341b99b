//go:build amd64 && !noasm && !purego

// AVX2 activation quantizer. Reference: quantizeRowQ8_0Go (dot.go), which
// is ggml-cpu's quantize_row_q8_0 (AVX2 path); tests require identical
// bytes for finite input.

#include "textflag.h"

DATA q8qconst<>+0(SB)/4, $0x7fffffff // abs mask
DATA q8qconst<>+4(SB)/4, $0x42fe0000 // 127.0
DATA q8qconst<>+8(SB)/4, $0
DATA q8qconst<>+12(SB)/4, $0
DATA q8qconst<>+16(SB)/4, $0 // VPERMD order after the two packs
DATA q8qconst<>+20(SB)/4, $4
DATA q8qconst<>+24(SB)/4, $1
DATA q8qconst<>+28(SB)/4, $5
DATA q8qconst<>+32(SB)/4, $2
DATA q8qconst<>+36(SB)/4, $6
DATA q8qconst<>+40(SB)/4, $3
DATA q8qconst<>+44(SB)/4, $7
GLOBL q8qconst<>(SB), RODATA|NOPTR, $48

// func quantQ8_0AVX2(dst *byte, x *float32, nb int)
// For each block of 32: amax = max|x|, d = fp16(amax/127), codes
// round-half-even(x·(127/amax)) (0 when amax is 0). VCVTPS2DQ rounds in
// the MXCSR mode, which Go keeps at round-to-nearest-even: the same as
// ggml's VROUNDPS then VCVTPS2DQ.
TEXT ·quantQ8_0AVX2(SB), NOSPLIT, $0-24
	MOVQ         dst+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         nb+16(FP), CX
	VBROADCASTSS q8qconst<>+0(SB), Y15
	VMOVSS       q8qconst<>+4(SB), X14
	VMOVDQU      q8qconst<>+16(SB), Y13
	VXORPS       X12, X12, X12

q8q_loop:
	VMOVUPS      0(SI), Y0
	VMOVUPS      32(SI), Y1
	VMOVUPS      64(SI), Y2
	VMOVUPS      96(SI), Y3
	VANDPS       Y15, Y0, Y4
	VANDPS       Y15, Y1, Y5
	VMAXPS       Y5, Y4, Y4
	VANDPS       Y15, Y2, Y5
	VMAXPS       Y5, Y4, Y4
	VANDPS       Y15, Y3, Y5
	VMAXPS       Y5, Y4, Y4
	VEXTRACTF128 $1, Y4, X5
	VMAXPS       X5, X4, X4
	VMOVHLPS     X4, X4, X5
	VMAXPS       X5, X4, X4
	VMOVSHDUP    X4, X5
	VMAXSS       X5, X4, X4

	// d = amax/127 as a half
	VDIVSS       X14, X4, X5
	VCVTPS2PH    $0, X5, X5
	VPEXTRW      $0, X5, AX
	MOVW         AX, 0(DI)

	// id = 127/amax, or 0 when amax is 0
	VDIVSS       X4, X14, X6
	VCMPSS       $4, X12, X4, X7
	VANDPS       X7, X6, X6
	VBROADCASTSS X6, Y6

	VMULPS       Y6, Y0, Y0
	VMULPS       Y6, Y1, Y1
	VMULPS       Y6, Y2, Y2
	VMULPS       Y6, Y3, Y3
	VCVTPS2DQ    Y0, Y0
	VCVTPS2DQ    Y1, Y1
	VCVTPS2DQ    Y2, Y2
	VCVTPS2DQ    Y3, Y3
	VPACKSSDW    Y1, Y0, Y0
	VPACKSSDW    Y3, Y2, Y2
	VPACKSSWB    Y2, Y0, Y0
	VPERMD       Y0, Y13, Y0
	VMOVDQU      Y0, 2(DI)

	ADDQ         $128, SI
	ADDQ         $34, DI
	DECQ         CX
	JNZ          q8q_loop
	VZEROUPPER
	RET

// func quantQ8_1AVX2(dst *byte, x *float32, nb int)
// As quantQ8_0AVX2 with 36-byte blocks (d, s, codes): s = fp16(d·Σcodes)
// with d = amax/127 unrounded. Reference: quantizeRowQ8_1Go.
TEXT ·quantQ8_1AVX2(SB), NOSPLIT, $0-24
	MOVQ         dst+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         nb+16(FP), CX
	VBROADCASTSS q8qconst<>+0(SB), Y15
	VMOVSS       q8qconst<>+4(SB), X14
	VMOVDQU      q8qconst<>+16(SB), Y13
	VXORPS       X12, X12, X12

q81q_loop:
	VMOVUPS      0(SI), Y0
	VMOVUPS      32(SI), Y1
	VMOVUPS      64(SI), Y2
	VMOVUPS      96(SI), Y3
	VANDPS       Y15, Y0, Y4
	VANDPS       Y15, Y1, Y5
	VMAXPS       Y5, Y4, Y4
	VANDPS       Y15, Y2, Y5
	VMAXPS       Y5, Y4, Y4
	VANDPS       Y15, Y3, Y5
	VMAXPS       Y5, Y4, Y4
	VEXTRACTF128 $1, Y4, X5
	VMAXPS       X5, X4, X4
	VMOVHLPS     X4, X4, X5
	VMAXPS       X5, X4, X4
	VMOVSHDUP    X4, X5
	VMAXSS       X5, X4, X4

	// d = amax/127 as a half
	VDIVSS       X14, X4, X5
	VCVTPS2PH    $0, X5, X8
	VPEXTRW      $0, X8, AX
	MOVW         AX, 0(DI)

	// id = 127/amax, or 0 when amax is 0
	VDIVSS       X4, X14, X6
	VCMPSS       $4, X12, X4, X7
	VANDPS       X7, X6, X6
	VBROADCASTSS X6, Y6

	VMULPS       Y6, Y0, Y0
	VMULPS       Y6, Y1, Y1
	VMULPS       Y6, Y2, Y2
	VMULPS       Y6, Y3, Y3
	VCVTPS2DQ    Y0, Y0
	VCVTPS2DQ    Y1, Y1
	VCVTPS2DQ    Y2, Y2
	VCVTPS2DQ    Y3, Y3

	// s = fp16(d·Σcodes)
	VPADDD       Y1, Y0, Y8
	VPADDD       Y3, Y2, Y9
	VPADDD       Y9, Y8, Y8
	VEXTRACTI128 $1, Y8, X9
	VPADDD       X9, X8, X8
	VPSHUFD      $0x4e, X8, X9
	VPADDD       X9, X8, X8
	VPSHUFD      $0xb1, X8, X9
	VPADDD       X9, X8, X8
	VCVTDQ2PS    X8, X8
	VMULSS       X8, X5, X8
	VCVTPS2PH    $0, X8, X8
	VPEXTRW      $0, X8, AX
	MOVW         AX, 2(DI)

	VPACKSSDW    Y1, Y0, Y0
	VPACKSSDW    Y3, Y2, Y2
	VPACKSSWB    Y2, Y0, Y0
	VPERMD       Y0, Y13, Y0
	VMOVDQU      Y0, 4(DI)

	ADDQ         $128, SI
	ADDQ         $36, DI
	DECQ         CX
	JNZ          q81q_loop
	VZEROUPPER
	RET

// Reference weight quantizers of the 32-element formats (quantize_row_*_ref;
// Go references quantizeQ8_0Ref, quantizeQ4_0Ref, quantizeQ4_1Ref,
// quantizeQ5_0Ref, quantizeQ5_1Ref in legacy.go, held to identical bytes by
// the tests). Each is func(dst *byte, x *float32, nb int). ggml picks the
// first element of largest magnitude (Q4_0, Q5_0) and the first minimum
// and maximum (Q4_1, Q5_1); the kernels find the extreme value with
// VMAXPS/VMINPS and then the first element equal to it, which keeps the
// sign of a zero as ggml does.

DATA qrconst<>+0(SB)/4, $0x7fffffff // abs mask
DATA qrconst<>+4(SB)/4, $0x42fe0000 // 127.0
DATA qrconst<>+8(SB)/4, $0x3f800000 // 1.0
DATA qrconst<>+12(SB)/4, $0x3f000000 // 0.5
DATA qrconst<>+16(SB)/4, $0xbf000000 // -0.5
DATA qrconst<>+20(SB)/4, $0xc1000000 // -8.0
DATA qrconst<>+24(SB)/4, $0x41080000 // 8.5
DATA qrconst<>+28(SB)/4, $0xc1800000 // -16.0
DATA qrconst<>+32(SB)/4, $0x41840000 // 16.5
DATA qrconst<>+36(SB)/4, $0x41700000 // 15.0
DATA qrconst<>+40(SB)/4, $0x41f80000 // 31.0
DATA qrconst<>+44(SB)/4, $15
DATA qrconst<>+48(SB)/4, $31
DATA qrconst<>+52(SB)/4, $0x0f0f0f0f
GLOBL qrconst<>(SB), RODATA|NOPTR, $56

#define LOAD32 \
	VMOVUPS 0(SI), Y0; \
	VMOVUPS 32(SI), Y1; \
	VMOVUPS 64(SI), Y2; \
	VMOVUPS 96(SI), Y3

// HMAX / HMIN reduce Yv to its largest / smallest lane in Xv (clobbers X5).
#define HMAX(Yv, Xv) \
	VEXTRACTF128 $1, Yv, X5; \
	VMAXPS       X5, Xv, Xv; \
	VMOVHLPS     Xv, Xv, X5; \
	VMAXPS       X5, Xv, Xv; \
	VMOVSHDUP    Xv, X5; \
	VMAXSS       X5, Xv, Xv

#define HMIN(Yv, Xv) \
	VEXTRACTF128 $1, Yv, X5; \
	VMINPS       X5, Xv, Xv; \
	VMOVHLPS     Xv, Xv, X5; \
	VMINPS       X5, Xv, Xv; \
	VMOVSHDUP    Xv, X5; \
	VMINSS       X5, Xv, Xv

// FIRSTEQ sets Xout to the first of the 32 values in Ya..Yd (already
// transformed, e.g. |x|) that equals the scalar Xv, read back from x at
// SI: the untransformed element. Clobbers Y5, AX, BX, DX.
#define FIRSTEQ(Ya, Yb, Yc, Yd, Xv, Xout) \
	VBROADCASTSS Xv, Y5; \
	VCMPPS     $0, Y5, Yd, Y6; \
	VMOVMSKPS  Y6, AX; \
	VCMPPS     $0, Y5, Yc, Y6; \
	VMOVMSKPS  Y6, BX; \
	SHLL       $8, AX; \
	ORL        BX, AX; \
	VCMPPS     $0, Y5, Yb, Y6; \
	VMOVMSKPS  Y6, BX; \
	SHLL       $8, AX; \
	ORL        BX, AX; \
	VCMPPS     $0, Y5, Ya, Y6; \
	VMOVMSKPS  Y6, BX; \
	SHLL       $8, AX; \
	ORL        BX, AX; \
	TZCNTL     AX, DX; \
	VMOVSS     (SI)(DX*4), Xout

// INVSCALE sets Yid to 1/d broadcast, or 0 when d (in Xd) is 0. Clobbers X6.
#define INVSCALE(Xd, Xid, Yid) \
	VDIVSS       Xd, X13, Xid; \
	VXORPS       X6, X6, X6; \
	VCMPSS       $4, X6, Xd, X6; \
	VANDPS       X6, Xid, Xid; \
	VBROADCASTSS Xid, Yid

// STOREHALF stores the half of the scalar Xv at off(DI). Clobbers X6, AX.
#define STOREHALF(Xv, off) \
	VCVTPS2PH $0, Xv, X6; \
	VPEXTRW   $0, X6, AX; \
	MOVW      AX, off(DI)

// PACK32 packs the 32 dwords in Y0..Y3 (each 0..255) into 32 bytes in Y0,
// in element order.
#define PACK32 \
	VPACKSSDW Y1, Y0, Y0; \
	VPACKSSDW Y3, Y2, Y2; \
	VPACKUSWB Y2, Y0, Y0; \
	VPERMD    Y0, Y12, Y0

// NIBBLES stores qs[j] = b[j]&15 | (b[j+16]&15)<<4 (b = bytes of Y0) at
// off(DI). Clobbers X1.
#define NIBBLES(off) \
	VEXTRACTI128 $1, Y0, X1; \
	VPAND        X11, X0, X0; \
	VPAND        X11, X1, X1; \
	VPSLLW       $4, X1, X1; \
	VPOR         X1, X0, X0; \
	VMOVDQU      X0, off(DI)

#define QREF_PROLOGUE \
	MOVQ         dst+0(FP), DI; \
	MOVQ         x+8(FP), SI; \
	MOVQ         nb+16(FP), CX; \
	VBROADCASTSS qrconst<>+0(SB), Y15; \
	VMOVSS       qrconst<>+8(SB), X13; \
	VMOVDQU      q8qconst<>+16(SB), Y12; \
	VPBROADCASTD qrconst<>+52(SB), Y11

// ROUNDAWAY rounds the floats in Yv half away from zero and converts them
// to int32 (Y10 = 0.5, Y9 = -0.5, Y8 = 1.0). Clobbers Y5, Y6.
#define ROUNDAWAY(Yv) \
	VROUNDPS  $3, Yv, Y5; \
	VSUBPS    Y5, Yv, Y6; \
	VCMPPS    $0x1d, Y10, Y6, Yv; \
	VANDPS    Y8, Yv, Yv; \
	VADDPS    Yv, Y5, Y5; \
	VCMPPS    $0x12, Y9, Y6, Yv; \
	VANDPS    Y8, Yv, Yv; \
	VSUBPS    Yv, Y5, Y5; \
	VCVTTPS2DQ Y5, Yv

// func quantRefQ8_0AVX2(dst *byte, x *float32, nb int)
// d = amax/127, codes roundf(x·(1/d)) (half away from zero).
TEXT ·quantRefQ8_0AVX2(SB), NOSPLIT, $0-24
	QREF_PROLOGUE
	VBROADCASTSS qrconst<>+12(SB), Y10
	VBROADCASTSS qrconst<>+16(SB), Y9
	VBROADCASTSS qrconst<>+8(SB), Y8
qr8_loop:
	LOAD32
	VANDPS Y15, Y0, Y4
	VANDPS Y15, Y1, Y5
	VMAXPS Y5, Y4, Y4
	VANDPS Y15, Y2, Y5
	VMAXPS Y5, Y4, Y4
	VANDPS Y15, Y3, Y5
	VMAXPS Y5, Y4, Y4
	HMAX(Y4, X4)
	VDIVSS qrconst<>+4(SB), X4, X4
	STOREHALF(X4, 0)
	INVSCALE(X4, X7, Y7)
	VMULPS Y7, Y0, Y0
	VMULPS Y7, Y1, Y1
	VMULPS Y7, Y2, Y2
	VMULPS Y7, Y3, Y3
	// round half away: t = trunc(v); t += (v-t ≥ 0.5) − (v-t ≤ −0.5)
	ROUNDAWAY(Y0)
	ROUNDAWAY(Y1)
	ROUNDAWAY(Y2)
	ROUNDAWAY(Y3)
	VPACKSSDW Y1, Y0, Y0
	VPACKSSDW Y3, Y2, Y2
	VPACKSSWB Y2, Y0, Y0
	VPERMD    Y0, Y12, Y0
	VMOVDQU   Y0, 2(DI)
	ADDQ $128, SI
	ADDQ $34, DI
	DECQ CX
	JNZ  qr8_loop
	VZEROUPPER
	RET

// ABSMAX_FIRST sets X4 to the first element of largest magnitude of the
// block in Y0..Y3. Clobbers Y4-Y6, AX, BX, DX.
#define ABSMAX_FIRST \
	VANDPS Y15, Y0, Y4; \
	VANDPS Y15, Y1, Y5; \
	VMAXPS Y5, Y4, Y4; \
	VANDPS Y15, Y2, Y5; \
	VMAXPS Y5, Y4, Y4; \
	VANDPS Y15, Y3, Y5; \
	VMAXPS Y5, Y4, Y4; \
	HMAX(Y4, X4); \
	VBROADCASTSS X4, Y5; \
	VANDPS Y15, Y3, Y6; \
	VCMPPS $0, Y5, Y6, Y6; \
	VMOVMSKPS Y6, AX; \
	VANDPS Y15, Y2, Y6; \
	VCMPPS $0, Y5, Y6, Y6; \
	VMOVMSKPS Y6, BX; \
	SHLL $8, AX; \
	ORL BX, AX; \
	VANDPS Y15, Y1, Y6; \
	VCMPPS $0, Y5, Y6, Y6; \
	VMOVMSKPS Y6, BX; \
	SHLL $8, AX; \
	ORL BX, AX; \
	VANDPS Y15, Y0, Y6; \
	VCMPPS $0, Y5, Y6, Y6; \
	VMOVMSKPS Y6, BX; \
	SHLL $8, AX; \
	ORL BX, AX; \
	TZCNTL AX, DX; \
	VMOVSS (SI)(DX*4), X4

// MINMAX_FIRST sets X14 to the first minimum and X4 to the first maximum
// of the block in Y0..Y3 (as ggml's sequential if (v < min) / if (v > max)
// find them, signed zeros included). Clobbers Y4-Y6, AX, BX, DX.
#define MINMAX_FIRST \
	VMINPS Y1, Y0, Y4; \
	VMINPS Y3, Y2, Y5; \
	VMINPS Y5, Y4, Y4; \
	HMIN(Y4, X4); \
	FIRSTEQ(Y0, Y1, Y2, Y3, X4, X14); \
	VMAXPS Y1, Y0, Y4; \
	VMAXPS Y3, Y2, Y5; \
	VMAXPS Y5, Y4, Y4; \
	HMAX(Y4, X4); \
	FIRSTEQ(Y0, Y1, Y2, Y3, X4, X4)

// SUBMIN subtracts the broadcast minimum X14 from Y0..Y3. Clobbers Y5.
#define SUBMIN \
	VBROADCASTSS X14, Y5; \
	VSUBPS Y5, Y0, Y0; \
	VSUBPS Y5, Y1, Y1; \
	VSUBPS Y5, Y2, Y2; \
	VSUBPS Y5, Y3, Y3

// MULADD_TRUNC sets Y0..Y3 to trunc(x·id + Yadd) as int32 (Y7 = id): a
// rounded product, then a rounded sum, as in ggml (no FMA).
#define MULADD_TRUNC(Yadd) \
	VMULPS Y7, Y0, Y0; \
	VMULPS Y7, Y1, Y1; \
	VMULPS Y7, Y2, Y2; \
	VMULPS Y7, Y3, Y3; \
	VADDPS Yadd, Y0, Y0; \
	VADDPS Yadd, Y1, Y1; \
	VADDPS Yadd, Y2, Y2; \
	VADDPS Yadd, Y3, Y3; \
	VCVTTPS2DQ Y0, Y0; \
	VCVTTPS2DQ Y1, Y1; \
	VCVTTPS2DQ Y2, Y2; \
	VCVTTPS2DQ Y3, Y3

// MULADD_TRUNC_MIN is MULADD_TRUNC then min with the int32s in Ymax.
#define MULADD_TRUNC_MIN(Yadd, Ymax) \
	MULADD_TRUNC(Yadd); \
	VPMINSD Ymax, Y0, Y0; \
	VPMINSD Ymax, Y1, Y1; \
	VPMINSD Ymax, Y2, Y2; \
	VPMINSD Ymax, Y3, Y3

// FIFTHBITS stores the u32 of bit 4 of each code byte of Y0 at off(DI).
// Clobbers Y1, AX.
#define FIFTHBITS(off) \
	VPSLLW    $3, Y0, Y1; \
	VPMOVMSKB Y1, AX; \
	MOVL      AX, off(DI)

// func quantRefQ4_0AVX2(dst *byte, x *float32, nb int)
// max = first element of largest |x|, d = max/−8, codes
// min(15, trunc(x·(1/d) + 8.5)).
TEXT ·quantRefQ4_0AVX2(SB), NOSPLIT, $0-24
	QREF_PROLOGUE
	VBROADCASTSS qrconst<>+24(SB), Y10
	VPBROADCASTD qrconst<>+44(SB), Y9
	VMOVSS       qrconst<>+20(SB), X8
qr40_loop:
	LOAD32
	ABSMAX_FIRST
	VDIVSS X8, X4, X4
	STOREHALF(X4, 0)
	INVSCALE(X4, X7, Y7)
	MULADD_TRUNC_MIN(Y10, Y9)
	PACK32
	NIBBLES(2)
	ADDQ $128, SI
	ADDQ $18, DI
	DECQ CX
	JNZ  qr40_loop
	VZEROUPPER
	RET

// func quantRefQ5_0AVX2(dst *byte, x *float32, nb int)
// d = max/−16, codes min(31, trunc(x·(1/d) + 16.5)); bit 4 of code j is
// bit j of qh.
TEXT ·quantRefQ5_0AVX2(SB), NOSPLIT, $0-24
	QREF_PROLOGUE
	VBROADCASTSS qrconst<>+32(SB), Y10
	VPBROADCASTD qrconst<>+48(SB), Y9
	VMOVSS       qrconst<>+28(SB), X8
qr50_loop:
	LOAD32
	ABSMAX_FIRST
	VDIVSS X8, X4, X4
	STOREHALF(X4, 0)
	INVSCALE(X4, X7, Y7)
	MULADD_TRUNC_MIN(Y10, Y9)
	PACK32
	FIFTHBITS(2)
	NIBBLES(6)
	ADDQ $128, SI
	ADDQ $22, DI
	DECQ CX
	JNZ  qr50_loop
	VZEROUPPER
	RET

// func quantRefQ4_1AVX2(dst *byte, x *float32, nb int)
// min, max = first minimum and maximum, d = (max−min)/15, m = min, codes
// min(15, trunc((x−min)·(1/d) + 0.5)).
TEXT ·quantRefQ4_1AVX2(SB), NOSPLIT, $0-24
	QREF_PROLOGUE
	VBROADCASTSS qrconst<>+12(SB), Y10
	VPBROADCASTD qrconst<>+44(SB), Y9
	VMOVSS       qrconst<>+36(SB), X8
qr41_loop:
	LOAD32
	MINMAX_FIRST
	VSUBSS X14, X4, X4
	VDIVSS X8, X4, X4
	STOREHALF(X4, 0)
	STOREHALF(X14, 2)
	INVSCALE(X4, X7, Y7)
	SUBMIN
	MULADD_TRUNC_MIN(Y10, Y9)
	PACK32
	NIBBLES(4)
	ADDQ $128, SI
	ADDQ $20, DI
	DECQ CX
	JNZ  qr41_loop
	VZEROUPPER
	RET

// func quantRefQ5_1AVX2(dst *byte, x *float32, nb int)
// As Q4_1 with d = (max−min)/31 and codes trunc((x−min)·(1/d) + 0.5).
TEXT ·quantRefQ5_1AVX2(SB), NOSPLIT, $0-24
	QREF_PROLOGUE
	VBROADCASTSS qrconst<>+12(SB), Y10
	VMOVSS       qrconst<>+40(SB), X8
qr51_loop:
	LOAD32
	MINMAX_FIRST
	VSUBSS X14, X4, X4
	VDIVSS X8, X4, X4
	STOREHALF(X4, 0)
	STOREHALF(X14, 2)
	INVSCALE(X4, X7, Y7)
	SUBMIN
	MULADD_TRUNC(Y10)
	PACK32
	FIFTHBITS(4)
	NIBBLES(8)
	ADDQ $128, SI
	ADDQ $24, DI
	DECQ CX
	JNZ  qr51_loop
	VZEROUPPER
	RET

// NEARESTMIN127 turns the floats in Yv into min(127, nearest_int(v)) as
// int32 (Y14 = 1.5·2^23, Y13 = mantissa mask, Y12 = 2^22, Y11 = 127).
#define NEARESTMIN127(Yv) \
	VADDPS  Y14, Yv, Yv; \
	VPAND   Y13, Yv, Yv; \
	VPSUBD  Y12, Yv, Yv; \
	VPMINSD Y11, Yv, Yv

DATA q8kconst<>+0(SB)/4, $0xc2fe0000 // -127.0
DATA q8kconst<>+4(SB)/4, $0x3f800000 // 1.0
DATA q8kconst<>+8(SB)/4, $0x4b400000 // 12582912.0
DATA q8kconst<>+12(SB)/4, $0x007fffff
DATA q8kconst<>+16(SB)/4, $0x00400000
DATA q8kconst<>+20(SB)/4, $127
GLOBL q8kconst<>(SB), RODATA|NOPTR, $24

// func quantQ8KAVX2(dst *byte, x *float32, nb int)
// quantize_row_q8_K (reference quantizeQ8K in kquants.go): max = the first
// element of largest magnitude, iscale = −127/max, codes
// min(127, nearest_int(iscale·x)), d = 1/iscale (float32), and the 16 sums
// of 16 codes. A block of zeros gets d = 0 and zero codes and sums.
TEXT ·quantQ8KAVX2(SB), NOSPLIT, $0-24
	MOVQ         dst+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         nb+16(FP), CX
	VBROADCASTSS qrconst<>+0(SB), Y15
	VBROADCASTSS q8kconst<>+8(SB), Y14
	VPBROADCASTD q8kconst<>+12(SB), Y13
	VPBROADCASTD q8kconst<>+16(SB), Y12
	VPBROADCASTD q8kconst<>+20(SB), Y11
	VMOVDQU      q8qconst<>+16(SB), Y10

q8k_block:
	// amax over the 256 values
	VANDPS       0(SI), Y15, Y4
	MOVQ         $32, R8
q8k_amax:
	VANDPS       (SI)(R8*1), Y15, Y5
	VMAXPS       Y5, Y4, Y4
	ADDQ         $32, R8
	CMPQ         R8, $1024
	JB           q8k_amax
	HMAX(Y4, X4)
	VXORPS       X6, X6, X6
	VUCOMISS     X6, X4
	JNE          q8k_nonzero
	// all zero: d = 0, codes and sums 0
	VPXOR        Y0, Y0, Y0
	MOVL         $0, 0(DI)
	XORQ         R8, R8
q8k_zero:
	VMOVDQU      Y0, 4(DI)(R8*1)
	ADDQ         $32, R8
	CMPQ         R8, $288
	JB           q8k_zero
	JMP          q8k_next

q8k_nonzero:
	// max: the first element whose magnitude is amax
	VBROADCASTSS X4, Y5
	XORQ         R8, R8
q8k_find:
	VANDPS       (SI)(R8*1), Y15, Y6
	VCMPPS       $0, Y5, Y6, Y6
	VMOVMSKPS    Y6, AX
	TESTL        AX, AX
	JNZ          q8k_found
	ADDQ         $32, R8
	JMP          q8k_find
q8k_found:
	TZCNTL       AX, AX
	LEAQ         (SI)(R8*1), DX
	VMOVSS       (DX)(AX*4), X4
	// iscale = −127/max; d = 1/iscale
	VMOVSS       q8kconst<>+0(SB), X5
	VDIVSS       X4, X5, X5
	VMOVSS       q8kconst<>+4(SB), X6
	VDIVSS       X5, X6, X6
	VMOVSS       X6, 0(DI)
	VBROADCASTSS X5, Y5

	// codes, 32 at a time, and the sums of each 16
	XORQ         R8, R8
	XORQ         R9, R9
q8k_codes:
	VMULPS       0(SI)(R8*4), Y5, Y0
	VMULPS       32(SI)(R8*4), Y5, Y1
	VMULPS       64(SI)(R8*4), Y5, Y2
	VMULPS       96(SI)(R8*4), Y5, Y3
	NEARESTMIN127(Y0)
	NEARESTMIN127(Y1)
	NEARESTMIN127(Y2)
	NEARESTMIN127(Y3)
	// bsums of codes 0-15 (Y0+Y1) and 16-31 (Y2+Y3)
	VPADDD       Y1, Y0, Y6
	VPADDD       Y3, Y2, Y7
	VPHADDD      Y7, Y6, Y6
	VPHADDD      Y6, Y6, Y6
	VEXTRACTI128 $1, Y6, X7
	VPADDD       X7, X6, X6
	VPEXTRW      $0, X6, AX
	MOVW         AX, 260(DI)(R9*1)
	VPEXTRW      $2, X6, AX
	MOVW         AX, 262(DI)(R9*1)
	VPACKSSDW    Y1, Y0, Y0
	VPACKSSDW    Y3, Y2, Y2
	VPACKSSWB    Y2, Y0, Y0
	VPERMD       Y0, Y10, Y0
	VMOVDQU      Y0, 4(DI)(R8*1)
	ADDQ         $32, R8
	ADDQ         $4, R9
	CMPQ         R8, $256
	JB           q8k_codes

q8k_next:
	ADDQ         $1024, SI
	ADDQ         $292, DI
	DECQ         CX
	JNZ          q8k_block
	VZEROUPPER
	RET
