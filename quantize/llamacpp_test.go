package quantize_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/lmc-project/lmc/gguf"
	"github.com/lmc-project/lmc/internal/shared"
	"github.com/lmc-project/lmc/modelfile"
	"github.com/lmc-project/lmc/plan"
	"github.com/lmc-project/lmc/quantize"
)

// blockStats compares the tensors of two GGUF files block by block.
type blockStats struct {
	tensors, sameTensors int
	blocks, sameBlocks   int
}

func compareGGUF(t *testing.T, got, want string) (blockStats, bool) {
	t.Helper()
	a, err := gguf.Open(got)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := gguf.Open(want)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var s blockStats
	if len(a.Tensors) != len(b.Tensors) {
		t.Errorf("%s: %d tensors, llama.cpp's %d", got, len(a.Tensors), len(b.Tensors))
	}
	for i, tb := range b.Tensors {
		if i >= len(a.Tensors) {
			break
		}
		ta := a.Tensors[i]
		if ta.Name != tb.Name || ta.Type != tb.Type {
			t.Errorf("tensor %d: lmc %s %s, llama.cpp %s %s", i, ta.Name, ta.Type, tb.Name, tb.Type)
			continue
		}
		da, _ := a.Data(ta.Name)
		db, _ := b.Data(tb.Name)
		s.tensors++
		if bytes.Equal(da, db) {
			s.sameTensors++
		}
		bs := int(tb.Type.TypeSize())
		for k := 0; k+bs <= len(db); k += bs {
			s.blocks++
			if bytes.Equal(da[k:k+bs], db[k:k+bs]) {
				s.sameBlocks++
			}
		}
	}
	fa, _ := os.ReadFile(got)
	fb, _ := os.ReadFile(want)
	return s, bytes.Equal(fa, fb)
}

// TestMatchesLlamaQuantize quantizes books5M-f32.gguf to llama.cpp's mixes
// and --pure types and requires the whole files, metadata included, to be
// byte-identical to llama-quantize's (c392e509) in ../shared.
func TestMatchesLlamaQuantize(t *testing.T) {
	src := shared.Path(t, "models/books5M/books5M-f32.gguf")
	dir := shared.Path(t, "models/books5M/llamacpp")
	m, err := modelfile.Open(src, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	tmp := t.TempDir()
	cases := []struct {
		ft   string
		pure bool
		file string
	}{
		{"q8_0", false, "books5M-q8_0.gguf"},
		{"q4_0", false, "books5M-q4_0.gguf"},
		{"q6_k", false, "books5M-q6_k.gguf"},
		{"q4_k_m", false, "books5M-q4_k_m.gguf"},
		{"q4_k_s", false, "books5M-q4_k_s.gguf"},
		{"q5_k_m", false, "books5M-q5_k_m.gguf"},
		{"q5_k_s", false, "books5M-q5_k_s.gguf"},
		{"q3_k_s", false, "books5M-q3_k_s.gguf"},
		{"q3_k_m", false, "books5M-q3_k_m.gguf"},
		{"q3_k_l", false, "books5M-q3_k_l.gguf"},
		{"q2_k", false, "books5M-q2_k.gguf"},
		{"iq4_xs", false, "books5M-iq4_xs.gguf"},
		{"q8_0", true, "books5M-pure-q8_0.gguf"},
		{"q4_0", true, "books5M-pure-q4_0.gguf"},
		{"q4_1", true, "books5M-pure-q4_1.gguf"},
		{"q5_0", true, "books5M-pure-q5_0.gguf"},
		{"q5_1", true, "books5M-pure-q5_1.gguf"},
		{"q2_k", true, "books5M-pure-q2_k.gguf"},
		{"q3_k_s", true, "books5M-pure-q3_k.gguf"},
		{"q4_k_s", true, "books5M-pure-q4_k.gguf"},
		{"q5_k_s", true, "books5M-pure-q5_k.gguf"},
		{"q6_k", true, "books5M-pure-q6_k.gguf"},
		{"iq4_nl", true, "books5M-pure-iq4_nl.gguf"},
		{"iq4_xs", true, "books5M-pure-iq4_xs.gguf"},
	}
	// CI checks a sample (every family, mixes and pure files); set
	// LMC_QUANT_ALL=1 to check all 24 files (about 15 s).
	sample := map[string]bool{"books5M-q8_0.gguf": true, "books5M-q4_k_m.gguf": true, "books5M-q2_k.gguf": true,
		"books5M-q3_k_m.gguf": true, "books5M-iq4_xs.gguf": true, "books5M-pure-q4_1.gguf": true, "books5M-pure-q5_0.gguf": true,
		"books5M-pure-q5_k.gguf": true, "books5M-pure-q6_k.gguf": true, "books5M-pure-iq4_nl.gguf": true}
	for _, c := range cases {
		if !sample[c.file] && os.Getenv("LMC_QUANT_ALL") == "" {
			continue
		}
		t.Run(c.file, func(t *testing.T) {
			ft, err := plan.ParseFileType(c.ft)
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(tmp, c.file)
			_, err = quantize.Run(context.Background(), m, out, quantize.Options{FileType: ft, Pure: c.pure, Threads: 2})
			if err != nil {
				t.Fatal(err)
			}
			s, same := compareGGUF(t, out, filepath.Join(dir, c.file))
			t.Logf("%s: %d/%d tensors identical, %d/%d blocks (%.3f%%), whole file identical: %v", c.file, s.sameTensors, s.tensors,
				s.sameBlocks, s.blocks, 100*float64(s.sameBlocks)/float64(s.blocks), same)
			if !same {
				t.Errorf("%s differs from llama.cpp's", c.file)
			}
		})
	}
}
