package quantize_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/lmc-project/lmc/eval"
	"github.com/lmc-project/lmc/modelfile"
	_ "github.com/lmc-project/lmc/models/lmcmini" // the built-in model
	"github.com/lmc-project/lmc/quantize"
	"github.com/lmc-project/lmc/tokenizer"
)

// miniCalib returns a short calibration text for lmc-mini (the
// repository's LICENSE, always present): 6 chunks of 64 tokens.
func miniCalib(t testing.TB, m *modelfile.Model) *quantize.Calibration {
	t.Helper()
	tok, err := tokenizer.New(m.Vocab)
	if err != nil {
		t.Fatal(err)
	}
	text, err := eval.ReadText("../LICENSE", tok)
	if err != nil {
		t.Fatal(err)
	}
	return &quantize.Calibration{Name: "LICENSE", Tokens: text.Tokens, BOS: text.BOS, Context: 64, Chunks: 6}
}

// readTree returns every file under dir by relative path.
func readTree(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sameTree reports how two output folders differ ("" when byte-identical).
func sameTree(t testing.TB, a, b string) string {
	t.Helper()
	ta, tb := readTree(t, a), readTree(t, b)
	var diffs []string
	for name, x := range ta {
		y, ok := tb[name]
		switch {
		case !ok:
			diffs = append(diffs, name+" only in "+a)
		case !bytes.Equal(x, y):
			diffs = append(diffs, name+" differs")
		}
	}
	for name := range tb {
		if _, ok := ta[name]; !ok {
			diffs = append(diffs, name+" only in "+b)
		}
	}
	sort.Strings(diffs)
	return strings.Join(diffs, "; ")
}

// logger collects a run's notes.
type logger struct {
	mu    sync.Mutex
	lines []string
}

func (l *logger) log(s string) { l.mu.Lock(); l.lines = append(l.lines, s); l.mu.Unlock() }

func (l *logger) has(sub string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.lines {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// interrupted runs o into out and cancels it once stop says so (after
// some tensors or blocks are finished): what a kill leaves, but through
// the run's own error path.
func interrupted(t *testing.T, m *modelfile.Model, out string, o quantize.Options, stop func(quantize.Progress) bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o.Progress = func(p quantize.Progress) {
		if stop(p) {
			cancel()
		}
	}
	if _, err := quantize.Run(ctx, m, out, o); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("%s exists after an interrupted run", out)
	}
	partial, state := quantize.PartialPath(out)
	for _, p := range []string{partial, state} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s missing after an interrupted run: %v", p, err)
		}
	}
}

// TestHFResume interrupts GPTQ-format and compressed-tensors runs (RTN,
// GPTQ, AWQ) of lmc-mini halfway, resumes them and checks that the
// resumed run reuses the finished tensors (or blocks), leaves no partial
// state, and writes a folder byte-identical to an uninterrupted run's.
func TestHFResume(t *testing.T) {
	m := open(t, "lmc-mini")
	calib := miniCalib(t, m)
	dir := t.TempDir()
	cases := []struct {
		name string
		o    quantize.Options
		// stop interrupts the run; minResumed tensors must be reused.
		stop       func(quantize.Progress) bool
		minResumed int
	}{
		{"gptq-rtn", quantize.Options{Format: quantize.FormatGPTQ, Grid: quantize.Grid{Bits: 4, GroupSize: 128}},
			func(p quantize.Progress) bool { return p.Stage == "quantize" && p.Done == 17 }, 17},
		{"ct-rtn-int8-asym", quantize.Options{Format: quantize.FormatCompressedTensors, Grid: quantize.Grid{Bits: 8, GroupSize: 64, Asym: true}},
			func(p quantize.Progress) bool { return p.Stage == "quantize" && p.Done == 30 }, 30},
		{"gptq-gptq-actorder-asym", quantize.Options{Format: quantize.FormatGPTQ, Method: quantize.MethodGPTQ, Calib: calib,
			Grid: quantize.Grid{Bits: 4, GroupSize: 64, Asym: true}, GPTQ: quantize.GPTQOptions{ActOrder: true}},
			func(p quantize.Progress) bool { return p.Layer >= 2 }, 14},
		{"ct-awq", quantize.Options{Format: quantize.FormatCompressedTensors, Method: quantize.MethodAWQ, Calib: calib,
			Grid: quantize.Grid{Bits: 4, GroupSize: 128}},
			func(p quantize.Progress) bool { return p.Layer >= 3 }, 21},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fresh := filepath.Join(dir, c.name+"-fresh")
			if _, err := quantize.Run(context.Background(), m, fresh, c.o); err != nil {
				t.Fatal(err)
			}
			if p, s := quantize.PartialPath(fresh); exists(p) || exists(s) {
				t.Errorf("partial state left after an uninterrupted run")
			}
			out := filepath.Join(dir, c.name)
			interrupted(t, m, out, c.o, c.stop)
			var lg logger
			o := c.o
			o.Log = lg.log
			r, err := quantize.Run(context.Background(), m, out, o)
			if err != nil {
				t.Fatal(err)
			}
			if r.Resumed < c.minResumed || r.Resumed >= len(r.Tensors) {
				t.Errorf("resumed %d of %d tensors, want at least %d and not all", r.Resumed, len(r.Tensors), c.minResumed)
			}
			if !lg.has("resuming") {
				t.Errorf("no note says the run resumed: %q", lg.lines)
			}
			if d := sameTree(t, fresh, out); d != "" {
				t.Errorf("resumed output differs from an uninterrupted run: %s", d)
			}
			if p, s := quantize.PartialPath(out); exists(p) || exists(s) {
				t.Errorf("partial state left after completion")
			}
		})
	}
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// TestHFResumeStale checks that a partial state is reused only by the same
// inputs and recipe: another grid, another calibration text or another
// model discard it (with a note) and give the output of a fresh run; a
// corrupted tensor file is redone; an export killed before its rename is
// redone from the complete state, and its temporary folder removed.
func TestHFResumeStale(t *testing.T) {
	m := open(t, "lmc-mini")
	calib := miniCalib(t, m)
	dir := t.TempDir()
	base := quantize.Options{Format: quantize.FormatGPTQ, Method: quantize.MethodGPTQ, Calib: calib, Grid: quantize.Grid{Bits: 4, GroupSize: 128}, GPTQ: quantize.GPTQOptions{OnePass: true}}
	rtn := quantize.Options{Format: quantize.FormatCompressedTensors, Grid: quantize.Grid{Bits: 4, GroupSize: 128}}
	stop := func(p quantize.Progress) bool { return p.Layer >= 2 || (p.Stage == "quantize" && p.Done >= 10) }
	run := func(t *testing.T, m *modelfile.Model, out string, o quantize.Options) (*quantize.Report, *logger) {
		t.Helper()
		var lg logger
		o.Log = lg.log
		r, err := quantize.Run(context.Background(), m, out, o)
		if err != nil {
			t.Fatal(err)
		}
		return r, &lg
	}
	changed := []struct {
		name string
		base quantize.Options
		m    func(t *testing.T) *modelfile.Model
		o    func(o quantize.Options) quantize.Options
	}{
		{"grid", rtn, nil, func(o quantize.Options) quantize.Options { o.Grid.GroupSize = 64; return o }},
		{"format", rtn, nil, func(o quantize.Options) quantize.Options { o.Format = quantize.FormatGPTQ; return o }},
		{"method", rtn, nil, func(o quantize.Options) quantize.Options {
			o.Method, o.Calib, o.GPTQ = quantize.MethodGPTQ, calib, quantize.GPTQOptions{OnePass: true}
			return o
		}},
		{"calibration", base, nil, func(o quantize.Options) quantize.Options {
			c := *o.Calib
			c.Chunks = 5
			o.Calib = &c
			return o
		}},
		{"model", rtn, func(t *testing.T) *modelfile.Model {
			// The same weights in another file: the inputs' sha256 differ.
			p := filepath.Join(t.TempDir(), "mini.gguf")
			if err := modelfile.WriteGGUF(m, p, nil); err != nil {
				t.Fatal(err)
			}
			return open(t, p)
		}, nil},
	}
	for _, c := range changed {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, c.name)
			interrupted(t, m, out, c.base, stop)
			m2, o2 := m, c.base
			if c.m != nil {
				m2 = c.m(t)
			}
			if c.o != nil {
				o2 = c.o(c.base)
			}
			r, lg := run(t, m2, out, o2)
			if r.Resumed != 0 {
				t.Errorf("%d tensors resumed from a stale partial state", r.Resumed)
			}
			if !lg.has("discarding") || !lg.has("other inputs or another recipe") {
				t.Errorf("no note says the stale partial state was discarded: %q", lg.lines)
			}
			fresh := filepath.Join(dir, c.name+"-fresh")
			run(t, m2, fresh, o2)
			if d := sameTree(t, fresh, out); d != "" {
				t.Errorf("output after a stale partial state differs from a fresh run: %s", d)
			}
		})
	}

	t.Run("corrupted", func(t *testing.T) {
		out := filepath.Join(dir, "corrupted")
		interrupted(t, m, out, base, stop)
		partial, _ := quantize.PartialPath(out)
		f := filepath.Join(partial, "blk.0.attn_k.weight.qint")
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)/2] ^= 0x55
		if err := os.WriteFile(f, b, 0o644); err != nil {
			t.Fatal(err)
		}
		r, lg := run(t, m, out, base)
		if !lg.has("redoing blk.0.attn_k.weight") {
			t.Errorf("no note says the corrupted tensor is redone: %q", lg.lines)
		}
		if r.Resumed != 14 { // blocks 1 and 2; block 0 lost a tensor and is redone
			t.Errorf("resumed %d tensors, want 14", r.Resumed)
		}
		fresh := filepath.Join(dir, "corrupted-fresh")
		run(t, m, fresh, base)
		if d := sameTree(t, fresh, out); d != "" {
			t.Errorf("output differs from a fresh run: %s", d)
		}
	})

	t.Run("killed-export", func(t *testing.T) {
		out := filepath.Join(dir, "export")
		o := base
		o.Progress = func(p quantize.Progress) {
			if p.Stage == "write" {
				panic("killed")
			}
		}
		func() {
			defer func() {
				if r := recover(); r != "killed" {
					t.Fatalf("recovered %v", r)
				}
			}()
			quantize.Run(context.Background(), m, out, o)
		}()
		// What a kill during the export leaves beside the output.
		tmp := filepath.Join(dir, ".export.tmp-123")
		if err := os.MkdirAll(tmp, 0o755); err != nil {
			t.Fatal(err)
		}
		r, lg := run(t, m, out, base)
		if r.Resumed != len(r.Tensors) {
			t.Errorf("resumed %d of %d tensors after a killed export", r.Resumed, len(r.Tensors))
		}
		if exists(tmp) || !lg.has("interrupted export") {
			t.Errorf("the killed export's temporary folder was not removed (notes %q)", lg.lines)
		}
		fresh := filepath.Join(dir, "export-fresh")
		run(t, m, fresh, base)
		if d := sameTree(t, fresh, out); d != "" {
			t.Errorf("output differs from a fresh run: %s", d)
		}
		if _, err := quantize.Run(context.Background(), m, out, base); err == nil || !strings.Contains(err.Error(), out) {
			t.Errorf("a run onto an existing output folder: %v", err)
		}
	})
}

// TestGGUFResumeStale: a GGUF partial output of another mix is discarded
// with a note, and one of the same mix is resumed.
func TestGGUFResumeStale(t *testing.T) {
	m := open(t, "lmc-mini")
	dir := t.TempDir()
	out := filepath.Join(dir, "mini.gguf")
	o := quantize.Options{FileType: ft(t, "q8_0"), Threads: 1}
	interrupted(t, m, out, o, func(p quantize.Progress) bool { return p.Done == 20 })
	var lg logger
	o2 := quantize.Options{FileType: ft(t, "q4_0"), Threads: 1, Log: lg.log}
	r, err := quantize.Run(context.Background(), m, out, o2)
	if err != nil {
		t.Fatal(err)
	}
	if r.Resumed != 0 || !lg.has("other inputs or another recipe") {
		t.Errorf("resumed %d tensors of another mix; notes %q", r.Resumed, lg.lines)
	}
	out = filepath.Join(dir, "mini2.gguf")
	interrupted(t, m, out, o, func(p quantize.Progress) bool { return p.Done == 20 })
	lg = logger{}
	o.Log = lg.log
	if r, err = quantize.Run(context.Background(), m, out, o); err != nil {
		t.Fatal(err)
	}
	if r.Resumed == 0 || !lg.has("resuming") {
		t.Errorf("resumed %d tensors; notes %q", r.Resumed, lg.lines)
	}
}
