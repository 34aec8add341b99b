package bm25_test

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/lmc-project/lmc/prompt/bm25"
)

var docs = []string{
	"The cat sat on the mat.",
	"Dogs chase cats in the park.",
	"A cat and a dog and a cat: cats everywhere.",
	"Nothing related here at all.",
}

func TestRank(t *testing.T) {
	ix := bm25.New(docs, nil)
	got := ix.Rank("cat")
	// doc 2 has "cat" three times (cat, cat, cats); doc 0 once in 3 terms;
	// doc 1 once ("cats") in 4 terms; doc 3 never.
	want := []int{2, 0, 1, 3}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Rank(cat) = %v, want %v (scores %v)", got, want, ix.Scores("cat"))
	}
	if s := ix.Scores("cat"); s[3] != 0 {
		t.Errorf("unrelated doc scored %v", s[3])
	}
	if s := ix.Scores("the of"); s[0] != 0 {
		t.Errorf("stop-word query scored %v", s)
	}
}

// The score follows the formula in the package doc.
func TestFormula(t *testing.T) {
	ix := bm25.New([]string{"apple banana apple", "banana cherry", "cherry"}, &bm25.Params{K1: 1.5, B: 0.5})
	// query "apple": df 1 of N 3; doc 0 has tf 2, |d| 3, avgdl 2
	idf := math.Log(1 + (3-1+0.5)/(1+0.5))
	norm := 1.5 * (1 - 0.5 + 0.5*3/2.0)
	want := idf * 2 * 2.5 / (2 + norm)
	got := ix.Scores("apple")
	if math.Abs(got[0]-want) > 1e-12 || got[1] != 0 || got[2] != 0 {
		t.Errorf("scores %v, want [%v 0 0]", got, want)
	}
	// repeated query terms count once
	if g := ix.Scores("apple apple"); g[0] != got[0] {
		t.Errorf("repeated query term changed the score: %v vs %v", g[0], got[0])
	}
}

func TestOrderStable(t *testing.T) {
	got := bm25.Order([]float64{1, 3, 1, 3, 0})
	if want := []int{1, 3, 0, 2, 4}; !reflect.DeepEqual(got, want) {
		t.Errorf("Order = %v, want %v", got, want)
	}
}

func TestEmpty(t *testing.T) {
	ix := bm25.New(nil, nil)
	if ix.Len() != 0 || len(ix.Scores("x")) != 0 {
		t.Error("empty index")
	}
	ix = bm25.New([]string{"", "   "}, nil)
	if s := ix.Scores("x"); s[0] != 0 || s[1] != 0 {
		t.Errorf("empty docs scored %v", s)
	}
}

func BenchmarkIndexAndScore(b *testing.B) {
	text := benchText()
	var docs []string
	for _, p := range strings.Split(text, "\n") {
		if p != "" {
			docs = append(docs, p)
		}
	}
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bm25.New(docs, nil).Scores("who wrote the history of the city walls in 1850")
	}
}

func benchText() string {
	words := strings.Fields(`the history of the city walls begins in 1850 when the council decided to
	build a new market square near the river and the old bridge which had been destroyed by floods
	merchants from many countries came to trade wool grain wine and silver while the bishop argued
	with the mayor about taxes churches schools roads and the harbour`)
	var b strings.Builder
	x := uint32(1)
	for b.Len() < 1<<20 {
		for k := 0; k < 20; k++ {
			x = x*1664525 + 1013904223
			b.WriteString(words[x>>8%uint32(len(words))])
			b.WriteByte(' ')
		}
		b.WriteString(".\n")
	}
	return b.String()
}
