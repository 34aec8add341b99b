// Package atomicfile writes outputs so that nothing is lost: data goes to a
// temporary file (or folder) beside the target, is synced, and is renamed
// over the target only when complete. An interrupted job leaves the old
// output, if any, untouched.
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// File is an output file being written. Commit makes it visible under its
// final name; Abort (safe after Commit) removes the temporary file.
type File struct {
	*os.File
	target string
	done   bool
}

// Create opens a temporary file in the target's folder.
func Create(target string) (*File, error) {
	dir := filepath.Dir(target)
	f, err := os.CreateTemp(dir, "."+filepath.Base(target)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("create output %s: %w", target, err)
	}
	return &File{File: f, target: target}, nil
}

// Commit syncs, closes and renames the file to its target name.
func (f *File) Commit() error {
	if f.done {
		return fmt.Errorf("%s: already committed or aborted", f.target)
	}
	f.done = true
	// CreateTemp makes the file 0600; outputs are ordinary files.
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		os.Remove(f.Name())
		return fmt.Errorf("chmod %s: %w", f.target, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(f.Name())
		return fmt.Errorf("sync %s: %w", f.target, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("close %s: %w", f.target, err)
	}
	if err := os.Rename(f.Name(), f.target); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("rename to %s: %w", f.target, err)
	}
	return nil
}

// Abort removes the temporary file unless Commit succeeded.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.Close()
	os.Remove(f.Name())
}

// Dir is an output folder being written: files go into a temporary sibling
// folder that Commit renames to the target. An existing target folder is
// replaced only if replace was set.
type Dir struct {
	Path    string // the temporary folder to write into
	target  string
	replace bool
	done    bool
}

// CreateDir makes the temporary folder for target.
func CreateDir(target string, replace bool) (*Dir, error) {
	if st, err := os.Stat(target); err == nil {
		if !st.IsDir() {
			return nil, fmt.Errorf("output %s exists and is not a folder", target)
		}
		if !replace {
			return nil, fmt.Errorf("output folder %s already exists (use --force to replace it)", target)
		}
	}
	parent := filepath.Dir(filepath.Clean(target))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(target)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("create output folder %s: %w", target, err)
	}
	return &Dir{Path: tmp, target: target, replace: replace}, nil
}

// Commit moves the finished folder into place.
func (d *Dir) Commit() error {
	if d.done {
		return fmt.Errorf("%s: already committed or aborted", d.target)
	}
	d.done = true
	// MkdirTemp makes the folder 0700; outputs are ordinary folders.
	if err := os.Chmod(d.Path, 0o755); err != nil {
		os.RemoveAll(d.Path)
		return err
	}
	var old string
	if _, err := os.Stat(d.target); err == nil {
		old = d.Path + ".old"
		if err := os.Rename(d.target, old); err != nil {
			os.RemoveAll(d.Path)
			return err
		}
	}
	if err := os.Rename(d.Path, d.target); err != nil {
		if old != "" {
			os.Rename(old, d.target)
		}
		os.RemoveAll(d.Path)
		return fmt.Errorf("rename to %s: %w", d.target, err)
	}
	if old != "" {
		os.RemoveAll(old)
	}
	return nil
}

// Abort removes the temporary folder unless Commit succeeded.
func (d *Dir) Abort() {
	if d.done {
		return
	}
	d.done = true
	os.RemoveAll(d.Path)
}
