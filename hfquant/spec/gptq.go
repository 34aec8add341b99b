package spec

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/lmc-project/lmc/tensor"
)

// GPTQ checkpoint formats (quantization_config.checkpoint_format).
const (
	GPTQv1 = "gptq"    // zero points stored as zero − 1 (AutoGPTQ, the default)
	GPTQv2 = "gptq_v2" // zero points stored as they are (GPTQModel)
)

// GPTQConfig is config.json's quantization_config for quant_method
// "gptq", with the fields transformers' GPTQConfig, GPTQModel and vLLM
// read. Fields lmc does not interpret are kept in Extra.
type GPTQConfig struct {
	Bits             int
	GroupSize        int
	DescAct          bool
	Sym              bool
	LMHead           bool
	CheckpointFormat string // GPTQv1 or GPTQv2
	Extra            map[string]json.RawMessage
}

// Scheme returns the grid the config describes, with F16 scales.
func (c *GPTQConfig) Scheme() Scheme {
	return Scheme{Bits: c.Bits, GroupSize: c.GroupSize, Sym: c.Sym, ScaleDType: tensor.F16}
}

// V2 reports whether zero points are stored without GPTQ v1's −1.
func (c *GPTQConfig) V2() bool { return c.CheckpointFormat == GPTQv2 }

// MarshalJSON writes the config with quant_method "gptq" and the fields of
// a GPTQModel/AutoGPTQ checkpoint (keys sorted).
func (c *GPTQConfig) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	for k, v := range c.Extra {
		m[k] = v
	}
	f := c.CheckpointFormat
	if f == "" {
		f = GPTQv1
	}
	m["quant_method"] = "gptq"
	m["bits"] = c.Bits
	m["group_size"] = c.GroupSize
	m["desc_act"] = c.DescAct
	m["sym"] = c.Sym
	m["lm_head"] = c.LMHead
	m["checkpoint_format"] = f
	m["pack_dtype"] = "int32"
	return json.Marshal(m)
}

// ParseGPTQConfig reads a quantization_config object with quant_method
// "gptq". bits and group_size are required; sym defaults to true and
// desc_act to false (transformers' defaults). It rejects what lmc cannot
// read with an error wrapping ErrUnsupported: bits other than 4 and 8,
// Marlin-packed checkpoints (is_marlin_format, checkpoint_format
// "marlin"), pack_dtype other than int32 and per-module "dynamic"
// overrides.
func ParseGPTQConfig(file string, raw json.RawMessage) (*GPTQConfig, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, &FormatError{File: file, Field: "quantization_config", Msg: "not a JSON object", Err: err}
	}
	c := &GPTQConfig{Sym: true, Extra: map[string]json.RawMessage{}}
	fail := func(field, msg string, err error) error {
		return &FormatError{File: file, Field: "quantization_config." + field, Msg: msg, Err: err}
	}
	seen := map[string]bool{}
	for k, v := range fields {
		var err error
		switch k {
		case "quant_method":
			var s string
			if err = json.Unmarshal(v, &s); err == nil && s != "gptq" {
				return nil, fail(k, fmt.Sprintf("is %q, not \"gptq\"", s), nil)
			}
		case "bits":
			err = json.Unmarshal(v, &c.Bits)
		case "group_size":
			err = json.Unmarshal(v, &c.GroupSize)
		case "desc_act":
			err = json.Unmarshal(v, &c.DescAct)
		case "sym":
			err = json.Unmarshal(v, &c.Sym)
		case "lm_head":
			err = json.Unmarshal(v, &c.LMHead)
		case "checkpoint_format":
			err = json.Unmarshal(v, &c.CheckpointFormat)
		case "is_marlin_format":
			var b bool
			if err = json.Unmarshal(v, &b); err == nil && b {
				return nil, fail(k, "Marlin-packed GPTQ weights are not read by lmc", ErrUnsupported)
			}
		case "pack_dtype":
			var s string
			if err = json.Unmarshal(v, &s); err == nil && s != "int32" {
				return nil, fail(k, fmt.Sprintf("%q: lmc reads int32 packing only", s), ErrUnsupported)
			}
		case "dynamic":
			var d map[string]json.RawMessage
			if err = json.Unmarshal(v, &d); err == nil && len(d) > 0 {
				return nil, fail(k, "per-module overrides are not read by lmc", ErrUnsupported)
			}
			if string(v) == "null" {
				err = nil
			}
		default:
			c.Extra[k] = v
		}
		if err != nil {
			return nil, fail(k, "wrong JSON type", err)
		}
		seen[k] = true
	}
	for _, k := range []string{"bits", "group_size"} {
		if !seen[k] {
			return nil, fail(k, "missing", nil)
		}
	}
	switch c.CheckpointFormat {
	case "":
		c.CheckpointFormat = GPTQv1
	case GPTQv1, GPTQv2:
	default:
		return nil, fail("checkpoint_format", fmt.Sprintf("%q: lmc reads \"gptq\" and \"gptq_v2\"", c.CheckpointFormat), ErrUnsupported)
	}
	if c.Bits != 4 && c.Bits != 8 {
		return nil, fail("bits", fmt.Sprintf("%d: lmc reads 4- and 8-bit GPTQ", c.Bits), ErrUnsupported)
	}
	if c.GroupSize != -1 && c.GroupSize <= 0 {
		return nil, fail("group_size", fmt.Sprintf("%d: want a positive size or -1", c.GroupSize), nil)
	}
	return c, nil
}

// GPTQShapes returns the shapes of a GPTQ layer's tensors for a rows ×
// cols weight (rows = out_features, cols = in_features):
//
//	qweight  I32 [cols/pack, rows]   packed along the input dimension
//	qzeros   I32 [groups, rows/pack] packed along the output dimension
//	scales   F16 [groups, rows]
//	g_idx    I32 [cols]
//
// with pack = 32/bits and groups = cols/group_size (1 for −1).
func GPTQShapes(rows, cols int, s Scheme) (qweight, qzeros, scales, gidx []int64) {
	p, g := int64(s.PackFactor()), int64(s.Groups(cols))
	return []int64{int64(cols) / p, int64(rows)}, []int64{g, int64(rows) / p}, []int64{g, int64(rows)}, []int64{int64(cols)}
}

// CheckGPTQ reports whether a rows × cols matrix fits the GPTQ layout:
// cols a multiple of the pack factor and of the group size, rows a
// multiple of the pack factor.
func CheckGPTQ(rows, cols int, s Scheme) error {
	if err := s.Validate(cols); err != nil {
		return err
	}
	p := s.PackFactor()
	if cols%p != 0 || rows%p != 0 {
		return fmt.Errorf("hfquant: GPTQ packs %d codes per int32 along both dimensions; [%d, %d] does not divide", p, rows, cols)
	}
	return nil
}

// GPTQTensors are the little-endian bytes of one GPTQ layer.
type GPTQTensors struct {
	QWeight, QZeros, Scales, GIdx []byte
}

// EncodeGPTQ lays q out as GPTQ tensors (see GPTQShapes): qweight[i][j]
// packs codes (j, i·pack … i·pack+pack−1), LSB first; qzeros[g][j] packs
// the zero points of rows j·pack … j·pack+pack−1 of group g, each minus 1
// unless v2; scales[g][j] = F16(Scales[j][g]); g_idx[c] = Group(c). It
// fails when q does not fit the layout, a scale is not exactly an F16
// value, or (v1) a zero point is 0, which v1 cannot store.
func EncodeGPTQ(q *Quantized, v2 bool) (*GPTQTensors, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	if err := CheckGPTQ(q.Rows, q.Cols, q.Scheme); err != nil {
		return nil, err
	}
	s := q.Scheme
	p, g, bits := s.PackFactor(), q.Groups(), s.Bits
	t := &GPTQTensors{
		QWeight: make([]byte, 4*q.Cols/p*q.Rows),
		QZeros:  make([]byte, 4*g*q.Rows/p),
		Scales:  make([]byte, 2*g*q.Rows),
		GIdx:    make([]byte, 4*q.Cols),
	}
	col := make([]uint8, q.Cols)
	words := make([]uint32, q.Cols/p)
	for j := 0; j < q.Rows; j++ { // output feature j is column j of qweight
		copy(col, q.Codes[j*q.Cols:(j+1)*q.Cols])
		PackLSB(words, col, bits)
		for i, w := range words {
			binary.LittleEndian.PutUint32(t.QWeight[4*(i*q.Rows+j):], w)
		}
	}
	zrow := make([]uint8, q.Rows)
	zwords := make([]uint32, q.Rows/p)
	for k := 0; k < g; k++ {
		for j := 0; j < q.Rows; j++ {
			z := q.Zeros[j*g+k]
			if !v2 {
				if z == 0 || int(z) > s.MaxQ()+1 {
					return nil, fmt.Errorf("hfquant: row %d group %d has zero point %d, which GPTQ v1 (stored zero − 1 in %d bits) cannot hold; use symmetric quantization or checkpoint_format gptq_v2", j, k, z, bits)
				}
				z--
			} else if int(z) > s.MaxQ() {
				return nil, fmt.Errorf("hfquant: row %d group %d has zero point %d, above %d", j, k, z, s.MaxQ())
			}
			zrow[j] = z
		}
		PackLSB(zwords, zrow, bits)
		putWords(t.QZeros[4*k*len(zwords):], zwords)
	}
	sc := make([]float32, g*q.Rows)
	for j := 0; j < q.Rows; j++ {
		for k := 0; k < g; k++ {
			sc[k*q.Rows+j] = q.Scales[j*g+k]
		}
	}
	if bad, ok := encodeScales(t.Scales, sc, tensor.F16); !ok {
		return nil, fmt.Errorf("hfquant: scale %v of row %d group %d is not an F16 value (GPTQ stores F16 scales; quantize with ScaleDType F16)", sc[bad], bad%q.Rows, bad/q.Rows)
	}
	for c := 0; c < q.Cols; c++ {
		binary.LittleEndian.PutUint32(t.GIdx[4*c:], uint32(q.Group(c)))
	}
	return t, nil
}

// DecodeGPTQ reads one GPTQ layer of a rows × cols weight back into a
// Quantized: the inverse of EncodeGPTQ (v1 zero points get their +1, so a
// stored 2^bits − 1, AutoGPTQ's wrap-around of zero 0, reads as 2^bits, as
// vLLM and AutoGPTQ compute with it). scales may be F16, BF16 or F32
// (scaleType); gidx may be nil (then column c is in group c/group_size).
// The lengths must match GPTQShapes; g_idx values must name groups.
func DecodeGPTQ(rows, cols int, s Scheme, v2 bool, qweight, qzeros, scales []byte, scaleType tensor.DType, gidx []byte) (*Quantized, error) {
	if err := CheckGPTQ(rows, cols, s); err != nil {
		return nil, err
	}
	p, g := s.PackFactor(), s.Groups(cols)
	if len(qweight) != 4*cols/p*rows || len(qzeros) != 4*g*rows/p || len(scales) != scaleType.Size()*g*rows || (gidx != nil && len(gidx) != 4*cols) {
		return nil, fmt.Errorf("hfquant: GPTQ tensors of a [%d, %d] layer have %d, %d, %d and %d bytes", rows, cols, len(qweight), len(qzeros), len(scales), len(gidx))
	}
	s.ScaleDType = scaleType
	q := &Quantized{Rows: rows, Cols: cols, Scheme: s,
		Codes: make([]uint8, rows*cols), Scales: make([]float32, rows*g), Zeros: make([]uint8, rows*g)}
	words := make([]uint32, cols/p)
	for j := 0; j < rows; j++ {
		for i := range words {
			words[i] = binary.LittleEndian.Uint32(qweight[4*(i*rows+j):])
		}
		UnpackLSB(q.Codes[j*cols:(j+1)*cols], words, s.Bits)
	}
	zwords := make([]uint32, rows/p)
	zrow := make([]uint8, rows)
	for k := 0; k < g; k++ {
		getWords(zwords, qzeros[4*k*len(zwords):])
		UnpackLSB(zrow, zwords, s.Bits)
		for j, z := range zrow {
			if !v2 {
				z++
			}
			q.Zeros[j*g+k] = z
		}
	}
	sc := make([]float32, g*rows)
	if err := tensor.DecodeF32(sc, scales, scaleType); err != nil {
		return nil, err
	}
	for k := 0; k < g; k++ {
		for j := 0; j < rows; j++ {
			q.Scales[j*g+k] = sc[k*rows+j]
		}
	}
	if gidx != nil {
		q.GIdx = make([]int32, cols)
		trivial := true
		for c := range q.GIdx {
			q.GIdx[c] = int32(binary.LittleEndian.Uint32(gidx[4*c:]))
			if s.GroupSize > 0 && int(q.GIdx[c]) != c/s.GroupSize || s.GroupSize <= 0 && q.GIdx[c] != 0 {
				trivial = false
			}
		}
		if trivial {
			q.GIdx = nil
		}
	}
	if s.Sym {
		// Symmetric files store 2^(bits−1) everywhere; read what is there.
		q.Scheme.Sym = allEqual(q.Zeros, s.SymZero())
	}
	if err := q.Validate(); err != nil {
		return nil, err
	}
	return q, nil
}

func allEqual(b []uint8, v uint8) bool {
	for _, x := range b {
		if x != v {
			return false
		}
	}
	return true
}
