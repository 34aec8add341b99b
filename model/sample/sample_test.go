package sample

import (
	"math"
	"testing"
)

func TestGreedy(t *testing.T) {
	for _, c := range []struct {
		name   string
		logits []float32
		want   int
	}{
		{"empty", nil, -1},
		{"single", []float32{3}, 0},
		{"max last", []float32{1, 2, 3}, 2},
		{"tie picks first", []float32{5, 1, 5}, 0},
		{"negative", []float32{-3, -1, -2}, 1},
		{"NaN skipped", []float32{float32(math.NaN()), 1, 0}, 1},
		{"-Inf", []float32{float32(math.Inf(-1)), -1e30}, 1},
	} {
		if got := Greedy(c.logits); got != c.want {
			t.Errorf("%s: Greedy = %d, want %d", c.name, got, c.want)
		}
	}
}

func TestZeroTemperatureIsGreedy(t *testing.T) {
	s := New(Options{TopK: 5, TopP: 0.5, Seed: 3})
	if got := s.Sample([]float32{0, 4, 1}); got != 1 {
		t.Fatalf("Sample = %d, want argmax 1", got)
	}
}

func TestFilters(t *testing.T) {
	logits := []float32{1, 3, 2, 0.5, 2.9}
	for _, c := range []struct {
		name    string
		o       Options
		allowed map[int]bool
	}{
		{"top-k 1", Options{Temperature: 1, TopK: 1}, map[int]bool{1: true}},
		{"top-k 2", Options{Temperature: 1, TopK: 2}, map[int]bool{1: true, 4: true}},
		{"top-p tiny", Options{Temperature: 1, TopP: 0.01}, map[int]bool{1: true}},
		{"top-p 0.6", Options{Temperature: 1, TopP: 0.6}, map[int]bool{1: true, 4: true}},
	} {
		seen := map[int]bool{}
		for seed := uint64(0); seed < 200; seed++ {
			c.o.Seed = seed
			tok := New(c.o).Sample(logits)
			if !c.allowed[tok] {
				t.Fatalf("%s: sampled %d, allowed %v", c.name, tok, c.allowed)
			}
			seen[tok] = true
		}
		if len(seen) != len(c.allowed) {
			t.Errorf("%s: 200 seeds reached %v, expected all of %v", c.name, seen, c.allowed)
		}
	}
}

// TestDistribution checks the sampling frequencies against the softmax at
// temperature 2 over 20000 draws (each within 0.015 of its probability,
// about 5 standard deviations).
func TestDistribution(t *testing.T) {
	logits := []float32{0, 1, 2, 3}
	const temp, draws = 2.0, 20000
	s := New(Options{Temperature: temp, Seed: 11})
	counts := make([]int, len(logits))
	for i := 0; i < draws; i++ {
		counts[s.Sample(logits)]++
	}
	var z float64
	for _, l := range logits {
		z += math.Exp(float64(l) / temp)
	}
	for i, l := range logits {
		p := math.Exp(float64(l)/temp) / z
		if f := float64(counts[i]) / draws; math.Abs(f-p) > 0.015 {
			t.Errorf("token %d: frequency %.4f, probability %.4f", i, f, p)
		}
	}
}

func TestSeedReproducible(t *testing.T) {
	logits := make([]float32, 100)
	for i := range logits {
		logits[i] = float32(math.Sin(float64(i)))
	}
	draw := func(seed uint64) []int {
		s := New(Options{Temperature: 1, TopK: 50, TopP: 0.9, Seed: seed})
		out := make([]int, 30)
		for i := range out {
			out[i] = s.Sample(logits)
		}
		return out
	}
	a, b, c := draw(5), draw(5), draw(6)
	same := func(x, y []int) bool {
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
		return true
	}
	if !same(a, b) {
		t.Fatal("the same seed gave different tokens")
	}
	if same(a, c) {
		t.Fatal("seeds 5 and 6 gave the same 30 tokens")
	}
}
