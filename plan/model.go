package plan

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/lmc-project/lmc/gguf"
	"github.com/lmc-project/lmc/hf"
	"github.com/lmc-project/lmc/modelfile"
)

// Model is what the planner prices: the architecture numbers and the list
// of weight tensors with their stored types.
type Model struct {
	Name string `json:"name"`
	// Source is "preset", "gguf", "hf" (a folder with safetensors) or
	// "config" (a config.json alone: tensors derived from the numbers).
	Source string `json:"source"`
	Path   string `json:"path,omitempty"`
	Arch   Arch   `json:"arch"`
	// FileType is the GGUF general.file_type ("Q4_K_M"), when known.
	FileType string   `json:"file_type,omitempty"`
	Tensors  []Tensor `json:"-"`
	// Exact reports that Tensors are the file's own (names, shapes, types),
	// not derived from the numbers.
	Exact bool `json:"exact_tensors"`
}

// Params returns the number of weights.
func (m *Model) Params() int64 {
	var n int64
	for _, t := range m.Tensors {
		n += t.Elements()
	}
	return n
}

// HasOutput reports whether the model has its own output matrix.
func (m *Model) HasOutput() bool {
	for _, t := range m.Tensors {
		if t.Name == "output.weight" {
			return true
		}
	}
	return false
}

// FromArch returns the model a preset describes, its weights in BF16 (as the
// checkpoints are published) and 1-D tensors in F32.
func FromArch(a Arch) *Model {
	return &Model{Name: a.Name, Source: "preset", Arch: a, Tensors: a.Tensors(gguf.TypeBF16)}
}

// Load opens MODEL for planning: a GGUF file, a Hugging Face folder or its
// config.json, or a preset name (see [Presets]). A path that exists always
// wins over a preset of the same name. For an unknown name the error is an
// *UnknownPresetError naming the nearest presets.
func Load(ref string) (*Model, error) {
	if st, err := os.Stat(ref); err == nil {
		if st.IsDir() {
			return loadHF(ref)
		}
		if strings.EqualFold(filepath.Ext(ref), ".json") {
			return loadConfig(ref)
		}
		return loadGGUF(ref)
	}
	if dir, ok, err := modelfile.Builtin(ref); ok {
		if err != nil {
			return nil, err
		}
		m, err := loadHF(dir)
		if err == nil {
			m.Name, m.Path = ref, ""
		}
		return m, err
	}
	a, err := Preset(ref)
	if err != nil {
		return nil, err
	}
	return FromArch(a), nil
}

func loadGGUF(path string) (*Model, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	a, err := archFromGGUF(f)
	if err != nil {
		return nil, err
	}
	m := &Model{Name: a.Name, Source: "gguf", Path: path, Arch: a, Exact: true}
	if v, ok := f.Uint("general.file_type"); ok && v < 1<<16 {
		m.FileType = FileType(v).String()
	}
	for _, ti := range f.Tensors {
		shape := make([]int64, len(ti.Shape))
		for i, d := range ti.Shape {
			shape[len(shape)-1-i] = int64(d) // the parser checked d < 2^63
		}
		m.Tensors = append(m.Tensors, Tensor{Name: ti.Name, Shape: shape, Type: ti.Type})
	}
	return m, nil
}

// archFromGGUF reads the numbers through modelfile.ConfigFromGGUF for the
// architectures lmc runs and straight from the metadata for the others.
func archFromGGUF(f *gguf.File) (Arch, error) {
	arch := f.Arch()
	if arch == "" {
		return Arch{}, fmt.Errorf("%s: general.architecture missing", f.Path)
	}
	u := func(key string) int {
		if v, ok := f.Uint(arch + "." + key); ok && v <= 1<<30 {
			return int(v)
		}
		return 0
	}
	var a Arch
	if c, err := modelfile.ConfigFromGGUF(f); err == nil {
		a = archFromConfig(c)
	} else {
		a = Arch{Family: arch, Layers: u("block_count"), Hidden: u("embedding_length"), FFN: u("feed_forward_length"),
			Heads: u("attention.head_count"), KVHeads: u("attention.head_count_kv"), MaxContext: u("context_length"),
			HeadDim: u("attention.key_length"), Vocab: u("vocab_size")}
		if a.KVHeads == 0 {
			a.KVHeads = a.Heads
		}
		if a.HeadDim == 0 && a.Heads > 0 {
			a.HeadDim = a.Hidden / a.Heads
		}
		if a.Vocab == 0 {
			if toks, ok := f.Strings("tokenizer.ggml.tokens"); ok {
				a.Vocab = len(toks)
			} else if t, ok := f.Tensor("token_embd.weight"); ok && len(t.Shape) == 2 && t.Shape[1] < 1<<30 {
				a.Vocab = int(t.Shape[1])
			}
		}
		_, hasOut := f.Tensor("output.weight")
		a.Tied = !hasOut
		_, a.RopeFreqs = f.Tensor("rope_freqs.weight")
	}
	if n, ok := f.String("general.name"); ok && n != "" && n != arch {
		a.Name = n
	} else {
		a.Name = filepath.Base(f.Path) // converters often name a model after its architecture
	}
	a.Experts = u("expert_count")
	a.ActiveExperts = u("expert_used_count")
	a.SharedExperts = u("expert_shared_count")
	a.ExpertFFN = u("expert_feed_forward_length")
	a.DenseLayers = u("leading_dense_block_count")
	a.KVLoRARank = u("attention.kv_lora_rank")
	a.QLoRARank = u("attention.q_lora_rank")
	if a.MLA() {
		a.QKRopeDim = u("rope.dimension_count")
		if kl := u("attention.key_length"); kl > a.QKRopeDim {
			a.QKNopeDim = kl - a.QKRopeDim
		}
		a.VHeadDim = u("attention.value_length")
	}
	if w := u("attention.sliding_window"); w > 0 {
		a.SlidingWindow = w
		a.SWAEvery = 1
		if arch == "gemma2" {
			a.SWAEvery = 2
		}
	}
	if err := a.Validate(); err != nil {
		return a, fmt.Errorf("%s: %v", f.Path, err)
	}
	return a, nil
}

func archFromConfig(c modelfile.Config) Arch {
	fam := c.Arch
	return Arch{Name: c.Name, Family: fam, Layers: c.BlockCount, Hidden: c.EmbeddingLength, Heads: c.HeadCount,
		KVHeads: c.HeadCountKV, HeadDim: c.HeadDim, FFN: c.FeedForwardLength, Vocab: c.VocabSize,
		Tied: c.TiedEmbeddings, MaxContext: c.ContextLength, QKVBias: c.QKVBias, QKNorm: c.QKNorm,
		RopeFreqs: c.RopeScaling == "llama3", SlidingWindow: c.SlidingWindow, SWAEvery: b2i(c.SlidingWindow > 0)}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// loadHF plans a Hugging Face folder: the real tensors when lmc can read
// the model, otherwise tensors derived from config.json.
func loadHF(dir string) (*Model, error) {
	cfgPath := filepath.Join(dir, "config.json")
	if _, err := os.Stat(cfgPath); err != nil {
		return nil, fmt.Errorf("%s: no config.json (a model folder needs one)", dir)
	}
	m, err := loadConfig(cfgPath)
	if err != nil {
		return nil, err
	}
	mf, err := modelfile.Open(dir, nil)
	if err != nil {
		if errors.Is(err, hf.ErrUnsupported) {
			return m, nil // numbers from config.json, tensors derived
		}
		return nil, err
	}
	defer mf.Close()
	m.Source, m.Path, m.Exact, m.Tensors = "hf", dir, true, nil
	for _, t := range mf.Tensors {
		m.Tensors = append(m.Tensors, Tensor{Name: t.Name, Shape: append([]int64(nil), t.Shape...), Type: t.Type})
	}
	m.Arch.RopeFreqs = false // not a tensor of the HF folder
	return m, nil
}

// loadConfig reads a config.json: the Llama family through hf.ReadConfig
// and modelfile.ConfigFromHF, other architectures from the raw fields.
func loadConfig(path string) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) > 16<<20 {
		return nil, fmt.Errorf("%s: config.json larger than 16 MiB", path)
	}
	a, err := ArchFromConfigJSON(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if a.Name == "" {
		a.Name = filepath.Base(filepath.Dir(path))
	}
	dtype := gguf.TypeBF16
	var raw struct {
		TorchDtype string `json:"torch_dtype"`
	}
	if json.Unmarshal(b, &raw) == nil {
		switch raw.TorchDtype {
		case "float32":
			dtype = gguf.TypeF32
		case "float16":
			dtype = gguf.TypeF16
		}
	}
	return &Model{Name: a.Name, Source: "config", Path: path, Arch: a, Tensors: a.Tensors(dtype)}, nil
}

// ArchFromConfigJSON reads the architecture numbers from a Hugging Face
// config.json: Llama, Mistral, Qwen2 and Qwen3 through lmc's hf package;
// Mixtral, Qwen3-MoE, Gemma-2, Phi-3 and DeepSeek-V2/V3 from their fields.
func ArchFromConfigJSON(b []byte) (Arch, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return Arch{}, fmt.Errorf("config.json: %v", err)
	}
	num := func(keys ...string) int {
		for _, k := range keys {
			var v float64
			if r, ok := raw[k]; ok && json.Unmarshal(r, &v) == nil && v >= 0 && v <= 1<<30 {
				return int(v)
			}
		}
		return 0
	}
	var a Arch
	if h, err := hf.ParseConfig(b); err == nil {
		c, err := modelfile.ConfigFromHF(h)
		if err != nil {
			return Arch{}, err
		}
		a = archFromConfig(c)
	} else {
		var mt string
		json.Unmarshal(raw["model_type"], &mt)
		a = Arch{Layers: num("num_hidden_layers"), Hidden: num("hidden_size"), Heads: num("num_attention_heads"),
			KVHeads: num("num_key_value_heads"), HeadDim: num("head_dim"), FFN: num("intermediate_size"),
			Vocab: num("vocab_size"), MaxContext: num("max_position_embeddings")}
		if a.KVHeads == 0 {
			a.KVHeads = a.Heads
		}
		if a.HeadDim == 0 && a.Heads > 0 {
			a.HeadDim = a.Hidden / a.Heads
		}
		tied, hasTied := false, false
		if r, ok := raw["tie_word_embeddings"]; ok {
			hasTied = json.Unmarshal(r, &tied) == nil
		}
		switch mt {
		case "mixtral":
			a.Family = "llama"
			a.Experts, a.ActiveExperts = num("num_local_experts"), num("num_experts_per_tok")
		case "qwen3_moe":
			a.Family, a.QKNorm = "qwen3moe", true
			a.Experts, a.ActiveExperts, a.ExpertFFN = num("num_experts"), num("num_experts_per_tok"), num("moe_intermediate_size")
		case "gemma2":
			a.Family, a.SWAEvery = "gemma2", 2
			a.SlidingWindow = num("sliding_window")
			if !hasTied {
				tied = true
			}
		case "phi3":
			a.Family = "phi3"
			if w := num("sliding_window"); w > 0 && w < a.MaxContext {
				a.SlidingWindow, a.SWAEvery = w, 1
			}
		case "deepseek_v3", "deepseek_v2":
			a.Family = "deepseek2"
			a.Experts, a.ActiveExperts, a.SharedExperts = num("n_routed_experts"), num("num_experts_per_tok"), num("n_shared_experts")
			a.ExpertFFN, a.DenseLayers = num("moe_intermediate_size"), num("first_k_dense_replace")
			a.QLoRARank, a.KVLoRARank = num("q_lora_rank"), num("kv_lora_rank")
			a.QKNopeDim, a.QKRopeDim, a.VHeadDim = num("qk_nope_head_dim"), num("qk_rope_head_dim"), num("v_head_dim")
			if a.VHeadDim > 0 {
				a.HeadDim = a.VHeadDim
			}
		default:
			return Arch{}, err // hf's error lists what lmc reads
		}
		a.Tied = tied
	}
	var n string
	if json.Unmarshal(raw["_name_or_path"], &n) == nil && n != "" {
		a.Name = filepath.Base(n)
	}
	if err := a.Validate(); err != nil {
		return a, err
	}
	return a, nil
}
