package kernels

import (
	"fmt"
	"math"
)

// SwiGLU sets g[i] = silu(g[i]) · u[i], where silu(z) = z / (1 + e^-z):
// the gated activation of a Llama feed-forward block. It panics if u is
// shorter than g.
func SwiGLU(g, u []float32) {
	if len(u) < len(g) {
		panic(fmt.Sprintf("kernels: SwiGLU u has %d floats, g %d", len(u), len(g)))
	}
	cur.swiglu(g, u[:len(g)])
}

// Softmax sets x to softmax(scale·x): x[i] = e^(scale·(x[i]−max)) / Σ.
// scale must be positive. -Inf entries become 0 (below 1e-37); an empty x is left alone.
func Softmax(x []float32, scale float32) {
	if len(x) == 0 {
		return
	}
	if !(scale > 0) {
		panic(fmt.Sprintf("kernels: Softmax scale %v is not positive", scale))
	}
	m := x[0]
	for _, v := range x[1:] {
		if v > m {
			m = v
		}
	}
	sum := cur.expShift(x, scale, m*scale)
	inv := 1 / sum
	for i := range x {
		x[i] *= inv
	}
}

// expRef is e^x in float32, the algorithm of the assembly (Cephes expf):
// x clamped to [-87.33, 88], k = round(x·log2 e), r = x − k·ln 2 with ln 2
// split in two parts, e^r ≈ 1 + r + r²·p(r) with a degree-5 p, times 2^k.
// Relative error within 2e-7 over the clamped range.
func expRef(x float32) float32 {
	if x != x {
		return x
	}
	x = min(max(x, -87.33), 88)
	k := float32(math.RoundToEven(float64(x * 1.44269504088896341)))
	r := x - k*0.693359375
	r -= k * -2.12194440e-4
	p := float32(1.9875691500e-4)
	p = p*r + 1.3981999507e-3
	p = p*r + 8.3334519073e-3
	p = p*r + 4.1665795894e-2
	p = p*r + 1.6666665459e-1
	p = p*r + 5.0000001201e-1
	y := p*(r*r) + r + 1
	return y * math.Float32frombits(uint32(int32(k)+127)<<23)
}

// swigluRef is the loop the SwiGLU kernels compute: ggml's
// ggml_vec_swiglu_f32, silu(x) = x / (1 + e^(0−x)) with ggml's exp, then
// times u, so that lmc's activations round exactly as llama.cpp's.
func swigluRef(g, u []float32) {
	for i, z := range g {
		g[i] = z / (1 + expGGML(0-z)) * u[i]
	}
}

// expShiftRef is the loop the softmax kernels compute: x[i] =
// e^(x[i]·scale − shift), returning the sum.
func expShiftRef(x []float32, scale, shift float32) float32 {
	var s float32
	for i, v := range x {
		e := expRef(v*scale - shift)
		x[i] = e
		s += e
	}
	return s
}
