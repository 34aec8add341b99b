package quantize

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/lmc-project/lmc/gguf"
	"github.com/lmc-project/lmc/hf"
	"github.com/lmc-project/lmc/modelfile"
	"github.com/lmc-project/lmc/plan"
	"github.com/lmc-project/lmc/quant"
	"github.com/lmc-project/lmc/tensor"
)

// TensorRule forces the type of the tensors whose name matches Pattern
// (llama-quantize --tensor-type REGEX=TYPE; the last matching rule wins).
type TensorRule struct {
	Pattern *regexp.Regexp
	Type    gguf.Type
}

// ParseTensorRule parses "REGEX=TYPE" (the regular expression is matched
// anywhere in the lower-cased name, as llama-quantize does).
func ParseTensorRule(s string) (TensorRule, error) {
	i := strings.LastIndexByte(s, '=')
	if i <= 0 || i == len(s)-1 {
		return TensorRule{}, fmt.Errorf("tensor type rule %q: want REGEX=TYPE", s)
	}
	re, err := regexp.Compile(strings.ToLower(s[:i]))
	if err != nil {
		return TensorRule{}, fmt.Errorf("tensor type rule %q: %v", s, err)
	}
	t, err := ParseType(s[i+1:])
	if err != nil {
		return TensorRule{}, fmt.Errorf("tensor type rule %q: %v", s, err)
	}
	return TensorRule{Pattern: re, Type: t}, nil
}

// ParseType parses a ggml type name ("q4_K", "Q6_K", "f16") that lmc can
// write: a block format of package quant, or F32, F16, BF16.
func ParseType(s string) (gguf.Type, error) {
	t, err := gguf.ParseType(s)
	if err != nil {
		return 0, fmt.Errorf("unknown ggml type %q", s)
	}
	if !writable(t) {
		return 0, fmt.Errorf("lmc cannot write %s tensors (it writes f32, f16, bf16 and %s)", t, strings.Join(blockTypeNames(), ", "))
	}
	return t, nil
}

func writable(t gguf.Type) bool {
	switch t {
	case gguf.TypeF32, gguf.TypeF16, gguf.TypeBF16:
		return true
	case gguf.TypeQ8_1, gguf.TypeQ8_K:
		return false // activation formats
	}
	_, ok := quant.Lookup(t)
	return ok
}

func blockTypeNames() []string {
	var s []string
	for _, f := range quant.Formats() {
		if writable(f.Type) {
			s = append(s, f.Type.String())
		}
	}
	return s
}

// TensorPlan is the decision for one tensor of the output.
type TensorPlan struct {
	Name  string  `json:"name"`
	Shape []int64 `json:"shape"` // PyTorch order
	// Src is the source's storage type, Type the type written.
	Src  gguf.Type `json:"-"`
	Type gguf.Type `json:"-"`
	// Quantize reports that the tensor is converted (rather than copied).
	Quantize bool `json:"quantize"`
	// Wanted is the type the recipe asked for; it differs from Type after
	// a fallback.
	Wanted gguf.Type `json:"-"`
	// Note explains a fallback or an override ("" when none).
	Note string `json:"note,omitempty"`
	// Layer is the block index (-1 for tensors outside the blocks).
	Layer int `json:"layer"`
	src   *modelfile.Tensor
}

// Bytes returns the size of the tensor in its output type.
func (p *TensorPlan) Bytes() int64 {
	row := p.Shape[len(p.Shape)-1]
	rb, err := p.Type.RowSize(row)
	if err != nil {
		return 0
	}
	n := int64(1)
	for _, d := range p.Shape[:len(p.Shape)-1] {
		n *= d
	}
	return rb * n
}

// quantModel returns what llama-quantize knows about m.
func quantModel(m *modelfile.Model, pure, imatrix bool) plan.QuantModel {
	c := &m.Config
	gqa := 1
	if c.HeadCountKV > 0 {
		gqa = c.HeadCount / c.HeadCountKV
	}
	return plan.QuantModel{Arch: c.Arch, Layers: c.BlockCount, GQA: gqa,
		Type70B:   plan.Is70B(c.Arch, c.BlockCount, c.HeadCount, c.HeadCountKV),
		HasOutput: m.Tensor("output.weight") != nil, Imatrix: imatrix, Pure: pure}
}

// llamaOrder sorts tensors as llama-quantize writes them: by name (its
// loader's std::map), then stably by block index, tensors outside the
// blocks first.
func llamaOrder(ts []*TensorPlan) {
	sort.Slice(ts, func(i, j int) bool { return ts[i].Name < ts[j].Name })
	sort.SliceStable(ts, func(i, j int) bool { return ts[i].Layer < ts[j].Layer })
}

// fallback returns the type lmc stores instead of t for rows of row
// elements: llama.cpp's convert_incompatible_tensor choice where it has
// one, else (and when that does not fit either) F16, which fits any row.
func fallback(t gguf.Type, row int64) gguf.Type {
	var fb gguf.Type
	switch t {
	case gguf.TypeQ2_K, gguf.TypeQ3_K, gguf.TypeIQ4_XS:
		fb = gguf.TypeIQ4_NL
	case gguf.TypeQ4_K:
		fb = gguf.TypeQ5_0
	case gguf.TypeQ5_K:
		fb = gguf.TypeQ5_1
	case gguf.TypeQ6_K:
		fb = gguf.TypeQ8_0
	default:
		return gguf.TypeF16
	}
	if row%fb.BlockSize() != 0 {
		return gguf.TypeF16
	}
	return fb
}

// srcType returns the ggml type a source tensor is read as.
func srcType(t *modelfile.Tensor) gguf.Type {
	if t.DType == tensor.Invalid {
		return t.Type
	}
	switch t.DType {
	case tensor.F32:
		return gguf.TypeF32
	case tensor.F16:
		return gguf.TypeF16
	case tensor.BF16:
		return gguf.TypeBF16
	}
	return t.Type
}

// Plan decides the output type of every tensor of m for o, as
// llama-quantize would (plan.ChooseTensorType), with lmc's fallback where
// llama.cpp has none (it refuses). It returns the tensors in output order
// and notes about fallbacks and overrides.
func Plan(m *modelfile.Model, o *Options) ([]*TensorPlan, []string, error) {
	qm := quantModel(m, o.Pure, o.Imatrix != nil || o.Calib != nil)
	var out []*TensorPlan
	var notes []string
	for _, t := range m.Tensors {
		if len(t.Shape) == 0 {
			return nil, nil, fmt.Errorf("%s: tensor %s has no dimensions", m.Path, t.Name)
		}
		st := srcType(t)
		p := &TensorPlan{Name: t.Name, Shape: t.Shape, Src: st, Type: st, Wanted: st, Layer: hf.Layer(t.Name), src: t}
		out = append(out, p)
		row := t.Shape[len(t.Shape)-1]
		c, err := plan.ChooseTensorType(o.FileType, t.Name, t.Shape, st, qm)
		if !c.Quantized {
			// Norms, biases, 1-D tensors: kept, but as F32 when they are
			// 1-D floats (llama.cpp multiplies by norms only in F32).
			if len(t.Shape) == 1 && st != gguf.TypeF32 && t.DType.IsFloat() {
				p.Type, p.Wanted, p.Quantize = gguf.TypeF32, gguf.TypeF32, true
			}
			continue
		}
		if st.Quantized() && !o.AllowRequantize {
			return nil, nil, fmt.Errorf("%s: tensor %s is already %s; requantizing loses quality (llama-quantize refuses it too); quantize from the F32/F16/BF16 model, or allow it explicitly", m.Path, t.Name, st)
		}
		want := c.Wanted
		typ := c.Type
		switch {
		case err != nil:
			// llama.cpp has no fallback (or --pure forbids one): lmc picks
			// the next type that fits and says so.
			typ = fallback(want, row)
			p.Note = fmt.Sprintf("%s: rows of %d do not divide into %s blocks of %d; llama.cpp refuses, lmc stores %s", t.Name, row, want, want.BlockSize(), typ)
		case c.Fallback:
			p.Note = fmt.Sprintf("%s: rows of %d do not divide into %s blocks of %d; stored as %s (llama.cpp's fallback)", t.Name, row, want, want.BlockSize(), typ)
		default:
			// User overrides apply only when the recipe's type fits, as in
			// llama-quantize.
			lname := strings.ToLower(t.Name)
			for _, r := range o.TensorTypes {
				if r.Pattern.MatchString(lname) {
					typ = r.Type
				}
			}
			if o.EmbeddingType != nil && t.Name == "token_embd.weight" {
				typ = *o.EmbeddingType
			}
			if o.OutputType != nil && t.Name == "output.weight" {
				typ = *o.OutputType
			}
			if typ != want {
				want = typ
				if row%typ.BlockSize() != 0 {
					typ = fallback(want, row)
					p.Note = fmt.Sprintf("%s: rows of %d do not divide into the requested %s blocks of %d; lmc stores %s", t.Name, row, want, want.BlockSize(), typ)
				}
			}
		}
		p.Wanted, p.Type = want, typ
		p.Quantize = typ != st
		if p.Note != "" {
			notes = append(notes, p.Note)
		}
	}
	llamaOrder(out)
	return out, notes, nil
}
