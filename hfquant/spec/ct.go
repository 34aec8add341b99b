package spec

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"

	"github.com/lmc-project/lmc/quant/fp"
	"github.com/lmc-project/lmc/tensor"
)

// compressed-tensors formats lmc writes or reads.
const (
	FormatPackQuantized  = "pack-quantized"
	FormatFloatQuantized = "float-quantized"
	FormatNVFP4          = "nvfp4-pack-quantized"
	FormatNaiveQuantized = "naive-quantized"
	FormatIntQuantized   = "int-quantized"
)

// CTArgs is a QuantizationArgs of compressed-tensors (the "weights" or
// "input_activations" of a config group).
type CTArgs struct {
	NumBits        int            `json:"num_bits"`
	Type           string         `json:"type"` // "int" or "float"
	Symmetric      bool           `json:"symmetric"`
	GroupSize      *int           `json:"group_size"`
	Strategy       string         `json:"strategy"` // tensor, channel, group, block, token, tensor_group
	BlockStructure []int          `json:"block_structure"`
	Dynamic        any            `json:"dynamic"` // false, true or "local"
	Actorder       any            `json:"actorder"`
	Observer       *string        `json:"observer"`
	ObserverKwargs map[string]any `json:"observer_kwargs"`
}

// CTGroup is one entry of config_groups.
type CTGroup struct {
	Targets           []string `json:"targets"`
	Weights           *CTArgs  `json:"weights"`
	InputActivations  *CTArgs  `json:"input_activations"`
	OutputActivations *CTArgs  `json:"output_activations"`
	Format            string   `json:"format,omitempty"` // per-group format of "mixed-precision" checkpoints
}

// CTConfig is config.json's quantization_config for quant_method
// "compressed-tensors" (compressed_tensors.QuantizationConfig).
type CTConfig struct {
	QuantMethod            string              `json:"quant_method"`
	Format                 string              `json:"format"`
	ConfigGroups           map[string]*CTGroup `json:"config_groups"`
	Ignore                 []string            `json:"ignore"`
	KVCacheScheme          any                 `json:"kv_cache_scheme"`
	QuantizationStatus     string              `json:"quantization_status"`
	GlobalCompressionRatio any                 `json:"global_compression_ratio"`
	SparsityConfig         map[string]any      `json:"sparsity_config"`
}

// ParseCTConfig reads a compressed-tensors quantization_config.
func ParseCTConfig(file string, raw json.RawMessage) (*CTConfig, error) {
	var c CTConfig
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, &FormatError{File: file, Field: "quantization_config", Msg: "not a compressed-tensors config", Err: err}
	}
	if c.QuantMethod != "compressed-tensors" {
		return nil, &FormatError{File: file, Field: "quantization_config.quant_method", Msg: fmt.Sprintf("is %q, not \"compressed-tensors\"", c.QuantMethod)}
	}
	if c.QuantizationStatus != "" && c.QuantizationStatus != "compressed" && c.QuantizationStatus != "frozen" {
		return nil, &FormatError{File: file, Field: "quantization_config.quantization_status",
			Msg: fmt.Sprintf("%q: lmc reads compressed checkpoints", c.QuantizationStatus), Err: ErrUnsupported}
	}
	if len(c.SparsityConfig) > 0 {
		if f, _ := c.SparsityConfig["format"].(string); f != "" && f != "dense" {
			return nil, &FormatError{File: file, Field: "quantization_config.sparsity_config",
				Msg: fmt.Sprintf("sparsity format %q is not read by lmc", f), Err: ErrUnsupported}
		}
	}
	if len(c.ConfigGroups) == 0 {
		return nil, &FormatError{File: file, Field: "quantization_config.config_groups", Msg: "missing or empty"}
	}
	return &c, nil
}

// match reports whether a target or ignore pattern names module (an HF
// module name such as "model.layers.0.mlp.down_proj"): "re:<regexp>"
// (matched from the start, as Python's re.match), a module class
// ("Linear", which every module lmc quantizes is), or a name or name
// suffix.
func match(pattern, module string) bool {
	if strings.HasPrefix(pattern, "re:") {
		re, err := regexp.Compile("^(?:" + pattern[3:] + ")")
		return err == nil && re.MatchString(module)
	}
	if pattern == "Linear" {
		return true
	}
	return pattern == module || strings.HasSuffix(module, "."+pattern)
}

// Scheme returns the config group that applies to module (nil when the
// module is ignored or no group targets it) and the format of its
// weights: groups naming the module (by name or regexp) win over class
// targets ("Linear"); ties go to the first group in key order.
func (c *CTConfig) Scheme(module string) (*CTGroup, string) {
	for _, ig := range c.Ignore {
		if match(ig, module) {
			return nil, ""
		}
	}
	keys := make([]string, 0, len(c.ConfigGroups))
	for k := range c.ConfigGroups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var best *CTGroup
	bestSpecific := false
	for _, k := range keys {
		g := c.ConfigGroups[k]
		for _, t := range g.Targets {
			if !match(t, module) {
				continue
			}
			specific := t != "Linear"
			if best == nil || specific && !bestSpecific {
				best, bestSpecific = g, specific
			}
		}
	}
	if best == nil {
		return nil, ""
	}
	f := c.Format
	if best.Format != "" {
		f = best.Format
	}
	return best, f
}

// IntScheme converts int weight args to a Scheme (scales in scaleType).
func (a *CTArgs) IntScheme(scaleType tensor.DType) (Scheme, error) {
	if a.Type != "int" {
		return Scheme{}, fmt.Errorf("weights of type %q are not integer", a.Type)
	}
	s := Scheme{Bits: a.NumBits, Sym: a.Symmetric, ScaleDType: scaleType}
	switch a.Strategy {
	case "channel":
		s.GroupSize = -1
	case "group":
		if a.GroupSize == nil || *a.GroupSize <= 0 {
			return Scheme{}, fmt.Errorf("strategy group without a positive group_size")
		}
		s.GroupSize = *a.GroupSize
	default:
		return Scheme{}, fmt.Errorf("integer strategy %q: lmc reads group and channel: %w", a.Strategy, ErrUnsupported)
	}
	if s.Bits != 4 && s.Bits != 8 {
		return Scheme{}, fmt.Errorf("%d-bit integer weights: lmc reads 4 and 8: %w", s.Bits, ErrUnsupported)
	}
	return s, nil
}

// PackedShapes returns the shapes of a pack-quantized layer's tensors for
// a rows × cols weight (compressed-tensors' PackedQuantizationCompressor,
// as vLLM's CompressedTensorsWNA16 creates them):
//
//	weight_packed     I32 [rows, ceil(cols/pack)]   packed along the input
//	weight_scale      [rows, groups]                in the scale dtype
//	weight_zero_point I32 [ceil(rows/pack), groups] asymmetric only, packed along the output
//	weight_shape      I64 [2]                       (rows, cols)
//	weight_g_idx      I32 [cols]                    act-order ("group") only
func PackedShapes(rows, cols int, s Scheme) (packed, scale, zero, shape, gidx []int64) {
	p, g := s.PackFactor(), s.Groups(cols)
	return []int64{int64(rows), int64((cols + p - 1) / p)}, []int64{int64(rows), int64(g)},
		[]int64{int64((rows + p - 1) / p), int64(g)}, []int64{2}, []int64{int64(cols)}
}

// PackedTensors are the little-endian bytes of one pack-quantized layer
// (ZeroPoint nil when symmetric, GIdx nil without act-order).
type PackedTensors struct {
	Packed, Scale, ZeroPoint, Shape, GIdx []byte
}

// EncodePacked lays q out as compressed-tensors pack-quantized tensors:
// codes are the signed values plus 2^(bits−1) (lmc's codes already are),
// element k of each group of 32/bits input columns at bit shift k·bits;
// zero points (asymmetric) are packed the same way down each column of
// the [rows, groups] matrix; scales are stored in q.Scheme.ScaleDType and
// must be exactly representable in it.
func EncodePacked(q *Quantized) (*PackedTensors, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	s := q.Scheme
	p, g, bits := s.PackFactor(), q.Groups(), s.Bits
	pc := (q.Cols + p - 1) / p
	t := &PackedTensors{Packed: make([]byte, 4*q.Rows*pc), Scale: make([]byte, s.scaleDType().Size()*q.Rows*g), Shape: make([]byte, 16)}
	words := make([]uint32, pc)
	for r := 0; r < q.Rows; r++ {
		PackLSB(words, q.Codes[r*q.Cols:(r+1)*q.Cols], bits)
		putWords(t.Packed[4*r*pc:], words)
	}
	if bad, ok := encodeScales(t.Scale, q.Scales, s.scaleDType()); !ok {
		return nil, fmt.Errorf("hfquant: scale %v of row %d group %d is not a %s value", q.Scales[bad], bad/g, bad%g, s.scaleDType())
	}
	if !s.Sym {
		pr := (q.Rows + p - 1) / p
		t.ZeroPoint = make([]byte, 4*pr*g)
		col := make([]uint8, q.Rows)
		zw := make([]uint32, pr)
		for k := 0; k < g; k++ {
			for r := 0; r < q.Rows; r++ {
				z := q.Zeros[r*g+k]
				if int(z) > s.MaxQ() {
					return nil, fmt.Errorf("hfquant: row %d group %d has zero point %d, above %d", r, k, z, s.MaxQ())
				}
				col[r] = z
			}
			PackLSB(zw, col, bits)
			for i, w := range zw {
				binary.LittleEndian.PutUint32(t.ZeroPoint[4*(i*g+k):], w)
			}
		}
	}
	binary.LittleEndian.PutUint64(t.Shape[0:], uint64(q.Rows))
	binary.LittleEndian.PutUint64(t.Shape[8:], uint64(q.Cols))
	if q.GIdx != nil {
		t.GIdx = make([]byte, 4*q.Cols)
		for c, v := range q.GIdx {
			binary.LittleEndian.PutUint32(t.GIdx[4*c:], uint32(v))
		}
	}
	return t, nil
}

// DecodePacked is the inverse of EncodePacked for a rows × cols layer.
// zero must be nil exactly when s.Sym; gidx may be nil.
func DecodePacked(rows, cols int, s Scheme, packed, scale []byte, scaleType tensor.DType, zero, gidx []byte) (*Quantized, error) {
	s.ScaleDType = scaleType
	if err := s.Validate(cols); err != nil {
		return nil, err
	}
	p, g := s.PackFactor(), s.Groups(cols)
	pc, pr := (cols+p-1)/p, (rows+p-1)/p
	if len(packed) != 4*rows*pc || len(scale) != scaleType.Size()*rows*g || (!s.Sym && len(zero) != 4*pr*g) || (gidx != nil && len(gidx) != 4*cols) {
		return nil, fmt.Errorf("hfquant: pack-quantized tensors of a [%d, %d] layer have %d, %d, %d and %d bytes", rows, cols, len(packed), len(scale), len(zero), len(gidx))
	}
	q := &Quantized{Rows: rows, Cols: cols, Scheme: s, Codes: make([]uint8, rows*cols), Scales: make([]float32, rows*g), Zeros: make([]uint8, rows*g)}
	words := make([]uint32, pc)
	for r := 0; r < rows; r++ {
		getWords(words, packed[4*r*pc:])
		UnpackLSB(q.Codes[r*cols:(r+1)*cols], words, s.Bits)
	}
	if err := tensor.DecodeF32(q.Scales, scale, scaleType); err != nil {
		return nil, err
	}
	if s.Sym {
		for i := range q.Zeros {
			q.Zeros[i] = s.SymZero()
		}
	} else {
		zw := make([]uint32, pr)
		col := make([]uint8, rows)
		for k := 0; k < g; k++ {
			for i := range zw {
				zw[i] = binary.LittleEndian.Uint32(zero[4*(i*g+k):])
			}
			UnpackLSB(col, zw, s.Bits)
			for r, z := range col {
				q.Zeros[r*g+k] = z
			}
		}
	}
	if gidx != nil {
		q.GIdx = make([]int32, cols)
		for c := range q.GIdx {
			q.GIdx[c] = int32(binary.LittleEndian.Uint32(gidx[4*c:]))
		}
	}
	if err := q.Validate(); err != nil {
		return nil, err
	}
	return q, nil
}

// FP8ScaleShape is the shape of a float-quantized weight_scale: [1] for
// strategy "tensor", [rows, 1] for "channel".
func FP8ScaleShape(rows int, g fp.Granularity) []int64 {
	if g == fp.PerChannel {
		return []int64{int64(rows), 1}
	}
	return []int64{1}
}

// DecodeFP8 reads a float-quantized layer: weight (F8_E4M3 [rows, cols])
// and weight_scale (F32, F16 or BF16; 1 value for the tensor, or one per
// row).
func DecodeFP8(rows, cols int, weight, scale []byte, scaleType tensor.DType) (*fp.FP8, error) {
	n := len(scale) / max(scaleType.Size(), 1)
	if len(weight) != rows*cols || n*scaleType.Size() != len(scale) || (n != 1 && n != rows) {
		return nil, fmt.Errorf("hfquant: FP8 layer [%d, %d] has %d weight bytes and %d scales", rows, cols, len(weight), n)
	}
	sc := make([]float32, n)
	if err := tensor.DecodeF32(sc, scale, scaleType); err != nil {
		return nil, err
	}
	for i, v := range sc {
		if !(v > 0) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("hfquant: FP8 weight_scale[%d] = %v: want a positive finite value", i, v)
		}
	}
	g := fp.PerTensor
	if n == rows && rows != 1 {
		g = fp.PerChannel
	}
	return &fp.FP8{Rows: rows, Cols: cols, Granularity: g, Data: append([]uint8(nil), weight...), Scales: sc}, nil
}

// DecodeNVFP4 reads an nvfp4-pack-quantized layer: weight_packed (U8
// [rows, cols/2]), weight_scale (F8_E4M3 [rows, cols/16]) and
// weight_global_scale (F32 [1]).
func DecodeNVFP4(rows, cols int, packed, scale, global []byte) (*fp.NVFP4, error) {
	if cols%16 != 0 || len(packed) != rows*cols/2 || len(scale) != rows*cols/16 || len(global) != 4 {
		return nil, fmt.Errorf("hfquant: NVFP4 layer [%d, %d] has %d packed, %d scale and %d global-scale bytes", rows, cols, len(packed), len(scale), len(global))
	}
	gs := math.Float32frombits(binary.LittleEndian.Uint32(global))
	if !(gs > 0) || math.IsInf(float64(gs), 0) {
		return nil, fmt.Errorf("hfquant: NVFP4 weight_global_scale %v: want a positive finite value", gs)
	}
	return &fp.NVFP4{Rows: rows, Cols: cols, Packed: append([]uint8(nil), packed...), Scales: append([]uint8(nil), scale...), GlobalScale: gs}, nil
}
