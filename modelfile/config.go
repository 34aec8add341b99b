package modelfile

import (
	"fmt"

	"github.com/lmc-project/lmc/hf"
)

// Config is the architecture of a Llama-family model, in GGUF's terms.
type Config struct {
	Arch              string  `json:"arch"` // GGUF general.architecture: llama, qwen2, qwen3
	Name              string  `json:"name,omitempty"`
	ContextLength     int     `json:"context_length"`
	EmbeddingLength   int     `json:"embedding_length"`
	BlockCount        int     `json:"block_count"`
	FeedForwardLength int     `json:"feed_forward_length"`
	HeadCount         int     `json:"head_count"`
	HeadCountKV       int     `json:"head_count_kv"`
	HeadDim           int     `json:"head_dim"`
	VocabSize         int     `json:"vocab_size"`
	RMSNormEps        float64 `json:"rms_norm_eps"`
	RopeTheta         float64 `json:"rope_theta"`
	// RoPE scaling: "" (none), "linear", "llama3", "yarn".
	RopeScaling        string  `json:"rope_scaling,omitempty"`
	RopeFactor         float64 `json:"rope_factor,omitempty"`
	RopeOrigContext    int     `json:"rope_original_context,omitempty"`
	RopeLowFreqFactor  float64 `json:"rope_low_freq_factor,omitempty"`
	RopeHighFreqFactor float64 `json:"rope_high_freq_factor,omitempty"`
	TiedEmbeddings     bool    `json:"tied_embeddings"`
	QKVBias            bool    `json:"qkv_bias,omitempty"`
	QKNorm             bool    `json:"qk_norm,omitempty"`
	SlidingWindow      int     `json:"sliding_window,omitempty"`
	// Family is the HF family this came from or goes to (llama, mistral, qwen2, qwen3).
	Family hf.Family `json:"family"`
}

// PermuteQK reports whether the GGUF layout of q/k rows differs from HF's.
func (c *Config) PermuteQK() bool { return c.Arch == "llama" }

// Validate checks the numbers for internal consistency.
func (c *Config) Validate() error {
	switch c.Arch {
	case "llama", "qwen2", "qwen3":
	default:
		return fmt.Errorf("architecture %q is not supported; lmc supports llama (Llama 1/2/3, Mistral, SmolLM, TinyLlama), qwen2 and qwen3", c.Arch)
	}
	for _, p := range []struct {
		n string
		v int
	}{{"embedding_length", c.EmbeddingLength}, {"block_count", c.BlockCount}, {"feed_forward_length", c.FeedForwardLength},
		{"head_count", c.HeadCount}, {"head_count_kv", c.HeadCountKV}, {"head_dim", c.HeadDim}, {"vocab_size", c.VocabSize}} {
		if p.v <= 0 || p.v > 1<<24 {
			return fmt.Errorf("%s.%s = %d, want a positive size", c.Arch, p.n, p.v)
		}
	}
	if c.HeadCount%c.HeadCountKV != 0 {
		return fmt.Errorf("%s: head_count %d is not a multiple of head_count_kv %d", c.Arch, c.HeadCount, c.HeadCountKV)
	}
	return nil
}

// ConfigFromHF converts a parsed config.json.
func ConfigFromHF(h *hf.Config) (Config, error) {
	fam, err := h.Family()
	if err != nil {
		return Config{}, err
	}
	c := Config{
		Arch:              fam.GGUFArch(),
		Family:            fam,
		ContextLength:     h.MaxPositionEmbeddings,
		EmbeddingLength:   h.HiddenSize,
		BlockCount:        h.NumHiddenLayers,
		FeedForwardLength: h.IntermediateSize,
		HeadCount:         h.NumAttentionHeads,
		HeadCountKV:       h.NumKeyValueHeads,
		HeadDim:           h.HeadDim,
		VocabSize:         h.VocabSize,
		RMSNormEps:        h.RMSNormEps,
		RopeTheta:         h.RopeTheta,
		TiedEmbeddings:    h.TieWordEmbeddings,
		QKVBias:           fam == hf.Qwen2 || h.AttentionBias,
		QKNorm:            fam == hf.Qwen3,
	}
	if h.SlidingWindow != nil && fam == hf.Mistral {
		c.SlidingWindow = *h.SlidingWindow
	}
	if rs := h.RopeScaling; rs != nil {
		switch k := rs.Kind(); k {
		case "", "default":
		case "linear", "llama3", "yarn":
			c.RopeScaling = k
			c.RopeFactor = rs.Factor
			c.RopeOrigContext = rs.OriginalMaxPositionEmbeddings
			c.RopeLowFreqFactor = rs.LowFreqFactor
			c.RopeHighFreqFactor = rs.HighFreqFactor
		default:
			return Config{}, fmt.Errorf("rope_scaling type %q is not supported", k)
		}
	}
	return c, c.Validate()
}

// HFConfig returns the config.json for c. base, when not nil, supplies the
// fields config.json has and Config does not (kept unchanged).
func (c *Config) HFConfig(base *hf.Config) *hf.Config {
	var h hf.Config
	if base != nil {
		h = *base
	}
	fam := c.Family
	if fam == "" {
		fam = hf.Family(c.Arch)
	}
	arch := map[hf.Family]string{hf.Llama: "LlamaForCausalLM", hf.Mistral: "MistralForCausalLM",
		hf.Qwen2: "Qwen2ForCausalLM", hf.Qwen3: "Qwen3ForCausalLM"}[fam]
	h.Architectures = []string{arch}
	h.ModelType = string(fam)
	h.HiddenSize = c.EmbeddingLength
	h.IntermediateSize = c.FeedForwardLength
	h.NumHiddenLayers = c.BlockCount
	h.NumAttentionHeads = c.HeadCount
	h.NumKeyValueHeads = c.HeadCountKV
	h.HeadDim = c.HeadDim
	h.HiddenAct = "silu"
	h.VocabSize = c.VocabSize
	h.MaxPositionEmbeddings = c.ContextLength
	h.RMSNormEps = c.RMSNormEps
	h.RopeTheta = c.RopeTheta
	h.TieWordEmbeddings = c.TiedEmbeddings
	h.AttentionBias = c.QKVBias && fam != hf.Qwen2
	h.RopeScaling = nil
	if c.RopeScaling != "" {
		h.RopeScaling = &hf.RopeScaling{Type: c.RopeScaling, Factor: c.RopeFactor,
			OriginalMaxPositionEmbeddings: c.RopeOrigContext, LowFreqFactor: c.RopeLowFreqFactor, HighFreqFactor: c.RopeHighFreqFactor}
	}
	if c.SlidingWindow > 0 {
		sw := c.SlidingWindow
		h.SlidingWindow = &sw
	}
	return &h
}
