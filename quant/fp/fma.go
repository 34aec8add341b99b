package fp

import "math"

// fma32 returns a·b + c rounded once to float32, like the x86 VFMADD
// instructions (_mm256_fmadd_ps) that llama.cpp's AVX2 kernels use. Go has
// only a float64 FMA, so the exact product (48 bits fit in a float64) is
// added to c with an error-free TwoSum; the float64 sum then rounds to
// float32 correctly except when it lands exactly on a float32 midpoint
// while the true sum does not, which the TwoSum error term resolves.
// Inputs and results are assumed finite.
func fma32(a, b, c float32) float32 {
	p := float64(a) * float64(b) // exact
	q := float64(c)
	s := p + q
	bb := s - p
	e := (p - (s - bb)) + (q - bb) // s + e == p + q exactly
	r := float32(s)
	if e == 0 || float64(r) == s {
		return r
	}
	var other float32
	if s > float64(r) {
		other = math.Nextafter32(r, float32(math.Inf(1)))
	} else {
		other = math.Nextafter32(r, float32(math.Inf(-1)))
	}
	if s != (float64(r)+float64(other))/2 {
		return r // not a tie: s and the true sum round alike
	}
	// s is a float32 midpoint but the true sum lies on e's side of it.
	lo, hi := min(r, other), max(r, other)
	if e > 0 {
		return hi
	}
	return lo
}

// hsum8 is ggml's hsum_float_8 on the eight lanes of an __m256:
// ((a4+a0) + (a6+a2)) + ((a5+a1) + (a7+a3)).
func hsum8(a *[8]float32) float32 {
	r0, r1, r2, r3 := a[4]+a[0], a[5]+a[1], a[6]+a[2], a[7]+a[3]
	return (r0 + r2) + (r1 + r3)
}
