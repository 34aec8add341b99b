package quant

import (
	"testing"
	"unsafe"
)

// TestKSearchLayout pins the kSearch offsets that searchpair_amd64.s uses.
func TestKSearchLayout(t *testing.T) {
	var s kSearch
	g := &s.g[0]
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"g[1]", unsafe.Offsetof(s.g) + unsafe.Sizeof(s.g[0]), 72},
		{"x", unsafe.Offsetof(g.x), 0}, {"w", unsafe.Offsetof(g.w), 8},
		{"aux", unsafe.Offsetof(g.aux), 16}, {"best", unsafe.Offsetof(g.best), 24},
		{"min", unsafe.Offsetof(g.min), 32}, {"max", unsafe.Offsetof(g.max), 36},
		{"sumW", unsafe.Offsetof(g.sumW), 40}, {"sumX", unsafe.Offsetof(g.sumX), 44},
		{"scale", unsafe.Offsetof(g.scale), 48}, {"err", unsafe.Offsetof(g.err), 52},
		{"ts", unsafe.Offsetof(g.ts), 56}, {"tm", unsafe.Offsetof(g.tm), 60}, {"ok", unsafe.Offsetof(g.ok), 64},
		{"n", unsafe.Offsetof(s.n), 144}, {"nstep", unsafe.Offsetof(s.nstep), 152},
		{"nmax", unsafe.Offsetof(s.nmax), 160}, {"nmaxF", unsafe.Offsetof(s.nmaxF), 164},
		{"rmin", unsafe.Offsetof(s.rmin), 168}, {"rdelta", unsafe.Offsetof(s.rdelta), 172},
		{"useMad", unsafe.Offsetof(s.useMad), 176},
		{"p1", unsafe.Offsetof(s.p1), 184}, {"p2", unsafe.Offsetof(s.p2), 440},
		{"p3", unsafe.Offsetof(s.p3), 696}, {"e", unsafe.Offsetof(s.e), 952},
	} {
		if c.got != c.want {
			t.Errorf("kSearch %s at offset %d, the assembly expects %d", c.name, c.got, c.want)
		}
	}
}

func TestRequantLayout(t *testing.T) {
	var a requantArgs
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"L", unsafe.Offsetof(a.L), 0}, {"x", unsafe.Offsetof(a.x), 8}, {"d", unsafe.Offsetof(a.d), 16},
		{"m", unsafe.Offsetof(a.m), 24}, {"nsub", unsafe.Offsetof(a.nsub), 32}, {"bs", unsafe.Offsetof(a.bs), 40},
		{"lo", unsafe.Offsetof(a.lo), 48}, {"hi", unsafe.Offsetof(a.hi), 52}, {"off", unsafe.Offsetof(a.off), 56},
	} {
		if c.got != c.want {
			t.Errorf("requantArgs %s at offset %d, the assembly expects %d", c.name, c.got, c.want)
		}
	}
}

func TestQxSearchLayout(t *testing.T) {
	var s qxSearch
	g := &s.g[0]
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"g[1]", unsafe.Sizeof(s.g[0]), 48},
		{"x", unsafe.Offsetof(g.x), 0}, {"w", unsafe.Offsetof(g.w), 8},
		{"aux", unsafe.Offsetof(g.aux), 16}, {"best", unsafe.Offsetof(g.best), 24},
		{"max", unsafe.Offsetof(g.max), 32}, {"scale", unsafe.Offsetof(g.scale), 36}, {"best_", unsafe.Offsetof(g.best_), 40},
		{"n", unsafe.Offsetof(s.n), 96}, {"nmax", unsafe.Offsetof(s.nmax), 104}, {"nmaxF", unsafe.Offsetof(s.nmaxF), 108},
		{"p1", unsafe.Offsetof(s.p1), 112}, {"p2", unsafe.Offsetof(s.p2), 368},
	} {
		if c.got != c.want {
			t.Errorf("qxSearch %s at offset %d, the assembly expects %d", c.name, c.got, c.want)
		}
	}
}

func TestQ3InitLayout(t *testing.T) {
	var s q3Init
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"w", unsafe.Offsetof(s.w), 0}, {"wx", unsafe.Offsetof(s.wx), 128}, {"p1", unsafe.Offsetof(s.p1), 256},
		{"p2", unsafe.Offsetof(s.p2), 384}, {"L", unsafe.Offsetof(s.L), 512}, {"sumlx", unsafe.Offsetof(s.sumlx), 640},
		{"suml2", unsafe.Offsetof(s.suml2), 648}, {"max", unsafe.Offsetof(s.max), 656}, {"amax", unsafe.Offsetof(s.amax), 664},
	} {
		if c.got != c.want {
			t.Errorf("q3Init %s at offset %d, the assembly expects %d", c.name, c.got, c.want)
		}
	}
}

// TestPairSearchesMatchSingle checks the two-group searches (Go and
// assembly) against the single-group ports of ggml's functions on random
// groups, including constant and all-zero ones.
func TestPairSearchesMatchSingle(t *testing.T) {
	r := newRand(21)
	groups := func(n int) (xa, xb, wa, wb []float32) {
		xa, xb = randomFloats(r, n, 0.05), randomFloats(r, n, 0.05)
		switch r.IntN(8) {
		case 0:
			clear(xa) // all zero
		case 1:
			for i := range xb {
				xb[i] = 0.25 // constant
			}
		}
		wa, wb = make([]float32, n), make([]float32, n)
		for i := range wa {
			wa[i], wb[i] = float32(r.ExpFloat64()), float32(r.ExpFloat64())
		}
		return
	}
	withLevels(t, func(t *testing.T) {
		for iter := 0; iter < 200; iter++ {
			for _, c := range []struct {
				n, nmax, nstep int
				rmin, rdelta   float32
				mad            bool
			}{{32, 15, 20, -1, 0.1, false}, {32, 31, 15, -0.5, 0.1, false}, {16, 3, 15, -0.5, 0.1, true}} {
				xa, xb, wa, wb := groups(c.n)
				var La, Lb, La1, Lb1, aux [32]uint8
				sa, ma, sb, mb := makeQkx2Pair(c.n, c.nmax, xa, xb, wa, wb, La[:], Lb[:], c.rmin, c.rdelta, c.nstep, c.mad)
				sa1, ma1 := makeQkx2Quants(c.n, c.nmax, xa, wa, La1[:], aux[:], c.rmin, c.rdelta, c.nstep, c.mad)
				sb1, mb1 := makeQkx2Quants(c.n, c.nmax, xb, wb, Lb1[:], aux[:], c.rmin, c.rdelta, c.nstep, c.mad)
				if sa != sa1 || ma != ma1 || sb != sb1 || mb != mb1 || La != La1 || Lb != Lb1 {
					t.Fatalf("makeQkx2Pair(n=%d, nmax=%d) differs from makeQkx2Quants", c.n, c.nmax)
				}
			}
			for _, n := range []int{16, 32} {
				xa, xb, wa, wb := groups(n)
				var La, Lb, La1, Lb1 [32]int8
				sa, sb := makeQxPair(n, 32, xa, xb, wa, wb, La[:], Lb[:])
				sa1 := makeQxQuants(n, 32, xa, La1[:], 1, wa)
				sb1 := makeQxQuants(n, 32, xb, Lb1[:], 1, wb)
				if sa != sa1 || sb != sb1 || La != La1 || Lb != Lb1 {
					t.Fatalf("makeQxPair(n=%d) differs from makeQxQuants", n)
				}
			}
			x := randomFloats(r, 32, 0.05)
			if iter%8 == 0 {
				clear(x[16:])
			}
			var L, L1 [32]int8
			sa, sb := makeQ3Pair(x, L[:])
			sa1 := makeQ3Quants(16, 4, x, L1[:])
			sb1 := makeQ3Quants(16, 4, x[16:], L1[16:])
			if sa != sa1 || sb != sb1 || L != L1 {
				t.Fatalf("makeQ3Pair differs from makeQ3Quants:\n%v %v %v\n%v %v %v", sa, sb, L, sa1, sb1, L1)
			}
		}
	})
}
