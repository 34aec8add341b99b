package model_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lmc-project/lmc/kernels"
	"github.com/lmc-project/lmc/model"
)

// BenchmarkKVDecode measures decoding speed with each cache type at
// context 512 to 4096 on books5M (positions past its trained 512 cost the
// same as any), on one thread. Each type's session is filled to ctx−32
// positions; then, round after round, every type decodes 32 tokens and
// truncates back, and each type reports its best round (tok/s) and its
// speed relative to F16 (×f16): interleaving the types and keeping the
// best round removes most of the noise of a shared machine.
//
//	go test -run - -bench KVDecode -benchtime 5x ./model/
func BenchmarkKVDecode(b *testing.B) {
	m := load(b, "models/books5M/books5M-f32.gguf")
	const gen = 32
	types := []string{"f32", "f16", "bf16", "fp8", "q8_0", "q4_0", "int4", "int2"}
	for _, ctx := range []int{512, 1024, 2048, 4096} {
		b.Run(fmt.Sprintf("ctx%d", ctx), func(b *testing.B) {
			defer setThreads(1)()
			prompt := make([]int, ctx-gen)
			for i := range prompt {
				prompt[i] = (i*37 + 11) % 512
			}
			sess := make([]*model.Session, len(types))
			for i, kv := range types {
				typ, _ := model.ParseKVType(kv)
				s, err := m.NewSessionWith(model.SessionOptions{Context: ctx, KV: typ})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := s.Prefill(prompt); err != nil {
					b.Fatal(err)
				}
				sess[i] = s
			}
			best := make([]time.Duration, len(types))
			for b.Loop() {
				for i, s := range sess {
					t0 := time.Now()
					for j := 0; j < gen; j++ {
						if _, err := s.Decode(j + 1); err != nil {
							b.Fatal(err)
						}
					}
					if d := time.Since(t0); best[i] == 0 || d < best[i] {
						best[i] = d
					}
					s.Truncate(ctx - gen)
				}
			}
			var line []string
			for i, kv := range types {
				tps := gen / best[i].Seconds()
				b.ReportMetric(tps, kv+"_tok/s")
				line = append(line, fmt.Sprintf("%s %.0f (%.2f×f16)", kv, tps, best[1].Seconds()/best[i].Seconds()))
			}
			b.Logf("ctx %d: %s", ctx, strings.Join(line, ", "))
		})
	}
}

// setThreads sets the kernel threads and returns the restore function.
func setThreads(n int) func() {
	prev := kernels.SetThreads(n)
	return func() { kernels.SetThreads(prev) }
}

// BenchmarkPrefixTTFT measures time to first token for a 420-token prompt
// on books5M: cold (nothing cached), and warm, when a PrefixCache already
// holds a 400-token prefix it shares with an earlier request (pages of
// 64: 384 positions reused, 36 computed).
//
//	go test -run - -bench PrefixTTFT -benchtime 20x ./model/
func BenchmarkPrefixTTFT(b *testing.B) {
	m, ids := bookTokens(b, 460)
	prompt := append(append([]int(nil), ids[:400]...), ids[430:450]...)
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			s, _ := m.NewSessionWith(model.SessionOptions{Context: 512})
			if _, err := s.Prefill(prompt); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("shared-prefix", func(b *testing.B) {
		pc, _ := model.NewPrefixCache(model.PrefixOptions{})
		o := model.SessionOptions{Context: 512, KVOptions: model.KVOptions{Prefix: pc}}
		first, _ := m.NewSessionWith(o)
		if _, err := first.Prefill(append(append([]int(nil), ids[:400]...), ids[400:420]...)); err != nil {
			b.Fatal(err)
		}
		first.Close()
		for b.Loop() {
			s, _ := m.NewSessionWith(o)
			if _, err := s.Prefill(prompt); err != nil {
				b.Fatal(err)
			}
			s.Close()
		}
	})
}
