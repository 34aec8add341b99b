package safetensors

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/lmc-project/lmc/internal/shared"
)

// fuzzSeeds returns the seed corpus: the hostile files, small valid files,
// and the real books5M headers (the header truncated to maxSeedHeader, and a
// small valid file with the same names, dtypes and shapes capped at 2).
func fuzzSeeds(tb testing.TB) [][]byte {
	const maxSeedHeader = 8 << 10
	var seeds [][]byte
	for _, c := range hostileCases() {
		seeds = append(seeds, c.data)
	}
	for _, meta := range []map[string]string{nil, {"format": "pt"}} {
		data, _ := os.ReadFile(writeTemp(tb, testTensors(), meta))
		seeds = append(seeds, data)
	}
	seeds = append(seeds, st(`{"a":{"dtype":"I8","extra":[{"x":null}],"shape":[1],"data_offsets":[0,1]},"__metadata__":null}`, []byte{1}))
	root := shared.Root()
	if root == "" {
		return seeds
	}
	for _, rel := range []string{books5MF32, books5MBF16} {
		f, err := Open(filepath.Join(root, rel))
		if err != nil {
			continue
		}
		raw := make([]byte, min(f.DataOffset, maxSeedHeader))
		f.Section(f.Tensors[0].Name) // exercise
		if fh, err := os.Open(f.Path); err == nil {
			io.ReadFull(fh, raw)
			fh.Close()
		}
		seeds = append(seeds, raw)
		var small []TensorInfo
		for _, ti := range f.Tensors {
			s := ti
			s.Shape = slices.Clone(ti.Shape)
			for i := range s.Shape {
				s.Shape[i] = min(s.Shape[i], 2)
			}
			small = append(small, s)
		}
		var buf bytes.Buffer
		w, err := NewWriter(&buf, f.Metadata, small)
		if err == nil {
			for _, s := range small {
				w.WriteTensor(s.Name, make([]byte, s.NumBytes()))
			}
			seeds = append(seeds, buf.Bytes())
		}
		f.Close()
	}
	return seeds
}

// FuzzSafetensors: parsing never panics, every rejection is a FormatError
// (or a PickleError), and every accepted file can be read completely,
// written back, and reparsed to the same tensors, metadata and bytes.
func FuzzSafetensors(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sf, err := FromBytes("fuzz", data)
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrPickle) {
				t.Fatalf("error is neither ErrFormat nor ErrPickle: %v", err)
			}
			return
		}
		for _, ti := range sf.Tensors {
			d, err := sf.Data(ti.Name)
			if err != nil || int64(len(d)) != ti.NumBytes() || int64(len(d)) != ti.End-ti.Begin {
				t.Fatalf("%q: Data = %d bytes, %v; info %+v", ti.Name, len(d), err, ti)
			}
			if got, ok := sf.Tensor(ti.Name); !ok || got.Begin != ti.Begin {
				t.Fatalf("Tensor(%q) = %+v, %v", ti.Name, got, ok)
			}
		}
		var buf bytes.Buffer
		w, err := NewWriter(&buf, sf.Metadata, sf.Tensors)
		if err != nil {
			t.Fatalf("cannot write back a parsed file: %v", err)
		}
		for _, ti := range sf.Tensors {
			d, _ := sf.Data(ti.Name)
			if err := w.WriteTensor(ti.Name, d); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		again, err := FromBytes("fuzz-rewritten", buf.Bytes())
		if err != nil {
			t.Fatalf("cannot reparse the rewritten file: %v\n%q", err, buf.Bytes())
		}
		if (sf.Metadata == nil) != (again.Metadata == nil) || !mapsEqual(sf.Metadata, again.Metadata) {
			t.Fatalf("metadata %q became %q", sf.Metadata, again.Metadata)
		}
		if len(sf.Tensors) != len(again.Tensors) {
			t.Fatalf("%d tensors became %d", len(sf.Tensors), len(again.Tensors))
		}
		for i, a := range sf.Tensors {
			b := again.Tensors[i]
			if a.Name != b.Name || a.DType != b.DType || !slices.Equal(a.Shape, b.Shape) || a.Begin != b.Begin || a.End != b.End {
				t.Fatalf("tensor %+v became %+v", a, b)
			}
			da, _ := sf.Data(a.Name)
			db, _ := again.Data(b.Name)
			if !bytes.Equal(da, db) {
				t.Fatalf("%q: data changed", a.Name)
			}
		}
		// The writer's output is canonical: rewriting it changes nothing.
		var buf2 bytes.Buffer
		w2, _ := NewWriter(&buf2, again.Metadata, again.Tensors)
		for _, ti := range again.Tensors {
			d, _ := again.Data(ti.Name)
			w2.WriteTensor(ti.Name, d)
		}
		if !bytes.Equal(buf.Bytes(), buf2.Bytes()) {
			t.Fatalf("rewriting is not idempotent")
		}
	})
}
