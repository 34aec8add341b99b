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
// round-half-even(x·(127/amax)) (0 when amax is 0).
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
	VROUNDPS     $0, Y0, Y0
	VROUNDPS     $0, Y1, Y1
	VROUNDPS     $0, Y2, Y2
	VROUNDPS     $0, Y3, Y3
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
