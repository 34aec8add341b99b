package model_test

import (
	"errors"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/lmc-project/lmc/internal/shared"
	"github.com/lmc-project/lmc/model"
	"github.com/lmc-project/lmc/tokenizer"
)

// bookTokens returns n tokens of pg98 (A Tale of Two Cities, held out of
// books5M's training), starting with BOS, and the model.
func bookTokens(t testing.TB, n int) (*model.Model, []int) {
	t.Helper()
	m, v := loadWithVocab(t, "models/books5M/books5M-f32.gguf")
	b, err := os.ReadFile(shared.Path(t, "text/gutenberg/pg98.txt"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.New(v)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	if i := strings.Index(text, "It was the best of times"); i >= 0 {
		text = text[i:]
	}
	ids := tok.Encode(text[:min(len(text), 40*n)], true)
	if len(ids) < n {
		t.Fatalf("only %d tokens of text", len(ids))
	}
	return m, ids[:n]
}

// klds returns the mean and max KL divergence (nats) of the rows of got
// from the rows of ref (logits, vocab columns).
func klds(ref, got []float32, vocab int) (mean, worst float64) {
	rows := len(ref) / vocab
	for r := 0; r < rows; r++ {
		p := softmax64(ref[r*vocab : (r+1)*vocab])
		q := softmax64(got[r*vocab : (r+1)*vocab])
		var kl float64
		for i := range p {
			if p[i] > 0 {
				kl += p[i] * math.Log(p[i]/math.Max(q[i], 1e-300))
			}
		}
		mean += kl
		worst = math.Max(worst, kl)
	}
	return mean / float64(rows), worst
}

// TestKVTypes runs books5M over 256 tokens of held-out text with every
// cache type and bounds the mean KL divergence of its next-token
// distributions from the float32 cache's. The bounds are about 3× the
// measured values (logged), in the order of the types' precision; Q8_0
// must stay within 0.002 (llama.cpp reports 0.001 on LLaMA-3-8B).
func TestKVTypes(t *testing.T) {
	m, ids := bookTokens(t, 256)
	ref, err := m.NewSession(256).PrefillAll(ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		kv    string
		bound float64
	}{
		{"f16", 1e-6}, {"bf16", 2e-5}, {"fp8", 4e-3}, {"q8_0", 2e-3}, {"q4_0", 2.5e-2},
		{"int4", 1e-4}, {"int2", 4e-3}, {"q8_0/f16", 2e-3}, {"f16/q4_0", 5e-3}, {"int4/q8_0", 5e-5},
	} {
		typ, err := model.ParseKVType(c.kv)
		if err != nil {
			t.Fatal(err)
		}
		s, err := m.NewSessionWith(model.SessionOptions{Context: 256, KV: typ, Batch: 64})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.PrefillAll(ids)
		if err != nil {
			t.Fatal(err)
		}
		mean, worst := klds(ref, got, m.Config.VocabSize)
		t.Logf("%-10s KLD mean %.2e max %.2e, %.0f bytes/token", c.kv, mean, worst, s.Cache().(*model.Cache).BytesPerToken())
		if !(mean <= c.bound) {
			t.Errorf("%s: mean KLD %.3g > %.3g", c.kv, mean, c.bound)
		}
	}
}

// TestKVBadOptions checks that impossible cache settings fail when the
// session is made, with an error that names the problem.
func TestKVBadOptions(t *testing.T) {
	m := openTiny(t, writeTiny(t, tinyCases[0])) // head_dim 16
	books := load(t, "models/books5M/books5M-f32.gguf")
	for _, c := range []struct {
		name string
		m    *model.Model
		o    model.SessionOptions
		want string
	}{
		{"block type on head_dim 16", m, model.SessionOptions{KV: model.KVQ8_0}, "multiple of 32"},
		{"K type on head_dim 16", m, model.SessionOptions{KV: model.KVPair(model.KVQ4_0, model.KVF16)}, "key type q4_0"},
		{"unknown type", books, model.SessionOptions{KV: model.KVType(99)}, "unknown KV cache type"},
		{"policy without budget", books, model.SessionOptions{KVOptions: model.KVOptions{Policy: model.KVH2O}}, "needs a budget"},
		{"budget without policy", books, model.SessionOptions{KVOptions: model.KVOptions{Budget: 10}}, "needs an eviction policy"},
		{"budget above context", books, model.SessionOptions{Context: 100, KVOptions: model.KVOptions{Policy: model.KVTOVA, Budget: 101}}, "above the context"},
		{"fraction above 1", books, model.SessionOptions{KVOptions: model.KVOptions{Policy: model.KVTOVA, BudgetFraction: 1.5}}, "out of range"},
		{"unknown policy", books, model.SessionOptions{KVOptions: model.KVOptions{Policy: 17, Budget: 5}}, "unknown KV policy"},
		{"kivi with eviction", books, model.SessionOptions{KV: model.KVInt4, KVOptions: model.KVOptions{Policy: model.KVStreaming, Budget: 64}}, "KIVI"},
		{"sinks fill budget", books, model.SessionOptions{KVOptions: model.KVOptions{Policy: model.KVStreaming, Budget: 4}}, "sinks"},
		{"page not multiple of group", books, model.SessionOptions{KV: model.KVInt2, KVOptions: model.KVOptions{PageSize: 48}}, "multiple of the KIVI group"},
	} {
		_, err := c.m.NewSessionWith(c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want one containing %q", c.name, err, c.want)
		}
	}
	for _, s := range []string{"q4", "f16/", "int3/f16", "fp16"} {
		if _, err := model.ParseKVType(s); err == nil {
			t.Errorf("ParseKVType(%q) succeeded", s)
		}
	}
	for _, s := range []string{"f32", "f16", "bf16", "fp8", "q8_0", "q4_0", "int4", "int2", "q8_0/f16", "int4/int2"} {
		if typ, err := model.ParseKVType(s); err != nil || typ.String() != s {
			t.Errorf("ParseKVType(%q) = %v, %v", s, typ, err)
		}
	}
	if _, err := model.ParseKVPolicy("lru"); err == nil {
		t.Error(`ParseKVPolicy("lru") succeeded`)
	}
	_ = errors.New
}
