package plan

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/lmc-project/lmc/gguf"
)

// Arch holds the architecture numbers the planner needs. Presets are kept as
// data in presets.json with these field names.
type Arch struct {
	Name string `json:"name"`
	// Family is the GGUF architecture the tensors are named after: llama,
	// qwen2, qwen3, qwen3moe, gemma2, phi3, deepseek2 (Mistral and Mixtral
	// are "llama" in llama.cpp).
	Family     string `json:"family"`
	Layers     int    `json:"layers"`
	Hidden     int    `json:"hidden"`
	Heads      int    `json:"heads"`
	KVHeads    int    `json:"kv_heads"`
	HeadDim    int    `json:"head_dim"`
	FFN        int    `json:"ffn"`
	Vocab      int    `json:"vocab"`
	Tied       bool   `json:"tied,omitempty"`
	MaxContext int    `json:"max_context"`
	// ScaledContext is the context the model reaches with the rope scaling
	// its authors publish (YaRN for Qwen), when larger than MaxContext.
	ScaledContext int `json:"scaled_context,omitempty"`
	// RopeFreqs adds llama.cpp's rope_freqs.weight (Llama 3.1 rope scaling).
	RopeFreqs bool `json:"rope_freqs,omitempty"`
	QKVBias   bool `json:"qkv_bias,omitempty"`
	QKNorm    bool `json:"qk_norm,omitempty"`
	// SlidingWindow caps the KV cache of windowed layers; SWAEvery says
	// which layers: 1 = all, 2 = every other layer starting with layer 0
	// (Gemma-2).
	SlidingWindow int `json:"sliding_window,omitempty"`
	SWAEvery      int `json:"swa_every,omitempty"`
	// Mixture of experts. ExpertFFN is each expert's FFN width (FFN when 0);
	// DenseLayers leading layers have a dense FFN of width FFN.
	Experts       int `json:"experts,omitempty"`
	ActiveExperts int `json:"active_experts,omitempty"`
	SharedExperts int `json:"shared_experts,omitempty"`
	ExpertFFN     int `json:"expert_ffn,omitempty"`
	DenseLayers   int `json:"dense_layers,omitempty"`
	// Multi-head latent attention (DeepSeek-V2/V3). KVLoRARank > 0 turns it on.
	QLoRARank  int `json:"q_lora_rank,omitempty"`
	KVLoRARank int `json:"kv_lora_rank,omitempty"`
	QKNopeDim  int `json:"qk_nope_head_dim,omitempty"`
	QKRopeDim  int `json:"qk_rope_head_dim,omitempty"`
	VHeadDim   int `json:"v_head_dim,omitempty"`
	// Source says where the numbers come from (a Hugging Face repository).
	Source string `json:"source,omitempty"`
	// Aliases are other names the preset answers to.
	Aliases []string `json:"aliases,omitempty"`
}

// MoE reports whether the model has routed experts.
func (a *Arch) MoE() bool { return a.Experts > 1 }

// MLA reports whether the model uses multi-head latent attention.
func (a *Arch) MLA() bool { return a.KVLoRARank > 0 }

// Limits on architecture numbers, so that a hostile config.json cannot make
// the planner allocate huge tensor lists or overflow int64 parameter counts
// (the largest published models are far inside them).
const (
	MaxLayers  = 1 << 10
	MaxHidden  = 1 << 17
	MaxFFN     = 1 << 20
	MaxHeads   = 1 << 12
	MaxHeadDim = 1 << 12
	MaxVocab   = 1 << 24
	MaxExperts = 1 << 12
	MaxContext = 1 << 30
)

// Validate checks that the numbers are usable and within the limits above.
func (a *Arch) Validate() error {
	for _, p := range []struct {
		n      string
		v, max int
		zero   bool
	}{{"layers", a.Layers, MaxLayers, false}, {"hidden", a.Hidden, MaxHidden, false}, {"heads", a.Heads, MaxHeads, false},
		{"kv_heads", a.KVHeads, MaxHeads, false}, {"head_dim", a.HeadDim, MaxHeadDim, false}, {"vocab", a.Vocab, MaxVocab, false},
		{"ffn", a.FFN, MaxFFN, true}, {"expert_ffn", a.ExpertFFN, MaxFFN, true}, {"experts", a.Experts, MaxExperts, true},
		{"active_experts", a.ActiveExperts, MaxExperts, true}, {"shared_experts", a.SharedExperts, MaxExperts, true},
		{"max_context", a.MaxContext, MaxContext, true}, {"scaled_context", a.ScaledContext, MaxContext, true},
		{"sliding_window", a.SlidingWindow, MaxContext, true}, {"swa_every", a.SWAEvery, MaxLayers, true},
		{"dense_layers", a.DenseLayers, a.Layers, true}, {"q_lora_rank", a.QLoRARank, MaxHidden, true},
		{"kv_lora_rank", a.KVLoRARank, MaxHidden, true}, {"qk_nope_head_dim", a.QKNopeDim, MaxHeadDim, true},
		{"qk_rope_head_dim", a.QKRopeDim, MaxHeadDim, true}, {"v_head_dim", a.VHeadDim, MaxHeadDim, true}} {
		if p.v < 0 || p.v > p.max || (p.v == 0 && !p.zero) {
			return fmt.Errorf("%s: %s = %d, want 1 to %d", a.Name, p.n, p.v, p.max)
		}
	}
	if a.ActiveExperts > a.Experts {
		return fmt.Errorf("%s: %d active experts of %d", a.Name, a.ActiveExperts, a.Experts)
	}
	if a.MoE() && a.ActiveExperts == 0 {
		return fmt.Errorf("%s: %d experts but no active experts", a.Name, a.Experts)
	}
	if !a.MoE() && a.FFN == 0 {
		return fmt.Errorf("%s: ffn = 0", a.Name)
	}
	return nil
}

// swaLayer reports whether layer i uses the sliding window.
func (a *Arch) swaLayer(i int) bool {
	if a.SlidingWindow <= 0 {
		return false
	}
	e := a.SWAEvery
	if e <= 1 {
		return true
	}
	return i%e == 0
}

// ExpertFFNWidth returns one expert's FFN width (ExpertFFN, or FFN).
func (a *Arch) ExpertFFNWidth() int {
	if a.ExpertFFN > 0 {
		return a.ExpertFFN
	}
	return a.FFN
}

// Tensor is one weight tensor as the planner prices it: GGUF name, PyTorch
// order shape (the last element is the row length) and stored type.
type Tensor struct {
	Name  string    `json:"name"`
	Shape []int64   `json:"shape"`
	Type  gguf.Type `json:"-"`
}

// Elements returns the number of elements.
func (t Tensor) Elements() int64 {
	n := int64(1)
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// expert reports whether t holds routed experts (a 3-D "_exps" tensor).
func (t Tensor) expert() bool { return len(t.Shape) == 3 && strings.Contains(t.Name, "_exps.") }

// Tensors lists the tensors llama.cpp's converter writes for a, with 2-D and
// 3-D weights in type w and 1-D tensors (norms, biases), MoE routers and
// rope_freqs in F32, as convert_hf_to_gguf.py stores them.
func (a *Arch) Tensors(w gguf.Type) []Tensor {
	H, V := int64(a.Hidden), int64(a.Vocab)
	hd, nh, nkv := int64(a.HeadDim), int64(a.Heads), int64(a.KVHeads)
	var ts []Tensor
	add := func(name string, typ gguf.Type, shape ...int64) {
		ts = append(ts, Tensor{Name: name, Shape: shape, Type: typ})
	}
	add("token_embd.weight", w, V, H)
	add("output_norm.weight", gguf.TypeF32, H)
	if !a.Tied {
		add("output.weight", w, V, H)
	}
	if a.RopeFreqs {
		add("rope_freqs.weight", gguf.TypeF32, hd/2)
	}
	for i := 0; i < a.Layers; i++ {
		p := "blk." + strconv.Itoa(i) + "."
		add(p+"attn_norm.weight", gguf.TypeF32, H)
		switch {
		case a.MLA():
			qk := int64(a.QKNopeDim + a.QKRopeDim)
			if a.QLoRARank > 0 {
				add(p+"attn_q_a.weight", w, int64(a.QLoRARank), H)
				add(p+"attn_q_a_norm.weight", gguf.TypeF32, int64(a.QLoRARank))
				add(p+"attn_q_b.weight", w, nh*qk, int64(a.QLoRARank))
			} else {
				add(p+"attn_q.weight", w, nh*qk, H)
			}
			add(p+"attn_kv_a_mqa.weight", w, int64(a.KVLoRARank+a.QKRopeDim), H)
			add(p+"attn_kv_a_norm.weight", gguf.TypeF32, int64(a.KVLoRARank))
			add(p+"attn_kv_b.weight", w, nh*int64(a.QKNopeDim+a.VHeadDim), int64(a.KVLoRARank))
			add(p+"attn_output.weight", w, H, nh*int64(a.VHeadDim))
		case a.Family == "phi3":
			add(p+"attn_qkv.weight", w, (nh+2*nkv)*hd, H)
			add(p+"attn_output.weight", w, H, nh*hd)
		default:
			add(p+"attn_q.weight", w, nh*hd, H)
			add(p+"attn_k.weight", w, nkv*hd, H)
			add(p+"attn_v.weight", w, nkv*hd, H)
			add(p+"attn_output.weight", w, H, nh*hd)
			if a.QKVBias {
				add(p+"attn_q.bias", gguf.TypeF32, nh*hd)
				add(p+"attn_k.bias", gguf.TypeF32, nkv*hd)
				add(p+"attn_v.bias", gguf.TypeF32, nkv*hd)
			}
			if a.QKNorm {
				add(p+"attn_q_norm.weight", gguf.TypeF32, hd)
				add(p+"attn_k_norm.weight", gguf.TypeF32, hd)
			}
		}
		if a.Family == "gemma2" {
			add(p+"post_attention_norm.weight", gguf.TypeF32, H)
		}
		add(p+"ffn_norm.weight", gguf.TypeF32, H)
		switch {
		case a.MoE() && i >= a.DenseLayers:
			E, F := int64(a.Experts), int64(a.ExpertFFNWidth())
			add(p+"ffn_gate_inp.weight", gguf.TypeF32, E, H)
			if a.Family == "deepseek2" {
				add(p+"exp_probs_b.bias", gguf.TypeF32, E)
			}
			add(p+"ffn_gate_exps.weight", w, E, F, H)
			add(p+"ffn_up_exps.weight", w, E, F, H)
			add(p+"ffn_down_exps.weight", w, E, H, F)
			if s := int64(a.SharedExperts); s > 0 {
				add(p+"ffn_gate_shexp.weight", w, s*F, H)
				add(p+"ffn_up_shexp.weight", w, s*F, H)
				add(p+"ffn_down_shexp.weight", w, H, s*F)
			}
		case a.Family == "phi3":
			add(p+"ffn_up.weight", w, 2*int64(a.FFN), H)
			add(p+"ffn_down.weight", w, H, int64(a.FFN))
		default:
			add(p+"ffn_gate.weight", w, int64(a.FFN), H)
			add(p+"ffn_up.weight", w, int64(a.FFN), H)
			add(p+"ffn_down.weight", w, H, int64(a.FFN))
		}
		if a.Family == "gemma2" {
			add(p+"post_ffw_norm.weight", gguf.TypeF32, H)
		}
	}
	return ts
}

// QuantModel returns what llama-quantize knows about a model with these
// numbers; hasOutput says whether output.weight exists.
func (a *Arch) QuantModel(hasOutput bool) QuantModel {
	gqa := 1
	if a.KVHeads > 0 {
		gqa = a.Heads / a.KVHeads
	}
	return QuantModel{Arch: a.Family, Layers: a.Layers, Experts: a.Experts, GQA: gqa,
		Type70B: Is70B(a.Family, a.Layers, a.Heads, a.KVHeads), HasOutput: hasOutput}
}
