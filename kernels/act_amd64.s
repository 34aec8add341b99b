//go:build amd64 && !noasm && !purego

// Activation kernels: SwiGLU and the exponentials of a softmax. The Go
// reference for each is in act.go (swigluRef, expShiftRef). SwiGLU's exp is
// ggml's ggml_v_expf (expGGML), so that lmc's activations round as
// llama.cpp's do; softmax's follows expRef step for step: clamp to
// [-87.33, 88], k = round(x·log2(e)), r = x − k·ln2 (in two parts), e^r by
// a degree-6 polynomial, times 2^k.
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




// Constants of ggml's ggml_v_expf (expGGML in ggmlexp.go) and of the
// AVX2 scaling, each replicated 8 times like expv's.
// r
DATA gexpv<>+0(SB)/4, $0x4b400000
DATA gexpv<>+4(SB)/4, $0x4b400000
DATA gexpv<>+8(SB)/4, $0x4b400000
DATA gexpv<>+12(SB)/4, $0x4b400000
DATA gexpv<>+16(SB)/4, $0x4b400000
DATA gexpv<>+20(SB)/4, $0x4b400000
DATA gexpv<>+24(SB)/4, $0x4b400000
DATA gexpv<>+28(SB)/4, $0x4b400000
// log2e
DATA gexpv<>+32(SB)/4, $0x3fb8aa3b
DATA gexpv<>+36(SB)/4, $0x3fb8aa3b
DATA gexpv<>+40(SB)/4, $0x3fb8aa3b
DATA gexpv<>+44(SB)/4, $0x3fb8aa3b
DATA gexpv<>+48(SB)/4, $0x3fb8aa3b
DATA gexpv<>+52(SB)/4, $0x3fb8aa3b
DATA gexpv<>+56(SB)/4, $0x3fb8aa3b
DATA gexpv<>+60(SB)/4, $0x3fb8aa3b
// ln2hi
DATA gexpv<>+64(SB)/4, $0x3f317200
DATA gexpv<>+68(SB)/4, $0x3f317200
DATA gexpv<>+72(SB)/4, $0x3f317200
DATA gexpv<>+76(SB)/4, $0x3f317200
DATA gexpv<>+80(SB)/4, $0x3f317200
DATA gexpv<>+84(SB)/4, $0x3f317200
DATA gexpv<>+88(SB)/4, $0x3f317200
DATA gexpv<>+92(SB)/4, $0x3f317200
// ln2lo
DATA gexpv<>+96(SB)/4, $0x35bfbe8e
DATA gexpv<>+100(SB)/4, $0x35bfbe8e
DATA gexpv<>+104(SB)/4, $0x35bfbe8e
DATA gexpv<>+108(SB)/4, $0x35bfbe8e
DATA gexpv<>+112(SB)/4, $0x35bfbe8e
DATA gexpv<>+116(SB)/4, $0x35bfbe8e
DATA gexpv<>+120(SB)/4, $0x35bfbe8e
DATA gexpv<>+124(SB)/4, $0x35bfbe8e
// c7
DATA gexpv<>+128(SB)/4, $0x3c072010
DATA gexpv<>+132(SB)/4, $0x3c072010
DATA gexpv<>+136(SB)/4, $0x3c072010
DATA gexpv<>+140(SB)/4, $0x3c072010
DATA gexpv<>+144(SB)/4, $0x3c072010
DATA gexpv<>+148(SB)/4, $0x3c072010
DATA gexpv<>+152(SB)/4, $0x3c072010
DATA gexpv<>+156(SB)/4, $0x3c072010
// c6
DATA gexpv<>+160(SB)/4, $0x3d2b9f17
DATA gexpv<>+164(SB)/4, $0x3d2b9f17
DATA gexpv<>+168(SB)/4, $0x3d2b9f17
DATA gexpv<>+172(SB)/4, $0x3d2b9f17
DATA gexpv<>+176(SB)/4, $0x3d2b9f17
DATA gexpv<>+180(SB)/4, $0x3d2b9f17
DATA gexpv<>+184(SB)/4, $0x3d2b9f17
DATA gexpv<>+188(SB)/4, $0x3d2b9f17
// c5
DATA gexpv<>+192(SB)/4, $0x3e2aaf33
DATA gexpv<>+196(SB)/4, $0x3e2aaf33
DATA gexpv<>+200(SB)/4, $0x3e2aaf33
DATA gexpv<>+204(SB)/4, $0x3e2aaf33
DATA gexpv<>+208(SB)/4, $0x3e2aaf33
DATA gexpv<>+212(SB)/4, $0x3e2aaf33
DATA gexpv<>+216(SB)/4, $0x3e2aaf33
DATA gexpv<>+220(SB)/4, $0x3e2aaf33
// c4
DATA gexpv<>+224(SB)/4, $0x3efffedb
DATA gexpv<>+228(SB)/4, $0x3efffedb
DATA gexpv<>+232(SB)/4, $0x3efffedb
DATA gexpv<>+236(SB)/4, $0x3efffedb
DATA gexpv<>+240(SB)/4, $0x3efffedb
DATA gexpv<>+244(SB)/4, $0x3efffedb
DATA gexpv<>+248(SB)/4, $0x3efffedb
DATA gexpv<>+252(SB)/4, $0x3efffedb
// c3
DATA gexpv<>+256(SB)/4, $0x3f7ffff6
DATA gexpv<>+260(SB)/4, $0x3f7ffff6
DATA gexpv<>+264(SB)/4, $0x3f7ffff6
DATA gexpv<>+268(SB)/4, $0x3f7ffff6
DATA gexpv<>+272(SB)/4, $0x3f7ffff6
DATA gexpv<>+276(SB)/4, $0x3f7ffff6
DATA gexpv<>+280(SB)/4, $0x3f7ffff6
DATA gexpv<>+284(SB)/4, $0x3f7ffff6
// one
DATA gexpv<>+288(SB)/4, $0x3f800000
DATA gexpv<>+292(SB)/4, $0x3f800000
DATA gexpv<>+296(SB)/4, $0x3f800000
DATA gexpv<>+300(SB)/4, $0x3f800000
DATA gexpv<>+304(SB)/4, $0x3f800000
DATA gexpv<>+308(SB)/4, $0x3f800000
DATA gexpv<>+312(SB)/4, $0x3f800000
DATA gexpv<>+316(SB)/4, $0x3f800000
// c192
DATA gexpv<>+320(SB)/4, $0x43400000
DATA gexpv<>+324(SB)/4, $0x43400000
DATA gexpv<>+328(SB)/4, $0x43400000
DATA gexpv<>+332(SB)/4, $0x43400000
DATA gexpv<>+336(SB)/4, $0x43400000
DATA gexpv<>+340(SB)/4, $0x43400000
DATA gexpv<>+344(SB)/4, $0x43400000
DATA gexpv<>+348(SB)/4, $0x43400000
// c250
DATA gexpv<>+352(SB)/4, $0x437a0000
DATA gexpv<>+356(SB)/4, $0x437a0000
DATA gexpv<>+360(SB)/4, $0x437a0000
DATA gexpv<>+364(SB)/4, $0x437a0000
DATA gexpv<>+368(SB)/4, $0x437a0000
DATA gexpv<>+372(SB)/4, $0x437a0000
DATA gexpv<>+376(SB)/4, $0x437a0000
DATA gexpv<>+380(SB)/4, $0x437a0000
// cm250
DATA gexpv<>+384(SB)/4, $0xc37a0000
DATA gexpv<>+388(SB)/4, $0xc37a0000
DATA gexpv<>+392(SB)/4, $0xc37a0000
DATA gexpv<>+396(SB)/4, $0xc37a0000
DATA gexpv<>+400(SB)/4, $0xc37a0000
DATA gexpv<>+404(SB)/4, $0xc37a0000
DATA gexpv<>+408(SB)/4, $0xc37a0000
DATA gexpv<>+412(SB)/4, $0xc37a0000
// inf
DATA gexpv<>+416(SB)/4, $0x7f800000
DATA gexpv<>+420(SB)/4, $0x7f800000
DATA gexpv<>+424(SB)/4, $0x7f800000
DATA gexpv<>+428(SB)/4, $0x7f800000
DATA gexpv<>+432(SB)/4, $0x7f800000
DATA gexpv<>+436(SB)/4, $0x7f800000
DATA gexpv<>+440(SB)/4, $0x7f800000
DATA gexpv<>+444(SB)/4, $0x7f800000
// abs
DATA gexpv<>+448(SB)/4, $0x7fffffff
DATA gexpv<>+452(SB)/4, $0x7fffffff
DATA gexpv<>+456(SB)/4, $0x7fffffff
DATA gexpv<>+460(SB)/4, $0x7fffffff
DATA gexpv<>+464(SB)/4, $0x7fffffff
DATA gexpv<>+468(SB)/4, $0x7fffffff
DATA gexpv<>+472(SB)/4, $0x7fffffff
DATA gexpv<>+476(SB)/4, $0x7fffffff
// i127
DATA gexpv<>+480(SB)/4, $0x0000007f
DATA gexpv<>+484(SB)/4, $0x0000007f
DATA gexpv<>+488(SB)/4, $0x0000007f
DATA gexpv<>+492(SB)/4, $0x0000007f
DATA gexpv<>+496(SB)/4, $0x0000007f
DATA gexpv<>+500(SB)/4, $0x0000007f
DATA gexpv<>+504(SB)/4, $0x0000007f
DATA gexpv<>+508(SB)/4, $0x0000007f
GLOBL gexpv<>(SB), RODATA|NOPTR, $512
// func swigluAVX512(gate, up unsafe.Pointer, n int)
//
// ggml_vec_swiglu_f32's AVX-512 loop: gate = silu(gate)·up with
// silu(x) = x / (1 + ggml_v_expf(0 − x)), operation for operation
// (swigluRef in act.go is the Go twin).
TEXT ·swigluAVX512(SB), NOSPLIT, $0-24
	MOVQ gate+0(FP), DI
	MOVQ up+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS gexpv<>+0(SB), Z16
	VBROADCASTSS gexpv<>+32(SB), Z17
	VBROADCASTSS gexpv<>+64(SB), Z18
	VBROADCASTSS gexpv<>+96(SB), Z19
	VBROADCASTSS gexpv<>+128(SB), Z20
	VBROADCASTSS gexpv<>+160(SB), Z21
	VBROADCASTSS gexpv<>+192(SB), Z22
	VBROADCASTSS gexpv<>+224(SB), Z23
	VBROADCASTSS gexpv<>+256(SB), Z24
	VBROADCASTSS gexpv<>+288(SB), Z25
	VBROADCASTSS gexpv<>+320(SB), Z26
	VBROADCASTSS gexpv<>+416(SB), Z27
	VBROADCASTSS gexpv<>+448(SB), Z29
	VPXORD Z28, Z28, Z28

swiglu512_loop:
	VMOVUPS (DI), Z0
	VSUBPS Z0, Z28, Z1
	VMOVAPS Z1, Z2
	VFMADD213PS Z16, Z17, Z2
	VSUBPS Z16, Z2, Z2
	VFNMADD231PS Z18, Z2, Z1
	VFNMADD231PS Z19, Z2, Z1
	VMULPS Z1, Z1, Z4
	VMOVAPS Z20, Z3
	VFMADD213PS Z21, Z1, Z3
	VMOVAPS Z22, Z5
	VFMADD213PS Z23, Z1, Z5
	VFMADD213PS Z5, Z4, Z3
	VMOVAPS Z24, Z6
	VFMADD213PS Z25, Z1, Z6
	VFMADD213PS Z6, Z4, Z3
	VSCALEFPS Z2, Z3, Z3
	VPANDD Z29, Z2, Z7
	VCMPPS $0x1e, Z26, Z7, K1
	KORTESTW K1, K1
	JZ swiglu512_silu
	VCMPPS $0x12, Z28, Z2, K2
	VMOVAPS Z27, Z7
	VMOVAPS Z28, K2, Z7
	VMOVAPS Z7, K1, Z3

swiglu512_silu:
	VADDPS Z25, Z3, Z3
	VDIVPS Z3, Z0, Z0
	VMULPS (SI), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, DI
	ADDQ $64, SI
	SUBQ $16, CX
	JNZ swiglu512_loop
	VZEROUPPER
	RET

// func swigluAVX2(gate, up unsafe.Pointer, n int)
//
// The same values as swigluAVX512 (not ggml's AVX2 loop, which rounds
// e^x differently): 2^n is applied in two exact halves, 2^⌊n/2⌋ then
// 2^(n−⌊n/2⌋), which rounds once as VSCALEFPS does.
TEXT ·swigluAVX2(SB), NOSPLIT, $0-24
	MOVQ gate+0(FP), DI
	MOVQ up+8(FP), SI
	MOVQ n+16(FP), CX
	VXORPS Y15, Y15, Y15

swiglu256_loop:
	VMOVUPS (DI), Y0
	VSUBPS Y0, Y15, Y1
	VMOVUPS gexpv<>+32(SB), Y2
	VFMADD213PS gexpv<>+0(SB), Y1, Y2
	VSUBPS gexpv<>+0(SB), Y2, Y2
	VFNMADD231PS gexpv<>+64(SB), Y2, Y1
	VFNMADD231PS gexpv<>+96(SB), Y2, Y1
	VMULPS Y1, Y1, Y4
	VMOVUPS gexpv<>+128(SB), Y3
	VFMADD213PS gexpv<>+160(SB), Y1, Y3
	VMOVUPS gexpv<>+192(SB), Y5
	VFMADD213PS gexpv<>+224(SB), Y1, Y5
	VFMADD213PS Y5, Y4, Y3
	VMOVUPS gexpv<>+256(SB), Y6
	VFMADD213PS gexpv<>+288(SB), Y1, Y6
	VFMADD213PS Y6, Y4, Y3
	VMINPS gexpv<>+352(SB), Y2, Y7
	VMAXPS gexpv<>+384(SB), Y7, Y7
	VCVTPS2DQ Y7, Y7
	VPSRAD $1, Y7, Y8
	VPSUBD Y8, Y7, Y7
	VPADDD gexpv<>+480(SB), Y8, Y8
	VPSLLD $23, Y8, Y8
	VPADDD gexpv<>+480(SB), Y7, Y7
	VPSLLD $23, Y7, Y7
	VMULPS Y8, Y3, Y3
	VMULPS Y7, Y3, Y3
	VANDPS gexpv<>+448(SB), Y2, Y9
	VCMPPS $0x1e, gexpv<>+320(SB), Y9, Y9
	VMOVMSKPS Y9, AX
	TESTL AX, AX
	JZ swiglu256_silu
	VCMPPS $0x12, Y15, Y2, Y10
	VANDNPS gexpv<>+416(SB), Y10, Y10
	VBLENDVPS Y9, Y10, Y3, Y3

swiglu256_silu:
	VADDPS gexpv<>+288(SB), Y3, Y3
	VDIVPS Y3, Y0, Y0
	VMULPS (SI), Y0, Y0
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
