// Package hf reads and writes Hugging Face model directories of the Llama
// family: config.json, the HF ↔ GGUF tensor-name map, and the Q/K row
// permutation between HF's rotate-half RoPE layout and the interleaved
// (Meta, llama.cpp "llama" architecture) layout.
//
// Supported architectures (config.json "architectures"/"model_type"):
// LlamaForCausalLM (Llama 1/2/3 incl. llama3 rope scaling, SmolLM,
// TinyLlama), MistralForCausalLM, Qwen2ForCausalLM (Qwen2/2.5, QKV bias) and
// Qwen3ForCausalLM (Q/K RMSNorm).
package hf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
)

// Family is an architecture family that lmc knows how to load.
type Family string

// Supported families. The GGUF architecture name is Family.GGUFArch.
const (
	Llama   Family = "llama"
	Mistral Family = "mistral"
	Qwen2   Family = "qwen2"
	Qwen3   Family = "qwen3"
)

var families = map[string]Family{
	"LlamaForCausalLM":   Llama,
	"MistralForCausalLM": Mistral,
	"Qwen2ForCausalLM":   Qwen2,
	"Qwen3ForCausalLM":   Qwen3,
}

// SupportedArchitectures lists the config.json "architectures" values lmc loads.
func SupportedArchitectures() []string {
	var s []string
	for k := range families {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}

// GGUFArch returns the llama.cpp architecture name used for this family
// ("llama" for Llama and Mistral, as llama.cpp's converter does).
func (f Family) GGUFArch() string {
	switch f {
	case Qwen2:
		return "qwen2"
	case Qwen3:
		return "qwen3"
	}
	return "llama"
}

// PermuteQK reports whether q/k rows must be permuted between HF's
// rotate-half layout and GGUF's: llama.cpp's "llama" architecture applies RoPE
// to interleaved pairs, so its converter permutes; qwen2/qwen3 use the NEOX
// (rotate-half) style in llama.cpp and keep HF's rows as they are.
func (f Family) PermuteQK() bool { return f.GGUFArch() == "llama" }

// RopeScaling is config.json's "rope_scaling".
type RopeScaling struct {
	Type                          string  `json:"rope_type,omitempty"`
	LegacyType                    string  `json:"type,omitempty"`
	Factor                        float64 `json:"factor,omitempty"`
	LowFreqFactor                 float64 `json:"low_freq_factor,omitempty"`
	HighFreqFactor                float64 `json:"high_freq_factor,omitempty"`
	OriginalMaxPositionEmbeddings int     `json:"original_max_position_embeddings,omitempty"`
}

// Kind returns the scaling type ("linear", "llama3", "yarn", "dynamic"...),
// whichever of the two spellings the file used.
func (r *RopeScaling) Kind() string {
	if r == nil {
		return ""
	}
	if r.Type != "" {
		return r.Type
	}
	return r.LegacyType
}

// Config is the part of config.json that defines a Llama-family model.
// Unknown fields are kept in Extra and written back by Marshal.
type Config struct {
	Architectures         []string     `json:"architectures"`
	ModelType             string       `json:"model_type"`
	HiddenSize            int          `json:"hidden_size"`
	IntermediateSize      int          `json:"intermediate_size"`
	NumHiddenLayers       int          `json:"num_hidden_layers"`
	NumAttentionHeads     int          `json:"num_attention_heads"`
	NumKeyValueHeads      int          `json:"num_key_value_heads,omitempty"`
	HeadDim               int          `json:"head_dim,omitempty"`
	HiddenAct             string       `json:"hidden_act,omitempty"`
	VocabSize             int          `json:"vocab_size"`
	MaxPositionEmbeddings int          `json:"max_position_embeddings"`
	RMSNormEps            float64      `json:"rms_norm_eps"`
	RopeTheta             float64      `json:"rope_theta,omitempty"`
	RopeScaling           *RopeScaling `json:"rope_scaling"`
	AttentionBias         bool         `json:"attention_bias,omitempty"`
	TieWordEmbeddings     bool         `json:"tie_word_embeddings"`
	SlidingWindow         *int         `json:"sliding_window,omitempty"`
	BOSTokenID            any          `json:"bos_token_id,omitempty"`
	EOSTokenID            any          `json:"eos_token_id,omitempty"`
	TorchDtype            string       `json:"torch_dtype,omitempty"`

	// Extra holds every other field of the file, written back unchanged.
	Extra map[string]json.RawMessage `json:"-"`
}

// ErrUnsupported is returned (wrapped) for architectures lmc cannot load.
var ErrUnsupported = errors.New("unsupported architecture")

// ReadConfig reads and validates a config.json.
func ReadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, err := ParseConfig(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ParseConfig parses config.json bytes and fills defaults (num_key_value_heads
// = num_attention_heads, head_dim = hidden_size / num_attention_heads,
// rope_theta = 10000, tie_word_embeddings as each architecture's default).
func ParseConfig(b []byte) (*Config, error) {
	var c Config
	// tie_word_embeddings defaults differ per architecture; detect absence.
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("config.json: %v", err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("config.json: %v", err)
	}
	known := knownKeys()
	c.Extra = map[string]json.RawMessage{}
	for k, v := range raw {
		if !known[k] {
			c.Extra[k] = v
		}
	}
	if _, ok := raw["tie_word_embeddings"]; !ok {
		// transformers' PretrainedConfig default is true; LlamaConfig,
		// MistralConfig set false; Qwen2/Qwen3 configs default false too but
		// the small checkpoints say true explicitly.
		c.TieWordEmbeddings = false
	}
	if c.NumKeyValueHeads == 0 {
		c.NumKeyValueHeads = c.NumAttentionHeads
	}
	if c.HeadDim == 0 && c.NumAttentionHeads > 0 {
		c.HeadDim = c.HiddenSize / c.NumAttentionHeads
	}
	if c.RopeTheta == 0 {
		c.RopeTheta = 10000
	}
	if c.RMSNormEps == 0 {
		c.RMSNormEps = 1e-6
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func knownKeys() map[string]bool {
	m := map[string]bool{}
	t := []string{"architectures", "model_type", "hidden_size", "intermediate_size", "num_hidden_layers",
		"num_attention_heads", "num_key_value_heads", "head_dim", "hidden_act", "vocab_size",
		"max_position_embeddings", "rms_norm_eps", "rope_theta", "rope_scaling", "attention_bias",
		"tie_word_embeddings", "sliding_window", "bos_token_id", "eos_token_id", "torch_dtype"}
	for _, k := range t {
		m[k] = true
	}
	return m
}

// Family returns the architecture family, or an error listing the supported ones.
func (c *Config) Family() (Family, error) {
	for _, a := range c.Architectures {
		if f, ok := families[a]; ok {
			return f, nil
		}
	}
	if len(c.Architectures) == 0 {
		switch c.ModelType {
		case "llama", "mistral", "qwen2", "qwen3":
			return Family(c.ModelType), nil
		}
	}
	return "", fmt.Errorf("%w %q (model_type %q); lmc supports %s", ErrUnsupported,
		strings.Join(c.Architectures, ","), c.ModelType, strings.Join(SupportedArchitectures(), ", "))
}

// Validate checks that the numbers describe a model lmc can build.
func (c *Config) Validate() error {
	if _, err := c.Family(); err != nil {
		return err
	}
	pos := []struct {
		name string
		v    int
	}{{"hidden_size", c.HiddenSize}, {"intermediate_size", c.IntermediateSize},
		{"num_hidden_layers", c.NumHiddenLayers}, {"num_attention_heads", c.NumAttentionHeads},
		{"num_key_value_heads", c.NumKeyValueHeads}, {"head_dim", c.HeadDim}, {"vocab_size", c.VocabSize}}
	for _, p := range pos {
		if p.v <= 0 || p.v > 1<<24 {
			return fmt.Errorf("config.json: %s = %d, want a positive size", p.name, p.v)
		}
	}
	if c.NumAttentionHeads%c.NumKeyValueHeads != 0 {
		return fmt.Errorf("config.json: num_attention_heads %d is not a multiple of num_key_value_heads %d",
			c.NumAttentionHeads, c.NumKeyValueHeads)
	}
	if c.HeadDim%2 != 0 {
		return fmt.Errorf("config.json: head_dim %d must be even for RoPE", c.HeadDim)
	}
	if c.HiddenAct != "" && c.HiddenAct != "silu" {
		return fmt.Errorf("config.json: hidden_act %q, lmc supports silu (SwiGLU)", c.HiddenAct)
	}
	switch k := c.RopeScaling.Kind(); k {
	case "", "default", "linear", "llama3", "yarn", "dynamic":
	default:
		return fmt.Errorf("config.json: rope_scaling type %q not supported (linear, llama3, yarn, dynamic)", k)
	}
	return nil
}

// Marshal writes c back as indented JSON, known fields first in a fixed
// order, then Extra in sorted key order.
func (c *Config) Marshal() ([]byte, error) {
	known, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(known, &m); err != nil {
		return nil, err
	}
	for k, v := range c.Extra {
		if _, ok := m[k]; !ok {
			m[k] = v
		}
	}
	// encoding/json sorts map keys, which gives a stable file.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// IDs returns a token id field that may be a number or a list of numbers.
func IDs(v any) []int {
	switch x := v.(type) {
	case float64:
		return []int{int(x)}
	case []any:
		var out []int
		for _, e := range x {
			if f, ok := e.(float64); ok {
				out = append(out, int(f))
			}
		}
		return out
	}
	return nil
}
