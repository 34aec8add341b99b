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
//   - the repacked Q4_K GEMV/GEMM (q4_K_8x8, used for every Q4_K matrix
//     whose row count is a multiple of 8): one fused chain for Σ sc·q·q8
//     and one for Σ m·bsum over super-blocks, subtracted at the end.

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

// dotQ4KQ8KGGML is the repacked q4_K_8x8 GEMV/GEMM's arithmetic.
func dotQ4KQ8KGGML(n int, x, y []byte) float32 {
	var accR, accM float32
	for ; len(x) >= q4KBytes; x, y = x[q4KBytes:], y[q8KBytes:] {
		dy, q8, bsum := q8K(y)
		var isum, summ int32
		q4 := x[16:144]
		for j := 0; j < 8; j++ {
			sc, m := scaleMinK4(j, x[4:16])
			summ += int32(m) * (bsum(2*j) + bsum(2*j+1))
			shift := uint(4 * (j & 1))
			var s int32
			for l := 0; l < 32; l++ {
				s += int32(q4[32*(j/2)+l]>>shift&15) * int32(int8(q8[32*j+l]))
			}
			isum += int32(sc) * s
		}
		accR = fma32(float32(isum), f16(le16(x))*dy, accR)
		accM = fma32(float32(summ), f16(le16(x[2:]))*dy, accM)
	}
	return accR - accM
}

// dotQ4KQ8KVecGGML is vec_dot_q4_K_q8_K (AVX2), for Q4_K matrices that
// are not repacked (row count not a multiple of 8).
func dotQ4KQ8KVecGGML(n int, x, y []byte) float32 {
	var acc [8]float32
	var accm [4]float32
	for ; len(x) >= q4KBytes; x, y = x[q4KBytes:], y[q8KBytes:] {
		dy, q8, bsum := q8K(y)
		d := dy * f16(le16(x))
		dmin := -dy * f16(le16(x[2:]))
		// prod lane i (of 4) = m[2i]·(bsum 4i…4i+1) + m[2i+1]·(bsum 4i+2…4i+3)
		for i := 0; i < 4; i++ {
			_, m0 := scaleMinK4(2*i, x[4:16])
			_, m1 := scaleMinK4(2*i+1, x[4:16])
			p := int32(m0)*(bsum(4*i)+bsum(4*i+1)) + int32(m1)*(bsum(4*i+2)+bsum(4*i+3))
			accm[i] = fma32(dmin, float32(p), accm[i])
		}
		q4 := x[16:144]
		var lanes [8]int32
		for j := 0; j < 8; j++ {
			sc, _ := scaleMinK4(j, x[4:16])
			shift := uint(4 * (j & 1))
			for m := 0; m < 8; m++ {
				var s int32
				for b := 4 * m; b < 4*m+4; b++ {
					s += int32(q4[32*(j/2)+b]>>shift&15) * int32(int8(q8[32*j+b]))
				}
				lanes[m] += int32(sc) * s
			}
		}
		for m := range lanes {
			acc[m] = fma32(d, float32(lanes[m]), acc[m])
		}
	}
	a0, a1 := accm[0]+accm[2], accm[1]+accm[3]
	return hsum8(&acc) + (a0 + a1)
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
		sh := le16(x[2:])
		qs := x[8:136]
		var isum int32
		for ib := 0; ib < 8; ib++ {
			ls := int32(x[4+ib/2]>>(4*(ib%2))&15) | int32(sh>>(2*ib)&3)<<4
			var s int32
			for j := 0; j < 16; j++ {
				s += int32(kvaluesIQ4NL[qs[16*ib+j]&15]) * int32(int8(q8[32*ib+j]))
				s += int32(kvaluesIQ4NL[qs[16*ib+j]>>4]) * int32(int8(q8[32*ib+16+j]))
			}
			isum += (ls - 32) * s
		}
		acc = fma32(float32(isum), f16(le16(x))*dy, acc)
	}
	return acc
}
