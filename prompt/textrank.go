package prompt

import (
	"math"
	"slices"

	"github.com/lmc-project/lmc/prompt/segment"
)

// TextRankWindow is the most sentences one TextRank graph holds; longer
// texts are ranked in consecutive windows of this many sentences, so the
// cost stays linear in the text's length.
const TextRankWindow = 128

type sparse struct {
	terms []segment.Term
	w     []float64
}

// tfidf returns L2-normalized TF-IDF vectors ((1+ln tf)·ln(1+N/df)) of the
// term lists.
func tfidf(docs [][]segment.Term) []sparse {
	df := map[segment.Term]int{}
	for _, d := range docs {
		slices.Sort(d)
		for i, t := range d {
			if i == 0 || d[i-1] != t {
				df[t]++
			}
		}
	}
	n := float64(len(docs))
	out := make([]sparse, len(docs))
	for k, d := range docs {
		var v sparse
		norm := 0.0
		for i := 0; i < len(d); {
			j := i + 1
			for j < len(d) && d[j] == d[i] {
				j++
			}
			w := (1 + math.Log(float64(j-i))) * math.Log(1+n/float64(df[d[i]]))
			v.terms = append(v.terms, d[i])
			v.w = append(v.w, w)
			norm += w * w
			i = j
		}
		if norm > 0 {
			norm = 1 / math.Sqrt(norm)
			for i := range v.w {
				v.w[i] *= norm
			}
		}
		out[k] = v
	}
	return out
}

// cosine of two normalized sparse vectors (sorted terms).
func cosine(a, b sparse) float64 {
	s := 0.0
	i, j := 0, 0
	for i < len(a.terms) && j < len(b.terms) {
		switch {
		case a.terms[i] == b.terms[j]:
			s += a.w[i] * b.w[j]
			i++
			j++
		case a.terms[i] < b.terms[j]:
			i++
		default:
			j++
		}
	}
	return s
}

// textRank scores sentences by PageRank (damping 0.85, at most 50
// iterations, until the scores move less than 1e-7) on the graph whose
// edge weights are the TF-IDF cosine similarities, within windows of
// TextRankWindow sentences. Similarities come from the terms the sentences
// share (an inverted index), so sentences with nothing in common cost
// nothing. Scores are scaled so their mean is 1 in each window.
func textRank(vecs []sparse) []float64 {
	out := make([]float64, len(vecs))
	post := map[segment.Term][]int32{}
	sim := make([]float64, TextRankWindow*TextRankWindow)
	for w0 := 0; w0 < len(vecs); w0 += TextRankWindow {
		w1 := min(w0+TextRankWindow, len(vecs))
		n := w1 - w0
		clear(post)
		for a := 0; a < n; a++ {
			for _, t := range vecs[w0+a].terms {
				post[t] = append(post[t], int32(a))
			}
		}
		clear(sim[:n*n])
		for a := 0; a < n; a++ {
			va := vecs[w0+a]
			for k, t := range va.terms {
				for _, b := range post[t] {
					if int(b) <= a {
						continue
					}
					vb := vecs[w0+int(b)]
					// weight of t in b: binary search its sorted terms
					lo, hi := 0, len(vb.terms)
					for lo < hi {
						m := (lo + hi) / 2
						if vb.terms[m] < t {
							lo = m + 1
						} else {
							hi = m
						}
					}
					sim[a*n+int(b)] += va.w[k] * vb.w[lo]
				}
			}
		}
		// symmetric adjacency lists
		type edge struct {
			to int32
			w  float64
		}
		adj := make([][]edge, n)
		deg := make([]float64, n)
		for a := 0; a < n; a++ {
			for b := a + 1; b < n; b++ {
				if s := sim[a*n+b]; s > 0 {
					adj[a] = append(adj[a], edge{int32(b), s})
					adj[b] = append(adj[b], edge{int32(a), s})
					deg[a] += s
					deg[b] += s
				}
			}
		}
		const d = 0.85
		r := make([]float64, n)
		next := make([]float64, n)
		for i := range r {
			r[i] = 1 / float64(n)
		}
		for it := 0; it < 50; it++ {
			dangling := 0.0
			for a := 0; a < n; a++ {
				if deg[a] == 0 {
					dangling += r[a]
				}
			}
			base := (1-d)/float64(n) + d*dangling/float64(n)
			for b := range next {
				next[b] = base
			}
			for a := 0; a < n; a++ {
				if deg[a] == 0 {
					continue
				}
				f := d * r[a] / deg[a]
				for _, e := range adj[a] {
					next[e.to] += f * e.w
				}
			}
			delta := 0.0
			for i := range r {
				delta += math.Abs(next[i] - r[i])
			}
			r, next = next, r
			if delta < 1e-7 {
				break
			}
		}
		for i := range r {
			out[w0+i] = r[i] * float64(n)
		}
	}
	return out
}
