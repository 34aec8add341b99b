package quant

import (
	"math"
	"math/rand/v2"
	"testing"
)

// bestIndexBisect is ggml's best_index_int8 as written in C, the oracle
// for bestIndexInt8.
func bestIndexBisect(val *[16]int8, x float32) int {
	if x <= float32(val[0]) {
		return 0
	}
	if x >= float32(val[15]) {
		return 15
	}
	ml, mu := 0, 15
	for mu-ml > 1 {
		mav := (ml + mu) / 2
		if x < float32(val[mav]) {
			mu = mav
		} else {
			ml = mav
		}
	}
	if x-float32(val[mu-1]) < float32(val[mu])-x {
		return mu - 1
	}
	return mu
}

func TestBestIndexInt8(t *testing.T) {
	var xs []float32
	for v := -130; v <= 130; v++ { // every integer, midpoint and neighbour
		for _, f := range []float32{float32(v), float32(v) + 0.5} {
			xs = append(xs, f, math.Nextafter32(f, -200), math.Nextafter32(f, 200))
		}
	}
	xs = append(xs, 1e6, -1e6, 3e18, -3e18)
	r := rand.New(rand.NewPCG(9, 9))
	for range 10000 {
		xs = append(xs, float32(r.NormFloat64()*80))
	}
	for _, x := range xs {
		if got, want := bestIndexInt8(x), bestIndexBisect(&kvaluesIQ4NL, x); got != want {
			t.Fatalf("x=%v: got %d, want %d", x, got, want)
		}
	}
}

func TestRoundHalfAway(t *testing.T) {
	for _, v := range []float32{0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.49999997, -0.49999997, 126.5, -126.5, 127.49999, 3.7, -3.7} {
		if got, want := roundHalfAway(v), int32(math.Round(float64(v))); got != want {
			t.Errorf("roundHalfAway(%v) = %d, want %d", v, got, want)
		}
	}
}
