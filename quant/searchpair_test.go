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
