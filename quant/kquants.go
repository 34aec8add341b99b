package quant

// The k-quants: 256-element super-blocks of 16 or 32-element sub-blocks
// with quantized sub-block scales (ggml-quants.c, "2-6 bit quantization in
// super-blocks").

const qkK = 256 // elements per super-block (QK_K)

// Block sizes in bytes.
const (
	q2KBytes = 84
	q3KBytes = 110
	q4KBytes = 144
	q5KBytes = 176
	q6KBytes = 210
	q8KBytes = 292
)

// --- Q2_K: u8 scales[16]; u8 qs[64]; half d; half dmin ------------------

func quantizeQ2KRef(dst []byte, x []float32) {
	var L [qkK]uint8
	var weights, weightsB [16]float32
	var mins, scales [qkK / 16]float32
	const q4scale = 15
	for ; len(x) >= qkK; x, dst = x[qkK:], dst[q2KBytes:] {
		sc := dst[0:16]
		var maxScale, maxMin float32
		for j := 0; j < qkK/16; j += 2 {
			xa, xb := x[16*j:16*j+16], x[16*j+16:16*j+32]
			for l := range 16 {
				weights[l], weightsB[l] = abs32(xa[l]), abs32(xb[l])
			}
			scales[j], mins[j], scales[j+1], mins[j+1] = makeQkx2Pair(16, 3, xa, xb, weights[:], weightsB[:],
				L[16*j:], L[16*j+16:], -0.5, 0.1, 15, true)
		}
		for j := range scales {
			if scales[j] > maxScale {
				maxScale = scales[j]
			}
			if mins[j] > maxMin {
				maxMin = mins[j]
			}
		}
		if maxScale > 0 {
			iscale := q4scale / maxScale
			for j := range scales {
				sc[j] = uint8(ni(iscale, scales[j]))
			}
			put16(dst[80:], fp16(maxScale/q4scale))
		} else {
			clear(sc)
			put16(dst[80:], fp16(0))
		}
		if maxMin > 0 {
			iscale := q4scale / maxMin
			for j := range mins {
				sc[j] |= uint8(ni(iscale, mins[j])) << 4
			}
			put16(dst[82:], fp16(maxMin/q4scale))
		} else {
			put16(dst[82:], fp16(0))
		}
		dd, dm := f16(le16(dst[80:])), f16(le16(dst[82:]))
		requantQ2K(L[:], x, sc, dd, dm)
		packQ2K(dst[16:80], L[:])
	}
}

func requantQ2K(L []uint8, x []float32, sc []byte, dd, dm float32) {
	var d, m [16]float32
	for j := range d {
		d[j] = dd * float32(sc[j]&15)
		m[j] = dm * float32(sc[j]>>4)
	}
	requantCodes(L[:qkK], x, d[:], m[:], 16, 0, 3, 0)
}

// packQ2K stores 256 two-bit codes: byte l of each 32-byte half holds
// elements l, l+32, l+64, l+96 of its 128 at shifts 0, 2, 4, 6.
func packQ2K(qs []byte, L []uint8) {
	for j := 0; j < qkK; j += 128 {
		for l := 0; l < 32; l++ {
			qs[j/4+l] = L[j+l] | L[j+l+32]<<2 | L[j+l+64]<<4 | L[j+l+96]<<6
		}
	}
}

func quantizeQ2KImpl(dst []byte, x, qw []float32) {
	var L [qkK]uint8
	var Laux [16]uint8
	var mins, scales, sw [qkK / 16]float32
	var weight [16]float32
	var Ls, Lm [qkK / 16]uint8
	for ; len(x) >= qkK; x, dst, qw = x[qkK:], dst[q2KBytes:], qw[qkK:] {
		clear(sw[:])
		sigma2 := blockSigma2(x[:qkK], 1)
		for j := 0; j < qkK/16; j++ {
			xs := x[16*j : 16*j+16]
			imatrixWeights(weight[:], xs, qw[16*j:], sigma2)
			for l := range weight {
				sw[j] += weight[l]
			}
			scales[j], mins[j] = makeQkx3Quants(16, 3, xs, weight[:], L[16*j:], Laux[:], -0.9, 0.05, 36, false)
		}
		dm := makeQpQuants(qkK/16, 15, scales[:], Ls[:], sw[:])
		mm := makeQpQuants(qkK/16, 15, mins[:], Lm[:], sw[:])
		put16(dst[80:], fp16(dm))
		put16(dst[82:], fp16(mm))
		sc := dst[0:16]
		for j := range sc {
			sc[j] = Ls[j] | Lm[j]<<4
		}
		requantQ2K(L[:], x, sc, f16(le16(dst[80:])), f16(le16(dst[82:])))
		packQ2K(dst[16:80], L[:])
	}
}

func dequantizeQ2K(y []float32, b []byte) {
	for ; len(b) >= q2KBytes; b = b[q2KBytes:] {
		d, mn := f16(le16(b[80:])), f16(le16(b[82:]))
		q := b[16:80]
		is := 0
		for n := 0; n < qkK; n += 128 {
			for shift := uint(0); shift < 8; shift += 2 {
				for h := 0; h < 2; h++ {
					sc := b[is]
					is++
					dl, ml := d*float32(sc&15), mn*float32(sc>>4)
					for l := 0; l < 16; l++ {
						y[l] = float32(dl*float32(q[l+16*h]>>shift&3)) - ml
					}
					y = y[16:]
				}
			}
			q = q[32:]
		}
	}
}

// blockSigma2 is mul·Σx²/len(x), the variance-like term that the *_impl
// quantizers add to x² before taking the square root of the weights (mul
// is 1 for the 32-element formats and Q2_K, 2 for the others).
func blockSigma2(x []float32, mul float32) float32 {
	var s float32
	for _, v := range x {
		s = acc(s, v, v)
	}
	return mul * s / float32(len(x))
}

// --- Q3_K: u8 hmask[32]; u8 qs[64]; u8 scales[12]; half d ---------------

func quantizeQ3KRef(dst []byte, x []float32) {
	var L [qkK]int8
	var scales [qkK / 16]float32
	for ; len(x) >= qkK; x, dst = x[qkK:], dst[q3KBytes:] {
		var maxScale, amax float32
		for j := 0; j < qkK/16; j += 2 {
			scales[j], scales[j+1] = makeQ3Pair(x[16*j:], L[16*j:])
		}
		for j := range scales {
			if s := abs32(scales[j]); s > amax {
				amax, maxScale = s, scales[j]
			}
		}
		sc := dst[96:108]
		clear(sc)
		if maxScale != 0 {
			iscale := -32 / maxScale
			for j := 0; j < qkK/16; j++ {
				l := int8(ni(iscale, scales[j]))
				l = int8(clampInt(int32(l), -32, 31) + 32)
				packQ3Scale(sc, j, uint8(l))
			}
			put16(dst[108:], fp16(1/iscale))
		} else {
			put16(dst[108:], fp16(0))
		}
		finishQ3K(dst, x, L[:])
	}
}

// packQ3Scale stores the 6-bit scale l of sub-block j.
func packQ3Scale(sc []byte, j int, l uint8) {
	if j < 8 {
		sc[j] = l & 15
	} else {
		sc[j-8] |= (l & 15) << 4
	}
	sc[j%4+8] |= (l >> 4) << (2 * (j / 4))
}

// q3Scale returns the signed scale of sub-block j (−32..31).
func q3Scale(sc []byte, j int) int8 {
	var s uint8
	if j < 8 {
		s = sc[j] & 15
	} else {
		s = sc[j-8] >> 4
	}
	return int8(s|(sc[8+j%4]>>(2*(j/4))&3)<<4) - 32
}

// finishQ3K requantizes x with the stored scales and packs the codes.
func finishQ3K(dst []byte, x []float32, L []int8) {
	sc := dst[96:108]
	dd := f16(le16(dst[108:]))
	var d, m [16]float32
	for j := range d {
		d[j] = dd * float32(q3Scale(sc, j))
	}
	requantCodes(L[:qkK], x, d[:], m[:], 16, -4, 3, 4)
	q3Pack(dst, L)
}

// q3PackGo stores the codes 0..7 in L: the third bit of element j goes to
// bit j/32 of hmask[j%32] (without branches: the bits are random), the low
// two as packQ2K does.
func q3PackGo(dst []byte, L []int8) {
	hmask := dst[0:32]
	for m := range 32 {
		var h uint8
		for b := range 8 {
			h |= uint8(L[32*b+m]>>2) << b
		}
		hmask[m] = h
	}
	qs := dst[32:96]
	for j := 0; j < qkK; j += 128 {
		for l := 0; l < 32; l++ {
			qs[j/4+l] = uint8(L[j+l]&3) | uint8(L[j+l+32]&3)<<2 | uint8(L[j+l+64]&3)<<4 | uint8(L[j+l+96]&3)<<6
		}
	}
}

func quantizeQ3KImpl(dst []byte, x, qw []float32) {
	var L [qkK]int8
	var scales, sw [qkK / 16]float32
	var weight [16]float32
	var Ls [qkK / 16]int8
	for ; len(x) >= qkK; x, dst, qw = x[qkK:], dst[q3KBytes:], qw[qkK:] {
		sigma2 := blockSigma2(x[:qkK], 2)
		for j := 0; j < qkK/16; j++ {
			xs := x[16*j : 16*j+16]
			if qw != nil {
				imatrixWeights(weight[:], xs, qw[16*j:], sigma2)
			} else {
				for l, v := range xs {
					weight[l] = v * v
				}
			}
			var sumw float32
			for _, w := range weight {
				sumw += w
			}
			sw[j] = sumw
			scales[j] = makeQxQuants(16, 4, xs, L[16*j:], 1, weight[:])
		}
		sc := dst[96:108]
		clear(sc)
		dBlock := makeQxQuants(qkK/16, 32, scales[:], Ls[:], 1, sw[:])
		for j := 0; j < qkK/16; j++ {
			packQ3Scale(sc, j, uint8(Ls[j]))
		}
		put16(dst[108:], fp16(dBlock))
		finishQ3K(dst, x, L[:])
	}
}

func dequantizeQ3K(y []float32, b []byte) {
	for ; len(b) >= q3KBytes; b = b[q3KBytes:] {
		dAll := f16(le16(b[108:]))
		hm := b[0:32]
		q := b[32:96]
		sc := b[96:108]
		is := 0
		m := uint8(1)
		for n := 0; n < qkK; n += 128 {
			for shift := uint(0); shift < 8; shift += 2 {
				for h := 0; h < 2; h++ {
					dl := dAll * float32(q3Scale(sc, is))
					is++
					for l := 0; l < 16; l++ {
						v := int8(q[l+16*h] >> shift & 3)
						if hm[l+16*h]&m == 0 {
							v -= 4
						}
						y[l] = dl * float32(v)
					}
					y = y[16:]
				}
				m <<= 1
			}
			q = q[32:]
		}
	}
}

// --- Q4_K / Q5_K scales: 8 six-bit scales and 8 six-bit mins in 12 bytes

// packScaleMinK4 stores the scale ls and min lm (each 0..63) of sub-block j.
func packScaleMinK4(s []byte, j int, ls, lm uint8) {
	if j < 4 {
		s[j] = ls
		s[j+4] = lm
	} else {
		s[j+4] = ls&15 | (lm&15)<<4
		s[j-4] |= (ls >> 4) << 6
		s[j] |= (lm >> 4) << 6
	}
}

// scaleMinK4 is ggml's get_scale_min_k4.
func scaleMinK4(j int, q []byte) (d, m uint8) {
	if j < 4 {
		return q[j] & 63, q[j+4] & 63
	}
	return q[j+4]&15 | (q[j-4]>>6)<<4, q[j+4]>>4 | (q[j]>>6)<<4
}

// kquantScalesRef is the scale and min search of quantize_row_q4_K_ref and
// quantize_row_q5_K_ref: each 32-element sub-block gets a (scale, min) from
// makeQkx2Quants with weights av_x + |x|, then the 8 scales and 8 mins are
// quantized to 6 bits against their maxima.
func kquantScalesRef(dst []byte, x []float32, L []uint8, nmax int, rmin, rdelta float32, nstep int) {
	var weights [qkK]float32
	var mins, scales [qkK / 32]float32
	var maxScale, maxMin float32
	for j := 0; j < qkK/32; j++ {
		xs := x[32*j : 32*j+32]
		var sumX2 float32
		for _, v := range xs {
			sumX2 = acc(sumX2, v, v)
		}
		avX := sqrt32(sumX2 / 32)
		for l, v := range xs {
			weights[32*j+l] = avX + abs32(v)
		}
	}
	for j := 0; j < qkK/32; j += 2 {
		scales[j], mins[j], scales[j+1], mins[j+1] = makeQkx2Pair(32, nmax, x[32*j:], x[32*j+32:],
			weights[32*j:], weights[32*j+32:], L[32*j:], L[32*j+32:], rmin, rdelta, nstep, false)
	}
	for j := range scales {
		if scales[j] > maxScale {
			maxScale = scales[j]
		}
		if mins[j] > maxMin {
			maxMin = mins[j]
		}
	}
	var invScale, invMin float32
	if maxScale > 0 {
		invScale = 63 / maxScale
	}
	if maxMin > 0 {
		invMin = 63 / maxMin
	}
	s := dst[4:16]
	for j := 0; j < qkK/32; j++ {
		ls := min(63, uint8(ni(invScale, scales[j])))
		lm := min(63, uint8(ni(invMin, mins[j])))
		packScaleMinK4(s, j, ls, lm)
	}
	put16(dst, fp16(maxScale/63))
	put16(dst[2:], fp16(maxMin/63))
}

// kquantScalesImpl is the importance-weighted scale search of
// quantize_row_q4_K_impl and quantize_row_q5_K_impl.
func kquantScalesImpl(dst []byte, x, qw []float32, L []uint8, nmax int) {
	var Laux [32]uint8
	var weights [32]float32
	var mins, scales, sw [qkK / 32]float32
	var Ls, Lm [qkK / 32]uint8
	sigma2 := blockSigma2(x[:qkK], 2)
	avX := sqrt32(sigma2)
	for j := 0; j < qkK/32; j++ {
		xs := x[32*j : 32*j+32]
		if qw != nil {
			imatrixWeights(weights[:], xs, qw[32*j:], sigma2)
		} else {
			for l, v := range xs {
				weights[l] = avX + abs32(v)
			}
		}
		var sumw float32
		for _, w := range weights {
			sumw += w
		}
		sw[j] = sumw
		scales[j], mins[j] = makeQkx3Quants(32, nmax, xs, weights[:], L[32*j:], Laux[:], -0.9, 0.05, 36, false)
	}
	dBlock := makeQpQuants(qkK/32, 63, scales[:], Ls[:], sw[:])
	mBlock := makeQpQuants(qkK/32, 63, mins[:], Lm[:], sw[:])
	s := dst[4:16]
	for j := 0; j < qkK/32; j++ {
		packScaleMinK4(s, j, min(63, Ls[j]), min(63, Lm[j]))
	}
	put16(dst, fp16(dBlock))
	put16(dst[2:], fp16(mBlock))
}

// requantK4 recomputes the codes 0..nmax of a Q4_K/Q5_K super-block from
// its stored scales and mins.
func requantK4(L []uint8, x []float32, head []byte, nmax int32) {
	dd, dmin := f16(le16(head)), f16(le16(head[2:]))
	var d, m [8]float32
	for j := range d {
		sc, mn := scaleMinK4(j, head[4:16])
		d[j] = dd * float32(sc)
		m[j] = dmin * float32(mn)
	}
	requantCodes(L[:qkK], x, d[:], m[:], 32, 0, nmax, 0)
}

// --- Q4_K: half d; half dmin; u8 scales[12]; u8 qs[128] -----------------

func quantizeQ4KRef(dst []byte, x []float32) {
	var L [qkK]uint8
	for ; len(x) >= qkK; x, dst = x[qkK:], dst[q4KBytes:] {
		clear(dst[4:16])
		kquantScalesRef(dst, x, L[:], 15, -1, 0.1, 20)
		requantK4(L[:], x, dst, 15)
		packQ4K(dst[16:144], L[:])
	}
}

func quantizeQ4KImpl(dst []byte, x, qw []float32) {
	var L [qkK]uint8
	for ; len(x) >= qkK; x, dst, qw = x[qkK:], dst[q4KBytes:], qw[qkK:] {
		clear(dst[4:16])
		kquantScalesImpl(dst, x, qw, L[:], 15)
		requantK4(L[:], x, dst, 15)
		packQ4K(dst[16:144], L[:])
	}
}

// packQ4K stores 256 four-bit codes: each 32 bytes hold 64 elements, the
// first 32 in the low nibbles and the next 32 in the high nibbles.
func packQ4K(q []byte, L []uint8) {
	for j := 0; j < qkK; j += 64 {
		for l := 0; l < 32; l++ {
			q[j/2+l] = L[j+l] | L[j+l+32]<<4
		}
	}
}

func dequantizeQ4K(y []float32, b []byte) {
	for ; len(b) >= q4KBytes; b = b[q4KBytes:] {
		d, mn := f16(le16(b)), f16(le16(b[2:]))
		q := b[16:144]
		for j := 0; j < qkK/64; j++ {
			sc, m := scaleMinK4(2*j, b[4:16])
			d1, m1 := d*float32(sc), mn*float32(m)
			sc, m = scaleMinK4(2*j+1, b[4:16])
			d2, m2 := d*float32(sc), mn*float32(m)
			for l := 0; l < 32; l++ {
				y[l] = float32(d1*float32(q[l]&15)) - m1
				y[l+32] = float32(d2*float32(q[l]>>4)) - m2
			}
			y, q = y[64:], q[32:]
		}
	}
}

// --- Q5_K: half d; half dmin; u8 scales[12]; u8 qh[32]; u8 qs[128] ------

func quantizeQ5KRef(dst []byte, x []float32) {
	var L [qkK]uint8
	for ; len(x) >= qkK; x, dst = x[qkK:], dst[q5KBytes:] {
		clear(dst[4:16])
		kquantScalesRef(dst, x, L[:], 31, -0.5, 0.1, 15)
		requantK4(L[:], x, dst, 31)
		packQ5K(dst[16:48], dst[48:176], L[:])
	}
}

func quantizeQ5KImpl(dst []byte, x, qw []float32) {
	var L [qkK]uint8
	for ; len(x) >= qkK; x, dst, qw = x[qkK:], dst[q5KBytes:], qw[qkK:] {
		clear(dst[4:16])
		kquantScalesImpl(dst, x, qw, L[:], 31)
		requantK4(L[:], x, dst, 31)
		packQ5K(dst[16:48], dst[48:176], L[:])
	}
}

// packQ5K stores the low four bits as packQ4K does and the fifth bit of
// element l of 64-element chunk i in bit 2i (first 32) or 2i+1 of qh[l].
func packQ5K(qh, ql []byte, L []uint8) {
	qh = qh[:32]
	for j := range qh {
		var h uint8
		for c := 0; c < 4; c++ {
			l1, l2 := L[64*c+j], L[64*c+j+32]
			h |= (l1>>4)<<(2*c) | (l2>>4)<<(2*c+1)
			ql[32*c+j] = l1&15 | (l2&15)<<4
		}
		qh[j] = h
	}
}

func dequantizeQ5K(y []float32, b []byte) {
	for ; len(b) >= q5KBytes; b = b[q5KBytes:] {
		d, mn := f16(le16(b)), f16(le16(b[2:]))
		qh := b[16:48]
		ql := b[48:176]
		u1, u2 := uint8(1), uint8(2)
		for j := 0; j < qkK/64; j++ {
			sc, m := scaleMinK4(2*j, b[4:16])
			d1, m1 := d*float32(sc), mn*float32(m)
			sc, m = scaleMinK4(2*j+1, b[4:16])
			d2, m2 := d*float32(sc), mn*float32(m)
			for l := 0; l < 32; l++ {
				q1 := ql[l] & 15
				if qh[l]&u1 != 0 {
					q1 += 16
				}
				q2 := ql[l] >> 4
				if qh[l]&u2 != 0 {
					q2 += 16
				}
				y[l] = float32(d1*float32(q1)) - m1
				y[l+32] = float32(d2*float32(q2)) - m2
			}
			y, ql = y[64:], ql[32:]
			u1 <<= 2
			u2 <<= 2
		}
	}
}

// --- Q6_K: u8 ql[128]; u8 qh[64]; i8 scales[16]; half d -----------------

func quantizeQ6K(dst []byte, x, qw []float32) {
	var L [qkK]int8
	var scales [qkK / 16]float32
	var wsq [qkK]float32
	for ; len(x) >= qkK; x, dst = x[qkK:], dst[q6KBytes:] {
		var maxScale, maxAbsScale float32
		w := qw
		if w == nil {
			for i, v := range x[:qkK] {
				wsq[i] = v * v
			}
			w = wsq[:]
		}
		for ib := 0; ib < qkK/16; ib += 2 {
			scales[ib], scales[ib+1] = makeQxPair(16, 32, x[16*ib:], x[16*ib+16:], w[16*ib:], w[16*ib+16:], L[16*ib:], L[16*ib+16:])
		}
		for _, scale := range scales {
			if a := abs32(scale); a > maxAbsScale {
				maxAbsScale, maxScale = a, scale
			}
		}
		if qw != nil {
			qw = qw[qkK:]
		}
		if maxAbsScale < groupMaxEps {
			clear(dst[:q6KBytes])
			continue
		}
		iscale := -128 / maxScale
		put16(dst[208:], fp16(1/iscale))
		sc := dst[192:208]
		for ib := range scales {
			sc[ib] = byte(int8(min(127, ni(iscale, scales[ib]))))
		}
		dd := f16(le16(dst[208:]))
		var d, m [16]float32
		for j := range d {
			d[j] = dd * float32(int8(sc[j]))
		}
		requantCodes(L[:qkK], x, d[:], m[:], 16, -32, 31, 32)
		ql, qh := dst[0:128], dst[128:192]
		for j := 0; j < qkK; j += 128 {
			for l := 0; l < 32; l++ {
				q1 := uint8(L[j+l]) & 15
				q2 := uint8(L[j+l+32]) & 15
				q3 := uint8(L[j+l+64]) & 15
				q4 := uint8(L[j+l+96]) & 15
				ql[l] = q1 | q3<<4
				ql[l+32] = q2 | q4<<4
				qh[l] = uint8(L[j+l])>>4 | (uint8(L[j+l+32])>>4)<<2 | (uint8(L[j+l+64])>>4)<<4 | (uint8(L[j+l+96])>>4)<<6
			}
			ql, qh = ql[64:], qh[32:]
		}
	}
}

func dequantizeQ6K(y []float32, b []byte) {
	for ; len(b) >= q6KBytes; b = b[q6KBytes:] {
		d := f16(le16(b[208:]))
		ql, qh, sc := b[0:128], b[128:192], b[192:208]
		for n := 0; n < qkK; n += 128 {
			for l := 0; l < 32; l++ {
				is := l / 16
				q1 := int8(ql[l]&15|(qh[l]>>0&3)<<4) - 32
				q2 := int8(ql[l+32]&15|(qh[l]>>2&3)<<4) - 32
				q3 := int8(ql[l]>>4|(qh[l]>>4&3)<<4) - 32
				q4 := int8(ql[l+32]>>4|(qh[l]>>6&3)<<4) - 32
				y[l] = float32(d*float32(int8(sc[is]))) * float32(q1)
				y[l+32] = float32(d*float32(int8(sc[is+2]))) * float32(q2)
				y[l+64] = float32(d*float32(int8(sc[is+4]))) * float32(q3)
				y[l+96] = float32(d*float32(int8(sc[is+6]))) * float32(q4)
			}
			y, ql, qh, sc = y[128:], ql[64:], qh[32:], sc[8:]
		}
	}
}

// --- Q8_K: float d; i8 qs[256]; i16 bsums[16] ---------------------------

// quantizeQ8K is quantize_row_q8_K_ref: codes round(x·(−127/max)) capped at
// 127, where max is the element of largest magnitude, and the sums of each
// 16 codes.
func quantizeQ8K(dst []byte, x []float32) {
	for ; len(x) >= qkK; x, dst = x[qkK:], dst[q8KBytes:] {
		max, amax := absMaxSigned(x[:qkK])
		qs := dst[4:260]
		if amax == 0 {
			put32(dst, 0)
			clear(qs)
			clear(dst[260:292]) // ggml leaves bsums unset; lmc zeroes them
			continue
		}
		iscale := -127 / max
		for j := range qs {
			qs[j] = byte(int8(min(127, ni(iscale, x[j]))))
		}
		for j := 0; j < 16; j++ {
			var sum int32
			for _, q := range qs[16*j : 16*j+16] {
				sum += int32(int8(q))
			}
			put16(dst[260+2*j:], uint16(int16(sum)))
		}
		put32(dst, f32bits(1/iscale))
	}
}

func dequantizeQ8K(y []float32, b []byte) {
	for ; len(b) >= q8KBytes; b, y = b[q8KBytes:], y[qkK:] {
		d := f32frombits(le32(b))
		for j := range qkK {
			y[j] = d * float32(int8(b[4+j]))
		}
	}
}
