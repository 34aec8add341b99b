// Package bm25 ranks documents against a query with Okapi BM25 over the
// lexical terms of package segment (lower-cased words, stop words dropped,
// light plural stemming).
//
// The score of document d for query q is
//
//	sum over distinct terms t of q:  idf(t) · tf(t,d)·(k1+1) / (tf(t,d) + k1·(1 − b + b·|d|/avgdl))
//	idf(t) = ln(1 + (N − df(t) + 0.5) / (df(t) + 0.5))
//
// (Lucene's non-negative idf), with k1 = 1.2 and b = 0.75 by default.
// Documents are indexed as sorted term lists, so indexing allocates a few
// words per document and nothing per word beyond the term itself.
//
// The package has no limits to enforce: it reads only the strings it is
// given.
package bm25

import (
	"math"
	"slices"
	"sort"

	"github.com/lmc-project/lmc/prompt/segment"
)

// Params are BM25's free parameters. The zero value means k1 = 1.2, b = 0.75.
type Params struct {
	K1, B float64
}

func (p *Params) get() (k1, b float64) {
	k1, b = 1.2, 0.75
	if p != nil && p.K1 > 0 {
		k1 = p.K1
	}
	if p != nil && p.B > 0 {
		b = p.B
	}
	return k1, b
}

// Index is a BM25 index over a fixed set of documents.
type Index struct {
	k1, b float64
	terms [][]segment.Term // each document's distinct terms, sorted
	tfs   [][]int32        // their counts, parallel to terms
	lens  []int
	avgdl float64
	df    map[segment.Term]int32
}

// New indexes docs, splitting each into terms with stop words dropped.
func New(docs []string, p *Params) *Index {
	ts := make([][]segment.Term, len(docs))
	var buf []segment.Term
	for i, d := range docs {
		buf = segment.AppendTerms(buf[:0], d, true)
		ts[i] = slices.Clone(buf)
	}
	return NewTerms(ts, p)
}

// NewTerms indexes documents already split into terms. It sorts each
// slice in place.
func NewTerms(docs [][]segment.Term, p *Params) *Index {
	k1, b := p.get()
	ix := &Index{k1: k1, b: b, terms: make([][]segment.Term, len(docs)), tfs: make([][]int32, len(docs)),
		lens: make([]int, len(docs)), df: make(map[segment.Term]int32)}
	total := 0
	for i, d := range docs {
		ix.lens[i] = len(d)
		total += len(d)
		slices.Sort(d)
		var u []segment.Term
		var c []int32
		for j := 0; j < len(d); {
			k := j + 1
			for k < len(d) && d[k] == d[j] {
				k++
			}
			u = append(u, d[j])
			c = append(c, int32(k-j))
			ix.df[d[j]]++
			j = k
		}
		ix.terms[i], ix.tfs[i] = u, c
	}
	if len(docs) > 0 {
		ix.avgdl = float64(total) / float64(len(docs))
	}
	if ix.avgdl == 0 {
		ix.avgdl = 1
	}
	return ix
}

// Len returns the number of documents.
func (ix *Index) Len() int { return len(ix.lens) }

// IDF returns the inverse document frequency of term t.
func (ix *Index) IDF(t segment.Term) float64 {
	n := float64(len(ix.lens))
	df := float64(ix.df[t])
	return math.Log(1 + (n-df+0.5)/(df+0.5))
}

// Scores returns the BM25 score of every document for query (split into
// terms like the documents; repeated query terms count once).
func (ix *Index) Scores(query string) []float64 {
	return ix.ScoreTerms(segment.AppendTerms(nil, query, true))
}

// ScoreTerms is [Index.Scores] for a query already split into terms.
func (ix *Index) ScoreTerms(query []segment.Term) []float64 {
	q := slices.Clone(query)
	slices.Sort(q)
	q = slices.Compact(q)
	idf := make([]float64, len(q))
	for j, t := range q {
		idf[j] = ix.IDF(t)
	}
	out := make([]float64, len(ix.lens))
	for i, ts := range ix.terms {
		norm := ix.k1 * (1 - ix.b + ix.b*float64(ix.lens[i])/ix.avgdl)
		var s float64
		for j, t := range q {
			k, ok := slices.BinarySearch(ts, t)
			if !ok {
				continue
			}
			tf := float64(ix.tfs[i][k])
			s += idf[j] * tf * (ix.k1 + 1) / (tf + norm)
		}
		out[i] = s
	}
	return out
}

// Rank returns the document indices ordered by descending score for query;
// equal scores keep document order.
func (ix *Index) Rank(query string) []int {
	return Order(ix.Scores(query))
}

// Order returns the indices of scores by descending score, equal scores in
// index order.
func Order(scores []float64) []int {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] > scores[idx[b]] })
	return idx
}
