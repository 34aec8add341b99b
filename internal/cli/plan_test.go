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
	"github.com/lmc-project/lmc/plan"
)

// runPlan runs `lmc plan` on its own (it does not need root's wiring).
func runPlan(t *testing.T, args ...string) (out string, err error) {
	t.Helper()
	var o, e bytes.Buffer
	s := &IO{In: strings.NewReader(""), Out: &o, ErrOut: &e}
	cmd := newPlanCmd(s)
	cmd.SetArgs(args)
	cmd.SetOut(&o)
	cmd.SetErr(&e)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	err = cmd.Execute()
	return o.String(), err
}

func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if err != nil {
		return 1
	}
	return 0
}

func TestPlanTable(t *testing.T) {
	out, err := runPlan(t, "--table")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"7B   14 GB    7 GB    3.5 GB", "405B  810 GB  405 GB  202.5 GB", "q4_k_m", "4.8944"} {
		if !strings.Contains(out, want) {
			t.Errorf("--table lacks %q:\n%s", want, out)
		}
	}
}

func TestPlanHumanAndJSON(t *testing.T) {
	out, err := runPlan(t, "Llama-3-8B", "--weights", "q4_k_m", "--ctx", "8192", "--devices", "4090,m3 max")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Llama-3-8B", "q4_k_m", "KV cache", "= 1.00 GiB", "RTX 4090 24GB", "Apple M3 Max 128GB", "cheapest that fits: RTX 4090"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "H100") {
		t.Errorf("--devices did not filter:\n%s", out)
	}
	js, err := runPlan(t, "Llama-3-8B", "--ctx", "8192", "--json", "--devices", "h100 sxm")
	if err != nil {
		t.Fatal(err)
	}
	var r plan.Result
	if err := json.Unmarshal([]byte(js), &r); err != nil {
		t.Fatalf("--json is not JSON: %v\n%s", err, js)
	}
	if r.KV.Bytes != 1<<30 || len(r.Fits) != 1 || !r.Fits[0].Fits || r.Weights.Format != "file" {
		t.Errorf("--json: KV %d, fits %+v, weights %s", r.KV.Bytes, r.Fits, r.Weights.Format)
	}
}

func TestPlanGGUFAndChart(t *testing.T) {
	p := shared.Path(t, "models/books5M/llamacpp/books5M-q4_k_m.gguf")
	chart := filepath.Join(t.TempDir(), "mem.svg")
	out, err := runPlan(t, p, "--chart", chart, "--devices", "laptop")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "books5M-q4_k_m.gguf") || !strings.Contains(out, "q4_K ×39, q6_K ×5") {
		t.Errorf("output:\n%s", out)
	}
	b, err := os.ReadFile(chart)
	if err != nil || !bytes.HasPrefix(b, []byte("<?xml")) {
		t.Errorf("chart: %v, %q", err, b[:min(len(b), 16)])
	}
}

func TestPlanBadInput(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"llama-3.1-8"}, 2, "did you mean Llama-3.1-8B"},
		{[]string{"Llama-2-7B", "--ctx", "16384"}, 2, "--rope-scaling"},
		{[]string{"Llama-2-7B", "--weights", "q9_k"}, 2, "unknown weight format"},
		{[]string{"Llama-2-7B", "--kv", "q3"}, 2, "unknown KV-cache type"},
		{[]string{"Llama-2-7B", "--devices", "nonexistent"}, 2, "matches no hardware"},
		{[]string{"Llama-2-7B", "--chart", "x.gif"}, 2, ".png, .svg or .pdf"},
		{[]string{}, 2, "takes 1 argument"},
		{[]string{"--table", "Llama-2-7B"}, 2, "take no MODEL"},
	} {
		_, err := runPlan(t, c.args...)
		if exitCode(err) != c.code || err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("plan %v: exit %d, %v; want exit %d and %q", c.args, exitCode(err), err, c.code, c.want)
		}
	}
	// q4_0 on stories260K's 172-wide ffn_down: refused, not priced.
	p := shared.Path(t, "models/stories260K/stories260K.gguf")
	_, err := runPlan(t, p, "--weights", "q4_0")
	if !errors.Is(err, plan.ErrIncompatible) || exitCode(err) != 1 {
		t.Errorf("q4_0 on stories260K: %v", err)
	}
	out, err := runPlan(t, p, "--weights", "q4_k_m", "--devices", "laptop 16")
	if err != nil || !strings.Contains(out, "warning:") || !strings.Contains(out, "q4_K→f16") && !strings.Contains(out, "fall back") {
		t.Errorf("q4_k_m on stories260K: %v\n%s", err, out)
	}
}

func TestPlanListPresets(t *testing.T) {
	out, err := runPlan(t, "--list-presets")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"DeepSeek-V3", "Qwen3-235B-A22B", "8×2048 of 256", "MI300X 192GB", "Apple M4 Max"} {
		if !strings.Contains(out, want) {
			t.Errorf("--list-presets lacks %q", want)
		}
	}
}
