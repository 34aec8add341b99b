package provenance

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestManifest(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.bin")
	os.WriteFile(in, []byte("abc"), 0o644)
	h, err := HashFile(in)
	if err != nil {
		t.Fatal(err)
	}
	// sha256("abc"), FIPS 180-2 test vector.
	if h.SHA256 != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" || h.Bytes != 3 {
		t.Fatalf("HashFile = %+v", h)
	}
	if HashBytes("x", []byte("abc")).SHA256 != h.SHA256 {
		t.Fatal("HashBytes differs from HashFile")
	}
	sub := filepath.Join(dir, "model")
	os.Mkdir(sub, 0o755)
	os.WriteFile(filepath.Join(sub, "b"), []byte("b"), 0o644)
	os.WriteFile(filepath.Join(sub, "a"), []byte("a"), 0o644)
	hs, err := HashPaths(in, sub)
	if err != nil || len(hs) != 3 || filepath.Base(hs[1].Path) != "a" {
		t.Fatalf("HashPaths = %+v, %v", hs, err)
	}
	if PathFor(sub) != filepath.Join(sub, ManifestName) || PathFor(in) != in+".provenance.json" {
		t.Fatal("PathFor")
	}
	m := &Manifest{Tool: "lmc", Version: "test", Command: []string{"lmc", "convert"}, Inputs: hs}
	p := PathFor(in)
	if err := Write(p, m); err != nil {
		t.Fatal(err)
	}
	got, err := Read(p)
	if err != nil || len(got.Inputs) != 3 || got.Inputs[0].SHA256 != h.SHA256 {
		t.Fatalf("Read = %+v, %v", got, err)
	}
}

func TestHashWriter(t *testing.T) {
	var buf bytes.Buffer
	hw := NewHashWriter(&buf)
	hw.Write([]byte("a"))
	hw.Write([]byte("bc"))
	got := hw.Sum("x")
	if got != HashBytes("x", []byte("abc")) || buf.String() != "abc" {
		t.Fatalf("HashWriter = %+v, wrote %q", got, buf.String())
	}
}
