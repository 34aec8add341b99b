package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/lmc-project/lmc/tensor"
)

func f32bytes(vs ...float32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// TestWriterMatchesRust checks the writer against the byte vectors of the
// Rust reference implementation's serialization tests (tensor.rs).
func TestWriterMatchesRust(t *testing.T) {
	six := f32bytes(0, 1, 2, 3, 4, 5)
	for _, c := range []struct {
		name    string
		meta    map[string]string
		tensors []TensorInfo
		data    [][]byte
		want    []byte
	}{
		{"empty", nil, nil, nil,
			[]byte{8, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' ', ' ', ' ', ' ', ' '}},
		{"empty with metadata", map[string]string{"framework": "pt"}, nil, nil,
			append([]byte{40, 0, 0, 0, 0, 0, 0, 0}, `{"__metadata__":{"framework":"pt"}}     `...)},
		{"attn.0 needs no padding", nil, []TensorInfo{{Name: "attn.0", DType: tensor.F32, Shape: []int64{1, 2, 3}}}, [][]byte{six},
			append(append([]byte{64, 0, 0, 0, 0, 0, 0, 0}, `{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}`...), six...)},
		{"attn0 padded by 7", nil, []TensorInfo{{Name: "attn0", DType: tensor.F32, Shape: []int64{1, 1, 2, 3}}}, [][]byte{six},
			append(append([]byte{72, 0, 0, 0, 0, 0, 0, 0}, `{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       `...), six...)},
	} {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := NewWriter(&buf, c.meta, c.tensors)
			if err != nil {
				t.Fatal(err)
			}
			for i, ti := range c.tensors {
				if err := w.WriteTensor(ti.Name, c.data[i]); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), c.want) {
				t.Errorf("got\n%q\nwant\n%q", buf.Bytes(), c.want)
			}
			if w.Size() != int64(len(c.want)) {
				t.Errorf("Size() = %d, want %d", w.Size(), len(c.want))
			}
			if _, err := FromBytes(c.name, buf.Bytes()); err != nil {
				t.Errorf("reparse: %v", err)
			}
		})
	}
}

// TestWriterEscapes: names and metadata are escaped like serde_json (only
// quote, backslash and control characters) and read back unchanged.
func TestWriterEscapes(t *testing.T) {
	name := "a\"b\\c\n\t\x01é<&>\u2028"
	meta := map[string]string{"z": "1", "a\x7f": "\"quoted\"", "m": ""}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, meta, []TensorInfo{{Name: name, DType: tensor.U8, Shape: []int64{1}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteTensor(name, []byte{9}); err != nil {
		t.Fatal(err)
	}
	hdr := buf.String()[8:]
	for _, want := range []string{
		`{"__metadata__":{"a` + "\x7f" + `":"\"quoted\"","m":"","z":"1"},`,
		`"a\"b\\c\n\t\u0001é<&>` + "\u2028" + `":{"dtype":"U8"`,
	} {
		if !strings.Contains(hdr, want) {
			t.Errorf("header %q lacks %q", hdr, want)
		}
	}
	f, err := FromBytes("escapes", buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.Tensor(name); !ok || !mapsEqual(f.Metadata, meta) {
		t.Errorf("read back %+v, metadata %q", f.Tensors, f.Metadata)
	}
}

type failWriter struct{ after int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.after <= 0 {
		return 0, errors.New("disk full")
	}
	f.after--
	return len(p), nil
}

func TestWriterErrors(t *testing.T) {
	good := []TensorInfo{{Name: "a", DType: tensor.F32, Shape: []int64{2}}, {Name: "b", DType: tensor.U8, Shape: []int64{3}}}
	for _, c := range []struct {
		name    string
		tensors []TensorInfo
		meta    map[string]string
		want    string
	}{
		{"duplicate", []TensorInfo{good[0], good[0]}, nil, `duplicate tensor name "a"`},
		{"reserved", []TensorInfo{{Name: "__metadata__", DType: tensor.U8, Shape: []int64{1}}}, nil, "reserved"},
		{"invalid dtype", []TensorInfo{{Name: "x", Shape: []int64{1}}}, nil, "invalid dtype"},
		{"out-of-table dtype", []TensorInfo{{Name: "x", DType: 200, Shape: []int64{1}}}, nil, "invalid dtype"},
		{"negative dim", []TensorInfo{{Name: "x", DType: tensor.U8, Shape: []int64{-2}}}, nil, "negative dimension"},
		{"overflow", []TensorInfo{{Name: "x", DType: tensor.F32, Shape: []int64{1 << 60, 16}}}, nil, "overflows int64"},
		{"total overflow", []TensorInfo{{Name: "x", DType: tensor.U8, Shape: []int64{math.MaxInt64}}, {Name: "y", DType: tensor.U8, Shape: []int64{1}}}, nil, "data section size overflows"},
		{"bad utf8 name", []TensorInfo{{Name: "\xff", DType: tensor.U8, Shape: []int64{1}}}, nil, "not valid UTF-8"},
		{"bad utf8 metadata", good, map[string]string{"k": "\xc3"}, "valid UTF-8"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			_, err := NewWriter(&buf, c.meta, c.tensors)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("NewWriter error %v, want %q", err, c.want)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes despite the error", buf.Len())
			}
		})
	}

	var buf bytes.Buffer
	w, err := NewWriter(&buf, nil, good)
	if err != nil {
		t.Fatal(err)
	}
	if got := w.Tensors(); got[1].Begin != 8 || got[1].End != 11 {
		t.Errorf("offsets %+v", got)
	}
	if err := w.WriteTensor("b", make([]byte, 3)); err == nil || !strings.Contains(err.Error(), `expected tensor "a"`) {
		t.Errorf("out of order: %v", err)
	}
	if err := w.WriteTensor("a", make([]byte, 7)); err == nil || !strings.Contains(err.Error(), "got 7 bytes") {
		t.Errorf("short data: %v", err)
	}
	if err := w.WriteTensor("a", make([]byte, 8)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); !errors.Is(err, errIncomplete) || !strings.Contains(err.Error(), `"b"`) {
		t.Errorf("Close with a tensor missing: %v", err)
	}
	if err := w.WriteTensor("b", make([]byte, 3)); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteTensor("b", make([]byte, 3)); err == nil {
		t.Error("writing past the last tensor succeeded")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	// Write errors are reported and sticky.
	if _, err := NewWriter(&failWriter{0}, nil, good); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("header write error: %v", err)
	}
	w, err = NewWriter(&failWriter{1}, nil, good)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteTensor("a", make([]byte, 8)); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("data write error: %v", err)
	}
	if err := w.Close(); err == nil {
		t.Error("Close after a write error succeeded")
	}
}

// TestWriterRoundTrip writes every dtype and reads it back.
func TestWriterRoundTrip(t *testing.T) {
	tensors := testTensors()
	path := writeTemp(t, tensors, map[string]string{"format": "pt", "b": "2"})
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if len(f.Tensors) != len(tensors) {
		t.Fatalf("%d tensors, want %d", len(f.Tensors), len(tensors))
	}
	for i, want := range tensors {
		got := f.Tensors[i] // the writer keeps the given order
		if got.Name != want.Name || got.DType != want.DType || !equalShape(got.Shape, want.Shape) {
			t.Errorf("tensor %d: %+v, want %+v", i, got, want)
		}
		d, _ := f.Data(want.Name)
		if !bytes.Equal(d, testData(i, want)) {
			t.Errorf("%s: data differs", want.Name)
		}
	}
	if (f.DataOffset-8)%8 != 0 {
		t.Errorf("header length %d not a multiple of 8", f.DataOffset-8)
	}
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
