//go:build amd64 && !noasm && !purego

package kernels

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

//go:generate go run ./_gen/gen.go -out tile_amd64.s -decl tile_amd64_decl.go

// CPU features, read once. HasAVX2 and HasAVX512* are set only when the OS
// saves the registers; GODEBUG=cpu.avx512f=off selects the AVX2 kernels and
// cpu.avx2=off the Go ones. The AVX-512 kernels need AVX512BW (VPMOVZXWD on
// ZMM) and AVX512VL (EVEX forms on YMM during reductions) as well as F.
var (
	hasAVX2   = cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasF16C
	hasAVX512 = hasAVX2 && cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL
)

var avx2Impl = &impl{
	name:     "avx2",
	vw:       8,
	maxT:     2,
	tiles:    [3]*tileSet{&tilesF32AVX2, &tilesF16AVX2, &tilesBF16AVX2},
	wsum:     func(dst, v []float32, stride int, p []float32) { wsumAsm(wsumM4AVX2, wsumM1AVX2, 8, dst, v, stride, p) },
	swiglu:   func(g, u []float32) { swigluAsm(swigluAVX2, 8, g, u) },
	expShift: func(x []float32, scale, shift float32) float32 { return expShiftAsm(expShiftAVX2, 8, x, scale, shift) },
}

var avx512Impl = &impl{
	name:  "avx512",
	vw:    16,
	maxT:  4,
	tiles: [3]*tileSet{&tilesF32AVX512, &tilesF16AVX512, &tilesBF16AVX512},
	wsum: func(dst, v []float32, stride int, p []float32) {
		wsumAsm(wsumM4AVX512, wsumM1AVX512, 16, dst, v, stride, p)
	},
	swiglu: func(g, u []float32) { swigluAsm(swigluAVX512, 16, g, u) },
	expShift: func(x []float32, scale, shift float32) float32 {
		return expShiftAsm(expShiftAVX512, 16, x, scale, shift)
	},
}

func impls() []*impl {
	l := []*impl{goImpl}
	if hasAVX2 {
		l = append(l, avx2Impl)
	}
	if hasAVX512 {
		l = append(l, avx512Impl)
	}
	return l
}

func bestImpl() *impl {
	l := impls()
	return l[len(l)-1]
}

type wsumFn func(dst, v unsafe.Pointer, vstride uintptr, p unsafe.Pointer, np int)

// wsumAsm runs the weighted sum in chunks of 4 vectors, then 1 vector, then
// the Go loop for the last len(dst) % vw elements.
func wsumAsm(m4, m1 wsumFn, vw int, dst, v []float32, stride int, p []float32) {
	n := len(dst)
	if n == 0 {
		return
	}
	np := len(p)
	vp := unsafe.Pointer(unsafe.SliceData(v))
	pp := unsafe.Pointer(unsafe.SliceData(p))
	dp := unsafe.Pointer(unsafe.SliceData(dst))
	i := 0
	for ; i+4*vw <= n; i += 4 * vw {
		m4(unsafe.Add(dp, 4*i), unsafe.Add(vp, 4*i), uintptr(4*stride), pp, np)
	}
	for ; i+vw <= n; i += vw {
		m1(unsafe.Add(dp, 4*i), unsafe.Add(vp, 4*i), uintptr(4*stride), pp, np)
	}
	if i < n {
		wsumRef(dst[i:], v[i:], stride, p)
	}
}

// Activation kernels (act_amd64.s); n is a positive multiple of the width.

//go:noescape
func swigluAVX512(gate, up unsafe.Pointer, n int)

//go:noescape
func swigluAVX2(gate, up unsafe.Pointer, n int)

//go:noescape
func expShiftAVX512(x unsafe.Pointer, n int, scale, shift float32) float32

//go:noescape
func expShiftAVX2(x unsafe.Pointer, n int, scale, shift float32) float32

func swigluAsm(k func(g, u unsafe.Pointer, n int), vw int, g, u []float32) {
	n := len(g) - len(g)%vw
	if n > 0 {
		k(unsafe.Pointer(unsafe.SliceData(g)), unsafe.Pointer(unsafe.SliceData(u)), n)
	}
	swigluRef(g[n:], u[n:])
}

func expShiftAsm(k func(x unsafe.Pointer, n int, scale, shift float32) float32, vw int, x []float32, scale, shift float32) float32 {
	n := len(x) - len(x)%vw
	var s float32
	if n > 0 {
		s = k(unsafe.Pointer(unsafe.SliceData(x)), n, scale, shift)
	}
	return s + expShiftRef(x[n:], scale, shift)
}
