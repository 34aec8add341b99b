//go:build amd64 && !noasm && !purego

// The trial-scale loop of make_qkx2_quants for two groups (reference:
// kPairStepsGo in searchpair.go; tests require bit-identical codes and
// scales). Codes and products are computed 8 at a time; the sums, which
// ggml accumulates in element order, are added one by one in that order,
// the two groups' six chains side by side.

#include "textflag.h"

// kSearch layout (checked by TestKSearchLayout): group g at 72·g with
// x 0, w 8, aux 16, best 24, min 32, max 36, sumW 40, sumX 44, scale 48,
// err 52, ts 56, tm 60, ok 64; n 144, nstep 152, nmax 160, nmaxF 164,
// rmin 168, rdelta 172, useMad 176; p1 184, p2 440, p3 696, e 952 (each
// two groups of 32 floats).

DATA ksconst<>+0(SB)/4, $0x4b400000 // 12582912.0: nearest_int's magic
DATA ksconst<>+4(SB)/4, $0x007fffff
DATA ksconst<>+8(SB)/4, $0x00400000
DATA ksconst<>+12(SB)/4, $0x7fffffff
GLOBL ksconst<>(SB), RODATA|NOPTR, $16

// func kPairStepsAVX2(s *kSearch)
TEXT ·kPairStepsAVX2(SB), NOSPLIT, $0-8
	MOVQ         s+0(FP), DI
	MOVQ         152(DI), R9
	MOVQ         144(DI), R11
	SHLQ         $2, R11
	VBROADCASTSS ksconst<>+0(SB), Y15
	VPBROADCASTD ksconst<>+4(SB), Y14
	VPBROADCASTD ksconst<>+8(SB), Y13
	VPBROADCASTD 160(DI), Y12
	VPXOR        Y11, Y11, Y11
	MOVQ         0(DI), SI
	MOVQ         8(DI), R8
	MOVQ         16(DI), DX
	MOVQ         72(DI), R12
	MOVQ         80(DI), R13
	MOVQ         88(DI), BX
	XORQ         CX, CX

ks_step:
	// iscale = (rdelta·is + rmin + nmax)/(max − min), per group
	VCVTSI2SSQ   CX, X0, X0
	VMULSS       172(DI), X0, X0
	VADDSS       168(DI), X0, X0
	VADDSS       164(DI), X0, X0
	VMOVSS       36(DI), X1
	VSUBSS       32(DI), X1, X1
	VDIVSS       X1, X0, X2
	VMOVSS       108(DI), X1
	VSUBSS       104(DI), X1, X1
	VDIVSS       X1, X0, X3
	VBROADCASTSS X2, Y2
	VBROADCASTSS X3, Y3
	VBROADCASTSS 32(DI), Y4
	VBROADCASTSS 104(DI), Y5

	// codes l = clamp(nearest_int(iscale·(x − min)), 0, nmax) and the
	// products w·l, w·l·l, w·l·x
	XORQ         R10, R10
ks_prep:
	VMOVUPS    (SI)(R10*1), Y6
	VSUBPS     Y4, Y6, Y7
	VMULPS     Y2, Y7, Y7
	VADDPS     Y15, Y7, Y7
	VPAND      Y14, Y7, Y7
	VPSUBD     Y13, Y7, Y7
	VPMAXSD    Y11, Y7, Y7
	VPMINSD    Y12, Y7, Y7
	VMOVDQU    Y7, (DX)(R10*1)
	VCVTDQ2PS  Y7, Y7
	VMULPS     (R8)(R10*1), Y7, Y8
	VMOVUPS    Y8, 184(DI)(R10*1)
	VMULPS     Y7, Y8, Y9
	VMOVUPS    Y9, 440(DI)(R10*1)
	VMULPS     Y6, Y8, Y9
	VMOVUPS    Y9, 696(DI)(R10*1)
	VMOVUPS    (R12)(R10*1), Y6
	VSUBPS     Y5, Y6, Y7
	VMULPS     Y3, Y7, Y7
	VADDPS     Y15, Y7, Y7
	VPAND      Y14, Y7, Y7
	VPSUBD     Y13, Y7, Y7
	VPMAXSD    Y11, Y7, Y7
	VPMINSD    Y12, Y7, Y7
	VMOVDQU    Y7, (BX)(R10*1)
	VCVTDQ2PS  Y7, Y7
	VMULPS     (R13)(R10*1), Y7, Y8
	VMOVUPS    Y8, 312(DI)(R10*1)
	VMULPS     Y7, Y8, Y9
	VMOVUPS    Y9, 568(DI)(R10*1)
	VMULPS     Y6, Y8, Y9
	VMOVUPS    Y9, 824(DI)(R10*1)
	ADDQ         $32, R10
	CMPQ         R10, R11
	JB           ks_prep

	// ΣL, ΣL2, ΣXL in element order (X0-X2 group A, X3-X5 group B)
	VXORPS       X0, X0, X0
	VXORPS       X1, X1, X1
	VXORPS       X2, X2, X2
	VXORPS       X3, X3, X3
	VXORPS       X4, X4, X4
	VXORPS       X5, X5, X5
	XORQ         R10, R10
ks_sums:
	VADDSS     184(DI)(R10*1), X0, X0
	VADDSS     440(DI)(R10*1), X1, X1
	VADDSS     696(DI)(R10*1), X2, X2
	VADDSS     312(DI)(R10*1), X3, X3
	VADDSS     568(DI)(R10*1), X4, X4
	VADDSS     824(DI)(R10*1), X5, X5
	VADDSS     188(DI)(R10*1), X0, X0
	VADDSS     444(DI)(R10*1), X1, X1
	VADDSS     700(DI)(R10*1), X2, X2
	VADDSS     316(DI)(R10*1), X3, X3
	VADDSS     572(DI)(R10*1), X4, X4
	VADDSS     828(DI)(R10*1), X5, X5
	VADDSS     192(DI)(R10*1), X0, X0
	VADDSS     448(DI)(R10*1), X1, X1
	VADDSS     704(DI)(R10*1), X2, X2
	VADDSS     320(DI)(R10*1), X3, X3
	VADDSS     576(DI)(R10*1), X4, X4
	VADDSS     832(DI)(R10*1), X5, X5
	VADDSS     196(DI)(R10*1), X0, X0
	VADDSS     452(DI)(R10*1), X1, X1
	VADDSS     708(DI)(R10*1), X2, X2
	VADDSS     324(DI)(R10*1), X3, X3
	VADDSS     580(DI)(R10*1), X4, X4
	VADDSS     836(DI)(R10*1), X5, X5
	ADDQ         $16, R10
	CMPQ         R10, R11
	JB           ks_sums

	// solve group A: D = sumW·ΣL2 − ΣL·ΣL; if D > 0, the trial's scale
	// ts = (sumW·ΣXL − sumX·ΣL)/D and min tm = (ΣL2·sumX − ΣL·ΣXL)/D, with
	// tm > 0 replaced by tm = 0, ts = ΣXL/ΣL2.
	MOVL     $0, 64(DI)
	VMOVSS   40(DI), X6
	VMULSS   X1, X6, X7
	VMULSS   X0, X0, X8
	VSUBSS   X8, X7, X7
	VXORPS   X8, X8, X8
	VUCOMISS X8, X7
	JBE      ks_skipA
	VMULSS   X2, X6, X9
	VMOVSS   44(DI), X10
	VMULSS   X0, X10, X6
	VSUBSS   X6, X9, X9
	VDIVSS   X7, X9, X9
	VMULSS   X10, X1, X6
	VMULSS   X2, X0, X10
	VSUBSS   X10, X6, X6
	VDIVSS   X7, X6, X6
	VUCOMISS X8, X6
	JBE      ks_storeA
	VXORPS   X6, X6, X6
	VDIVSS   X1, X2, X9
ks_storeA:
	VMOVSS   X9, 56(DI)
	VMOVSS   X6, 60(DI)
	MOVL     $1, 64(DI)
ks_skipA:
	// solve group B: D = sumW·ΣL2 − ΣL·ΣL; if D > 0, the trial's scale
	// ts = (sumW·ΣXL − sumX·ΣL)/D and min tm = (ΣL2·sumX − ΣL·ΣXL)/D, with
	// tm > 0 replaced by tm = 0, ts = ΣXL/ΣL2.
	MOVL     $0, 136(DI)
	VMOVSS   112(DI), X6
	VMULSS   X4, X6, X7
	VMULSS   X3, X3, X8
	VSUBSS   X8, X7, X7
	VXORPS   X8, X8, X8
	VUCOMISS X8, X7
	JBE      ks_skipB
	VMULSS   X5, X6, X9
	VMOVSS   116(DI), X10
	VMULSS   X3, X10, X6
	VSUBSS   X6, X9, X9
	VDIVSS   X7, X9, X9
	VMULSS   X10, X4, X6
	VMULSS   X5, X3, X10
	VSUBSS   X10, X6, X6
	VDIVSS   X7, X6, X6
	VUCOMISS X8, X6
	JBE      ks_storeB
	VXORPS   X6, X6, X6
	VDIVSS   X4, X5, X9
ks_storeB:
	VMOVSS   X9, 128(DI)
	VMOVSS   X6, 132(DI)
	MOVL     $1, 136(DI)
ks_skipB:
	MOVL         64(DI), AX
	ORL          136(DI), AX
	JZ           ks_next

	// errors w·(ts·l + tm − x)² (or |…|), then their sums in element order
	VBROADCASTSS 56(DI), Y2
	VBROADCASTSS 60(DI), Y3
	VBROADCASTSS 128(DI), Y4
	VBROADCASTSS 132(DI), Y5
	VBROADCASTSS ksconst<>+12(SB), Y10
	XORQ         R10, R10
	CMPL         176(DI), $0
	JNE          ks_errmad
ks_errsq:
	VCVTDQ2PS  (DX)(R10*1), Y6
	VMULPS     Y2, Y6, Y6
	VADDPS     Y3, Y6, Y6
	VSUBPS     (SI)(R10*1), Y6, Y6
	VMULPS     Y6, Y6, Y6
	VMULPS     (R8)(R10*1), Y6, Y6
	VMOVUPS    Y6, 952(DI)(R10*1)
	VCVTDQ2PS  (BX)(R10*1), Y6
	VMULPS     Y4, Y6, Y6
	VADDPS     Y5, Y6, Y6
	VSUBPS     (R12)(R10*1), Y6, Y6
	VMULPS     Y6, Y6, Y6
	VMULPS     (R13)(R10*1), Y6, Y6
	VMOVUPS    Y6, 1080(DI)(R10*1)
	ADDQ         $32, R10
	CMPQ         R10, R11
	JB           ks_errsq
	JMP          ks_errsum
ks_errmad:
	VCVTDQ2PS  (DX)(R10*1), Y6
	VMULPS     Y2, Y6, Y6
	VADDPS     Y3, Y6, Y6
	VSUBPS     (SI)(R10*1), Y6, Y6
	VANDPS     Y10, Y6, Y6
	VMULPS     (R8)(R10*1), Y6, Y6
	VMOVUPS    Y6, 952(DI)(R10*1)
	VCVTDQ2PS  (BX)(R10*1), Y6
	VMULPS     Y4, Y6, Y6
	VADDPS     Y5, Y6, Y6
	VSUBPS     (R12)(R10*1), Y6, Y6
	VANDPS     Y10, Y6, Y6
	VMULPS     (R13)(R10*1), Y6, Y6
	VMOVUPS    Y6, 1080(DI)(R10*1)
	ADDQ         $32, R10
	CMPQ         R10, R11
	JB           ks_errmad
ks_errsum:
	VXORPS       X0, X0, X0
	VXORPS       X1, X1, X1
	XORQ         R10, R10
ks_esum:
	VADDSS     952(DI)(R10*1), X0, X0
	VADDSS     1080(DI)(R10*1), X1, X1
	VADDSS     956(DI)(R10*1), X0, X0
	VADDSS     1084(DI)(R10*1), X1, X1
	VADDSS     960(DI)(R10*1), X0, X0
	VADDSS     1088(DI)(R10*1), X1, X1
	VADDSS     964(DI)(R10*1), X0, X0
	VADDSS     1092(DI)(R10*1), X1, X1
	ADDQ         $16, R10
	CMPQ         R10, R11
	JB           ks_esum

	// group A: keep the trial if it has a solution and a lower error
	CMPL     64(DI), $0
	JE       ks_noupdA
	VMOVSS   52(DI), X6
	VUCOMISS X0, X6
	JBE      ks_noupdA
	VMOVSS   X0, 52(DI)
	MOVL     56(DI), AX
	MOVL     AX, 48(DI)
	MOVL     60(DI), AX
	MOVL     AX, 32(DI)
	MOVQ     24(DI), AX
	XORQ     R10, R10
ks_copyA:
	VMOVDQU  (DX)(R10*1), Y6
	VMOVDQU  Y6, (AX)(R10*1)
	ADDQ     $32, R10
	CMPQ     R10, R11
	JB       ks_copyA
ks_noupdA:
	// group B: keep the trial if it has a solution and a lower error
	CMPL     136(DI), $0
	JE       ks_noupdB
	VMOVSS   124(DI), X6
	VUCOMISS X1, X6
	JBE      ks_noupdB
	VMOVSS   X1, 124(DI)
	MOVL     128(DI), AX
	MOVL     AX, 120(DI)
	MOVL     132(DI), AX
	MOVL     AX, 104(DI)
	MOVQ     96(DI), AX
	XORQ     R10, R10
ks_copyB:
	VMOVDQU  (BX)(R10*1), Y6
	VMOVDQU  Y6, (AX)(R10*1)
	ADDQ     $32, R10
	CMPQ     R10, R11
	JB       ks_copyB
ks_noupdB:

ks_next:
	INCQ         CX
	CMPQ         CX, R9
	JLE          ks_step
	VZEROUPPER
	RET
