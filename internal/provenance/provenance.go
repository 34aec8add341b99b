// Package provenance records where an output came from: the sha256 of every
// input and output file, the lmc version and the command line, written as a
// JSON manifest beside the output.
package provenance

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/lmc-project/lmc/internal/atomicfile"
)

// FileHash is one file with its size and digest.
type FileHash struct {
	Path   string `json:"path"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Manifest is the provenance record of one lmc run.
type Manifest struct {
	Tool      string         `json:"tool"`
	Version   string         `json:"version"`
	Command   []string       `json:"command"`
	Created   time.Time      `json:"created"`
	Inputs    []FileHash     `json:"inputs"`
	Outputs   []FileHash     `json:"outputs"`
	Recipe    map[string]any `json:"recipe,omitempty"`
	Seconds   float64        `json:"seconds,omitempty"`
	GoVersion string         `json:"go_version,omitempty"`
}

// HashFile returns the sha256 of a file.
func HashFile(path string) (FileHash, error) {
	f, err := os.Open(path)
	if err != nil {
		return FileHash{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return FileHash{}, fmt.Errorf("hash %s: %w", path, err)
	}
	return FileHash{Path: path, Bytes: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// HashBytes describes in-memory content (an embedded model file) by name.
func HashBytes(name string, b []byte) FileHash {
	s := sha256.Sum256(b)
	return FileHash{Path: name, Bytes: int64(len(b)), SHA256: hex.EncodeToString(s[:])}
}

// HashPaths hashes files, and every regular file inside folders, in sorted order.
func HashPaths(paths ...string) ([]FileHash, error) {
	var out []FileHash
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			h, err := HashFile(p)
			if err != nil {
				return nil, err
			}
			out = append(out, h)
			continue
		}
		var files []string
		err = filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() && d.Name() != ManifestName {
				files = append(files, q)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(files)
		for _, q := range files {
			h, err := HashFile(q)
			if err != nil {
				return nil, err
			}
			out = append(out, h)
		}
	}
	return out, nil
}

// ManifestName is the manifest's file name inside an output folder.
const ManifestName = "lmc-provenance.json"

// PathFor returns where the manifest of an output goes: OUT.provenance.json
// beside a file, or lmc-provenance.json inside a folder.
func PathFor(output string) string {
	if st, err := os.Stat(output); err == nil && st.IsDir() {
		return filepath.Join(output, ManifestName)
	}
	return output + ".provenance.json"
}

// Write writes m atomically to path.
func Write(path string, m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	f, err := atomicfile.Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

// Read reads a manifest.
func Read(path string) (*Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &m, nil
}

// HashWriter passes writes through to W while hashing them.
type HashWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

// NewHashWriter returns a writer that hashes everything written to w.
func NewHashWriter(w io.Writer) *HashWriter { return &HashWriter{w: w, h: sha256.New()} }

func (hw *HashWriter) Write(p []byte) (int, error) {
	n, err := hw.w.Write(p)
	hw.h.Write(p[:n])
	hw.n += int64(n)
	return n, err
}

// Sum describes what was written, under the given path.
func (hw *HashWriter) Sum(path string) FileHash {
	return FileHash{Path: path, Bytes: hw.n, SHA256: hex.EncodeToString(hw.h.Sum(nil))}
}
