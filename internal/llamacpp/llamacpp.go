// Package llamacpp runs llama.cpp, through the pinned npm package
// node-llama-cpp (testtools/llamacpp), as an outside judge in tests: it loads
// a GGUF file on the CPU and reports llama.cpp's tokenization, greedy tokens
// and next-token probabilities for comparison with lmc's own.
package llamacpp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Request is what the judge is asked to do (see testtools/llamacpp/judge.mjs).
type Request struct {
	Model         string   `json:"model"`
	Prompt        string   `json:"prompt,omitempty"`
	Tokens        []int    `json:"tokens,omitempty"`
	AddBOS        *bool    `json:"addBos,omitempty"`
	NPredict      int      `json:"nPredict"`
	ContextSize   int      `json:"contextSize,omitempty"`
	Probabilities bool     `json:"probabilities,omitempty"`
	TopProbs      int      `json:"topProbs,omitempty"`
	IgnoreEOS     bool     `json:"ignoreEos,omitempty"`
	TokenizeTexts []string `json:"tokenizeTexts,omitempty"`
	// KVCacheType ("F32", "F16", "Q8_0"...) and FlashAttention select how
	// llama.cpp computes attention; the defaults (F16 cache, flash
	// attention) add ~2e-3 of noise to probabilities. Exact wants F32/false.
	KVCacheType    string `json:"kvCacheType,omitempty"`
	FlashAttention *bool  `json:"flashAttention,omitempty"`
	// BatchSize (default: the context size, one batch for the prompt) and
	// Threads (default 1) change how llama.cpp splits its work, to measure
	// its own noise floor.
	BatchSize int `json:"batchSize,omitempty"`
	Threads   int `json:"threads,omitempty"`
}

// Exact sets the options under which llama.cpp computes in float32
// throughout (F32 KV cache, no flash attention).
func (r Request) Exact() Request {
	off := false
	r.KVCacheType = "F32"
	r.FlashAttention = &off
	return r
}

// Answer is llama.cpp's reply.
type Answer struct {
	PromptTokens []int          `json:"promptTokens"`
	Generated    []int          `json:"generated"`
	Text         string         `json:"text"`
	Probs        [][][2]float64 `json:"probs"`
	BOS          *int           `json:"bos"`
	EOS          *int           `json:"eos"`
	Tokenized    [][]int        `json:"tokenized"`
	Extra        map[string]any `json:"-"`
}

// Dir returns the judge's folder (testtools/llamacpp in the module root).
func Dir() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, "testtools", "llamacpp"), nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("llamacpp: module root (go.mod) not found above %s", wd)
		}
	}
}

// Available reports whether node and the installed judge are present, and
// if not, why.
func Available() (string, error) {
	dir, err := Dir()
	if err != nil {
		return "", err
	}
	if _, err := exec.LookPath("node"); err != nil {
		return "", fmt.Errorf("node not found on PATH")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "node-llama-cpp")); err != nil {
		return "", fmt.Errorf("node-llama-cpp not installed: run `npm ci` in %s", dir)
	}
	return dir, nil
}

// Run asks llama.cpp to evaluate req. Where the judge is not installed the
// test is skipped, except under CI (CI=true), where .ci/run installs it and
// its absence is a failure.
func Run(tb testing.TB, req Request) *Answer {
	tb.Helper()
	dir, err := Available()
	if err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("llama.cpp judge unavailable under CI: %v", err)
		}
		tb.Skipf("skipping: llama.cpp judge unavailable: %v", err)
	}
	ans, err := run(dir, req)
	if err != nil {
		tb.Fatalf("llama.cpp judge: %v", err)
	}
	return ans
}

func run(dir string, req Request) (*Answer, error) {
	if abs, err := filepath.Abs(req.Model); err == nil {
		req.Model = abs
	}
	in, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("node", "judge.mjs")
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("node judge.mjs on %s: %v\n%s", req.Model, err, stderr.String())
	}
	var ans Answer
	if err := json.Unmarshal(stdout.Bytes(), &ans); err != nil {
		return nil, fmt.Errorf("judge output: %v\nstdout: %.500s\nstderr: %.2000s", err, stdout.String(), stderr.String())
	}
	return &ans, nil
}
