package safetensors

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/lmc-project/lmc/internal/shared"
	"github.com/lmc-project/lmc/tensor"
)

const (
	books5MF32  = "models/books5M/hf/model.safetensors"
	books5MBF16 = "models/books5M/hf-bf16/model.safetensors"
)

// books5MParams is the parameter count from books5M's README.
const books5MParams = 4_984_064

func TestRealFiles(t *testing.T) {
	for _, tc := range []struct {
		rel   string
		dtype tensor.DType
	}{
		{books5MF32, tensor.F32},
		{books5MBF16, tensor.BF16},
	} {
		t.Run(tc.dtype.String(), func(t *testing.T) {
			path := shared.Path(t, tc.rel)
			f, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if !f.Mapped() {
				t.Error("Open did not map the file")
			}
			if len(f.Tensors) != 57 {
				t.Errorf("%d tensors, want 57", len(f.Tensors))
			}
			if want := map[string]string{"format": "pt"}; !mapsEqual(f.Metadata, want) {
				t.Errorf("metadata %v, want %v", f.Metadata, want)
			}
			var params int64
			for _, ti := range f.Tensors {
				if ti.DType != tc.dtype {
					t.Errorf("%s: dtype %v, want %v", ti.Name, ti.DType, tc.dtype)
				}
				params += ti.NumElements()
			}
			if params != books5MParams {
				t.Errorf("%d parameters, want %d", params, books5MParams)
			}
			shapes := map[string][]int64{
				"lm_head.weight":                                 {512, 256},
				"model.embed_tokens.weight":                      {512, 256},
				"model.norm.weight":                              {256},
				"model.layers.0.self_attn.q_proj.weight":         {256, 256},
				"model.layers.3.self_attn.k_proj.weight":         {128, 256},
				"model.layers.5.self_attn.v_proj.weight":         {128, 256},
				"model.layers.2.mlp.down_proj.weight":            {256, 768},
				"model.layers.4.mlp.gate_proj.weight":            {768, 256},
				"model.layers.1.post_attention_layernorm.weight": {256},
			}
			for name, want := range shapes {
				ti, ok := f.Tensor(name)
				if !ok {
					t.Errorf("missing tensor %s", name)
					continue
				}
				if !slices.Equal(ti.Shape, want) {
					t.Errorf("%s: shape %v, want %v", name, ti.Shape, want)
				}
				d, err := f.Data(name)
				if err != nil {
					t.Fatal(err)
				}
				if int64(len(d)) != ti.NumBytes() || cap(d) != len(d) {
					t.Errorf("%s: len %d cap %d, want %d", name, len(d), cap(d), ti.NumBytes())
				}
			}
			// Norm weights of a trained Llama are near 1, not garbage.
			if tc.dtype == tensor.F32 {
				d, _ := f.Data("model.norm.weight")
				v := math.Float32frombits(binary.LittleEndian.Uint32(d))
				if v < 0.01 || v > 10 {
					t.Errorf("model.norm.weight[0] = %v, implausible", v)
				}
			}
		})
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// bf16RNE rounds a float32 (as bits) to bfloat16, round-to-nearest-even,
// quieting NaNs: the test's own reference, independent of package tensor.
func bf16RNE(f uint32) uint16 {
	if f&0x7fffffff > 0x7f800000 {
		return uint16(f>>16) | 0x40
	}
	return uint16((f + 0x7fff + (f>>16)&1) >> 16)
}

func TestBF16IsRoundedF32(t *testing.T) {
	f32, err := Open(shared.Path(t, books5MF32))
	if err != nil {
		t.Fatal(err)
	}
	defer f32.Close()
	bf, err := Open(shared.Path(t, books5MBF16))
	if err != nil {
		t.Fatal(err)
	}
	defer bf.Close()
	if len(f32.Tensors) != len(bf.Tensors) {
		t.Fatalf("%d vs %d tensors", len(f32.Tensors), len(bf.Tensors))
	}
	for _, ti := range f32.Tensors {
		bi, ok := bf.Tensor(ti.Name)
		if !ok || !slices.Equal(bi.Shape, ti.Shape) {
			t.Fatalf("%s: BF16 file has %v, %v", ti.Name, bi.Shape, ok)
		}
		a, _ := f32.Data(ti.Name)
		b, _ := bf.Data(ti.Name)
		if len(a) != 2*len(b) {
			t.Fatalf("%s: %d F32 bytes vs %d BF16 bytes", ti.Name, len(a), len(b))
		}
		for i := 0; i < len(b)/2; i++ {
			want := bf16RNE(binary.LittleEndian.Uint32(a[4*i:]))
			if got := binary.LittleEndian.Uint16(b[2*i:]); got != want {
				t.Fatalf("%s[%d]: BF16 %#04x, want RNE(%#08x) = %#04x", ti.Name, i, got, binary.LittleEndian.Uint32(a[4*i:]), want)
			}
		}
	}
}

func TestBF16RNEReference(t *testing.T) {
	for _, c := range []struct {
		in   uint32
		want uint16
	}{
		{0x3f800000, 0x3f80}, // 1.0
		{0x3f808000, 0x3f80}, // tie, even stays
		{0x3f818000, 0x3f82}, // tie, odd rounds up
		{0x3f808001, 0x3f81}, // above tie
		{0x7f7fffff, 0x7f80}, // max float rounds to +Inf
		{0x7fc00001, 0x7fc0}, // NaN stays NaN
		{0x7f800001, 0x7fc0}, // signalling NaN quieted, not turned into Inf
	} {
		if got := bf16RNE(c.in); got != c.want {
			t.Errorf("bf16RNE(%#x) = %#x, want %#x", c.in, got, c.want)
		}
	}
}

// rewrite reads f and writes it back through Writer into w.
func rewrite(t testing.TB, f *File, w io.Writer) {
	t.Helper()
	sw, err := NewWriter(w, f.Metadata, f.Tensors)
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range f.Tensors {
		d, err := f.Data(ti.Name)
		if err != nil {
			t.Fatal(err)
		}
		if err := sw.WriteTensor(ti.Name, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestRoundTripRealFiles: the real files were written in the canonical style
// (compact JSON, __metadata__ first, tensors sorted by name = by offset,
// space padding to 8), so read → write must reproduce them byte for byte.
func TestRoundTripRealFiles(t *testing.T) {
	for _, rel := range []string{books5MF32, books5MBF16} {
		t.Run(filepath.Base(filepath.Dir(rel)), func(t *testing.T) {
			path := shared.Path(t, rel)
			f, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			h := sha256.New()
			cw := &countWriter{w: h}
			rewrite(t, f, cw)
			orig, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if cw.n != int64(len(orig)) {
				t.Fatalf("rewritten %d bytes, original %d", cw.n, len(orig))
			}
			if sum := sha256.Sum256(orig); !bytes.Equal(h.Sum(nil), sum[:]) {
				t.Fatal("rewritten file differs from the original")
			}
		})
	}
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// TestOpenFallback forces the ReadAt path and compares it with the mapped one.
func TestOpenFallback(t *testing.T) {
	path := writeTemp(t, testTensors(), map[string]string{"k": "v"})
	mapped, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer mapped.Close()
	defer func(h func(*os.File, int64) ([]byte, error)) { mmapHook = h }(mmapHook)
	mmapHook = func(*os.File, int64) ([]byte, error) { return nil, errors.New("no mmap here") }
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Mapped() || !mapped.Mapped() {
		t.Fatalf("Mapped() = %v (fallback), %v (mmap)", f.Mapped(), mapped.Mapped())
	}
	for _, ti := range mapped.Tensors {
		want, _ := mapped.Data(ti.Name)
		got, err := f.Data(ti.Name)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: fallback Data = %v, %v", ti.Name, got, err)
		}
		sec, err := f.Section(ti.Name)
		if err != nil {
			t.Fatal(err)
		}
		got, err = io.ReadAll(sec)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: fallback Section = %v, %v", ti.Name, got, err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Data("a"); !errors.Is(err, ErrClosed) {
		t.Errorf("Data after Close: %v, want ErrClosed", err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	// A hostile file takes the same checks on the fallback path.
	if _, err := Open(filepath.Join("testdata", "hostile", "overlap.safetensors")); !errors.Is(err, ErrFormat) {
		t.Errorf("fallback Open of a hostile file: %v", err)
	}
}

func TestAccessors(t *testing.T) {
	path := writeTemp(t, testTensors(), nil)
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Metadata != nil {
		t.Errorf("Metadata = %v, want nil", f.Metadata)
	}
	if _, ok := f.Tensor("nope"); ok {
		t.Error("Tensor(nope) found")
	}
	if _, err := f.Data("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Data(nope) = %v, want ErrNotFound", err)
	}
	if _, err := f.Section("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Section(nope) = %v, want ErrNotFound", err)
	}
	for i, ti := range f.Tensors {
		d, err := f.Data(ti.Name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(d, testData(i, ti)) {
			t.Errorf("%s: data differs", ti.Name)
		}
		if i > 0 && ti.Begin != f.Tensors[i-1].End {
			t.Errorf("%s: tensors not in offset order", ti.Name)
		}
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing.safetensors")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open(missing) = %v", err)
	}
}

// TestHeaderOrderIndependent: a header listing tensors in another order than
// their offsets parses to the same (offset-sorted) tensors.
func TestHeaderOrderIndependent(t *testing.T) {
	data := st(`{"b":{"dtype":"U8","shape":[2],"data_offsets":[2,4]},"__metadata__":{"x":"y"},"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"z":{"dtype":"F16","shape":[0],"data_offsets":[4,4]},"e":{"dtype":"F16","shape":[],"data_offsets":[4,6]}}`, []byte{1, 2, 3, 4, 5, 6})
	f, err := FromBytes("order", data)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ti := range f.Tensors {
		names = append(names, ti.Name)
	}
	if want := []string{"a", "b", "z", "e"}; !slices.Equal(names, want) {
		t.Errorf("order %v, want %v", names, want)
	}
	if e, _ := f.Tensor("e"); e.NumElements() != 1 || len(e.Shape) != 0 {
		t.Errorf("scalar e = %+v", e)
	}
	if d, _ := f.Data("b"); !bytes.Equal(d, []byte{3, 4}) {
		t.Errorf("b = %v", d)
	}
}

// TestRustCompatibleAccepts covers inputs the Rust reader accepts.
func TestRustCompatibleAccepts(t *testing.T) {
	for _, c := range []struct {
		name, header string
		data         []byte
		meta         map[string]string
	}{
		{"null metadata", `{"__metadata__":null}`, nil, nil},
		{"unknown field ignored", `{"a":{"dtype":"I8","extra":{"x":[1,[2]]},"shape":[1],"data_offsets":[0,1]}}`, []byte{7}, nil},
		{"whitespace", "{ \"a\" : {\"dtype\":\"BOOL\" ,\"shape\":[ 1 ],\"data_offsets\":[0,1]}\n}\t\r\n", []byte{1}, nil},
		{"empty metadata", `{"__metadata__":{}}`, nil, map[string]string{}},
		{"escaped name", `{"a\u00e9\"\\":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, []byte{1}, nil},
		{"zero-size tensors share offsets", `{"a":{"dtype":"F32","shape":[0,3],"data_offsets":[0,0]},"b":{"dtype":"F32","shape":[3,0],"data_offsets":[0,0]}}`, nil, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, err := FromBytes(c.name, st(c.header, c.data))
			if err != nil {
				t.Fatal(err)
			}
			if !mapsEqual(f.Metadata, c.meta) || (f.Metadata == nil) != (c.meta == nil) {
				t.Errorf("metadata %#v, want %#v", f.Metadata, c.meta)
			}
		})
	}
}

func TestDTypes(t *testing.T) {
	for _, name := range []string{"F32", "F16", "BF16", "F64", "F8_E4M3", "F8_E5M2", "I8", "I16", "I32", "I64", "U8", "U16", "U32", "U64", "BOOL"} {
		d, ok := parseDType(name)
		if !ok || d.String() != name {
			t.Errorf("parseDType(%q) = %v, %v", name, d, ok)
		}
	}
	for _, name := range []string{"", "f32", "FP32", "FLOAT", "INVALID", "F4", "F8_E4M3FN"} {
		if d, ok := parseDType(name); ok {
			t.Errorf("parseDType(%q) = %v, want rejection", name, d)
		}
	}
}
