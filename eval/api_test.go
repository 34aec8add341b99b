package eval_test

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lmc-project/lmc/eval"
)

// TestSavedBaseEqualsLive checks that SaveBase + OpenBase + KLD gives the
// numbers of KLDModels (both go through the same uint16 rows), and the
// file's size and layout.
func TestSavedBaseEqualsLive(t *testing.T) {
	base, tok := loadModel(t, books5M)
	m, _ := loadModel(t, "models/books5M/llamacpp/books5M-q4_k_m.gguf")
	text := pg98Text(t, tok)
	o := eval.Options{Context: 256, Chunks: 4}
	live, err := eval.KLDModels(context.Background(), base, m, text, o)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "base.kld")
	if _, err := eval.SaveBase(context.Background(), base, text, path, 0, o); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	// header 20, 4 × 256 int32 tokens, 4 × 127 rows of (4 + 512) uint16
	if want := int64(20 + 4*256*4 + 4*127*(4+512)*2); st.Size() != want {
		t.Errorf("file size %d, want %d", st.Size(), want)
	}
	bl, err := eval.OpenBase(path)
	if err != nil {
		t.Fatal(err)
	}
	defer bl.Close()
	for i, tk := range bl.Tokens {
		if tk != text.Tokens[i] {
			t.Fatalf("token %d: %d in the file, %d in the text", i, tk, text.Tokens[i])
		}
	}
	saved, err := eval.KLD(context.Background(), m, bl, text.BOS, eval.Options{Chunks: 4})
	if err != nil {
		t.Fatal(err)
	}
	live.Seconds, live.TokensPerSecond, saved.Seconds, saved.TokensPerSecond = 0, 0, 0, 0
	if *live != *saved {
		t.Errorf("live and saved-base results differ:\n%+v\n%+v", live, saved)
	}
	if live.Tokens != 4*127 || live.KLD.Value <= 0 || live.KLDQuantiles.Median <= 0 || live.SameTop.Value < 0.9 {
		t.Errorf("implausible result %+v", live)
	}
	// Asking for another context than the file's is an error.
	if _, err := eval.KLD(context.Background(), m, bl, text.BOS, eval.Options{Context: 128}); err == nil {
		t.Error("KLD accepted a context the base was not computed with")
	}
}

// TestTopKBase checks lmc's compact format on books5M: its KLD is a lower
// bound of the full-vocabulary figure and, with 32 of 512 tokens kept,
// within a few percent of it.
func TestTopKBase(t *testing.T) {
	base, tok := loadModel(t, books5M)
	text := pg98Text(t, tok)
	o := eval.Options{Context: 256, Chunks: 8}
	dir := t.TempDir()
	full, top := filepath.Join(dir, "full.kld"), filepath.Join(dir, "top32.kld")
	if _, err := eval.SaveBase(context.Background(), base, text, full, 0, o); err != nil {
		t.Fatal(err)
	}
	bres, err := eval.SaveBase(context.Background(), base, text, top, 32, o)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(top)
	if want := int64(28 + 8*256*4 + 8*127*(8+32*8)); st.Size() != want {
		t.Errorf("top-32 file is %d bytes, want %d", st.Size(), want)
	}
	fb, err := eval.OpenBase(full)
	if err != nil {
		t.Fatal(err)
	}
	defer fb.Close()
	tb, err := eval.OpenBase(top)
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()
	if tb.Format != eval.FormatTopK || tb.TopK != 32 {
		t.Fatalf("format %q, k %d", tb.Format, tb.TopK)
	}
	for _, typ := range []string{"q4_k_m", "q2_k"} {
		m, _ := loadModel(t, "models/books5M/llamacpp/books5M-"+typ+".gguf")
		rf, err := eval.KLD(context.Background(), m, fb, text.BOS, eval.Options{})
		if err != nil {
			t.Fatal(err)
		}
		rt, err := eval.KLD(context.Background(), m, tb, text.BOS, eval.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ratio := rt.KLD.Value / rf.KLD.Value
		t.Logf("%s: KLD top-32 %.6f, full %.6f (ratio %.4f); PPL(base) %.5f vs %.5f", typ, rt.KLD.Value, rf.KLD.Value, ratio, rt.BasePPL.Value, rf.BasePPL.Value)
		if ratio > 1.001 || ratio < 0.9 {
			t.Errorf("%s: top-32 KLD is %.4f × the full one, want a lower bound within 10%%", typ, ratio)
		}
		if math.Abs(rt.BasePPL.Value/bres.PPL-1) > 1e-5 || math.Abs(rt.BasePPL.Value/rf.BasePPL.Value-1) > 1e-4 {
			t.Errorf("%s: PPL(base) %.6f (top-k), %.6f (full), %.6f (run)", typ, rt.BasePPL.Value, rf.BasePPL.Value, bres.PPL)
		}
		if rt.PPL != rf.PPL || math.Abs(rt.SameTop.Value-rf.SameTop.Value) > 0.005 {
			t.Errorf("%s: PPL(Q) %v vs %v, same top %v vs %v", typ, rt.PPL, rf.PPL, rt.SameTop.Value, rf.SameTop.Value)
		}
	}
}

// TestBadText checks the errors for texts that cannot be evaluated.
func TestBadText(t *testing.T) {
	m, tok := loadModel(t, books5M)
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, c := range []struct {
		name, want string
		data       []byte
	}{
		{"empty.txt", "is empty", nil},
		{"latin1.txt", "invalid byte 0xe9 at offset 12 (line 2)", []byte("line one\ncaf\xe9 au lait\n")},
		{"truncated.txt", "invalid byte 0xe2 at offset 3 (line 1)", []byte("abc\xe2\x82")},
	} {
		_, err := eval.ReadText(write(c.name, c.data), tok)
		if !errors.Is(err, eval.ErrText) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.name) {
			t.Errorf("%s: error %v, want ErrText naming the file and %q", c.name, err, c.want)
		}
	}
	if _, err := eval.ReadText(filepath.Join(dir, "missing.txt"), tok); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	short, err := eval.ReadText(write("short.txt", []byte(strings.Repeat("It was the best of times. ", 30))), tok)
	if err != nil {
		t.Fatal(err)
	}
	_, err = eval.Perplexity(context.Background(), m, short, eval.Options{Context: 256})
	if !errors.Is(err, eval.ErrText) || !strings.Contains(err.Error(), "needs at least 512") {
		t.Errorf("short text: %v", err)
	}
	if _, err := eval.Perplexity(context.Background(), m, short, eval.Options{Context: 2}); err == nil {
		t.Error("context 2 accepted")
	}
	// A cancelled context stops the run.
	text := pg98Text(t, tok)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := eval.Perplexity(ctx, m, text, eval.Options{Context: 64}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestBench(t *testing.T) {
	m, tok := loadModel(t, books5M)
	var runs []string
	r, err := eval.Bench(context.Background(), m, eval.BenchOptions{Prompt: 16, Gen: 8, Reps: 2, BOS: tok.BOS(),
		Progress: func(test string, rep int) { runs = append(runs, test) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Tests) != 2 || r.Tests[0].Name != "pp16" || r.Tests[1].Name != "tg8" || len(runs) != 6 {
		t.Fatalf("tests %+v, runs %v", r.Tests, runs)
	}
	// F32: all matrices but the 512 × 256 embedding, plus one of its rows.
	const want = 19936256 - 13312 - 512*256*4 + 256*4
	if r.WeightBytes != want || eval.WeightBytesPerToken(m) != want {
		t.Errorf("weight bytes per token %d, want %d", r.WeightBytes, want)
	}
	for i, tt := range r.Tests {
		gbs := float64(want) * tt.Mean / 1e9
		if i == 0 {
			gbs = 0 // prompt processing: no per-token bandwidth
		}
		if len(tt.Samples) != 2 || !(tt.Mean > 0) || tt.Std < 0 || math.Abs(tt.GBPerSecond-gbs) > 1e-9 {
			t.Errorf("%s: %+v", tt.Name, tt)
		}
	}
	if r.PeakRSS == 0 && eval.PeakRSS() != 0 {
		t.Error("no peak RSS")
	}
	if _, err := eval.Bench(context.Background(), m, eval.BenchOptions{Prompt: -1}); err == nil {
		t.Error("negative prompt accepted")
	}
}
