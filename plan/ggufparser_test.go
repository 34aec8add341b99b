package plan

import (
	"path/filepath"
	"testing"

	parser "github.com/gpustack/gguf-parser-go"
)

// TestAgainstGGUFParser compares the planner's weights and KV cache with
// gpustack/gguf-parser-go's llama.cpp estimate for every GGUF model file
// in ../shared, with everything on the CPU (no offload) so that one device
// holds it all. Both must agree exactly: weights are the file's tensor
// bytes; the cache is layers × kv_heads × head_dim × context per K and V,
// in the cache types' row sizes. Without flash attention llama.cpp keeps a
// quantized V cache in f16, and both model that. gguf-parser-go pads the
// context like llama.cpp (to 32, or 256 with flash attention): the
// contexts here are multiples of 256. docs/PLAN.md explains where the two
// estimates differ (compute buffers, runtime constants).
func TestAgainstGGUFParser(t *testing.T) {
	for _, p := range sharedGGUFs(t) {
		m, err := Load(p)
		if err != nil {
			t.Fatal(err)
		}
		ctx := (m.Arch.MaxContext + 255) / 256 * 256
		gf, err := parser.ParseGGUFFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			kv   string
			ggml parser.GGMLType
		}{{"f16", parser.GGMLTypeF16}, {"q8_0", parser.GGMLTypeQ8_0}, {"q4_0", parser.GGMLTypeQ4_0},
			{"q5_1", parser.GGMLTypeQ5_1}, {"bf16", parser.GGMLTypeBF16}, {"f32", parser.GGMLTypeF32}} {
			for _, fa := range []bool{true, false} {
				r, err := Estimate(m, Options{Context: ctx, KV: c.kv, NoFlashAttention: !fa,
					RopeScaling: ctx > m.Arch.MaxContext, Hardware: []Hardware{}})
				if err != nil {
					t.Fatalf("%s: %v", p, err)
				}
				opts := []parser.GGUFRunEstimateOption{parser.WithLLaMACppContextSize(int32(ctx)),
					parser.WithLLaMACppOffloadLayers(0), parser.WithLLaMACppCacheKeyType(c.ggml),
					parser.WithLLaMACppCacheValueType(c.ggml)}
				if fa {
					opts = append(opts, parser.WithFlashAttention())
				}
				e := gf.EstimateLLaMACppRun(opts...)
				if e.ContextSize != uint64(ctx) {
					t.Fatalf("%s: gguf-parser-go used context %d, not %d", p, e.ContextSize, ctx)
				}
				var w, kv uint64
				for _, d := range e.Devices {
					w += uint64(d.Weight.Sum())
					kv += uint64(d.KVCache.Sum())
				}
				if uint64(r.Weights.Bytes) != w {
					t.Errorf("%s: weights %d, gguf-parser-go %d", filepath.Base(p), r.Weights.Bytes, w)
				}
				if uint64(r.KV.Bytes) != kv {
					t.Errorf("%s ctx %d KV %s (flash attention %v): %d, gguf-parser-go %d",
						filepath.Base(p), ctx, r.KV.Type, fa, r.KV.Bytes, kv)
				}
			}
		}
	}
}
