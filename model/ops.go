package model

import (
	"math"
)

// rmsNorm sets dst = x / sqrt(mean(x²) + eps) * w (PyTorch's RMSNorm: the
// sum of squares in higher precision, the scaling in float32).
func rmsNorm(dst, x, w []float32, eps float32) {
	// ggml's rms_norm, rounding for rounding: squares in float32 summed
	// in float64, the mean rounded to float32, 1/sqrtf(mean+eps).
	var ss float64
	for _, v := range x {
		ss += float64(float32(v * v))
	}
	mean := float32(ss / float64(len(x)))
	s := 1 / float32(math.Sqrt(float64(mean+eps)))
	w = w[:len(x)]
	dst = dst[:len(x)]
	for i, v := range x {
		dst[i] = v * s * w[i]
	}
}

// rope rotates x (one head of hd floats) by the angles pos·invFreq[i],
// given as cos/sin per pair. Interleaved (GGUF llama): pairs (x[2i],
// x[2i+1]). NEOX (qwen2, qwen3): pairs (x[i], x[i+hd/2]).
func rope(x, cos, sin []float32, neox bool) {
	half := len(cos)
	if neox {
		a, b := x[:half], x[half:2*half]
		for i := range half {
			x0, x1 := a[i], b[i]
			a[i] = x0*cos[i] - x1*sin[i]
			b[i] = x0*sin[i] + x1*cos[i]
		}
		return
	}
	for i := range half {
		x0, x1 := x[2*i], x[2*i+1]
		x[2*i] = x0*cos[i] - x1*sin[i]
		x[2*i+1] = x0*sin[i] + x1*cos[i]
	}
}

// ropeAngles fills cos and sin (hd/2 each) for position pos: the angle is
// float32(pos)·invFreq[i] rounded to float32, as PyTorch computes it.
func ropeAngles(cos, sin, invFreq []float32, pos int) {
	p := float32(pos)
	for i, f := range invFreq {
		a := float64(p * f)
		s, c := math.Sincos(a)
		cos[i], sin[i] = float32(c), float32(s)
	}
}
