package kernels

import "math"

// fmaf is a float32 fused multiply-add (a·b + c rounded once; through
// float64, which differs only for a tie at 2^-29, never in these uses).
func fmaf(a, b, c float32) float32 { return float32(math.FMA(float64(a), float64(b), float64(c))) }

// expGGML is ggml's vectorised ggml_v_expf (the AVX-512 version),
// operation for operation: n = round(x·log2 e), b = x − n·ln2 in two
// fused steps, e^b by a degree-5 polynomial in fused steps, times 2^n
// (one rounding, as VSCALEFPS); 0 or +Inf where |n| > 192.
func expGGML(x float32) float32 {
	const r = 0x1.8p23
	z := fmaf(x, 0x1.715476p+0, r)
	n := z - r
	b := fmaf(-n, 0x1.7f7d1cp-20, fmaf(-n, 0x1.62e4p-1, x))
	u := b * b
	j := fmaf(fmaf(fmaf(0x1.0e4020p-7, b, 0x1.573e2ep-5), u, fmaf(0x1.555e66p-3, b, 0x1.fffdb6p-2)), u, fmaf(0x1.ffffecp-1, b, 1))
	if n != n {
		return n
	}
	if abs32f(n) > 192 {
		if n <= 0 {
			return 0
		}
		return float32(math.Inf(1))
	}
	return float32(float64(j) * math.Ldexp(1, int(n)))
}

func abs32f(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }
