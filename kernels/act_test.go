package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestExpRef bounds the reference exponential against math.Exp over the
// range softmax and SiLU use: relative error ≤ 3e-7 (a few float32 ulps).
func TestExpRef(t *testing.T) {
	for x := float32(-87); x <= 88; x += 0.0137 {
		want := math.Exp(float64(x))
		if d := math.Abs(float64(expRef(x))-want) / want; d > 3e-7 {
			t.Fatalf("expRef(%g) = %g, want %g (rel %.2g)", x, expRef(x), want, d)
		}
	}
	if expRef(-1000) > 1e-37 || !math.IsNaN(float64(expRef(float32(math.NaN())))) || expRef(0) != 1 {
		t.Fatalf("expRef special values: %g %g %g", expRef(-1000), expRef(float32(math.NaN())), expRef(0))
	}
}

// TestActivationsAllImpls compares SwiGLU and Softmax of every
// implementation with float64 math, at lengths around the vector widths,
// with sentinels after the slices. Tolerance: 1e-6 relative plus 1e-30
// (exp's rounding and the division).
func TestActivationsAllImpls(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, im := range impls() {
		for _, n := range []int{1, 7, 8, 9, 15, 16, 17, 33, 64, 100, 768} {
			g := make([]float32, n+1)
			u := make([]float32, n)
			for i := range u {
				g[i] = float32(rng.NormFloat64() * 6)
				u[i] = float32(rng.NormFloat64())
			}
			g[0] = -120 // e^120 overflows: silu → -0
			g[n] = 99
			want := make([]float64, n)
			for i := range want {
				z := float64(g[i])
				want[i] = z / (1 + math.Exp(-z)) * float64(u[i])
			}
			restore := setImpl(im.name)
			SwiGLU(g[:n], u)
			restore()
			if g[n] != 99 {
				t.Fatalf("%s SwiGLU n=%d wrote past the end", im.name, n)
			}
			for i := range want {
				if d := math.Abs(float64(g[i]) - want[i]); d > 1e-6*math.Abs(want[i])+1e-30 {
					t.Fatalf("%s SwiGLU n=%d [%d] = %g, want %g", im.name, n, i, g[i], want[i])
				}
			}

			x := make([]float32, n+1)
			for i := range x {
				x[i] = float32(rng.NormFloat64() * 10)
			}
			x[n] = 99
			if n > 2 {
				x[1] = float32(math.Inf(-1)) // a masked position
			}
			const scale = 0.125
			m := math.Inf(-1)
			for _, v := range x[:n] {
				m = math.Max(m, float64(v))
			}
			pw := make([]float64, n)
			var sum float64
			for i, v := range x[:n] {
				pw[i] = math.Exp(scale * (float64(v) - m))
				sum += pw[i]
			}
			restore = setImpl(im.name)
			Softmax(x[:n], scale)
			restore()
			if x[n] != 99 {
				t.Fatalf("%s Softmax n=%d wrote past the end", im.name, n)
			}
			for i := range pw {
				w := pw[i] / sum
				if d := math.Abs(float64(x[i]) - w); d > 1e-6*w+1e-30 && d > 1e-37 {
					t.Fatalf("%s Softmax n=%d [%d] = %g, want %g", im.name, n, i, x[i], w)
				}
			}
		}
	}
}

// TestSwiGLUExact holds every SwiGLU kernel to swigluRef bit for bit (they
// all compute ggml's arithmetic), on ordinary values and on the edges of
// ggml's exp: results in the subnormal range (x ≈ 100), 2^n past 126
// (x ≈ −100), |n| > 192 (±140), huge inputs, infinities, NaN and zeros.
func TestSwiGLUExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	special := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 87.3, -87.3, 88.7, -88.7, 100, -100, 103.9, -103.9,
		130, -130, 133, -133, 140, -140, 1e30, -1e30, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 1e-40, -1e-40}
	n := 16 * 20
	g0 := make([]float32, n)
	u := make([]float32, n)
	for i := range g0 {
		if i < len(special) {
			g0[i] = special[i]
		} else {
			g0[i] = float32(rng.NormFloat64() * 8)
		}
		u[i] = float32(rng.NormFloat64())
	}
	u[0] = 1
	want := append([]float32(nil), g0...)
	swigluRef(want, u)
	for _, im := range impls() {
		g := append([]float32(nil), g0...)
		restore := setImpl(im.name)
		SwiGLU(g, u)
		restore()
		for i := range g {
			if math.Float32bits(g[i]) != math.Float32bits(want[i]) && !(g[i] != g[i] && want[i] != want[i]) {
				t.Errorf("%s: SwiGLU(%g)·%g = %g (%#x), swigluRef %g (%#x)", im.name, g0[i], u[i], g[i], math.Float32bits(g[i]), want[i], math.Float32bits(want[i]))
			}
		}
	}
}

// TestExpGGML bounds ggml's exp against math.Exp: about 1.5 ulp in the
// normal range, 0 and +Inf past ggml's cut-offs.
func TestExpGGML(t *testing.T) {
	for x := float32(-87); x <= 88; x += 0.0137 {
		want := math.Exp(float64(x))
		if d := math.Abs(float64(expGGML(x))-want) / want; d > 3e-7 {
			t.Fatalf("expGGML(%g) = %g, want %g (rel %.2g)", x, expGGML(x), want, d)
		}
	}
	if expGGML(-140) != 0 || !math.IsInf(float64(expGGML(140)), 1) || expGGML(0) != 1 || !math.IsNaN(float64(expGGML(float32(math.NaN())))) {
		t.Fatalf("expGGML special values: %g %g %g", expGGML(-140), expGGML(140), expGGML(0))
	}
}
