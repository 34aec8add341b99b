package plan

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/lmc-project/lmc/gguf"
)

// WeightFormat says how the weights are stored.
type WeightFormat struct {
	// Spec is the text it was parsed from.
	Spec string `json:"spec"`
	// Kind is "file" (the model's own tensors as stored), "ftype" (a
	// llama.cpp file type: llama-quantize's per-tensor mix), "pure" (every
	// quantizable tensor in one ggml type) or "bpw" (a flat bits per weight).
	Kind     string    `json:"kind"`
	FileType FileType  `json:"-"`
	Type     gguf.Type `json:"-"`
	BPW      float64   `json:"bpw,omitempty"`
}

// String returns the canonical spelling.
func (f WeightFormat) String() string {
	switch f.Kind {
	case "ftype":
		return strings.ToLower(f.FileType.String())
	case "pure":
		return "pure-" + f.Type.String()
	case "bpw":
		return strconv.FormatFloat(f.BPW, 'g', -1, 64) + "bpw"
	}
	return "file"
}

// ParseWeightFormat parses a weight format: "file" (or ""), a llama.cpp file
// type ("q4_k_m", "Q8_0", "iq4_xs", "f16"; the aliases q3_k, q4_k and q5_k
// mean the _M mixes as in llama-quantize), "pure-TYPE" for one ggml type
// everywhere (llama-quantize --pure), any other ggml type name ("q8_1",
// "mxfp4": pure), "fp8", or bits per weight ("4.5", "4.5bpw").
func ParseWeightFormat(s string) (WeightFormat, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	f := WeightFormat{Spec: s}
	switch t {
	case "", "file", "stored", "as-stored":
		f.Kind = "file"
		return f, nil
	case "fp16", "float16", "half":
		t = "f16"
	case "fp32", "float32":
		t = "f32"
	case "bfloat16":
		t = "bf16"
	case "fp8", "f8", "e4m3", "float8":
		f.Kind, f.BPW = "bpw", 8
		return f, nil
	}
	if num, ok := strings.CutSuffix(strings.TrimSpace(strings.TrimSuffix(t, "bits")), "bpw"); ok || isNumber(t) {
		if !ok {
			num = t
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil || !(v > 0 && v <= 64) {
			return f, fmt.Errorf("plan: bits per weight %q: want a number in (0, 64]", s)
		}
		f.Kind, f.BPW = "bpw", v
		return f, nil
	}
	if rest, ok := cutPure(t); ok {
		if typ, err := gguf.ParseType(rest); err == nil {
			f.Kind, f.Type = "pure", typ
			return f, nil
		}
		if ft, err := ParseFileType(rest); err == nil {
			f.Kind, f.Type = "pure", fileTypes[ft].def
			return f, nil
		}
		return f, fmt.Errorf("plan: %q: %q is not a ggml type", s, rest)
	}
	if ft, err := ParseFileType(t); err == nil {
		f.Kind, f.FileType = "ftype", ft
		return f, nil
	}
	if typ, err := gguf.ParseType(t); err == nil {
		f.Kind, f.Type = "pure", typ
		return f, nil
	}
	return f, fmt.Errorf("plan: unknown weight format %q: want a llama.cpp file type (q4_k_m, q8_0, f16...), "+
		"a ggml type (pure-q4_K), bits per weight (4.5bpw) or \"file\"", s)
}

func cutPure(t string) (string, bool) {
	for _, p := range []string{"pure-", "pure:", "pure_"} {
		if r, ok := strings.CutPrefix(t, p); ok {
			return r, true
		}
	}
	for _, p := range []string{"-pure", "_pure"} {
		if r, ok := strings.CutSuffix(t, p); ok {
			return r, true
		}
	}
	return "", false
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// TypeCount totals one storage type.
type TypeCount struct {
	Type    string `json:"type"`
	Tensors int    `json:"tensors"`
	Params  int64  `json:"params"`
	Bytes   int64  `json:"bytes"`
}

// WeightReport is the priced weights.
type WeightReport struct {
	Format        string  `json:"format"`
	Bytes         int64   `json:"bytes"`
	Params        int64   `json:"params"`
	BitsPerWeight float64 `json:"bits_per_weight"`
	// ExpertBytes are the routed experts' bytes (all of them are held in
	// memory; a token reads only its active experts').
	ExpertBytes int64 `json:"expert_bytes,omitempty"`
	// EmbeddingBytes is token_embd.weight when it is not tied to the output
	// (decoding reads one row of it per token, not the matrix).
	EmbeddingBytes int64       `json:"embedding_bytes,omitempty"`
	Types          []TypeCount `json:"types,omitempty"`
	// Fallbacks lists tensors whose rows did not fit the mix's type and got
	// llama.cpp's fallback ("blk.0.ffn_down.weight q4_K→q5_0").
	Fallbacks []string `json:"fallbacks,omitempty"`
}

// tensorBytes returns the bytes of t stored as typ.
func tensorBytes(t Tensor, typ gguf.Type) (int64, error) {
	row := int64(1)
	if len(t.Shape) > 0 {
		row = t.Shape[len(t.Shape)-1]
	}
	rs, err := typ.RowSize(row)
	if err != nil {
		return 0, fmt.Errorf("%s: %v", t.Name, err)
	}
	if row == 0 {
		return 0, nil
	}
	rows := t.Elements() / row
	if rows > 0 && rs > math.MaxInt64/rows {
		return 0, fmt.Errorf("%s: size overflows int64", t.Name)
	}
	return rs * rows, nil
}

// PriceWeights returns the bytes of m's weights stored in format f. For a
// file type the per-tensor types are [TensorType]'s; a tensor whose rows fit
// no type is an error (a *RowError), as llama-quantize refuses it.
func PriceWeights(m *Model, f WeightFormat) (*WeightReport, error) {
	r := &WeightReport{Format: f.String(), Params: m.Params()}
	if f.Kind == "bpw" {
		bits := float64(r.Params) * f.BPW
		r.Bytes = int64(math.Ceil(bits / 8))
		r.BitsPerWeight = f.BPW
		for _, t := range m.Tensors {
			b := int64(math.Ceil(float64(t.Elements()) * f.BPW / 8))
			if t.expert() {
				r.ExpertBytes += b
			}
			if t.Name == "token_embd.weight" && m.HasOutput() {
				r.EmbeddingBytes += b
			}
		}
		return r, nil
	}
	qm := m.Arch.QuantModel(m.HasOutput())
	qm.Pure = f.Kind == "pure"
	counts := map[gguf.Type]*TypeCount{}
	for _, t := range m.Tensors {
		typ := t.Type
		src := t.Type
		if m.Source != "gguf" && !quantizable(t.Name, t.Shape) {
			src = gguf.TypeF32 // convert_hf_to_gguf.py stores norms, biases and routers in F32
		}
		switch f.Kind {
		case "ftype":
			c, err := ChooseTensorType(f.FileType, t.Name, t.Shape, src, qm)
			if err != nil {
				return nil, err
			}
			typ = c.Type
			if c.Fallback {
				r.Fallbacks = append(r.Fallbacks, fmt.Sprintf("%s %s→%s", t.Name, c.Wanted, c.Type))
			}
		case "pure":
			typ = src
			if quantizable(t.Name, t.Shape) {
				typ = f.Type
				row := t.Shape[len(t.Shape)-1]
				if row%typ.BlockSize() != 0 {
					return nil, &RowError{Tensor: t.Name, Row: row, Type: typ, Why: "pure format, no fallback"}
				}
			}
		}
		b, err := tensorBytes(t, typ)
		if err != nil {
			return nil, err
		}
		r.Bytes += b
		if t.expert() {
			r.ExpertBytes += b
		}
		if t.Name == "token_embd.weight" && m.HasOutput() {
			r.EmbeddingBytes += b
		}
		c := counts[typ]
		if c == nil {
			c = &TypeCount{Type: typ.String()}
			counts[typ] = c
		}
		c.Tensors++
		c.Params += t.Elements()
		c.Bytes += b
	}
	for _, c := range counts {
		r.Types = append(r.Types, *c)
	}
	sort.Slice(r.Types, func(i, j int) bool {
		if r.Types[i].Bytes != r.Types[j].Bytes {
			return r.Types[i].Bytes > r.Types[j].Bytes
		}
		return r.Types[i].Type < r.Types[j].Type
	})
	if r.Params > 0 {
		r.BitsPerWeight = float64(r.Bytes) * 8 / float64(r.Params)
	}
	return r, nil
}
