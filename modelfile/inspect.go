package modelfile

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/lmc-project/lmc/gguf"
	"github.com/lmc-project/lmc/safetensors"
	"github.com/lmc-project/lmc/tokenizer"
)

// Report describes a model file: what `lmc inspect` prints. Its JSON form
// is stable.
type Report struct {
	Path          string            `json:"path"`
	Format        string            `json:"format"`
	Architecture  string            `json:"architecture,omitempty"`
	Config        *Config           `json:"config,omitempty"`
	Parameters    int64             `json:"parameters"`
	TensorBytes   int64             `json:"tensor_bytes"`
	FileBytes     int64             `json:"file_bytes"`
	BitsPerWeight float64           `json:"bits_per_weight"`
	Tensors       []TensorRow       `json:"tensors"`
	Types         []TypeTotal       `json:"types"`
	Metadata      map[string]string `json:"metadata,omitempty"`
	Tokenizer     *TokenizerSummary `json:"tokenizer,omitempty"`
	// Note explains a partial report (a file whose architecture lmc cannot
	// run is still listed tensor by tensor).
	Note string `json:"note,omitempty"`
}

// TensorRow is one tensor in a Report.
type TensorRow struct {
	Name  string  `json:"name"`
	Shape []int64 `json:"shape"` // PyTorch order
	Type  string  `json:"type"`
	Bytes int64   `json:"bytes"`
}

// TypeTotal sums the tensors of one type.
type TypeTotal struct {
	Type       string  `json:"type"`
	Tensors    int     `json:"tensors"`
	Parameters int64   `json:"parameters"`
	Bytes      int64   `json:"bytes"`
	Share      float64 `json:"share"` // of all tensor bytes
}

// TokenizerSummary is the tokenizer part of a Report.
type TokenizerSummary struct {
	Model   string   `json:"model"`
	Pre     string   `json:"pre,omitempty"`
	Tokens  int      `json:"tokens"`
	Merges  int      `json:"merges,omitempty"`
	BOS     string   `json:"bos,omitempty"`
	EOS     string   `json:"eos,omitempty"`
	UNK     string   `json:"unk,omitempty"`
	AddBOS  bool     `json:"add_bos"`
	Special []string `json:"special,omitempty"`
}

// Inspect builds the Report of a model file or folder.
func Inspect(path string, opts *OpenOptions) (*Report, error) {
	m, err := Open(path, opts)
	if err != nil {
		// A file lmc cannot run is still worth listing.
		if r, rerr := inspectRaw(path); rerr == nil {
			r.Note = err.Error()
			return r, nil
		}
		return nil, err
	}
	defer m.Close()
	r := &Report{Path: m.Path, Format: m.Format, Architecture: m.Config.Arch}
	cfg := m.Config
	r.Config = &cfg
	for _, t := range m.Tensors {
		r.add(t.Name, t.Shape, typeName(t), t.NumElements(), t.Bytes())
	}
	r.finish()
	for _, in := range m.Inputs {
		if st, err := os.Stat(in); err == nil {
			r.FileBytes += st.Size()
		}
	}
	r.Metadata = map[string]string{}
	for _, kv := range m.SourceKVs {
		if !bulkKeys[kv.Key] {
			r.Metadata[kv.Key] = clip(kv.Value.String(), 200)
		}
	}
	if m.Vocab != nil {
		r.Tokenizer = summarize(m.Vocab)
	}
	return r, nil
}

func typeName(t *Tensor) string {
	if t.Type == NoGGMLType {
		return t.DType.String()
	}
	return strings.ToUpper(t.Type.String())
}

func (r *Report) add(name string, shape []int64, typ string, n, bytes int64) {
	r.Tensors = append(r.Tensors, TensorRow{Name: name, Shape: shape, Type: typ, Bytes: bytes})
	r.Parameters += n
	r.TensorBytes += bytes
	for i := range r.Types {
		if r.Types[i].Type == typ {
			r.Types[i].Tensors++
			r.Types[i].Parameters += n
			r.Types[i].Bytes += bytes
			return
		}
	}
	r.Types = append(r.Types, TypeTotal{Type: typ, Tensors: 1, Parameters: n, Bytes: bytes})
}

func (r *Report) finish() {
	if r.Parameters > 0 {
		r.BitsPerWeight = float64(r.TensorBytes) * 8 / float64(r.Parameters)
	}
	for i := range r.Types {
		if r.TensorBytes > 0 {
			r.Types[i].Share = float64(r.Types[i].Bytes) / float64(r.TensorBytes)
		}
	}
	sort.Slice(r.Types, func(i, j int) bool { return r.Types[i].Bytes > r.Types[j].Bytes })
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func summarize(v *tokenizer.Vocab) *TokenizerSummary {
	s := &TokenizerSummary{Model: v.Model, Pre: v.Pre, Tokens: len(v.Tokens), Merges: len(v.Merges), AddBOS: v.AddBOS}
	tok := func(id int) string {
		if id < 0 || id >= len(v.Tokens) {
			return ""
		}
		return fmt.Sprintf("%d %q", id, v.Tokens[id])
	}
	s.BOS, s.EOS, s.UNK = tok(v.BOS), tok(v.EOS), tok(v.UNK)
	for i, t := range v.Types {
		if t == tokenizer.TypeControl || t == tokenizer.TypeUserDefined {
			if len(s.Special) == 8 {
				s.Special = append(s.Special, "…")
				break
			}
			s.Special = append(s.Special, tok(i))
		}
	}
	return s
}

// inspectRaw lists the tensors of a GGUF or safetensors file whose model
// lmc cannot open as a whole.
func inspectRaw(path string) (*Report, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	r := &Report{Path: path, Metadata: map[string]string{}}
	if !st.IsDir() {
		if f, err := gguf.Open(path); err == nil {
			defer f.Close()
			r.Format = "gguf"
			r.FileBytes = st.Size()
			r.Architecture, _ = f.String("general.architecture")
			for _, kv := range f.KVs {
				if !bulkKeys[kv.Key] {
					r.Metadata[kv.Key] = clip(kv.Value.String(), 200)
				}
			}
			for _, ti := range f.Tensors {
				shape := make([]int64, len(ti.Shape))
				for i, d := range ti.Shape {
					shape[len(shape)-1-i] = int64(d)
				}
				r.add(ti.Name, shape, strings.ToUpper(ti.Type.String()), int64(ti.NumElements()), int64(ti.Size()))
			}
			if v, err := VocabFromGGUF(f); err == nil && v != nil {
				r.Tokenizer = summarize(v)
			}
			r.finish()
			return r, nil
		}
	}
	sm, err := safetensors.OpenModel(path)
	if err != nil {
		return nil, err
	}
	defer sm.Close()
	r.Format = "safetensors"
	for _, f := range sm.Files() {
		if st, err := os.Stat(f); err == nil {
			r.FileBytes += st.Size()
		}
	}
	for k, v := range sm.Metadata() {
		r.Metadata[k] = clip(v, 200)
	}
	for _, ti := range sm.Tensors() {
		r.add(ti.Name, ti.Shape, ti.DType.String(), ti.NumElements(), ti.NumBytes())
	}
	r.finish()
	return r, nil
}
