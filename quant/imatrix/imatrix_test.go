package imatrix

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/lmc-project/lmc/gguf"
	"github.com/lmc-project/lmc/internal/shared"
	"github.com/lmc-project/lmc/model"
	"github.com/lmc-project/lmc/modelfile"
	"github.com/lmc-project/lmc/tokenizer"
)

func sample() *Matrix {
	return &Matrix{Datasets: []string{"calib.txt"}, ChunkCount: 3, ChunkSize: 512, Entries: map[string]*Entry{
		"blk.0.attn_q.weight":      {Cols: 4, Sum2: []float32{1, 2, 3, 4}, Counts: []float32{1536}},
		"blk.0.ffn_down.weight":    {Cols: 2, Sum2: []float32{8, 0}, Counts: []float32{1536}, Sum: []float32{-1, 0.5}},
		"blk.1.ffn_up_exps.weight": {Cols: 2, Sum2: []float32{4, 6, 1, 1}, Counts: []float32{2, 0}},
	}}
}

func TestGGUFRoundTrip(t *testing.T) {
	m := sample()
	var buf bytes.Buffer
	if err := m.EncodeGGUF(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := Parse("x.gguf", buf.Bytes(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.ChunkCount != 3 || got.ChunkSize != 512 || len(got.Datasets) != 1 || got.Datasets[0] != "calib.txt" {
		t.Errorf("header %+v", got)
	}
	for name, e := range m.Entries {
		g := got.Entries[name]
		if g == nil || g.Cols != e.Cols || !equal(g.Sum2, e.Sum2) || !equal(g.Counts, e.Counts) || !equal(g.Sum, e.Sum) {
			t.Errorf("%s: got %+v, want %+v", name, g, e)
		}
	}
	// The layout llama-imatrix writes: general.type first, tensors sorted,
	// 1-D shapes for dense weights.
	f, err := gguf.ParseBytes("x", buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if f.KVs[0].Key != KeyType || f.KVs[1].Key != KeyDatasets || f.KVs[2].Key != KeyChunkCount || f.KVs[3].Key != KeyChunkSize {
		t.Errorf("keys %v", f.KVs)
	}
	wantNames := []string{"blk.0.attn_q.weight.in_sum2", "blk.0.attn_q.weight.counts", "blk.0.ffn_down.weight.in_sum2",
		"blk.0.ffn_down.weight.counts", "blk.0.ffn_down.weight.in_sum", "blk.1.ffn_up_exps.weight.in_sum2", "blk.1.ffn_up_exps.weight.counts"}
	for i, ti := range f.Tensors {
		if ti.Name != wantNames[i] {
			t.Errorf("tensor %d is %s, want %s", i, ti.Name, wantNames[i])
		}
	}
	if ti, _ := f.Tensor("blk.0.attn_q.weight.in_sum2"); len(ti.Shape) != 1 || ti.Shape[0] != 4 {
		t.Errorf("dense in_sum2 shape %v, want [4]", ti.Shape)
	}
	if ti, _ := f.Tensor("blk.1.ffn_up_exps.weight.in_sum2"); len(ti.Shape) != 2 || ti.Shape[1] != 2 {
		t.Errorf("expert in_sum2 shape %v, want [2 2]", ti.Shape)
	}
}

func equal(a, b []float32) bool {
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

func TestWeights(t *testing.T) {
	m := sample()
	w := m.Weights("blk.1.ffn_up_exps.weight")
	// expert 0: sums/2; expert 1 has no count: 1s (llama-quantize's rule).
	if !equal(w, []float32{2, 3, 1, 1}) {
		t.Errorf("weights %v", w)
	}
	if m.Weights("nothing") != nil {
		t.Error("weights of a missing entry")
	}
	var nilM *Matrix
	if nilM.Weights("x") != nil {
		t.Error("nil matrix")
	}
}

func TestLegacyRoundTrip(t *testing.T) {
	m := sample()
	delete(m.Entries, "blk.1.ffn_up_exps.weight") // the legacy format has one count per entry
	var buf bytes.Buffer
	if err := m.EncodeLegacy(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := Parse("x.dat", buf.Bytes(), &ReadOptions{LegacyChunkSize: 512})
	if err != nil {
		t.Fatal(err)
	}
	if got.ChunkCount != 3 || len(got.Datasets) != 1 || got.Datasets[0] != "calib.txt" {
		t.Errorf("header: chunks %d datasets %v", got.ChunkCount, got.Datasets)
	}
	for name := range m.Entries {
		a, b := m.Weights(name), got.Weights(name)
		for i := range a {
			if math.Abs(float64(a[i]-b[i])) > 1e-6*math.Abs(float64(a[i])) {
				t.Errorf("%s weight %d: %v after the round trip, want %v", name, i, b[i], a[i])
			}
		}
	}
	// ncall = ceil(1536/512) = 3: values stored are mean × 3.
	b := buf.Bytes()
	if n := binary.LittleEndian.Uint32(b); n != 2 {
		t.Errorf("n_entries %d", n)
	}
}

// TestHostile feeds malformed files: each must fail with ErrFormat (or a
// gguf format error), never panic.
func TestHostile(t *testing.T) {
	le := binary.LittleEndian
	legacy := func(parts ...any) []byte {
		var b bytes.Buffer
		for _, p := range parts {
			switch v := p.(type) {
			case int32:
				binary.Write(&b, le, v)
			case string:
				b.WriteString(v)
			case float32:
				binary.Write(&b, le, v)
			}
		}
		return b.Bytes()
	}
	var good bytes.Buffer
	sample().EncodeGGUF(&good)
	noCounts := func() []byte {
		m := sample()
		var b bytes.Buffer
		// Write a GGUF with an in_sum2 but no counts.
		kvs := []gguf.KV{{Key: KeyType, Value: gguf.String("imatrix")}, {Key: KeyDatasets, Value: gguf.Strings([]string{"x"})},
			{Key: KeyChunkCount, Value: gguf.Uint32(1)}, {Key: KeyChunkSize, Value: gguf.Uint32(512)}}
		e := m.Entries["blk.0.attn_q.weight"]
		w, _ := gguf.NewWriter(&b, kvs, []gguf.TensorInfo{{Name: "w.in_sum2", Shape: []uint64{4}, Type: gguf.TypeF32}}, 0)
		w.WriteTensor("w.in_sum2", f32Bytes(e.Sum2))
		w.Close()
		return b.Bytes()
	}()
	for _, c := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"huge count", legacy(int32(1 << 30))},
		{"zero entries", legacy(int32(0))},
		{"negative name length", legacy(int32(1), int32(-5), "abcdefghijklmnopqrstu")},
		{"name past end", legacy(int32(1), int32(100), "blk.0")},
		{"nval past end", legacy(int32(1), int32(1), "a", int32(1), int32(1000), float32(1))},
		{"negative value", legacy(int32(1), int32(1), "a", int32(1), int32(1), float32(-1))},
		{"NaN value", legacy(int32(1), int32(1), "a", int32(1), int32(1), float32(math.NaN()))},
		{"negative ncall", legacy(int32(1), int32(1), "a", int32(-1), int32(1), float32(1))},
		{"stray trailer", legacy(int32(1), int32(1), "a", int32(1), int32(1), float32(1), int32(1), int32(1), "d", "junk")},
		{"truncated gguf", good.Bytes()[:len(good.Bytes())/2]},
		{"gguf without counts", noCounts},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.name, c.b, nil)
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrFormat) && !errors.Is(err, gguf.ErrFormat) {
				t.Errorf("error %v does not wrap ErrFormat", err)
			}
		})
	}
	// A minimal valid legacy file with no trailer parses.
	m, err := Parse("ok", legacy(int32(1), int32(1), "a", int32(2), int32(2), float32(4), float32(6)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if w := m.Weights("a"); !equal(w, []float32{2, 3}) {
		t.Errorf("weights %v, want [2 3]", w)
	}
}

func FuzzParse(f *testing.F) {
	var b bytes.Buffer
	sample().EncodeGGUF(&b)
	f.Add(b.Bytes())
	b.Reset()
	m := sample()
	delete(m.Entries, "blk.1.ffn_up_exps.weight")
	m.EncodeLegacy(&b)
	f.Add(b.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse("fuzz", data, nil)
		if err != nil {
			return
		}
		// A parsed matrix writes back and reads again.
		var out bytes.Buffer
		if err := m.EncodeGGUF(&out); err != nil {
			t.Fatalf("parsed matrix does not encode: %v", err)
		}
		if _, err := Parse("again", out.Bytes(), nil); err != nil {
			t.Fatalf("re-encoded matrix does not parse: %v", err)
		}
		for _, n := range m.Names() {
			m.Weights(n)
		}
	})
}

func TestCheck(t *testing.T) {
	m := sample()
	ts := []Tensor{{"blk.0.attn_q.weight", 4, 1}, {"blk.0.ffn_down.weight", 2, 1}, {"blk.1.ffn_up_exps.weight", 2, 2}, {"output.weight", 4, 1}}
	if err := m.Check(ts); err != nil {
		t.Errorf("matching model: %v", err)
	}
	for _, c := range []struct {
		name string
		ts   []Tensor
	}{
		{"other model", []Tensor{{"a", 1, 1}}},
		{"missing weight", ts[1:]},
		{"wrong cols", []Tensor{{"blk.0.attn_q.weight", 8, 1}, ts[1], ts[2]}},
		{"wrong experts", []Tensor{ts[0], ts[1], {"blk.1.ffn_up_exps.weight", 2, 4}}},
	} {
		if err := m.Check(c.ts); !errors.Is(err, ErrMismatch) {
			t.Errorf("%s: err %v, want ErrMismatch", c.name, err)
		}
	}
}

// TestCollect computes an importance matrix of stories260K and checks it
// against a direct computation of one entry, and the llama-imatrix
// protocol's consequences (chunk count, counts, no output.weight).
func TestCollect(t *testing.T) {
	p := shared.Path(t, "models/stories260K/stories260K.gguf")
	text, err := os.ReadFile(shared.Path(t, "text/stories_handwritten.txt"))
	if err != nil {
		t.Fatal(err)
	}
	mf, err := modelfile.Open(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer mf.Close()
	tok, _ := tokenizer.New(mf.Vocab)
	ids := append([]int{tok.BOS()}, tok.Encode(string(text), false)...)
	m, err := model.Load(mf, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const ctx = 64
	im, err := Collect(context.Background(), m, ids, Options{Context: ctx, Chunks: 5, BOS: tok.BOS(), Dataset: "stories"})
	if err != nil {
		t.Fatal(err)
	}
	if im.ChunkCount != 5 || im.ChunkSize != ctx || len(im.Entries) != 35 || im.Entries["output.weight"] != nil {
		t.Fatalf("chunks %d size %d entries %d", im.ChunkCount, im.ChunkSize, len(im.Entries))
	}
	e := im.Entries["blk.2.ffn_down.weight"]
	if e.Cols != 172 || e.Counts[0] != 5*ctx {
		t.Errorf("ffn_down: cols %d count %v", e.Cols, e.Counts)
	}
	// Direct: the inputs of blk.0.attn_q are the normed embeddings.
	var want []float64
	m.Hooks.OnLinearInput = func(l int, name string, x []float32, n, cols int) {
		if name != "blk.0.attn_q.weight" {
			return
		}
		if want == nil {
			want = make([]float64, cols)
		}
		for i, v := range x[:n*cols] {
			want[i%cols] += float64(v) * float64(v)
		}
	}
	s := m.NewSession(ctx)
	for c := 0; c < 5; c++ {
		chunk := append([]int(nil), ids[c*ctx:(c+1)*ctx]...)
		chunk[0] = tok.BOS()
		s.Reset()
		if _, err := s.Prefill(chunk); err != nil {
			t.Fatal(err)
		}
	}
	got := im.Entries["blk.0.attn_q.weight"]
	for j, w := range want {
		if math.Abs(float64(got.Sum2[j])-w) > 1e-5*w+1e-6 {
			t.Fatalf("column %d: Σx² %v, direct %v", j, got.Sum2[j], w)
		}
	}
	// Through a file and back.
	path := filepath.Join(t.TempDir(), "im.gguf")
	if err := im.WriteGGUF(path); err != nil {
		t.Fatal(err)
	}
	back, err := Read(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !equal(back.Weights("blk.0.attn_q.weight"), im.Weights("blk.0.attn_q.weight")) {
		t.Error("weights changed through the file")
	}
	// Too little text.
	if _, err := Collect(context.Background(), m, ids[:100], Options{Context: ctx}); !errors.Is(err, ErrText) {
		t.Errorf("short text: %v, want ErrText", err)
	}
}
