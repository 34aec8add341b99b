package prompt_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lmc-project/lmc/prompt"
	"github.com/lmc-project/lmc/prompt/openai"
	"github.com/lmc-project/lmc/prompt/openai/openaitest"
	"github.com/lmc-project/lmc/prompt/tokens"
)

const eiffel = `The Eiffel Tower is a wrought-iron lattice tower in Paris, France. It is named after the engineer Gustave Eiffel, whose company designed and built the tower.

Locally nicknamed "La dame de fer", it was constructed from 1887 to 1889 as the centerpiece of the 1889 World's Fair. Although initially criticised by some of France's leading artists, it has become a global cultural icon of France.

The tower is 330 metres tall, about the same height as an 81-storey building. Its base is square, measuring 125 metres on each side.

The Statue of Liberty is a colossal neoclassical sculpture on Liberty Island in New York Harbor. The copper statue was a gift from the people of France to the people of the United States.`

const rivers = `The Danube is the second-longest river in Europe, after the Volga in Russia. It flows through much of Central and Southeastern Europe, from the Black Forest into the Black Sea.

A large and historically important river, it was once a frontier of the Roman Empire. In the 18th and 19th centuries it was an important part of the Habsburg monarchy's trade routes. Today it connects ten countries, more than any other river in the world.

The Rhine begins in the Swiss canton of Graubünden in the southeastern Swiss Alps. It forms part of the Swiss-Liechtenstein, Swiss-Austrian and Swiss-German borders, then flows through the Rhineland and eventually empties into the North Sea in the Netherlands. Its total length is about 1,230 kilometres.

Rivers have been used as a source of water, for obtaining food, for transport, as a defensive measure, as a source of hydropower to drive machinery, for bathing, and as a means of disposing of waste.`

func o200k(t testing.TB) prompt.Counter {
	c, err := tokens.Open("o200k_base")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func compress(t *testing.T, in prompt.Input, o prompt.Options) *prompt.Result {
	t.Helper()
	r, err := prompt.Compress(context.Background(), in, o)
	if err != nil {
		t.Fatalf("Compress(%v): %v", o.Methods, err)
	}
	return r
}

// isSubsequence reports whether every sentence of out appears in src in
// the same order.
func inOrder(src string, parts []string) bool {
	pos := 0
	for _, p := range parts {
		k := strings.Index(src[pos:], p)
		if k < 0 {
			return false
		}
		pos += k + len(p)
	}
	return true
}

func TestTemplate(t *testing.T) {
	in := "Answer   in\tEnglish.   \n\n\n\nPlease note that the data is private. Answer in English.\n" +
		"```\nkeep    this   spacing\n```\nI hope this helps!\nIn order to win, play. Keep   `a   b` as is."
	r := compress(t, prompt.Input{Text: in}, prompt.Options{Methods: []string{"template"}})
	want := "Answer in English.\n\nThe data is private.\n```\nkeep    this   spacing\n```\nTo win, play. Keep `a   b` as is."
	if r.Text != want {
		t.Errorf("template:\n%q\nwant\n%q", r.Text, want)
	}
	reasons := map[string]int{}
	for _, s := range r.Report.Summary {
		reasons[s.Reason] += s.Count
	}
	if reasons["repeated sentence"] != 1 || reasons["boilerplate"] != 1 || reasons["filler phrase"] != 2 {
		t.Errorf("removal summary %+v", r.Report.Summary)
	}
}

func TestDedupMethod(t *testing.T) {
	p1 := "Our store opens at nine in the morning and closes at six in the evening every weekday, except on public holidays when it opens at ten and closes at four in the afternoon."
	p2 := "Parking is available behind the building for all customers free of charge."
	p3 := "Deliveries arrive on Tuesdays and Fridays before noon, weather permitting, by truck from the central warehouse."
	near := strings.Replace(p1, "six", "seven", 1)
	in := strings.Join([]string{p1, p2, strings.ToUpper(p1), near, p3 + " " + p2}, "\n\n")
	r := compress(t, prompt.Input{Text: in}, prompt.Options{Methods: []string{"dedup"}})
	if want := p1 + "\n\n" + p2 + "\n\n" + p3; r.Text != want {
		t.Errorf("dedup:\n%q\nwant\n%q", r.Text, want)
	}
	got := map[string]int{}
	for _, s := range r.Report.Summary {
		got[s.Reason] = s.Count
	}
	if got["exact duplicate paragraph"] != 1 || got["near-duplicate paragraph"] != 1 || got["exact duplicate sentence"] != 1 {
		t.Errorf("summary %+v", r.Report.Summary)
	}
}

func TestQuery(t *testing.T) {
	c := o200k(t)
	for _, m := range []string{"query", "query-sentences"} {
		t.Run(m, func(t *testing.T) {
			r := compress(t, prompt.Input{Text: eiffel, Question: "How tall is the tower?"},
				prompt.Options{Methods: []string{m}, Rate: 0.3, Counter: c})
			if !strings.Contains(r.Text, "330 metres") {
				t.Errorf("answer lost:\n%s", r.Text)
			}
			if strings.Contains(r.Text, "copper statue") {
				t.Errorf("irrelevant paragraph kept:\n%s", r.Text)
			}
			if n := c.Count(r.Text); n > r.Report.Target || r.Report.Tokens[0].After != n {
				t.Errorf("%d tokens, target %d, report %d", n, r.Report.Target, r.Report.Tokens[0].After)
			}
			if m == "query-sentences" {
				// whole sentences, in document order
				var parts []string
				for _, p := range strings.Split(r.Text, "\n\n") {
					parts = append(parts, strings.Split(p, ". ")...)
				}
				if !inOrder(eiffel, parts) {
					t.Errorf("not a subsequence of the input:\n%s", r.Text)
				}
			} else if !inOrder(eiffel, strings.Fields(r.Text)) {
				t.Errorf("words out of order:\n%s", r.Text)
			}
			if r.Question != "How tall is the tower?" {
				t.Errorf("question changed: %q", r.Question)
			}
		})
	}
}

func TestRerankOrder(t *testing.T) {
	chunks := []string{
		"Bananas are yellow fruit grown in the tropics.",
		"The recipe needs flour, sugar and butter.",
		"Banana bread uses ripe bananas, flour and sugar.",
	}
	in := strings.Join(chunks, "\n\n")
	r := compress(t, prompt.Input{Text: in, Question: "banana bread recipe"}, prompt.Options{Methods: []string{"rerank"}, Rate: 0.99, Counter: prompt.Bytes})
	// BM25: chunk 2 has banana, bread, recipe? (bread+bananas); chunk 1 recipe; chunk 0 bananas
	if !strings.HasPrefix(r.Text, chunks[2]) {
		t.Errorf("most relevant chunk not first:\n%s", r.Text)
	}
	r = compress(t, prompt.Input{Text: in, Question: "banana bread recipe"}, prompt.Options{Methods: []string{"rerank"}, Target: len(chunks[2]) + 2 + len(chunks[1]), Counter: prompt.Bytes, DocumentOrder: true})
	if want := chunks[1] + "\n\n" + chunks[2]; r.Text != want {
		t.Errorf("document order:\n%q\nwant\n%q", r.Text, want)
	}
}

func TestExtractive(t *testing.T) {
	in := "Solar power is cheap. Solar panels convert sunlight into power. Panels on roofs make solar power at home. My cat likes fish."
	r := compress(t, prompt.Input{Text: in}, prompt.Options{Methods: []string{"extractive"}, Target: 12, Counter: prompt.Words})
	if strings.Contains(r.Text, "cat") {
		t.Errorf("the off-topic sentence is not central, yet kept:\n%s", r.Text)
	}
	if len(strings.Fields(r.Text)) > 12 || r.Text == "" {
		t.Errorf("budget: %q", r.Text)
	}
}

// fakeScorer scores words by a table (default 1); tokens are words with
// their leading space.
type fakeScorer map[string]float64

func (f fakeScorer) Name() string { return "fake" }
func (f fakeScorer) Score(_ context.Context, prefix, text string) ([]prompt.TokenScore, error) {
	var out []prompt.TokenScore
	re := regexp.MustCompile(`\s*\S+|\s+$`)
	for _, m := range re.FindAllString(text, -1) {
		v, ok := f[strings.TrimSpace(m)]
		if !ok {
			v = 1
		}
		out = append(out, prompt.TokenScore{Text: m, SelfInfo: v})
	}
	return out, nil
}

func TestPrune(t *testing.T) {
	in := "the cat sat on the mat near 42 dogs"
	sc := fakeScorer{"cat": 9, "mat": 8, "dogs": 7, "sat": 5, "near": 4, "the": 0.1, "on": 0.2}
	r := compress(t, prompt.Input{Text: in}, prompt.Options{Methods: []string{"prune"}, Target: 4, Counter: prompt.Words, Scorer: sc})
	// 42 is a number: kept first; then cat, mat, dogs
	if r.Text != "cat mat 42 dogs" {
		t.Errorf("prune = %q", r.Text)
	}
	if r.Report.Scorer == nil || r.Report.Scorer.Name != "fake" || r.Report.Scorer.Tokens != 9 {
		t.Errorf("scorer stats %+v", r.Report.Scorer)
	}
	// a --keep string is never dropped even if uninformative
	r = compress(t, prompt.Input{Text: in}, prompt.Options{Methods: []string{"prune"}, Target: 4, Counter: prompt.Words, Scorer: sc, Keep: []string{"the mat"}})
	if !strings.Contains(r.Text, "the mat") || len(strings.Fields(r.Text)) > 4 {
		t.Errorf("keep: %q", r.Text)
	}
	// a scorer whose tokens do not cover the text is a backend error
	bad := scorerFunc(func(string) []prompt.TokenScore { return []prompt.TokenScore{{Text: "nope"}} })
	_, err := prompt.Compress(context.Background(), prompt.Input{Text: in}, prompt.Options{Methods: []string{"prune"}, Target: 4, Counter: prompt.Words, Scorer: bad})
	if !errors.Is(err, prompt.ErrBackend) {
		t.Errorf("bad scorer: %v", err)
	}
}

type scorerFunc func(string) []prompt.TokenScore

func (f scorerFunc) Name() string { return "func" }
func (f scorerFunc) Score(_ context.Context, _, text string) ([]prompt.TokenScore, error) {
	return f(text), nil
}

// Each segment is scored given the compressed text before it.
func TestPruneConditioning(t *testing.T) {
	var prefixes []string
	sc := scorerFunc(func(text string) []prompt.TokenScore { return fakeScorer{}.mustScore(text) })
	_ = sc
	rec := recordScorer{prefixes: &prefixes}
	para := strings.Repeat("alpha beta gamma delta. ", 40)
	in := para + "\n\n" + para
	compress(t, prompt.Input{Text: in}, prompt.Options{Methods: []string{"prune"}, Rate: 0.5, Counter: prompt.Words, Scorer: rec})
	if len(prefixes) < 2 || prefixes[0] != "" || prefixes[1] == "" || len(strings.Fields(prefixes[1])) >= 130 {
		t.Errorf("prefixes: %d, first %q, second has %d words (want the compressed first segment)", len(prefixes), first(prefixes), len(strings.Fields(second(prefixes))))
	}
}

func first(s []string) string {
	if len(s) > 0 {
		return s[0]
	}
	return ""
}
func second(s []string) string {
	if len(s) > 1 {
		return s[1]
	}
	return ""
}

type recordScorer struct{ prefixes *[]string }

func (r recordScorer) Name() string { return "rec" }
func (r recordScorer) Score(ctx context.Context, prefix, text string) ([]prompt.TokenScore, error) {
	*r.prefixes = append(*r.prefixes, prefix)
	return fakeScorer{}.Score(ctx, prefix, text)
}

func (f fakeScorer) mustScore(text string) []prompt.TokenScore {
	s, _ := f.Score(context.Background(), "", text)
	return s
}

// Budgets are met exactly in a real tokenizer: never over, and close.
func TestBudgetsExact(t *testing.T) {
	long := eiffel + "\n\n" + rivers + "\n\n```go\nfmt.Println(\"keep me\")\n```"
	for _, enc := range []string{"o200k_base", "cl100k_base"} {
		c, err := tokens.Open(enc)
		if err != nil {
			t.Fatal(err)
		}
		before := c.Count(long)
		for _, m := range []string{"extractive", "rerank", "query", "query-sentences", "prune"} {
			for _, target := range []int{before / 2, before / 3, before / 5} {
				r, err := prompt.Compress(context.Background(), prompt.Input{Text: long, Question: "How tall is the tower?"},
					prompt.Options{Methods: []string{m}, Target: target, Counter: c})
				if err != nil {
					t.Fatalf("%s %s %d: %v", enc, m, target, err)
				}
				n := c.Count(r.Text)
				if n > target || n != r.Report.Tokens[0].After {
					t.Errorf("%s %s: %d tokens for target %d (report %d)", enc, m, n, target, r.Report.Tokens[0].After)
				}
				slack := 40 // at most about one sentence unused
				if m == "prune" || m == "query" {
					slack = 3 // word-level: within a word or two
				}
				if target-n > slack {
					t.Errorf("%s %s: %d tokens for target %d: budget underused", enc, m, n, target)
				}
				if !strings.Contains(r.Text, "```go\nfmt.Println(\"keep me\")\n```") {
					t.Errorf("%s %s: code block not kept verbatim:\n%s", enc, m, r.Text)
				}
			}
		}
	}
}

func TestProtectedSpans(t *testing.T) {
	c := o200k(t)
	in := eiffel + "\n\nInternal ticket ABC-1234 tracks this page."
	for _, m := range []string{"extractive", "rerank", "query", "query-sentences", "prune", "template", "dedup"} {
		o := prompt.Options{Methods: []string{m}, Counter: c, Keep: []string{"La dame de fer"}, KeepRegexp: []*regexp.Regexp{regexp.MustCompile(`[A-Z]{3}-\d{4}`)}}
		if m != "template" && m != "dedup" {
			o.Rate = 0.5
		}
		r := compress(t, prompt.Input{Text: in, Question: "What is the statue made of?"}, o)
		for _, want := range []string{"La dame de fer", "ABC-1234"} {
			if !strings.Contains(r.Text, want) {
				t.Errorf("%s dropped protected %q:\n%s", m, want, r.Text)
			}
		}
	}
	// strict: numbers force their sentence
	r := compress(t, prompt.Input{Text: eiffel, Question: "What is the statue made of?"},
		prompt.Options{Methods: []string{"query-sentences"}, Target: 150, Counter: c, StrictProtect: true, Protect: prompt.ProtectNumbers})
	for _, n := range []string{"1887", "330", "125"} {
		if !strings.Contains(r.Text, n) {
			t.Errorf("strict protection lost %s:\n%s", n, r.Text)
		}
	}
	_, err := prompt.Compress(context.Background(), prompt.Input{Text: eiffel, Question: "x?"},
		prompt.Options{Methods: []string{"query-sentences"}, Target: 20, Counter: c, StrictProtect: true})
	if !errors.Is(err, prompt.ErrBudget) {
		t.Errorf("protected content over the budget: %v", err)
	}
}

func TestEntities(t *testing.T) {
	got := prompt.Entities("Yesterday Gustave Eiffel met the Bank of America board in New York. NASA called. The cat slept.")
	want := []string{"Gustave Eiffel", "Bank of America", "New York", "NASA"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Entities = %q, want %q", got, want)
	}
}

func TestParseMessages(t *testing.T) {
	good := []struct {
		in   string
		want []prompt.Message
	}{
		{`[{"role":"user","content":"hi"}]`, []prompt.Message{{Role: "user", Content: "hi"}}},
		{`{"model":"x","messages":[{"role":"system","content":"s"},{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]}`,
			[]prompt.Message{{Role: "system", Content: "s"}, {Role: "user", Content: "a\nb"}}},
		{`[{"role":"assistant","content":null,"name":"bot"}]`, []prompt.Message{{Role: "assistant", Name: "bot"}}},
	}
	for _, tc := range good {
		got, err := prompt.ParseMessages([]byte(tc.in))
		if err != nil || fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("ParseMessages(%s) = %v, %v", tc.in, got, err)
		}
	}
	for _, bad := range []string{
		``, `[]`, `{}`, `{"messages":[]}`, `[{"role":"user","content":"hi"}`, `[{"content":"x"}]`,
		`[{"role":"wizard","content":"x"}]`, `[{"role":"user","content":[{"type":"image_url"}]}]`,
		`[{"role":"user","content":5}]`, `"hello"`, `[1]`,
	} {
		if _, err := prompt.ParseMessages([]byte(bad)); !errors.Is(err, prompt.ErrMessages) {
			t.Errorf("ParseMessages(%q) error %v, want ErrMessages", bad, err)
		}
	}
}

func TestErrors(t *testing.T) {
	q := prompt.Input{Text: eiffel, Question: "How tall?"}
	tests := []struct {
		name string
		in   prompt.Input
		opts prompt.Options
		want error
	}{
		{"empty", prompt.Input{Text: " \n "}, prompt.Options{}, prompt.ErrEmpty},
		{"empty messages", prompt.Input{Messages: []prompt.Message{{Role: "user", Content: " "}}}, prompt.Options{}, prompt.ErrEmpty},
		{"budget over input", q, prompt.Options{Methods: []string{"query"}, Target: 1 << 20}, prompt.ErrBudget},
		{"bad rate", q, prompt.Options{Methods: []string{"query"}, Rate: 1.5}, prompt.ErrBudget},
		{"negative target", q, prompt.Options{Methods: []string{"query"}, Target: -1}, prompt.ErrBudget},
		{"no budget", q, prompt.Options{Methods: []string{"query"}}, prompt.ErrBudget},
		{"budget unused", q, prompt.Options{Methods: []string{"dedup"}, Target: 10}, prompt.ErrBudget},
		{"unknown method", q, prompt.Options{Methods: []string{"zip"}}, prompt.ErrMethod},
		{"no question", prompt.Input{Text: eiffel}, prompt.Options{Methods: []string{"query"}, Rate: 0.5}, prompt.ErrMethod},
		{"no generator", q, prompt.Options{Methods: []string{"summarize"}, Rate: 0.5}, prompt.ErrMethod},
		{"no embedder", q, prompt.Options{Methods: []string{"embed"}, Rate: 0.5}, prompt.ErrMethod},
		{"memory on text", q, prompt.Options{Methods: []string{"memory"}, Rate: 0.5}, prompt.ErrMethod},
		// one paragraph, one chunk, larger than the budget: nothing to keep
		{"no whole unit fits", prompt.Input{Text: "The tower was designed by the engineers of Gustave Eiffel's company and built from 1887 to 1889.", Question: "who designed it"}, prompt.Options{Methods: []string{"rerank"}, Rate: 0.5}, prompt.ErrBudget},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := prompt.Compress(context.Background(), tc.in, tc.opts)
			if !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
		})
	}
	// with Fallback, a budget over the input gives the input back
	r, err := prompt.Compress(context.Background(), q, prompt.Options{Methods: []string{"query"}, Target: 1 << 20, Fallback: true})
	if err != nil || r.Text != eiffel || r.Report.Fallback == "" || r.Report.Ratio != 1 {
		t.Errorf("fallback: %v %+v", err, r)
	}
}

func server(t *testing.T, o openaitest.Options) (*openaitest.Server, *openai.Client) {
	s := openaitest.New(o)
	t.Cleanup(s.Close)
	c, err := openai.New(s.BaseURL())
	if err != nil {
		t.Fatal(err)
	}
	c.Timeout = 2 * time.Second
	return s, c
}

// The generator backend against an OpenAI-compatible server speaking the
// real wire format, streaming and not.
func TestSummarizeOpenAI(t *testing.T) {
	summary := "The Eiffel Tower in Paris is 330 metres tall."
	for _, stream := range []bool{false, true} {
		t.Run(fmt.Sprint("stream=", stream), func(t *testing.T) {
			s, c := server(t, openaitest.Options{Reply: func(openai.ChatRequest) string { return summary }})
			r := compress(t, prompt.Input{Text: eiffel, Question: "How tall is it?"},
				prompt.Options{Methods: []string{"summarize"}, Rate: 0.3, Counter: o200k(t), Generator: prompt.OpenAIGenerator(c, stream)})
			if r.Text != summary {
				t.Errorf("summary %q", r.Text)
			}
			req := s.Requests()[0]
			if req.Stream != stream || req.MaxTokens != r.Report.Target || !strings.Contains(req.Messages[1].Content, "How tall is it?") || !strings.Contains(req.Messages[1].Content, "Gustave Eiffel") {
				t.Errorf("request %+v", req)
			}
		})
	}
}

func TestExtractOpenAI(t *testing.T) {
	_, c := server(t, openaitest.Options{Reply: func(r openai.ChatRequest) string {
		if r.ResponseFormat == nil || r.ResponseFormat.Type != "json_object" {
			return "no json asked"
		}
		return "```json\n{\"height\": \"330 metres\", \"city\": \"Paris\", \"extra\": 1}\n```"
	}})
	r := compress(t, prompt.Input{Text: eiffel}, prompt.Options{Methods: []string{"extract"}, Rate: 0.3, Counter: o200k(t),
		Generator: prompt.OpenAIGenerator(c, false), Fields: []string{"height", "city", "architect"}})
	if r.Text != `{"height":"330 metres","city":"Paris","architect":null}` {
		t.Errorf("extract = %s", r.Text)
	}
	_, c = server(t, openaitest.Options{Reply: func(openai.ChatRequest) string { return "Fact one.\n- Fact two.\n\n* Fact three." }})
	r = compress(t, prompt.Input{Text: eiffel}, prompt.Options{Methods: []string{"extract"}, Rate: 0.3, Counter: o200k(t), Generator: prompt.OpenAIGenerator(c, true)})
	if r.Text != "- Fact one.\n- Fact two.\n- Fact three." {
		t.Errorf("facts = %q", r.Text)
	}
}

func TestBackendFailures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		o      openaitest.Options
		fields []string
	}{
		{"timeout", openaitest.Options{Delay: 3 * time.Second}, nil},
		{"garbage", openaitest.Options{Fault: openaitest.Garbage}, nil},
		{"500", openaitest.Options{Fault: openaitest.Status500}, nil},
		{"cut stream", openaitest.Options{Fault: openaitest.CutStream}, nil},
		{"empty answer", openaitest.Options{Reply: func(openai.ChatRequest) string { return "  " }}, nil},
		{"not json", openaitest.Options{Reply: func(openai.ChatRequest) string { return "sure! here it is" }}, []string{"a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, c := server(t, tc.o)
			c.Timeout = 200 * time.Millisecond
			method := "summarize"
			if tc.fields != nil {
				method = "extract"
			}
			o := prompt.Options{Methods: []string{method}, Rate: 0.3, Generator: prompt.OpenAIGenerator(c, tc.name == "cut stream"), Fields: tc.fields}
			_, err := prompt.Compress(context.Background(), prompt.Input{Text: eiffel}, o)
			if !errors.Is(err, prompt.ErrBackend) {
				t.Fatalf("error %v, want ErrBackend", err)
			}
			o.Fallback = true
			r, err := prompt.Compress(context.Background(), prompt.Input{Text: eiffel}, o)
			if err != nil || r.Text != eiffel || !strings.Contains(r.Report.Fallback, "backend") {
				t.Errorf("fallback: %v %+v", err, r.Report)
			}
		})
	}
}

func TestEmbedMethod(t *testing.T) {
	s, c := server(t, openaitest.Options{})
	r := compress(t, prompt.Input{Text: eiffel, Question: "copper statue gift people United States"},
		prompt.Options{Methods: []string{"embed"}, Rate: 0.4, Counter: o200k(t), Embedder: prompt.OpenAIEmbedder(c, "emb")})
	if !strings.Contains(r.Text, "copper statue") {
		t.Errorf("embed kept:\n%s", r.Text)
	}
	if len(s.EmbeddingRequests()) != 1 {
		t.Errorf("%d embedding requests", len(s.EmbeddingRequests()))
	}
	// rerank with an embedder combines both scores
	r = compress(t, prompt.Input{Text: eiffel, Question: "copper statue"},
		prompt.Options{Methods: []string{"rerank"}, Rate: 0.4, Counter: o200k(t), Embedder: prompt.OpenAIEmbedder(c, "emb")})
	if !strings.HasPrefix(r.Text, "The Statue of Liberty") {
		t.Errorf("rerank+embeddings:\n%s", r.Text)
	}
	_, c = server(t, openaitest.Options{Fault: openaitest.WrongVectors})
	_, err := prompt.Compress(context.Background(), prompt.Input{Text: eiffel, Question: "q"},
		prompt.Options{Methods: []string{"embed"}, Rate: 0.4, Embedder: prompt.OpenAIEmbedder(c, "emb")})
	if !errors.Is(err, prompt.ErrBackend) {
		t.Errorf("wrong vector count: %v", err)
	}
}

func conversation() []prompt.Message {
	ms := []prompt.Message{{Role: "system", Content: "You are a helpful assistant."},
		{Role: "user", Content: "My order number is 58213."}, {Role: "assistant", Content: "Noted."},
		{Role: "user", Content: "I live in Tromsø."}, {Role: "assistant", Content: "Nice city."}}
	for i := 0; i < 4; i++ {
		ms = append(ms, prompt.Message{Role: "user", Content: fmt.Sprintf("Tell me fact %d about rivers.", i)},
			prompt.Message{Role: "assistant", Content: "Rivers flow downhill into lakes and seas, carrying water and sediment. They shape valleys over thousands of years."})
	}
	return append(ms, prompt.Message{Role: "user", Content: "What was my order number?"})
}

func TestMemory(t *testing.T) {
	var got prompt.GenerateRequest
	// a deterministic fake generator: the transcript lines that share a
	// word with the question
	gen := prompt.GeneratorFunc(func(_ context.Context, r prompt.GenerateRequest) (string, error) {
		got = r
		var keep []string
		for _, l := range strings.Split(r.Source, "\n") {
			for _, w := range []string{"order", "number"} {
				if strings.Contains(l, w) && strings.Contains(r.Question, w) {
					keep = append(keep, l)
					break
				}
			}
		}
		return strings.Join(keep, "\n"), nil
	})
	ms := conversation()
	c := o200k(t)
	r := compress(t, prompt.Input{Messages: ms}, prompt.Options{Methods: []string{"memory"}, Rate: 0.5, Counter: c, Generator: gen, KeepTurns: 2})
	out := r.Messages
	if got.Task != "memory" || got.Question != "What was my order number?" || !strings.Contains(got.Source, "Tromsø") {
		t.Errorf("generator request %+v", got)
	}
	if out[0] != ms[0] || out[1].Role != "system" || !strings.Contains(out[1].Content, "58213") {
		t.Errorf("summary message: %+v", out[:2])
	}
	// the last two turns verbatim
	tail := ms[len(ms)-3:]
	if fmt.Sprint(out[len(out)-3:]) != fmt.Sprint(tail) || len(out) != 5 {
		t.Errorf("kept %d messages, tail %+v", len(out), out[2:])
	}
	total := 0
	for _, m := range out {
		total += c.Count(m.Content)
	}
	if total > r.Report.Target {
		t.Errorf("%d tokens over the target %d", total, r.Report.Target)
	}
	// without a generator: the built-in extractive one keeps the fact
	r = compress(t, prompt.Input{Messages: ms}, prompt.Options{Methods: []string{"memory"}, Rate: 0.5, Counter: c})
	if !strings.Contains(r.Messages[1].Content, "58213") {
		t.Errorf("extractive memory lost the fact: %q", r.Messages[1].Content)
	}
	// chained with query, the summary is compressed too
	r = compress(t, prompt.Input{Messages: ms}, prompt.Options{Methods: []string{"memory", "query"}, Rate: 0.25, Counter: c})
	if !strings.Contains(r.Messages[1].Content, "58213") || r.Messages[len(r.Messages)-1] != ms[len(ms)-1] {
		t.Errorf("memory+query: %+v", r.Messages)
	}
}

func TestMessagesBudget(t *testing.T) {
	c := o200k(t)
	ms := conversation()
	r := compress(t, prompt.Input{Messages: ms}, prompt.Options{Methods: []string{"query-sentences"}, Rate: 0.6, Counter: c})
	if r.Messages[0] != ms[0] || r.Messages[len(ms)-1] != ms[len(ms)-1] {
		t.Error("system prompt or question changed")
	}
	total := 0
	for _, m := range r.Messages {
		total += c.Count(m.Content)
	}
	if total > r.Report.Target || total != r.Report.Tokens[0].After {
		t.Errorf("%d tokens, target %d, report %d", total, r.Report.Target, r.Report.Tokens[0].After)
	}
}

func TestReport(t *testing.T) {
	c := o200k(t)
	cl, _ := tokens.Open("cl100k_base")
	r := compress(t, prompt.Input{Text: eiffel, Question: "How tall is the Eiffel Tower?"},
		prompt.Options{Methods: []string{"template", "query"}, Rate: 0.4, Counter: c, ReportCounters: []prompt.Counter{cl, prompt.Bytes}})
	if len(r.Report.Tokens) != 3 || r.Report.Tokens[1].Tokenizer != "cl100k_base" || r.Report.Tokens[2].After != len(r.Text) {
		t.Errorf("tokens %+v", r.Report.Tokens)
	}
	if r.Report.Ratio < 2 || len(r.Report.Steps) != 2 || r.Report.Steps[1].Target != r.Report.Target {
		t.Errorf("report %+v", r.Report)
	}
	removed := 0
	for _, s := range r.Report.Summary {
		removed += s.Tokens
	}
	if removed == 0 || len(r.Report.Removed) == 0 || r.Report.Protected["number"] == 0 {
		t.Errorf("removals %+v, protected %v", r.Report.Summary, r.Report.Protected)
	}
}

// Code and --keep spans from summarized turns survive in the summary.
func TestMemoryKeepsCode(t *testing.T) {
	ms := conversation()
	ms[1].Content = "Use this config:\n```\nport = 8080\n```"
	gen := prompt.GeneratorFunc(func(_ context.Context, r prompt.GenerateRequest) (string, error) {
		return "The user shared a config and lives in Tromsø.", nil
	})
	r := compress(t, prompt.Input{Messages: ms}, prompt.Options{Methods: []string{"memory"}, Generator: gen, Keep: []string{"Tromsø"}})
	if !strings.Contains(r.Messages[1].Content, "```\nport = 8080\n```") {
		t.Errorf("code block lost from the summary: %q", r.Messages[1].Content)
	}
}

// query keeps a name or a number whole or drops it whole, at every budget.
func TestQueryWholeSpans(t *testing.T) {
	doc := "The halftime show was headlined by Justin Timberlake, with the University of Minnesota Marching Band. About 106,000 people watched in the stadium."
	q := "who headlined the halftime show"
	n := prompt.Words.Count(doc)
	for budget := 2; budget < n; budget++ {
		res, err := prompt.Compress(context.Background(), prompt.Input{Text: doc, Question: q},
			prompt.Options{Methods: []string{"query"}, Target: budget, Counter: prompt.Words})
		if err != nil {
			t.Fatalf("budget %d: %v", budget, err)
		}
		for _, span := range [][]string{{"Justin", "Timberlake"}, {"University", "Minnesota", "Marching", "Band"}} {
			kept := 0
			for _, w := range span {
				if strings.Contains(res.Text, w) {
					kept++
				}
			}
			if kept != 0 && kept != len(span) {
				t.Errorf("budget %d: %v cut: %q", budget, span, res.Text)
			}
		}
		if strings.Contains(res.Text, "106") != strings.Contains(res.Text, "106,000") {
			t.Errorf("budget %d: number cut: %q", budget, res.Text)
		}
		if got := prompt.Words.Count(res.Text); got > budget {
			t.Errorf("budget %d: %d words", budget, got)
		}
	}
}
