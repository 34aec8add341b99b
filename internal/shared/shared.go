// Package shared locates the read-only test data folder that sits beside the
// checkout (../shared: real models, text, reference outputs). Tests call Dir
// or Path and are skipped, with a message saying what is missing, where it is
// absent.
package shared

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

var (
	once sync.Once
	dir  string
)

// Root returns the shared data folder, or "" when there is none. The
// environment variable LMC_SHARED overrides the default, which is the folder
// named "shared" beside the module root (the directory holding go.mod).
func Root() string {
	once.Do(func() {
		if d := os.Getenv("LMC_SHARED"); d != "" {
			dir = d
			return
		}
		wd, err := os.Getwd()
		if err != nil {
			return
		}
		for d := wd; ; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				cand := filepath.Join(filepath.Dir(d), "shared")
				if st, err := os.Stat(cand); err == nil && st.IsDir() {
					dir = cand
				}
				return
			}
			if filepath.Dir(d) == d {
				return
			}
		}
	})
	return dir
}

// Path returns the path of rel inside the shared folder, skipping the test
// when the folder or the file is absent.
func Path(tb testing.TB, rel string) string {
	tb.Helper()
	root := Root()
	if root == "" {
		tb.Skipf("skipping: ../shared (test data beside the checkout) not found; set LMC_SHARED to its path")
	}
	p := filepath.Join(root, filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("skipping: %s not found in shared test data (%v)", rel, err)
	}
	return p
}
