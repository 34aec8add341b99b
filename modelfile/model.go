package modelfile

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/lmc-project/lmc/gguf"
	"github.com/lmc-project/lmc/hf"
	"github.com/lmc-project/lmc/tensor"
	"github.com/lmc-project/lmc/tokenizer"
)

// Tensor is one tensor of a Model. Its data is read on demand.
type Tensor struct {
	Name  string    // GGUF name, e.g. "blk.0.attn_q.weight"
	Shape []int64   // PyTorch order: [out, in] for a weight matrix
	Type  gguf.Type // storage type as a ggml type
	// DType is the element type for dense tensors (tensor.Invalid for
	// block-quantized ones). Dense dtypes GGUF cannot store (F8) have Type
	// NoGGMLType and are converted when written to GGUF.
	DType tensor.DType

	read func() ([]byte, error)
	done func()
}

// Read returns the tensor's bytes in GGUF layout (little-endian, row-major,
// Q/K rows already in the order the GGUF architecture expects). The slice
// may alias a read-only memory map: do not modify it.
func (t *Tensor) Read() ([]byte, error) { return t.read() }

// Release tells the source that the tensor's bytes are no longer needed, so
// that memory-mapped pages can be dropped from memory (bounded RSS when
// streaming through a model larger than RAM).
func (t *Tensor) Release() {
	if t.done != nil {
		t.done()
	}
}

// NoGGMLType marks a dense tensor whose dtype has no ggml equivalent.
const NoGGMLType = gguf.Type(1<<32 - 1)

// NumElements returns the product of the shape.
func (t *Tensor) NumElements() int64 {
	n := int64(1)
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Bytes returns the stored size of the tensor.
func (t *Tensor) Bytes() int64 {
	if len(t.Shape) == 0 {
		return 0
	}
	if t.DType != tensor.Invalid {
		return t.NumElements() * int64(t.DType.Size())
	}
	ne0 := t.Shape[len(t.Shape)-1]
	row, err := t.Type.RowSize(ne0)
	if err != nil {
		return 0
	}
	return row * (t.NumElements() / ne0)
}

// Model is a model opened from any supported file, in canonical form.
type Model struct {
	Format  string // "gguf", "hf", "safetensors", "llama2c"
	Path    string
	Config  Config
	Vocab   *tokenizer.Vocab // nil when the source has no tokenizer
	Tensors []*Tensor
	// Inputs lists every file read, for the provenance manifest.
	Inputs []string
	// SourceKVs is the metadata of a GGUF source (or the GGUF metadata a
	// previous lmc conversion stored in an HF folder), kept so that a
	// rewrite preserves keys lmc does not interpret.
	SourceKVs []gguf.KV
	// Alignment is the GGUF source's general.alignment (0 when none).
	Alignment int
	// HFConfig is the config.json of an HF source (nil otherwise); writing
	// back to HF keeps its extra fields.
	HFConfig *hf.Config
	// HFGeneration is generation_config.json of an HF source, verbatim.
	HFGeneration []byte

	closers []io.Closer
}

// Close releases the memory maps and files of the model.
func (m *Model) Close() error {
	var errs []error
	for _, c := range m.closers {
		if err := c.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	m.closers = nil
	return errors.Join(errs...)
}

// Tensor returns the named tensor, or nil.
func (m *Model) Tensor(name string) *Tensor {
	for _, t := range m.Tensors {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// ParamCount is the number of weights (elements of all tensors).
func (m *Model) ParamCount() int64 {
	var n int64
	for _, t := range m.Tensors {
		n += t.NumElements()
	}
	return n
}

// TensorBytes is the stored size of all tensors.
func (m *Model) TensorBytes() int64 {
	var n int64
	for _, t := range m.Tensors {
		n += t.Bytes()
	}
	return n
}

// tensorRank orders tensors as llama.cpp's files do: token_embd, the blocks
// in order (attention before feed-forward), then output_norm and output.
func tensorRank(name string) (int, int, string) {
	switch name {
	case "token_embd.weight":
		return 0, 0, name
	case "rope_freqs.weight":
		return 0, 1, name
	case "output_norm.weight":
		return 2, 0, name
	case "output.weight":
		return 2, 1, name
	}
	l := hf.Layer(name)
	if l < 0 {
		return 3, 0, name
	}
	order := []string{"attn_norm", "attn_q", "attn_k", "attn_v", "attn_q_norm", "attn_k_norm", "attn_output",
		"ffn_norm", "ffn_gate", "ffn_up", "ffn_down"}
	rest := name[strings.IndexByte(name[4:], '.')+5:]
	for i, o := range order {
		if strings.HasPrefix(rest, o+".") {
			return 1, l*100 + i*2 + boolInt(strings.HasSuffix(rest, ".bias")), name
		}
	}
	return 1, l*100 + 99, name
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func sortCanonical(ts []*Tensor) {
	sort.SliceStable(ts, func(i, j int) bool {
		a1, a2, a3 := tensorRank(ts[i].Name)
		b1, b2, b3 := tensorRank(ts[j].Name)
		if a1 != b1 {
			return a1 < b1
		}
		if a2 != b2 {
			return a2 < b2
		}
		return a3 < b3
	})
}

// CheckShapes verifies that every tensor the architecture needs is present
// with the shape the config implies, naming the tensor and the expected shape.
func (m *Model) CheckShapes() error {
	c := &m.Config
	d, h, kv, hd, ff := int64(c.EmbeddingLength), int64(c.HeadCount), int64(c.HeadCountKV), int64(c.HeadDim), int64(c.FeedForwardLength)
	want := map[string][]int64{
		"token_embd.weight":  {int64(c.VocabSize), d},
		"output_norm.weight": {d},
	}
	if !c.TiedEmbeddings {
		want["output.weight"] = []int64{int64(c.VocabSize), d}
	}
	for l := 0; l < c.BlockCount; l++ {
		p := fmt.Sprintf("blk.%d.", l)
		want[p+"attn_norm.weight"] = []int64{d}
		want[p+"attn_q.weight"] = []int64{h * hd, d}
		want[p+"attn_k.weight"] = []int64{kv * hd, d}
		want[p+"attn_v.weight"] = []int64{kv * hd, d}
		want[p+"attn_output.weight"] = []int64{d, h * hd}
		want[p+"ffn_norm.weight"] = []int64{d}
		want[p+"ffn_gate.weight"] = []int64{ff, d}
		want[p+"ffn_up.weight"] = []int64{ff, d}
		want[p+"ffn_down.weight"] = []int64{d, ff}
		if c.QKVBias {
			want[p+"attn_q.bias"] = []int64{h * hd}
			want[p+"attn_k.bias"] = []int64{kv * hd}
			want[p+"attn_v.bias"] = []int64{kv * hd}
		}
		if c.QKNorm {
			want[p+"attn_q_norm.weight"] = []int64{hd}
			want[p+"attn_k_norm.weight"] = []int64{hd}
		}
	}
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t := m.Tensor(n)
		if t == nil {
			return fmt.Errorf("%s: tensor %s is missing (expected shape %v)", m.Path, n, want[n])
		}
		if !equalShape(t.Shape, want[n]) {
			return fmt.Errorf("%s: tensor %s has shape %v, expected %v", m.Path, n, t.Shape, want[n])
		}
	}
	return nil
}

func equalShape(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// ggmlOfDType maps a dense dtype to its ggml type.
func ggmlOfDType(d tensor.DType) (gguf.Type, bool) {
	switch d {
	case tensor.F32:
		return gguf.TypeF32, true
	case tensor.F16:
		return gguf.TypeF16, true
	case tensor.BF16:
		return gguf.TypeBF16, true
	case tensor.F64:
		return gguf.TypeF64, true
	case tensor.I8:
		return gguf.TypeI8, true
	case tensor.I16:
		return gguf.TypeI16, true
	case tensor.I32:
		return gguf.TypeI32, true
	case tensor.I64:
		return gguf.TypeI64, true
	}
	return 0, false
}

// dtypeOfGGML maps a dense ggml type to its dtype (Invalid for block types).
func dtypeOfGGML(t gguf.Type) tensor.DType {
	switch t {
	case gguf.TypeF32:
		return tensor.F32
	case gguf.TypeF16:
		return tensor.F16
	case gguf.TypeBF16:
		return tensor.BF16
	case gguf.TypeF64:
		return tensor.F64
	case gguf.TypeI8:
		return tensor.I8
	case gguf.TypeI16:
		return tensor.I16
	case gguf.TypeI32:
		return tensor.I32
	case gguf.TypeI64:
		return tensor.I64
	}
	return tensor.Invalid
}
