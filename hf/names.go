package hf

import (
	"fmt"
	"regexp"
	"strconv"
)

// Tensor names: HF ("model.layers.3.self_attn.q_proj.weight") ↔ GGUF
// ("blk.3.attn_q.weight"), as llama.cpp's convert_hf_to_gguf.py maps them.
var (
	layerHF   = regexp.MustCompile(`^model\.layers\.(\d+)\.(.+)$`)
	layerGGUF = regexp.MustCompile(`^blk\.(\d+)\.(.+)$`)
)

var globalNames = [][2]string{
	{"model.embed_tokens.weight", "token_embd.weight"},
	{"model.norm.weight", "output_norm.weight"},
	{"lm_head.weight", "output.weight"},
}

var layerNames = [][2]string{
	{"input_layernorm.weight", "attn_norm.weight"},
	{"self_attn.q_proj.weight", "attn_q.weight"},
	{"self_attn.k_proj.weight", "attn_k.weight"},
	{"self_attn.v_proj.weight", "attn_v.weight"},
	{"self_attn.o_proj.weight", "attn_output.weight"},
	{"self_attn.q_proj.bias", "attn_q.bias"},
	{"self_attn.k_proj.bias", "attn_k.bias"},
	{"self_attn.v_proj.bias", "attn_v.bias"},
	{"self_attn.o_proj.bias", "attn_output.bias"},
	{"self_attn.q_norm.weight", "attn_q_norm.weight"},
	{"self_attn.k_norm.weight", "attn_k_norm.weight"},
	{"post_attention_layernorm.weight", "ffn_norm.weight"},
	{"mlp.gate_proj.weight", "ffn_gate.weight"},
	{"mlp.up_proj.weight", "ffn_up.weight"},
	{"mlp.down_proj.weight", "ffn_down.weight"},
}

// Ignored reports whether an HF tensor carries no weights llama.cpp uses
// (precomputed rotary tables).
func Ignored(hfName string) bool {
	m := layerHF.FindStringSubmatch(hfName)
	return m != nil && m[2] == "self_attn.rotary_emb.inv_freq"
}

// ToGGUFName maps an HF tensor name to its GGUF name.
func ToGGUFName(hfName string) (string, error) {
	for _, p := range globalNames {
		if p[0] == hfName {
			return p[1], nil
		}
	}
	if m := layerHF.FindStringSubmatch(hfName); m != nil {
		for _, p := range layerNames {
			if p[0] == m[2] {
				return "blk." + m[1] + "." + p[1], nil
			}
		}
	}
	return "", fmt.Errorf("tensor %q has no GGUF name (not a Llama-family tensor)", hfName)
}

// ToHFName maps a GGUF tensor name to its HF name.
func ToHFName(ggufName string) (string, error) {
	for _, p := range globalNames {
		if p[1] == ggufName {
			return p[0], nil
		}
	}
	if m := layerGGUF.FindStringSubmatch(ggufName); m != nil {
		for _, p := range layerNames {
			if p[1] == m[2] {
				return "model.layers." + m[1] + "." + p[0], nil
			}
		}
	}
	return "", fmt.Errorf("tensor %q has no HF name", ggufName)
}

// Layer returns the block index of a GGUF or HF tensor name, or -1.
func Layer(name string) int {
	for _, re := range []*regexp.Regexp{layerGGUF, layerHF} {
		if m := re.FindStringSubmatch(name); m != nil {
			n, _ := strconv.Atoi(m[1])
			return n
		}
	}
	return -1
}
