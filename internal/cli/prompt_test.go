package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/lmc-project/lmc/internal/shared"
	"github.com/lmc-project/lmc/prompt"
	"github.com/lmc-project/lmc/prompt/openai"
	"github.com/lmc-project/lmc/prompt/openai/openaitest"
)

// runPromptCmds runs the prompt and eval prompt commands under a root like
// Main's, returning the exit code and streams.
func runPromptCmds(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	s := &IO{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut}
	root := &cobra.Command{Use: "lmc", SilenceErrors: true, SilenceUsage: true}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError("%v", err) })
	ev := &cobra.Command{Use: "eval"}
	ev.AddCommand(newEvalPromptCmd(s))
	root.AddCommand(newPromptCmd(s), ev)
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errOut)
	err := root.Execute()
	if err == nil {
		return 0, out.String(), errOut.String()
	}
	errOut.WriteString("lmc: " + err.Error() + "\n")
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code, out.String(), errOut.String()
	}
	return 1, out.String(), errOut.String()
}

const cliDoc = `The Eiffel Tower is a wrought-iron lattice tower in Paris, France. It is named after the engineer Gustave Eiffel.

The tower is 330 metres tall, about the same height as an 81-storey building. Its base is square, measuring 125 metres on each side.

The Statue of Liberty is a colossal neoclassical sculpture on Liberty Island in New York Harbor. The copper statue was a gift from the people of France.`

func TestPromptCompressText(t *testing.T) {
	code, out, errOut := runPromptCmds(t, cliDoc, "prompt", "compress", "--question", "How tall is the tower?", "--rate", "0.4", "--methods", "query-sentences")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "330 metres") || strings.Contains(out, "copper") {
		t.Errorf("output:\n%s", out)
	}
	for _, want := range []string{"tokens (o200k_base)", "fewer", "removed:", "low relevance"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("report lacks %q:\n%s", want, errOut)
		}
	}
}

func TestPromptCompressJSON(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "doc.txt")
	os.WriteFile(p, []byte(cliDoc), 0o644)
	code, out, errOut := runPromptCmds(t, "", "prompt", "compress", p, "--question", "How tall is the tower?", "--target-tokens", "40",
		"--tokenizer", "cl100k_base", "--report-tokenizer", "o200k_base", "--keep", "Liberty Island", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r prompt.Result
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if errOut != "" {
		t.Errorf("--json wrote to stderr: %s", errOut)
	}
	if r.Report.Tokenizer != "cl100k_base" || len(r.Report.Tokens) != 2 || r.Report.Tokens[0].After > 40 || !strings.Contains(r.Text, "Liberty Island") {
		t.Errorf("result %+v", r)
	}
	if got := strings.Join(r.Report.Methods, ","); got != "template,dedup,query" {
		t.Errorf("default methods with a question and budget: %s", got)
	}
}

func TestPromptCompressMessages(t *testing.T) {
	msgs := `{"model":"x","messages":[{"role":"system","content":"Be brief."},
	{"role":"user","content":"My order number is 58213."},{"role":"assistant","content":"Noted."},
	{"role":"user","content":"Tell me about rivers and how they shape valleys over long periods of time."},{"role":"assistant","content":"Rivers erode rock and carry sediment downstream, carving valleys over thousands of years. Their floods also spread fertile soil."},
	{"role":"user","content":"And lakes? Describe how lakes form and why some of them dry up."},{"role":"assistant","content":"Lakes form in basins left by glaciers, volcanoes or tectonics. They dry up when evaporation and outflow exceed the water coming in."},
	{"role":"user","content":"What was my order number?"}]}`
	code, out, errOut := runPromptCmds(t, msgs, "prompt", "compress", "--methods", "memory", "--rate", "0.6", "--keep-turns", "1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var ms []prompt.Message
	if err := json.Unmarshal([]byte(out), &ms); err != nil {
		t.Fatalf("not messages JSON: %v\n%s", err, out)
	}
	if ms[1].Role != "system" || !strings.Contains(ms[1].Content, "58213") || ms[len(ms)-1].Content != "What was my order number?" {
		t.Errorf("messages %+v", ms)
	}
}

func TestPromptCompressErrors(t *testing.T) {
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"empty", "  \n", []string{"--methods", "template"}, 1, "empty input"},
		{"budget over input", cliDoc, []string{"--question", "q?", "--target-tokens", "100000"}, 1, "nothing to compress"},
		{"bad rate", cliDoc, []string{"--question", "q?", "--rate", "3"}, 1, "rate 3"},
		{"malformed messages", `[{"role":"user","content":"hi"`, []string{"--format", "messages"}, 1, "malformed messages"},
		{"malformed auto", `{"messages":[{"role":"robot","content":"hi"}]}`, nil, 1, "role \"robot\""},
		{"unknown method", cliDoc, []string{"--methods", "zip"}, 2, "unknown method"},
		{"no backend", cliDoc, []string{"--methods", "summarize", "--rate", "0.3"}, 2, "needs a generator"},
		{"bad tokenizer", cliDoc, []string{"--tokenizer", "nope"}, 2, "nope"},
		{"bad regex", cliDoc, []string{"--keep-regex", "("}, 2, "--keep-regex"},
		{"bad fallback", cliDoc, []string{"--fallback", "maybe"}, 2, "--fallback"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runPromptCmds(t, tc.stdin, append([]string{"prompt", "compress"}, tc.args...)...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d (want %d), stderr %q (want %q)", code, tc.code, errOut, tc.want)
			}
		})
	}
	// --fallback original prints the input unchanged, exit 0
	code, out, errOut := runPromptCmds(t, cliDoc, "prompt", "compress", "--question", "q?", "--target-tokens", "100000", "--fallback", "original")
	if code != 0 || strings.TrimSpace(out) != cliDoc || !strings.Contains(errOut, "unchanged") {
		t.Errorf("fallback: exit %d, out %q, err %q", code, out, errOut)
	}
}

// The generator backend through the CLI: a server that speaks the wire
// format, streaming, then one that times out (with and without fallback).
func TestPromptCompressBackend(t *testing.T) {
	srv := openaitest.New(openaitest.Options{Reply: func(openai.ChatRequest) string { return "The tower is 330 metres tall." }})
	defer srv.Close()
	code, out, errOut := runPromptCmds(t, cliDoc, "prompt", "compress", "--methods", "summarize", "--rate", "0.3", "--backend", srv.BaseURL(), "--model", "m", "--stream")
	if code != 0 || strings.TrimSpace(out) != "The tower is 330 metres tall." {
		t.Fatalf("exit %d out %q err %s", code, out, errOut)
	}
	if r := srv.Requests(); len(r) != 1 || !r[0].Stream || r[0].Model != "m" {
		t.Errorf("requests %+v", r)
	}
	slow := openaitest.New(openaitest.Options{Delay: 5e9})
	defer slow.Close()
	code, _, errOut = runPromptCmds(t, cliDoc, "prompt", "compress", "--methods", "summarize", "--rate", "0.3", "--backend", slow.BaseURL(), "--timeout", "100ms")
	if code != 1 || !strings.Contains(errOut, "timed out") {
		t.Errorf("timeout: exit %d, %s", code, errOut)
	}
	code, out, _ = runPromptCmds(t, cliDoc, "prompt", "compress", "--methods", "summarize", "--rate", "0.3", "--backend", slow.BaseURL(), "--timeout", "100ms", "--fallback", "original")
	if code != 0 || strings.TrimSpace(out) != cliDoc {
		t.Errorf("timeout with fallback: exit %d, %q", code, out)
	}
}

func TestEvalPrompt(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "qa.jsonl")
	lines := []string{
		`{"context":"` + strings.ReplaceAll(cliDoc, "\n", `\n`) + `","question":"How tall is the tower?","answer":"330 metres","aliases":["330 m"]}`,
		`{"query":"Context: Paris is the capital of France. Berlin is the capital of Germany. Rome is the capital of Italy.\n\nQuestion: what is the capital of germany\nAnswer:","answer":"Berlin","aliases":[]}`,
	}
	os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	code, out, errOut := runPromptCmds(t, "", "eval", "prompt", "--data", p, "--methods", "none,query-sentences", "--rates", "0.7", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var o EvalPromptOutput
	if err := json.Unmarshal([]byte(out), &o); err != nil {
		t.Fatal(err)
	}
	if len(o.Rows) != 2 || o.Rows[0].Method != "none" || o.Rows[0].Retention != 1 || o.Rows[1].Ratio < 1.25 || o.Rows[1].Retention != 1 {
		t.Errorf("rows %+v", o.Rows)
	}
	code, out, _ = runPromptCmds(t, "", "eval", "prompt", "--data", "memory:5", "--methods", "memory", "--rates", "0.4")
	if code != 0 || !strings.Contains(out, "memory") || !strings.Contains(out, "100.0%") {
		t.Errorf("memory eval: exit %d\n%s", code, out)
	}
	code, _, errOut = runPromptCmds(t, "", "eval", "prompt", "--data", p, "--rates", "2")
	if code != 2 || !strings.Contains(errOut, "--rates") {
		t.Errorf("bad rate: exit %d %s", code, errOut)
	}
}

// The published NQ row, on a slice of the real file.
func TestEvalPromptNQ(t *testing.T) {
	p := shared.Path(t, "eval/free_response__natural_questions_openbook_short_rag.jsonl")
	code, out, errOut := runPromptCmds(t, "", "eval", "prompt", "--data", p, "--methods", "query", "--rates", "0.33", "--limit", "40", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var o EvalPromptOutput
	json.Unmarshal([]byte(out), &o)
	if len(o.Rows) != 1 || o.Rows[0].Ratio < 2.8 || o.Rows[0].Retention < 0.4 {
		t.Errorf("NQ query at 0.33: %+v", o.Rows)
	}
}

// --scorer-model runs prune on a local model; a bad path is an error that
// names it.
func TestPromptLocalScorer(t *testing.T) {
	code, out, errOut := runPromptCmds(t, cliDoc, "prompt", "compress", "--rate", "0.5", "--methods", "prune", "--scorer-model", "lmc-mini", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res struct {
		Text   string
		Report prompt.Report
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if sc := res.Report.Scorer; sc == nil || sc.Name != "lm:lmc-mini" || sc.Tokens == 0 {
		t.Errorf("scorer %+v, want lm:lmc-mini with tokens scored", res.Report.Scorer)
	}
	if res.Text == "" || len(res.Text) >= len(cliDoc) {
		t.Errorf("text %q", res.Text)
	}
	bad := filepath.Join(t.TempDir(), "missing.gguf")
	code, _, errOut = runPromptCmds(t, cliDoc, "prompt", "compress", "--rate", "0.5", "--methods", "prune", "--scorer-model", bad)
	if code == 0 || !strings.Contains(errOut, "--scorer-model") || !strings.Contains(errOut, "missing.gguf") {
		t.Errorf("bad model: exit %d, %s", code, errOut)
	}
}
