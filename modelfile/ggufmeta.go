package modelfile

import (
	"fmt"
	"math"

	"github.com/lmc-project/lmc/gguf"
	"github.com/lmc-project/lmc/hf"
	"github.com/lmc-project/lmc/tokenizer"
)

// ConfigFromGGUF reads the architecture from GGUF metadata.
func ConfigFromGGUF(f *gguf.File) (Config, error) {
	arch, _ := f.String("general.architecture")
	if arch == "" {
		return Config{}, fmt.Errorf("%s: general.architecture missing", f.Path)
	}
	c := Config{Arch: arch, Family: hf.Family(arch)}
	c.Name, _ = f.String("general.name")
	need := func(key string) (int, error) {
		v, ok := f.Uint(arch + "." + key)
		if !ok {
			return 0, fmt.Errorf("%s: metadata %s.%s missing", f.Path, arch, key)
		}
		if v > 1<<31 {
			return 0, fmt.Errorf("%s: metadata %s.%s = %d is out of range", f.Path, arch, key, v)
		}
		return int(v), nil
	}
	var err error
	if c.ContextLength, err = need("context_length"); err != nil {
		return c, err
	}
	if c.EmbeddingLength, err = need("embedding_length"); err != nil {
		return c, err
	}
	if c.BlockCount, err = need("block_count"); err != nil {
		return c, err
	}
	if c.FeedForwardLength, err = need("feed_forward_length"); err != nil {
		return c, err
	}
	if c.HeadCount, err = need("attention.head_count"); err != nil {
		return c, err
	}
	c.HeadCountKV = c.HeadCount
	if v, ok := f.Uint(arch + ".attention.head_count_kv"); ok {
		c.HeadCountKV = int(v)
	}
	if c.HeadCount > 0 {
		c.HeadDim = c.EmbeddingLength / c.HeadCount
	}
	if v, ok := f.Uint(arch + ".attention.key_length"); ok {
		c.HeadDim = int(v)
	} else if v, ok := f.Uint(arch + ".rope.dimension_count"); ok && arch == "llama" {
		c.HeadDim = int(v)
	}
	c.RMSNormEps = 1e-5
	if v, ok := f.Float(arch + ".attention.layer_norm_rms_epsilon"); ok {
		c.RMSNormEps = roundF32(v)
	}
	c.RopeTheta = 10000
	if v, ok := f.Float(arch + ".rope.freq_base"); ok {
		c.RopeTheta = roundF32(v)
	}
	if s, ok := f.String(arch + ".rope.scaling.type"); ok && s != "none" {
		c.RopeScaling = s
		if v, ok := f.Float(arch + ".rope.scaling.factor"); ok {
			c.RopeFactor = roundF32(v)
		}
		if v, ok := f.Uint(arch + ".rope.scaling.original_context_length"); ok {
			c.RopeOrigContext = int(v)
		}
	}
	if _, ok := f.Tensor("rope_freqs.weight"); ok && c.RopeScaling == "" {
		c.RopeScaling = "llama3"
	}
	if v, ok := f.Uint(arch + ".vocab_size"); ok {
		c.VocabSize = int(v)
	} else if toks, ok := f.Strings("tokenizer.ggml.tokens"); ok {
		c.VocabSize = len(toks)
	} else if t, ok := f.Tensor("token_embd.weight"); ok && len(t.Shape) == 2 {
		c.VocabSize = int(t.Shape[1])
	}
	_, hasOutput := f.Tensor("output.weight")
	c.TiedEmbeddings = !hasOutput
	_, c.QKVBias = f.Tensor("blk.0.attn_q.bias")
	_, c.QKNorm = f.Tensor("blk.0.attn_q_norm.weight")
	return c, c.Validate()
}

// roundF32 turns a float32 metadata value widened to float64 back into the
// shortest decimal that names it (1e-05, not 9.999999747378752e-06).
func roundF32(v float64) float64 {
	f := float32(v)
	if float64(f) != v {
		return v // a true f64 value
	}
	var out float64
	fmt.Sscan(fmt.Sprint(f), &out)
	return out
}

// KVs returns the GGUF architecture metadata for c, in the order llama.cpp's
// convert_hf_to_gguf.py writes it.
func (c *Config) KVs() []gguf.KV {
	a := c.Arch
	u := func(k string, v int) gguf.KV { return gguf.KV{Key: a + "." + k, Value: gguf.Uint32(uint32(v))} }
	f := func(k string, v float64) gguf.KV { return gguf.KV{Key: a + "." + k, Value: gguf.Float32(float32(v))} }
	kvs := []gguf.KV{
		{Key: "general.architecture", Value: gguf.String(a)},
	}
	if c.Name != "" {
		kvs = append(kvs, gguf.KV{Key: "general.name", Value: gguf.String(c.Name)})
	}
	kvs = append(kvs,
		u("block_count", c.BlockCount),
		u("context_length", c.ContextLength),
		u("embedding_length", c.EmbeddingLength),
		u("feed_forward_length", c.FeedForwardLength),
		u("attention.head_count", c.HeadCount),
		u("attention.head_count_kv", c.HeadCountKV),
		f("rope.freq_base", c.RopeTheta),
		f("attention.layer_norm_rms_epsilon", c.RMSNormEps),
	)
	if c.HeadDim*c.HeadCount != c.EmbeddingLength || a != "llama" {
		kvs = append(kvs, u("attention.key_length", c.HeadDim), u("attention.value_length", c.HeadDim))
	}
	kvs = append(kvs, u("vocab_size", c.VocabSize))
	if a == "llama" {
		kvs = append(kvs, u("rope.dimension_count", c.HeadDim))
	}
	switch c.RopeScaling {
	case "linear", "yarn":
		kvs = append(kvs, gguf.KV{Key: a + ".rope.scaling.type", Value: gguf.String(c.RopeScaling)},
			f("rope.scaling.factor", c.RopeFactor))
		if c.RopeOrigContext > 0 {
			kvs = append(kvs, u("rope.scaling.original_context_length", c.RopeOrigContext))
		}
	}
	return kvs
}

// Llama3RopeFreqs computes the rope_freqs.weight tensor llama.cpp expects for
// "llama3" rope scaling: one divisor per rotary pair, as in
// convert_hf_to_gguf.py's LlamaModel.generate_extra_tensors.
func (c *Config) Llama3RopeFreqs() []float32 {
	n := c.HeadDim / 2
	out := make([]float32, n)
	lowWL := float64(c.RopeOrigContext) / c.RopeLowFreqFactor
	highWL := float64(c.RopeOrigContext) / c.RopeHighFreqFactor
	for i := 0; i < n; i++ {
		freq := 1 / math.Pow(c.RopeTheta, float64(2*i)/float64(c.HeadDim))
		wl := 2 * math.Pi / freq
		switch {
		case wl < highWL:
			out[i] = 1
		case wl > lowWL:
			out[i] = float32(c.RopeFactor)
		default:
			smooth := (float64(c.RopeOrigContext)/wl - c.RopeLowFreqFactor) / (c.RopeHighFreqFactor - c.RopeLowFreqFactor)
			out[i] = float32(1 / ((1-smooth)/c.RopeFactor + smooth))
		}
	}
	return out
}

// VocabFromGGUF reads tokenizer.ggml.* metadata; it returns nil when the
// file carries no tokenizer.
func VocabFromGGUF(f *gguf.File) (*tokenizer.Vocab, error) {
	model, ok := f.String("tokenizer.ggml.model")
	if !ok {
		return nil, nil
	}
	v := &tokenizer.Vocab{Model: model, BOS: -1, EOS: -1, UNK: -1, PAD: -1, SEP: -1}
	v.Pre, _ = f.String("tokenizer.ggml.pre")
	v.Tokens, _ = f.Strings("tokenizer.ggml.tokens")
	if val, ok := f.Get("tokenizer.ggml.scores"); ok {
		if a, ok := val.AsArray(); ok {
			s, ok := a.V.([]float32)
			if !ok {
				return nil, fmt.Errorf("%s: tokenizer.ggml.scores is %s, want an array of f32", f.Path, val)
			}
			v.Scores = s
		}
	}
	if val, ok := f.Get("tokenizer.ggml.token_type"); ok {
		if a, ok := val.AsArray(); ok {
			s, ok := a.V.([]int32)
			if !ok {
				return nil, fmt.Errorf("%s: tokenizer.ggml.token_type is %s, want an array of i32", f.Path, val)
			}
			v.Types = make([]tokenizer.TokenType, len(s))
			for i, t := range s {
				v.Types[i] = tokenizer.TokenType(t)
			}
		}
	}
	v.Merges, _ = f.Strings("tokenizer.ggml.merges")
	id := func(key string) int {
		x, ok := f.Uint(key)
		if !ok || x >= uint64(len(v.Tokens)) {
			return -1
		}
		return int(x)
	}
	v.BOS = id("tokenizer.ggml.bos_token_id")
	v.EOS = id("tokenizer.ggml.eos_token_id")
	v.UNK = id("tokenizer.ggml.unknown_token_id")
	v.PAD = id("tokenizer.ggml.padding_token_id")
	v.SEP = id("tokenizer.ggml.seperator_token_id")
	if b, ok := f.Get("tokenizer.ggml.add_bos_token"); ok {
		v.AddBOS, v.AddBOSSet = b.V.(bool)
	}
	if b, ok := f.Get("tokenizer.ggml.add_eos_token"); ok {
		v.AddEOS, v.AddEOSSet = b.V.(bool)
	}
	v.AddSpacePrefix = model == "llama"
	if b, ok := f.Get("tokenizer.ggml.add_space_prefix"); ok {
		v.AddSpacePrefix, _ = b.V.(bool)
	}
	v.ChatTemplate, _ = f.String("tokenizer.chat_template")
	if err := v.Validate(); err != nil {
		return nil, fmt.Errorf("%s: tokenizer metadata: %w", f.Path, err)
	}
	return v, nil
}

// VocabKVs returns the tokenizer.ggml.* metadata for v, in the order
// llama.cpp's converter writes it.
func VocabKVs(v *tokenizer.Vocab) []gguf.KV {
	kvs := []gguf.KV{{Key: "tokenizer.ggml.model", Value: gguf.String(v.Model)}}
	pre := v.Pre
	if pre == "" && v.Model == "llama" {
		pre = "default"
	}
	if pre != "" {
		kvs = append(kvs, gguf.KV{Key: "tokenizer.ggml.pre", Value: gguf.String(pre)})
	}
	kvs = append(kvs, gguf.KV{Key: "tokenizer.ggml.tokens", Value: gguf.Strings(v.Tokens)})
	if v.Scores != nil {
		kvs = append(kvs, gguf.KV{Key: "tokenizer.ggml.scores", Value: gguf.Float32s(v.Scores)})
	}
	if v.Types != nil {
		t := make([]int32, len(v.Types))
		for i, x := range v.Types {
			t[i] = int32(x)
		}
		kvs = append(kvs, gguf.KV{Key: "tokenizer.ggml.token_type", Value: gguf.Int32s(t)})
	}
	if len(v.Merges) > 0 {
		kvs = append(kvs, gguf.KV{Key: "tokenizer.ggml.merges", Value: gguf.Strings(v.Merges)})
	}
	id := func(key string, x int) {
		if x >= 0 {
			kvs = append(kvs, gguf.KV{Key: key, Value: gguf.Uint32(uint32(x))})
		}
	}
	id("tokenizer.ggml.bos_token_id", v.BOS)
	id("tokenizer.ggml.eos_token_id", v.EOS)
	id("tokenizer.ggml.unknown_token_id", v.UNK)
	id("tokenizer.ggml.seperator_token_id", v.SEP)
	id("tokenizer.ggml.padding_token_id", v.PAD)
	if v.AddBOSSet || v.AddBOS {
		kvs = append(kvs, gguf.KV{Key: "tokenizer.ggml.add_bos_token", Value: gguf.Bool(v.AddBOS)})
	}
	if v.AddEOSSet || v.AddEOS {
		kvs = append(kvs, gguf.KV{Key: "tokenizer.ggml.add_eos_token", Value: gguf.Bool(v.AddEOS)})
	}
	if v.Model == "llama" && !v.AddSpacePrefix {
		kvs = append(kvs, gguf.KV{Key: "tokenizer.ggml.add_space_prefix", Value: gguf.Bool(false)})
	}
	if v.ChatTemplate != "" {
		kvs = append(kvs, gguf.KV{Key: "tokenizer.chat_template", Value: gguf.String(v.ChatTemplate)})
	}
	return kvs
}
