package quantize_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lmc-project/lmc/modelfile"
	_ "github.com/lmc-project/lmc/models/lmcmini" // the built-in model
	"github.com/lmc-project/lmc/plan"
	"github.com/lmc-project/lmc/quantize"
)

// Quantize the built-in model to llama.cpp's Q4_K_M mix.
func ExampleRun() {
	m, err := modelfile.Open("lmc-mini", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	ft, _ := plan.ParseFileType("q4_k_m")
	r, err := quantize.Run(context.Background(), m, filepath.Join(dir, "lmc-mini-q4_k_m.gguf"), quantize.Options{FileType: ft})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: %d tensors, %d q4_K and %d q6_K, %.2f bits per weight\n", r.FileType, len(r.Tensors), r.Types["q4_K"], r.Types["q6_K"], r.BPW)
	// Output:
	// Q4_K_M: 57 tensors, 39 q4_K and 5 q6_K, 4.95 bits per weight
}

// Plan shows the per-tensor types of a mix without quantizing anything
// (lmc-mini's norms are BF16: they are stored as F32, as llama.cpp needs).
func ExamplePlan() {
	m, err := modelfile.Open("lmc-mini", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	ft, _ := plan.ParseFileType("q3_k_m")
	plans, notes, err := quantize.Plan(m, &quantize.Options{FileType: ft})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range plans {
		if p.Layer <= 0 && p.Quantize {
			fmt.Println(p.Name, p.Type)
		}
	}
	fmt.Println(len(notes), "fallbacks")
	// Output:
	// output.weight q6_K
	// output_norm.weight f32
	// token_embd.weight q3_K
	// blk.0.attn_k.weight q3_K
	// blk.0.attn_norm.weight f32
	// blk.0.attn_output.weight q4_K
	// blk.0.attn_q.weight q3_K
	// blk.0.attn_v.weight q5_K
	// blk.0.ffn_down.weight q4_K
	// blk.0.ffn_gate.weight q3_K
	// blk.0.ffn_norm.weight f32
	// blk.0.ffn_up.weight q3_K
	// 0 fallbacks
}
