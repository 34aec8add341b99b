package dedup_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/lmc-project/lmc/prompt/dedup"
)

var para = "The quick brown fox jumps over the lazy dog near the river bank while the farmer watches from his old wooden porch and drinks his morning coffee slowly"

func TestFind(t *testing.T) {
	near := strings.Replace(para, "morning", "evening", 1) // one word of 28 changed
	chunks := []string{
		para,
		"Something else entirely, about ships and the sea and sailors.",
		strings.ToUpper(para) + "!!", // exact: case and punctuation ignored
		near,
		"Something else entirely, about ships and the sea and sailors.",
		"Tiny.",
		"Tiny.",
	}
	for _, alg := range []dedup.Algorithm{dedup.MinHash, dedup.SimHash} {
		t.Run(fmt.Sprint(alg), func(t *testing.T) {
			ms := dedup.Find(chunks, &dedup.Options{Algorithm: alg, MaxHamming: 12})
			want := []struct {
				kind dedup.Kind
				of   int
			}{{dedup.Unique, -1}, {dedup.Unique, -1}, {dedup.Exact, 0}, {dedup.Near, 0}, {dedup.Exact, 1}, {dedup.Unique, -1}, {dedup.Exact, 5}}
			for i, w := range want {
				if ms[i].Kind != w.kind || ms[i].Of != w.of {
					t.Errorf("chunk %d: %v of %d (sim %.2f), want %v of %d", i, ms[i].Kind, ms[i].Of, ms[i].Similarity, w.kind, w.of)
				}
			}
			if ms[3].Similarity <= 0.5 || ms[3].Similarity >= 1 {
				t.Errorf("near-duplicate similarity %v", ms[3].Similarity)
			}
		})
	}
}

// Unrelated texts are never near duplicates.
func TestNoFalsePositives(t *testing.T) {
	var chunks []string
	for i := 0; i < 300; i++ {
		chunks = append(chunks, fmt.Sprintf("record %d says that item %d costs %d dollars and weighs %d grams in store %d", i, i*7, i*13%97, i*31%211, i%17))
	}
	for _, alg := range []dedup.Algorithm{dedup.MinHash, dedup.SimHash} {
		for i, m := range dedup.Find(chunks, &dedup.Options{Algorithm: alg}) {
			if m.Kind != dedup.Unique {
				t.Errorf("%v: chunk %d marked %v of %d (%.2f)", alg, i, m.Kind, m.Of, m.Similarity)
			}
		}
	}
}

// The MinHash estimate tracks the true Jaccard similarity.
func TestJaccardEstimate(t *testing.T) {
	words := strings.Fields(strings.Repeat(para+" ", 1))
	a := strings.Join(words, " ")
	b := strings.Join(words[:len(words)/2], " ") + " " + strings.Repeat("zz ", 0) + strings.Join([]string{"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu", "nu", "xi"}, " ")
	sa, sb := dedup.MinHashSignature(a, 1), dedup.MinHashSignature(b, 1)
	// unigram sets: |A| = 26 distinct-ish words, shared half
	got := dedup.Jaccard(&sa, &sb)
	if got < 0.15 || got > 0.6 {
		t.Errorf("estimated Jaccard %v for half-shared texts", got)
	}
	if s := dedup.MinHashSignature(a, 3); dedup.Jaccard(&s, &s) != 1 {
		t.Error("self similarity")
	}
}

func TestExactOnly(t *testing.T) {
	near := strings.Replace(para, "morning", "evening", 1)
	ms := dedup.Find([]string{para, near}, &dedup.Options{ExactOnly: true})
	if ms[1].Kind != dedup.Unique {
		t.Errorf("ExactOnly found %v", ms[1].Kind)
	}
}

func BenchmarkFind(b *testing.B) {
	for _, alg := range []dedup.Algorithm{dedup.MinHash, dedup.SimHash} {
		b.Run(fmt.Sprint(alg), func(b *testing.B) {
			var chunks []string
			n := 0
			x := uint32(7)
			words := strings.Fields(para)
			for n < 1<<20 {
				var s strings.Builder
				for k := 0; k < 40; k++ {
					x = x*1664525 + 1013904223
					s.WriteString(words[x>>8%uint32(len(words))])
					s.WriteByte(' ')
				}
				chunks = append(chunks, s.String())
				n += s.Len()
			}
			b.SetBytes(int64(n))
			for i := 0; i < b.N; i++ {
				dedup.Find(chunks, &dedup.Options{Algorithm: alg})
			}
		})
	}
}
