package kveval_test

import (
	"os"
	"testing"

	"github.com/lmc-project/lmc/internal/shared"
	"github.com/lmc-project/lmc/model"
	"github.com/lmc-project/lmc/model/kveval"
	"github.com/lmc-project/lmc/modelfile"
	"github.com/lmc-project/lmc/tokenizer"
)

func books(t *testing.T) (*model.Model, []int) {
	t.Helper()
	mf, err := modelfile.Open(shared.Path(t, "models/books5M/books5M-f32.gguf"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mf.Close() })
	m, err := model.Load(mf, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := tokenizer.New(mf.Vocab)
	b, err := os.ReadFile(shared.Path(t, "text/gutenberg/pg98.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return m, tok.Encode(string(b[:200000]), true)
}

// TestRun checks the measurements' invariants on books5M: the base has no
// divergence, coarser types diverge more, budgets keep what they say, and
// every number is filled in.
func TestRun(t *testing.T) {
	m, ids := books(t)
	cfgs, err := kveval.ParseConfigs("f32, q8_0, q4_0, f32@h2o:25, f32+r32")
	if err != nil {
		t.Fatal(err)
	}
	res, err := kveval.Run(m, ids, cfgs, kveval.Options{Context: 64, Chunks: 2, BOS: 1, Passage: 8, Trials: 1})
	if err != nil {
		t.Fatal(err)
	}
	f32, q8, q4, h2o, lr := res[0], res[1], res[2], res[3], res[4]
	if !(lr.KLD > 0) || lr.BytesPerToken != f32.BytesPerToken*3/4 {
		t.Errorf("rank-32 keys: KLD %g, %g bytes/token", lr.KLD, lr.BytesPerToken)
	}
	if f32.KLD != 0 || f32.DeltaPPL != 0 || f32.Top1 != 1 || len(f32.Retrieval) != 4 || len(q8.Retrieval) != 3 {
		t.Errorf("base: %+v", f32)
	}
	if !(0 < q8.KLD && q8.KLD < q4.KLD) || !(q8.BytesPerToken < f32.BytesPerToken/3) {
		t.Errorf("q8_0 KLD %g, q4_0 %g; bytes %g vs %g", q8.KLD, q4.KLD, q8.BytesPerToken, f32.BytesPerToken)
	}
	if h2o.BudgetTokens != 16 || h2o.Config != "f32 h2o 25%" || !(h2o.KLD > 0) {
		t.Errorf("h2o: %+v", h2o)
	}
	for _, r := range res {
		if !(r.PPL > 1 && r.TokensPerSecond > 0 && r.CacheBytes > 0) {
			t.Errorf("%s: PPL %g, %g tok/s, cache %d", r.Config, r.PPL, r.TokensPerSecond, r.CacheBytes)
		}
	}
}

// TestLong checks that StreamingLLM's memory stays constant over a
// sequence 4× the context while the full cache grows.
func TestLong(t *testing.T) {
	m, ids := books(t)
	cfgs, _ := kveval.ParseConfigs("f32,f32@streaming:50")
	res, err := kveval.Long(m, ids, cfgs, 32, 4, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	full, st := res[0], res[1]
	if !(full.CacheBytes[3] > full.CacheBytes[0]) || st.CacheBytes[3] != st.CacheBytes[1] || len(st.SegmentPPL) != 4 {
		t.Errorf("full cache bytes %v, streaming %v", full.CacheBytes, st.CacheBytes)
	}
}

func TestParseConfigs(t *testing.T) {
	c, err := kveval.ParseConfigs("q8_0/f16, f16@streaming:12.5%, f32+r32")
	if err != nil || len(c) != 3 || c[0].Name() != "q8_0/f16" || c[1].Name() != "f16 streaming 13%" || c[1].Budget != 0.125 || c[2].Name() != "f32 keys r32" {
		t.Errorf("ParseConfigs = %+v, %v", c, err)
	}
	for _, bad := range []string{"", "q9", "f16@h2o", "f16@h2o:0", "f16@h2o:120", "f16@lru:10", "f16+rx"} {
		if _, err := kveval.ParseConfigs(bad); err == nil {
			t.Errorf("ParseConfigs(%q) succeeded", bad)
		}
	}
	if g := kveval.Grid(model.KVF16, 64); len(g) != 8+3+20 || g[0].KV != model.KVF32 || g[10].KeyRank != 32 {
		t.Errorf("Grid has %d configs", len(g))
	}
}
