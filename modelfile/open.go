package modelfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/lmc-project/lmc/gguf"
	"github.com/lmc-project/lmc/hf"
	"github.com/lmc-project/lmc/llama2c"
	"github.com/lmc-project/lmc/safetensors"
	"github.com/lmc-project/lmc/tensor"
	"github.com/lmc-project/lmc/tokenizer"
)

// OpenOptions tunes Open. The zero value is fine for every format.
type OpenOptions struct {
	// Tokenizer is the tokenizer file for a llama2.c checkpoint (tok*.bin).
	// When empty, a single tok*.bin beside the checkpoint is used.
	Tokenizer string
}

// ErrPickle is returned for PyTorch pickle checkpoints, which lmc refuses to
// load because unpickling runs code from the file.
var ErrPickle = safetensors.ErrPickle

// Open opens a model file or folder. See the package documentation for the
// formats; the kind is detected from the content, not the name.
func Open(path string, opts *OpenOptions) (*Model, error) {
	if opts == nil {
		opts = &OpenOptions{}
	}
	if p, ok, err := Builtin(path); ok {
		if err != nil {
			return nil, err
		}
		path = p
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("open model: %w", err)
	}
	if st.IsDir() {
		return openHF(path)
	}
	if err := safetensors.CheckNotPickle(path); err != nil {
		return nil, err
	}
	magic := make([]byte, 8)
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	n, _ := io.ReadFull(f, magic)
	f.Close()
	magic = magic[:n]
	base := strings.ToLower(filepath.Base(path))
	switch {
	case bytes.HasPrefix(magic, []byte("GGUF")):
		return openGGUF(path)
	case strings.HasSuffix(base, ".safetensors"), strings.HasSuffix(base, ".safetensors.index.json"), base == "config.json":
		return openHF(filepath.Dir(path))
	case strings.HasSuffix(base, ".bin"):
		return openLlama2c(path, opts)
	}
	return nil, fmt.Errorf("%s: not a model lmc recognizes (expected a GGUF file, a Hugging Face folder with config.json and safetensors, a .safetensors file, or a llama2.c .bin checkpoint)", path)
}

func openGGUF(path string) (*Model, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, err
	}
	m := &Model{Format: "gguf", Path: path, Inputs: []string{path}, SourceKVs: f.KVs, closers: []io.Closer{f}}
	if a, ok := f.Uint("general.alignment"); ok {
		m.Alignment = int(a)
	}
	m.Config, err = ConfigFromGGUF(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	if m.Vocab, err = VocabFromGGUF(f); err != nil {
		f.Close()
		return nil, err
	}
	for _, ti := range f.Tensors {
		ti := ti
		shape := make([]int64, len(ti.Shape))
		for i, d := range ti.Shape {
			shape[len(shape)-1-i] = int64(d)
		}
		m.Tensors = append(m.Tensors, &Tensor{
			Name: ti.Name, Shape: shape, Type: ti.Type, DType: dtypeOfGGML(ti.Type),
			read: func() ([]byte, error) { return f.Data(ti.Name) },
			done: func() {
				if b, err := f.Data(ti.Name); err == nil && f.Mapped() {
					dropPages(b)
				}
			},
		})
	}
	return m, nil
}

func openHF(dir string) (*Model, error) {
	cfgPath := filepath.Join(dir, "config.json")
	if _, err := os.Stat(cfgPath); err != nil {
		if pk := findPickle(dir); pk != "" {
			return nil, safetensors.CheckNotPickle(pk)
		}
		return nil, fmt.Errorf("%s: no config.json: a Hugging Face model folder needs config.json beside its safetensors", dir)
	}
	hc, err := hf.ReadConfig(cfgPath)
	if err != nil {
		return nil, err
	}
	cfg, err := ConfigFromHF(hc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfgPath, err)
	}
	st, err := safetensors.OpenModel(dir)
	if err != nil {
		if pk := findPickle(dir); pk != "" {
			return nil, safetensors.CheckNotPickle(pk)
		}
		return nil, err
	}
	tensors, data, err := hfTensors(dir, hc, st)
	if err != nil {
		st.Close()
		return nil, err
	}
	m := &Model{Format: "hf", Path: dir, Config: cfg, HFConfig: hc, closers: []io.Closer{st}}
	m.Inputs = append([]string{cfgPath}, st.Files()...)
	if g, err := os.ReadFile(filepath.Join(dir, "generation_config.json")); err == nil {
		m.HFGeneration = g
		m.Inputs = append(m.Inputs, filepath.Join(dir, "generation_config.json"))
	}
	m.Vocab, err = tokenizer.ReadHFTokenizer(dir)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			m.Close()
			return nil, err
		}
		m.Vocab = nil
	} else {
		for _, n := range []string{"tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json"} {
			if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
				m.Inputs = append(m.Inputs, filepath.Join(dir, n))
			}
		}
	}
	fam := cfg.Family
	for _, ti := range tensors {
		ti := ti
		if hf.Ignored(ti.Name) {
			continue
		}
		name, err := hf.ToGGUFName(ti.Name)
		if err != nil {
			m.Close()
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		t := &Tensor{Name: name, Shape: append([]int64(nil), ti.Shape...), DType: ti.DType}
		if gt, ok := ggmlOfDType(ti.DType); ok {
			t.Type = gt
		} else {
			t.Type = NoGGMLType
		}
		raw := func() ([]byte, error) { return data(ti.Name) }
		t.read = raw
		t.done = func() {
			if sf, ok := st.FileOf(ti.Name); ok && sf.Mapped() {
				if b, err := sf.Data(ti.Name); err == nil {
					dropPages(b)
				}
			}
		}
		nHead := 0
		if fam.PermuteQK() {
			switch {
			case strings.HasSuffix(name, ".attn_q.weight"), strings.HasSuffix(name, ".attn_q.bias"):
				nHead = cfg.HeadCount
			case strings.HasSuffix(name, ".attn_k.weight"), strings.HasSuffix(name, ".attn_k.bias"):
				nHead = cfg.HeadCountKV
			}
		}
		if nHead > 0 {
			rows := int(ti.Shape[0])
			rowBytes := int(ti.NumBytes()) / rows
			t.read = func() ([]byte, error) {
				src, err := raw()
				if err != nil {
					return nil, err
				}
				dst := make([]byte, len(src))
				if err := hf.PermuteRows(dst, src, nHead, rows, rowBytes); err != nil {
					return nil, fmt.Errorf("%s: tensor %s: %w", dir, ti.Name, err)
				}
				return dst, nil
			}
		}
		m.Tensors = append(m.Tensors, t)
	}
	sortCanonical(m.Tensors)
	if err := m.applyStash(st.Metadata()); err != nil {
		m.Close()
		return nil, err
	}
	if err := m.CheckShapes(); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// applyStash restores GGUF metadata kept by an earlier GGUF → HF conversion,
// unless the folder's config no longer agrees with it.
func (m *Model) applyStash(meta map[string]string) error {
	s, ok := meta[stashKVs]
	if !ok {
		return nil
	}
	var bulk []gguf.KV
	if m.Vocab != nil {
		bulk = VocabKVs(m.Vocab)
	}
	kvs, err := decodeStash(s, bulk)
	if err != nil {
		return fmt.Errorf("%s: %w", m.Path, err)
	}
	// Keep the stash only if the architecture it describes is the one in
	// config.json (someone may have edited the folder since).
	fresh := map[string]gguf.Value{}
	for _, kv := range m.Config.KVs() {
		fresh[kv.Key] = kv.Value
	}
	for _, kv := range kvs {
		if v, ok := fresh[kv.Key]; ok && fmt.Sprint(v.V) != fmt.Sprint(kv.Value.V) && kv.Key != "general.name" {
			return nil
		}
	}
	m.SourceKVs = kvs
	if a, err := strconv.Atoi(meta[stashAlignment]); err == nil {
		m.Alignment = a
	}
	if order, ok := meta[stashTensors]; ok {
		var names []string
		if json.Unmarshal([]byte(order), &names) == nil && len(names) == len(m.Tensors) {
			pos := map[string]int{}
			for i, n := range names {
				pos[n] = i
			}
			okAll := true
			for _, t := range m.Tensors {
				if _, ok := pos[t.Name]; !ok {
					okAll = false
				}
			}
			if okAll {
				sort.SliceStable(m.Tensors, func(i, j int) bool { return pos[m.Tensors[i].Name] < pos[m.Tensors[j].Name] })
			}
		}
	}
	return nil
}

func findPickle(dir string) string {
	for _, n := range []string{"pytorch_model.bin", "model.pt", "model.pth", "model.ckpt", "consolidated.00.pth"} {
		p := filepath.Join(dir, n)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// llama2c (Meta) tensor names → GGUF names.
func llama2cName(n string) (string, error) {
	switch n {
	case "tok_embeddings.weight":
		return "token_embd.weight", nil
	case "norm.weight":
		return "output_norm.weight", nil
	case "output.weight":
		return "output.weight", nil
	}
	var l int
	var rest string
	if _, err := fmt.Sscanf(n, "layers.%d.", &l); err == nil {
		rest = n[strings.IndexByte(n[7:], '.')+8:]
		m := map[string]string{
			"attention.wq.weight": "attn_q.weight", "attention.wk.weight": "attn_k.weight",
			"attention.wv.weight": "attn_v.weight", "attention.wo.weight": "attn_output.weight",
			"attention_norm.weight": "attn_norm.weight", "ffn_norm.weight": "ffn_norm.weight",
			"feed_forward.w1.weight": "ffn_gate.weight", "feed_forward.w2.weight": "ffn_down.weight",
			"feed_forward.w3.weight": "ffn_up.weight",
		}
		if g, ok := m[rest]; ok {
			return fmt.Sprintf("blk.%d.%s", l, g), nil
		}
	}
	return "", fmt.Errorf("llama2.c tensor %q has no GGUF name", n)
}

func openLlama2c(path string, opts *OpenOptions) (*Model, error) {
	ck, err := llama2c.Open(path)
	if err != nil {
		return nil, err
	}
	c := ck.Config
	m := &Model{Format: "llama2c", Path: path, Inputs: []string{path}, closers: []io.Closer{ck}}
	m.Config = Config{
		Arch: "llama", Family: hf.Llama, Name: "llama",
		ContextLength: c.SeqLen, EmbeddingLength: c.Dim, BlockCount: c.NLayers,
		FeedForwardLength: c.HiddenDim, HeadCount: c.NHeads, HeadCountKV: c.NKVHeads,
		HeadDim: c.Dim / c.NHeads, VocabSize: c.VocabSize, RMSNormEps: 1e-5, RopeTheta: 10000,
	}
	tok := opts.Tokenizer
	if tok == "" {
		cands, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "tok*.bin"))
		if len(cands) == 1 {
			tok = cands[0]
		} else {
			m.Close()
			return nil, fmt.Errorf("%s: a llama2.c checkpoint carries no tokenizer; name its tok*.bin with --tokenizer (found %d candidates beside it)", path, len(cands))
		}
	}
	m.Vocab, err = tokenizer.ReadLlama2cTok(tok)
	if err != nil {
		m.Close()
		return nil, err
	}
	m.Inputs = append(m.Inputs, tok)
	if len(m.Vocab.Tokens) != c.VocabSize {
		m.Close()
		return nil, fmt.Errorf("%s has %d tokens but checkpoint %s has vocab_size %d", tok, len(m.Vocab.Tokens), path, c.VocabSize)
	}
	for _, ti := range ck.Tensors() {
		ti := ti
		name, err := llama2cName(ti.Name)
		if err != nil {
			m.Close()
			return nil, err
		}
		m.Tensors = append(m.Tensors, &Tensor{
			Name: name, Shape: append([]int64(nil), ti.Shape...), Type: gguf.TypeF32, DType: tensor.F32,
			read: func() ([]byte, error) { return ck.Data(ti.Name) },
		})
	}
	sortCanonical(m.Tensors)
	if err := m.CheckShapes(); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}
