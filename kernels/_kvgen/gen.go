// Command kvgen writes kernels/kv_amd64.s and kernels/kv_amd64_decl.go: the
// AVX2 and AVX-512 row kernels of package kernels that read a quantized
// KV cache directly (RowDots and RowWeightedSum: FP8 E4M3, Q8_0, Q4_0,
// Q4_1, Q2_1 and the KIVI code rows U4 and U2; weighted sums over F16 and
// BF16). Run it from the kernels folder with `go generate`; the go tool
// ignores this folder (its name starts with "_"), and it imports only the
// standard library.
//
// Every kernel has a pure-Go reference in kernels/kvref.go, which the
// tests compare it against.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"log"
	"os"
	"strings"
)

type isa struct {
	name string // Go suffix
	vw   int    // float32 lanes per vector
	reg  string // "Z" or "Y"
	zero string
	and  string // integer AND
	big  bool   // AVX-512: 32 registers, constants in registers
}

var (
	avx512 = isa{name: "AVX512", vw: 16, reg: "Z", zero: "VPXORD", and: "VPANDD", big: true}
	avx2   = isa{name: "AVX2", vw: 8, reg: "Y", zero: "VXORPS", and: "VPAND"}
)

// A row format: its name, bytes per block of 32 elements, where its codes
// start in a block, and whether the block has a scale d (f16 at 0) and an
// offset m (f16 at 2).
type rowFmt struct {
	name     string
	bb       int
	qs       int
	scale    bool
	min      bool
	fp8      bool // E4M3: one byte per element, results ×256
	nibble   bool // 4-bit codes in Q4_0's order
	twobit   bool // 2-bit codes in Q2_1's order
	minus8   bool // Q4_0: codes − 8
	perVec   bool // decoded per vector (F32, F16, BF16, E4M3 sums)
	elemSize int  // bytes per element of perVec formats
	affine   bool // KIVI keys: x = code·s[i] + m[i], per-channel halves in par
}

var (
	fE4M3 = rowFmt{name: "E4M3", bb: 32, fp8: true, elemSize: 1}
	fQ8_0 = rowFmt{name: "Q8_0", bb: 34, qs: 2, scale: true}
	fQ4_0 = rowFmt{name: "Q4_0", bb: 18, qs: 2, scale: true, nibble: true, minus8: true}
	fQ4_1 = rowFmt{name: "Q4_1", bb: 20, qs: 4, scale: true, min: true, nibble: true}
	fQ2_1 = rowFmt{name: "Q2_1", bb: 12, qs: 4, scale: true, min: true, twobit: true}
	fU4   = rowFmt{name: "U4", bb: 16, nibble: true}
	fU2   = rowFmt{name: "U2", bb: 8, twobit: true}
	fU4A  = rowFmt{name: "U4A", bb: 16, nibble: true, affine: true}
	fU2A  = rowFmt{name: "U2A", bb: 8, twobit: true, affine: true}
	fF32  = rowFmt{name: "F32", perVec: true, elemSize: 4}
	fF16  = rowFmt{name: "F16", perVec: true, elemSize: 2}
	fBF16 = rowFmt{name: "BF16", perVec: true, elemSize: 2}
	fE4V  = rowFmt{name: "E4M3", perVec: true, fp8: true, elemSize: 1}
)

// Constants (kvc<>): offsets of 32-byte rows.
const (
	cMaskF   = 0   // int32 15
	cEight   = 32  // int32 8
	cBFFF    = 64  // int16 0xBFFF
	cThree   = 96  // int32 3
	c256     = 128 // float32 256
	cShiftLo = 160 // int32 0 ×8, 2 ×8 (64 bytes)
	cShiftHi = 224 // int32 4 ×8, 6 ×8 (64 bytes)
	cSize    = 288
)

// AVX-512 constant registers.
const (
	zMaskF = 31
	zEight = 30
	zBFFF  = 29
	zThree = 28
	z256   = 27
	zShLo  = 26
	zShHi  = 25
)

type gen struct {
	s, d bytes.Buffer
}

func (g *gen) f(format string, a ...any) { fmt.Fprintf(&g.s, format+"\n", a...) }

func (is isa) V(n int) string { return fmt.Sprintf("%s%d", is.reg, n) }
func Y(n int) string          { return fmt.Sprintf("Y%d", n) }
func X(n int) string          { return fmt.Sprintf("X%d", n) }

// consts loads the AVX-512 constant registers a format needs.
func (g *gen) consts(is isa, f rowFmt) {
	if !is.big {
		return
	}
	if f.nibble {
		g.f("\tVPBROADCASTD kvc<>+%d(SB), Z%d", cMaskF, zMaskF)
	}
	if f.minus8 {
		g.f("\tVPBROADCASTD kvc<>+%d(SB), Z%d", cEight, zEight)
	}
	if f.fp8 {
		g.f("\tVPBROADCASTD kvc<>+%d(SB), Z%d", cBFFF, zBFFF)
		g.f("\tVBROADCASTSS kvc<>+%d(SB), Z%d", c256, z256)
	}
	if f.twobit {
		g.f("\tVPBROADCASTD kvc<>+%d(SB), Z%d", cThree, zThree)
		g.f("\tVMOVDQU32 kvc<>+%d(SB), Z%d", cShiftLo, zShLo)
		g.f("\tVMOVDQU32 kvc<>+%d(SB), Z%d", cShiftHi, zShHi)
	}
}

// andConst emits reg &= constant (a register on AVX-512, memory on AVX2).
func (g *gen) andConst(is isa, zc, off int, reg string) {
	if is.big {
		g.f("\t%s %s%d, %s, %s", is.and, reg[:1], zc, reg, reg)
		return
	}
	g.f("\t%s kvc<>+%d(SB), %s, %s", is.and, off, reg, reg)
}

// decode writes vector v (elements v·vw … v·vw+vw−1 of the current block,
// or of the current vector for perVec formats) of the row at mem (an
// addressing expression with a %d slot for a byte offset) into register
// w, as float32 codes (unscaled; Q4_0 minus 8; E4M3 ÷256).
func (g *gen) decode(is isa, f rowFmt, v int, mem func(off int) string, w int) {
	W := is.V(w)
	switch {
	case f.name == "F32":
		g.f("\tVMOVUPS %s, %s", mem(v*is.vw*4), W)
		return
	case f.name == "F16":
		g.f("\tVCVTPH2PS %s, %s", mem(v*is.vw*2), W)
		return
	case f.name == "BF16":
		g.f("\tVPMOVZXWD %s, %s", mem(v*is.vw*2), W)
		g.f("\tVPSLLD $16, %s, %s", W, W)
		return
	case f.fp8:
		half := Y(w)
		if !is.big {
			half = X(w)
		}
		g.f("\tVPMOVSXBW %s, %s", mem(v*is.vw), half)
		g.f("\tVPSLLW $7, %s, %s", half, half)
		g.andConst(is, zBFFF, cBFFF, half)
		g.f("\tVCVTPH2PS %s, %s", half, W)
		return
	case f.name == "Q8_0":
		g.f("\tVPMOVSXBD %s, %s", mem(f.qs+v*is.vw), W)
	case f.nibble:
		// Elements 0..15 are the low nibbles of qs[0..15], 16..31 the high.
		lanes := is.vw
		first := v * lanes // first element
		g.f("\tVPMOVZXBD %s, %s", mem(f.qs+first%16), W)
		if first < 16 {
			g.andConst(is, zMaskF, cMaskF, W)
		} else {
			g.f("\tVPSRLD $4, %s, %s", W, W)
		}
		if f.minus8 {
			if is.big {
				g.f("\tVPSUBD Z%d, %s, %s", zEight, W, W)
			} else {
				g.f("\tVPSUBD kvc<>+%d(SB), %s, %s", cEight, W, W)
			}
		}
	case f.twobit:
		// Element e is bits 2·(e/8) of qs[e%8].
		if is.big {
			g.f("\tVPMOVZXBD %s, %s", mem(f.qs), Y(w))
			g.f("\tVINSERTI64X4 $1, %s, %s, %s", Y(w), W, W)
			sh := zShLo
			if v == 1 {
				sh = zShHi
			}
			g.f("\tVPSRLVD Z%d, %s, %s", sh, W, W)
		} else {
			g.f("\tVPMOVZXBD %s, %s", mem(f.qs), W)
			if v > 0 {
				g.f("\tVPSRLD $%d, %s, %s", 2*v, W, W)
			}
		}
		g.andConst(is, zThree, cThree, W)
	}
	g.f("\tVCVTDQ2PS %s, %s", W, W)
}

// scaleTo loads the f16 at mem into every lane of register r as float32.
func (g *gen) scaleTo(is isa, mem string, r int) {
	g.f("\tVPBROADCASTW %s, %s", mem, Y(r))
	if is.big {
		g.f("\tVCVTPH2PS %s, %s", Y(r), is.V(r))
	} else {
		g.f("\tVCVTPH2PS %s, %s", X(r), Y(r))
	}
}

var wBase = []string{"SI", "R11", "R12", "R13"}
var xBase = []string{"DI", "R14", "BX", "DX"}

func dotsName(f rowFmt, R, T int, is isa) string {
	return fmt.Sprintf("kvDots%sR%dT%d%s", f.name, R, T, is.name)
}

// dots writes one R×T score tile kernel (the tileFn contract of tile.go):
//
//	for g < groups, t < T, r < R:
//	    dst[g*R + r + t*dstride] = Σ_{i<k} row[g*R + r][i] · x[t][i]
//
// k is a positive multiple of 32; rows are whole blocks.
func (g *gen) dots(f rowFmt, R, T int, is isa) {
	name := dotsName(f, R, T, is)
	lbl := strings.ToLower(name)
	sig := "w unsafe.Pointer, wstride uintptr, x unsafe.Pointer, xstride uintptr, dst unsafe.Pointer, dstride uintptr, k int, groups int"
	frame := 64
	if f.affine {
		sig += ", par unsafe.Pointer"
		frame = 72
	}
	fmt.Fprintf(&g.d, "//go:noescape\nfunc %s(%s)\n\n", name, sig)
	g.f("// func %s(%s)", name, sig)
	g.f("TEXT ·%s(SB), NOSPLIT, $0-%d", name, frame)
	if f.affine {
		g.f("\tMOVQ par+64(FP), R8")
	}
	g.f("\tMOVQ w+0(FP), SI")
	g.f("\tMOVQ wstride+8(FP), R9")
	for r := 1; r < R; r++ {
		g.f("\tLEAQ (%s)(R9*1), %s", wBase[r-1], wBase[r])
	}
	g.f("\tMOVQ x+16(FP), DI")
	g.f("\tMOVQ xstride+24(FP), R9")
	for t := 1; t < T; t++ {
		g.f("\tLEAQ (%s)(R9*1), %s", xBase[t-1], xBase[t])
	}
	g.f("\tMOVQ k+48(FP), CX")
	g.f("\tSHLQ $2, CX")
	g.consts(is, f)
	V := is.V
	acc := func(t, r int) int { return t*R + r }
	// Registers: accumulators 0..R·T−1; scales dReg+r; decoded rows wReg+r.
	dReg, wReg, xReg := 16, 20, 24
	if !is.big {
		dReg, wReg, xReg = 8, 12, -1
		if !f.scale && !f.affine {
			wReg = 8
		}
	}
	nv := 32 / is.vw
	g.f("%s_group:", lbl)
	for i := 0; i < R*T; i++ {
		g.f("\t%s %s, %s, %s", is.zero, V(i), V(i), V(i))
	}
	g.f("\tXORQ AX, AX")
	g.f("\tXORQ R10, R10")
	g.f("%s_loop:", lbl)
	g.f("\tCMPQ AX, CX")
	g.f("\tJGE %s_reduce", lbl)
	if f.scale {
		for r := 0; r < R; r++ {
			g.scaleTo(is, fmt.Sprintf("(%s)(R10*1)", wBase[r]), dReg+r)
		}
	}
	for v := 0; v < nv; v++ {
		if f.affine {
			// Per-channel scale and minimum of this vector's channels:
			// par holds, per block of 32 channels, 32 halves s then 32 m,
			// so the block's parameters sit at the same offset as x's.
			g.f("\tVCVTPH2PS %d(R8)(AX*1), %s", v*is.vw*2, V(dReg))
			g.f("\tVCVTPH2PS %d(R8)(AX*1), %s", 64+v*is.vw*2, V(dReg+1))
		}
		for r := 0; r < R; r++ {
			r := r
			g.decode(is, f, v, func(off int) string { return fmt.Sprintf("%d(%s)(R10*1)", off, wBase[r]) }, wReg+r)
			if f.scale {
				g.f("\tVMULPS %s, %s, %s", V(dReg+r), V(wReg+r), V(wReg+r))
			}
			if f.affine {
				g.f("\tVFMADD213PS %s, %s, %s", V(dReg+1), V(dReg), V(wReg+r))
			}
		}
		for t := 0; t < T; t++ {
			xm := fmt.Sprintf("%d(%s)(AX*1)", v*is.vw*4, xBase[t])
			if xReg >= 0 {
				g.f("\tVMOVUPS %s, %s", xm, V(xReg))
				for r := 0; r < R; r++ {
					g.f("\tVFMADD231PS %s, %s, %s", V(xReg), V(wReg+r), V(acc(t, r)))
				}
			} else {
				for r := 0; r < R; r++ {
					g.f("\tVFMADD231PS %s, %s, %s", xm, V(wReg+r), V(acc(t, r)))
				}
			}
		}
	}
	g.f("\tADDQ $128, AX")
	g.f("\tADDQ $%d, R10", f.bb)
	g.f("\tJMP %s_loop", lbl)
	g.f("%s_reduce:", lbl)
	g.f("\tMOVQ dst+32(FP), R9")
	tmp := 15 // free after the loop (no R=1 tile uses it)
	scale := func(x string) {
		if !f.fp8 {
			return
		}
		if is.big {
			g.f("\tVMULPS X%d, %s, %s", z256, x, x)
		} else {
			g.f("\tVMULPS kvc<>+%d(SB), %s, %s", c256, x, x)
		}
	}
	for t := 0; t < T; t++ {
		if R == 4 {
			a := []int{acc(t, 0), acc(t, 1), acc(t, 2), acc(t, 3)}
			if is.big {
				for r, ai := range a {
					g.f("\tVEXTRACTF64X4 $1, %s, %s", V(ai), Y(16+r))
					g.f("\tVADDPS %s, %s, %s", Y(16+r), Y(ai), Y(ai))
				}
			}
			g.f("\tVHADDPS %s, %s, %s", Y(a[1]), Y(a[0]), Y(a[0]))
			g.f("\tVHADDPS %s, %s, %s", Y(a[3]), Y(a[2]), Y(a[2]))
			g.f("\tVHADDPS %s, %s, %s", Y(a[2]), Y(a[0]), Y(a[0]))
			g.f("\tVEXTRACTF128 $1, %s, %s", Y(a[0]), X(a[1]))
			g.f("\tVADDPS %s, %s, %s", X(a[1]), X(a[0]), X(a[0]))
			scale(X(a[0]))
			g.f("\tVMOVUPS %s, (R9)", X(a[0]))
		} else {
			a := acc(t, 0)
			if is.big {
				g.f("\tVEXTRACTF64X4 $1, %s, %s", V(a), Y(tmp))
				g.f("\tVADDPS %s, %s, %s", Y(tmp), Y(a), Y(a))
			}
			g.f("\tVEXTRACTF128 $1, %s, %s", Y(a), X(tmp))
			g.f("\tVADDPS %s, %s, %s", X(tmp), X(a), X(a))
			g.f("\tVHADDPS %s, %s, %s", X(a), X(a), X(a))
			g.f("\tVHADDPS %s, %s, %s", X(a), X(a), X(a))
			scale(X(a))
			g.f("\tVMOVSS %s, (R9)", X(a))
		}
		if t < T-1 {
			g.f("\tADDQ dstride+40(FP), R9")
		}
	}
	g.f("\tMOVQ dst+32(FP), R9")
	g.f("\tADDQ $%d, R9", 4*R)
	g.f("\tMOVQ R9, dst+32(FP)")
	g.f("\tMOVQ wstride+8(FP), R9")
	g.f("\tLEAQ (%s)(R9*1), SI", wBase[R-1])
	for r := 1; r < R; r++ {
		g.f("\tLEAQ (%s)(R9*1), %s", wBase[r-1], wBase[r])
	}
	g.f("\tDECQ groups+56(FP)")
	g.f("\tJNZ %s_group", lbl)
	g.f("\tVZEROUPPER")
	g.f("\tRET\n")
}

func wsumName(f rowFmt, n int, is isa) string {
	if f.perVec {
		return fmt.Sprintf("kvWsum%sM%d%s", f.name, n, is.name)
	}
	return fmt.Sprintf("kvWsum%sB%d%s", f.name, n, is.name)
}

// wsumBlocks writes a weighted-sum kernel over NB blocks of a block format:
//
//	dst[i] = Σ_{j<np} p[j] · row_j[i]   for i < 32·NB
//
// with row j at v + j·vstride (bytes); np ≥ 1.
func (g *gen) wsumBlocks(f rowFmt, NB int, is isa) {
	name := wsumName(f, NB, is)
	lbl := strings.ToLower(name)
	fmt.Fprintf(&g.d, "//go:noescape\nfunc %s(dst, v unsafe.Pointer, vstride uintptr, p unsafe.Pointer, np int, acc int)\n\n", name)
	g.f("// func %s(dst, v unsafe.Pointer, vstride uintptr, p unsafe.Pointer, np int, acc int)", name)
	g.f("TEXT ·%s(SB), NOSPLIT, $0-48", name)
	g.f("\tMOVQ v+8(FP), SI")
	g.f("\tMOVQ vstride+16(FP), R8")
	g.f("\tMOVQ p+24(FP), AX")
	g.f("\tMOVQ np+32(FP), CX")
	g.consts(is, f)
	V := is.V
	nv := 32 / is.vw
	acc := func(b, v int) int { return b*nv + v }
	nacc := NB * nv
	macc := func(b int) int { return nacc + b }
	var pReg, cReg, mReg, wReg int
	if is.big {
		pReg, cReg, mReg, wReg = 16, 17, 18, 19
	} else {
		pReg, cReg, mReg, wReg = 10, 11, 12, 13
	}
	for i := 0; i < nacc; i++ {
		g.f("\t%s %s, %s, %s", is.zero, V(i), V(i), V(i))
	}
	if f.min {
		for b := 0; b < NB; b++ {
			g.f("\t%s %s, %s, %s", is.zero, V(macc(b)), V(macc(b)), V(macc(b)))
		}
	}
	g.f("%s_loop:", lbl)
	g.f("\tVBROADCASTSS (AX), %s", V(pReg))
	for b := 0; b < NB; b++ {
		base := b * f.bb
		c := pReg
		if f.scale {
			g.scaleTo(is, fmt.Sprintf("%d(SI)", base), cReg)
			g.f("\tVMULPS %s, %s, %s", V(pReg), V(cReg), V(cReg))
			c = cReg
		}
		if f.min {
			g.scaleTo(is, fmt.Sprintf("%d(SI)", base+2), mReg)
			g.f("\tVFMADD231PS %s, %s, %s", V(pReg), V(mReg), V(macc(b)))
		}
		for v := 0; v < nv; v++ {
			g.decode(is, f, v, func(off int) string { return fmt.Sprintf("%d(SI)", base+off) }, wReg)
			g.f("\tVFMADD231PS %s, %s, %s", V(wReg), V(c), V(acc(b, v)))
		}
	}
	g.f("\tADDQ R8, SI")
	g.f("\tADDQ $4, AX")
	g.f("\tDECQ CX")
	g.f("\tJNZ %s_loop", lbl)
	g.f("\tMOVQ dst+0(FP), DI")
	for b := 0; b < NB; b++ {
		for v := 0; v < nv; v++ {
			if f.min {
				g.f("\tVADDPS %s, %s, %s", V(macc(b)), V(acc(b, v)), V(acc(b, v)))
			}
		}
	}
	g.storeSums(is, lbl, nacc, func(i int) int { return i }, func(i int) int { return 4 * (32*(i/nv) + is.vw*(i%nv)) }, false)
	g.f("\tVZEROUPPER")
	g.f("\tRET\n")
}

// wsumVec writes a weighted-sum kernel over M vectors of a per-element
// format (F16, BF16, E4M3), two rows per step:
//
//	dst[i] = Σ_{j<np} p[j] · row_j[i]   for i < M·vw
//
// np may be 0 (dst becomes zero).
func (g *gen) wsumVec(f rowFmt, M int, is isa) {
	name := wsumName(f, M, is)
	lbl := strings.ToLower(name)
	fmt.Fprintf(&g.d, "//go:noescape\nfunc %s(dst, v unsafe.Pointer, vstride uintptr, p unsafe.Pointer, np int, acc int)\n\n", name)
	g.f("// func %s(dst, v unsafe.Pointer, vstride uintptr, p unsafe.Pointer, np int, acc int)", name)
	g.f("TEXT ·%s(SB), NOSPLIT, $0-48", name)
	g.f("\tMOVQ v+8(FP), SI")
	g.f("\tMOVQ vstride+16(FP), R8")
	g.f("\tMOVQ p+24(FP), AX")
	g.f("\tMOVQ np+32(FP), CX")
	g.consts(is, f)
	V := is.V
	for i := 0; i < 2*M; i++ {
		g.f("\t%s %s, %s, %s", is.zero, V(i), V(i), V(i))
	}
	p0, p1, w := 2*M, 2*M+1, 2*M+2
	g.f("%s_loop2:", lbl)
	g.f("\tCMPQ CX, $2")
	g.f("\tJLT %s_loop1", lbl)
	g.f("\tVBROADCASTSS (AX), %s", V(p0))
	g.f("\tVBROADCASTSS 4(AX), %s", V(p1))
	g.f("\tLEAQ (SI)(R8*1), DI")
	for i := 0; i < M; i++ {
		g.decode(is, f, i, func(off int) string { return fmt.Sprintf("%d(SI)", off) }, w)
		g.f("\tVFMADD231PS %s, %s, %s", V(w), V(p0), V(i))
		g.decode(is, f, i, func(off int) string { return fmt.Sprintf("%d(DI)", off) }, w)
		g.f("\tVFMADD231PS %s, %s, %s", V(w), V(p1), V(M+i))
	}
	g.f("\tLEAQ (DI)(R8*1), SI")
	g.f("\tADDQ $8, AX")
	g.f("\tSUBQ $2, CX")
	g.f("\tJMP %s_loop2", lbl)
	g.f("%s_loop1:", lbl)
	g.f("\tTESTQ CX, CX")
	g.f("\tJZ %s_done", lbl)
	g.f("\tVBROADCASTSS (AX), %s", V(p0))
	for i := 0; i < M; i++ {
		g.decode(is, f, i, func(off int) string { return fmt.Sprintf("%d(SI)", off) }, w)
		g.f("\tVFMADD231PS %s, %s, %s", V(w), V(p0), V(i))
	}
	g.f("%s_done:", lbl)
	g.f("\tMOVQ dst+0(FP), DI")
	for i := 0; i < M; i++ {
		g.f("\tVADDPS %s, %s, %s", V(M+i), V(i), V(i))
	}
	g.storeSums(is, lbl, M, func(i int) int { return i }, func(i int) int { return i * is.vw * 4 }, f.fp8)
	g.f("\tVZEROUPPER")
	g.f("\tRET\n")
}

// storeSums writes n accumulators to dst (DI): dst = sums, or dst +=
// sums when the acc argument is not zero; fp8 sums are scaled by 256
// first.
func (g *gen) storeSums(is isa, lbl string, n int, reg func(i int) int, off func(i int) int, fp8 bool) {
	V := is.V
	for i := 0; i < n; i++ {
		if fp8 {
			if is.big {
				g.f("\tVMULPS Z%d, %s, %s", z256, V(reg(i)), V(reg(i)))
			} else {
				g.f("\tVMULPS kvc<>+%d(SB), %s, %s", c256, V(reg(i)), V(reg(i)))
			}
		}
	}
	g.f("\tCMPQ acc+40(FP), $0")
	g.f("\tJEQ %s_store", lbl)
	for i := 0; i < n; i++ {
		g.f("\tVADDPS %d(DI), %s, %s", off(i), V(reg(i)), V(reg(i)))
	}
	g.f("%s_store:", lbl)
	for i := 0; i < n; i++ {
		g.f("\tVMOVUPS %s, %d(DI)", V(reg(i)), off(i))
	}
}

func dotShapes(is isa) [][2]int {
	if is.big {
		return [][2]int{{4, 1}, {4, 2}, {4, 3}, {4, 4}, {1, 1}, {1, 2}, {1, 3}, {1, 4}}
	}
	return [][2]int{{4, 1}, {4, 2}, {1, 1}, {1, 2}}
}

func wsumBlockCounts(is isa) []int {
	if is.big {
		return []int{1, 2, 4}
	}
	return []int{1, 2}
}

var dotFmts = []rowFmt{fE4M3, fQ8_0, fQ4_0, fU4, fU2, fU4A, fU2A}
var wsumBlockFmts = []rowFmt{fQ8_0, fQ4_0, fQ4_1, fQ2_1}
var wsumVecFmts = []rowFmt{fF32, fF16, fBF16, fE4V}

func (g *gen) constants() {
	row := func(off int, vals ...uint32) {
		for i, v := range vals {
			g.f("DATA kvc<>+%d(SB)/4, $0x%08x", off+4*i, v)
		}
	}
	rep := func(v uint32, n int) []uint32 {
		out := make([]uint32, n)
		for i := range out {
			out[i] = v
		}
		return out
	}
	row(cMaskF, rep(15, 8)...)
	row(cEight, rep(8, 8)...)
	row(cBFFF, rep(0xBFFFBFFF, 8)...)
	row(cThree, rep(3, 8)...)
	row(c256, rep(0x43800000, 8)...)
	row(cShiftLo, append(rep(0, 8), rep(2, 8)...)...)
	row(cShiftHi, append(rep(4, 8), rep(6, 8)...)...)
	g.f("GLOBL kvc<>(SB), RODATA|NOPTR, $%d\n", cSize)
}

func main() {
	out := flag.String("out", "kv_amd64.s", "assembly output")
	decl := flag.String("decl", "kv_amd64_decl.go", "Go declarations output")
	flag.Parse()
	var g gen
	hdr := "// Code generated by _kvgen/gen.go. DO NOT EDIT.\n\n//go:build amd64 && !noasm && !purego\n\n"
	g.s.WriteString(hdr)
	g.s.WriteString("// Row kernels of the KV cache: see rowDotsRef and rowWsumRef in kvref.go\n// for the loops they compute.\n\n#include \"textflag.h\"\n\n")
	g.constants()
	g.d.WriteString(hdr)
	g.d.WriteString("package kernels\n\nimport \"unsafe\"\n\n")
	for _, is := range []isa{avx512, avx2} {
		for _, f := range dotFmts {
			for _, sh := range dotShapes(is) {
				g.dots(f, sh[0], sh[1], is)
			}
		}
		for _, f := range wsumBlockFmts {
			for _, nb := range wsumBlockCounts(is) {
				g.wsumBlocks(f, nb, is)
			}
		}
		for _, f := range wsumVecFmts {
			for _, m := range []int{1, 4} {
				g.wsumVec(f, m, is)
			}
		}
	}
	for _, is := range []isa{avx512, avx2} {
		for _, f := range dotFmts {
			if f.affine {
				fmt.Fprintf(&g.d, "var kvDots%s%s = [5][5]affineFn{\n", f.name, is.name)
			} else {
				fmt.Fprintf(&g.d, "var kvDots%s%s = tileSet{\n", f.name, is.name)
			}
			for _, R := range []int{1, 4} {
				fmt.Fprintf(&g.d, "\t%d: {", R)
				for _, sh := range dotShapes(is) {
					if sh[0] == R {
						fmt.Fprintf(&g.d, "%d: %s, ", sh[1], dotsName(f, sh[0], sh[1], is))
					}
				}
				g.d.WriteString("},\n")
			}
			g.d.WriteString("}\n\n")
		}
		for _, f := range wsumBlockFmts {
			fmt.Fprintf(&g.d, "var kvWsum%s%s = [5]kvWsumFn{", f.name, is.name)
			for _, nb := range wsumBlockCounts(is) {
				fmt.Fprintf(&g.d, "%d: %s, ", nb, wsumName(f, nb, is))
			}
			g.d.WriteString("}\n\n")
		}
		for _, f := range wsumVecFmts {
			fmt.Fprintf(&g.d, "var kvWsumVec%s%s = [5]kvWsumFn{1: %s, 4: %s}\n\n", f.name, is.name, wsumName(f, 1, is), wsumName(f, 4, is))
		}
	}
	src, err := format.Source(g.d.Bytes())
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, g.s.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*decl, src, 0o644); err != nil {
		log.Fatal(err)
	}
}
