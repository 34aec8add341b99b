package gguf_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/lmc-project/lmc/gguf"
	"github.com/lmc-project/lmc/internal/shared"
)

// realFiles returns every GGUF file in the shared test data, skipping the
// test when the data is absent.
func realFiles(tb testing.TB) []string {
	tb.Helper()
	var files []string
	for _, dir := range []string{"models", "tokenizers"} {
		root := shared.Path(tb, dir)
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, ".gguf") {
				files = append(files, p)
			}
			return err
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	sort.Strings(files)
	if len(files) < 40 {
		tb.Fatalf("found only %d GGUF files in shared data; expected the models and vocab files", len(files))
	}
	return files
}

func TestRealFilesParse(t *testing.T) {
	for _, p := range realFiles(t) {
		t.Run(filepath.Base(p), func(t *testing.T) {
			f, err := gguf.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if f.Version != 3 {
				t.Errorf("version %d, want 3", f.Version)
			}
			if f.Arch() == "" {
				t.Errorf("no general.architecture")
			}
			if len(f.Tensors) > 0 && f.DataOffset%int64(f.Alignment) != 0 {
				t.Errorf("data offset %d not aligned to %d", f.DataOffset, f.Alignment)
			}
			for _, ti := range f.Tensors {
				b, err := f.Data(ti.Name)
				if err != nil {
					t.Fatal(err)
				}
				if uint64(len(b)) != ti.Size() {
					t.Errorf("%s: Data gave %d bytes, want %d", ti.Name, len(b), ti.Size())
				}
				rs, err := ti.Type.RowSize(int64(ti.Shape[0]))
				if err != nil {
					t.Errorf("%s: %v", ti.Name, err)
				}
				if want := uint64(rs) * ti.NumElements() / ti.Shape[0]; want != ti.Size() {
					t.Errorf("%s: RowSize×rows = %d, Size = %d", ti.Name, want, ti.Size())
				}
			}

			// The ReaderAt path (windowed reads) must agree with the mmap path.
			fh, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			g, err := gguf.Parse(p, fh, f.Size)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(f.KVs, g.KVs) || !reflect.DeepEqual(f.Tensors, g.Tensors) || f.DataOffset != g.DataOffset {
				t.Errorf("Parse(ReaderAt) and Open disagree")
			}
			if len(f.Tensors) > 0 {
				name := f.Tensors[len(f.Tensors)-1].Name
				a, _ := f.Data(name)
				b, err := g.Data(name)
				if err != nil || !bytes.Equal(a, b) {
					t.Errorf("Data(%q) differs between Parse and Open (err %v)", name, err)
				}
				sr, err := f.Section(name)
				if err != nil {
					t.Fatal(err)
				}
				c, err := io.ReadAll(sr)
				if err != nil || !bytes.Equal(a, c) {
					t.Errorf("Section(%q) differs from Data (err %v)", name, err)
				}
			}
		})
	}
}

func TestBooks5MMetadata(t *testing.T) {
	f, err := gguf.Open(shared.Path(t, "models/books5M/books5M-f32.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.Arch(); got != "llama" {
		t.Errorf("Arch() = %q, want llama", got)
	}
	if n, ok := f.Uint("llama.block_count"); !ok || n != 6 {
		t.Errorf("llama.block_count = %d, %v; want 6", n, ok)
	}
	if n, ok := f.Uint("llama.embedding_length"); !ok || n != 256 {
		t.Errorf("llama.embedding_length = %d, %v; want 256", n, ok)
	}
	if len(f.Tensors) != 57 {
		t.Errorf("%d tensors, want 57", len(f.Tensors))
	}
	toks, ok := f.Strings("tokenizer.ggml.tokens")
	if !ok || len(toks) != 512 {
		t.Fatalf("tokenizer.ggml.tokens: %d strings, %v; want 512", len(toks), ok)
	}
	if toks[0] != "<unk>" || toks[1] != "<s>" || toks[2] != "</s>" {
		t.Errorf("first tokens %q, want <unk> <s> </s>", toks[:3])
	}
	if eps, ok := f.Float("llama.attention.layer_norm_rms_epsilon"); !ok || eps <= 0 || eps > 1e-3 {
		t.Errorf("rms epsilon = %v, %v", eps, ok)
	}
	if _, ok := f.Float("llama.block_count"); ok {
		t.Errorf("Float accepted an integer key")
	}
	if _, ok := f.Uint("general.architecture"); ok {
		t.Errorf("Uint accepted a string key")
	}
	ti, ok := f.Tensor("token_embd.weight")
	if !ok || ti.Type != gguf.TypeF32 || !reflect.DeepEqual(ti.Shape, []uint64{256, 512}) {
		t.Errorf("token_embd.weight = %+v, %v; want F32 [256 512]", ti, ok)
	}
	if _, ok := f.Tensor("no.such.tensor"); ok {
		t.Errorf("Tensor found a missing tensor")
	}
	if _, err := f.Data("no.such.tensor"); err == nil {
		t.Errorf("Data of a missing tensor succeeded")
	}
}

func TestBooks5MQ4K(t *testing.T) {
	f, err := gguf.Open(shared.Path(t, "models/books5M/llamacpp/books5M-pure-q4_k.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	for _, ti := range f.Tensors {
		if ti.Type != gguf.TypeQ4_K {
			continue
		}
		n++
		rs, err := ti.Type.RowSize(int64(ti.Shape[0]))
		if err != nil || rs != int64(ti.Shape[0])/256*144 {
			t.Errorf("%s: RowSize(%d) = %d, %v", ti.Name, ti.Shape[0], rs, err)
		}
		if ti.Size() != uint64(rs)*ti.NumElements()/ti.Shape[0] {
			t.Errorf("%s: Size %d inconsistent with RowSize %d", ti.Name, ti.Size(), rs)
		}
	}
	if n < 40 {
		t.Errorf("only %d Q4_K tensors in a pure q4_k file", n)
	}
	if v, ok := f.Uint("general.quantization_version"); !ok || v != 2 {
		t.Errorf("general.quantization_version = %d, %v; want 2", v, ok)
	}
	if f.Close() != nil || f.Close() != nil {
		t.Errorf("Close failed")
	}
	if _, err := f.Data(f.Tensors[0].Name); !errors.Is(err, gguf.ErrClosed) {
		t.Errorf("Data after Close: %v, want ErrClosed", err)
	}
}

// compareWriter checks that what is written equals want, without holding a
// second copy of the file.
type compareWriter struct {
	want []byte
	n    int
	diff int // offset of the first difference, or -1
}

func (c *compareWriter) Write(p []byte) (int, error) {
	for i, b := range p {
		if c.diff < 0 && (c.n+i >= len(c.want) || c.want[c.n+i] != b) {
			c.diff = c.n + i
		}
	}
	c.n += len(p)
	return len(p), nil
}

// rewrite writes f's KVs and tensors through a Writer into w.
func rewrite(f *gguf.File, w io.Writer) error {
	gw, err := gguf.NewWriter(w, f.KVs, f.Tensors, int(f.Alignment))
	if err != nil {
		return err
	}
	for _, ti := range f.Tensors {
		b, err := f.Data(ti.Name)
		if err != nil {
			return err
		}
		if err := gw.WriteTensor(ti.Name, b); err != nil {
			return err
		}
	}
	return gw.Close()
}

func TestRealFilesRoundTrip(t *testing.T) {
	for _, p := range realFiles(t) {
		t.Run(filepath.Base(p), func(t *testing.T) {
			want, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			f, err := gguf.ParseBytes(p, want)
			if err != nil {
				t.Fatal(err)
			}
			c := &compareWriter{want: want, diff: -1}
			if err := rewrite(f, c); err != nil {
				t.Fatal(err)
			}
			if c.diff >= 0 || c.n != len(want) {
				t.Errorf("rewrite differs: %d bytes vs %d, first difference at %d", c.n, len(want), c.diff)
			}
		})
	}
}

// TestRealFilesCrossCheck compares this reader with gguf-parser-go.
func TestRealFilesCrossCheck(t *testing.T) {
	for _, p := range realFiles(t) {
		t.Run(filepath.Base(p), func(t *testing.T) {
			f, err := gguf.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := crossCheck(p, f); err != nil {
				t.Error(err)
			}
		})
	}
}

// crossCheck parses path with gguf-parser-go and compares it with f.
func crossCheck(path string, f *gguf.File) error {
	gf, err := parseOther(path)
	if err != nil {
		return fmt.Errorf("gguf-parser-go: %v", err)
	}
	if uint32(gf.Header.Version) != f.Version {
		return fmt.Errorf("version: theirs %d, ours %d", gf.Header.Version, f.Version)
	}
	if gf.TensorDataStartOffset != f.DataOffset && len(f.Tensors) > 0 {
		return fmt.Errorf("data offset: theirs %d, ours %d", gf.TensorDataStartOffset, f.DataOffset)
	}
	if len(gf.Header.MetadataKV) != len(f.KVs) {
		return fmt.Errorf("theirs %d KVs, ours %d", len(gf.Header.MetadataKV), len(f.KVs))
	}
	for i, kv := range gf.Header.MetadataKV {
		ours := f.KVs[i]
		if kv.Key != ours.Key || uint32(kv.ValueType) != uint32(ours.Value.Type) {
			return fmt.Errorf("KV %d: theirs %q %v, ours %q %v", i, kv.Key, kv.ValueType, ours.Key, ours.Value.Type)
		}
		if a, b := normOther(kv.Value), normOurs(ours.Value.V); !reflect.DeepEqual(a, b) {
			return fmt.Errorf("KV %q: values differ: %s", kv.Key, firstDiff(a, b))
		}
	}
	if len(gf.TensorInfos) != len(f.Tensors) {
		return fmt.Errorf("theirs %d tensors, ours %d", len(gf.TensorInfos), len(f.Tensors))
	}
	for i, ti := range gf.TensorInfos {
		ours := f.Tensors[i]
		if ti.Name != ours.Name || uint32(ti.Type) != uint32(ours.Type) || ti.Offset != ours.Offset ||
			!reflect.DeepEqual(ti.Dimensions, ours.Shape) || ti.NDimensions != uint32(len(ours.Shape)) {
			return fmt.Errorf("tensor %d: theirs %s %v %v @%d, ours %s %v %v @%d", i,
				ti.Name, ti.Type, ti.Dimensions, ti.Offset, ours.Name, ours.Type, ours.Shape, ours.Offset)
		}
		if n := ti.Elements(); n != ours.NumElements() {
			return fmt.Errorf("tensor %s: theirs %d elements, ours %d", ti.Name, n, ours.NumElements())
		}
		if n := ti.Bytes(); n != ours.Size() {
			return fmt.Errorf("tensor %s: theirs %d bytes, ours %d", ti.Name, n, ours.Size())
		}
	}
	return nil
}
