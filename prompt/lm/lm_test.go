package lm

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"

	_ "github.com/lmc-project/lmc/models/lmcmini" // the built-in model
	"github.com/lmc-project/lmc/prompt"
)

var (
	miniOnce sync.Once
	mini     *Model
	miniErr  error
)

// lmcMini loads the built-in model once for every test.
func lmcMini(t testing.TB) *Model {
	t.Helper()
	miniOnce.Do(func() { mini, miniErr = Load("lmc-mini", Options{}) })
	if miniErr != nil {
		t.Fatal(miniErr)
	}
	return mini
}

// logSoftmaxAt is −ln softmax(logits)[i], computed in float64 with a
// shifted log-sum-exp (independently of the package's helper).
func logSoftmaxAt(logits []float32, i int) float64 {
	shift := float64(logits[0])
	for _, v := range logits[1:] {
		shift = math.Max(shift, float64(v))
	}
	var z float64
	for _, v := range logits {
		z += math.Exp(float64(v) - shift)
	}
	return -(float64(logits[i]) - shift - math.Log(z))
}

func TestScoreTextsConcatenate(t *testing.T) {
	m := lmcMini(t)
	sc := NewScorer(m)
	long := strings.Repeat("The ship sailed on, and the sea was calm under a grey sky. ", 40) // ~1000 tokens, over the 512 context
	cases := []struct{ name, prefix, text string }{
		{"no prefix", "", "It was the best of times, it was the worst of times."},
		{"prefix", "It was the best of times,", " it was the worst of times."},
		{"word split at the boundary", "The ri", "ver ran fast"},
		{"leading and trailing space", "Hello.", "  two spaces before, a newline after\n"},
		{"unicode", "Café", " naïve — 日本語 🙂 déjà vu"},
		{"only spaces", "x", "   "},
		{"numbers and code", "", "x := 42 // 3.14159\nfmt.Println(x)"},
		{"long text", "", long},
		{"long prefix", long, "And then the wind rose."},
		{"long both", long, long},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ts, err := sc.Score(context.Background(), c.prefix, c.text)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for i, x := range ts {
				b.WriteString(x.Text)
				if math.IsNaN(x.SelfInfo) || math.IsInf(x.SelfInfo, 0) || x.SelfInfo < 0 {
					t.Errorf("token %d %q: self-information %v", i, x.Text, x.SelfInfo)
				}
			}
			if b.String() != c.text {
				t.Errorf("token texts join to %q, want %q", b.String(), c.text)
			}
			if n := len(m.Tokenizer().Encode(c.text, false)); len(ts) != n {
				t.Errorf("%d scores for %d tokens", len(ts), n)
			}
		})
	}
	if ts, err := sc.Score(context.Background(), "prefix", ""); err != nil || len(ts) != 0 {
		t.Errorf("empty text: %v, %v", ts, err)
	}
}

// TestScoreMatchesLogits checks the self-information against −log softmax
// of the logits of one whole-sequence pass (BOS, prefix ids, text ids).
func TestScoreMatchesLogits(t *testing.T) {
	m := lmcMini(t)
	tok := m.Tokenizer()
	sc := NewScorer(m)
	long := strings.Repeat("Once more the bells rang over the town. ", 80)
	cases := []struct {
		name, prefix, text string
		seen               int // prefix tokens the reference sees (-1: all)
	}{
		{"short", "It was the best of times,", " it was the worst of times.", -1},
		{"no prefix", "", "Call me Ishmael. Some years ago, never mind how long precisely.", -1},
		// BOS + prefix + text exceed the 512 positions: only the last
		// prefix tokens that fit are seen.
		{"truncated prefix", long, " The clock struck twelve, and the street was empty.", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pids, tids := tok.Encode(c.prefix, false), tok.Encode(c.text, false)
			if c.prefix == "" {
				pids = nil
			}
			if c.seen == 0 {
				c.seen = m.Context() - 1 - len(tids)
				if c.seen >= len(pids) {
					t.Fatalf("the prefix (%d tokens) fits; make it longer", len(pids))
				}
			}
			if c.seen >= 0 {
				pids = pids[len(pids)-c.seen:]
			}
			ids := append(append([]int{tok.BOS()}, pids...), tids...)
			sess := m.Net().NewSession(m.Context())
			logits, err := sess.PrefillAll(ids)
			if err != nil {
				t.Fatal(err)
			}
			ts, err := sc.Score(context.Background(), c.prefix, c.text)
			if err != nil {
				t.Fatal(err)
			}
			if len(ts) != len(tids) {
				t.Fatalf("%d scores for %d tokens", len(ts), len(tids))
			}
			V := m.Net().Config.VocabSize
			for k := range tids {
				at := 1 + len(pids) + k // position of text token k
				want := logSoftmaxAt(logits[(at-1)*V:at*V], ids[at])
				if d := math.Abs(ts[k].SelfInfo - want); d > 1e-3 {
					t.Errorf("token %d %q: %.5f, want %.5f", k, ts[k].Text, ts[k].SelfInfo, want)
				}
			}
		})
	}
}

// TestRepeatedSentenceLess: a sentence said again right after itself is
// more predictable the second time. lmc-mini copies weakly (about 10%
// fewer nats), and not for every sentence, so the test sums over four.
func TestRepeatedSentenceLess(t *testing.T) {
	sc := NewScorer(lmcMini(t))
	sentences := []string{
		"The old man walked slowly down to the river, and sat there until the evening came.",
		"It was the best of times, it was the worst of times.",
		"Mr. Darcy looked at Elizabeth, and said nothing.",
		"the cat and the dog and the bird",
	}
	var first, second float64
	for _, s := range sentences {
		a, err := sc.Score(context.Background(), "", s)
		if err != nil {
			t.Fatal(err)
		}
		b, err := sc.Score(context.Background(), s+"\n", s)
		if err != nil {
			t.Fatal(err)
		}
		first += sum(a)
		second += sum(b)
	}
	t.Logf("first time %.1f nats, second time %.1f", first, second)
	if second >= 0.95*first {
		t.Errorf("repeated sentences: %.1f nats the second time, %.1f the first", second, first)
	}
}

func sum(ts []prompt.TokenScore) float64 {
	s := 0.0
	for _, t := range ts {
		s += t.SelfInfo
	}
	return s
}

// TestConditionalPerplexity: a question is more predictable after the
// document it is about. lmc-mini is a weak judge of relevance (it mostly
// rewards shared words), so the test asks that the matching documents win
// on average and for at least two questions of three.
func TestConditionalPerplexity(t *testing.T) {
	sc := NewScorer(lmcMini(t))
	docs := []string{
		"The old man walked slowly down to the river, and sat there until the evening came.",
		"She poured the tea and asked her sister about the dinner party at the great house.",
		"The king and his lords met in the castle hall to speak of the war with France.",
	}
	questions := []string{
		"Did the old man walk down to the river?",
		"Did she ask her sister about the dinner party?",
		"Did the king meet his lords in the castle hall?",
	}
	var match, other float64
	wins := 0
	for qi, q := range questions {
		best, bestDoc := math.Inf(1), -1
		for di, d := range docs {
			p, err := sc.ConditionalPerplexity(context.Background(), d, q)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("question %d, document %d: %.3f nats/token", qi, di, p)
			if di == qi {
				match += p / float64(len(docs))
			} else {
				other += p / float64(len(docs)*(len(docs)-1))
			}
			if p < best {
				best, bestDoc = p, di
			}
		}
		if bestDoc == qi {
			wins++
		}
	}
	if match >= other || wins < 2 {
		t.Errorf("matching documents: %.3f nats/token, others %.3f; %d of %d questions rank theirs first", match, other, wins, len(questions))
	}
	if _, err := sc.ConditionalPerplexity(context.Background(), "doc", " "); err == nil {
		t.Error("an empty question: no error")
	}
}

func cosine(a, b []float32) float64 {
	var d float64
	for i := range a {
		d += float64(a[i]) * float64(b[i])
	}
	return d
}

func TestEmbedder(t *testing.T) {
	m := lmcMini(t)
	e := NewEmbedder(m)
	sea := []string{
		"The ship sailed across the sea, and the sailors watched the waves and the wind.",
		"On the ocean the vessel moved before the wind; the crew looked at the water.",
		"The boat went over the waves while the men on deck looked out to sea.",
	}
	other := []string{
		"She poured the tea and asked her sister about the dinner party at the house.",
		"x := 42 // 1234 5678 fmt.Println(x)",
	}
	long := strings.Repeat("The ship sailed on, and the sea was calm. ", 60)
	texts := append(append(append([]string{}, sea...), other...), sea[0], "", long)
	vs, err := e.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != len(texts) {
		t.Fatalf("%d vectors for %d texts", len(vs), len(texts))
	}
	for i, v := range vs {
		if len(v) != e.Dim() || e.Dim() != 256 {
			t.Fatalf("vector %d has %d floats, Dim %d", i, len(v), e.Dim())
		}
		if n := cosine(v, v); math.Abs(n-1) > 1e-5 {
			t.Errorf("vector %d (%q): norm² %v", i, truncate(texts[i]), n)
		}
	}
	if c := cosine(vs[0], vs[5]); math.Abs(c-1) > 1e-6 {
		t.Errorf("identical texts: cosine %v", c)
	}
	// each pair of sea sentences is closer than any sea sentence to an
	// unrelated text
	minSame := 1.0
	for i := range sea {
		for j := i + 1; j < len(sea); j++ {
			minSame = min(minSame, cosine(vs[i], vs[j]))
		}
	}
	for i := range sea {
		for k := range other {
			if c := cosine(vs[i], vs[len(sea)+k]); c >= minSame {
				t.Errorf("%q vs unrelated %q: cosine %.3f ≥ the least similar sea pair's %.3f", sea[i], other[k], c, minSame)
			}
		}
	}
	// one at a time gives the same vectors (the session is reused)
	one, err := e.Embed(context.Background(), []string{sea[1]})
	if err != nil {
		t.Fatal(err)
	}
	if c := cosine(one[0], vs[1]); math.Abs(c-1) > 1e-6 {
		t.Errorf("the same text embedded again: cosine %v", c)
	}
}

func truncate(s string) string {
	if len(s) > 30 {
		return s[:30] + "…"
	}
	return s
}

func TestGenerator(t *testing.T) {
	m := lmcMini(t)
	req := prompt.GenerateRequest{System: "You summarize.", Prompt: "Summarize: The old man walked down to the river, and sat there until the evening came.", MaxTokens: 24}
	cases := []struct {
		name  string
		o     GenerateOptions
		req   prompt.GenerateRequest
		limit int
	}{
		{"greedy", GenerateOptions{}, req, 24},
		{"option caps", GenerateOptions{MaxTokens: 5}, req, 5},
		{"request caps", GenerateOptions{MaxTokens: 100}, prompt.GenerateRequest{Prompt: req.Prompt, MaxTokens: 3}, 3},
		{"seeded", GenerateOptions{Temperature: 0.8, TopK: 40, TopP: 0.95, Seed: 7}, req, 24},
		{"long prompt", GenerateOptions{}, prompt.GenerateRequest{Prompt: strings.Repeat("The bells rang over the town. ", 200), MaxTokens: 8}, 8},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := NewGenerator(m, c.o)
			a, err := g.generate(context.Background(), c.req)
			if err != nil {
				t.Fatal(err)
			}
			b, err := g.generate(context.Background(), c.req)
			if err != nil {
				t.Fatal(err)
			}
			if len(a) > c.limit {
				t.Errorf("%d tokens, over the cap of %d", len(a), c.limit)
			}
			if len(a) < c.limit && !(len(a) == 0 && c.limit == 0) {
				// stopped early: only EOS may stop it
				t.Logf("stopped at %d tokens (end of sequence)", len(a))
			}
			if tok := m.Tokenizer().Decode(a); tok != m.Tokenizer().Decode(b) {
				t.Errorf("not reproducible: %q then %q", tok, m.Tokenizer().Decode(b))
			}
			s, err := g.Generate(context.Background(), c.req)
			if err != nil {
				t.Fatal(err)
			}
			if s != strings.TrimSpace(m.Tokenizer().Decode(a)) {
				t.Errorf("Generate %q, tokens decode to %q", s, m.Tokenizer().Decode(a))
			}
		})
	}
}

func TestPromptText(t *testing.T) {
	got := PromptText(prompt.GenerateRequest{System: " Be brief. ", Prompt: "Summarize: x\n", JSON: true})
	if want := "Be brief.\n\nSummarize: x\n\nAnswer (JSON):"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}

// countdown is a context whose Err turns to Canceled after n calls.
type countdown struct {
	context.Context
	n int
}

func (c *countdown) Err() error {
	if c.n <= 0 {
		return context.Canceled
	}
	c.n--
	return nil
}

func TestCancel(t *testing.T) {
	m := lmcMini(t)
	sc, e, g := NewScorer(m), NewEmbedder(m), NewGenerator(m, GenerateOptions{})
	long := strings.Repeat("The ship sailed on, and the sea was calm under a grey sky. ", 40)
	want, err := sc.Score(context.Background(), "", long)
	if err != nil {
		t.Fatal(err)
	}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	for n := 0; n < 5; n++ { // canceled before the first pass, then between passes
		ctx := context.Context(done)
		if n > 0 {
			ctx = &countdown{context.Background(), n}
		}
		if _, err := sc.Score(ctx, "", long); !errors.Is(err, context.Canceled) {
			t.Errorf("Score after %d checks: %v", n, err)
		}
		if _, err := e.Embed(ctx, []string{"a", long, "b"}); !errors.Is(err, context.Canceled) {
			t.Errorf("Embed after %d checks: %v", n, err)
		}
		if _, err := g.Generate(ctx, prompt.GenerateRequest{Prompt: "Once upon a time", MaxTokens: 64}); !errors.Is(err, context.Canceled) {
			t.Errorf("Generate after %d checks: %v", n, err)
		}
	}
	// an aborted call leaves nothing behind
	got, err := sc.Score(context.Background(), "", long)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("token %d after a canceled call: %+v, before %+v", i, got[i], want[i])
		}
	}
}

func TestLoadError(t *testing.T) {
	_, err := Load("/nonexistent/model.gguf", Options{})
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/model.gguf") {
		t.Errorf("error %v does not name the path", err)
	}
}

// TestConcurrent runs the three backends of one model at once (run with
// -race).
func TestConcurrent(t *testing.T) {
	m := lmcMini(t)
	sc, e, g := NewScorer(m), NewEmbedder(m), NewGenerator(m, GenerateOptions{})
	var wg sync.WaitGroup
	errs := make(chan error, 12)
	for i := 0; i < 4; i++ {
		wg.Add(3)
		go func() {
			defer wg.Done()
			_, err := sc.Score(context.Background(), "Once upon", " a time there was a king.")
			errs <- err
		}()
		go func() {
			defer wg.Done()
			_, err := e.Embed(context.Background(), []string{"a king", "a queen"})
			errs <- err
		}()
		go func() {
			defer wg.Done()
			_, err := g.Generate(context.Background(), prompt.GenerateRequest{Prompt: "Once upon a time", MaxTokens: 4})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// TestPrune runs the prune method with the scorer: the budget holds, and
// the report names the scorer.
func TestPrune(t *testing.T) {
	sc := NewScorer(lmcMini(t))
	text := strings.Repeat("The old man walked slowly down to the river in 1843, and sat there until the evening came. ", 12)
	res, err := prompt.Compress(context.Background(), prompt.Input{Text: text},
		prompt.Options{Methods: []string{"prune"}, Rate: 0.5, Counter: prompt.Words, Scorer: sc})
	if err != nil {
		t.Fatal(err)
	}
	before, after := prompt.Words.Count(text), prompt.Words.Count(res.Text)
	if after > before/2 || after < before/3 {
		t.Errorf("%d words of %d kept", after, before)
	}
	if res.Report.Scorer == nil || res.Report.Scorer.Name != "lm:lmc-mini" || res.Report.Scorer.Tokens == 0 {
		t.Errorf("scorer report %+v", res.Report.Scorer)
	}
	if !strings.Contains(res.Text, "1843") {
		t.Errorf("the number was dropped: %q", res.Text)
	}
}

func BenchmarkScorer(b *testing.B) {
	sc := NewScorer(lmcMini(b))
	text := strings.Repeat("It was the best of times, it was the worst of times, it was the age of wisdom. ", 6)
	prefix := strings.Repeat("There were a king with a large jaw and a queen with a plain face. ", 4)
	tokens := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ts, err := sc.Score(context.Background(), prefix, text)
		if err != nil {
			b.Fatal(err)
		}
		tokens += len(ts)
	}
	b.ReportMetric(float64(tokens)/b.Elapsed().Seconds(), "tokens/s")
}
