package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lmc-project/lmc/internal/provenance"
	"github.com/lmc-project/lmc/internal/shared"
	"github.com/lmc-project/lmc/modelfile"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Main(args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestInspectJSON(t *testing.T) {
	p := shared.Path(t, "models/stories260K/stories260K.gguf")
	code, out, errOut := run(t, "inspect", p, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r modelfile.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("--json output is not JSON: %v\n%s", err, out)
	}
	if r.Format != "gguf" || r.Config == nil || r.Config.BlockCount != 5 || r.Config.HeadCount != 8 || r.Config.HeadCountKV != 4 {
		t.Errorf("report = %+v", r)
	}
	if r.Tokenizer == nil || r.Tokenizer.Tokens != 512 {
		t.Errorf("tokenizer = %+v", r.Tokenizer)
	}
	if r.BitsPerWeight != 32 {
		t.Errorf("bits per weight of an F32 model = %v", r.BitsPerWeight)
	}
	var n int64
	for _, tt := range r.Tensors {
		n += tt.Bytes
	}
	if n != r.TensorBytes {
		t.Errorf("tensor rows sum to %d, total says %d", n, r.TensorBytes)
	}
}

func TestInspectHuman(t *testing.T) {
	p := shared.Path(t, "models/books5M/hf")
	code, out, errOut := run(t, "inspect", p)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"architecture", "llama", "4.98M", "blk.0.attn_q.weight", "F32", "tokenizer:", "bits per weight"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out)
		}
	}
}

func TestConvertWritesProvenance(t *testing.T) {
	bin := shared.Path(t, "models/stories260K/stories260K.bin")
	tok := shared.Path(t, "models/stories260K/tok512.bin")
	dir := t.TempDir()
	out := filepath.Join(dir, "s.gguf")
	before, _ := provenance.HashFile(bin)
	code, stdout, errOut := run(t, "convert", bin, out, "--tokenizer", tok, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res ConvertResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	man, err := provenance.Read(res.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	if len(man.Inputs) != 2 || len(man.Outputs) != 1 {
		t.Fatalf("manifest inputs/outputs = %+v / %+v", man.Inputs, man.Outputs)
	}
	got, _ := provenance.HashFile(out)
	if man.Outputs[0].SHA256 != got.SHA256 {
		t.Errorf("manifest output sha256 %s, file has %s", man.Outputs[0].SHA256, got.SHA256)
	}
	if man.Inputs[0].SHA256 != before.SHA256 {
		t.Errorf("manifest input sha256 %s, file has %s", man.Inputs[0].SHA256, before.SHA256)
	}
	after, _ := provenance.HashFile(bin)
	if after != before {
		t.Error("convert modified its input")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Errorf("output folder holds %d entries (temporary files left?): %v", len(ents), ents)
	}
}

func TestUsageErrors(t *testing.T) {
	p := shared.Path(t, "models/stories260K/stories260K.gguf")
	for _, args := range [][]string{
		{"convert", p},
		{"convert", p, "x.gguf", "--dtype", "q4"},
		{"convert", p, p},
		{"inspect", p, "--no-such-flag"},
	} {
		code, _, errOut := run(t, args...)
		if code != 2 {
			t.Errorf("lmc %v: exit %d, want 2 (usage)", args, code)
		}
		if errOut == "" {
			t.Errorf("lmc %v: no message", args)
		}
	}
	code, _, errOut := run(t, "inspect", filepath.Join(t.TempDir(), "missing.gguf"))
	if code != 1 || !strings.Contains(errOut, "missing.gguf") {
		t.Errorf("missing file: exit %d, %q", code, errOut)
	}
}
