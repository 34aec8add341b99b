package hf

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"
)

func TestReadConfig(t *testing.T) {
	tests := []struct {
		file          string
		family        Family
		ggufArch      string
		layers, heads int
		kvHeads       int
		headDim       int
		tied          bool
		rope          string
		ropeFactor    float64
	}{
		{file: "llama-3.1-8b.json", family: Llama, ggufArch: "llama", layers: 32, heads: 32, kvHeads: 8, headDim: 128, rope: "llama3", ropeFactor: 8},
		{file: "qwen2.5-0.5b.json", family: Qwen2, ggufArch: "qwen2", layers: 24, heads: 14, kvHeads: 2, headDim: 64, tied: true},
		{file: "qwen3-0.6b.json", family: Qwen3, ggufArch: "qwen3", layers: 28, heads: 16, kvHeads: 8, headDim: 128, tied: true},
		{file: "mistral-7b-v0.1.json", family: Mistral, ggufArch: "llama", layers: 32, heads: 32, kvHeads: 8, headDim: 128},
		{file: "tinyllama-1.1b.json", family: Llama, ggufArch: "llama", layers: 22, heads: 32, kvHeads: 4, headDim: 64},
		{file: "smollm-135m.json", family: Llama, ggufArch: "llama", layers: 30, heads: 9, kvHeads: 3, headDim: 64, tied: true},
		{file: "llama-2-7b-linear-rope.json", family: Llama, ggufArch: "llama", layers: 32, heads: 32, kvHeads: 32, headDim: 128, rope: "linear", ropeFactor: 2},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			c, err := ReadConfig(filepath.Join("testdata", "configs", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			f, err := c.Family()
			if err != nil || f != tc.family || f.GGUFArch() != tc.ggufArch {
				t.Fatalf("family = %v %v (arch %s), want %v %s", f, err, f.GGUFArch(), tc.family, tc.ggufArch)
			}
			if c.NumHiddenLayers != tc.layers || c.NumAttentionHeads != tc.heads || c.NumKeyValueHeads != tc.kvHeads || c.HeadDim != tc.headDim {
				t.Errorf("layers/heads/kv/headdim = %d/%d/%d/%d", c.NumHiddenLayers, c.NumAttentionHeads, c.NumKeyValueHeads, c.HeadDim)
			}
			if c.TieWordEmbeddings != tc.tied {
				t.Errorf("tied = %v, want %v", c.TieWordEmbeddings, tc.tied)
			}
			if c.RopeScaling.Kind() != tc.rope || (c.RopeScaling != nil && c.RopeScaling.Factor != tc.ropeFactor) {
				t.Errorf("rope scaling = %+v, want %s x%v", c.RopeScaling, tc.rope, tc.ropeFactor)
			}
			// Marshal keeps unknown fields and re-parses to the same config.
			b, err := c.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			c2, err := ParseConfig(b)
			if err != nil {
				t.Fatal(err)
			}
			b2, _ := c2.Marshal()
			if !bytes.Equal(b, b2) {
				t.Errorf("config does not round-trip:\n%s\n%s", b, b2)
			}
			if _, ok := c.Extra["transformers_version"]; !ok && tc.file != "llama-2-7b-linear-rope.json" {
				t.Errorf("unknown field transformers_version was dropped")
			}
		})
	}
}

func TestUnsupportedArchitecture(t *testing.T) {
	_, err := ReadConfig(filepath.Join("testdata", "configs", "gpt2-unsupported.json"))
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("err = %v, want ErrUnsupported", err)
	}
	if !bytes.Contains([]byte(err.Error()), []byte("LlamaForCausalLM")) {
		t.Errorf("error %q does not list the supported architectures", err)
	}
}

func TestBadConfigs(t *testing.T) {
	for name, js := range map[string]string{
		"kv heads do not divide": `{"architectures":["LlamaForCausalLM"],"hidden_size":64,"intermediate_size":128,"num_hidden_layers":1,"num_attention_heads":4,"num_key_value_heads":3,"vocab_size":10,"max_position_embeddings":8}`,
		"zero layers":            `{"architectures":["LlamaForCausalLM"],"hidden_size":64,"intermediate_size":128,"num_hidden_layers":0,"num_attention_heads":4,"vocab_size":10,"max_position_embeddings":8}`,
		"gelu":                   `{"architectures":["LlamaForCausalLM"],"hidden_act":"gelu","hidden_size":64,"intermediate_size":128,"num_hidden_layers":1,"num_attention_heads":4,"vocab_size":10,"max_position_embeddings":8}`,
		"not json":               `{"architectures":`,
	} {
		if _, err := ParseConfig([]byte(js)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestNames(t *testing.T) {
	pairs := [][2]string{
		{"model.embed_tokens.weight", "token_embd.weight"},
		{"lm_head.weight", "output.weight"},
		{"model.norm.weight", "output_norm.weight"},
		{"model.layers.0.self_attn.q_proj.weight", "blk.0.attn_q.weight"},
		{"model.layers.11.self_attn.k_proj.bias", "blk.11.attn_k.bias"},
		{"model.layers.3.self_attn.k_norm.weight", "blk.3.attn_k_norm.weight"},
		{"model.layers.5.mlp.down_proj.weight", "blk.5.ffn_down.weight"},
		{"model.layers.5.post_attention_layernorm.weight", "blk.5.ffn_norm.weight"},
	}
	for _, p := range pairs {
		g, err := ToGGUFName(p[0])
		if err != nil || g != p[1] {
			t.Errorf("ToGGUFName(%q) = %q, %v; want %q", p[0], g, err, p[1])
		}
		h, err := ToHFName(p[1])
		if err != nil || h != p[0] {
			t.Errorf("ToHFName(%q) = %q, %v; want %q", p[1], h, err, p[0])
		}
	}
	if _, err := ToGGUFName("model.layers.0.mlp.experts.0.w1"); err == nil {
		t.Error("unknown tensor mapped")
	}
	if !Ignored("model.layers.0.self_attn.rotary_emb.inv_freq") {
		t.Error("inv_freq not ignored")
	}
	if Layer("blk.7.attn_q.weight") != 7 || Layer("model.layers.12.mlp.up_proj.weight") != 12 || Layer("output.weight") != -1 {
		t.Error("Layer")
	}
}

// TestPermuteRows checks the permutation on one head of 8 rows against the
// mapping written out by hand: GGUF row 2i+c = HF row c*4+i.
func TestPermuteRows(t *testing.T) {
	src := []byte{0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 15, 16, 17} // 2 heads x 8 rows, 1 byte each
	dst := make([]byte, len(src))
	if err := PermuteRows(dst, src, 2, 16, 1); err != nil {
		t.Fatal(err)
	}
	want := []byte{0, 4, 1, 5, 2, 6, 3, 7, 10, 14, 11, 15, 12, 16, 13, 17}
	if !bytes.Equal(dst, want) {
		t.Fatalf("PermuteRows = %v, want %v", dst, want)
	}
	back := make([]byte, len(src))
	if err := UnpermuteRows(back, dst, 2, 16, 1); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back, src) {
		t.Fatalf("UnpermuteRows(PermuteRows(x)) = %v, want %v", back, src)
	}
	if err := PermuteRows(dst, src, 3, 16, 1); err == nil {
		t.Error("16 rows in 3 heads accepted")
	}
}
