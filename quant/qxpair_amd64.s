//go:build amd64 && !noasm && !purego

// The trial-scale loop of make_qx_quants (rmse_type 1) for two groups
// (reference: qxPairStepsGo in searchpair.go; tests require identical
// codes and scales), organised like searchpair_amd64.s.

#include "textflag.h"

// qxSearch layout (checked by TestQxSearchLayout): group g at 48·g with
// x 0, w 8, aux 16, best 24, max 32, scale 36, best_ 40; n 96, nmax 104,
// nmaxF 108; p1 112, p2 368 (each two groups of 32 floats).

DATA qxconst<>+0(SB)/4, $0x4b400000 // 12582912.0
DATA qxconst<>+4(SB)/4, $0x007fffff
DATA qxconst<>+8(SB)/4, $0x00400000
DATA qxconst<>+12(SB)/4, $0x3dcccccd // 0.1
DATA qxconst<>+16(SB)/4, $0x80000000 // sign bit
GLOBL qxconst<>(SB), RODATA|NOPTR, $20

// func qxPairStepsAVX2(s *qxSearch)
TEXT ·qxPairStepsAVX2(SB), NOSPLIT, $0-8
	MOVQ         s+0(FP), DI
	MOVQ         96(DI), R11
	SHLQ         $2, R11
	VBROADCASTSS qxconst<>+0(SB), Y15
	VPBROADCASTD qxconst<>+4(SB), Y14
	VPBROADCASTD qxconst<>+8(SB), Y13
	VPBROADCASTD 104(DI), Y12
	VPXOR        Y11, Y11, Y11
	VPSUBD       Y12, Y11, Y11
	VPCMPEQD     Y10, Y10, Y10
	VPADDD       Y10, Y12, Y12
	MOVQ         0(DI), SI
	MOVQ         8(DI), R8
	MOVQ         16(DI), DX
	MOVQ         48(DI), R12
	MOVQ         56(DI), R13
	MOVQ         64(DI), BX
	MOVQ         $-9, CX

qx_step:
	CMPQ         CX, $0
	JE           qx_next
	// iscale = −(nmax + 0.1·is)/max, per group
	VCVTSI2SSQ   CX, X0, X0
	VMULSS       qxconst<>+12(SB), X0, X0
	VADDSS       108(DI), X0, X0
	VMOVSS       qxconst<>+16(SB), X9
	VDIVSS       32(DI), X0, X1
	VXORPS       X9, X1, X1
	VDIVSS       80(DI), X0, X2
	VXORPS       X9, X2, X2
	VBROADCASTSS X1, Y1
	VBROADCASTSS X2, Y2

	// codes l = clamp(nearest_int(iscale·x), −nmax, nmax−1) and the
	// products (w·x)·l and (w·l)·l
	XORQ         R10, R10
qx_prep:
	VMOVUPS    (SI)(R10*1), Y3
	VMULPS     Y1, Y3, Y4
	VADDPS     Y15, Y4, Y4
	VPAND      Y14, Y4, Y4
	VPSUBD     Y13, Y4, Y4
	VPMAXSD    Y11, Y4, Y4
	VPMINSD    Y12, Y4, Y4
	VMOVDQU    Y4, (DX)(R10*1)
	VCVTDQ2PS  Y4, Y4
	VMOVUPS    (R8)(R10*1), Y5
	VMULPS     Y3, Y5, Y6
	VMULPS     Y4, Y6, Y6
	VMOVUPS    Y6, 112(DI)(R10*1)
	VMULPS     Y4, Y5, Y7
	VMULPS     Y4, Y7, Y7
	VMOVUPS    Y7, 368(DI)(R10*1)
	VMOVUPS    (R12)(R10*1), Y3
	VMULPS     Y2, Y3, Y4
	VADDPS     Y15, Y4, Y4
	VPAND      Y14, Y4, Y4
	VPSUBD     Y13, Y4, Y4
	VPMAXSD    Y11, Y4, Y4
	VPMINSD    Y12, Y4, Y4
	VMOVDQU    Y4, (BX)(R10*1)
	VCVTDQ2PS  Y4, Y4
	VMOVUPS    (R13)(R10*1), Y5
	VMULPS     Y3, Y5, Y6
	VMULPS     Y4, Y6, Y6
	VMOVUPS    Y6, 240(DI)(R10*1)
	VMULPS     Y4, Y5, Y7
	VMULPS     Y4, Y7, Y7
	VMOVUPS    Y7, 496(DI)(R10*1)
	ADDQ         $32, R10
	CMPQ         R10, R11
	JB           qx_prep

	// Σwxl and Σwl² in element order (X0, X1 group A; X2, X3 group B)
	VXORPS       X0, X0, X0
	VXORPS       X1, X1, X1
	VXORPS       X2, X2, X2
	VXORPS       X3, X3, X3
	XORQ         R10, R10
qx_sums:
	VADDSS     112(DI)(R10*1), X0, X0
	VADDSS     368(DI)(R10*1), X1, X1
	VADDSS     240(DI)(R10*1), X2, X2
	VADDSS     496(DI)(R10*1), X3, X3
	VADDSS     116(DI)(R10*1), X0, X0
	VADDSS     372(DI)(R10*1), X1, X1
	VADDSS     244(DI)(R10*1), X2, X2
	VADDSS     500(DI)(R10*1), X3, X3
	VADDSS     120(DI)(R10*1), X0, X0
	VADDSS     376(DI)(R10*1), X1, X1
	VADDSS     248(DI)(R10*1), X2, X2
	VADDSS     504(DI)(R10*1), X3, X3
	VADDSS     124(DI)(R10*1), X0, X0
	VADDSS     380(DI)(R10*1), X1, X1
	VADDSS     252(DI)(R10*1), X2, X2
	VADDSS     508(DI)(R10*1), X3, X3
	ADDQ         $16, R10
	CMPQ         R10, R11
	JB           qx_sums

	// group A: keep the trial if Σl2 > 0 and Σwxl² > best·Σl2
	VXORPS     X8, X8, X8
	VUCOMISS   X8, X1
	JBE        qx_noupdA
	VMULSS     X0, X0, X4
	VMULSS     40(DI), X1, X5
	VUCOMISS   X5, X4
	JBE        qx_noupdA
	VDIVSS     X1, X0, X6
	VMOVSS     X6, 36(DI)
	VMULSS     X0, X6, X6
	VMOVSS     X6, 40(DI)
	MOVQ       24(DI), AX
	XORQ       R10, R10
qx_copyA:
	VMOVDQU    (DX)(R10*1), Y6
	VMOVDQU    Y6, (AX)(R10*1)
	ADDQ       $32, R10
	CMPQ       R10, R11
	JB         qx_copyA
qx_noupdA:
	// group B: keep the trial if Σl2 > 0 and Σwxl² > best·Σl2
	VXORPS     X8, X8, X8
	VUCOMISS   X8, X3
	JBE        qx_noupdB
	VMULSS     X2, X2, X4
	VMULSS     88(DI), X3, X5
	VUCOMISS   X5, X4
	JBE        qx_noupdB
	VDIVSS     X3, X2, X6
	VMOVSS     X6, 84(DI)
	VMULSS     X2, X6, X6
	VMOVSS     X6, 88(DI)
	MOVQ       72(DI), AX
	XORQ       R10, R10
qx_copyB:
	VMOVDQU    (BX)(R10*1), Y6
	VMOVDQU    Y6, (AX)(R10*1)
	ADDQ       $32, R10
	CMPQ       R10, R11
	JB         qx_copyB
qx_noupdB:

qx_next:
	INCQ         CX
	CMPQ         CX, $9
	JLE          qx_step
	VZEROUPPER
	RET
