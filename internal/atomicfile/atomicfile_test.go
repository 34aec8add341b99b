package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFileCommitAndAbort(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "out.bin")
	if err := os.WriteFile(target, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Create(target)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("new")
	// Before Commit the old content is still there.
	if b, _ := os.ReadFile(target); string(b) != "old" {
		t.Fatalf("target changed before commit: %q", b)
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	f.Abort() // no-op after commit
	if b, _ := os.ReadFile(target); string(b) != "new" {
		t.Fatalf("after commit: %q", b)
	}
	g, _ := Create(target)
	g.WriteString("partial")
	g.Abort()
	if b, _ := os.ReadFile(target); string(b) != "new" {
		t.Fatalf("abort changed target: %q", b)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("temporary files left behind: %v", ents)
	}
}

func TestDir(t *testing.T) {
	parent := t.TempDir()
	target := filepath.Join(parent, "model")
	d, err := CreateDir(target, false)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(d.Path, "a"), []byte("1"), 0o644)
	if err := d.Commit(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(target, "a")); string(b) != "1" {
		t.Fatal("file missing after commit")
	}
	if _, err := CreateDir(target, false); err == nil {
		t.Fatal("existing folder replaced without replace=true")
	}
	d2, err := CreateDir(target, true)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(d2.Path, "b"), []byte("2"), 0o644)
	if err := d2.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(target, "a")); !os.IsNotExist(err) {
		t.Fatal("old folder content survived replacement")
	}
	ents, _ := os.ReadDir(parent)
	if len(ents) != 1 {
		t.Fatalf("temporary folders left: %v", ents)
	}
}

func TestPermissions(t *testing.T) {
	dir := t.TempDir()
	f, err := Create(filepath.Join(dir, "x"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(filepath.Join(dir, "x"))
	if st.Mode().Perm() != 0o644 {
		t.Errorf("file mode %v, want 0644", st.Mode().Perm())
	}
	d, err := CreateDir(filepath.Join(dir, "d"), false)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Commit(); err != nil {
		t.Fatal(err)
	}
	st, _ = os.Stat(filepath.Join(dir, "d"))
	if st.Mode().Perm() != 0o755 {
		t.Errorf("folder mode %v, want 0755", st.Mode().Perm())
	}
}
