// Package heldout locates a text that lmc's models never trained on, for
// quick quality measurements (lmc compress): A Tale of Two Cities
// (pg98.txt, held out of books5M's and lmc-mini's training) from the shared
// test data when it can be found, otherwise a text embedded in the
// binary — a copy of lmc's LICENSE (Apache-2.0), which no training set of
// lmc's models contains.
package heldout

import (
	_ "embed"
	"os"
	"path/filepath"
)

//go:embed heldout.txt
var embedded []byte

// EmbeddedName names the embedded text in reports.
const EmbeddedName = "(embedded) LICENSE, Apache-2.0"

// Embedded returns the embedded held-out text.
func Embedded() []byte { return embedded }

// Rel is the path of the held-out book inside the shared data folder.
const Rel = "text/gutenberg/pg98.txt"

// Find returns the path of pg98.txt: under $LMC_SHARED, else in a folder
// named "shared" in the current directory or one of its parents (the
// checkout's sibling ../shared). It returns "" when there is none.
func Find() string {
	if d := os.Getenv("LMC_SHARED"); d != "" {
		p := filepath.Join(d, filepath.FromSlash(Rel))
		if isFile(p) {
			return p
		}
	}
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	for d := wd; ; d = filepath.Dir(d) {
		p := filepath.Join(d, "shared", filepath.FromSlash(Rel))
		if isFile(p) {
			return p
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}
