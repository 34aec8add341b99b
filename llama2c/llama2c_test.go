package llama2c

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lmc-project/lmc/internal/shared"
)

// ggufName maps a Meta tensor name onto llama.cpp's.
func ggufName(meta string) string {
	if m := regexp.MustCompile(`^layers\.(\d+)\.(.+)$`).FindStringSubmatch(meta); m != nil {
		sub := map[string]string{
			"attention_norm.weight":  "attn_norm.weight",
			"attention.wq.weight":    "attn_q.weight",
			"attention.wk.weight":    "attn_k.weight",
			"attention.wv.weight":    "attn_v.weight",
			"attention.wo.weight":    "attn_output.weight",
			"ffn_norm.weight":        "ffn_norm.weight",
			"feed_forward.w1.weight": "ffn_gate.weight",
			"feed_forward.w2.weight": "ffn_down.weight",
			"feed_forward.w3.weight": "ffn_up.weight",
		}[m[2]]
		return "blk." + m[1] + "." + sub
	}
	return map[string]string{
		"tok_embeddings.weight": "token_embd.weight",
		"norm.weight":           "output_norm.weight",
		"output.weight":         "output.weight",
	}[meta]
}

// Every tensor equals, byte for byte, the F32 tensor of the GGUF file
// llama.cpp's convert-llama2c-to-ggml made from the same checkpoint (which
// does not permute Q/K: llama2.c weights are already in Meta's layout).
func TestOpenMatchesLlamaCpp(t *testing.T) {
	tests := []struct {
		bin, gguf string
		cfg       Config
	}{
		{"models/stories260K/stories260K.bin", "models/stories260K/stories260K.gguf",
			Config{Dim: 64, HiddenDim: 172, NLayers: 5, NHeads: 8, NKVHeads: 4, VocabSize: 512, SeqLen: 512, SharedClassifier: true}},
		{"models/books5M/books5M.bin", "models/books5M/books5M-f32.gguf",
			Config{Dim: 256, HiddenDim: 768, NLayers: 6, NHeads: 4, NKVHeads: 2, VocabSize: 512, SeqLen: 512, SharedClassifier: false}},
	}
	for _, tc := range tests {
		t.Run(filepath.Base(tc.bin), func(t *testing.T) {
			path := shared.Path(t, tc.bin)
			g := readTestGGUF(t, shared.Path(t, tc.gguf))
			c, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if c.Config != tc.cfg {
				t.Fatalf("config %+v, want %+v", c.Config, tc.cfg)
			}
			if c.data == nil {
				t.Error("file not memory-mapped")
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			st, _ := f.Stat()
			cr, err := NewReader(f, st.Size(), path)
			if err != nil {
				t.Fatal(err)
			}
			tensors := c.Tensors()
			if len(tensors) != len(g.tensors) {
				t.Errorf("%d tensors, gguf has %d", len(tensors), len(g.tensors))
			}
			for _, tn := range tensors {
				gname := ggufName(tn.Name)
				gt, ok := g.tensors[gname]
				if !ok {
					t.Errorf("%s: no %s in gguf", tn.Name, gname)
					continue
				}
				if gt.typ != 0 {
					t.Fatalf("%s: gguf type %d, not F32", gname, gt.typ)
				}
				// GGUF lists dims fastest first: the reverse of PyTorch's.
				if len(gt.dims) != len(tn.Shape) {
					t.Errorf("%s: shape %v, gguf dims %v", tn.Name, tn.Shape, gt.dims)
					continue
				}
				for i, d := range tn.Shape {
					if uint64(d) != gt.dims[len(gt.dims)-1-i] {
						t.Errorf("%s: shape %v, gguf dims %v", tn.Name, tn.Shape, gt.dims)
					}
				}
				data, err := c.Data(tn.Name)
				if err != nil {
					t.Fatal(err)
				}
				start := g.dataOff + int64(gt.off)
				want := g.data[start : start+tn.Size()]
				if !bytes.Equal(data, want) {
					t.Errorf("%s differs from gguf %s", tn.Name, gname)
				}
				copied, err := cr.Data(tn.Name)
				if err != nil || !bytes.Equal(copied, data) {
					t.Errorf("%s: ReaderAt path differs (%v)", tn.Name, err)
				}
			}
			out, _ := c.Tensor("output.weight")
			emb, _ := c.Tensor("tok_embeddings.weight")
			if shared := out.Offset == emb.Offset; shared != tc.cfg.SharedClassifier {
				t.Errorf("output.weight at %d, embedding at %d, shared %v", out.Offset, emb.Offset, tc.cfg.SharedClassifier)
			}
		})
	}
}

// tinyCheckpoint builds a valid checkpoint whose float at index i is i.
func tinyCheckpoint(dim, hidden, layers, heads, kvHeads, vocab, seq int32) []byte {
	cfg := Config{Dim: int(dim), HiddenDim: int(hidden), NLayers: int(layers), NHeads: int(heads), NKVHeads: int(kvHeads),
		VocabSize: int(abs64(int64(vocab))), SeqLen: int(seq), SharedClassifier: vocab > 0}
	_, end := layout(cfg, false)
	b := make([]byte, 0, end)
	for _, v := range []int32{dim, hidden, layers, heads, kvHeads, vocab, seq} {
		b = binary.LittleEndian.AppendUint32(b, uint32(v))
	}
	for i := 0; len(b) < int(end); i++ {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(i)))
	}
	return b
}

func TestTinyLayout(t *testing.T) {
	for _, vocab := range []int32{3, -3} {
		b := tinyCheckpoint(4, 6, 2, 2, 1, vocab, 2)
		c, err := NewReader(bytes.NewReader(b), int64(len(b)), "tiny")
		if err != nil {
			t.Fatal(err)
		}
		// Expected first float index of each tensor (header excluded).
		D, H, L, V, KV := 4, 6, 2, 3, 2
		idx := map[string]int{"tok_embeddings.weight": 0}
		o := V * D
		for _, s := range []struct {
			name string
			n    int
		}{{"attention_norm.weight", D}, {"attention.wq.weight", D * D}, {"attention.wk.weight", KV * D},
			{"attention.wv.weight", KV * D}, {"attention.wo.weight", D * D}, {"ffn_norm.weight", D},
			{"feed_forward.w1.weight", H * D}, {"feed_forward.w2.weight", D * H}, {"feed_forward.w3.weight", H * D}} {
			for l := 0; l < L; l++ {
				idx[fmt.Sprintf("layers.%d.%s", l, s.name)] = o
				o += s.n
			}
		}
		idx["norm.weight"] = o
		o += D + 2*2*1 // rms_final, freq_cis_real and _imag [seq 2, head_size/2 1]
		if vocab > 0 {
			idx["output.weight"] = 0
		} else {
			idx["output.weight"] = o
		}
		if got := len(c.Tensors()); got != len(idx) {
			t.Fatalf("%d tensors, want %d", got, len(idx))
		}
		for _, tn := range c.Tensors() {
			data, err := c.Data(tn.Name)
			if err != nil {
				t.Fatal(err)
			}
			first := math.Float32frombits(binary.LittleEndian.Uint32(data))
			if want, ok := idx[tn.Name]; !ok || first != float32(want) {
				t.Errorf("vocab %d: %s starts with %v, want %v", vocab, tn.Name, first, want)
			}
			if int64(len(data)) != tn.Size() {
				t.Errorf("%s: %d bytes, want %d", tn.Name, len(data), tn.Size())
			}
		}
	}
}

func TestHeaderHostile(t *testing.T) {
	valid := tinyCheckpoint(4, 6, 2, 2, 1, -3, 2)
	hdr := func(vals ...int32) []byte {
		var b []byte
		for _, v := range vals {
			b = binary.LittleEndian.AppendUint32(b, uint32(v))
		}
		return b
	}
	tests := []struct {
		name  string
		data  []byte
		size  int64 // 0: len(data)
		field string
		msg   string // a substring of the message
	}{
		{"empty", nil, 0, "header", "fewer than"},
		{"short header", valid[:20], 0, "header", "fewer than"},
		{"zero dim", hdr(0, 6, 2, 2, 1, 3, 2), 1000, "dim", "not in"},
		{"negative dim", hdr(-4, 6, 2, 2, 1, 3, 2), 1000, "dim", "not in"},
		{"huge hidden", hdr(4, 1<<30, 2, 2, 1, 3, 2), 1000, "hidden_dim", "not in"},
		{"too many layers", hdr(4, 6, 1<<20, 2, 1, 3, 2), 1000, "n_layers", "not in"},
		{"min int vocab", hdr(4, 6, 2, 2, 1, math.MinInt32, 2), 1000, "vocab_size", "not in"},
		{"zero vocab", hdr(4, 6, 2, 2, 1, 0, 2), 1000, "vocab_size", "not in"},
		{"zero seq", hdr(4, 6, 2, 2, 1, 3, 0), 1000, "seq_len", "not in"},
		{"heads do not divide dim", hdr(6, 6, 2, 4, 1, 3, 2), 1000, "n_heads", "does not divide"},
		{"more heads than dim", hdr(4, 6, 2, 8, 1, 3, 2), 1000, "n_heads", "does not divide"},
		{"kv heads do not divide", hdr(12, 6, 2, 3, 2, 3, 2), 1000, "n_kv_heads", "does not divide"},
		{"odd head size", hdr(6, 6, 2, 2, 1, 3, 2), 1000, "n_heads", "odd"},
		{"truncated body", valid[:len(valid)-4], 0, "size", "truncated"},
		{"extra bytes", append(append([]byte(nil), valid...), 0, 0, 0, 0), 0, "size", "too many"},
		{"wrong sign", append(hdr(4, 6, 2, 2, 1, 3, 2), valid[28:]...), 0, "size", "sign of vocab_size"},
		{"v1 magic", hdr(Magic, 1, 4, 6, 2, 2, 1, 3, 2), 256, "magic", "version 1"},
		{"v2 magic short", hdr(Magic, 2), 0, "magic", "version 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			size := tc.size
			if size == 0 {
				size = int64(len(tc.data))
			}
			// A ReaderAt that is larger than the data where size says so.
			data := tc.data
			if int64(len(data)) < size {
				data = append(append([]byte(nil), data...), make([]byte, size-int64(len(data)))...)
			}
			c, err := NewReader(bytes.NewReader(data), size, "hostile.bin")
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("got %v, %v; want ErrFormat", c, err)
			}
			var fe *FormatError
			if !errors.As(err, &fe) || fe.Field != tc.field || !strings.Contains(fe.Msg, tc.msg) || fe.File != "hostile.bin" {
				t.Errorf("error %q: want field %q and %q", err, tc.field, tc.msg)
			}
		})
	}
}

func TestOpenHostileFiles(t *testing.T) {
	for _, tc := range []struct{ file, field string }{
		{"truncated-header.bin", "header"},
		{"v1-magic.bin", "magic"},
		{"negative-dims.bin", "dim"},
		{"huge-dims.bin", "size"},
		{"wrong-sign.bin", "size"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			p := filepath.Join("testdata", tc.file)
			c, err := Open(p)
			var fe *FormatError
			if !errors.As(err, &fe) || fe.Field != tc.field || fe.File != p {
				t.Fatalf("Open = %v, %v; want a *FormatError on %s naming %s", c, err, tc.field, p)
			}
			t.Log(err)
		})
	}
	if _, err := Open(filepath.Join("testdata", "absent.bin")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestCloseAndUnknown(t *testing.T) {
	p := filepath.Join(t.TempDir(), "tiny.bin")
	if err := os.WriteFile(p, tinyCheckpoint(4, 6, 1, 2, 2, 3, 2), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Data("layers.1.attention.wq.weight"); err == nil {
		t.Error("unknown tensor accepted")
	}
	if _, err := c.Data("norm.weight"); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := c.Data("norm.weight"); !errors.Is(err, ErrClosed) {
		t.Errorf("Data after Close: %v", err)
	}
}

func FuzzCheckpointHeader(f *testing.F) {
	f.Add(tinyCheckpoint(4, 6, 2, 2, 1, -3, 2)[:HeaderSize], int64(len(tinyCheckpoint(4, 6, 2, 2, 1, -3, 2))))
	f.Add(tinyCheckpoint(64, 172, 5, 8, 4, 512, 512)[:HeaderSize], int64(1056540))
	files, _ := filepath.Glob(filepath.Join("testdata", "*.bin"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b, int64(len(b)))
		}
	}
	f.Fuzz(func(t *testing.T, hdr []byte, size int64) {
		cfg, tensors, err := ParseHeader(hdr, size)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		if len(tensors) != 9*cfg.NLayers+3 {
			t.Fatalf("%d tensors for %d layers", len(tensors), cfg.NLayers)
		}
		for _, tn := range tensors {
			if tn.Offset < HeaderSize || tn.Offset+tn.Size() > size {
				t.Fatalf("%s [%d, %d) outside the %d-byte file", tn.Name, tn.Offset, tn.Offset+tn.Size(), size)
			}
		}
	})
}
