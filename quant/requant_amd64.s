//go:build amd64 && !noasm && !purego

// Final requantization of a k-quant super-block, 8 elements at a time
// (reference: requantGo in requant.go; tests require identical codes).
// VDIVPS rounds each quotient as DIVSS does, so the codes are ggml's.

#include "textflag.h"

DATA rqconst<>+0(SB)/4, $0x4b400000 // 12582912.0
DATA rqconst<>+4(SB)/4, $0x007fffff
DATA rqconst<>+8(SB)/4, $0x00400000
GLOBL rqconst<>(SB), RODATA|NOPTR, $12

// func requantAVX2(a *requantArgs)
// requantArgs: L 0, x 8, d 16, m 24, nsub 32, bs 40, lo 48, hi 52, off 56.
TEXT ·requantAVX2(SB), NOSPLIT, $0-8
	MOVQ         a+0(FP), AX
	MOVQ         0(AX), DI
	MOVQ         8(AX), SI
	MOVQ         16(AX), R8
	MOVQ         24(AX), R9
	MOVQ         32(AX), CX
	MOVQ         40(AX), R10
	VPBROADCASTD 48(AX), Y12
	VPBROADCASTD 52(AX), Y13
	VPBROADCASTD 56(AX), Y14
	VBROADCASTSS rqconst<>+0(SB), Y15
	VPBROADCASTD rqconst<>+4(SB), Y11
	VPBROADCASTD rqconst<>+8(SB), Y10
	VXORPS       X9, X9, X9

rq_sub:
	VMOVSS       (R8), X0
	VUCOMISS     X9, X0
	JE           rq_skip
	VBROADCASTSS X0, Y0
	VBROADCASTSS (R9), Y1
	MOVQ         R10, DX
rq_elems:
	VMOVUPS      (SI), Y2
	VADDPS       Y1, Y2, Y2
	VDIVPS       Y0, Y2, Y2
	VADDPS       Y15, Y2, Y2
	VPAND        Y11, Y2, Y2
	VPSUBD       Y10, Y2, Y2
	VPMAXSD      Y12, Y2, Y2
	VPMINSD      Y13, Y2, Y2
	VPADDD       Y14, Y2, Y2
	VEXTRACTI128 $1, Y2, X3
	VPACKSSDW    X3, X2, X2
	VPACKSSWB    X2, X2, X2
	VMOVQ        X2, (DI)
	ADDQ         $32, SI
	ADDQ         $8, DI
	SUBQ         $8, DX
	JNZ          rq_elems
	JMP          rq_next
rq_skip:
	LEAQ         (SI)(R10*4), SI
	ADDQ         R10, DI
rq_next:
	ADDQ         $4, R8
	ADDQ         $4, R9
	DECQ         CX
	JNZ          rq_sub
	VZEROUPPER
	RET
