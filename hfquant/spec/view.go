package spec

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/lmc-project/lmc/quant/fp"
	"github.com/lmc-project/lmc/safetensors"
	"github.com/lmc-project/lmc/tensor"
)

// Source is the tensor store of a checkpoint; *safetensors.Model is one.
type Source interface {
	Tensors() []safetensors.TensorInfo
	Data(name string) ([]byte, error)
}

// Kinds of quantized layers.
const (
	KindInt   = "int"   // integer grid (GPTQ, pack-quantized): a Quantized
	KindFP8   = "fp8"   // float-quantized FP8 E4M3: an fp.FP8
	KindNVFP4 = "nvfp4" // nvfp4-pack-quantized: an fp.NVFP4
)

// Layer is one quantized linear layer of a checkpoint.
type Layer struct {
	Module     string // HF module name, "model.layers.0.self_attn.q_proj"
	Kind       string // KindInt, KindFP8 or KindNVFP4
	Rows, Cols int    // out_features, in_features
	Scheme     Scheme // KindInt only
	v2         bool
	gptq       bool
	parts      map[string]safetensors.TensorInfo // role (qweight, weight_scale, ...) → tensor
}

// View presents a quantized Hugging Face checkpoint as dense tensors: each
// quantized linear layer becomes one F32 tensor "<module>.weight" [out, in]
// whose bytes are dequantized on every Data call; the auxiliary tensors
// (qzeros, scales, g_idx, weight_scale, weight_zero_point, weight_shape,
// weight_g_idx, weight_global_scale) disappear, and so do activation and
// KV-cache quantization parameters (input_scale, input_zero_point,
// input_global_scale, output_scale, output_zero_point, k_scale, v_scale),
// which lmc does not use: it computes activations in float32. Every other
// tensor passes through unchanged.
type View struct {
	File   string            // config.json, for error messages
	Method string            // "gptq" or "compressed-tensors"
	Format string            // GPTQ checkpoint_format or compressed-tensors format
	Layers map[string]*Layer // by dense tensor name ("<module>.weight")

	src     Source
	tensors []safetensors.TensorInfo
}

// activationParams are the tensor name suffixes of activation and KV-cache
// quantization, dropped from the view.
var activationParams = []string{"input_scale", "input_zero_point", "input_global_scale",
	"output_scale", "output_zero_point", "k_scale", "v_scale"}

// QuantMethod returns quantization_config.quant_method.
func QuantMethod(raw json.RawMessage) (string, error) {
	var h struct {
		QuantMethod string `json:"quant_method"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return "", err
	}
	return h.QuantMethod, nil
}

// NewView checks a quantized checkpoint against its quantization_config
// (config.json's object, raw) and builds the dense view. file names
// config.json in errors. It reads nothing but tensor headers, except the
// 16-byte weight_shape tensors of pack-quantized layers. Errors are
// *FormatError values naming the tensor and the field at fault; valid
// checkpoints lmc cannot read (another quant_method, format or strategy)
// wrap ErrUnsupported.
func NewView(file string, src Source, raw json.RawMessage) (*View, error) {
	method, err := QuantMethod(raw)
	if err != nil {
		return nil, &FormatError{File: file, Field: "quantization_config", Msg: "not a JSON object", Err: err}
	}
	v := &View{File: file, Method: method, Layers: map[string]*Layer{}, src: src}
	byName := map[string]safetensors.TensorInfo{}
	for _, t := range src.Tensors() {
		byName[t.Name] = t
	}
	consumed := map[string]bool{}
	switch method {
	case "gptq":
		err = v.gptqLayers(raw, byName, consumed)
	case "compressed-tensors":
		err = v.ctLayers(raw, byName, consumed)
	default:
		return nil, &FormatError{File: file, Field: "quantization_config.quant_method",
			Msg: fmt.Sprintf("%q: lmc reads \"gptq\" and \"compressed-tensors\" checkpoints", method), Err: ErrUnsupported}
	}
	if err != nil {
		return nil, err
	}
	for _, t := range src.Tensors() {
		last := t.Name[strings.LastIndexByte(t.Name, '.')+1:]
		for _, a := range activationParams {
			if last == a {
				consumed[t.Name] = true
			}
		}
		if !consumed[t.Name] {
			v.tensors = append(v.tensors, t)
		}
	}
	for name, l := range v.Layers {
		v.tensors = append(v.tensors, safetensors.TensorInfo{Name: name, DType: tensor.F32, Shape: []int64{int64(l.Rows), int64(l.Cols)}})
	}
	sort.Slice(v.tensors, func(i, j int) bool { return v.tensors[i].Name < v.tensors[j].Name })
	return v, nil
}

func (v *View) fail(tensor, field, msg string, err error) error {
	return &FormatError{File: v.File, Tensor: tensor, Field: field, Msg: msg, Err: err}
}

func shapeIs(t safetensors.TensorInfo, want ...int64) bool {
	if len(t.Shape) != len(want) {
		return false
	}
	for i := range want {
		if t.Shape[i] != want[i] {
			return false
		}
	}
	return true
}

func isFloat16or32(d tensor.DType) bool {
	return d == tensor.F16 || d == tensor.BF16 || d == tensor.F32
}

// addLayer registers l under "<module>.weight", refusing a dense weight of
// that name beside the quantized one.
func (v *View) addLayer(l *Layer, byName map[string]safetensors.TensorInfo, consumed map[string]bool) error {
	name := l.Module + ".weight"
	if t, ok := byName[name]; ok && !consumed[name] {
		return v.fail(t.Name, "name", "a dense weight sits beside the quantized layer's tensors", nil)
	}
	for _, t := range l.parts {
		consumed[t.Name] = true
	}
	v.Layers[name] = l
	return nil
}

func (v *View) gptqLayers(raw json.RawMessage, byName map[string]safetensors.TensorInfo, consumed map[string]bool) error {
	cfg, err := ParseGPTQConfig(v.File, raw)
	if err != nil {
		return err
	}
	v.Format = cfg.CheckpointFormat
	s := cfg.Scheme()
	p := int64(s.PackFactor())
	for name, qw := range byName {
		if !strings.HasSuffix(name, ".qweight") {
			continue
		}
		mod := strings.TrimSuffix(name, ".qweight")
		l := &Layer{Module: mod, Kind: KindInt, Scheme: s, v2: cfg.V2(), gptq: true, parts: map[string]safetensors.TensorInfo{"qweight": qw}}
		if qw.DType != tensor.I32 || len(qw.Shape) != 2 || qw.Shape[0] <= 0 || qw.Shape[1] <= 0 {
			return v.fail(name, "dtype/shape", fmt.Sprintf("%s %v: want I32 [in/%d, out]", qw.DType, qw.Shape, p), nil)
		}
		l.Rows, l.Cols = int(qw.Shape[1]), int(qw.Shape[0]*p)
		if err := CheckGPTQ(l.Rows, l.Cols, s); err != nil {
			return v.fail(name, "shape", err.Error(), nil)
		}
		_, zs, ss, gs := GPTQShapes(l.Rows, l.Cols, s)
		for _, part := range []struct {
			role     string
			shape    []int64
			optional bool
			ok       func(tensor.DType) bool
			want     string
		}{
			{"qzeros", zs, false, func(d tensor.DType) bool { return d == tensor.I32 }, "I32"},
			{"scales", ss, false, isFloat16or32, "F16"},
			{"g_idx", gs, true, func(d tensor.DType) bool { return d == tensor.I32 }, "I32"},
		} {
			t, ok := byName[mod+"."+part.role]
			if !ok {
				if part.optional {
					continue
				}
				return v.fail(mod+"."+part.role, "name", "missing (the layer has a qweight)", nil)
			}
			if !part.ok(t.DType) || !shapeIs(t, part.shape...) {
				return v.fail(t.Name, "dtype/shape", fmt.Sprintf("%s %v: want %s %v", t.DType, t.Shape, part.want, part.shape), nil)
			}
			l.parts[part.role] = t
		}
		if err := v.addLayer(l, byName, consumed); err != nil {
			return err
		}
	}
	if len(v.Layers) == 0 {
		return v.fail("", "quantization_config", "quant_method gptq but no tensor ends in .qweight", nil)
	}
	return nil
}

func (v *View) ctLayers(raw json.RawMessage, byName map[string]safetensors.TensorInfo, consumed map[string]bool) error {
	cfg, err := ParseCTConfig(v.File, raw)
	if err != nil {
		return err
	}
	v.Format = cfg.Format
	modules := map[string]bool{}
	for name, t := range byName {
		switch {
		case strings.HasSuffix(name, ".weight_packed"):
			modules[strings.TrimSuffix(name, ".weight_packed")] = true
		case strings.HasSuffix(name, ".weight") && (t.DType == tensor.F8E4M3 || t.DType == tensor.I8):
			modules[strings.TrimSuffix(name, ".weight")] = true
		}
	}
	for mod := range modules {
		g, format := cfg.Scheme(mod)
		if g == nil || g.Weights == nil {
			return v.fail(mod, "quantization_config.config_groups", "quantized tensors for a module no config group targets (or one listed in ignore)", nil)
		}
		w := g.Weights
		part := func(role string) (safetensors.TensorInfo, bool) {
			t, ok := byName[mod+"."+role]
			return t, ok
		}
		need := func(role string) (safetensors.TensorInfo, error) {
			if t, ok := part(role); ok {
				return t, nil
			}
			return safetensors.TensorInfo{}, v.fail(mod+"."+role, "name", "missing", nil)
		}
		l := &Layer{Module: mod, parts: map[string]safetensors.TensorInfo{}}
		switch {
		case format == FormatNVFP4 || (w.Type == "float" && w.NumBits == 4):
			l.Kind = KindNVFP4
			wp, err := need("weight_packed")
			if err != nil {
				return err
			}
			if wp.DType != tensor.U8 || len(wp.Shape) != 2 {
				return v.fail(wp.Name, "dtype/shape", fmt.Sprintf("%s %v: want U8 [out, in/2]", wp.DType, wp.Shape), nil)
			}
			l.Rows, l.Cols = int(wp.Shape[0]), int(wp.Shape[1]*2)
			sc, err := need("weight_scale")
			if err != nil {
				return err
			}
			if sc.DType != tensor.F8E4M3 || !shapeIs(sc, int64(l.Rows), int64(l.Cols/16)) {
				return v.fail(sc.Name, "dtype/shape", fmt.Sprintf("%s %v: want F8_E4M3 [%d, %d]", sc.DType, sc.Shape, l.Rows, l.Cols/16), nil)
			}
			gs, err := need("weight_global_scale")
			if err != nil {
				return err
			}
			if gs.DType != tensor.F32 || gs.NumElements() != 1 {
				return v.fail(gs.Name, "dtype/shape", fmt.Sprintf("%s %v: want F32 [1]", gs.DType, gs.Shape), nil)
			}
			l.parts["weight_packed"], l.parts["weight_scale"], l.parts["weight_global_scale"] = wp, sc, gs
		case format == FormatPackQuantized || format == "mixed-precision" && w.Type == "int":
			l.Kind = KindInt
			wp, err := need("weight_packed")
			if err != nil {
				return err
			}
			sc, err := need("weight_scale")
			if err != nil {
				return err
			}
			if !isFloat16or32(sc.DType) {
				return v.fail(sc.Name, "dtype", fmt.Sprintf("%s: want F16, BF16 or F32", sc.DType), nil)
			}
			s, err := w.IntScheme(sc.DType)
			if err != nil {
				return v.fail(mod, "quantization_config weights", err.Error(), err)
			}
			l.Scheme = s
			ws, err := need("weight_shape")
			if err != nil {
				return err
			}
			rows, cols, err := v.readShape(ws)
			if err != nil {
				return err
			}
			l.Rows, l.Cols = rows, cols
			if err := s.Validate(cols); err != nil {
				return v.fail(ws.Name, "value", err.Error(), nil)
			}
			ps, ss, zs, _, gis := PackedShapes(rows, cols, s)
			if wp.DType != tensor.I32 || !shapeIs(wp, ps...) {
				return v.fail(wp.Name, "dtype/shape", fmt.Sprintf("%s %v: want I32 %v", wp.DType, wp.Shape, ps), nil)
			}
			if !shapeIs(sc, ss...) {
				return v.fail(sc.Name, "shape", fmt.Sprintf("%v: want %v", sc.Shape, ss), nil)
			}
			l.parts["weight_packed"], l.parts["weight_scale"], l.parts["weight_shape"] = wp, sc, ws
			if zp, ok := part("weight_zero_point"); ok && !s.Sym {
				if zp.DType != tensor.I32 || !shapeIs(zp, zs...) {
					return v.fail(zp.Name, "dtype/shape", fmt.Sprintf("%s %v: want I32 %v", zp.DType, zp.Shape, zs), nil)
				}
				l.parts["weight_zero_point"] = zp
			} else if !s.Sym {
				return v.fail(mod+".weight_zero_point", "name", "missing for asymmetric weights", nil)
			} else if ok {
				consumed[zp.Name] = true // symmetric: an all-zero zero point some versions save
			}
			if gi, ok := part("weight_g_idx"); ok {
				if gi.DType != tensor.I32 || !shapeIs(gi, gis...) {
					return v.fail(gi.Name, "dtype/shape", fmt.Sprintf("%s %v: want I32 %v", gi.DType, gi.Shape, gis), nil)
				}
				l.parts["weight_g_idx"] = gi
			}
		case format == FormatFloatQuantized || (format == "mixed-precision" || format == FormatNaiveQuantized) && w.Type == "float" && w.NumBits == 8:
			l.Kind = KindFP8
			wt, err := need("weight")
			if err != nil {
				return err
			}
			if wt.DType != tensor.F8E4M3 || len(wt.Shape) != 2 {
				return v.fail(wt.Name, "dtype/shape", fmt.Sprintf("%s %v: want F8_E4M3 [out, in]", wt.DType, wt.Shape), nil)
			}
			if w.Strategy != "tensor" && w.Strategy != "channel" {
				return v.fail(mod, "quantization_config weights.strategy", fmt.Sprintf("FP8 strategy %q: lmc reads tensor and channel", w.Strategy), ErrUnsupported)
			}
			l.Rows, l.Cols = int(wt.Shape[0]), int(wt.Shape[1])
			sc, err := need("weight_scale")
			if err != nil {
				return err
			}
			if n := sc.NumElements(); !isFloat16or32(sc.DType) || (n != 1 && n != int64(l.Rows)) {
				return v.fail(sc.Name, "dtype/shape", fmt.Sprintf("%s %v: want a float scale per tensor or per row", sc.DType, sc.Shape), nil)
			}
			l.parts["weight"], l.parts["weight_scale"] = wt, sc
			consumed[wt.Name] = true
		default:
			return v.fail(mod, "quantization_config.format", fmt.Sprintf("%q with %s %d-bit weights: lmc reads pack-quantized, float-quantized (FP8) and nvfp4-pack-quantized", format, w.Type, w.NumBits), ErrUnsupported)
		}
		if err := v.addLayer(l, byName, consumed); err != nil {
			return err
		}
	}
	return nil
}

// readShape reads a weight_shape tensor (I64 or I32 [2]).
func (v *View) readShape(t safetensors.TensorInfo) (int, int, error) {
	if (t.DType != tensor.I64 && t.DType != tensor.I32) || !shapeIs(t, 2) {
		return 0, 0, v.fail(t.Name, "dtype/shape", fmt.Sprintf("%s %v: want I64 [2]", t.DType, t.Shape), nil)
	}
	b, err := v.src.Data(t.Name)
	if err != nil {
		return 0, 0, err
	}
	var r, c int64
	if t.DType == tensor.I64 {
		r, c = int64(binary.LittleEndian.Uint64(b)), int64(binary.LittleEndian.Uint64(b[8:]))
	} else {
		r, c = int64(int32(binary.LittleEndian.Uint32(b))), int64(int32(binary.LittleEndian.Uint32(b[4:])))
	}
	if r <= 0 || c <= 0 || r > 1<<31 || c > 1<<31 {
		return 0, 0, v.fail(t.Name, "value", fmt.Sprintf("[%d, %d] is not a weight shape", r, c), nil)
	}
	return int(r), int(c), nil
}

// Tensors lists the dense tensors, sorted by name.
func (v *View) Tensors() []safetensors.TensorInfo { return v.tensors }

func (v *View) part(l *Layer, role string) ([]byte, error) {
	t, ok := l.parts[role]
	if !ok {
		return nil, nil
	}
	return v.src.Data(t.Name)
}

func (v *View) layer(name, kind string) (*Layer, error) {
	l, ok := v.Layers[name]
	if !ok {
		return nil, fmt.Errorf("hfquant: %s: no quantized layer %q", v.File, name)
	}
	if kind != "" && l.Kind != kind {
		return nil, fmt.Errorf("hfquant: %s: layer %q is %s, not %s", v.File, name, l.Kind, kind)
	}
	return l, nil
}

// Int decodes the integer layer whose dense name is name.
func (v *View) Int(name string) (*Quantized, error) {
	l, err := v.layer(name, KindInt)
	if err != nil {
		return nil, err
	}
	bytesOf := func(roles ...string) ([][]byte, error) {
		out := make([][]byte, len(roles))
		for i, r := range roles {
			if out[i], err = v.part(l, r); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	var q *Quantized
	if l.gptq {
		b, err := bytesOf("qweight", "qzeros", "scales", "g_idx")
		if err != nil {
			return nil, err
		}
		q, err = DecodeGPTQ(l.Rows, l.Cols, l.Scheme, l.v2, b[0], b[1], b[2], l.parts["scales"].DType, b[3])
		if err != nil {
			return nil, v.fail(l.Module+".qweight", "data", err.Error(), nil)
		}
		return q, nil
	}
	b, err := bytesOf("weight_packed", "weight_scale", "weight_zero_point", "weight_g_idx")
	if err != nil {
		return nil, err
	}
	q, err = DecodePacked(l.Rows, l.Cols, l.Scheme, b[0], b[1], l.parts["weight_scale"].DType, b[2], b[3])
	if err != nil {
		return nil, v.fail(l.Module+".weight_packed", "data", err.Error(), nil)
	}
	return q, nil
}

// FP8 decodes the float-quantized layer whose dense name is name.
func (v *View) FP8(name string) (*fp.FP8, error) {
	l, err := v.layer(name, KindFP8)
	if err != nil {
		return nil, err
	}
	w, err := v.part(l, "weight")
	if err != nil {
		return nil, err
	}
	s, err := v.part(l, "weight_scale")
	if err != nil {
		return nil, err
	}
	q, err := DecodeFP8(l.Rows, l.Cols, w, s, l.parts["weight_scale"].DType)
	if err != nil {
		return nil, v.fail(l.Module+".weight", "data", err.Error(), nil)
	}
	return q, nil
}

// NVFP4 decodes the nvfp4-pack-quantized layer whose dense name is name.
func (v *View) NVFP4(name string) (*fp.NVFP4, error) {
	l, err := v.layer(name, KindNVFP4)
	if err != nil {
		return nil, err
	}
	b := make([][]byte, 3)
	for i, r := range []string{"weight_packed", "weight_scale", "weight_global_scale"} {
		if b[i], err = v.part(l, r); err != nil {
			return nil, err
		}
	}
	q, err := DecodeNVFP4(l.Rows, l.Cols, b[0], b[1], b[2])
	if err != nil {
		return nil, v.fail(l.Module+".weight_packed", "data", err.Error(), nil)
	}
	return q, nil
}

// Dequantize returns the float32 weights of the layer whose dense name is
// name (Rows × Cols, row-major).
func (v *View) Dequantize(name string) ([]float32, error) {
	l, err := v.layer(name, "")
	if err != nil {
		return nil, err
	}
	out := make([]float32, l.Rows*l.Cols)
	switch l.Kind {
	case KindInt:
		q, err := v.Int(name)
		if err != nil {
			return nil, err
		}
		q.Dequantize(out)
	case KindFP8:
		q, err := v.FP8(name)
		if err != nil {
			return nil, err
		}
		q.Dequantize(out)
	case KindNVFP4:
		q, err := v.NVFP4(name)
		if err != nil {
			return nil, err
		}
		q.Dequantize(out)
	}
	return out, nil
}

// Data returns the bytes of a dense tensor: the F32 dequantized weights of
// a quantized layer (a new slice on every call), or the source's bytes.
func (v *View) Data(name string) ([]byte, error) {
	if _, ok := v.Layers[name]; !ok {
		return v.src.Data(name)
	}
	w, err := v.Dequantize(name)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 4*len(w))
	for i, x := range w {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b, nil
}
