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

	"github.com/lmc-project/lmc/internal/provenance"
	"github.com/lmc-project/lmc/internal/shared"
	_ "github.com/lmc-project/lmc/models/lmcmini" // the built-in model
	"github.com/lmc-project/lmc/quant/imatrix"
)

// runQ runs lmc with the quantization commands, which it adds to the root
// when root.go does not have them yet.
func runQ(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	s := &IO{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	root := newRoot(s)
	have := map[string]bool{}
	for _, c := range root.Commands() {
		have[c.Name()] = true
	}
	if !have["quantize"] {
		root.AddCommand(newQuantizeCmd(s))
	}
	if !have["imatrix"] {
		root.AddCommand(newImatrixCmd(s))
	}
	if !have["compress"] {
		root.AddCommand(newCompressCmd(s))
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

func TestQuantizeCommand(t *testing.T) {
	src := shared.Path(t, "models/books5M/books5M-f32.gguf")
	want := shared.Path(t, "models/books5M/llamacpp/books5M-q4_k_m.gguf")
	out := filepath.Join(t.TempDir(), "q.gguf")
	code, stdout, stderr := runQ(t, "quantize", src, "-o", out, "--type", "q4_k_m", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res QuantizeOutput
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout)
	}
	a, _ := os.ReadFile(out)
	b, _ := os.ReadFile(want)
	if !bytes.Equal(a, b) {
		t.Errorf("lmc quantize --type q4_k_m differs from llama-quantize's file")
	}
	if res.Types["q4_K"] != 39 || res.Types["q6_K"] != 5 || res.Bytes != int64(len(b)) {
		t.Errorf("report: types %v, %d bytes", res.Types, res.Bytes)
	}
	man, err := provenance.Read(res.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	if len(man.Inputs) != 1 || len(man.Outputs) != 1 || man.Recipe["file_type"] != "Q4_K_M" {
		t.Errorf("manifest: inputs %v outputs %v recipe %v", man.Inputs, man.Outputs, man.Recipe["file_type"])
	}
	if ts, ok := man.Recipe["tensors"].([]any); !ok || len(ts) != 57 {
		t.Errorf("manifest lists %d tensors, want 57", len(ts))
	}
	if _, err := os.Stat(out + ".partial"); !os.IsNotExist(err) {
		t.Errorf("partial output left behind: %v", err)
	}
}

// TestQuantizeHFStaleState: a partial state left by another recipe beside
// an HF-format output is discarded with a note; the folder is written, the
// state removed, and the manifest hashes what the folder holds.
func TestQuantizeHFStaleState(t *testing.T) {
	out := filepath.Join(t.TempDir(), "mini-ct")
	if err := os.MkdirAll(out+".partial", 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(out+".partial", "blk.0.attn_q.weight.qint"), []byte("stale"), 0o644)
	os.WriteFile(out+".partial.json", []byte(`{"version":1,"key":"another recipe","header_sha256":"hf","done":{}}`), 0o644)
	os.MkdirAll(filepath.Join(filepath.Dir(out), ".mini-ct.tmp-42"), 0o755) // a killed export's
	code, stdout, stderr := runQ(t, "quantize", "lmc-mini", "-o", out, "--format", "compressed-tensors", "--group-size", "64")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "discarding "+out+".partial: it was made from other inputs or another recipe") {
		t.Errorf("no note about the stale state: %q", stderr)
	}
	for _, p := range []string{out + ".partial", out + ".partial.json", filepath.Join(filepath.Dir(out), ".mini-ct.tmp-42")} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s left behind: %v", p, err)
		}
	}
	if !strings.Contains(stdout, "int4-g64-sym×42") {
		t.Errorf("report: %s", stdout)
	}
	man, err := provenance.Read(provenance.PathFor(out))
	if err != nil {
		t.Fatal(err)
	}
	files, err := provenance.HashPaths(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(man.Outputs) != len(files) || len(files) < 3 {
		t.Fatalf("manifest lists %d outputs, the folder holds %d files", len(man.Outputs), len(files))
	}
	for i := range files {
		if man.Outputs[i].SHA256 != files[i].SHA256 {
			t.Errorf("manifest: %s has sha256 %s, the file %s", files[i].Path, man.Outputs[i].SHA256, files[i].SHA256)
		}
	}
	// The output exists now: a second run refuses to overwrite it,
	// naming it, before quantizing anything.
	code, _, stderr = runQ(t, "quantize", "lmc-mini", "-o", out, "--format", "compressed-tensors")
	if code == 0 || !strings.Contains(stderr, out+" already exists") {
		t.Errorf("second run: exit %d, %q", code, stderr)
	}
}

func TestQuantizeCommandErrors(t *testing.T) {
	src := shared.Path(t, "models/stories260K/stories260K.gguf")
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no output", []string{"quantize", src}, 2, "-o OUT"},
		{"bad type", []string{"quantize", src, "-o", filepath.Join(dir, "x.gguf"), "--type", "q9_k"}, 2, "--type"},
		{"gptq without text", []string{"quantize", src, "-o", filepath.Join(dir, "x.gguf"), "--method", "gptq"}, 2, "--calib"},
		{"imatrix and calib", []string{"quantize", src, "-o", filepath.Join(dir, "x.gguf"), "--imatrix", "a", "--calib", "b"}, 2, "not both"},
		{"bad rule", []string{"quantize", src, "-o", filepath.Join(dir, "x.gguf"), "--tensor-type", "ffn_down"}, 2, "REGEX=TYPE"},
		{"same file", []string{"quantize", src, "-o", src}, 2, "input"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := runQ(t, c.args...)
			if code != c.code || !strings.Contains(stderr, c.msg) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, c.code, c.msg)
			}
		})
	}
}

// TestQuantizeFallbackStories260K: llama.cpp refuses Q8_0 on
// stories260K (ffn_down rows of 172); lmc stores F16 there and says so.
func TestQuantizeFallbackStories260K(t *testing.T) {
	src := shared.Path(t, "models/stories260K/stories260K.gguf")
	out := filepath.Join(t.TempDir(), "s.gguf")
	code, stdout, stderr := runQ(t, "quantize", src, "-o", out, "--type", "q8_0")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "note: blk.0.ffn_down.weight: rows of 172") || !strings.Contains(stdout, "f16") {
		t.Errorf("no fallback note:\n%s", stdout)
	}
}

func TestImatrixCommand(t *testing.T) {
	src := shared.Path(t, "models/stories260K/stories260K.gguf")
	text := shared.Path(t, "text/stories_handwritten.txt")
	dir := t.TempDir()
	for _, ext := range []string{"gguf", "dat"} {
		out := filepath.Join(dir, "im."+ext)
		code, stdout, stderr := runQ(t, "imatrix", src, "--text", text, "-o", out, "--ctx", "64", "--json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var res ImatrixOutput
		if err := json.Unmarshal([]byte(stdout), &res); err != nil {
			t.Fatal(err)
		}
		im, err := imatrix.Read(out, &imatrix.ReadOptions{LegacyChunkSize: 64})
		if err != nil {
			t.Fatal(err)
		}
		// 5 blocks × 7 linears.
		if len(im.Entries) != 35 || res.Entries != 35 || res.Format != ext || im.ChunkCount != res.Chunks {
			t.Errorf("%s: %d entries (report %d), chunks %d/%d", ext, len(im.Entries), res.Entries, im.ChunkCount, res.Chunks)
		}
		// The file feeds quantize.
		q := filepath.Join(dir, "q-"+ext+".gguf")
		code, _, stderr = runQ(t, "quantize", src, "-o", q, "--type", "q4_0", "--pure", "--imatrix", out, "-q")
		if code != 0 {
			t.Fatalf("quantize --imatrix %s: exit %d: %s", ext, code, stderr)
		}
	}
	// Too short a text.
	code, _, stderr := runQ(t, "imatrix", src, "--text", text, "-o", filepath.Join(dir, "x.gguf"), "--ctx", "100000")
	if code == 0 || !strings.Contains(stderr, "too short") {
		t.Errorf("huge ctx: exit %d, %s", code, stderr)
	}
}

func TestCompressCommand(t *testing.T) {
	src := shared.Path(t, "models/stories260K/stories260K.gguf")
	text := shared.Path(t, "text/stories_handwritten.txt")
	code, stdout, stderr := runQ(t, "compress", src, "--types", "q8_0,q4_k_m", "--text", text, "--ctx", "64", "--chunks", "4", "--gen", "8", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res CompressOutput
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 2 || res.Chunks != 4 || res.BasePPL <= 1 {
		t.Fatalf("rows %d, chunks %d, base PPL %v", len(res.Rows), res.Chunks, res.BasePPL)
	}
	q8, q4 := res.Rows[0], res.Rows[1]
	if !(q8.KLD < q4.KLD) || !(q8.Bytes > q4.Bytes) || q8.BPW <= 0 || q8.DecodeTPS <= 0 {
		t.Errorf("q8_0 %+v vs q4_k_m %+v", q8, q4)
	}
}

func TestParseGrid(t *testing.T) {
	for _, c := range []struct {
		in, name string
		ok       bool
	}{
		{"int4-g128", "int4-g128-sym", true}, {"int8-g32-asym", "int8-g32-asym", true}, {"int4-grow", "int4-g-1-sym", true},
		{"int3-g128", "", false}, {"int4", "", false}, {"q4-g128", "", false}, {"int4-g0", "", false}, {"int4-g128-x", "", false},
	} {
		g, err := parseGrid(c.in)
		if (err == nil) != c.ok || (c.ok && g.name != c.name) {
			t.Errorf("parseGrid(%q) = %q, %v", c.in, g.name, err)
		}
	}
}
