package kernels

import (
	"fmt"
	"unsafe"
)

// A tile kernel computes an R×T block of dot products, for groups
// consecutive groups of R weight rows against the same T activation rows:
//
//	for g < groups, t < T, r < R:
//	    dst[(g*R + r)*4 + t*dstride] (bytes) = Σ_{i<k} w[g*R + r][i] · x[t][i]
//
// where weight row j starts at w + j*wstride and activation row t at
// x + t*xstride (strides in bytes). The assembly kernels need k to be a
// positive multiple of the vector width; the Go kernels take any k ≥ 0.
type tileFn func(w unsafe.Pointer, wstride uintptr, x unsafe.Pointer, xstride uintptr, dst unsafe.Pointer, dstride uintptr, k int, groups int)

// tileSet is indexed [R][T]; R is 1 or 4, T from 1 to the level's maxT.
type tileSet [5][5]tileFn

// Element kinds of dense weights.
const (
	kindF32 = iota
	kindF16
	kindBF16
)

var kindNames = [...]string{kindF32: "F32", kindF16: "F16", kindBF16: "BF16"}

// impl is one implementation level: its tiles per weight kind, vector
// width (k is rounded down to a multiple of it; the rest goes to the Go
// tail), the largest token tile, and its weighted-sum kernel.
type impl struct {
	name  string
	vw    int
	maxT  int
	tiles [3]*tileSet
	wsum  func(dst, v []float32, stride int, p []float32)
	// swiglu and expShift: see swigluRef and expShiftRef.
	swiglu   func(g, u []float32)
	expShift func(x []float32, scale, shift float32) float32
}

var goImpl = &impl{
	name:     "go",
	vw:       1,
	maxT:     4,
	tiles:    [3]*tileSet{goTiles(kindF32), goTiles(kindF16), goTiles(kindBF16)},
	wsum:     wsumRef,
	swiglu:   swigluRef,
	expShift: expShiftRef,
}

func goTiles(kind int) *tileSet {
	var s tileSet
	for _, r := range []int{1, 4} {
		for t := 1; t <= 4; t++ {
			r, t := r, t
			s[r][t] = func(w unsafe.Pointer, wstride uintptr, x unsafe.Pointer, xstride uintptr, dst unsafe.Pointer, dstride uintptr, k int, groups int) {
				tileRef(kind, r, t, w, wstride, x, xstride, dst, dstride, k, groups)
			}
		}
	}
	return &s
}

// cur is the implementation in use (the best the CPU has unless a test
// picked another with setImpl).
var cur = bestImpl()

// Implementations lists the kernel implementations this CPU can run, best
// last ("go", then "avx2", "avx512" where available).
func Implementations() []string {
	var names []string
	for _, im := range impls() {
		names = append(names, im.name)
	}
	return names
}

// Implementation returns the name of the implementation in use.
func Implementation() string { return cur.name }

// setImpl selects an implementation by name, for tests and benchmarks; it
// returns a function that restores the previous one. It is not safe to
// call while kernels run.
func setImpl(name string) (restore func()) {
	old := cur
	for _, im := range impls() {
		if im.name == name {
			cur = im
			return func() { cur = old }
		}
	}
	panic(fmt.Sprintf("kernels: implementation %q not available", name))
}

// mulRows computes, for weight rows [lo, hi) (lo a multiple of 4) and all n
// activation rows, dst[t*dstStride + r] = W[r]·x[t] (W[r] at w + r*wStride
// bytes, x[t] at x + t*xStride floats), single-threaded. Rows are walked in
// blocks so that a block stays in cache while every token tile passes over
// it.
func mulRows(im *impl, kind int, w unsafe.Pointer, wStride int, x []float32, xStride, n int, dst []float32, dstStride, lo, hi, cols int) {
	if n == 0 || lo >= hi {
		return
	}
	ts := im.tiles[kind]
	k := cols - cols%im.vw
	eb := 4
	if kind != kindF32 {
		eb = 2
	}
	xp := unsafe.Pointer(unsafe.SliceData(x))
	dp := unsafe.Pointer(unsafe.SliceData(dst))
	if k > 0 {
		// Rows per block: about 32 KiB of weights, a multiple of 4.
		block := (32 << 10) / (cols*eb + 1)
		block = (block + 3) &^ 3
		if block < 4 {
			block = 4
		}
		if n <= im.maxT {
			block = hi - lo
		}
		for rb := lo; rb < hi; rb += block {
			re := min(rb+block, hi)
			g4 := (re - rb) / 4
			for t := 0; t < n; t += im.maxT {
				T := min(im.maxT, n-t)
				xt := unsafe.Add(xp, 4*t*xStride)
				if g4 > 0 {
					ts[4][T](unsafe.Add(w, rb*wStride), uintptr(wStride), xt, uintptr(4*xStride),
						unsafe.Add(dp, 4*(t*dstStride+rb)), uintptr(4*dstStride), k, g4)
				}
				for r := rb + 4*g4; r < re; r++ {
					ts[1][T](unsafe.Add(w, r*wStride), uintptr(wStride), xt, uintptr(4*xStride),
						unsafe.Add(dp, 4*(t*dstStride+r)), uintptr(4*dstStride), k, 1)
				}
			}
		}
	}
	if k == cols {
		return
	}
	// The tail columns [k, cols), or everything when k is 0.
	for r := lo; r < hi; r++ {
		wr := unsafe.Add(w, r*wStride)
		for t := 0; t < n; t++ {
			s := dotTail(kind, wr, x[t*xStride:], k, cols)
			if k == 0 {
				dst[t*dstStride+r] = s
			} else {
				dst[t*dstStride+r] += s
			}
		}
	}
}

// dotTail is Σ_{k ≤ i < cols} w[i]·x[i].
func dotTail(kind int, w unsafe.Pointer, x []float32, k, cols int) float32 {
	var s float32
	for i := k; i < cols; i++ {
		s += weightAt(kind, w, i) * x[i]
	}
	return s
}
