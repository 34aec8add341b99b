//go:build amd64 && !noasm && !purego

// AVX2 dot products of ggml's 32-element formats with Q8_0 activations.
// The Go reference for each TEXT symbol is the function named in its
// comment (dot.go); tests compare them (integer parts exactly, float sums
// within a tolerance, since the summation order differs).
//
// Every kernel is func(x, y *byte, nb int) float32 with nb ≥ 1 blocks.
// Scales are converted with the table ·f16Table (float32 of every half),
// filled before any kernel is used. Registers: SI = x, DI = y, CX = blocks
// left, R8 = ·f16Table, Y15 = 16-bit ones, Y14 = 0x0F bytes, Y0/Y8 = the
// two accumulators (even and odd blocks).

#include "textflag.h"

// 0: m4 (0x0F)
DATA qconst<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA qconst<>+8(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA qconst<>+16(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA qconst<>+24(SB)/8, $0x0f0f0f0f0f0f0f0f
// 32: eight
DATA qconst<>+32(SB)/8, $0x0808080808080808
DATA qconst<>+40(SB)/8, $0x0808080808080808
DATA qconst<>+48(SB)/8, $0x0808080808080808
DATA qconst<>+56(SB)/8, $0x0808080808080808
// 64: ones8
DATA qconst<>+64(SB)/8, $0x0101010101010101
DATA qconst<>+72(SB)/8, $0x0101010101010101
DATA qconst<>+80(SB)/8, $0x0101010101010101
DATA qconst<>+88(SB)/8, $0x0101010101010101
// 96: ones16
DATA qconst<>+96(SB)/8, $0x0001000100010001
DATA qconst<>+104(SB)/8, $0x0001000100010001
DATA qconst<>+112(SB)/8, $0x0001000100010001
DATA qconst<>+120(SB)/8, $0x0001000100010001
// 128: bit shuffle
DATA qconst<>+128(SB)/8, $0x0000000000000000
DATA qconst<>+136(SB)/8, $0x0101010101010101
DATA qconst<>+144(SB)/8, $0x0202020202020202
DATA qconst<>+152(SB)/8, $0x0303030303030303
// 160: bit mask
DATA qconst<>+160(SB)/8, $0x7fbfdfeff7fbfdfe
DATA qconst<>+168(SB)/8, $0x7fbfdfeff7fbfdfe
DATA qconst<>+176(SB)/8, $0x7fbfdfeff7fbfdfe
DATA qconst<>+184(SB)/8, $0x7fbfdfeff7fbfdfe
// 192: 0xF0
DATA qconst<>+192(SB)/8, $0xf0f0f0f0f0f0f0f0
DATA qconst<>+200(SB)/8, $0xf0f0f0f0f0f0f0f0
DATA qconst<>+208(SB)/8, $0xf0f0f0f0f0f0f0f0
DATA qconst<>+216(SB)/8, $0xf0f0f0f0f0f0f0f0
// 224: 0x10
DATA qconst<>+224(SB)/8, $0x1010101010101010
DATA qconst<>+232(SB)/8, $0x1010101010101010
DATA qconst<>+240(SB)/8, $0x1010101010101010
DATA qconst<>+248(SB)/8, $0x1010101010101010
// 256: kvalues_iq4nl x2
DATA qconst<>+256(SB)/8, $0xf6eaddcfbfad9881
DATA qconst<>+264(SB)/8, $0x7159453526190d01
DATA qconst<>+272(SB)/8, $0xf6eaddcfbfad9881
DATA qconst<>+280(SB)/8, $0x7159453526190d01
// 288: m3 (0x03)
DATA qconst<>+288(SB)/8, $0x0303030303030303
DATA qconst<>+296(SB)/8, $0x0303030303030303
DATA qconst<>+304(SB)/8, $0x0303030303030303
DATA qconst<>+312(SB)/8, $0x0303030303030303
// 320: 0x30
DATA qconst<>+320(SB)/8, $0x3030303030303030
DATA qconst<>+328(SB)/8, $0x3030303030303030
DATA qconst<>+336(SB)/8, $0x3030303030303030
DATA qconst<>+344(SB)/8, $0x3030303030303030
// 352: word pair shuffle: bytes 0,1 in low lane, 2,3 in high lane
DATA qconst<>+352(SB)/8, $0x0100010001000100
DATA qconst<>+360(SB)/8, $0x0100010001000100
DATA qconst<>+368(SB)/8, $0x0302030203020302
DATA qconst<>+376(SB)/8, $0x0302030203020302
// 384: 0x04
DATA qconst<>+384(SB)/8, $0x0404040404040404
DATA qconst<>+392(SB)/8, $0x0404040404040404
DATA qconst<>+400(SB)/8, $0x0404040404040404
DATA qconst<>+408(SB)/8, $0x0404040404040404
GLOBL qconst<>(SB), RODATA|NOPTR, $416

// DXDY broadcasts f16(x.d at xo(SI)) · f16(y.d at yo(DI)) into Yd.
#define DXDY(xo, yo, Xd, Yd) \
	MOVWLZX    xo(SI), AX; \
	MOVWLZX    yo(DI), BX; \
	VMOVSS     (R8)(AX*4), Xd; \
	VMULSS     (R8)(BX*4), Xd, Xd; \
	VBROADCASTSS Xd, Yd

// NIBBLES32 loads 16 bytes at off(SI) and sets Yq to their 32 nibbles:
// low nibbles in bytes 0-15, high nibbles in bytes 16-31. Clobbers Xt.
#define NIBBLES32(off, Xq, Yq, Xt) \
	VMOVDQU    off(SI), Xq; \
	VPSRLW     $4, Xq, Xt; \
	VINSERTI128 $1, Xt, Yq, Yq; \
	VPAND      Y14, Yq, Yq

// HSUM adds Y8 into Y0 and sums Y0's lanes into X0.
#define HSUM \
	VADDPS     Y8, Y0, Y0; \
	VEXTRACTF128 $1, Y0, X1; \
	VADDPS     X1, X0, X0; \
	VMOVHLPS   X0, X0, X1; \
	VADDPS     X1, X0, X0; \
	VMOVSHDUP  X0, X1; \
	VADDSS     X1, X0, X0; \
	VZEROUPPER

#define PROLOGUE \
	MOVQ       x+0(FP), SI; \
	MOVQ       y+8(FP), DI; \
	MOVQ       nb+16(FP), CX; \
	LEAQ       ·f16Table(SB), R8; \
	VPBROADCASTD qconst<>+96(SB), Y15; \
	VMOVDQU    qconst<>+0(SB), Y14; \
	VXORPS     Y0, Y0, Y0; \
	VXORPS     Y8, Y8, Y8

// One block of each format: the scale product into Y1, the codes, the
// integer dot product (MULSUM_*), accumulated into acc.
//   Q8_0:   signed codes at 2
//   Q4_0:   nibbles at 2, minus 8 (Y13 = 8s)
//   IQ4_NL: nibbles at 2 looked up in kvalues (Y13)
//   Q5_0:   nibbles at 6 | 0xF0 where the fifth bit (u32 at 2) is clear,
//           which as int8 is q − 16 (Y13 = 0xF0s)
//   Q4_1:   unsigned nibbles at 4; y is Q8_1 (d at 0, s at 2, codes at 4);
//           the scalar Xaccm gathers m_x·s_y
//   Q5_1:   unsigned nibbles at 8 | 0x10 where the fifth bit (u32 at 4) is
//           set (Y13 = 0x10s)

#define Q8_0_BLOCK(xo, yo, acc) \
	DXDY(xo, yo, X1, Y1); \
	VMOVDQU    xo+2(SI), Y3; \
	VMOVDQU    yo+2(DI), Y4; \
	MULSUM_I8(Y3, Y4, Y5); \
	VFMADD231PS Y4, Y1, acc

#define Q4_0_BLOCK(xo, yo, acc) \
	DXDY(xo, yo, X1, Y1); \
	NIBBLES32(xo+2, X3, Y3, X5); \
	VPSUBB     Y13, Y3, Y3; \
	VMOVDQU    yo+2(DI), Y4; \
	MULSUM_I8(Y3, Y4, Y5); \
	VFMADD231PS Y4, Y1, acc

#define IQ4_NL_BLOCK(xo, yo, acc) \
	DXDY(xo, yo, X1, Y1); \
	NIBBLES32(xo+2, X3, Y3, X5); \
	VPSHUFB    Y3, Y13, Y3; \
	VMOVDQU    yo+2(DI), Y4; \
	MULSUM_I8(Y3, Y4, Y5); \
	VFMADD231PS Y4, Y1, acc

// BITS32 sets Yb to 0xFF in byte j where bit j of the u32 at off(SI) is
// set, else 0 (ggml's bytes_from_bits_32). Needs Y12 = bit shuffle,
// Y11 = bit mask, Y10 = all ones.
#define BITS32(off, Yb) \
	VPBROADCASTD off(SI), Yb; \
	VPSHUFB    Y12, Yb, Yb; \
	VPOR       Y11, Yb, Yb; \
	VPCMPEQB   Y10, Yb, Yb

#define BITS_SETUP \
	VMOVDQU    qconst<>+128(SB), Y12; \
	VMOVDQU    qconst<>+160(SB), Y11; \
	VPCMPEQB   Y10, Y10, Y10

#define Q5_0_BLOCK(xo, yo, acc) \
	DXDY(xo, yo, X1, Y1); \
	NIBBLES32(xo+6, X3, Y3, X5); \
	BITS32(xo+2, Y6); \
	VPANDN     Y13, Y6, Y6; \
	VPOR       Y6, Y3, Y3; \
	VMOVDQU    yo+2(DI), Y4; \
	MULSUM_I8(Y3, Y4, Y5); \
	VFMADD231PS Y4, Y1, acc

// MIN_S adds f16(x.m at xo+2(SI)) · f16(y.s at yo+2(DI)) to Xacc.
#define MIN_S(xo, yo, Xacc) \
	MOVWLZX    xo+2(SI), AX; \
	MOVWLZX    yo+2(DI), BX; \
	VMOVSS     (R8)(AX*4), X2; \
	VFMADD231SS (R8)(BX*4), X2, Xacc

#define Q4_1_BLOCK(xo, yo, acc, Xaccm) \
	DXDY(xo, yo, X1, Y1); \
	MIN_S(xo, yo, Xaccm); \
	NIBBLES32(xo+4, X3, Y3, X5); \
	VMOVDQU    yo+4(DI), Y4; \
	MULSUM_U8(Y3, Y4, acc)

#define Q5_1_BLOCK(xo, yo, acc, Xaccm) \
	DXDY(xo, yo, X1, Y1); \
	MIN_S(xo, yo, Xaccm); \
	NIBBLES32(xo+8, X3, Y3, X5); \
	BITS32(xo+4, Y6); \
	VPAND      Y13, Y6, Y6; \
	VPOR       Y6, Y3, Y3; \
	VMOVDQU    yo+4(DI), Y4; \
	MULSUM_U8(Y3, Y4, acc)

// MULSUM_I8 sets ys to the float32 sums of adjacent products of the signed
// bytes xs and ys (8 lanes of 4 products each). Clobbers xs and t.
// MULSUM_U8 adds d·Σ of the products of the unsigned bytes xs and the
// signed bytes ys (8 lanes) to acc, with d in Y1. Clobbers xs, Y5.
// AVX2: VPMADDUBSW pairs, VPMADDWD by ones; VNNI (AVX512_VNNI on YMM):
// one VPDPBUSD.

#define NAME_Q8_0 ·dotQ8_0AVX2
#define NAME_Q4_0 ·dotQ4_0AVX2
#define NAME_IQ4NL ·dotIQ4NLAVX2
#define NAME_Q5_0 ·dotQ5_0AVX2
#define NAME_Q4_1 ·dotQ4_1AVX2
#define NAME_Q5_1 ·dotQ5_1AVX2

#define MULSUM_I8(xs, ys, t) \
	VPSIGNB    xs, xs, t; \
	VPSIGNB    xs, ys, ys; \
	VPMADDUBSW ys, t, ys; \
	VPMADDWD   Y15, ys, ys; \
	VCVTDQ2PS  ys, ys

#define MULSUM_U8(xs, ys, acc) \
	VPMADDUBSW ys, xs, xs; \
	VPMADDWD   Y15, xs, xs; \
	VCVTDQ2PS  xs, xs; \
	VFMADD231PS xs, Y1, acc

#include "dot32_body.h"

#undef NAME_Q8_0
#undef NAME_Q4_0
#undef NAME_IQ4NL
#undef NAME_Q5_0
#undef NAME_Q4_1
#undef NAME_Q5_1
#undef MULSUM_I8
#undef MULSUM_U8

#define NAME_Q8_0 ·dotQ8_0VNNI
#define NAME_Q4_0 ·dotQ4_0VNNI
#define NAME_IQ4NL ·dotIQ4NLVNNI
#define NAME_Q5_0 ·dotQ5_0VNNI
#define NAME_Q4_1 ·dotQ4_1VNNI
#define NAME_Q5_1 ·dotQ5_1VNNI

#define MULSUM_I8(xs, ys, t) \
	VPSIGNB    xs, xs, t; \
	VPSIGNB    xs, ys, ys; \
	VPXOR      xs, xs, xs; \
	VPDPBUSD   ys, t, xs; \
	VCVTDQ2PS  xs, ys

#define MULSUM_U8(xs, ys, acc) \
	VPXOR      Y5, Y5, Y5; \
	VPDPBUSD   ys, xs, Y5; \
	VCVTDQ2PS  Y5, Y5; \
	VFMADD231PS Y5, Y1, acc

#include "dot32_body.h"
