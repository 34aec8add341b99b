package heldout

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestEmbeddedIsLicense(t *testing.T) {
	lic, err := os.ReadFile(filepath.Join("..", "..", "LICENSE"))
	if err != nil {
		t.Skip("no LICENSE beside the module:", err)
	}
	if !bytes.Equal(Embedded(), lic) {
		t.Error("heldout.txt differs from the repository's LICENSE; copy it again")
	}
	if !bytes.Contains(Embedded(), []byte("Apache License")) {
		t.Error("embedded text is not the Apache license")
	}
}

func TestFind(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, filepath.FromSlash(Rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("It was the best of times"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("LMC_SHARED", dir)
	if got := Find(); got != p {
		t.Errorf("Find with LMC_SHARED = %q, want %q", got, p)
	}
	t.Setenv("LMC_SHARED", filepath.Join(dir, "nothing"))
	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	sub := filepath.Join(dir, "work", "main")
	os.MkdirAll(sub, 0o755)
	os.MkdirAll(filepath.Join(dir, "work", "shared", "text", "gutenberg"), 0o755)
	want := filepath.Join(dir, "work", "shared", filepath.FromSlash(Rel))
	os.WriteFile(want, []byte("x"), 0o644)
	if err := os.Chdir(sub); err != nil {
		t.Fatal(err)
	}
	if got := Find(); got != want {
		t.Errorf("Find from %s = %q, want %q", sub, got, want)
	}
}
