package safetensors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// MaxIndexSize is the largest model.safetensors.index.json accepted, in bytes.
const MaxIndexSize = 100_000_000

// Model is a model stored as one safetensors file or sharded over several,
// seen as one set of tensors. Tensor names are unique across its files.
type Model struct {
	files   []*File
	paths   []string
	tensors []TensorInfo   // sorted by name
	where   map[string]int // tensor name → index in files
	meta    map[string]string
}

// OpenModel opens a model. path may be
//   - a .safetensors file;
//   - an index (any *.json, normally model.safetensors.index.json), whose
//     weight_map names the shard files, relative to the index's directory;
//   - a directory holding model.safetensors, or model.safetensors.index.json,
//     or else exactly one *.safetensors.index.json or exactly one
//     *.safetensors file (in that order of preference).
//
// Shards are opened with Open (mapped lazily). The index must be consistent:
// every weight_map entry must name a tensor present in that shard, shard
// names must stay inside the directory, and a tensor may not appear in two
// shards. Tensors present in a shard but absent from weight_map are kept
// (transformers loads them too). A directory holding only PyTorch pickle
// checkpoints gives a *PickleError.
func OpenModel(path string) (*Model, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		if strings.HasSuffix(path, ".json") {
			return openIndex(path)
		}
		return openSingle(path)
	}
	for _, c := range []struct {
		name  string
		index bool
	}{{SingleFile, false}, {IndexFile, true}} {
		p := filepath.Join(path, c.name)
		if _, err := os.Stat(p); err == nil {
			if c.index {
				return openIndex(p)
			}
			return openSingle(p)
		}
	}
	if idx, _ := filepath.Glob(filepath.Join(path, "*.safetensors.index.json")); len(idx) == 1 {
		return openIndex(idx[0])
	}
	files, _ := filepath.Glob(filepath.Join(path, "*.safetensors"))
	switch len(files) {
	case 1:
		return openSingle(files[0])
	case 0:
		for _, pat := range []string{"*.bin", "*.pt", "*.pth", "*.ckpt", "*.pkl"} {
			cands, _ := filepath.Glob(filepath.Join(path, pat))
			for _, c := range cands {
				if err := CheckNotPickle(c); errors.Is(err, ErrPickle) {
					return nil, err
				}
			}
		}
		return nil, fmt.Errorf("safetensors: %s: no %s, %s or other *.safetensors file", path, SingleFile, IndexFile)
	default:
		return nil, fmt.Errorf("safetensors: %s: %d *.safetensors files and no %s; refusing to guess how they combine",
			path, len(files), IndexFile)
	}
}

func openSingle(path string) (*Model, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	m, err := newModel([]*File{f})
	if err != nil {
		f.Close()
	}
	return m, err
}

// newModel merges files, rejecting a tensor name present in two of them.
func newModel(files []*File) (*Model, error) {
	m := &Model{files: files, where: make(map[string]int), meta: nil}
	for i, f := range files {
		m.paths = append(m.paths, f.Path)
		for _, t := range f.Tensors {
			if j, dup := m.where[t.Name]; dup {
				return nil, &FormatError{File: f.Path, Off: -1, Tensor: t.Name, Field: "name",
					Msg: fmt.Sprintf("tensor also present in %s", files[j].Path)}
			}
			m.where[t.Name] = i
			m.tensors = append(m.tensors, t)
		}
		if f.Metadata != nil && m.meta == nil {
			m.meta = make(map[string]string)
		}
		for k, v := range f.Metadata {
			if _, ok := m.meta[k]; !ok {
				m.meta[k] = v
			}
		}
	}
	sort.Slice(m.tensors, func(i, j int) bool { return m.tensors[i].Name < m.tensors[j].Name })
	return m, nil
}

// readIndex parses an index's weight_map (tensor → file), rejecting
// duplicate keys, non-string values and file names outside the directory.
func readIndex(path string) (map[string]string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, MaxIndexSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxIndexSize {
		return nil, &FormatError{File: path, Off: -1, Msg: fmt.Sprintf("index larger than the %d-byte limit", MaxIndexSize)}
	}
	p := &headerParser{file: path, hdr: data, badUTF8: firstInvalidUTF8(data)}
	p.dec = json.NewDecoder(bytes.NewReader(data))
	p.dec.UseNumber()
	if err := p.expectDelim('{', "index is not a JSON object"); err != nil {
		return nil, err
	}
	var wm map[string]string
	seenTop := make(map[string]bool)
	for p.dec.More() {
		p.tensor, p.field = "", ""
		tok, err := p.token()
		if err != nil {
			return nil, err
		}
		key := tok.(string)
		p.field = key
		if seenTop[key] {
			return nil, p.failf("duplicate key")
		}
		seenTop[key] = true
		if key != "weight_map" {
			if err := p.skipValue(); err != nil {
				return nil, err
			}
			continue
		}
		if err := p.expectDelim('{', "must be an object"); err != nil {
			return nil, err
		}
		wm = make(map[string]string)
		for p.dec.More() {
			p.tensor = ""
			tok, err := p.token()
			if err != nil {
				return nil, err
			}
			name := tok.(string)
			p.tensor = name
			if _, dup := wm[name]; dup {
				return nil, p.failf("duplicate tensor name")
			}
			tok, err = p.token()
			if err != nil {
				return nil, err
			}
			file, ok := tok.(string)
			if !ok {
				return nil, p.failf("file name must be a string, got %s", describe(tok))
			}
			if !filepath.IsLocal(filepath.FromSlash(file)) {
				return nil, p.failf("file %q is not a path inside the model directory", file)
			}
			wm[name] = file
		}
		p.tensor = ""
		if err := p.expectDelim('}', "object not closed"); err != nil {
			return nil, err
		}
	}
	p.tensor, p.field = "", ""
	if err := p.expectDelim('}', "index object not closed"); err != nil {
		return nil, err
	}
	if rest := data[p.dec.InputOffset():]; len(bytes.Trim(rest, " \t\r\n")) != 0 {
		return nil, p.failf("unexpected bytes after the index JSON object")
	}
	if len(wm) == 0 {
		p.field = "weight_map"
		return nil, p.fail(-1, "missing or empty", nil)
	}
	return wm, nil
}

func openIndex(path string) (*Model, error) {
	wm, err := readIndex(path)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	var names []string
	seen := make(map[string]bool)
	for _, f := range wm {
		if !seen[f] {
			seen[f] = true
			names = append(names, f)
		}
	}
	sort.Strings(names)
	files := make([]*File, 0, len(names))
	closeAll := func() {
		for _, f := range files {
			f.Close()
		}
	}
	byName := make(map[string]*File, len(names))
	for _, n := range names {
		f, err := Open(filepath.Join(dir, filepath.FromSlash(n)))
		if err != nil {
			closeAll()
			return nil, err
		}
		files = append(files, f)
		byName[n] = f
	}
	for _, t := range sortedKeys(wm) {
		if _, ok := byName[wm[t]].Tensor(t); !ok {
			closeAll()
			return nil, &FormatError{File: path, Off: -1, Tensor: t, Field: "weight_map",
				Msg: fmt.Sprintf("mapped to %s, which has no such tensor", wm[t])}
		}
	}
	m, err := newModel(files)
	if err != nil {
		closeAll()
		return nil, err
	}
	return m, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Tensors returns every tensor of the model sorted by name. Begin and End are
// relative to the data section of the tensor's own file. The slice must not
// be modified.
func (m *Model) Tensors() []TensorInfo { return m.tensors }

// Tensor returns the description of the named tensor.
func (m *Model) Tensor(name string) (TensorInfo, bool) {
	i, ok := m.where[name]
	if !ok {
		return TensorInfo{}, false
	}
	return m.files[i].Tensor(name)
}

// FileOf returns the file holding the named tensor.
func (m *Model) FileOf(name string) (*File, bool) {
	i, ok := m.where[name]
	if !ok {
		return nil, false
	}
	return m.files[i], true
}

// Data returns the named tensor's bytes (see File.Data).
func (m *Model) Data(name string) ([]byte, error) {
	i, ok := m.where[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q in model %s", ErrNotFound, name, strings.Join(m.paths, ", "))
	}
	return m.files[i].Data(name)
}

// Metadata returns the union of the files' __metadata__ maps (the first file,
// in Files order, wins on a conflicting key); nil when no file has one.
func (m *Model) Metadata() map[string]string { return m.meta }

// Files returns the paths of the model's safetensors files, sorted.
func (m *Model) Files() []string { return m.paths }

// Close closes every file of the model.
func (m *Model) Close() error {
	var errs []error
	for _, f := range m.files {
		errs = append(errs, f.Close())
	}
	return errors.Join(errs...)
}
