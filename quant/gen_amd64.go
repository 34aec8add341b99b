//go:build ignore

// gen_amd64.go writes dotk_amd64.s (AVX2 dot products of the k-quants and
// IQ4_XS with Q8_K) and dequant_amd64.s (AVX2 dequantizers). The kernels
// are straight-line expansions of loops over sub-blocks; writing them out
// by program keeps the offsets right. Run with go generate (see
// arch_amd64.go); -dir writes elsewhere, to check that the committed files
// are up to date.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

type asm struct{ b strings.Builder }

func (a *asm) e(format string, args ...any) {
	fmt.Fprintf(&a.b, format, args...)
	a.b.WriteByte('\n')
}

// text writes one kernel: a prologue macro, setup lines, the loop body
// over blocks (x advances xb bytes, y yb bytes), and the return.
func (a *asm) text(name, ref, sig string, frame, args int, prologue string, pre, body []string, xb, yb int, epilogue []string) {
	a.e("// func %s%s (reference: %s)", name, sig, ref)
	a.e("TEXT ·%s(SB), NOSPLIT, $%d-%d", name, frame, args)
	a.e("\t%s", prologue)
	for _, l := range pre {
		a.e("\t%s", l)
	}
	lbl := strings.ToLower(name)
	a.e("%s_loop:", lbl)
	for _, l := range body {
		a.e("\t%s", l)
	}
	a.e("\tADDQ $%d, SI", xb)
	a.e("\tADDQ $%d, DI", yb)
	a.e("\tDECQ CX")
	a.e("\tJNZ  %s_loop", lbl)
	for _, l := range epilogue {
		a.e("\t%s", l)
	}
	a.e("\tRET")
	a.e("")
}

func f(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// k4Unpack64 is the same unpacking on 64-bit words (R11 = 0x3f…3f,
// R12 = 0x0f…0f, R13 = 0x30…30, see k4Consts): it leaves the 8 scale
// bytes in the low half of X6 and the 8 min bytes in its high half.
var k4Unpack64 = []string{
	"MOVQ 4(SI), AX", "MOVL 12(SI), BX",
	"MOVQ AX, R9", "ANDQ R11, R9",
	"MOVQ BX, R10", "SHRQ $4, R10", "SHLQ $32, R10", "ORQ BX, R10", "ANDQ R12, R10",
	"SHRQ $2, AX", "ANDQ R13, AX", "ORQ AX, R10",
	"VMOVQ R9, X6", "VPINSRQ $1, R10, X6, X6", "VPSHUFD $0xd8, X6, X6",
}

var k4Consts = []string{"MOVQ $0x3f3f3f3f3f3f3f3f, R11", "MOVQ $0x0f0f0f0f0f0f0f0f, R12", "MOVQ $0x3030303030303030, R13"}

// q3Unpack64 is ggml's kmask unpacking of the 16 six-bit Q3_K scales (12
// bytes at 96(SI)) on 64-bit words (R12 = 0x0f…0f, R13 = 0x03…03, see
// q3Consts); it leaves the 16 scales (0..63) as bytes in X4.
var q3Unpack64 = []string{
	"MOVQ 96(SI), AX", "MOVL 104(SI), BX",
	"MOVQ AX, R9", "ANDQ R12, R9", "SHRQ $4, AX", "ANDQ R12, AX",
	"MOVQ BX, R10", "SHRQ $2, R10", "SHLQ $32, R10", "ORQ BX, R10",
	"MOVQ R10, DX", "ANDQ R13, R10", "SHLQ $4, R10", "ORQ R10, R9",
	"SHRQ $4, DX", "ANDQ R13, DX", "SHLQ $4, DX", "ORQ DX, AX",
	"VMOVQ R9, X4", "VPINSRQ $1, AX, X4, X4",
}

var q3Consts = []string{"MOVQ $0x0f0f0f0f0f0f0f0f, R12", "MOVQ $0x0303030303030303, R13"}

// iq4xsPDEP assembles the 8 IQ4_XS sub-block scales ls (0..63) as bytes
// in X4: PDEP spreads the nibbles of scales_l and the bit pairs of
// scales_h one per byte (R11 = 0x0f…0f, R12 = 0x03…03, see iq4xsConsts).
var iq4xsPDEP = []string{
	"MOVL 4(SI), AX", "PDEPQ R11, AX, AX",
	"MOVWLZX 2(SI), BX", "PDEPQ R12, BX, BX", "SHLQ $4, BX", "ORQ BX, AX",
	"VMOVQ AX, X4",
}

var iq4xsConsts = []string{"MOVQ $0x0f0f0f0f0f0f0f0f, R11", "MOVQ $0x0303030303030303, R12"}

func dotK() string {
	var a asm
	a.e(header + `
// AVX2 dot products of ggml's k-quants and IQ4_XS with Q8_K activations.
// The Go reference for each TEXT symbol is the function named in its
// comment (dot.go). Every kernel is func(x, y *byte, nb int) float32 with
// nb ≥ 1 super-blocks of 256. Registers: SI = x, DI = y, CX = blocks left,
// R8 = ·f16Table; Y0 = float accumulator, Y8 = accumulator of the min
// terms (subtracted at the end), Y9 = integer sum of the block. Scratch
// scales live on the stack frame.

#include "textflag.h"

DATA kconst<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA kconst<>+8(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA kconst<>+16(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA kconst<>+24(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA kconst<>+32(SB)/8, $0x0303030303030303
DATA kconst<>+40(SB)/8, $0x0303030303030303
DATA kconst<>+48(SB)/8, $0x0303030303030303
DATA kconst<>+56(SB)/8, $0x0303030303030303
DATA kconst<>+64(SB)/8, $0x3030303030303030
DATA kconst<>+72(SB)/8, $0x3030303030303030
DATA kconst<>+80(SB)/8, $0x3030303030303030
DATA kconst<>+88(SB)/8, $0x3030303030303030
DATA kconst<>+96(SB)/8, $0x0100010001000100
DATA kconst<>+104(SB)/8, $0x0100010001000100
DATA kconst<>+112(SB)/8, $0x0302030203020302
DATA kconst<>+120(SB)/8, $0x0302030203020302
DATA kconst<>+128(SB)/8, $0x1010101010101010
DATA kconst<>+136(SB)/8, $0x1010101010101010
DATA kconst<>+144(SB)/8, $0x1010101010101010
DATA kconst<>+152(SB)/8, $0x1010101010101010
DATA kconst<>+160(SB)/8, $0x0101010101010101
DATA kconst<>+168(SB)/8, $0x0101010101010101
DATA kconst<>+176(SB)/8, $0x0101010101010101
DATA kconst<>+184(SB)/8, $0x0101010101010101
DATA kconst<>+192(SB)/8, $0x0404040404040404
DATA kconst<>+200(SB)/8, $0x0404040404040404
DATA kconst<>+208(SB)/8, $0x0404040404040404
DATA kconst<>+216(SB)/8, $0x0404040404040404
DATA kconst<>+224(SB)/8, $0xf6eaddcfbfad9881
DATA kconst<>+232(SB)/8, $0x7159453526190d01
DATA kconst<>+240(SB)/8, $0xf6eaddcfbfad9881
DATA kconst<>+248(SB)/8, $0x7159453526190d01
DATA kconst<>+256(SB)/8, $0x2020202020202020
DATA kconst<>+264(SB)/8, $0x2020202020202020
GLOBL kconst<>(SB), RODATA|NOPTR, $272

// Offsets in kconst: 0 = 0x0F bytes, 32 = 0x03, 64 = 0x30, 96 = word-pair
// shuffle (bytes 0,1 repeated in the low lane, 2,3 in the high lane),
// 128 = 0x10, 160 = 0x01, 192 = 0x04, 224 = kvalues_iq4nl (both lanes),
// 256 = 0x20 (16 bytes).

// PAIRSCALE sets Ys to 16-bit scale a (words 0-7) and b (words 8-15), the
// words at off(SP) and off+2(SP).
#define PAIRSCALE(off, Ys) \
	VPBROADCASTD off(SP), Ys; \
	VPSHUFB      Y12, Ys, Ys

// HSUM_K sums Y0's lanes, subtracts the sum of Y8's lanes and leaves the
// result in X0.
#define HSUM_K \
	VSUBPS       Y8, Y0, Y0; \
	VEXTRACTF128 $1, Y0, X1; \
	VADDPS       X1, X0, X0; \
	VMOVHLPS     X0, X0, X1; \
	VADDPS       X1, X0, X0; \
	VMOVSHDUP    X0, X1; \
	VADDSS       X1, X0, X0; \
	VZEROUPPER

#define PROLOGUE_K \
	MOVQ         x+0(FP), SI; \
	MOVQ         y+8(FP), DI; \
	MOVQ         nb+16(FP), CX; \
	LEAQ         ·f16Table(SB), R8; \
	VMOVDQU      kconst<>+0(SB), Y14; \
	VMOVDQU      kconst<>+96(SB), Y12; \
	VXORPS       Y0, Y0, Y0; \
	VXORPS       Y8, Y8, Y8

// DSCALE broadcasts y.d · f16(x half at xoff(SI)) into Yd.
#define DSCALE(xoff, Xd, Yd) \
	MOVWLZX      xoff(SI), AX; \
	VMOVSS       (R8)(AX*4), Xd; \
	VMULSS       (DI), Xd, Xd; \
	VBROADCASTSS Xd, Yd
`)
	const sig = "(x, y *byte, nb int) float32"
	epi := []string{"HSUM_K", "MOVSS X0, ret+24(FP)"}
	text := func(name, ref string, frame int, pre, body []string, xb int) {
		a.text(name, ref, sig, frame, 28, "PROLOGUE_K", pre, body, xb, 292, epi)
	}

	// Q4_K and Q5_K
	for _, q5 := range []bool{false, true} {
		L := append([]string{"// scales and mins (ggml's utmp unpacking, on 64 bits)"}, k4Unpack64...)
		L = append(L,
			"// scales as words in both lanes of Y7, at 16(SP)",
			"VPMOVZXBW X6, X7", "VMOVDQU X7, 16(SP)",
			"DSCALE(0, X2, Y2)", "DSCALE(2, X3, Y3)",
			"// min terms: Σ m_j·(bsums[2j]+bsums[2j+1]), with each min repeated for its two bsums",
			"VPSRLDQ $8, X6, X5", "VPUNPCKLBW X5, X5, X5", "VPMOVZXBW X5, Y5", "VPMADDWD 260(DI), Y5, Y5",
			"VCVTDQ2PS Y5, Y5", "VFMADD231PS Y5, Y3, Y8",
			"VPXOR Y9, Y9, Y9")
		qs := 16
		if q5 {
			L = append(L, "VMOVDQU 16(SI), Y10")
			qs = 48
		}
		for j := 0; j < 4; j++ {
			L = append(L, f("VMOVDQU %d(SI), Y4", qs+32*j), "VPSRLW $4, Y4, Y5", "VPAND Y14, Y4, Y4", "VPAND Y14, Y5, Y5")
			if q5 {
				// fifth bits: bit 2j (low half) and 2j+1 (high half) of qh, moved to bit 4
				for h, dst := range []string{"Y6", "Y7"} {
					sh := 4 - (2*j + h)
					switch {
					case sh > 0:
						L = append(L, f("VPSLLW $%d, Y10, %s", sh, dst))
					case sh < 0:
						L = append(L, f("VPSRLW $%d, Y10, %s", -sh, dst))
					default:
						L = append(L, f("VMOVDQU Y10, %s", dst))
					}
					L = append(L, f("VPAND Y13, %s, %s", dst, dst), f("VPOR %s, Y%d, Y%d", dst, 4+h, 4+h))
				}
			}
			L = append(L, f("VPMADDUBSW %d(DI), Y4, Y4", 4+64*j), f("VPMADDUBSW %d(DI), Y5, Y5", 36+64*j),
				f("VPBROADCASTW %d(SP), Y6", 16+4*j), f("VPBROADCASTW %d(SP), Y7", 18+4*j),
				"VPMADDWD Y6, Y4, Y4", "VPMADDWD Y7, Y5, Y5", "VPADDD Y4, Y9, Y9", "VPADDD Y5, Y9, Y9")
		}
		L = append(L, "VCVTDQ2PS Y9, Y9", "VFMADD231PS Y9, Y2, Y0")
		pre := k4Consts
		if q5 {
			text("dotQ5KAVX2", "dotQ5KQ8K", 32, append([]string{"VMOVDQU kconst<>+128(SB), Y13"}, pre...), L, 176)
		} else {
			text("dotQ4KAVX2", "dotQ4KQ8K", 32, pre, L, 144)
		}
	}

	// Q6_K
	L := []string{"DSCALE(208, X2, Y2)", "VPMOVSXBW 192(SI), Y7", "VMOVDQU Y7, 0(SP)",
		"// the -32 offset of every code: sumi starts at -32·Σ sc_j·bsums_j",
		"VPMADDWD 260(DI), Y7, Y7", "VPSLLD $5, Y7, Y7", "VPXOR Y9, Y9, Y9", "VPSUBD Y7, Y9, Y9"}
	for h := 0; h < 2; h++ {
		L = append(L, f("VMOVDQU %d(SI), Y1", 64*h), f("VMOVDQU %d(SI), Y3", 64*h+32), f("VMOVDQU %d(SI), Y10", 128+32*h))
		for k := 0; k < 4; k++ {
			src := "Y1"
			if k%2 == 1 {
				src = "Y3"
			}
			if k < 2 {
				L = append(L, f("VPAND Y14, %s, Y4", src))
			} else {
				L = append(L, f("VPSRLW $4, %s, Y4", src), "VPAND Y14, Y4, Y4")
			}
			switch sh := 4 - 2*k; {
			case sh > 0:
				L = append(L, f("VPSLLW $%d, Y10, Y5", sh), "VPAND Y13, Y5, Y5")
			case sh == 0:
				L = append(L, "VPAND Y13, Y10, Y5")
			default:
				L = append(L, f("VPSRLW $%d, Y10, Y5", -sh), "VPAND Y13, Y5, Y5")
			}
			L = append(L, "VPOR Y5, Y4, Y4", f("VPMADDUBSW %d(DI), Y4, Y4", 4+128*h+32*k),
				f("PAIRSCALE(%d, Y6)", 2*(8*h+2*k)), "VPMADDWD Y6, Y4, Y4", "VPADDD Y4, Y9, Y9")
		}
	}
	L = append(L, "VCVTDQ2PS Y9, Y9", "VFMADD231PS Y9, Y2, Y0")
	text("dotQ6KAVX2", "dotQ6KQ8K", 32, []string{"VMOVDQU kconst<>+64(SB), Y13"}, L, 210)

	// Q2_K
	L = []string{"DSCALE(80, X2, Y2)", "DSCALE(82, X3, Y3)",
		"VMOVDQU 0(SI), X4", "VPAND X14, X4, X5", "VPSRLW $4, X4, X6", "VPAND X14, X6, X6",
		"VPMOVZXBW X6, Y6", "VPMADDWD 260(DI), Y6, Y6", "VCVTDQ2PS Y6, Y6", "VFMADD231PS Y6, Y3, Y8",
		"VPMOVZXBW X5, Y5", "VMOVDQU Y5, 0(SP)", "VPXOR Y9, Y9, Y9"}
	for h := 0; h < 2; h++ {
		L = append(L, f("VMOVDQU %d(SI), Y10", 16+32*h))
		for s := 0; s < 4; s++ {
			if s == 0 {
				L = append(L, "VPAND Y13, Y10, Y4")
			} else {
				L = append(L, f("VPSRLW $%d, Y10, Y4", 2*s), "VPAND Y13, Y4, Y4")
			}
			L = append(L, f("VPMADDUBSW %d(DI), Y4, Y4", 4+128*h+32*s), f("PAIRSCALE(%d, Y6)", 2*(8*h+2*s)),
				"VPMADDWD Y6, Y4, Y4", "VPADDD Y4, Y9, Y9")
		}
	}
	L = append(L, "VCVTDQ2PS Y9, Y9", "VFMADD231PS Y9, Y2, Y0")
	text("dotQ2KAVX2", "dotQ2KQ8K", 32, []string{"VMOVDQU kconst<>+32(SB), Y13"}, L, 84)

	// Q3_K
	L = append([]string{"DSCALE(108, X2, Y2)", "// 16 six-bit scales (ggml's kmask unpacking) minus 32 as words at 0(SP)"}, q3Unpack64...)
	L = append(L, "VPSUBB X15, X4, X4", "VPMOVSXBW X4, Y4", "VMOVDQU Y4, 0(SP)",
		"VMOVDQU 0(SI), Y10", "VPXOR Y9, Y9, Y9")
	for h := 0; h < 2; h++ {
		L = append(L, f("VMOVDQU %d(SI), Y1", 32+32*h))
		for s := 0; s < 4; s++ {
			m := 4*h + s
			if s == 0 {
				L = append(L, "VPAND Y13, Y1, Y4")
			} else {
				L = append(L, f("VPSRLW $%d, Y1, Y4", 2*s), "VPAND Y13, Y4, Y4")
			}
			if m == 0 {
				L = append(L, "VPAND Y11, Y10, Y5")
			} else {
				L = append(L, f("VPSLLW $%d, Y11, Y5", m), "VPAND Y10, Y5, Y5")
			}
			L = append(L, "VPCMPEQB Y7, Y5, Y5", "VPAND Y3, Y5, Y5",
				f("VMOVDQU %d(DI), Y6", 4+128*h+32*s),
				"VPMADDUBSW Y6, Y4, Y4", "VPMADDUBSW Y6, Y5, Y5", "VPSUBW Y5, Y4, Y4",
				f("PAIRSCALE(%d, Y6)", 2*(8*h+2*s)), "VPMADDWD Y6, Y4, Y4", "VPADDD Y4, Y9, Y9")
		}
	}
	L = append(L, "VCVTDQ2PS Y9, Y9", "VFMADD231PS Y9, Y2, Y0")
	text("dotQ3KAVX2", "dotQ3KQ8K", 32, append([]string{"VMOVDQU kconst<>+32(SB), Y13", "VMOVDQU kconst<>+160(SB), Y11",
		"VMOVDQU kconst<>+192(SB), Y3", "VPXOR Y7, Y7, Y7", "VMOVDQU kconst<>+256(SB), X15"}, q3Consts...), L, 110)

	// IQ4_XS
	L = append([]string{"DSCALE(0, X2, Y2)", "// the 8 sub-block scales ls-32 as words at 0(SP)"}, iq4xsPDEP...)
	L = append(L, "VPMOVZXBW X4, X4", "VPSUBW X15, X4, X4", "VMOVDQU X4, 0(SP)", "VPXOR Y9, Y9, Y9")
	for ib := 0; ib < 8; ib++ {
		L = append(L, f("VMOVDQU %d(SI), X4", 8+16*ib), "VPSRLW $4, X4, X5", "VINSERTI128 $1, X5, Y4, Y4", "VPAND Y14, Y4, Y4",
			"VPSHUFB Y4, Y13, Y4", f("VMOVDQU %d(DI), Y5", 4+32*ib),
			"VPSIGNB Y4, Y4, Y6", "VPSIGNB Y4, Y5, Y5", "VPMADDUBSW Y5, Y6, Y5",
			f("VPBROADCASTW %d(SP), Y7", 2*ib), "VPMADDWD Y7, Y5, Y5", "VPADDD Y5, Y9, Y9")
	}
	L = append(L, "VCVTDQ2PS Y9, Y9", "VFMADD231PS Y9, Y2, Y0")
	text("dotIQ4XSAVX2", "iq4XSSum", 16, append([]string{"VMOVDQU kconst<>+224(SB), Y13", "MOVL $32, AX", "VMOVQ AX, X15", "VPBROADCASTW X15, X15"}, iq4xsConsts...), L, 136)
	return a.b.String()
}

func dequant() string {
	var a asm
	a.e(header + `
// AVX2 dequantization kernels. Each is func(y *float32, x *byte, nb int)
// and writes nb blocks. The Go reference for each is the dequantize
// function named in its comment (legacy.go, kquants.go, iq4.go); tests
// require bit-identical output. Every product of a code and a scale that
// ggml rounds is rounded here in the same order (Q6_K and IQ4_XS multiply
// a combined sub-block scale by the code); the others are exact, so an FMA
// gives the same result as ggml's separate multiply and add.
// Registers: DI = y, SI = x, CX = blocks left, R8 = ·f16Table.

#include "textflag.h"

DATA dconst<>+0(SB)/4, $0x0000000f
DATA dconst<>+4(SB)/4, $0x00000008
DATA dconst<>+8(SB)/4, $0x00000010
DATA dconst<>+12(SB)/4, $0x00000001
DATA dconst<>+16(SB)/4, $0x00000003
DATA dconst<>+20(SB)/4, $0x00000020
DATA dconst<>+24(SB)/4, $0x00000004
DATA dconst<>+28(SB)/4, $0x00000000
DATA dconst<>+32(SB)/4, $0
DATA dconst<>+36(SB)/4, $1
DATA dconst<>+40(SB)/4, $2
DATA dconst<>+44(SB)/4, $3
DATA dconst<>+48(SB)/4, $4
DATA dconst<>+52(SB)/4, $5
DATA dconst<>+56(SB)/4, $6
DATA dconst<>+60(SB)/4, $7
DATA dconst<>+64(SB)/8, $0xf6eaddcfbfad9881
DATA dconst<>+72(SB)/8, $0x7159453526190d01
DATA dconst<>+80(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA dconst<>+88(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL dconst<>(SB), RODATA|NOPTR, $96

// dconst: dwords 0x0F, 8, 0x10, 1, 3, 32, 4 at 0..24 (broadcast them),
// 0..7 at 32 (bit shifts), kvalues_iq4nl at 64, 16 bytes of 0x0F at 80.

#define PROLOGUE_D \
	MOVQ y+0(FP), DI; \
	MOVQ x+8(FP), SI; \
	MOVQ nb+16(FP), CX; \
	LEAQ ·f16Table(SB), R8; \
	VPBROADCASTD dconst<>+0(SB), Y14

// HALF broadcasts the float32 of the half at off(SI) into Yd.
#define HALF(off, Yd) \
	MOVWLZX off(SI), AX; \
	VBROADCASTSS (R8)(AX*4), Yd
`)
	const sig = "(y *float32, x *byte, nb int)"
	text := func(name, ref string, frame int, pre, body []string, xb, yb int) {
		a.text(name, ref, sig, frame, 24, "PROLOGUE_D", pre, body, xb, yb, []string{"VZEROUPPER"})
	}

	// Q8_0
	L := []string{"HALF(0, Y1)"}
	for k := 0; k < 4; k++ {
		L = append(L, f("VPMOVSXBD %d(SI), Y2", 2+8*k), "VCVTDQ2PS Y2, Y2", "VMULPS Y1, Y2, Y2", f("VMOVUPS Y2, %d(DI)", 32*k))
	}
	text("dequantQ8_0AVX2", "dequantizeQ8_0", 0, nil, L, 34, 128)

	// nib32 covers the 32 nibbles at qoff(SI): elements 0-7 and 16-23 come
	// from bytes 0-7, 8-15 and 24-31 from bytes 8-15.
	nib32 := func(qoff int, emit func(r string, off int) []string) []string {
		var L []string
		for half := 0; half < 2; half++ {
			L = append(L, f("VPMOVZXBD %d(SI), Y2", qoff+8*half), "VPAND Y14, Y2, Y3", "VPSRLD $4, Y2, Y4")
			L = append(L, emit("Y3", 4*(8*half))...)
			L = append(L, emit("Y4", 4*(16+8*half))...)
		}
		return L
	}
	L = append([]string{"HALF(0, Y1)"}, nib32(2, func(r string, off int) []string {
		return []string{f("VPSUBD Y13, %s, %s", r, r), f("VCVTDQ2PS %s, %s", r, r), f("VMULPS Y1, %s, %s", r, r), f("VMOVUPS %s, %d(DI)", r, off)}
	})...)
	text("dequantQ4_0AVX2", "dequantizeQ4_0", 0, []string{"VPBROADCASTD dconst<>+4(SB), Y13"}, L, 18, 128)
	L = append([]string{"HALF(0, Y1)", "HALF(2, Y12)"}, nib32(4, func(r string, off int) []string {
		return []string{f("VCVTDQ2PS %s, %s", r, r), f("VFMADD213PS Y12, Y1, %s", r), f("VMOVUPS %s, %d(DI)", r, off)}
	})...)
	text("dequantQ4_1AVX2", "dequantizeQ4_1", 0, nil, L, 20, 128)

	// iq4Bytes expands the 16 bytes of nibbles at off(SI) into the 32 table
	// values as floats times Y1, stored from element base.
	iq4Bytes := func(off, base int) []string {
		L := []string{f("VMOVDQU %d(SI), X2", off), "VPAND X13, X2, X3", "VPSRLW $4, X2, X4", "VPAND X13, X4, X4",
			"VPSHUFB X3, X12, X3", "VPSHUFB X4, X12, X4"}
		for _, rb := range []struct {
			reg  string
			base int
		}{{"X3", 0}, {"X4", 16}} {
			for k := 0; k < 2; k++ {
				src := rb.reg
				if k == 1 {
					L = append(L, f("VPSRLDQ $8, %s, X5", rb.reg))
					src = "X5"
				}
				L = append(L, f("VPMOVSXBD %s, Y6", src), "VCVTDQ2PS Y6, Y6", "VMULPS Y6, Y1, Y6", f("VMOVUPS Y6, %d(DI)", 4*(base+rb.base+8*k)))
			}
		}
		return L
	}
	iq4Pre := []string{"VMOVDQU dconst<>+64(SB), X12", "VMOVDQU dconst<>+80(SB), X13"}
	text("dequantIQ4NLAVX2", "dequantizeIQ4NL", 0, iq4Pre, append([]string{"HALF(0, Y1)"}, iq4Bytes(2, 0)...), 18, 128)

	// Q5_0 and Q5_1: bit j of the u32 qh is the fifth bit of element j.
	q5 := func(qhoff, qoff int, signed bool) []string {
		L := []string{"HALF(0, Y1)"}
		if !signed {
			L = append(L, "HALF(2, Y12)")
		}
		L = append(L, f("VPBROADCASTD %d(SI), Y9", qhoff))
		for half := 0; half < 2; half++ {
			L = append(L, f("VPMOVZXBD %d(SI), Y2", qoff+8*half), "VPAND Y14, Y2, Y3", "VPSRLD $4, Y2, Y4")
			for _, re := range []struct {
				r  string
				el int
			}{{"Y3", 8 * half}, {"Y4", 16 + 8*half}} {
				if re.el > 0 {
					L = append(L, f("VPSRLD $%d, Y9, Y5", re.el))
				} else {
					L = append(L, "VMOVDQU Y9, Y5")
				}
				L = append(L, "VPSRLVD Y11, Y5, Y5", "VPAND Y10, Y5, Y5", "VPSLLD $4, Y5, Y5", f("VPOR Y5, %s, %s", re.r, re.r))
				if signed {
					L = append(L, f("VPSUBD Y13, %s, %s", re.r, re.r), f("VCVTDQ2PS %s, %s", re.r, re.r), f("VMULPS Y1, %s, %s", re.r, re.r))
				} else {
					L = append(L, f("VCVTDQ2PS %s, %s", re.r, re.r), f("VFMADD213PS Y12, Y1, %s", re.r))
				}
				L = append(L, f("VMOVUPS %s, %d(DI)", re.r, 4*re.el))
			}
		}
		return L
	}
	q5Pre := []string{"VMOVDQU dconst<>+32(SB), Y11", "VPBROADCASTD dconst<>+12(SB), Y10", "VPBROADCASTD dconst<>+8(SB), Y13"}
	text("dequantQ5_0AVX2", "dequantizeQ5_0", 0, q5Pre, q5(2, 6, true), 22, 128)
	text("dequantQ5_1AVX2", "dequantizeQ5_1", 0, q5Pre, q5(4, 8, false), 24, 128)

	// Q4_K and Q5_K: d·sc at 16(SP), dmin·m at 48(SP) (exact products).
	for _, isQ5 := range []bool{false, true} {
		L := append(append([]string{}, k4Unpack64...),
			"// d·sc at 16(SP), dmin·m at 48(SP) (exact products)",
			"HALF(0, Y1)", "HALF(2, Y2)",
			"VPMOVZXBD X6, Y3", "VCVTDQ2PS Y3, Y3", "VMULPS Y1, Y3, Y3", "VMOVUPS Y3, 16(SP)",
			"VPSRLDQ $8, X6, X6", "VPMOVZXBD X6, Y3", "VCVTDQ2PS Y3, Y3", "VMULPS Y2, Y3, Y3", "VMOVUPS Y3, 48(SP)")
		qs := 16
		if isQ5 {
			qs = 48
		}
		for j := 0; j < 4; j++ {
			for sub := 0; sub < 2; sub++ { // low nibbles: sub-block 2j; high: 2j+1
				s := 2*j + sub
				L = append(L, f("VBROADCASTSS %d(SP), Y5", 16+4*s), f("VBROADCASTSS %d(SP), Y6", 48+4*s))
				for g := 0; g < 4; g++ {
					L = append(L, f("VPMOVZXBD %d(SI), Y2", qs+32*j+8*g))
					if sub == 0 {
						L = append(L, "VPAND Y14, Y2, Y2")
					} else {
						L = append(L, "VPSRLD $4, Y2, Y2")
					}
					if isQ5 {
						L = append(L, f("VPMOVZXBD %d(SI), Y3", 16+8*g))
						if s > 0 {
							L = append(L, f("VPSRLD $%d, Y3, Y3", s))
						}
						L = append(L, "VPAND Y10, Y3, Y3", "VPSLLD $4, Y3, Y3", "VPOR Y3, Y2, Y2")
					}
					L = append(L, "VCVTDQ2PS Y2, Y2", "VFMSUB213PS Y6, Y5, Y2", f("VMOVUPS Y2, %d(DI)", 4*(64*j+32*sub+8*g)))
				}
			}
		}
		if isQ5 {
			text("dequantQ5KAVX2", "dequantizeQ5K", 80, append([]string{"VPBROADCASTD dconst<>+12(SB), Y10"}, k4Consts...), L, 176, 1024)
		} else {
			text("dequantQ4KAVX2", "dequantizeQ4K", 80, k4Consts, L, 144, 1024)
		}
	}

	// Q6_K: d·sc as floats at 0(SP).
	L = []string{"HALF(208, Y1)", "VPMOVSXBD 192(SI), Y2", "VCVTDQ2PS Y2, Y2", "VMULPS Y1, Y2, Y2", "VMOVUPS Y2, 0(SP)",
		"VPMOVSXBD 200(SI), Y2", "VCVTDQ2PS Y2, Y2", "VMULPS Y1, Y2, Y2", "VMOVUPS Y2, 32(SP)"}
	for h := 0; h < 2; h++ {
		for g := 0; g < 4; g++ { // l = 8g .. 8g+7
			l := 8 * g
			L = append(L, f("VPMOVZXBD %d(SI), Y2", 64*h+l), f("VPMOVZXBD %d(SI), Y3", 64*h+32+l), f("VPMOVZXBD %d(SI), Y4", 128+32*h+l))
			for k := 0; k < 4; k++ {
				src := "Y2"
				if k%2 == 1 {
					src = "Y3"
				}
				if k < 2 {
					L = append(L, f("VPAND Y14, %s, Y5", src))
				} else {
					L = append(L, f("VPSRLD $4, %s, Y5", src))
				}
				if k == 0 {
					L = append(L, "VPAND Y12, Y4, Y6")
				} else {
					L = append(L, f("VPSRLD $%d, Y4, Y6", 2*k), "VPAND Y12, Y6, Y6")
				}
				L = append(L, "VPSLLD $4, Y6, Y6", "VPOR Y6, Y5, Y5", "VPSUBD Y13, Y5, Y5", "VCVTDQ2PS Y5, Y5",
					f("VBROADCASTSS %d(SP), Y7", 4*(8*h+l/16+2*k)),
					"VMULPS Y5, Y7, Y5", f("VMOVUPS Y5, %d(DI)", 4*(128*h+32*k+l)))
			}
		}
	}
	text("dequantQ6KAVX2", "dequantizeQ6K", 64, []string{"VPBROADCASTD dconst<>+16(SB), Y12", "VPBROADCASTD dconst<>+20(SB), Y13"}, L, 210, 1024)

	// Q2_K: d·(sc&15) at 0(SP), dmin·(sc>>4) at 64(SP).
	L = []string{"HALF(80, Y1)", "HALF(82, Y2)", "VPMOVZXBD 0(SI), Y3", "VPMOVZXBD 8(SI), Y4"}
	for _, ro := range []struct {
		r   string
		off int
	}{{"Y3", 0}, {"Y4", 32}} {
		L = append(L, f("VPAND Y14, %s, Y5", ro.r), "VCVTDQ2PS Y5, Y5", "VMULPS Y1, Y5, Y5", f("VMOVUPS Y5, %d(SP)", ro.off),
			f("VPSRLD $4, %s, Y5", ro.r), "VCVTDQ2PS Y5, Y5", "VMULPS Y2, Y5, Y5", f("VMOVUPS Y5, %d(SP)", 64+ro.off))
	}
	for h := 0; h < 2; h++ {
		for s := 0; s < 4; s++ {
			for part := 0; part < 2; part++ { // q[l], then q[l+16]
				sb := 8*h + 2*s + part
				L = append(L, f("VBROADCASTSS %d(SP), Y5", 4*sb), f("VBROADCASTSS %d(SP), Y6", 64+4*sb))
				for g := 0; g < 2; g++ {
					L = append(L, f("VPMOVZXBD %d(SI), Y2", 16+32*h+16*part+8*g))
					if s > 0 {
						L = append(L, f("VPSRLD $%d, Y2, Y2", 2*s))
					}
					L = append(L, "VPAND Y12, Y2, Y2", "VCVTDQ2PS Y2, Y2", "VFMSUB213PS Y6, Y5, Y2", f("VMOVUPS Y2, %d(DI)", 4*(16*sb+8*g)))
				}
			}
		}
	}
	text("dequantQ2KAVX2", "dequantizeQ2K", 128, []string{"VPBROADCASTD dconst<>+16(SB), Y12"}, L, 84, 1024)

	// Q3_K: d·(scale-32) at 0(SP).
	L = append([]string{"HALF(108, Y1)"}, q3Unpack64...)
	L = append(L, "VPMOVZXBD X4, Y2", "VPSUBD Y11, Y2, Y2", "VCVTDQ2PS Y2, Y2", "VMULPS Y1, Y2, Y2", "VMOVUPS Y2, 0(SP)",
		"VPSRLDQ $8, X4, X4", "VPMOVZXBD X4, Y2", "VPSUBD Y11, Y2, Y2", "VCVTDQ2PS Y2, Y2", "VMULPS Y1, Y2, Y2", "VMOVUPS Y2, 32(SP)")
	for h := 0; h < 2; h++ {
		for s := 0; s < 4; s++ {
			m := 4*h + s
			for part := 0; part < 2; part++ {
				sb := 8*h + 2*s + part
				L = append(L, f("VBROADCASTSS %d(SP), Y5", 4*sb))
				for g := 0; g < 2; g++ {
					L = append(L, f("VPMOVZXBD %d(SI), Y2", 32+32*h+16*part+8*g))
					if s > 0 {
						L = append(L, f("VPSRLD $%d, Y2, Y2", 2*s))
					}
					L = append(L, "VPAND Y12, Y2, Y2", f("VPMOVZXBD %d(SI), Y3", 16*part+8*g))
					if m > 0 {
						L = append(L, f("VPSRLD $%d, Y3, Y3", m))
					}
					// q − 4 + 4·bit
					L = append(L, "VPAND Y10, Y3, Y3", "VPSLLD $2, Y3, Y3", "VPADDD Y3, Y2, Y2", "VPSUBD Y9, Y2, Y2",
						"VCVTDQ2PS Y2, Y2", "VMULPS Y2, Y5, Y2", f("VMOVUPS Y2, %d(DI)", 4*(16*sb+8*g)))
				}
			}
		}
	}
	text("dequantQ3KAVX2", "dequantizeQ3K", 64, append([]string{"VPBROADCASTD dconst<>+16(SB), Y12", "VPBROADCASTD dconst<>+12(SB), Y10",
		"VPBROADCASTD dconst<>+24(SB), Y9", "VPBROADCASTD dconst<>+20(SB), Y11"}, q3Consts...), L, 110, 1024)

	// IQ4_XS: d·(ls-32) as floats at 0(SP).
	L = append([]string{"HALF(0, Y1)"}, iq4xsPDEP...)
	L = append(L, "VPMOVZXBD X4, Y2", "VPSUBD Y11, Y2, Y2", "VCVTDQ2PS Y2, Y2", "VMULPS Y1, Y2, Y2", "VMOVUPS Y2, 0(SP)")
	for ib := 0; ib < 8; ib++ {
		L = append(L, f("VBROADCASTSS %d(SP), Y1", 4*ib))
		L = append(L, iq4Bytes(8+16*ib, 32*ib)...)
	}
	text("dequantIQ4XSAVX2", "dequantizeIQ4XS", 32, append(append([]string{"VPBROADCASTD dconst<>+20(SB), Y11"}, iq4Pre...), iq4xsConsts...), L, 136, 1024)
	return a.b.String()
}

const header = `// Code generated by gen_amd64.go; DO NOT EDIT.

//go:build amd64 && !noasm && !purego
`

func main() {
	dir := flag.String("dir", ".", "directory to write dotk_amd64.s and dequant_amd64.s to")
	flag.Parse()
	for name, src := range map[string]string{"dotk_amd64.s": dotK(), "dequant_amd64.s": dequant()} {
		if err := os.WriteFile(filepath.Join(*dir, name), []byte(src), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
