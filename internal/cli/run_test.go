package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/lmc-project/lmc/internal/shared"
)

// runCmd runs `lmc run` through newRunCmd (root.go wires it as a
// subcommand).
func runCmd(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	s := &IO{Out: &out, ErrOut: &errOut}
	cmd := newRunCmd(s)
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	err = cmd.Execute()
	return out.String(), errOut.String(), err
}

func TestRunGreedyStories260K(t *testing.T) {
	p := shared.Path(t, "models/stories260K/stories260K.gguf")
	out, errOut, err := runCmd(t, p, "-p", "Once upon a time", "-n", "24", "--temp", "0", "-t", "1")
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	want := "Once upon a time, there was a little girl named Lily. She loved to play outside"
	if !strings.HasPrefix(out, want) {
		t.Fatalf("stdout = %q, want it to start with %q", out, want)
	}
	if !strings.Contains(errOut, "generated: 24 tokens") {
		t.Errorf("stderr = %q, want the timings", errOut)
	}
}

func TestRunSeedReproducible(t *testing.T) {
	p := shared.Path(t, "models/stories260K/stories260K.gguf")
	args := []string{p, "-p", "Once upon a time", "-n", "20", "--temp", "1", "--seed", "7", "-q"}
	a, _, err := runCmd(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := runCmd(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Fatalf("same seed, different text:\n%q\n%q", a, b)
	}
}

func TestRunPromptTooLong(t *testing.T) {
	p := shared.Path(t, "models/stories260K/stories260K.gguf")
	long := strings.Repeat("Once upon a time there was a cat. ", 20)
	_, _, err := runCmd(t, p, "-p", long, "-n", "4", "--ctx", "32", "--temp", "0", "-q")
	if err == nil || !strings.Contains(err.Error(), "--truncate") {
		t.Fatalf("err = %v, want a prompt-too-long error mentioning --truncate", err)
	}
	out, _, err := runCmd(t, p, "-p", long, "-n", "4", "--ctx", "32", "--temp", "0", "-q", "--truncate", "--echo=false")
	if err != nil {
		t.Fatalf("--truncate: %v", err)
	}
	if strings.TrimSpace(out) == "" {
		t.Error("--truncate generated nothing")
	}
}

func TestRunUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"m.gguf", "-n", "-1"},
		{"m.gguf", "--top-p", "1.5"},
		{"m.gguf", "--kv", "q4"},
	} {
		_, _, err := runCmd(t, args...)
		var ee *exitError
		if err == nil || !asExit(err, &ee) || ee.code != 2 {
			t.Errorf("%v: err = %v, want a usage error (exit 2)", args, err)
		}
	}
}

func asExit(err error, ee **exitError) bool {
	e, ok := err.(*exitError)
	*ee = e
	return ok
}

func TestUTF8Stream(t *testing.T) {
	var b bytes.Buffer
	u := &utf8Stream{w: &b}
	u.write("a\xe2")
	if b.String() != "a" {
		t.Fatalf("wrote %q before the character was complete", b.String())
	}
	u.write("\x82")
	u.write("\xac!")
	u.flush()
	if b.String() != "a€!" {
		t.Fatalf("got %q", b.String())
	}
}

// TestRunHFFolder runs books5M's Hugging Face folder (SentencePiece
// tokenizer.model) and compares the greedy text with PyTorch's fixture.
func TestRunHFFolder(t *testing.T) {
	p := shared.Path(t, "models/books5M/hf")
	out, errOut, err := runCmd(t, p, "-p", "Once upon a time", "-n", "20", "--temp", "0", "-q")
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	want := "Once upon a time, and then\nthere was a sharp closed."
	if !strings.HasPrefix(out, want) {
		t.Fatalf("stdout = %q, want it to start with %q (PyTorch's greedy continuation)", out, want)
	}
}
