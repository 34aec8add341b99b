package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lmc-project/lmc/internal/shared"
)

func evalKVCmd(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := newEvalKVCmd(&IO{Out: &out, ErrOut: &errOut})
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	err = cmd.Execute()
	return out.String(), errOut.String(), err
}

// TestEvalKV runs a small `lmc eval kv` on books5M and checks the JSON
// and the table.
func TestEvalKV(t *testing.T) {
	p := shared.Path(t, "models/books5M/books5M-f32.gguf")
	text := shared.Path(t, "text/gutenberg/pg98.txt")
	args := []string{p, "-f", text, "--ctx", "64", "--chunks", "2", "--configs", "f32,q8_0,f16@streaming:50",
		"--long", "2", "--long-ctx", "32", "--long-seqs", "1", "--long-configs", "f32,f32@streaming:50", "--trials", "1", "--passage", "8", "-t", "1"}
	out, errOut, err := evalKVCmd(t, append(args, "--json")...)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	var o EvalKVOutput
	if err := json.Unmarshal([]byte(out), &o); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(o.Results) != 3 || o.Results[0].KLD != 0 || !(o.Results[1].KLD > 0) || o.Results[2].BudgetTokens != 32 {
		t.Fatalf("results %+v", o.Results)
	}
	if o.Results[1].BytesPerToken >= o.Results[0].BytesPerToken/3 || len(o.Results[0].Retrieval) != 4 {
		t.Errorf("q8_0 %g bytes/token vs f32 %g; retrieval %v", o.Results[1].BytesPerToken, o.Results[0].BytesPerToken, o.Results[0].Retrieval)
	}
	if len(o.Long) != 2 || len(o.Long[1].SegmentPPL) != 2 || o.Long[1].CacheBytes[0] != o.Long[1].CacheBytes[1] {
		t.Errorf("long results %+v: want 2 segments and constant streaming memory", o.Long)
	}
	out, _, err = evalKVCmd(t, append(args, "-q")...)
	if err != nil || !strings.Contains(out, "| f16 streaming 50% | 50% (32) |") || !strings.Contains(out, "long text") {
		t.Errorf("table: %v\n%s", err, out)
	}
	for _, bad := range [][]string{
		{p, "-f", text, "--configs", "q9"},
		{p, "-f", text, "--configs", "f16@h2o:0"},
		{p, "--ctx", "64"},
	} {
		if _, _, err := evalKVCmd(t, bad...); err == nil || !isUsage(err) {
			t.Errorf("%v: err = %v, want a usage error", bad, err)
		}
	}
}

func isUsage(err error) bool {
	var e *exitError
	return errors.As(err, &e)
}

// TestRunKVFlags checks the KV flags of lmc run: a quantized cache with
// a policy, the errors of impossible settings, and --kv-offload reusing
// a prompt's pages in a second run.
func TestRunKVFlags(t *testing.T) {
	p := shared.Path(t, "models/books5M/books5M-f32.gguf")
	_, errOut, err := runCmd(t, p, "-p", "It was the best of times", "-n", "20", "--temp", "0", "--kv-type-k", "q8_0", "--kv-type-v", "q4_0",
		"--kv-policy", "h2o", "--kv-budget", "12")
	if err != nil || !strings.Contains(errOut, "KV q8_0/q4_0") || !strings.Contains(errOut, "h2o keeps 12 positions") {
		t.Fatalf("err %v, stderr %q", err, errOut)
	}
	for _, bad := range [][]string{
		{"--kv-policy", "h2o"},
		{"--kv-budget", "10"},
		{"--kv-policy", "lru", "--kv-budget", "10"},
		{"--kv-policy", "tova", "--kv-budget", "0"},
		{"--kv-type-k", "q8_0/f16"},
		{"--kv-policy", "tova", "--kv-budget", "10", "--kv-offload", t.TempDir()},
	} {
		if _, _, err := runCmd(t, append([]string{p, "-p", "x", "-n", "1"}, bad...)...); err == nil || !isUsage(err) {
			t.Errorf("%v: err = %v, want a usage error", bad, err)
		}
	}
	if _, _, err := runCmd(t, p, "-p", "x", "-n", "1", "--kv-policy", "tova", "--kv-budget", "600"); err == nil || !strings.Contains(err.Error(), "above the context") {
		t.Errorf("budget above the context: err = %v", err)
	}
	dir := filepath.Join(t.TempDir(), "kv")
	b, _ := os.ReadFile(shared.Path(t, "text/gutenberg/pg98.txt"))
	prompt := string(b[2000:2600])
	var logs []string
	for i := 0; i < 2; i++ {
		_, errOut, err := runCmd(t, p, "-p", prompt, "-n", "4", "--temp", "0", "--kv-offload", dir, "--echo=false")
		if err != nil {
			t.Fatal(err)
		}
		logs = append(logs, errOut)
	}
	if !strings.Contains(logs[0], " 0 prompt tokens reused") || strings.Contains(logs[1], " 0 prompt tokens reused") {
		t.Errorf("--kv-offload: first run %q, second %q; want nothing reused, then pages reused", logs[0], logs[1])
	}
}
