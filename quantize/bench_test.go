package quantize_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/lmc-project/lmc/internal/shared"
	"github.com/lmc-project/lmc/quantize"
)

// BenchmarkRunBooks5M times a whole-model quantization of books5M on one
// thread, as llama-quantize's numbers in ../shared were measured
// (models/books5M/llamacpp/RESULTS.md: Q8_0 61 ms, Q4_0 54 ms, Q4_K_M
// 312 ms, Q6_K 190 ms, Q2_K 233 ms, IQ4_XS 1035 ms).
func BenchmarkRunBooks5M(b *testing.B) {
	m := open(b, shared.Path(b, "models/books5M/books5M-f32.gguf"))
	out := filepath.Join(b.TempDir(), "q.gguf")
	for _, typ := range []string{"q8_0", "q4_0", "q4_k_m", "q6_k", "q2_k", "iq4_xs"} {
		b.Run(typ, func(b *testing.B) {
			o := quantize.Options{FileType: ft(b, typ), Threads: 1, NoResume: true}
			b.SetBytes(m.TensorBytes())
			for i := 0; i < b.N; i++ {
				if _, err := quantize.Run(context.Background(), m, out, o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
