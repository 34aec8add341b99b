package quant

// The 32-element formats Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0: reference
// quantizers (ggml's quantize_row_*_ref, used by llama-quantize when no
// importance matrix is given), the importance-weighted ones
// (quantize_row_*_impl) and the dequantizers.

const qk = 32 // elements per block of the 32-element formats

// absMaxSigned returns the element of largest magnitude of x (the first
// one on ties), and its magnitude.
func absMaxSigned(x []float32) (max, amax float32) {
	for _, v := range x {
		if a := abs32(v); amax < a {
			amax, max = a, v
		}
	}
	return max, amax
}

func minMax(x []float32) (min, max float32) {
	min, max = 3.40282347e38, -3.40282347e38
	for _, v := range x {
		if v < min {
			min = v
		}
		if v > max {
			max = v
		}
	}
	return min, max
}

func inv(d float32) float32 {
	if d != 0 {
		return 1 / d
	}
	return 0
}

// --- Q4_0: half d; u8 qs[16] --------------------------------------------

func quantizeQ4_0Ref(dst []byte, x []float32) {
	for ; len(x) >= qk; x, dst = x[qk:], dst[18:] {
		max, _ := absMaxSigned(x[:qk])
		d := max / -8
		id := inv(d)
		put16(dst, fp16(d))
		for j := 0; j < 16; j++ {
			x0 := int8(float32(x[j]*id) + 8.5)
			x1 := int8(float32(x[j+16]*id) + 8.5)
			dst[2+j] = byte(min(15, x0)) | byte(min(15, x1))<<4
		}
	}
}

func quantizeQ4_0Impl(dst []byte, x, qw []float32) {
	sigma2 := blockSigma2(x, 1)
	var w [qk]float32
	var L [qk]int8
	for ; len(x) >= qk; x, dst, qw = x[qk:], dst[18:], qw[qk:] {
		imatrixWeights(w[:], x[:qk], qw, sigma2)
		d := makeQxQuants(qk, 8, x[:qk], L[:], 1, w[:])
		put16(dst, fp16(d))
		for j := 0; j < 16; j++ {
			dst[2+j] = byte(L[j]) | byte(L[j+16])<<4
		}
	}
}

func dequantizeQ4_0(y []float32, b []byte) {
	for ; len(b) >= 18; b, y = b[18:], y[qk:] {
		d := f16(le16(b))
		for j := 0; j < 16; j++ {
			q := b[2+j]
			y[j] = float32(int32(q&15)-8) * d
			y[j+16] = float32(int32(q>>4)-8) * d
		}
	}
}

// --- Q4_1: half d; half m; u8 qs[16] ------------------------------------

func quantizeQ4_1Ref(dst []byte, x []float32) {
	for ; len(x) >= qk; x, dst = x[qk:], dst[20:] {
		mn, mx := minMax(x[:qk])
		d := (mx - mn) / 15
		id := inv(d)
		put16(dst, fp16(d))
		put16(dst[2:], fp16(mn))
		for j := 0; j < 16; j++ {
			x0 := int8(float32((x[j]-mn)*id) + 0.5)
			x1 := int8(float32((x[j+16]-mn)*id) + 0.5)
			dst[4+j] = byte(min(15, x0)) | byte(min(15, x1))<<4
		}
	}
}

func quantizeQ4_1Impl(dst []byte, x, qw []float32) {
	sigma2 := blockSigma2(x, 1)
	var w [qk]float32
	var L, Laux [qk]uint8
	for ; len(x) >= qk; x, dst, qw = x[qk:], dst[20:], qw[qk:] {
		imatrixWeights(w[:], x[:qk], qw, sigma2)
		d, mn := makeQkx3Quants(qk, 15, x[:qk], w[:], L[:], Laux[:], -0.9, 0.05, 36, false)
		put16(dst, fp16(d))
		put16(dst[2:], fp16(-mn))
		for j := 0; j < 16; j++ {
			dst[4+j] = L[j] | L[j+16]<<4
		}
	}
}

func dequantizeQ4_1(y []float32, b []byte) {
	for ; len(b) >= 20; b, y = b[20:], y[qk:] {
		d, m := f16(le16(b)), f16(le16(b[2:]))
		for j := 0; j < 16; j++ {
			q := b[4+j]
			// The products are exact (4-bit × 11-bit), so fused or not
			// the result is rounded once.
			y[j] = float32(float32(q&15)*d) + m
			y[j+16] = float32(float32(q>>4)*d) + m
		}
	}
}

// --- Q5_0: half d; u8 qh[4]; u8 qs[16] ----------------------------------

func quantizeQ5_0Ref(dst []byte, x []float32) {
	for ; len(x) >= qk; x, dst = x[qk:], dst[22:] {
		max, _ := absMaxSigned(x[:qk])
		d := max / -16
		id := inv(d)
		put16(dst, fp16(d))
		var qh uint32
		for j := 0; j < 16; j++ {
			x0 := uint8(min(31, int8(float32(x[j]*id)+16.5)))
			x1 := uint8(min(31, int8(float32(x[j+16]*id)+16.5)))
			dst[6+j] = x0&15 | (x1&15)<<4
			qh |= uint32(x0>>4) << j
			qh |= uint32(x1>>4) << (j + 16)
		}
		put32(dst[2:], qh)
	}
}

func quantizeQ5_0Impl(dst []byte, x, qw []float32) {
	sigma2 := blockSigma2(x, 1)
	var w [qk]float32
	var L [qk]int8
	for ; len(x) >= qk; x, dst, qw = x[qk:], dst[22:], qw[qk:] {
		imatrixWeights(w[:], x[:qk], qw, sigma2)
		d := makeQxQuants(qk, 16, x[:qk], L[:], 1, w[:])
		put16(dst, fp16(d))
		packQ5(dst[2:], dst[6:], L[:])
	}
}

// packQ5 stores 32 five-bit values (held in int8 or uint8) as 16 bytes of
// nibbles (element j low, j+16 high) and a little-endian u32 of fifth bits.
func packQ5[T int8 | uint8](qhb, qs []byte, L []T) {
	var qh uint32
	for j := 0; j < 16; j++ {
		x0, x1 := uint8(L[j]), uint8(L[j+16])
		qs[j] = x0&15 | (x1&15)<<4
		qh |= uint32(x0>>4&1) << j
		qh |= uint32(x1>>4&1) << (j + 16)
	}
	put32(qhb, qh)
}

func dequantizeQ5_0(y []float32, b []byte) {
	for ; len(b) >= 22; b, y = b[22:], y[qk:] {
		d := f16(le16(b))
		qh := le32(b[2:])
		for j := 0; j < 16; j++ {
			q := b[6+j]
			h0 := int32(qh>>j&1) << 4
			h1 := int32(qh>>(j+16)&1) << 4
			y[j] = float32(int32(q&15)|h0-16) * d
			y[j+16] = float32(int32(q>>4)|h1-16) * d
		}
	}
}

// --- Q5_1: half d; half m; u8 qh[4]; u8 qs[16] --------------------------

func quantizeQ5_1Ref(dst []byte, x []float32) {
	for ; len(x) >= qk; x, dst = x[qk:], dst[24:] {
		mn, mx := minMax(x[:qk])
		d := (mx - mn) / 31
		id := inv(d)
		put16(dst, fp16(d))
		put16(dst[2:], fp16(mn))
		var qh uint32
		for j := 0; j < 16; j++ {
			x0 := uint8(float32((x[j]-mn)*id) + 0.5)
			x1 := uint8(float32((x[j+16]-mn)*id) + 0.5)
			dst[8+j] = x0&15 | (x1&15)<<4
			qh |= uint32(x0>>4&1) << j
			qh |= uint32(x1>>4&1) << (j + 16)
		}
		put32(dst[4:], qh)
	}
}

func quantizeQ5_1Impl(dst []byte, x, qw []float32) {
	sigma2 := blockSigma2(x, 1)
	var w [qk]float32
	var L, Laux [qk]uint8
	for ; len(x) >= qk; x, dst, qw = x[qk:], dst[24:], qw[qk:] {
		imatrixWeights(w[:], x[:qk], qw, sigma2)
		d, mn := makeQkx3Quants(qk, 31, x[:qk], w[:], L[:], Laux[:], -0.9, 0.05, 36, false)
		put16(dst, fp16(d))
		put16(dst[2:], fp16(-mn))
		packQ5(dst[4:], dst[8:], L[:])
	}
}

func dequantizeQ5_1(y []float32, b []byte) {
	for ; len(b) >= 24; b, y = b[24:], y[qk:] {
		d, m := f16(le16(b)), f16(le16(b[2:]))
		qh := le32(b[4:])
		for j := 0; j < 16; j++ {
			q := b[8+j]
			h0 := uint8(qh>>j&1) << 4
			h1 := uint8(qh>>(j+16)&1) << 4
			y[j] = float32(float32(q&15|h0)*d) + m
			y[j+16] = float32(float32(q>>4|h1)*d) + m
		}
	}
}

// --- Q8_0: half d; i8 qs[32] --------------------------------------------

func quantizeQ8_0Ref(dst []byte, x []float32) {
	for ; len(x) >= qk; x, dst = x[qk:], dst[34:] {
		var amax float32
		for _, v := range x[:qk] {
			amax = max(amax, abs32(v))
		}
		d := amax / 127
		id := inv(d)
		put16(dst, fp16(d))
		for j, v := range x[:qk] {
			dst[2+j] = byte(int8(roundHalfAway(float32(v * id))))
		}
	}
}

func dequantizeQ8_0(y []float32, b []byte) {
	for ; len(b) >= 34; b, y = b[34:], y[qk:] {
		d := f16(le16(b))
		for j := range qk {
			y[j] = float32(int8(b[2+j])) * d
		}
	}
}

// --- Q8_1: half d; half s; i8 qs[32] (activations only) -----------------

// quantizeQ8_1Ref is quantize_row_q8_1_ref: Q8_0's reference codes and
// s = fp16(Σcodes·d).
func quantizeQ8_1Ref(dst []byte, x []float32) {
	for ; len(x) >= qk; x, dst = x[qk:], dst[36:] {
		var amax float32
		for _, v := range x[:qk] {
			amax = max(amax, abs32(v))
		}
		d := amax / 127
		id := inv(d)
		put16(dst, fp16(d))
		var sum int32
		for j, v := range x[:qk] {
			q := int8(roundHalfAway(float32(v * id)))
			dst[4+j] = byte(q)
			sum += int32(q)
		}
		put16(dst[2:], fp16(float32(sum)*d))
	}
}

func dequantizeQ8_1(y []float32, b []byte) {
	for ; len(b) >= 36; b, y = b[36:], y[qk:] {
		d := f16(le16(b))
		for j := range qk {
			y[j] = float32(int8(b[4+j])) * d
		}
	}
}

// --- helpers shared by the importance-weighted quantizers ---------------

// imatrixWeights sets w[j] = qw[j]·sqrt(sigma2 + x[j]²).
func imatrixWeights(w, x, qw []float32, sigma2 float32) {
	for j := range w {
		w[j] = qw[j] * sqrt32(float32(x[j]*x[j])+sigma2)
	}
}
