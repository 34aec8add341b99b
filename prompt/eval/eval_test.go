package eval_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/lmc-project/lmc/internal/shared"
	"github.com/lmc-project/lmc/prompt"
	"github.com/lmc-project/lmc/prompt/eval"
	"github.com/lmc-project/lmc/prompt/openai"
	"github.com/lmc-project/lmc/prompt/openai/openaitest"
)

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"The Therefore sign (∴)!": "therefore sign",
		"  A  cat,  an Owl ":      "cat owl",
		"Coldplay[1]":             "coldplay 1",
		"":                        "",
	} {
		if got := eval.Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
	n := eval.Normalize("It was headlined by Coldplay, with Bruno Mars.")
	if !eval.Contains(n, "bruno mars") || eval.Contains(n, "mars bruno") || eval.Contains(n, "cold") || eval.Contains(n, "the") {
		t.Error("Contains must match whole words")
	}
	if !eval.Retained("x Ringo Starr y", []string{"George Harrison", "Ringo Starr"}) || eval.Retained("nothing", []string{"a"}) {
		t.Error("Retained")
	}
}

func TestRead(t *testing.T) {
	data := `{"query":"Context: Alpha beta.\n\nQuestion: what is it\nAnswer:","answer":"beta","aliases":["b"]}

{"context":"Extract the value.\n JSON data:\n{\"k1\": \"v1\", \"k2\": \"v2\"}\n\nKey: \"k2\"\nCorresponding Value:","answer":"v2","answer_location":0}
{"context":"Some text.","question":"What?","answer":"text"}`
	exs, err := eval.Read(strings.NewReader(data), "x.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	want := []eval.Example{
		{Context: "Alpha beta.", Question: "what is it", Answers: []string{"beta", "b"}},
		{Context: "Extract the value.\n JSON data:\n{\"k1\": \"v1\", \"k2\": \"v2\"}", Question: "Key: \"k2\"\nCorresponding Value:", Answers: []string{"v2"}},
		{Context: "Some text.", Question: "What?", Answers: []string{"text"}},
	}
	for i := range want {
		got := exs[i]
		got.Template = ""
		if !reflect.DeepEqual(got, want[i]) {
			t.Errorf("example %d = %+v, want %+v", i, got, want[i])
		}
	}
	for _, bad := range []string{"", "{", `{"answer":"a"}`, `{"query":"no markers","answer":"a"}`, `{"context":"x"}`, `{"context":"x","question":"q"}`} {
		if _, err := eval.Read(strings.NewReader(bad), "bad.jsonl"); !errors.Is(err, eval.ErrData) {
			t.Errorf("Read(%q): %v", bad, err)
		}
	}
}

func TestRun(t *testing.T) {
	exs := []eval.Example{
		{Context: "Paris is in France. The Rhine flows north. Berlin is the capital of Germany.", Question: "capital of Germany", Answers: []string{"Berlin"}, Template: "%[1]s\n%[2]s"},
		{Context: "Cats sleep a lot. Dogs bark at night. Owls hunt mice in the dark forest.", Question: "what do owls hunt", Answers: []string{"mice"}, Template: "%[1]s\n%[2]s"},
	}
	srv := openaitest.New(openaitest.Options{Reply: func(r openai.ChatRequest) string {
		if strings.Contains(r.Messages[1].Content, "Berlin") {
			return "Berlin"
		}
		return "I don't know"
	}})
	defer srv.Close()
	c, _ := openai.New(srv.BaseURL())
	rows, err := eval.Run(context.Background(), exs, eval.Config{Chains: [][]string{nil, {"query-sentences"}}, Rates: []float64{0.7}, Counter: prompt.Words, Backend: c})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Method != "none" || rows[0].Ratio != 1 || rows[0].Retention != 1 || rows[0].Accuracy != 0.5 || rows[0].AccuracyN != 2 {
		t.Errorf("baseline row %+v", rows[0])
	}
	r := rows[1]
	if r.Method != "query-sentences" || r.Before != 29 || r.After > 21 || r.Retention != 1 || r.Ratio < 1.35 || r.Accuracy != 0.5 {
		t.Errorf("query row %+v", r)
	}
	if len(srv.Requests()) != 4 {
		t.Errorf("%d backend calls, want 4", len(srv.Requests()))
	}
}

func TestMemoryCases(t *testing.T) {
	a, b := eval.MemoryCases(20, 7), eval.MemoryCases(20, 7)
	if !reflect.DeepEqual(a, b) {
		t.Error("not deterministic")
	}
	for i, ex := range a {
		last := ex.Messages[len(ex.Messages)-1]
		if last.Role != "user" || last.Content != ex.Question || len(ex.Answers) != 1 {
			t.Fatalf("case %d: %+v", i, ex)
		}
		// the fact is stated in an early turn, not in the last two
		early := ""
		for _, m := range ex.Messages[:7] {
			early += m.Content
		}
		if !strings.Contains(early, ex.Answers[0]) {
			t.Errorf("case %d: answer %q not in the early turns", i, ex.Answers[0])
		}
	}
	// the memory method keeps every needed fact at 3x
	rows, err := eval.Run(context.Background(), a, eval.Config{Chains: [][]string{{"memory"}}, Rates: []float64{0.33}, Counter: prompt.Words})
	if err != nil {
		t.Fatal(err)
	}
	if rows[0].Retention != 1 || rows[0].Ratio < 2.5 || rows[0].Fallbacks != 0 {
		t.Errorf("memory row %+v", rows[0])
	}
}

// On the real key-value file the needle survives query compression.
func TestKVNeedle(t *testing.T) {
	for _, f := range []string{"long_context__kv_pairs_beginning_len_2048.jsonl", "long_context__kv_pairs_end_len_2048.jsonl"} {
		exs, err := eval.Load(shared.Path(t, "eval/"+f))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := eval.Run(context.Background(), exs, eval.Config{Chains: [][]string{{"query-sentences"}}, Rates: []float64{0.25}, Counter: prompt.Bytes, Limit: 30})
		if err != nil {
			t.Fatal(err)
		}
		if rows[0].Retention != 1 || rows[0].Ratio < 3.5 {
			t.Errorf("%s: %+v", f, rows[0])
		}
	}
}

func TestRunTargets(t *testing.T) {
	exs := []eval.Example{
		// 14 words: compressed to the budget
		{Context: "Paris is in France. The Rhine flows north. Berlin is the capital of Germany.", Question: "capital of Germany", Answers: []string{"Berlin"}},
		// 4 words: within the budget, sent as it is
		{Context: "Owls hunt mice.", Question: "what do owls hunt", Answers: []string{"mice"}},
	}
	rows, err := eval.Run(context.Background(), exs, eval.Config{Chains: [][]string{{"query-sentences"}}, Targets: []int{11}, Counter: prompt.Words})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 {
		t.Fatalf("%d rows, want 1", len(rows))
	}
	r := rows[0]
	if r.Target != 11 || r.Rate != 0 || r.WithinBudget != 1 || r.Fallbacks != 0 || r.Retention != 1 {
		t.Errorf("row %+v", r)
	}
	if r.Before != 14+3 || r.After > 11+3 || r.After < 3+3 {
		t.Errorf("tokens %d → %d, want 17 → at most 11 + 3", r.Before, r.After)
	}
	if _, err := eval.Run(context.Background(), exs, eval.Config{Chains: [][]string{{"query"}}, Targets: []int{0}}); err == nil {
		t.Error("a zero budget was accepted")
	}
}
