package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lmc-project/lmc/eval"
	"github.com/lmc-project/lmc/internal/shared"
)

// runEval runs lmc with args like Main does, with the eval and bench
// commands added to the root when it does not have them yet.
func runEval(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	s := &IO{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	root := newRoot(s)
	have := map[string]bool{}
	for _, c := range root.Commands() {
		have[c.Name()] = true
	}
	if !have["eval"] {
		root.AddCommand(newEvalCmd(s))
	}
	if !have["bench"] {
		root.AddCommand(newBenchCmd(s))
	}
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errOut)
	err := root.Execute()
	if err == nil {
		return 0, out.String(), errOut.String()
	}
	fmt.Fprintln(&errOut, "lmc:", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code, out.String(), errOut.String()
	}
	return 1, out.String(), errOut.String()
}

func TestEvalPPL(t *testing.T) {
	m := shared.Path(t, "models/books5M/books5M-f32.gguf")
	text := shared.Path(t, "text/gutenberg/pg98.txt")
	code, out, errOut := runEval(t, "eval", "ppl", m, "--text", text, "--ctx", "256", "--chunks", "3", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r EvalPPLOutput
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("--json output is not JSON: %v\n%s", err, out)
	}
	if r.PPLResult == nil || r.Chunks != 3 || r.Context != 256 || r.Tokens != 381 || r.TextTokens != 431017 || len(r.Running) != 3 {
		t.Fatalf("result %+v", r)
	}
	// llama-perplexity printed [1]10.3729,[2]10.1696,[3]10.5135.
	if d := r.PPL/10.5135 - 1; d > 2e-4 || d < -2e-4 {
		t.Errorf("PPL after 3 chunks %.4f, llama.cpp 10.5135", r.PPL)
	}
	if !strings.HasPrefix(errOut, "[1]10.37") || !strings.Contains(errOut, ",[3]10.51") {
		t.Errorf("stderr lacks llama.cpp-style running values: %q", errOut)
	}
	code, out, _ = runEval(t, "eval", "ppl", m, "-f", text, "-c", "256", "--chunks", "2", "-q", "-t", "1")
	if code != 0 || !strings.Contains(out, "Final estimate: PPL = 10.16") || !strings.Contains(out, "2 × 256 tokens, 254 scored") {
		t.Errorf("exit %d, output:\n%s", code, out)
	}
}

func TestEvalPPLBadInput(t *testing.T) {
	m := shared.Path(t, "models/books5M/books5M-f32.gguf")
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no text", []string{m}, 2, "--text FILE is required"},
		{"no model", []string{"--text", "x"}, 2, "takes 1 argument"},
		{"bad kv", []string{m, "--text", "x", "--kv", "q4"}, 2, "--kv"},
		{"tiny ctx", []string{m, "--text", "x", "--ctx", "2"}, 2, "at least 3 tokens"},
		{"empty", []string{m, "--text", write("empty.txt", "")}, 1, "empty.txt is empty"},
		{"not utf-8", []string{m, "--text", write("bin.txt", "ok\n\xff\xfe")}, 1, "invalid byte 0xff at offset 3 (line 2)"},
		{"short", []string{m, "--text", write("short.txt", "Once upon a time."), "--ctx", "256"}, 1, "needs at least 512"},
		{"missing", []string{m, "--text", filepath.Join(dir, "nope.txt")}, 1, "no such file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := runEval(t, append([]string{"eval", "ppl"}, c.args...)...)
			if code != c.code || !strings.Contains(errOut, c.want) {
				t.Errorf("exit %d (want %d), stderr %q (want %q)", code, c.code, errOut, c.want)
			}
		})
	}
}

func TestEvalKLD(t *testing.T) {
	base := shared.Path(t, "models/books5M/books5M-f32.gguf")
	q := shared.Path(t, "models/books5M/llamacpp/books5M-q4_k_m.gguf")
	text := shared.Path(t, "text/gutenberg/pg98.txt")
	kld := filepath.Join(t.TempDir(), "f32.kld")
	// Save the base only.
	code, out, errOut := runEval(t, "eval", "kld", "--base", base, "--text", text, "--ctx", "256", "--chunks", "2", "--save-base", kld, "--json", "-q")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var saved EvalKLDOutput
	if err := json.Unmarshal([]byte(out), &saved); err != nil {
		t.Fatal(err)
	}
	if saved.BaseRun == nil || saved.Result != nil || saved.BaseRun.Chunks != 2 || saved.BaseFormat != eval.FormatLlamaCpp {
		t.Fatalf("save-only output %s", out)
	}
	// Compare a model with the saved base, and with the base run live.
	code, out, errOut = runEval(t, "eval", "kld", "--base-logits", kld, "--model", q, "--json", "-q")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var fromFile EvalKLDOutput
	if err := json.Unmarshal([]byte(out), &fromFile); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runEval(t, "eval", "kld", "--base", base, "--model", q, "--text", text, "--ctx", "256", "--chunks", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r := fromFile.Result
	if r == nil || r.Chunks != 2 || r.Tokens != 254 || !(r.KLD.Value > 0.001 && r.KLD.Value < 0.02) {
		t.Fatalf("result %+v", r)
	}
	for _, want := range []string{"====== KL divergence statistics ======", fmt.Sprintf("Mean    KLD: %10.6f", r.KLD.Value),
		fmt.Sprintf("Same top p: %6.3f", 100*r.SameTop.Value), "Mean PPL(Q)/PPL(base)", "RMS Δp"} {
		if !strings.Contains(out, want) {
			t.Errorf("live output lacks %q (the saved base's number):\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "[1]") || !strings.Contains(errOut, "[2]") {
		t.Errorf("no running values on stderr: %q", errOut)
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"both bases", []string{"--base", base, "--base-logits", kld, "--model", q}, "not both"},
		{"no base", []string{"--model", q, "--text", text}, "not both"},
		{"no model", []string{"--base", base, "--text", text}, "--model MODEL is required"},
		{"text with logits", []string{"--base-logits", kld, "--model", q, "--text", text}, "drop --text"},
		{"top-k without save", []string{"--base", base, "--model", q, "--text", text, "--top-k", "8"}, "--top-k only applies"},
		{"ctx mismatch", []string{"--base-logits", kld, "--model", q, "--ctx", "128"}, "not 128"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := runEval(t, append([]string{"eval", "kld"}, c.args...)...)
			if code != 2 || !strings.Contains(errOut, c.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", code, errOut, c.want)
			}
		})
	}
	bad := filepath.Join(t.TempDir(), "bad.kld")
	os.WriteFile(bad, []byte("_logits_\x00\x01\x00\x00"), 0o644)
	if code, _, errOut := runEval(t, "eval", "kld", "--base-logits", bad, "--model", q); code != 1 || !strings.Contains(errOut, "bad.kld: header") {
		t.Errorf("truncated base file: exit %d, %q", code, errOut)
	}
}

func TestBenchCmd(t *testing.T) {
	m := shared.Path(t, "models/books5M/llamacpp/books5M-q8_0.gguf")
	code, out, errOut := runEval(t, "bench", m, "-p", "32", "-n", "16", "-r", "2", "-t", "1", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var b BenchOutput
	if err := json.Unmarshal([]byte(out), &b); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if b.BenchResult == nil || b.Threads != 1 || len(b.Tests) != 2 || b.Tests[0].Name != "pp32" || b.Tests[1].Name != "tg16" ||
		b.Params != 4984064 || b.ModelBytes <= 0 || !(b.Tests[1].Mean > 0) || len(b.Tests[1].Samples) != 2 {
		t.Errorf("bench output %+v", b)
	}
	code, out, _ = runEval(t, "bench", m, "-p", "8", "-n", "0", "-r", "1")
	if code != 0 || !strings.Contains(out, " pp8 | ") || strings.Contains(out, "tg") || !strings.Contains(out, "peak RSS") {
		t.Errorf("exit %d, table:\n%s", code, out)
	}
	if code, _, _ := runEval(t, "bench", m, "-p", "0", "-n", "0"); code != 2 {
		t.Errorf("-p 0 -n 0: exit %d, want 2", code)
	}
}
