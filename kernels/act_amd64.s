//go:build amd64 && !noasm && !purego

// Activation kernels: SwiGLU and the exponentials of a softmax. The Go
// reference for each is in act.go (swigluRef, expShiftRef); exp follows
// expRef step for step: clamp to [-87.33, 88], k = round(x·log2(e)),
// r = x − k·ln2 (in two parts), e^r by a degree-6 polynomial, times 2^k.
// Every kernel takes n, a positive multiple of its width (16 or 8).

#include "textflag.h"

// Constants, each replicated 8 times (32 bytes) so that AVX2 code can use
// them as memory operands; AVX-512 code broadcasts the first copy.

// hi
DATA expv<>+0(SB)/4, $0x42b00000
DATA expv<>+4(SB)/4, $0x42b00000
DATA expv<>+8(SB)/4, $0x42b00000
DATA expv<>+12(SB)/4, $0x42b00000
DATA expv<>+16(SB)/4, $0x42b00000
DATA expv<>+20(SB)/4, $0x42b00000
DATA expv<>+24(SB)/4, $0x42b00000
DATA expv<>+28(SB)/4, $0x42b00000
// lo
DATA expv<>+32(SB)/4, $0xc2aea8f6
DATA expv<>+36(SB)/4, $0xc2aea8f6
DATA expv<>+40(SB)/4, $0xc2aea8f6
DATA expv<>+44(SB)/4, $0xc2aea8f6
DATA expv<>+48(SB)/4, $0xc2aea8f6
DATA expv<>+52(SB)/4, $0xc2aea8f6
DATA expv<>+56(SB)/4, $0xc2aea8f6
DATA expv<>+60(SB)/4, $0xc2aea8f6
// log2e
DATA expv<>+64(SB)/4, $0x3fb8aa3b
DATA expv<>+68(SB)/4, $0x3fb8aa3b
DATA expv<>+72(SB)/4, $0x3fb8aa3b
DATA expv<>+76(SB)/4, $0x3fb8aa3b
DATA expv<>+80(SB)/4, $0x3fb8aa3b
DATA expv<>+84(SB)/4, $0x3fb8aa3b
DATA expv<>+88(SB)/4, $0x3fb8aa3b
DATA expv<>+92(SB)/4, $0x3fb8aa3b
// c1
DATA expv<>+96(SB)/4, $0x3f318000
DATA expv<>+100(SB)/4, $0x3f318000
DATA expv<>+104(SB)/4, $0x3f318000
DATA expv<>+108(SB)/4, $0x3f318000
DATA expv<>+112(SB)/4, $0x3f318000
DATA expv<>+116(SB)/4, $0x3f318000
DATA expv<>+120(SB)/4, $0x3f318000
DATA expv<>+124(SB)/4, $0x3f318000
// c2
DATA expv<>+128(SB)/4, $0xb95e8083
DATA expv<>+132(SB)/4, $0xb95e8083
DATA expv<>+136(SB)/4, $0xb95e8083
DATA expv<>+140(SB)/4, $0xb95e8083
DATA expv<>+144(SB)/4, $0xb95e8083
DATA expv<>+148(SB)/4, $0xb95e8083
DATA expv<>+152(SB)/4, $0xb95e8083
DATA expv<>+156(SB)/4, $0xb95e8083
// p0
DATA expv<>+160(SB)/4, $0x39506967
DATA expv<>+164(SB)/4, $0x39506967
DATA expv<>+168(SB)/4, $0x39506967
DATA expv<>+172(SB)/4, $0x39506967
DATA expv<>+176(SB)/4, $0x39506967
DATA expv<>+180(SB)/4, $0x39506967
DATA expv<>+184(SB)/4, $0x39506967
DATA expv<>+188(SB)/4, $0x39506967
// p1
DATA expv<>+192(SB)/4, $0x3ab743ce
DATA expv<>+196(SB)/4, $0x3ab743ce
DATA expv<>+200(SB)/4, $0x3ab743ce
DATA expv<>+204(SB)/4, $0x3ab743ce
DATA expv<>+208(SB)/4, $0x3ab743ce
DATA expv<>+212(SB)/4, $0x3ab743ce
DATA expv<>+216(SB)/4, $0x3ab743ce
DATA expv<>+220(SB)/4, $0x3ab743ce
// p2
DATA expv<>+224(SB)/4, $0x3c088908
DATA expv<>+228(SB)/4, $0x3c088908
DATA expv<>+232(SB)/4, $0x3c088908
DATA expv<>+236(SB)/4, $0x3c088908
DATA expv<>+240(SB)/4, $0x3c088908
DATA expv<>+244(SB)/4, $0x3c088908
DATA expv<>+248(SB)/4, $0x3c088908
DATA expv<>+252(SB)/4, $0x3c088908
// p3
DATA expv<>+256(SB)/4, $0x3d2aa9c1
DATA expv<>+260(SB)/4, $0x3d2aa9c1
DATA expv<>+264(SB)/4, $0x3d2aa9c1
DATA expv<>+268(SB)/4, $0x3d2aa9c1
DATA expv<>+272(SB)/4, $0x3d2aa9c1
DATA expv<>+276(SB)/4, $0x3d2aa9c1
DATA expv<>+280(SB)/4, $0x3d2aa9c1
DATA expv<>+284(SB)/4, $0x3d2aa9c1
// p4
DATA expv<>+288(SB)/4, $0x3e2aaaaa
DATA expv<>+292(SB)/4, $0x3e2aaaaa
DATA expv<>+296(SB)/4, $0x3e2aaaaa
DATA expv<>+300(SB)/4, $0x3e2aaaaa
DATA expv<>+304(SB)/4, $0x3e2aaaaa
DATA expv<>+308(SB)/4, $0x3e2aaaaa
DATA expv<>+312(SB)/4, $0x3e2aaaaa
DATA expv<>+316(SB)/4, $0x3e2aaaaa
// p5
DATA expv<>+320(SB)/4, $0x3f000000
DATA expv<>+324(SB)/4, $0x3f000000
DATA expv<>+328(SB)/4, $0x3f000000
DATA expv<>+332(SB)/4, $0x3f000000
DATA expv<>+336(SB)/4, $0x3f000000
DATA expv<>+340(SB)/4, $0x3f000000
DATA expv<>+344(SB)/4, $0x3f000000
DATA expv<>+348(SB)/4, $0x3f000000
// one
DATA expv<>+352(SB)/4, $0x3f800000
DATA expv<>+356(SB)/4, $0x3f800000
DATA expv<>+360(SB)/4, $0x3f800000
DATA expv<>+364(SB)/4, $0x3f800000
DATA expv<>+368(SB)/4, $0x3f800000
DATA expv<>+372(SB)/4, $0x3f800000
DATA expv<>+376(SB)/4, $0x3f800000
DATA expv<>+380(SB)/4, $0x3f800000
// i127
DATA expv<>+384(SB)/4, $0x0000007f
DATA expv<>+388(SB)/4, $0x0000007f
DATA expv<>+392(SB)/4, $0x0000007f
DATA expv<>+396(SB)/4, $0x0000007f
DATA expv<>+400(SB)/4, $0x0000007f
DATA expv<>+404(SB)/4, $0x0000007f
DATA expv<>+408(SB)/4, $0x0000007f
DATA expv<>+412(SB)/4, $0x0000007f
GLOBL expv<>(SB), RODATA|NOPTR, $416




// func swigluAVX512(gate, up unsafe.Pointer, n int)
TEXT ·swigluAVX512(SB), NOSPLIT, $0-24
	MOVQ gate+0(FP), DI
	MOVQ up+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS expv<>+0(SB), Z16
	VBROADCASTSS expv<>+32(SB), Z17
	VBROADCASTSS expv<>+64(SB), Z18
	VBROADCASTSS expv<>+96(SB), Z19
	VBROADCASTSS expv<>+128(SB), Z20
	VBROADCASTSS expv<>+160(SB), Z21
	VBROADCASTSS expv<>+192(SB), Z22
	VBROADCASTSS expv<>+224(SB), Z23
	VBROADCASTSS expv<>+256(SB), Z24
	VBROADCASTSS expv<>+288(SB), Z25
	VBROADCASTSS expv<>+320(SB), Z26
	VBROADCASTSS expv<>+352(SB), Z27
	VPXORD Z28, Z28, Z28

swiglu512_loop:
	VMOVUPS (DI), Z0
	VSUBPS Z0, Z28, Z1
	VMINPS Z16, Z1, Z1
	VMAXPS Z17, Z1, Z1
	VMULPS Z18, Z1, Z2
	VRNDSCALEPS $0, Z2, Z2
	VFNMADD231PS Z19, Z2, Z1
	VFNMADD231PS Z20, Z2, Z1
	VMOVAPS Z21, Z3
	VFMADD213PS Z22, Z1, Z3
	VFMADD213PS Z23, Z1, Z3
	VFMADD213PS Z24, Z1, Z3
	VFMADD213PS Z25, Z1, Z3
	VFMADD213PS Z26, Z1, Z3
	VMULPS Z1, Z1, Z4
	VFMADD213PS Z1, Z4, Z3
	VADDPS Z27, Z3, Z3
	VSCALEFPS Z2, Z3, Z1
	VADDPS Z27, Z1, Z1
	VMULPS (SI), Z0, Z0
	VDIVPS Z1, Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, DI
	ADDQ $64, SI
	SUBQ $16, CX
	JNZ swiglu512_loop
	VZEROUPPER
	RET

// func swigluAVX2(gate, up unsafe.Pointer, n int)
TEXT ·swigluAVX2(SB), NOSPLIT, $0-24
	MOVQ gate+0(FP), DI
	MOVQ up+8(FP), SI
	MOVQ n+16(FP), CX
	VXORPS Y8, Y8, Y8

swiglu256_loop:
	VMOVUPS (DI), Y0
	VSUBPS Y0, Y8, Y1
	VMINPS expv<>+0(SB), Y1, Y1
	VMAXPS expv<>+32(SB), Y1, Y1
	VMULPS expv<>+64(SB), Y1, Y2
	VROUNDPS $0, Y2, Y2
	VFNMADD231PS expv<>+96(SB), Y2, Y1
	VFNMADD231PS expv<>+128(SB), Y2, Y1
	VMOVUPS expv<>+160(SB), Y3
	VFMADD213PS expv<>+192(SB), Y1, Y3
	VFMADD213PS expv<>+224(SB), Y1, Y3
	VFMADD213PS expv<>+256(SB), Y1, Y3
	VFMADD213PS expv<>+288(SB), Y1, Y3
	VFMADD213PS expv<>+320(SB), Y1, Y3
	VMULPS Y1, Y1, Y4
	VFMADD213PS Y1, Y4, Y3
	VADDPS expv<>+352(SB), Y3, Y3
	VCVTPS2DQ Y2, Y2
	VPADDD expv<>+384(SB), Y2, Y2
	VPSLLD $23, Y2, Y2
	VMULPS Y2, Y3, Y1
	VADDPS expv<>+352(SB), Y1, Y1
	VMULPS (SI), Y0, Y0
	VDIVPS Y1, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	SUBQ $8, CX
	JNZ swiglu256_loop
	VZEROUPPER
	RET

// func expShiftAVX512(x unsafe.Pointer, n int, scale, shift float32) float32
TEXT ·expShiftAVX512(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
	VBROADCASTSS scale+16(FP), Z29
	VBROADCASTSS shift+20(FP), Z30
	VBROADCASTSS expv<>+0(SB), Z16
	VBROADCASTSS expv<>+32(SB), Z17
	VBROADCASTSS expv<>+64(SB), Z18
	VBROADCASTSS expv<>+96(SB), Z19
	VBROADCASTSS expv<>+128(SB), Z20
	VBROADCASTSS expv<>+160(SB), Z21
	VBROADCASTSS expv<>+192(SB), Z22
	VBROADCASTSS expv<>+224(SB), Z23
	VBROADCASTSS expv<>+256(SB), Z24
	VBROADCASTSS expv<>+288(SB), Z25
	VBROADCASTSS expv<>+320(SB), Z26
	VBROADCASTSS expv<>+352(SB), Z27
	VPXORD Z31, Z31, Z31

exps512_loop:
	VMOVUPS (DI), Z1
	VMULPS Z29, Z1, Z1
	VSUBPS Z30, Z1, Z1
	VMINPS Z16, Z1, Z1
	VMAXPS Z17, Z1, Z1
	VMULPS Z18, Z1, Z2
	VRNDSCALEPS $0, Z2, Z2
	VFNMADD231PS Z19, Z2, Z1
	VFNMADD231PS Z20, Z2, Z1
	VMOVAPS Z21, Z3
	VFMADD213PS Z22, Z1, Z3
	VFMADD213PS Z23, Z1, Z3
	VFMADD213PS Z24, Z1, Z3
	VFMADD213PS Z25, Z1, Z3
	VFMADD213PS Z26, Z1, Z3
	VMULPS Z1, Z1, Z4
	VFMADD213PS Z1, Z4, Z3
	VADDPS Z27, Z3, Z3
	VSCALEFPS Z2, Z3, Z1
	VMOVUPS Z1, (DI)
	VADDPS Z1, Z31, Z31
	ADDQ $64, DI
	SUBQ $16, CX
	JNZ exps512_loop
	VEXTRACTF64X4 $1, Z31, Y1
	VADDPS Y1, Y31, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0
	VMOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// func expShiftAVX2(x unsafe.Pointer, n int, scale, shift float32) float32
TEXT ·expShiftAVX2(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
	VBROADCASTSS scale+16(FP), Y9
	VBROADCASTSS shift+20(FP), Y10
	VXORPS Y11, Y11, Y11

exps256_loop:
	VMOVUPS (DI), Y1
	VMULPS Y9, Y1, Y1
	VSUBPS Y10, Y1, Y1
	VMINPS expv<>+0(SB), Y1, Y1
	VMAXPS expv<>+32(SB), Y1, Y1
	VMULPS expv<>+64(SB), Y1, Y2
	VROUNDPS $0, Y2, Y2
	VFNMADD231PS expv<>+96(SB), Y2, Y1
	VFNMADD231PS expv<>+128(SB), Y2, Y1
	VMOVUPS expv<>+160(SB), Y3
	VFMADD213PS expv<>+192(SB), Y1, Y3
	VFMADD213PS expv<>+224(SB), Y1, Y3
	VFMADD213PS expv<>+256(SB), Y1, Y3
	VFMADD213PS expv<>+288(SB), Y1, Y3
	VFMADD213PS expv<>+320(SB), Y1, Y3
	VMULPS Y1, Y1, Y4
	VFMADD213PS Y1, Y4, Y3
	VADDPS expv<>+352(SB), Y3, Y3
	VCVTPS2DQ Y2, Y2
	VPADDD expv<>+384(SB), Y2, Y2
	VPSLLD $23, Y2, Y2
	VMULPS Y2, Y3, Y1
	VMOVUPS Y1, (DI)
	VADDPS Y1, Y11, Y11
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ exps256_loop
	VEXTRACTF128 $1, Y11, X1
	VADDPS X1, X11, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0
	VMOVSS X0, ret+24(FP)
	VZEROUPPER
	RET
