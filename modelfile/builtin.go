package modelfile

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/lmc-project/lmc/internal/atomicfile"
)

// Built-in models are HF folders compiled into the binary (go:embed). They
// are written once to the user's cache folder, keyed by content hash, so
// that every reader (memory maps included) sees ordinary files.
var (
	builtinMu sync.Mutex
	builtins  = map[string]fs.FS{}
)

// RegisterBuiltin makes an embedded HF folder openable by name. It panics on
// a duplicate name (a programming error).
func RegisterBuiltin(name string, fsys fs.FS) {
	builtinMu.Lock()
	defer builtinMu.Unlock()
	if _, dup := builtins[name]; dup {
		panic("modelfile: duplicate built-in model " + name)
	}
	builtins[name] = fsys
}

// Builtins lists the registered built-in model names.
func Builtins() []string {
	builtinMu.Lock()
	defer builtinMu.Unlock()
	var names []string
	for n := range builtins {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Builtin resolves a built-in model name to its folder on disk, writing it
// out on first use. ok is false when name is not a built-in, or when a file
// or folder of that name exists (a real path always wins).
func Builtin(name string) (dir string, ok bool, err error) {
	builtinMu.Lock()
	fsys, found := builtins[name]
	builtinMu.Unlock()
	if !found {
		return "", false, nil
	}
	if _, err := os.Stat(name); err == nil {
		return "", false, nil
	}
	files, err := fs.Glob(fsys, "*")
	if err != nil {
		return "", true, err
	}
	sort.Strings(files)
	h := sha256.New()
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return "", true, err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", f, len(b))
		h.Write(b)
	}
	base, err := os.UserCacheDir()
	if err != nil || base == "" {
		base = os.TempDir()
	}
	dir = filepath.Join(base, "lmc", name+"-"+hex.EncodeToString(h.Sum(nil))[:16])
	if st, err := os.Stat(dir); err == nil && st.IsDir() {
		return dir, true, nil
	}
	d, err := atomicfile.CreateDir(dir, true)
	if err != nil {
		return "", true, fmt.Errorf("built-in model %s: %w", name, err)
	}
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f)
		if err == nil {
			err = os.WriteFile(filepath.Join(d.Path, f), b, 0o644)
		}
		if err != nil {
			d.Abort()
			return "", true, fmt.Errorf("built-in model %s: %w", name, err)
		}
	}
	if err := d.Commit(); err != nil {
		return "", true, fmt.Errorf("built-in model %s: %w", name, err)
	}
	return dir, true, nil
}
