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

// TestKeyBasis calibrates low-rank key bases on one part of pg98 and
// evaluates another: with the full rank the basis is only a rotation
// (logits as with the plain cache, to float32 rounding); lower ranks keep
// less of the keys' energy and diverge more; block key types need a rank
// that is a multiple of 32.
func TestKeyBasis(t *testing.T) {
	m, ids := bookTokens(t, 512)
	calib, test := ids[:256], ids[256:]
	test[0] = 1
	ref, err := m.NewSession(256).PrefillAll(test)
	if err != nil {
		t.Fatal(err)
	}
	prev := -1.0
	for _, rank := range []int{64, 48, 32} {
		kb, err := model.CalibrateKeyBasis(m, calib, 256, rank)
		if err != nil {
			t.Fatal(err)
		}
		s, err := m.NewSessionWith(model.SessionOptions{Context: 256, KVOptions: model.KVOptions{KeyBasis: kb}})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.PrefillAll(test)
		if err != nil {
			t.Fatal(err)
		}
		mean, _ := klds(ref, got, m.Config.VocabSize)
		var energy float64
		for _, e := range kb.Energy {
			energy += e / float64(len(kb.Energy))
		}
		t.Logf("key rank %d: energy kept %.4f, KLD %.2e, %.0f bytes/token", rank, energy, mean, s.Cache().(*model.Cache).BytesPerToken())
		if rank == 64 && (mean > 1e-7 || energy < 0.999999) {
			t.Errorf("full rank: KLD %.3g, energy %.6f; want a rotation", mean, energy)
		}
		if mean < prev {
			t.Errorf("rank %d: KLD %.3g below the higher rank's %.3g", rank, mean, prev)
		}
		prev = mean
	}
	kb, _ := model.CalibrateKeyBasis(m, calib, 256, 48)
	if _, err := m.NewSessionWith(model.SessionOptions{KV: model.KVQ8_0, KVOptions: model.KVOptions{KeyBasis: kb}}); err == nil || !strings.Contains(err.Error(), "rank") {
		t.Errorf("q8_0 keys of rank 48: err = %v", err)
	}
	kb.Heads = 3
	if _, err := m.NewSessionWith(model.SessionOptions{KVOptions: model.KVOptions{KeyBasis: kb}}); err == nil {
		t.Error("a key basis of the wrong shape was accepted")
	}
	if _, err := model.CalibrateKeyBasis(m, calib, 256, 65); err == nil {
		t.Error("rank 65 > head_dim accepted")
	}
}

// TestCustomCache checks the attention path for caches a caller supplies
// (NewKVCache's random-access F16 cache): the same logits as the built-in
// F16 cache, whose kernels read the half floats directly.
func TestCustomCache(t *testing.T) {
	m, ids := bookTokens(t, 64)
	c, err := model.NewKVCache(model.KVF16, m.Config.BlockCount, m.Config.HeadCountKV*m.Config.HeadDim, 64)
	if err != nil {
		t.Fatal(err)
	}
	custom, _ := m.NewSessionWith(model.SessionOptions{Cache: c})
	builtin, _ := m.NewSessionWith(model.SessionOptions{Context: 64, KV: model.KVF16})
	a, err := custom.PrefillAll(ids)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := builtin.PrefillAll(ids)
	if d := maxAbsDiff(a, b); d > 1e-4 {
		t.Errorf("custom F16 cache vs built-in: max |Δlogit| %.3g", d)
	}
	if _, ok := custom.Cache().(*model.Cache); ok {
		t.Error("the custom cache was replaced")
	}
}
