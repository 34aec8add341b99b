package quant

// Pure-Go dot products of a weight row (x) and an activation row (y),
// ggml's vec_dot_*: per block an exact integer dot product, scaled in
// float32 and summed block by block. They are the reference for the
// assembly kernels and the implementation under the noasm and purego tags.

func dotQ8_0Q8_0(n int, x, y []byte) float32 {
	var sumf float32
	for ; len(x) >= 34; x, y = x[34:], y[34:] {
		var sumi int32
		for j := 2; j < 34; j++ {
			sumi += int32(int8(x[j])) * int32(int8(y[j]))
		}
		sumf += float32(sumi) * float32(f16(le16(x))*f16(le16(y)))
	}
	return sumf
}

func dotQ4_0Q8_0(n int, x, y []byte) float32 {
	var sumf float32
	for ; len(x) >= 18; x, y = x[18:], y[34:] {
		var sumi int32
		for j := 0; j < 16; j++ {
			q := x[2+j]
			sumi += (int32(q&15) - 8) * int32(int8(y[2+j]))
			sumi += (int32(q>>4) - 8) * int32(int8(y[18+j]))
		}
		sumf += float32(sumi) * float32(f16(le16(x))*f16(le16(y)))
	}
	return sumf
}

// dotQ4_1Q8_1 is ggml's vec_dot_q4_1_q8_1: Σ d_x·d_y·Σq_x·q_y + m_x·s_y
// over blocks, where s_y = d_y·Σq_y is stored in the Q8_1 block.
func dotQ4_1Q8_1(n int, x, y []byte) float32 {
	var sumf float32
	for ; len(x) >= 20; x, y = x[20:], y[36:] {
		var sumi int32
		for j := 0; j < 16; j++ {
			q := x[4+j]
			sumi += int32(q&15)*int32(int8(y[4+j])) + int32(q>>4)*int32(int8(y[20+j]))
		}
		sumf += float32(float32(f16(le16(x))*f16(le16(y)))*float32(sumi)) + float32(f16(le16(x[2:]))*f16(le16(y[2:])))
	}
	return sumf
}

func dotQ5_0Q8_0(n int, x, y []byte) float32 {
	var sumf float32
	for ; len(x) >= 22; x, y = x[22:], y[34:] {
		qh := le32(x[2:])
		var sumi int32
		for j := 0; j < 16; j++ {
			q := x[6+j]
			x0 := int32(q&15) | int32(qh>>j&1)<<4 - 16
			x1 := int32(q>>4) | int32(qh>>(j+16)&1)<<4 - 16
			sumi += x0*int32(int8(y[2+j])) + x1*int32(int8(y[18+j]))
		}
		sumf += float32(sumi) * float32(f16(le16(x))*f16(le16(y)))
	}
	return sumf
}

func dotQ5_1Q8_1(n int, x, y []byte) float32 {
	var sumf float32
	for ; len(x) >= 24; x, y = x[24:], y[36:] {
		qh := le32(x[4:])
		var sumi int32
		for j := 0; j < 16; j++ {
			q := x[8+j]
			x0 := int32(q&15) | int32(qh>>j&1)<<4
			x1 := int32(q>>4) | int32(qh>>(j+16)&1)<<4
			sumi += x0*int32(int8(y[4+j])) + x1*int32(int8(y[20+j]))
		}
		sumf += float32(float32(f16(le16(x))*f16(le16(y)))*float32(sumi)) + float32(f16(le16(x[2:]))*f16(le16(y[2:])))
	}
	return sumf
}

func dotIQ4NLQ8_0(n int, x, y []byte) float32 {
	var sumf float32
	for ; len(x) >= 18; x, y = x[18:], y[34:] {
		var sumi int32
		for j := 0; j < 16; j++ {
			q := x[2+j]
			sumi += int32(kvaluesIQ4NL[q&15])*int32(int8(y[2+j])) + int32(kvaluesIQ4NL[q>>4])*int32(int8(y[18+j]))
		}
		sumf += float32(sumi) * float32(f16(le16(x))*f16(le16(y)))
	}
	return sumf
}

// q8K returns the scale, codes and block sums of a Q8_K block.
func q8K(y []byte) (d float32, q []byte, bsum func(j int) int32) {
	return f32frombits(le32(y)), y[4:260], func(j int) int32 { return int32(int16(le16(y[260+2*j:]))) }
}

func dotQ2KQ8K(n int, x, y []byte) float32 {
	var sumf float32
	for ; len(x) >= q2KBytes; x, y = x[q2KBytes:], y[q8KBytes:] {
		dy, q8, bsum := q8K(y)
		sc := x[0:16]
		var summs int32
		for j := 0; j < 16; j++ {
			summs += bsum(j) * int32(sc[j]>>4)
		}
		var isum int32
		q2 := x[16:80]
		is := 0
		for k := 0; k < 2; k++ {
			for shift := uint(0); shift < 8; shift += 2 {
				for h := 0; h < 2; h++ {
					var s int32
					for l := 0; l < 16; l++ {
						s += int32(int8(q8[l])) * int32(q2[16*h+l]>>shift&3)
					}
					isum += int32(sc[is]&15) * s
					is++
					q8 = q8[16:]
				}
			}
			q2 = q2[32:]
		}
		dall := dy * f16(le16(x[80:]))
		dmin := dy * f16(le16(x[82:]))
		sumf += float32(dall*float32(isum)) - float32(dmin*float32(summs))
	}
	return sumf
}

func dotQ3KQ8K(n int, x, y []byte) float32 {
	var sumf float32
	for ; len(x) >= q3KBytes; x, y = x[q3KBytes:], y[q8KBytes:] {
		dy, q8, _ := q8K(y)
		hm, q3, sc := x[0:32], x[32:96], x[96:108]
		var isum int32
		is := 0
		m := uint8(1)
		for k := 0; k < 2; k++ {
			for shift := uint(0); shift < 8; shift += 2 {
				for h := 0; h < 2; h++ {
					var s int32
					for l := 0; l < 16; l++ {
						v := int32(q3[16*h+l] >> shift & 3)
						if hm[16*h+l]&m == 0 {
							v -= 4
						}
						s += int32(int8(q8[l])) * v
					}
					isum += int32(q3Scale(sc, is)) * s
					is++
					q8 = q8[16:]
				}
				m <<= 1
			}
			q3 = q3[32:]
		}
		sumf += float32(f16(le16(x[108:]))*dy) * float32(isum)
	}
	return sumf
}

func dotQ4KQ8K(n int, x, y []byte) float32 {
	var sumf float32
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
		d := dy * f16(le16(x))
		dmin := dy * f16(le16(x[2:]))
		sumf += float32(d*float32(isum)) - float32(dmin*float32(summ))
	}
	return sumf
}

func dotQ5KQ8K(n int, x, y []byte) float32 {
	var sumf float32
	for ; len(x) >= q5KBytes; x, y = x[q5KBytes:], y[q8KBytes:] {
		dy, q8, bsum := q8K(y)
		var isum, summ int32
		qh, ql := x[16:48], x[48:176]
		for j := 0; j < 8; j++ {
			sc, m := scaleMinK4(j, x[4:16])
			summ += int32(m) * (bsum(2*j) + bsum(2*j+1))
			shift := uint(4 * (j & 1))
			var s int32
			for l := 0; l < 32; l++ {
				v := int32(ql[32*(j/2)+l]>>shift&15) | int32(qh[l]>>j&1)<<4
				s += v * int32(int8(q8[32*j+l]))
			}
			isum += int32(sc) * s
		}
		d := dy * f16(le16(x))
		dmin := dy * f16(le16(x[2:]))
		sumf += float32(d*float32(isum)) - float32(dmin*float32(summ))
	}
	return sumf
}

func dotQ6KQ8K(n int, x, y []byte) float32 {
	var sumf float32
	for ; len(x) >= q6KBytes; x, y = x[q6KBytes:], y[q8KBytes:] {
		dy, q8, _ := q8K(y)
		ql, qh, sc := x[0:128], x[128:192], x[192:208]
		var isum int32
		for n := 0; n < 2; n++ {
			for l := 0; l < 32; l++ {
				is := l / 16
				q1 := int32(ql[l]&15|(qh[l]>>0&3)<<4) - 32
				q2 := int32(ql[l+32]&15|(qh[l]>>2&3)<<4) - 32
				q3 := int32(ql[l]>>4|(qh[l]>>4&3)<<4) - 32
				q4 := int32(ql[l+32]>>4|(qh[l]>>6&3)<<4) - 32
				isum += int32(int8(sc[is+0])) * q1 * int32(int8(q8[l]))
				isum += int32(int8(sc[is+2])) * q2 * int32(int8(q8[l+32]))
				isum += int32(int8(sc[is+4])) * q3 * int32(int8(q8[l+64]))
				isum += int32(int8(sc[is+6])) * q4 * int32(int8(q8[l+96]))
			}
			ql, qh, sc, q8 = ql[64:], qh[32:], sc[8:], q8[128:]
		}
		sumf += float32(f16(le16(x[208:]))*dy) * float32(isum)
	}
	return sumf
}

// iq4XSSum is one IQ4_XS super-block's integer dot product with its Q8_K
// activations, Σ over sub-blocks of (scale − 32)·Σ q·q8.
func iq4XSSum(x, q8 []byte) int32 {
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
	return isum
}

// quantizeRowQ8_1Go is ggml-cpu's quantize_row_q8_1 (AVX arithmetic): the
// codes of quantizeRowQ8_0Go and s = fp16(d·Σcodes), d = amax/127.
func quantizeRowQ8_1Go(dst []byte, x []float32) {
	for ; len(x) >= qk; x, dst = x[qk:], dst[36:] {
		var amax float32
		for _, v := range x[:qk] {
			amax = max(amax, abs32(v))
		}
		d := amax / 127
		put16(dst, fp16(d))
		var id float32
		if amax != 0 {
			id = 127 / amax
		}
		var sum int32
		for j, v := range x[:qk] {
			q := int8(roundEven32(float32(v * id)))
			dst[4+j] = byte(q)
			sum += int32(q)
		}
		put16(dst[2:], fp16(d*float32(sum)))
	}
}

// quantizeRowQ8_0Go is ggml-cpu's quantize_row_q8_0 (the AVX code's
// arithmetic): d = amax/127, id = 127/amax, codes round-half-even(x·id).
func quantizeRowQ8_0Go(dst []byte, x []float32) {
	for ; len(x) >= qk; x, dst = x[qk:], dst[34:] {
		var amax float32
		for _, v := range x[:qk] {
			amax = max(amax, abs32(v))
		}
		put16(dst, fp16(amax/127))
		var id float32
		if amax != 0 {
			id = 127 / amax
		}
		for j, v := range x[:qk] {
			dst[2+j] = byte(int8(roundEven32(float32(v * id))))
		}
	}
}
