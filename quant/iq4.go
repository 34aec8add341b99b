package quant

import "math"

// The non-linear 4-bit formats IQ4_NL (32-element blocks) and IQ4_XS
// (256-element super-blocks of 32 with 6-bit sub-block scales): each code
// indexes kvaluesIQ4NL.

const (
	iq4NLBytes = 18
	iq4XSBytes = 136
)

// kvaluesIQ4NL is ggml's kvalues_iq4nl.
var kvaluesIQ4NL = [16]int8{-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113}

// kvaluesIQ4NLF is kvaluesIQ4NL as float32 (the conversions are exact),
// followed by +Inf.
var kvaluesIQ4NLF = func() (f [17]float32) {
	for i, v := range kvaluesIQ4NL {
		f[i] = float32(v)
	}
	f[16] = float32(math.Inf(1))
	return f
}()

// iq4Floor[f+128] is the index of the last value of kvaluesIQ4NL that is
// ≤ f (0 when there is none), for the integers f in [-128, 127].
var iq4Floor = func() (t [256]uint8) {
	for f := -128; f < 128; f++ {
		for k := 1; k < 16; k++ {
			if f >= int(kvaluesIQ4NL[k]) {
				t[f+128] = uint8(k)
			}
		}
	}
	return t
}()

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// bestIndexInt8 is ggml's best_index_int8 on kvalues_iq4nl (as of the
// llama.cpp that made the reference files): the index of the value nearest
// to x, the upper one on a tie. ggml bisects to the last value ≤ x; as the
// values are integers, that is the last value ≤ floor(x), found here in a
// table without branches. Then it compares the same float32 distances.
// x must be below 2^62 in magnitude.
func bestIndexInt8(x float32) int {
	t := int64(x)
	fl := t - int64(b2i(x < float32(t))) // floor(x)
	ml := int(iq4Floor[min(max(fl+128, 0), 255)])
	v := &kvaluesIQ4NLF
	return ml + b2i(!(x-v[ml] < v[ml+1]-x))
}

// iq4Block is the per-32 search of quantize_row_iq4_nl_impl: the scale d
// maximizing (Σw·q·x)²/Σw·q² over 2·ntry+1 trial inverse scales, where q
// are the table values nearest to x/d. L gets the codes of the first trial.
func iq4Block(xb, weight []float32, L []uint8, ntry int) float32 {
	var amax, max float32
	for _, v := range xb[:32] {
		if ax := abs32(v); ax > amax {
			amax, max = ax, v
		}
	}
	if amax < groupMaxEps {
		clear(L[:32])
		return 0
	}
	var d float32
	if ntry > 0 {
		d = -max / kvaluesIQ4NLF[0]
	} else {
		d = max / kvaluesIQ4NLF[0]
	}
	id := 1 / d
	var sumqx, sumq2 float32
	for j, v := range xb[:32] {
		l := bestIndexInt8(float32(id * v))
		L[j] = uint8(l)
		q := kvaluesIQ4NLF[l]
		wq := float32(weight[j] * q)
		sumqx = acc(sumqx, wq, v)
		sumq2 = acc(sumq2, wq, q)
	}
	d = 0
	if sumq2 > 0 {
		d = sumqx / sumq2
	}
	best := d * sumqx
	for itry := -ntry; itry <= ntry; itry++ {
		id = float32(itry+int(kvaluesIQ4NL[0])) / max
		sumqx, sumq2 = 0, 0
		for j, v := range xb[:32] {
			l := bestIndexInt8(float32(id * v))
			q := kvaluesIQ4NLF[l]
			wq := float32(weight[j] * q)
			sumqx = acc(sumqx, wq, v)
			sumq2 = acc(sumq2, wq, q)
		}
		if sumq2 > 0 && float32(sumqx*sumqx) > float32(best*sumq2) {
			d = sumqx / sumq2
			best = d * sumqx
		}
	}
	return d
}

// iq4Weights sets the weights of one 32-element block: qw·sqrt(sigma2+x²)
// with an importance matrix, else x².
func iq4Weights(w, xb, qw []float32, sigma2 float32) {
	if qw != nil {
		imatrixWeights(w[:32], xb[:32], qw, sigma2)
		return
	}
	for j, v := range xb[:32] {
		w[j] = v * v
	}
}

func packIQ4(q []byte, L []uint8) {
	for i := 0; i < len(L)/32; i++ {
		for j := 0; j < 16; j++ {
			q[16*i+j] = L[32*i+j] | L[32*i+16+j]<<4
		}
	}
}

// quantizeIQ4NL is quantize_iq4_nl (ntry 7) for one row; qw may be nil.
func quantizeIQ4NL(dst []byte, x, qw []float32) { quantizeIQ4NLTry(dst, x, qw, 7) }

// quantizeIQ4NLTry is quantize_row_iq4_nl_impl with 2·ntry+1 trial scales;
// ntry = -1 is ggml's quantize_row_iq4_nl_ref (no search, which
// llama-quantize does not use; the benchmarks compare with it).
func quantizeIQ4NLTry(dst []byte, x, qw []float32, ntry int) {
	var L [32]uint8
	var weight [32]float32
	for ; len(x) >= 32; x, dst = x[32:], dst[iq4NLBytes:] {
		var sigma2 float32
		var q []float32
		if qw != nil {
			sigma2 = blockSigma2(x[:32], 2)
			q, qw = qw[:32], qw[32:]
		}
		iq4Weights(weight[:], x, q, sigma2)
		d := iq4Block(x, weight[:], L[:], ntry)
		put16(dst, fp16(d))
		if ntry > 0 {
			id := inv(d)
			for j, v := range x[:32] {
				L[j] = uint8(bestIndexInt8(float32(id * v)))
			}
		}
		packIQ4(dst[2:18], L[:])
	}
}

func dequantizeIQ4NL(y []float32, b []byte) {
	for ; len(b) >= iq4NLBytes; b, y = b[iq4NLBytes:], y[32:] {
		d := f16(le16(b))
		for j := 0; j < 16; j++ {
			q := b[2+j]
			y[j] = d * float32(kvaluesIQ4NL[q&15])
			y[j+16] = d * float32(kvaluesIQ4NL[q>>4])
		}
	}
}

// quantizeIQ4XS is quantize_iq4_xs (ntry 7) for one row; qw may be nil.
func quantizeIQ4XS(dst []byte, x, qw []float32) {
	var L [qkK]uint8
	var weight [32]float32
	var scales [qkK / 32]float32
	for ; len(x) >= qkK; x, dst = x[qkK:], dst[iq4XSBytes:] {
		var sigma2 float32
		var qb []float32
		if qw != nil {
			sigma2 = blockSigma2(x[:qkK], 2)
			qb, qw = qw[:qkK], qw[qkK:]
		}
		var maxScale, amaxScale float32
		for ib := 0; ib < qkK/32; ib++ {
			xb := x[32*ib:]
			var q []float32
			if qb != nil {
				q = qb[32*ib:]
			}
			iq4Weights(weight[:], xb, q, sigma2)
			scales[ib] = iq4Block(xb, weight[:], L[32*ib:], 7)
			if a := abs32(scales[ib]); a > amaxScale {
				amaxScale, maxScale = a, scales[ib]
			}
		}
		d := -maxScale / 32
		put16(dst, fp16(d))
		id := inv(d)
		var sh uint16
		sl := dst[4:8]
		for ib := 0; ib < qkK/32; ib++ {
			l := clampInt(ni(id, scales[ib]), -32, 31)
			dl := d * float32(l)
			idl := inv(dl)
			for j, v := range x[32*ib : 32*ib+32] {
				L[32*ib+j] = uint8(bestIndexInt8(float32(idl * v)))
			}
			l += 32
			if ib%2 == 0 {
				sl[ib/2] = uint8(l & 15)
			} else {
				sl[ib/2] |= uint8(l&15) << 4
			}
			sh |= uint16(l>>4) << (2 * ib)
		}
		put16(dst[2:], sh)
		packIQ4(dst[8:136], L[:])
	}
}

func dequantizeIQ4XS(y []float32, b []byte) {
	for ; len(b) >= iq4XSBytes; b = b[iq4XSBytes:] {
		d := f16(le16(b))
		sh := le16(b[2:])
		qs := b[8:]
		for ib := 0; ib < 8; ib++ {
			ls := int32(b[4+ib/2]>>(4*(ib%2))&15) | int32(sh>>(2*ib)&3)<<4
			dl := d * float32(ls-32)
			for j := 0; j < 16; j++ {
				y[j] = dl * float32(kvaluesIQ4NL[qs[j]&15])
				y[j+16] = dl * float32(kvaluesIQ4NL[qs[j]>>4])
			}
			y, qs = y[32:], qs[16:]
		}
	}
}
