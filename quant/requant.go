package quant

import "unsafe"

// requantArgs describes the final requantization of a k-quant
// super-block: for each sub-block s of bs elements whose scale d[s] is not
// zero, L[i] = clamp(nearest_int((x[i] + m[s])/d[s]), lo, hi) + off; the
// codes of a sub-block with d[s] = 0 are left as they are (as in ggml).
// Q3_K and Q6_K have no min: m is 0, and x + 0 changes only the sign of a
// zero, which nearest_int ignores.
type requantArgs struct {
	L           *byte
	x           *float32
	d, m        *float32
	nsub, bs    int
	lo, hi, off int32
	_           int32
}

// requantGo is the reference.
func requantGo(a *requantArgs) {
	L := unsafe.Slice(a.L, a.nsub*a.bs)
	x := unsafe.Slice(a.x, a.nsub*a.bs)
	d, m := unsafe.Slice(a.d, a.nsub), unsafe.Slice(a.m, a.nsub)
	for s := range a.nsub {
		if d[s] == 0 {
			continue
		}
		for i := s * a.bs; i < (s+1)*a.bs; i++ {
			L[i] = byte(clampInt(nearestInt((x[i]+m[s])/d[s]), a.lo, a.hi) + a.off)
		}
	}
}

// requantCodes runs requant on a super-block.
func requantCodes[T int8 | uint8](L []T, x []float32, d, m []float32, bs int, lo, hi, off int32) {
	requant(&requantArgs{
		L: (*byte)(unsafe.Pointer(&L[0])), x: &x[0], d: &d[0], m: &m[0],
		nsub: len(d), bs: bs, lo: lo, hi: hi, off: off,
	})
}
