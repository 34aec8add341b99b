package quant

import "math"

// ggml-exact dot products: the float arithmetic of the kernels that
// llama.cpp's CPU backend runs on x86 with AVX2/AVX-512 (node-llama-cpp's
// libggml-cpu-zen4.so and its siblings), step for step. Their integer parts
// equal the plain kernels'; what they add is ggml's float order:
//
//   - vec_dot (Q4_1, Q5_1, Q5_K, IQ4_XS): the integer products are kept
//     in 8 lanes of 32 bits, lane m holding, for every 32-element
//     sub-block, elements 4m…4m+3 (VPDPBUSD, or VPMADDUBSW then VPMADDWD);
//     each lane is converted to float and fused-multiply-added into its
//     own accumulator, block after block (VFMADD231PS); the 8 accumulators
//     are summed as hsum_float_8 does at the end. A scalar term (the min
//     of Q4_1/Q5_1/Q5_K) runs in its own fused chain (GCC contracts
//     `summs += a*b`) and is added last.
//   - the IQ panel GEMM (IQ4_XS batches): one fused chain of d·Σ per
//     super-block.
//
// Q4_K needs no kernel here: with SwiGLU and RMSNorm rounding as ggml's,
// lmc's AVX-512 Q4_K path already matches ggml's repacked q4_K_8x8 on
// llama.cpp's files.

// fma32 is a float32 fused multiply-add (a*b exactly, plus c, rounded once
// to float32, except for a double rounding that needs a tie at 2^-29).
func fma32(a, b, c float32) float32 {
	return float32(math.FMA(float64(a), float64(b), float64(c)))
}

// hsum8 is ggml's hsum_float_8.
func hsum8(a *[8]float32) float32 {
	x0, x1, x2, x3 := a[4]+a[0], a[5]+a[1], a[6]+a[2], a[7]+a[3]
	return (x0 + x2) + (x1 + x3)
}

func dotQ4_1Q8_1GGML(n int, x, y []byte) float32 {
	var acc [8]float32
	var summs float32
	for ; len(x) >= 20; x, y = x[20:], y[36:] {
		summs = fma32(f16(le16(x[2:])), f16(le16(y[2:])), summs)
		d := f16(le16(x)) * f16(le16(y))
		for m := 0; m < 8; m++ {
			var s int32
			for b := 4 * m; b < 4*m+4; b++ {
				var q int32
				if b < 16 {
					q = int32(x[4+b] & 15)
				} else {
					q = int32(x[4+b-16] >> 4)
				}
				s += q * int32(int8(y[4+b]))
			}
			acc[m] = fma32(d, float32(s), acc[m])
		}
	}
	return hsum8(&acc) + summs
}

func dotQ5_1Q8_1GGML(n int, x, y []byte) float32 {
	var acc [8]float32
	var summs float32
	for ; len(x) >= 24; x, y = x[24:], y[36:] {
		summs = fma32(f16(le16(x[2:])), f16(le16(y[2:])), summs)
		d := f16(le16(x)) * f16(le16(y))
		qh := le32(x[4:])
		for m := 0; m < 8; m++ {
			var s int32
			for b := 4 * m; b < 4*m+4; b++ {
				var q int32
				if b < 16 {
					q = int32(x[8+b] & 15)
				} else {
					q = int32(x[8+b-16] >> 4)
				}
				q |= int32(qh>>b&1) << 4
				s += q * int32(int8(y[4+b]))
			}
			acc[m] = fma32(d, float32(s), acc[m])
		}
	}
	return hsum8(&acc) + summs
}

func dotQ5KQ8KGGML(n int, x, y []byte) float32 {
	var acc [8]float32
	var summs float32
	for ; len(x) >= q5KBytes; x, y = x[q5KBytes:], y[q8KBytes:] {
		dy, q8, bsum := q8K(y)
		d := dy * f16(le16(x))
		dmin := -dy * f16(le16(x[2:]))
		var summ int32
		qh, ql := x[16:48], x[48:176]
		var lanes [8]int32
		for j := 0; j < 8; j++ {
			sc, m := scaleMinK4(j, x[4:16])
			summ += int32(m) * (bsum(2*j) + bsum(2*j+1))
			shift := uint(4 * (j & 1))
			for mm := 0; mm < 8; mm++ {
				var s int32
				for l := 4 * mm; l < 4*mm+4; l++ {
					v := int32(ql[32*(j/2)+l]>>shift&15) | int32(qh[l]>>j&1)<<4
					s += v * int32(int8(q8[32*j+l]))
				}
				lanes[mm] += int32(sc) * s
			}
		}
		summs = fma32(dmin, float32(summ), summs)
		for m := range lanes {
			acc[m] = fma32(d, float32(lanes[m]), acc[m])
		}
	}
	return hsum8(&acc) + summs
}

func dotIQ4XSQ8KGGML(n int, x, y []byte) float32 {
	var acc [8]float32
	for ; len(x) >= iq4XSBytes; x, y = x[iq4XSBytes:], y[q8KBytes:] {
		dy, q8, _ := q8K(y)
		sh := le16(x[2:])
		qs := x[8:136]
		var lanes [8]int32
		for ib := 0; ib < 8; ib++ {
			ls := int32(x[4+ib/2]>>(4*(ib%2))&15) | int32(sh>>(2*ib)&3)<<4
			for m := 0; m < 8; m++ {
				var s int32
				for b := 4 * m; b < 4*m+4; b++ {
					var v int32
					if b < 16 {
						v = int32(kvaluesIQ4NL[qs[16*ib+b]&15])
					} else {
						v = int32(kvaluesIQ4NL[qs[16*ib+b-16]>>4])
					}
					s += v * int32(int8(q8[32*ib+b]))
				}
				lanes[m] += (ls - 32) * s
			}
		}
		d := f16(le16(x)) * dy
		for m := range lanes {
			acc[m] = fma32(d, float32(lanes[m]), acc[m])
		}
	}
	return hsum8(&acc)
}

// dotIQ4XSQ8KIqp is the IQ panel GEMM's arithmetic (iqp.cpp, batches of 8
// or more tokens): one fused chain over super-blocks of d_x·d_y·Σ.
func dotIQ4XSQ8KIqp(n int, x, y []byte) float32 {
	var acc float32
	for ; len(x) >= iq4XSBytes; x, y = x[iq4XSBytes:], y[q8KBytes:] {
		dy, q8, _ := q8K(y)
		acc = fma32(float32(iq4XSSum(x, q8)), f16(le16(x))*dy, acc)
	}
	return acc
}
