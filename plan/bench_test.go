package plan

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/lmc-project/lmc/internal/shared"
)

// BenchmarkEstimate plans Llama-3.1-70B against the whole hardware list
// (fits, longest context and most sequences by bisection, the ceilings).
func BenchmarkEstimate(b *testing.B) {
	m, err := Load("Llama-3.1-70B")
	if err != nil {
		b.Fatal(err)
	}
	o := Options{Weights: "q4_k_m", KV: "q8_0", Context: 32768, Batch: 8}
	for b.Loop() {
		if _, err := Estimate(m, o); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPriceWeights prices DeepSeek-V3's 1,025 tensors with
// llama-quantize's Q4_K_M mix.
func BenchmarkPriceWeights(b *testing.B) {
	a, _ := Preset("DeepSeek-V3")
	m := FromArch(a)
	f, _ := ParseWeightFormat("q4_k_m")
	for b.Loop() {
		if _, err := PriceWeights(m, f); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzArchFromConfigJSON feeds config.json variants to the parser: it must
// never panic, and what it accepts must give a bounded tensor list with
// positive sizes.
func FuzzArchFromConfigJSON(f *testing.F) {
	f.Add([]byte(`{"model_type": "mixtral", "num_hidden_layers": 2, "hidden_size": 64, "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 128, "vocab_size": 100, "num_local_experts": 4, "num_experts_per_tok": 2}`))
	f.Add([]byte(`{"model_type": "deepseek_v3", "num_hidden_layers": 3, "hidden_size": 64, "num_attention_heads": 4, "intermediate_size": 128, "vocab_size": 100, "n_routed_experts": 8, "num_experts_per_tok": 2, "n_shared_experts": 1, "moe_intermediate_size": 32, "first_k_dense_replace": 1, "q_lora_rank": 16, "kv_lora_rank": 16, "qk_nope_head_dim": 8, "qk_rope_head_dim": 8, "v_head_dim": 8}`))
	f.Add([]byte(`{"model_type": "gemma2", "num_hidden_layers": 1e9, "hidden_size": 64}`))
	if p := shared.Root(); p != "" {
		if b, err := os.ReadFile(filepath.Join(p, "models/books5M/hf/config.json")); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ArchFromConfigJSON(b)
		if err != nil {
			return
		}
		ts := a.Tensors(0)
		if len(ts) > 64*MaxLayers+8 {
			t.Fatalf("%d tensors", len(ts))
		}
		m := FromArch(a)
		if m.Params() <= 0 {
			t.Fatalf("%d parameters from %+v", m.Params(), a)
		}
	})
}
