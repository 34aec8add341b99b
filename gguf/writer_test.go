package gguf_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/lmc-project/lmc/gguf"
)

// synthKVs has every value type, empty and nested arrays, and a key that
// lmc knows nothing about.
func synthKVs() []gguf.KV {
	return []gguf.KV{
		{"general.architecture", gguf.String("llama")},
		{"general.alignment", gguf.Uint32(64)},
		{"test.u8", gguf.Uint8(0xfe)},
		{"test.i8", gguf.Int8(-7)},
		{"test.u16", gguf.Uint16(0xbeef)},
		{"test.i16", gguf.Int16(-30000)},
		{"test.u32", gguf.Uint32(0xdeadbeef)},
		{"test.i32", gguf.Int32(-2000000000)},
		{"test.f32", gguf.Float32(-1.5e-7)},
		{"test.bool.true", gguf.Bool(true)},
		{"test.bool.false", gguf.Bool(false)},
		{"test.str", gguf.String("héllo, 世界\n")},
		{"test.str.empty", gguf.String("")},
		{"test.u64", gguf.Uint64(math.MaxUint64)},
		{"test.i64", gguf.Int64(math.MinInt64)},
		{"test.f64", gguf.Float64(math.Pi)},
		{"test.arr.u8", gguf.Uint8s([]uint8{0, 1, 255})},
		{"test.arr.i8", gguf.Int8s([]int8{-128, 127})},
		{"test.arr.u16", gguf.Uint16s([]uint16{1, 65535})},
		{"test.arr.i16", gguf.Int16s([]int16{-1, 2})},
		{"test.arr.u32", gguf.Uint32s([]uint32{3, 4, 5})},
		{"test.arr.i32", gguf.Int32s([]int32{-3, 4})},
		{"test.arr.f32", gguf.Float32s([]float32{0.5, float32(math.Inf(-1))})},
		{"test.arr.bool", gguf.Bools([]bool{true, false, true})},
		{"test.arr.str", gguf.Strings([]string{"a", "", "<0x0A>", "▁the"})},
		{"test.arr.u64", gguf.Uint64s([]uint64{1 << 40})},
		{"test.arr.i64", gguf.Int64s([]int64{-1 << 40})},
		{"test.arr.f64", gguf.Float64s([]float64{1e300, -0.0})},
		{"test.arr.empty", gguf.Float32s([]float32{})},
		{"test.arr.nested", gguf.Arrays(
			gguf.Strings([]string{"x", "y"}),
			gguf.Arrays(gguf.Int32s([]int32{1, 2}), gguf.Uint8s([]uint8{})),
			gguf.Arrays(),
		)},
		{"some.unknown.key", gguf.String("kept as is")},
	}
}

type synthTensor struct {
	gguf.TensorInfo
	data []byte
}

func synthTensors() []synthTensor {
	specs := []gguf.TensorInfo{
		{Name: "token_embd.weight", Shape: []uint64{8, 3}, Type: gguf.TypeF32},
		{Name: "blk.0.attn_q.weight", Shape: []uint64{256, 2}, Type: gguf.TypeQ4_K},
		{Name: "blk.0.ffn_down.weight", Shape: []uint64{64, 1, 1, 2}, Type: gguf.TypeQ8_0},
		{Name: "scalar", Shape: []uint64{1}, Type: gguf.TypeF16},
		{Name: "empty", Shape: []uint64{0, 5}, Type: gguf.TypeBF16},
		{Name: "output.weight", Shape: []uint64{33}, Type: gguf.TypeI8},
	}
	ts := make([]synthTensor, len(specs))
	for i, s := range specs {
		d := make([]byte, s.Size())
		for j := range d {
			d[j] = byte(i*31 + j*7 + 1)
		}
		ts[i] = synthTensor{s, d}
	}
	return ts
}

func writeSynth(tb testing.TB, version uint32) []byte {
	tb.Helper()
	ts := synthTensors()
	infos := make([]gguf.TensorInfo, len(ts))
	for i, t := range ts {
		infos[i] = t.TensorInfo
	}
	var buf bytes.Buffer
	w, err := gguf.NewWriter(&buf, synthKVs(), infos, 0)
	if err != nil {
		tb.Fatal(err)
	}
	for _, t := range ts {
		if err := w.WriteTensor(t.Name, t.data); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	b := buf.Bytes()
	binary.LittleEndian.PutUint32(b[4:], version)
	return b
}

func checkSynth(t *testing.T, f *gguf.File) {
	t.Helper()
	if !reflect.DeepEqual(f.KVs, synthKVs()) {
		for i, kv := range f.KVs {
			if want := synthKVs()[i]; !reflect.DeepEqual(kv, want) {
				t.Errorf("KV %d: got %#v, want %#v", i, kv, want)
			}
		}
		t.Fatalf("KVs differ")
	}
	if f.Alignment != 64 || f.DataOffset%64 != 0 {
		t.Errorf("alignment %d, data offset %d; want 64-aligned", f.Alignment, f.DataOffset)
	}
	ts := synthTensors()
	if len(f.Tensors) != len(ts) {
		t.Fatalf("%d tensors, want %d", len(f.Tensors), len(ts))
	}
	var off uint64
	for i, want := range ts {
		got := f.Tensors[i]
		if got.Name != want.Name || got.Type != want.Type || len(got.Shape) != len(want.Shape) ||
			(len(want.Shape) > 0 && !reflect.DeepEqual(got.Shape, want.Shape)) {
			t.Errorf("tensor %d: got %+v, want %+v", i, got, want.TensorInfo)
		}
		if got.Offset != off {
			t.Errorf("tensor %s: offset %d, want %d", got.Name, got.Offset, off)
		}
		off += (want.Size() + 63) / 64 * 64
		d, err := f.Data(got.Name)
		if err != nil || !bytes.Equal(d, want.data) {
			t.Errorf("tensor %s: data differs (err %v)", got.Name, err)
		}
	}
	if f.Size != f.DataOffset+int64(off) {
		t.Errorf("file size %d, want data offset %d + %d (last tensor padded)", f.Size, f.DataOffset, off)
	}
}

func TestWriterSynthetic(t *testing.T) {
	b := writeSynth(t, 3)
	f, err := gguf.ParseBytes("synth.gguf", b)
	if err != nil {
		t.Fatal(err)
	}
	if f.Version != 3 {
		t.Errorf("version %d", f.Version)
	}
	checkSynth(t, f)

	// Byte-identical after a second round.
	var again bytes.Buffer
	if err := rewrite(f, &again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Bytes(), b) {
		t.Errorf("rewrite of the synthetic file differs")
	}

	// gguf-parser-go reads the same thing.
	path := filepath.Join(t.TempDir(), "synth.gguf")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := crossCheck(path, f); err != nil {
		t.Error(err)
	}
}

// TestVersion2 covers GGUF v2, which has the layout of v3. No file in the
// shared data is v2 (all vocab files are v3), so a v3 file is relabelled.
func TestVersion2(t *testing.T) {
	b := writeSynth(t, 2)
	f, err := gguf.ParseBytes("synth-v2.gguf", b)
	if err != nil {
		t.Fatal(err)
	}
	if f.Version != 2 {
		t.Errorf("version %d, want 2", f.Version)
	}
	checkSynth(t, f)
	path := filepath.Join(t.TempDir(), "synth-v2.gguf")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := crossCheck(path, f); err != nil {
		t.Error(err)
	}
	// Rewriting a v2 file gives v3 with the same content.
	var v3 bytes.Buffer
	if err := rewrite(f, &v3); err != nil {
		t.Fatal(err)
	}
	g, err := gguf.ParseBytes("rewritten.gguf", v3.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if g.Version != 3 {
		t.Errorf("rewritten version %d, want 3", g.Version)
	}
	checkSynth(t, g)
	if !bytes.Equal(v3.Bytes()[8:], b[8:]) {
		t.Errorf("v2 → v3 rewrite changed more than the version field")
	}
}

func TestWriterNoTensors(t *testing.T) {
	var buf bytes.Buffer
	w, err := gguf.NewWriter(&buf, []gguf.KV{{"general.architecture", gguf.String("llama")}}, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// magic, version, counts, key, type, value: no padding without tensors.
	if want := 4 + 4 + 8 + 8 + (8 + 20) + 4 + (8 + 5); buf.Len() != want {
		t.Errorf("file of %d bytes, want %d (no padding)", buf.Len(), want)
	}
	if _, err := gguf.ParseBytes("vocab.gguf", buf.Bytes()); err != nil {
		t.Error(err)
	}
}

// TestZeroDims: gguf.cpp accepts n_dims = 0 (a one-element tensor), though
// its writer never produces it and gguf-parser-go refuses it.
func TestZeroDims(t *testing.T) {
	var buf bytes.Buffer
	w, err := gguf.NewWriter(&buf, nil, []gguf.TensorInfo{{Name: "s", Type: gguf.TypeF32}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteTensor("s", []byte{1, 2, 3, 4}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.ParseBytes("scalar.gguf", buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	ti := f.Tensors[0]
	if len(ti.Shape) != 0 || ti.NumElements() != 1 || ti.Size() != 4 {
		t.Errorf("got %+v with %d elements, %d bytes; want no dims, 1 element, 4 bytes", ti, ti.NumElements(), ti.Size())
	}
}

func TestWriterStream(t *testing.T) {
	ts := synthTensors()
	infos := []gguf.TensorInfo{ts[0].TensorInfo, ts[1].TensorInfo}
	var buf bytes.Buffer
	w, err := gguf.NewWriter(&buf, nil, infos, 32)
	if err != nil {
		t.Fatal(err)
	}
	if got := w.Tensors()[1].Offset; got != 96 {
		t.Errorf("second offset %d, want 96", got)
	}
	if err := w.WriteTensorFrom(ts[0].Name, bytes.NewReader(ts[0].data)); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteTensorFrom(ts[1].Name, bytes.NewReader(ts[1].data[:10])); err == nil {
		t.Fatal("short reader accepted")
	}
	if err := w.Close(); err == nil {
		t.Error("Close after a failed write succeeded")
	}
}

func TestWriterErrors(t *testing.T) {
	f32 := func(name string, shape ...uint64) gguf.TensorInfo {
		return gguf.TensorInfo{Name: name, Shape: shape, Type: gguf.TypeF32}
	}
	tests := []struct {
		name    string
		kvs     []gguf.KV
		tensors []gguf.TensorInfo
		align   int
		want    string
	}{
		{"duplicate key", []gguf.KV{{"a", gguf.Uint8(1)}, {"a", gguf.Uint8(2)}}, nil, 0, "duplicate key"},
		{"empty key", []gguf.KV{{"", gguf.Uint8(1)}}, nil, 0, "empty key"},
		{"long key", []gguf.KV{{strings.Repeat("k", 65536), gguf.Uint8(1)}}, nil, 0, "exceeds 65535"},
		{"non-utf8 key", []gguf.KV{{"a\xff", gguf.Uint8(1)}}, nil, 0, "UTF-8"},
		{"non-utf8 string", []gguf.KV{{"a", gguf.String("\xc3")}}, nil, 0, "UTF-8"},
		{"non-utf8 array string", []gguf.KV{{"a", gguf.Strings([]string{"ok", "\xc3"})}}, nil, 0, "element 1"},
		{"type mismatch", []gguf.KV{{"a", gguf.Value{Type: gguf.ValueUint32, V: int32(1)}}}, nil, 0, "holds a Go int32"},
		{"array type mismatch", []gguf.KV{{"a", gguf.Value{Type: gguf.ValueArray,
			V: gguf.Array{Elem: gguf.ValueUint8, V: []int8{1}}}}}, nil, 0, "holds a Go []int8"},
		{"unknown value type", []gguf.KV{{"a", gguf.Value{Type: 13, V: 1}}}, nil, 0, "unknown value type"},
		{"too deep", []gguf.KV{{"a", deepArray(9)}}, nil, 0, "nested deeper"},
		{"alignment not pow2", nil, nil, 48, "not a power of two"},
		{"alignment without key", nil, nil, 64, "needs a general.alignment"},
		{"alignment conflict", []gguf.KV{{"general.alignment", gguf.Uint32(64)}}, nil, 128, "conflicts"},
		{"alignment key type", []gguf.KV{{"general.alignment", gguf.Uint64(64)}}, nil, 0, "must be a u32"},
		{"alignment key zero", []gguf.KV{{"general.alignment", gguf.Uint32(0)}}, nil, 0, "not a power of two"},
		{"duplicate tensor", nil, []gguf.TensorInfo{f32("t", 1), f32("t", 2)}, 0, "duplicate tensor"},
		{"long name", nil, []gguf.TensorInfo{f32(strings.Repeat("n", 64), 1)}, 0, "exceeds 63"},
		{"non-utf8 name", nil, []gguf.TensorInfo{f32("\xff", 1)}, 0, "UTF-8"},
		{"five dims", nil, []gguf.TensorInfo{f32("t", 1, 1, 1, 1, 1)}, 0, "5 dimensions"},
		{"unknown type", nil, []gguf.TensorInfo{{Name: "t", Shape: []uint64{32}, Type: 4}}, 0, "unknown ggml type id 4"},
		{"row not multiple", nil, []gguf.TensorInfo{{Name: "t", Shape: []uint64{100}, Type: gguf.TypeQ4_K}}, 0, "not a multiple"},
		{"overflow", nil, []gguf.TensorInfo{f32("t", 1<<40, 1<<40)}, 0, "overflows"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := gguf.NewWriter(io.Discard, tc.kvs, tc.tensors, tc.align)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewWriter error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func deepArray(depth int) gguf.Value {
	v := gguf.Uint8s([]uint8{1})
	for range depth - 1 {
		v = gguf.Arrays(v)
	}
	return v
}

func TestWriterDepthLimit(t *testing.T) {
	// The deepest array the reader accepts is also the deepest the writer
	// accepts, and it round-trips.
	kvs := []gguf.KV{{"a", deepArray(gguf.MaxArrayDepth)}}
	var buf bytes.Buffer
	w, err := gguf.NewWriter(&buf, kvs, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.ParseBytes("deep.gguf", buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.KVs, kvs) {
		t.Errorf("deep array changed: %v", f.KVs[0].Value)
	}
}

func TestWriterOrder(t *testing.T) {
	ts := synthTensors()[:2]
	infos := []gguf.TensorInfo{ts[0].TensorInfo, ts[1].TensorInfo}
	w, err := gguf.NewWriter(io.Discard, nil, infos, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteTensor(ts[1].Name, ts[1].data); err == nil || !strings.Contains(err.Error(), "out of order") {
		t.Errorf("out-of-order write: %v", err)
	}
	if err := w.WriteTensor(ts[0].Name, ts[0].data[1:]); err == nil || !strings.Contains(err.Error(), "want 96") {
		t.Errorf("short write: %v", err)
	}
	if err := w.WriteTensor(ts[0].Name, ts[0].data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err == nil || !strings.Contains(err.Error(), "unwritten") {
		t.Errorf("Close with a missing tensor: %v", err)
	}
	if err := w.WriteTensor(ts[1].Name, ts[1].data); err == nil {
		t.Errorf("write after Close succeeded")
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n -= len(p); f.n < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestWriterIOError(t *testing.T) {
	ts := synthTensors()
	infos := make([]gguf.TensorInfo, len(ts))
	for i, t := range ts {
		infos[i] = t.TensorInfo
	}
	// The header fits in the writer's buffer; the failure shows at Close.
	w, err := gguf.NewWriter(&failWriter{n: 100}, synthKVs(), infos, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, t := range ts {
		w.WriteTensor(t.Name, t.data)
	}
	if err := w.Close(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Close: %v, want disk full", err)
	}
}
