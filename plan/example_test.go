package plan_test

import (
	"errors"
	"fmt"

	"github.com/lmc-project/lmc/gguf"
	"github.com/lmc-project/lmc/plan"
)

// llama-quantize's Q4_K_M keeps most matrices in Q4_K but bumps attn_v and
// ffn_down to Q6_K in the first and last eighths of the layers and every
// third layer between; rows that do not divide into 256 fall back.
func ExampleTensorType() {
	m := plan.QuantModel{Arch: "llama", Layers: 32, GQA: 4, HasOutput: true}
	for _, name := range []string{"blk.0.attn_v.weight", "blk.4.attn_v.weight", "blk.6.ffn_down.weight", "output.weight"} {
		t, _ := plan.TensorType(plan.FileTypeQ4_K_M, name, []int64{4096, 4096}, gguf.TypeF16, m)
		fmt.Println(name, t)
	}
	t, _ := plan.TensorType(plan.FileTypeQ4_K_M, "blk.0.attn_q.weight", []int64{896, 896}, gguf.TypeF16, m)
	fmt.Println("rows of 896:", t)
	_, err := plan.TensorType(plan.FileTypeQ4_0, "blk.0.ffn_down.weight", []int64{64, 172}, gguf.TypeF32, m)
	fmt.Println(errors.Is(err, plan.ErrIncompatible))
	// Output:
	// blk.0.attn_v.weight q6_K
	// blk.4.attn_v.weight q4_K
	// blk.6.ffn_down.weight q6_K
	// output.weight q6_K
	// rows of 896: q5_0
	// true
}

// The issue's example: Llama-3-8B at 8k context in f16.
func ExampleKVBytes() {
	a, _ := plan.Preset("Llama-3-8B")
	for _, s := range []string{"f16", "q8_0", "int4"} {
		kv, _ := plan.ParseKVType(s)
		b, _ := plan.KVBytes(&a, kv, 8192, 1)
		fmt.Printf("%s: %d bytes (%.3f GiB)\n", s, b, float64(b)/(1<<30))
	}
	// Output:
	// f16: 1073741824 bytes (1.000 GiB)
	// q8_0: 570425344 bytes (0.531 GiB)
	// int4: 347078656 bytes (0.323 GiB)
}

func ExampleEstimate() {
	m, _ := plan.Load("Llama-3.1-70B")
	hw := []plan.Hardware{{Name: "A100 80GB", Kind: "gpu", MemoryGiB: 80, BandwidthGBs: 2039, RuntimeOverheadGiB: 1, PricePerHour: 1.79}}
	r, err := plan.Estimate(m, plan.Options{Weights: "q4_k_m", KV: "q8_0", Context: 16384, Batch: 4, Hardware: hw})
	if err != nil {
		fmt.Println(err)
		return
	}
	f := r.Fits[0]
	fmt.Printf("weights %.1f GiB, KV %.1f GiB\n", float64(r.Weights.Bytes)/(1<<30), float64(r.KV.Bytes)/(1<<30))
	fmt.Printf("fits: %v, up to %d sequences, %.1f tok/s each\n", f.Fits, f.MaxBatch, f.TokensPerSecond)
	// Output:
	// weights 39.6 GiB, KV 10.6 GiB
	// fits: true, up to 14 sequences, 38.2 tok/s each
}

func ExampleSeedTable() {
	t, _ := plan.SeedTable()
	for _, r := range t.Rows {
		fmt.Printf("%s: %g / %g / %g GB\n", r.Label, r.Bits[0], r.Bits[1], r.Bits[2])
	}
	// Output:
	// 7B: 14 / 7 / 3.5 GB
	// 13B: 26 / 13 / 6.5 GB
	// 34B: 68 / 34 / 17 GB
	// 70B: 140 / 70 / 35 GB
	// 405B: 810 / 405 / 202.5 GB
}

func ExamplePreset() {
	_, err := plan.Preset("qwen2.5-7")
	fmt.Println(err)
	// Output:
	// "qwen2.5-7" is not a file, a folder or a model preset; did you mean Qwen2.5-7B, Qwen2.5-72B, Qwen2.5-3B? (lmc plan --list-presets lists them)
}

func ExampleParseWeightFormat() {
	for _, s := range []string{"Q4_K_M", "q5_k", "pure-q4_0", "mxfp4", "4.25bpw"} {
		f, _ := plan.ParseWeightFormat(s)
		fmt.Println(s, "→", f.Kind, f)
	}
	// Output:
	// Q4_K_M → ftype q4_k_m
	// q5_k → ftype q5_k_m
	// pure-q4_0 → pure pure-q4_0
	// mxfp4 → pure pure-mxfp4
	// 4.25bpw → bpw 4.25bpw
}
