package eval

import (
	"encoding/binary"
	"math"
	"sort"
)

// expf is e^x rounded to float32 (llama.cpp's expf).
func expf(x float32) float32 { return float32(math.Exp(float64(x))) }

// logSumExp returns the maximum of logits, its index (the first one) and
// log Σ e^(l−max), the sum taken in float64 as llama-perplexity does.
func logSumExp(logits []float32) (mx float32, imax int, lse float32) {
	mx = logits[0]
	for i, v := range logits {
		if v > mx {
			mx, imax = v, i
		}
	}
	var sum float64
	for _, v := range logits {
		sum += float64(expf(v - mx))
	}
	return mx, imax, float32(math.Log(sum))
}

// nearestInt rounds half to even, as llama.cpp's nearest_int does for the
// values it is given (|x| < 2^22).
func nearestInt(x float32) int { return int(math.RoundToEven(float64(x))) }

// encodeQ16 writes llama-perplexity's row for logits into dst: float32
// scale, float32 min_log_prob, then one uint16 per token (and one of
// padding when the vocabulary is odd), q, such that log p ≈ scale·q + min_log_prob, over the 16 nats
// below the most likely token (tokens further below get q = 0). It returns
// the negative log-likelihood of tok.
func encodeQ16(dst []byte, logits []float32, tok int) float64 {
	le := binary.LittleEndian
	mx, mn := logits[0], logits[0]
	for _, v := range logits[1:] {
		mx = max(mx, v)
		mn = min(mn, v)
	}
	mn = max(mn, mx-16)
	var sum float64
	for _, v := range logits {
		sum += float64(expf(v - mx))
	}
	lse := float32(math.Log(sum))
	minLP := float32(float32(mn-mx) - lse)
	scale := float32(mx-mn) / 65535
	le.PutUint32(dst[0:], math.Float32bits(scale))
	le.PutUint32(dst[4:], math.Float32bits(minLP))
	q := dst[8:]
	if scale != 0 {
		inv := 1 / scale
		for i, v := range logits {
			var u int
			if v > mn {
				u = nearestInt(float32(inv * float32(v-mn)))
			}
			le.PutUint16(q[2*i:], uint16(u))
		}
	} else {
		clear(q[:2*len(logits)])
	}
	if len(logits)%2 == 1 {
		le.PutUint16(q[2*len(logits):], 0)
	}
	return float64(mx) + math.Log(sum) - float64(logits[tok])
}

// topEntry is one (token, log-prob) pair of a top-k row.
type topEntry struct {
	id int
	lp float32
}

// encodeTopK writes lmc's top-k row into dst: float32 log-prob of tok,
// float32 log of the probability mass outside the top k (−Inf when none),
// then k × (uint32 token, float32 log-prob) in descending order (ties: lower
// id first). scratch is reused between calls. It returns the negative
// log-likelihood of tok.
func encodeTopK(dst []byte, logits []float32, tok, k int, scratch *[]topEntry) float64 {
	le := binary.LittleEndian
	mx, _, lse := logSumExp(logits)
	top := (*scratch)[:0]
	// Keep the k largest in a sorted slice; most logits fail the first
	// comparison with the smallest kept.
	for i, v := range logits {
		if len(top) == k && !(v > top[k-1].lp) {
			continue
		}
		j := sort.Search(len(top), func(j int) bool { return v > top[j].lp })
		if len(top) < k {
			top = append(top, topEntry{})
		}
		copy(top[j+1:], top[j:len(top)-1])
		top[j] = topEntry{i, v}
	}
	*scratch = top
	norm := mx + lse
	var restSum, sum float64
	for _, v := range logits {
		sum += float64(expf(v - mx))
	}
	inTop := 0.0
	for _, e := range top {
		inTop += float64(expf(e.lp - mx))
	}
	restSum = max(sum-inTop, 0)
	rest := float32(math.Inf(-1))
	if restSum > 0 && len(top) < len(logits) {
		rest = float32(math.Log(restSum) - math.Log(sum))
	}
	le.PutUint32(dst[0:], math.Float32bits(logits[tok]-norm))
	le.PutUint32(dst[4:], math.Float32bits(rest))
	for e, t := range top {
		le.PutUint32(dst[8+8*e:], uint32(t.id))
		le.PutUint32(dst[12+8*e:], math.Float32bits(t.lp-norm))
	}
	return float64(norm) - float64(logits[tok])
}

// kldAcc accumulates llama-perplexity's KL-divergence statistics.
type kldAcc struct {
	sumNLL, sumNLL2         float64
	sumNLLBase, sumNLLBase2 float64
	sumNLLNLLBase           float64
	sumKLD, sumKLD2         float64
	sumPDiff, sumPDiff2     float64
	sumPDiff4               float64
	maxPDiff                float32
	sameTop, count          int

	mask []bool // top-k rows: tokens in the top k
}

// addQ16 compares logits with a llama.cpp row (as llama-perplexity's
// log_softmax does) and returns the KL divergence and Δp of the position.
func (a *kldAcc) addQ16(logits []float32, row []byte, tok int) (float64, float32) {
	le := binary.LittleEndian
	mx, imax, lse := logSumExp(logits)
	scale := math.Float32frombits(le.Uint32(row[0:]))
	minLP := math.Float32frombits(le.Uint32(row[4:]))
	q := row[8:]
	nll := float32(mx + lse - logits[tok])
	nllBase := -float32(float32(scale*float32(le.Uint16(q[2*tok:]))) + minLP)
	norm := mx + lse
	var sum float64
	imaxBase := -1
	var lpMax float32
	for i, v := range logits {
		lpb := float32(scale*float32(le.Uint16(q[2*i:]))) + minLP
		if i == 0 || lpb > lpMax {
			lpMax, imaxBase = lpb, i
		}
		if lpb > -16 {
			pb := expf(lpb)
			sum += float64(pb * float32(lpb-v+norm))
		}
	}
	return sum, a.finish(nll, nllBase, sum, imax == imaxBase)
}

// addTopK compares logits with an lmc top-k row. The divergence is that of
// the two distributions coarsened to the base's top k tokens plus one
// "rest" outcome, a lower bound of the full KL divergence (log-sum
// inequality) that is exact when the rest carries no mass.
func (a *kldAcc) addTopK(logits []float32, row []byte, tok, k int) (float64, float32) {
	le := binary.LittleEndian
	mx, imax, lse := logSumExp(logits)
	norm := mx + lse
	nll := float32(norm - logits[tok])
	nllBase := -math.Float32frombits(le.Uint32(row[0:]))
	rest := math.Float32frombits(le.Uint32(row[4:]))
	if len(a.mask) < len(logits) {
		a.mask = make([]bool, len(logits))
	}
	var sum float64
	for e := 0; e < k; e++ {
		id := int(le.Uint32(row[8+8*e:]))
		lpb := math.Float32frombits(le.Uint32(row[12+8*e:]))
		a.mask[id] = true
		sum += float64(expf(lpb)) * float64(lpb-(logits[id]-norm))
	}
	var qRest float64
	for i, v := range logits {
		if !a.mask[i] {
			qRest += float64(expf(v - mx))
		}
	}
	for e := 0; e < k; e++ {
		a.mask[le.Uint32(row[8+8*e:])] = false
	}
	if !math.IsInf(float64(rest), -1) {
		lq := math.Log(qRest) - float64(lse)
		if qRest == 0 {
			lq = -104 // below the smallest float32 probability
		}
		sum += math.Exp(float64(rest)) * (float64(rest) - lq)
	}
	imaxBase := int(le.Uint32(row[8:]))
	return sum, a.finish(nll, nllBase, sum, imax == imaxBase)
}

func (a *kldAcc) finish(nll, nllBase float32, kld float64, same bool) float32 {
	a.sumNLL += float64(nll)
	a.sumNLL2 += float64(nll * nll)
	a.sumNLLBase += float64(nllBase)
	a.sumNLLBase2 += float64(nllBase * nllBase)
	a.sumNLLNLLBase += float64(nll * nllBase)
	a.sumKLD += kld
	a.sumKLD2 += kld * kld
	a.count++
	if same {
		a.sameTop++
	}
	pBase, p := expf(-nllBase), expf(-nll)
	d := p - pBase
	a.sumPDiff += float64(d)
	d2 := float64(d * d)
	a.sumPDiff2 += d2
	a.sumPDiff4 += d2 * d2
	a.maxPDiff = max(a.maxPDiff, float32(math.Abs(float64(d))))
	return d
}
