package gguf_test

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"

	"github.com/lmc-project/lmc/gguf"
	"github.com/lmc-project/lmc/internal/shared"
)

// maxAlloc is the most the parser may allocate for an input of n bytes: a
// small multiple of the input (Go structs are larger than their encoding)
// plus the ReaderAt window and fixed overhead. An allocation sized from an
// unchecked count would exceed it by orders of magnitude.
func maxAlloc(n int) uint64 { return 32*uint64(n) + 512<<10 }

// fuzzSeeds returns the hostile corpus, a synthetic file with every value
// type, and pieces of real files: their first KB, their whole header, and
// the header with tensor_count set to 0 (a valid file holding the real
// metadata).
func fuzzSeeds(tb testing.TB) [][]byte {
	var seeds [][]byte
	for _, c := range hostileCases() {
		seeds = append(seeds, c.data)
	}
	seeds = append(seeds, valid().Bytes(), writeSynth(tb, 3))
	root := shared.Root()
	if root == "" {
		return seeds
	}
	for _, rel := range []string{
		"models/books5M/books5M-f32.gguf",
		"models/books5M/llamacpp/books5M-pure-q4_k.gguf",
		"models/stories260K/stories260K.gguf",
		"models/stories260K-llamacpp/stories260K-q4_k_m.gguf",
	} {
		p := filepath.Join(root, rel)
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		g, err := gguf.ParseBytes(p, b)
		if err != nil {
			tb.Fatal(err)
		}
		h := b[:g.DataOffset]
		noTensors := append([]byte(nil), h...)
		binary.LittleEndian.PutUint64(noTensors[8:], 0)
		seeds = append(seeds, b[:1024], h, noTensors)
	}
	return seeds
}

func FuzzGGUF(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		file, err := gguf.ParseBytes("fuzz.gguf", data)
		runtime.ReadMemStats(&after)
		if got := after.TotalAlloc - before.TotalAlloc; got > maxAlloc(len(data)) {
			t.Fatalf("parsing %d bytes allocated %d bytes (limit %d)", len(data), got, maxAlloc(len(data)))
		}
		file2, err2 := gguf.Parse("fuzz.gguf", bytes.NewReader(data), int64(len(data)))
		if (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) {
			t.Fatalf("ParseBytes and Parse disagree: %v / %v", err, err2)
		}
		if err != nil {
			return
		}
		if !reflect.DeepEqual(file.Tensors, file2.Tensors) || len(file.KVs) != len(file2.KVs) {
			t.Fatalf("ParseBytes and Parse disagree on the content")
		}

		// Every accessor works on whatever parsed.
		_ = file.Arch()
		for _, kv := range file.KVs {
			v, ok := file.Get(kv.Key)
			if !ok || v.Type != kv.Value.Type {
				t.Fatalf("Get(%q) failed", kv.Key)
			}
			_ = v.String()
		}
		for _, ti := range file.Tensors {
			b, err := file.Data(ti.Name)
			if err != nil || uint64(len(b)) != ti.Size() {
				t.Fatalf("Data(%q): %d bytes, %v; want %d", ti.Name, len(b), err, ti.Size())
			}
		}

		// What parsed can be written back, and the result reads back the
		// same and rewrites to the same bytes.
		var w1 bytes.Buffer
		if err := rewrite(file, &w1); err != nil {
			t.Fatalf("rewrite of a parsed file failed: %v", err)
		}
		g, err := gguf.ParseBytes("rewritten.gguf", w1.Bytes())
		if err != nil {
			t.Fatalf("rewritten file does not parse: %v", err)
		}
		if len(g.KVs) != len(file.KVs) || len(g.Tensors) != len(file.Tensors) || g.Alignment != file.Alignment {
			t.Fatalf("rewritten file differs in counts or alignment")
		}
		for i, ti := range file.Tensors {
			gi := g.Tensors[i]
			if gi.Name != ti.Name || gi.Type != ti.Type || !reflect.DeepEqual(gi.Shape, ti.Shape) {
				t.Fatalf("tensor %d: %+v became %+v", i, ti, gi)
			}
			a, _ := file.Data(ti.Name)
			b, _ := g.Data(ti.Name)
			if !bytes.Equal(a, b) {
				t.Fatalf("tensor %q: data changed", ti.Name)
			}
		}
		var w2 bytes.Buffer
		if err := rewrite(g, &w2); err != nil || !bytes.Equal(w1.Bytes(), w2.Bytes()) {
			t.Fatalf("second rewrite differs (err %v)", err)
		}
	})
}
