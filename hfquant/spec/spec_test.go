package spec

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"sort"
	"testing"

	"github.com/lmc-project/lmc/quant/fp"
	"github.com/lmc-project/lmc/safetensors"
	"github.com/lmc-project/lmc/tensor"
)

func u32s(b []byte) []uint32 {
	w := make([]uint32, len(b)/4)
	getWords(w, b)
	return w
}

// TestPackLSB: eight 4-bit codes 1…8 make 0x87654321 (code k at bit
// 4k); four 8-bit codes 1…4 make 0x04030201; a short word is zero-padded.
func TestPackLSB(t *testing.T) {
	cases := []struct {
		codes []uint8
		bits  int
		want  []uint32
	}{
		{[]uint8{1, 2, 3, 4, 5, 6, 7, 8}, 4, []uint32{0x87654321}},
		{[]uint8{0, 1, 2, 3, 4, 5, 6, 7, 15, 15, 0, 0, 0, 0, 0, 9}, 4, []uint32{0x76543210, 0x900000ff}},
		{[]uint8{1, 2, 3, 4}, 8, []uint32{0x04030201}},
		{[]uint8{0xab, 0xcd, 0xef, 0x12, 0x34}, 8, []uint32{0x12efcdab, 0x00000034}},
		{[]uint8{15, 14, 13}, 4, []uint32{0x00000def}},
	}
	for _, c := range cases {
		got := make([]uint32, len(c.want))
		PackLSB(got, c.codes, c.bits)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("PackLSB(%v, %d) = %#x, want %#x", c.codes, c.bits, got, c.want)
		}
		back := make([]uint8, len(c.codes))
		UnpackLSB(back, got, c.bits)
		if !reflect.DeepEqual(back, c.codes) {
			t.Errorf("UnpackLSB(%#x) = %v, want %v", got, back, c.codes)
		}
	}
}

// handQuantized is an 8 × 8 4-bit matrix with one group per row: code
// (r, c) = (r + c) mod 16, scale (r+1)/2, zero z(r).
func handQuantized(sym bool) *Quantized {
	s := Scheme{Bits: 4, GroupSize: 8, Sym: sym, ScaleDType: tensor.F16}
	q := &Quantized{Rows: 8, Cols: 8, Scheme: s, Codes: make([]uint8, 64), Scales: make([]float32, 8), Zeros: make([]uint8, 8)}
	for r := 0; r < 8; r++ {
		for c := 0; c < 8; c++ {
			q.Codes[r*8+c] = uint8((r + c) % 16)
		}
		q.Scales[r] = float32(r+1) / 2
		q.Zeros[r] = 8
		if !sym {
			q.Zeros[r] = uint8(r + 1)
		}
	}
	return q
}

// TestGPTQLayout checks GPTQ's tensors against hand-computed values:
// qweight [in/8, out] packs input features of each output column, qzeros
// [groups, out/8] packs zero−1 (v1) or zero (v2) along the output, scales
// F16 [groups, out], g_idx [in].
func TestGPTQLayout(t *testing.T) {
	q := handQuantized(true)
	g, err := EncodeGPTQ(q, false)
	if err != nil {
		t.Fatal(err)
	}
	wantQW := []uint32{0x76543210, 0x87654321, 0x98765432, 0xa9876543, 0xba987654, 0xcba98765, 0xdcba9876, 0xedcba987}
	if got := u32s(g.QWeight); !reflect.DeepEqual(got, wantQW) {
		t.Errorf("qweight = %#x, want %#x", got, wantQW)
	}
	if got := u32s(g.QZeros); !reflect.DeepEqual(got, []uint32{0x77777777}) {
		t.Errorf("v1 qzeros = %#x, want 0x77777777 (zero 8 stored as 7)", got)
	}
	wantScales := []uint16{0x3800, 0x3c00, 0x3e00, 0x4000, 0x4100, 0x4200, 0x4300, 0x4400}
	for j, w := range wantScales {
		if h := binary.LittleEndian.Uint16(g.Scales[2*j:]); h != w {
			t.Errorf("scales[0][%d] = %#04x, want %#04x", j, h, w)
		}
	}
	if got := u32s(g.GIdx); !reflect.DeepEqual(got, make([]uint32, 8)) {
		t.Errorf("g_idx = %v, want zeros", got)
	}
	qw, qz, sc, gi := GPTQShapes(8, 8, q.Scheme)
	if !reflect.DeepEqual([][]int64{qw, qz, sc, gi}, [][]int64{{1, 8}, {1, 1}, {1, 8}, {8}}) {
		t.Errorf("shapes %v %v %v %v", qw, qz, sc, gi)
	}
	back, err := DecodeGPTQ(8, 8, q.Scheme, false, g.QWeight, g.QZeros, g.Scales, tensor.F16, g.GIdx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, q) {
		t.Errorf("decode(encode(q)) differs:\n%+v\n%+v", back, q)
	}

	// Asymmetric zeros 1…8: v1 stores 0…7, v2 1…8.
	qa := handQuantized(false)
	for _, c := range []struct {
		v2   bool
		want uint32
	}{{false, 0x76543210}, {true, 0x87654321}} {
		g, err := EncodeGPTQ(qa, c.v2)
		if err != nil {
			t.Fatal(err)
		}
		if got := u32s(g.QZeros)[0]; got != c.want {
			t.Errorf("v2=%v qzeros = %#x, want %#x", c.v2, got, c.want)
		}
		back, err := DecodeGPTQ(8, 8, qa.Scheme, c.v2, g.QWeight, g.QZeros, g.Scales, tensor.F16, g.GIdx)
		if err != nil || !reflect.DeepEqual(back, qa) {
			t.Errorf("v2=%v round trip: err %v", c.v2, err)
		}
	}
	// v1 cannot store zero 0.
	qa.Zeros[3] = 0
	if _, err := EncodeGPTQ(qa, false); err == nil {
		t.Error("v1 accepted a zero point of 0")
	}
	// A scale that is not an F16 value is refused.
	q.Scales[2] = 0.1
	if _, err := EncodeGPTQ(q, false); err == nil {
		t.Error("GPTQ accepted a scale that F16 cannot hold")
	}
}

// TestPackedLayout checks compressed-tensors pack-quantized tensors:
// weight_packed [out, in/8] packs along the input, weight_zero_point
// [out/8, groups] along the output, weight_shape is I64 (out, in), codes
// are signed values + 8.
func TestPackedLayout(t *testing.T) {
	q := handQuantized(false)
	p, err := EncodePacked(q)
	if err != nil {
		t.Fatal(err)
	}
	wantPacked := []uint32{0x76543210, 0x87654321, 0x98765432, 0xa9876543, 0xba987654, 0xcba98765, 0xdcba9876, 0xedcba987}
	if got := u32s(p.Packed); !reflect.DeepEqual(got, wantPacked) {
		t.Errorf("weight_packed = %#x, want %#x", got, wantPacked)
	}
	if got := u32s(p.ZeroPoint); !reflect.DeepEqual(got, []uint32{0x87654321}) {
		t.Errorf("weight_zero_point = %#x, want 0x87654321 (zeros 1…8 down the rows)", got)
	}
	if r, c := binary.LittleEndian.Uint64(p.Shape), binary.LittleEndian.Uint64(p.Shape[8:]); r != 8 || c != 8 {
		t.Errorf("weight_shape = [%d, %d]", r, c)
	}
	pk, sc, zp, sh, _ := PackedShapes(8, 8, q.Scheme)
	if !reflect.DeepEqual([][]int64{pk, sc, zp, sh}, [][]int64{{8, 1}, {8, 1}, {1, 1}, {2}}) {
		t.Errorf("shapes %v %v %v %v", pk, sc, zp, sh)
	}
	back, err := DecodePacked(8, 8, q.Scheme, p.Packed, p.Scale, tensor.F16, p.ZeroPoint, nil)
	if err != nil || !reflect.DeepEqual(back, q) {
		t.Fatalf("round trip: %v", err)
	}
	// Signed view: code 0 is −8, code 15 is +7 (compressed-tensors' int4 range).
	qs := handQuantized(true)
	ps, err := EncodePacked(qs)
	if err != nil {
		t.Fatal(err)
	}
	if ps.ZeroPoint != nil {
		t.Error("symmetric layer wrote a zero point")
	}
	// 8-bit, padded: 5 columns need 2 words per row.
	q8 := &Quantized{Rows: 1, Cols: 5, Scheme: Scheme{Bits: 8, GroupSize: -1, Sym: true, ScaleDType: tensor.BF16},
		Codes: []uint8{0x80, 0x81, 0x7f, 0x00, 0xff}, Scales: []float32{0.5}, Zeros: []uint8{128}}
	p8, err := EncodePacked(q8)
	if err != nil {
		t.Fatal(err)
	}
	if got := u32s(p8.Packed); !reflect.DeepEqual(got, []uint32{0x007f8180, 0x000000ff}) {
		t.Errorf("8-bit weight_packed = %#x", got)
	}
	if h := binary.LittleEndian.Uint16(p8.Scale); h != 0x3f00 {
		t.Errorf("BF16 scale %#04x, want 0x3f00 (0.5)", h)
	}
}

// TestSchemeParams checks the grid: symmetric scale 2·amax/15 with zero 8,
// asymmetric (hi−lo)/15 with zero round(−lo/scale), F16 rounding of the
// scale first, codes clamped to [0, 15].
func TestSchemeParams(t *testing.T) {
	s := Scheme{Bits: 4, GroupSize: 128, Sym: true, ScaleDType: tensor.F16}
	sc, z, err := s.Params(-1.5, 0.75, 0)
	if err != nil || sc != tensor.F16ToF32(tensor.F32ToF16(0.2)) || z != 8 {
		t.Errorf("sym Params = %v, %d, %v", sc, z, err)
	}
	if c := s.Code(-1.5, sc, z); c != 0 {
		t.Errorf("code of −amax = %d, want 0", c)
	}
	if c := s.Code(1.5, sc, z); c != 15 {
		t.Errorf("code of +amax = %d, want 15 (clamped)", c)
	}
	a := Scheme{Bits: 4, GroupSize: 128, ScaleDType: tensor.F32}
	sc, z, _ = a.Params(-0.3, 1.2, 0)
	if sc != float32(1.5)/15 || z != 3 {
		t.Errorf("asym Params = %v, %d; want 0.1, 3", sc, z)
	}
	sc, z, _ = a.Params(0.2, 1.2, 0) // range widened to include 0: zero 0
	if z != 0 {
		t.Errorf("asym all-positive zero = %d, want 0", z)
	}
	if _, z, _ = a.Params(0.2, 1.2, 1); z != 1 {
		t.Errorf("minZero 1 gave zero %d", z)
	}
	if sc, z, _ = s.Params(0, 0, 0); sc != 1 || z != 8 {
		t.Errorf("all-zero group: %v, %d", sc, z)
	}
	if _, _, err := s.Params(-1e6, 1e6, 0); err == nil {
		t.Error("a scale beyond F16's range was accepted")
	}
}

// fakeSource is an in-memory Source.
type fakeSource map[string]struct {
	info safetensors.TensorInfo
	data []byte
}

func (f fakeSource) add(name string, d tensor.DType, shape []int64, data []byte) {
	f[name] = struct {
		info safetensors.TensorInfo
		data []byte
	}{safetensors.TensorInfo{Name: name, DType: d, Shape: shape}, data}
}

func (f fakeSource) Tensors() []safetensors.TensorInfo {
	var out []safetensors.TensorInfo
	for _, v := range f {
		out = append(out, v.info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (f fakeSource) Data(name string) ([]byte, error) {
	v, ok := f[name]
	if !ok {
		return nil, errors.New("no tensor " + name)
	}
	return v.data, nil
}

func gptqSource(q *Quantized) fakeSource {
	g, _ := EncodeGPTQ(q, false)
	qw, qz, sc, gi := GPTQShapes(q.Rows, q.Cols, q.Scheme)
	src := fakeSource{}
	src.add("m.qweight", tensor.I32, qw, g.QWeight)
	src.add("m.qzeros", tensor.I32, qz, g.QZeros)
	src.add("m.scales", tensor.F16, sc, g.Scales)
	src.add("m.g_idx", tensor.I32, gi, g.GIdx)
	src.add("m.bias", tensor.F16, []int64{int64(q.Rows)}, make([]byte, 2*q.Rows))
	src.add("other.weight", tensor.F32, []int64{2}, make([]byte, 8))
	return src
}

// TestViewGPTQ: the dense view replaces a GPTQ layer by one F32 tensor
// whose bytes are its dequantized weights, and keeps the rest.
func TestViewGPTQ(t *testing.T) {
	q := handQuantized(true)
	cfg := json.RawMessage(`{"quant_method":"gptq","bits":4,"group_size":8,"desc_act":false,"sym":true}`)
	v, err := NewView("config.json", gptqSource(q), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ti := range v.Tensors() {
		names = append(names, ti.Name+":"+ti.DType.String())
	}
	if want := []string{"m.bias:F16", "m.weight:F32", "other.weight:F32"}; !reflect.DeepEqual(names, want) {
		t.Errorf("tensors %v, want %v", names, want)
	}
	b, err := v.Data("m.weight")
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float32, 64)
	q.Dequantize(want)
	for i := range want {
		if got := math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:])); got != want[i] {
			t.Fatalf("element %d: %v, want %v", i, got, want[i])
		}
	}
	if w := want[1*8+1]; w != 1*float32(2-8) {
		t.Errorf("w[1][1] = %v, want 1·(2−8) = −6", w)
	}
}

// TestViewErrors: malformed or unsupported checkpoints give a FormatError
// naming the tensor or field, wrapping ErrUnsupported where lmc only lacks
// support.
func TestViewErrors(t *testing.T) {
	q := handQuantized(true)
	good := `{"quant_method":"gptq","bits":4,"group_size":8,"desc_act":false,"sym":true}`
	cases := []struct {
		name        string
		cfg         string
		edit        func(fakeSource)
		unsupported bool
	}{
		{"awq", `{"quant_method":"awq","bits":4}`, nil, true},
		{"bits3", `{"quant_method":"gptq","bits":3,"group_size":8}`, nil, true},
		{"missing group_size", `{"quant_method":"gptq","bits":4}`, nil, false},
		{"marlin", `{"quant_method":"gptq","bits":4,"group_size":8,"is_marlin_format":true}`, nil, true},
		{"bad json", `{"quant_method":"gptq","bits":"four","group_size":8}`, nil, false},
		{"missing qzeros", good, func(s fakeSource) { delete(s, "m.qzeros") }, false},
		{"scales shape", good, func(s fakeSource) { s.add("m.scales", tensor.F16, []int64{2, 8}, make([]byte, 32)) }, false},
		{"qweight dtype", good, func(s fakeSource) { s.add("m.qweight", tensor.F32, []int64{1, 8}, make([]byte, 32)) }, false},
		{"dense twin", good, func(s fakeSource) { s.add("m.weight", tensor.F16, []int64{8, 8}, make([]byte, 128)) }, false},
		{"group mismatch", `{"quant_method":"gptq","bits":4,"group_size":4,"sym":true}`, nil, false},
		{"no qweight", good, func(s fakeSource) { delete(s, "m.qweight") }, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := gptqSource(q)
			if c.edit != nil {
				c.edit(src)
			}
			_, err := NewView("config.json", src, json.RawMessage(c.cfg))
			var fe *FormatError
			if !errors.As(err, &fe) || !errors.Is(err, ErrFormat) {
				t.Fatalf("err = %v, want a *FormatError", err)
			}
			if errors.Is(err, ErrUnsupported) != c.unsupported {
				t.Errorf("err = %v: unsupported = %v, want %v", err, errors.Is(err, ErrUnsupported), c.unsupported)
			}
		})
	}
}

// TestViewCompressedTensors: pack-quantized (asymmetric, with weight_shape
// in I64 or I32), FP8 and NVFP4 layers, and the activation scales dropped.
func TestViewCompressedTensors(t *testing.T) {
	q := handQuantized(false)
	p, _ := EncodePacked(q)
	src := fakeSource{}
	pk, sc, zp, sh, _ := PackedShapes(8, 8, q.Scheme)
	src.add("a.weight_packed", tensor.I32, pk, p.Packed)
	src.add("a.weight_scale", tensor.F16, sc, p.Scale)
	src.add("a.weight_zero_point", tensor.I32, zp, p.ZeroPoint)
	src.add("a.weight_shape", tensor.I64, sh, p.Shape)
	src.add("a.input_scale", tensor.F32, []int64{1}, make([]byte, 4))
	cfg := json.RawMessage(`{"quant_method":"compressed-tensors","format":"pack-quantized","quantization_status":"compressed",
		"config_groups":{"group_0":{"targets":["Linear"],"weights":{"num_bits":4,"type":"int","symmetric":false,"group_size":8,"strategy":"group"}}},
		"ignore":["lm_head"]}`)
	v, err := NewView("config.json", src, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Tensors()) != 1 || v.Tensors()[0].Name != "a.weight" {
		t.Fatalf("tensors %v", v.Tensors())
	}
	back, err := v.Int("a.weight")
	if err != nil || !reflect.DeepEqual(back, q) {
		t.Fatalf("Int: %v", err)
	}
	// I32 weight_shape is accepted too.
	shape32 := make([]byte, 8)
	binary.LittleEndian.PutUint32(shape32, 8)
	binary.LittleEndian.PutUint32(shape32[4:], 8)
	src.add("a.weight_shape", tensor.I32, sh, shape32)
	if _, err := NewView("config.json", src, cfg); err != nil {
		t.Errorf("I32 weight_shape: %v", err)
	}
	// FP8 (per channel, BF16 scales) and NVFP4 layers of the same folder.
	w := make([]float32, 4*32)
	for i := range w {
		w[i] = float32(math.Sin(float64(i))) / 8
	}
	f8, _ := fp.QuantizeFP8(w, 4, 32, fp.PerChannel)
	sc8 := make([]byte, 8)
	for i, s := range f8.Scales {
		f8.Scales[i] = tensor.BF16ToF32(tensor.F32ToBF16(s))
		binary.LittleEndian.PutUint16(sc8[2*i:], tensor.F32ToBF16(s))
	}
	src.add("b.weight", tensor.F8E4M3, []int64{4, 32}, f8.Data)
	src.add("b.weight_scale", tensor.BF16, []int64{4, 1}, sc8)
	nv, _ := fp.QuantizeNVFP4(w, 4, 32)
	gs := make([]byte, 4)
	binary.LittleEndian.PutUint32(gs, math.Float32bits(nv.GlobalScale))
	src.add("c.weight_packed", tensor.U8, []int64{4, 16}, nv.Packed)
	src.add("c.weight_scale", tensor.F8E4M3, []int64{4, 2}, nv.Scales)
	src.add("c.weight_global_scale", tensor.F32, []int64{1}, gs)
	mixed := json.RawMessage(`{"quant_method":"compressed-tensors","format":"mixed-precision","config_groups":{
		"group_0":{"targets":["re:a$"],"format":"pack-quantized","weights":{"num_bits":4,"type":"int","symmetric":false,"group_size":8,"strategy":"group"}},
		"group_1":{"targets":["b"],"format":"float-quantized","weights":{"num_bits":8,"type":"float","symmetric":true,"strategy":"channel"}},
		"group_2":{"targets":["Linear"],"format":"nvfp4-pack-quantized","weights":{"num_bits":4,"type":"float","symmetric":true,"group_size":16,"strategy":"tensor_group"}}}}`)
	v, err = NewView("config.json", src, mixed)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for n, l := range v.Layers {
		kinds[n] = l.Kind
	}
	if want := map[string]string{"a.weight": KindInt, "b.weight": KindFP8, "c.weight": KindNVFP4}; !reflect.DeepEqual(kinds, want) {
		t.Fatalf("layers %v, want %v", kinds, want)
	}
	for _, c := range []struct {
		name string
		want func([]float32)
	}{{"b.weight", f8.Dequantize}, {"c.weight", nv.Dequantize}} {
		got, err := v.Dequantize(c.name)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]float32, len(got))
		c.want(want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s dequantizes differently", c.name)
		}
	}
	// Missing zero point for an asymmetric layer.
	delete(src, "a.weight_zero_point")
	var fe *FormatError
	if _, err := NewView("config.json", src, mixed); !errors.As(err, &fe) || fe.Tensor != "a.weight_zero_point" {
		t.Errorf("missing zero point: %v", err)
	}
}
