// Package sample chooses the next token from a model's logits: greedy
// (argmax), or random with temperature, top-k and top-p (nucleus)
// filtering, reproducible from a seed.
package sample

import (
	"math"
	"math/rand/v2"
	"sort"
)

// Options selects the sampling rule. The zero value is greedy decoding.
type Options struct {
	// Temperature divides the logits before the softmax; 0 (or less)
	// means greedy decoding and disables the other options.
	Temperature float64
	// TopK keeps the K most likely tokens (0: all).
	TopK int
	// TopP keeps the smallest set of most likely tokens whose
	// probabilities sum to at least TopP (0 or ≥ 1: all).
	TopP float64
	// Seed seeds the random generator: the same seed, options and logits
	// give the same tokens.
	Seed uint64
}

// Sampler draws tokens according to its Options. It is not safe for
// concurrent use.
type Sampler struct {
	o    Options
	rng  *rand.Rand
	idx  []int
	prob []float64
}

// New returns a Sampler for o.
func New(o Options) *Sampler {
	return &Sampler{o: o, rng: rand.New(rand.NewPCG(o.Seed, 0x6c6d632d73616d70))}
}

// Greedy returns the index of the largest logit (the first on ties); -1
// for an empty slice. NaNs are never chosen.
func Greedy(logits []float32) int {
	best := -1
	for i, v := range logits {
		if v == v && (best < 0 || v > logits[best]) {
			best = i
		}
	}
	return best
}

// Sample returns the next token. The order of filters is llama.cpp's:
// top-k, then temperature and softmax, then top-p.
func (s *Sampler) Sample(logits []float32) int {
	if s.o.Temperature <= 0 {
		return Greedy(logits)
	}
	idx := s.idx[:0]
	for i, v := range logits {
		if v == v {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return -1
	}
	byLogit := func(i, j int) bool {
		a, b := logits[idx[i]], logits[idx[j]]
		return a > b || (a == b && idx[i] < idx[j])
	}
	k := s.o.TopK
	topP := s.o.TopP > 0 && s.o.TopP < 1
	sorted := false
	if k > 0 && k < len(idx) {
		sort.Slice(idx, byLogit)
		idx, sorted = idx[:k], true
	} else if topP {
		sort.Slice(idx, byLogit)
		sorted = true
	}
	maxL := float64(logits[idx[0]])
	if !sorted {
		for _, i := range idx {
			maxL = math.Max(maxL, float64(logits[i]))
		}
	}
	prob := s.prob[:0]
	var sum float64
	for _, i := range idx {
		p := math.Exp((float64(logits[i]) - maxL) / s.o.Temperature)
		prob = append(prob, p)
		sum += p
	}
	for i := range prob {
		prob[i] /= sum
	}
	if topP {
		var c float64
		for i, p := range prob {
			c += p
			if c >= s.o.TopP {
				idx, prob = idx[:i+1], prob[:i+1]
				break
			}
		}
		sum = c
	} else {
		sum = 1
	}
	s.idx, s.prob = idx, prob
	r := s.rng.Float64() * sum
	for i, p := range prob {
		r -= p
		if r < 0 {
			return idx[i]
		}
	}
	return idx[len(idx)-1]
}
