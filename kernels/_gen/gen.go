// Command gen writes kernels/tile_amd64.s and kernels/tile_amd64_decl.go:
// the AVX2 and AVX-512 dot-product tile kernels and weighted-sum kernels of
// package kernels. Run it from the kernels folder with `go generate`; the
// go tool ignores this folder (its name starts with "_"), so it needs no
// module of its own and imports only the standard library.
//
// Every kernel has a pure-Go reference in kernels/ref.go, which the tests
// compare it against.
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
	wreg int    // first register for weights/x loads
	tmp  int    // a spare register for reductions of R=1 tiles
	zero string
}

var (
	avx512 = isa{name: "AVX512", vw: 16, reg: "Z", wreg: 16, tmp: 15, zero: "VPXORD"}
	avx2   = isa{name: "AVX2", vw: 8, reg: "Y", wreg: 8, tmp: 15, zero: "VXORPS"}
)

type wtype struct {
	name  string // F32, F16, BF16
	bytes int    // bytes per weight element
}

var wtypes = []wtype{{"F32", 4}, {"F16", 2}, {"BF16", 2}}

type shape struct{ R, T int }

func shapes(is isa) []shape {
	if is.vw == 16 {
		return []shape{{4, 1}, {4, 2}, {4, 3}, {4, 4}, {1, 1}, {1, 2}, {1, 3}, {1, 4}}
	}
	return []shape{{4, 1}, {4, 2}, {1, 1}, {1, 2}}
}

type gen struct {
	s, d bytes.Buffer
}

func (g *gen) f(format string, a ...any) { fmt.Fprintf(&g.s, format+"\n", a...) }

func tileName(wt wtype, sh shape, is isa) string {
	return fmt.Sprintf("tile%sR%dT%d%s", wt.name, sh.R, sh.T, is.name)
}

var wBase = []string{"SI", "R11", "R12", "R13"}
var xBase = []string{"DI", "R14", "BX", "DX"}

// tile writes one R×T tile kernel:
//
//	for g < groups: for t < T: for r < R:
//	    dst[g*R + r + t*dstride] = Σ_{i<k} w[(g*R+r)*wstride + i] * x[t*xstride + i]
//
// Strides are in bytes; k is a positive multiple of the vector width.
func (g *gen) tile(wt wtype, sh shape, is isa) {
	R, T := sh.R, sh.T
	U := 1
	if R*T <= 4 {
		U = 2
	}
	name := tileName(wt, sh, is)
	fmt.Fprintf(&g.d, "//go:noescape\nfunc %s(w unsafe.Pointer, wstride uintptr, x unsafe.Pointer, xstride uintptr, dst unsafe.Pointer, dstride uintptr, k int, groups int)\n\n", name)
	g.f("// func %s(w unsafe.Pointer, wstride uintptr, x unsafe.Pointer, xstride uintptr, dst unsafe.Pointer, dstride uintptr, k int, groups int)", name)
	g.f("TEXT ·%s(SB), NOSPLIT, $0-64", name)
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
	xstep := is.vw * 4
	wstep := is.vw * wt.bytes
	woff := "AX"
	if wt.bytes != 4 {
		woff = "R10"
	}
	acc := func(u, t, r int) int { return u*R*T + t*R + r }
	V := func(n int) string { return fmt.Sprintf("%s%d", is.reg, n) }
	Y := func(n int) string { return fmt.Sprintf("Y%d", n) }
	X := func(n int) string { return fmt.Sprintf("X%d", n) }
	lbl := strings.ToLower(name)

	g.f("%s_group:", lbl)
	for i := 0; i < U*R*T; i++ {
		g.f("\t%s %s, %s, %s", is.zero, V(i), V(i), V(i))
	}
	g.f("\tXORQ AX, AX")
	if woff != "AX" {
		g.f("\tXORQ R10, R10")
	}
	wr := func(r int) int { return is.wreg + r }
	xr := is.wreg + R
	wmem := func(r, u int) string { return fmt.Sprintf("%d(%s)(%s*1)", u*wstep, wBase[r], woff) }
	xmem := func(t, u int) string { return fmt.Sprintf("%d(%s)(AX*1)", u*xstep, xBase[t]) }
	step := func(u int) {
		// Weights: a register when used more than once or when they need
		// converting; a memory operand when an F32 weight meets a single x.
		wInReg := wt.name != "F32" || T > 1
		for r := 0; r < R; r++ {
			if !wInReg {
				continue
			}
			m := wmem(r, u)
			switch wt.name {
			case "F32":
				g.f("\tVMOVUPS %s, %s", m, V(wr(r)))
			case "F16":
				g.f("\tVCVTPH2PS %s, %s", m, V(wr(r)))
			case "BF16":
				g.f("\tVPMOVZXWD %s, %s", m, V(wr(r)))
				g.f("\tVPSLLD $16, %s, %s", V(wr(r)), V(wr(r)))
			}
		}
		for t := 0; t < T; t++ {
			if R == 1 && wInReg {
				g.f("\tVFMADD231PS %s, %s, %s", xmem(t, u), V(wr(0)), V(acc(u, t, 0)))
				continue
			}
			g.f("\tVMOVUPS %s, %s", xmem(t, u), V(xr))
			for r := 0; r < R; r++ {
				if wInReg {
					g.f("\tVFMADD231PS %s, %s, %s", V(wr(r)), V(xr), V(acc(u, t, r)))
				} else {
					g.f("\tVFMADD231PS %s, %s, %s", wmem(r, u), V(xr), V(acc(u, t, r)))
				}
			}
		}
	}
	if U == 2 {
		g.f("\tMOVQ CX, R8")
		g.f("\tSUBQ $%d, R8", 2*xstep)
		g.f("%s_loop2:", lbl)
		g.f("\tCMPQ AX, R8")
		g.f("\tJGT %s_loop1", lbl)
		step(0)
		step(1)
		g.f("\tADDQ $%d, AX", 2*xstep)
		if woff != "AX" {
			g.f("\tADDQ $%d, R10", 2*wstep)
		}
		g.f("\tJMP %s_loop2", lbl)
	}
	g.f("%s_loop1:", lbl)
	g.f("\tCMPQ AX, CX")
	g.f("\tJGE %s_reduce", lbl)
	step(0)
	g.f("\tADDQ $%d, AX", xstep)
	if woff != "AX" {
		g.f("\tADDQ $%d, R10", wstep)
	}
	g.f("\tJMP %s_loop1", lbl)
	g.f("%s_reduce:", lbl)
	if U == 2 {
		for i := 0; i < R*T; i++ {
			g.f("\tVADDPS %s, %s, %s", V(R*T+i), V(i), V(i))
		}
	}
	g.f("\tMOVQ dst+32(FP), R9")
	for t := 0; t < T; t++ {
		if R == 4 {
			a := []int{acc(0, t, 0), acc(0, t, 1), acc(0, t, 2), acc(0, t, 3)}
			if is.vw == 16 {
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
			g.f("\tVMOVUPS %s, (R9)", X(a[0]))
		} else {
			a := acc(0, t, 0)
			if is.vw == 16 {
				g.f("\tVEXTRACTF64X4 $1, %s, %s", V(a), Y(is.tmp))
				g.f("\tVADDPS %s, %s, %s", Y(is.tmp), Y(a), Y(a))
			}
			g.f("\tVEXTRACTF128 $1, %s, %s", Y(a), X(is.tmp))
			g.f("\tVADDPS %s, %s, %s", X(is.tmp), X(a), X(a))
			g.f("\tVHADDPS %s, %s, %s", X(a), X(a), X(a))
			g.f("\tVHADDPS %s, %s, %s", X(a), X(a), X(a))
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

// wsum writes a weighted-sum kernel over M vectors:
//
//	dst[i] = Σ_{j<np} p[j] * v[j*vstride + i]   for i < M*vw
//
// np may be 0 (dst becomes zero).
func (g *gen) wsum(M int, is isa) {
	name := fmt.Sprintf("wsumM%d%s", M, is.name)
	fmt.Fprintf(&g.d, "//go:noescape\nfunc %s(dst, v unsafe.Pointer, vstride uintptr, p unsafe.Pointer, np int)\n\n", name)
	lbl := strings.ToLower(name)
	V := func(n int) string { return fmt.Sprintf("%s%d", is.reg, n) }
	vb := is.vw * 4
	g.f("// func %s(dst, v unsafe.Pointer, vstride uintptr, p unsafe.Pointer, np int)", name)
	g.f("TEXT ·%s(SB), NOSPLIT, $0-40", name)
	g.f("\tMOVQ v+8(FP), SI")
	g.f("\tMOVQ vstride+16(FP), R8")
	g.f("\tMOVQ p+24(FP), AX")
	g.f("\tMOVQ np+32(FP), CX")
	for i := 0; i < 2*M; i++ {
		g.f("\t%s %s, %s, %s", is.zero, V(i), V(i), V(i))
	}
	b0, b1 := V(is.wreg), V(is.wreg+1)
	g.f("%s_loop2:", lbl)
	g.f("\tCMPQ CX, $2")
	g.f("\tJLT %s_loop1", lbl)
	g.f("\tVBROADCASTSS (AX), %s", b0)
	g.f("\tVBROADCASTSS 4(AX), %s", b1)
	g.f("\tLEAQ (SI)(R8*1), DI")
	for i := 0; i < M; i++ {
		g.f("\tVFMADD231PS %d(SI), %s, %s", i*vb, b0, V(i))
		g.f("\tVFMADD231PS %d(DI), %s, %s", i*vb, b1, V(M+i))
	}
	g.f("\tLEAQ (DI)(R8*1), SI")
	g.f("\tADDQ $8, AX")
	g.f("\tSUBQ $2, CX")
	g.f("\tJMP %s_loop2", lbl)
	g.f("%s_loop1:", lbl)
	g.f("\tTESTQ CX, CX")
	g.f("\tJZ %s_done", lbl)
	g.f("\tVBROADCASTSS (AX), %s", b0)
	for i := 0; i < M; i++ {
		g.f("\tVFMADD231PS %d(SI), %s, %s", i*vb, b0, V(i))
	}
	g.f("%s_done:", lbl)
	g.f("\tMOVQ dst+0(FP), DI")
	for i := 0; i < M; i++ {
		g.f("\tVADDPS %s, %s, %s", V(M+i), V(i), V(i))
		g.f("\tVMOVUPS %s, %d(DI)", V(i), i*vb)
	}
	g.f("\tVZEROUPPER")
	g.f("\tRET\n")
}

func main() {
	out := flag.String("out", "tile_amd64.s", "assembly output")
	decl := flag.String("decl", "tile_amd64_decl.go", "Go declarations output")
	flag.Parse()
	var g gen
	hdr := "// Code generated by _gen/gen.go. DO NOT EDIT.\n\n//go:build amd64 && !noasm && !purego\n\n"
	g.s.WriteString(hdr)
	g.s.WriteString("// Tile kernels: see tileRef in ref.go for the loop each one computes.\n// Weighted sums: see wsumRef in ref.go.\n\n#include \"textflag.h\"\n\n")
	g.d.WriteString(hdr)
	g.d.WriteString("package kernels\n\nimport \"unsafe\"\n\n")
	for _, is := range []isa{avx512, avx2} {
		for _, wt := range wtypes {
			for _, sh := range shapes(is) {
				g.tile(wt, sh, is)
			}
		}
		g.wsum(1, is)
		g.wsum(4, is)
	}
	for _, is := range []isa{avx512, avx2} {
		for _, wt := range wtypes {
			fmt.Fprintf(&g.d, "var tiles%s%s = tileSet{\n", wt.name, is.name)
			for _, R := range []int{1, 4} {
				fmt.Fprintf(&g.d, "\t%d: {", R)
				for _, sh := range shapes(is) {
					if sh.R == R {
						fmt.Fprintf(&g.d, "%d: %s, ", sh.T, tileName(wt, sh, is))
					}
				}
				g.d.WriteString("},\n")
			}
			g.d.WriteString("}\n\n")
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
