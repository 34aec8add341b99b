package model_test

import (
	"fmt"
	"testing"

	"github.com/lmc-project/lmc/kernels"
)

// BenchmarkBooks5M measures whole-model speed on books5M F32 the way
// llama-bench does: pp128 (one batch of 128 prompt tokens into an empty
// context) and tg128 (128 tokens decoded one at a time from an empty
// context), on one thread and on all.
//
//	go test -run - -bench Books5M -benchtime 20x ./model/
func BenchmarkBooks5M(b *testing.B) {
	m := load(b, "models/books5M/books5M-f32.gguf")
	tokens := make([]int, 128)
	for i := range tokens {
		tokens[i] = (i*37 + 11) % 512
	}
	for _, th := range []int{1, 0} {
		name := "t1"
		if th == 0 {
			name = fmt.Sprintf("t%d", kernels.Threads())
		}
		b.Run("pp128/"+name, func(b *testing.B) {
			defer kernels.SetThreads(kernels.SetThreads(th))
			s := m.NewSession(256)
			for b.Loop() {
				s.Reset()
				if _, err := s.Prefill(tokens); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(128*b.N)/b.Elapsed().Seconds(), "tok/s")
		})
		b.Run("tg128/"+name, func(b *testing.B) {
			defer kernels.SetThreads(kernels.SetThreads(th))
			s := m.NewSession(256)
			for b.Loop() {
				s.Reset()
				for _, tok := range tokens {
					if _, err := s.Decode(tok); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(128*b.N)/b.Elapsed().Seconds(), "tok/s")
		})
	}
}
