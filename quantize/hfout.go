package quantize

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/lmc-project/lmc/hfquant"
	"github.com/lmc-project/lmc/hfquant/spec"
)

// hfStateVersion changes when the layout of an HF run's partial state
// changes, so that an old one is never resumed.
const hfStateVersion = 1

// partFile is one finished tensor of an HF run's partial state: the file
// holding it in OUT.partial/ and its size and checksum.
type partFile struct {
	File   string `json:"file"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
	GIdx   bool   `json:"g_idx,omitempty"` // an act-order matrix
}

// hfOut is the partial state of an HF-format run (GPTQ or
// compressed-tensors folder): every finished linear layer's integer
// matrix (and, for AWQ, every norm with its scales folded in) in a file of
// OUT.partial/, listed with its checksum in OUT.partial.json together with
// the key of the inputs and recipe. The folder itself is written from
// these files at the end (hfquant.Export, atomically), so a run killed at
// any point continues from the finished tensors; a killed export is
// simply redone.
type hfOut struct {
	path, dir, statePath string
	state                *partialState
	resumed              int
}

// openHFOut prepares the partial state of an HF run writing out. With
// resume, a state made with the same key is continued (its files are
// verified; a missing or corrupted one is redone); a state made from
// other inputs or another recipe is discarded, and log says so.
func openHFOut(out, key string, resume bool, log func(string)) (*hfOut, error) {
	h := &hfOut{path: out}
	h.dir, h.statePath = PartialPath(out)
	st, err := readState(h.statePath)
	_, dirErr := os.Lstat(h.dir)
	had := err == nil || dirErr == nil
	switch {
	case !had:
	case !resume:
		log(fmt.Sprintf("--no-resume: discarding %s from an earlier run", h.dir))
	case err != nil:
		log(fmt.Sprintf("discarding %s: its state %s is missing or unreadable", h.dir, h.statePath))
	case st.Version != stateVersion || st.Header != "hf":
		log(fmt.Sprintf("discarding %s: it was made by another version of lmc or for another output format", h.dir))
	case st.Key != key:
		log(fmt.Sprintf("discarding %s: it was made from other inputs or another recipe", h.dir))
	case !isDir(h.dir):
		log(fmt.Sprintf("discarding %s: the folder %s it describes is missing", h.statePath, h.dir))
	default:
		h.state = st
		if h.state.Files == nil {
			h.state.Files = map[string]*partFile{}
		}
		if h.state.Extra == nil {
			h.state.Extra = map[string]string{}
		}
		h.verify(log)
	}
	if had {
		removeStaleTemps(out, log)
	}
	if h.state != nil {
		return h, nil
	}
	if err := os.RemoveAll(h.dir); err != nil {
		return nil, fmt.Errorf("quantize: removing the stale partial state %s: %w", h.dir, err)
	}
	if err := os.MkdirAll(h.dir, 0o755); err != nil {
		return nil, fmt.Errorf("quantize: creating the partial state %s: %w", h.dir, err)
	}
	h.state = &partialState{Version: stateVersion, Key: key, Header: "hf", Done: map[string]*TensorReport{}, Files: map[string]*partFile{}, Extra: map[string]string{}}
	if err := h.save(); err != nil {
		h.fail()
		return nil, err
	}
	return h, nil
}

func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

// removeStaleTemps removes the temporary folders (.OUT.tmp-*) that an
// export killed before its rename left beside out.
func removeStaleTemps(out string, log func(string)) {
	clean := filepath.Clean(out)
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(clean), "."+filepath.Base(clean)+".tmp-*"))
	for _, m := range matches {
		if isDir(m) && os.RemoveAll(m) == nil {
			log(fmt.Sprintf("removed %s, left by an interrupted export", m))
		}
	}
}

// verify drops from the state every tensor whose file is missing or no
// longer matches its size and checksum.
func (h *hfOut) verify(log func(string)) {
	names := make([]string, 0, len(h.state.Done))
	for name := range h.state.Done {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, err := h.readFile(name); err != nil {
			log(fmt.Sprintf("redoing %s: %v", name, err))
			delete(h.state.Done, name)
			delete(h.state.Files, name)
			continue
		}
		h.state.Done[name].Resumed = true
		h.resumed++
	}
}

// done reports a tensor already in the partial state.
func (h *hfOut) done(name string) bool { return h.state.Done[name] != nil }

// fileName is the file of a tensor in OUT.partial/.
func fileName(name, ext string) string {
	return strings.NewReplacer("/", "_", string(filepath.Separator), "_").Replace(name) + ext
}

// put stores a finished tensor (an integer matrix, or float32 values) and
// records it, with its report, in the state.
func (h *hfOut) put(name string, q *spec.Quantized, f32 []float32, tr *TensorReport) error {
	var b []byte
	var file string
	switch {
	case q != nil:
		b, file = hfquant.EncodeQuantized(q), fileName(name, ".qint")
	case f32 != nil:
		b, file = f32Bytes(f32), fileName(name, ".f32")
	default:
		return fmt.Errorf("quantize: internal error: nothing to store for %s", name)
	}
	path := filepath.Join(h.dir, file)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("quantize: saving %s to the partial state: %w", name, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("quantize: saving %s to the partial state: %w", name, err)
	}
	sum := sha256.Sum256(b)
	h.state.Files[name] = &partFile{File: file, Bytes: int64(len(b)), SHA256: hex.EncodeToString(sum[:]), GIdx: q != nil && q.GIdx != nil}
	h.state.Done[name] = tr
	return h.save()
}

// readFile returns a finished tensor's bytes, checked against the state.
func (h *hfOut) readFile(name string) ([]byte, error) {
	pf := h.state.Files[name]
	if pf == nil || pf.File == "" || strings.ContainsAny(pf.File, `/\`) {
		return nil, fmt.Errorf("%s: no file recorded in %s", name, h.statePath)
	}
	path := filepath.Join(h.dir, pf.File)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	if int64(len(b)) != pf.Bytes || hex.EncodeToString(sum[:]) != pf.SHA256 {
		return nil, fmt.Errorf("%s: %d bytes with sha256 %s, the state %s records %d bytes with sha256 %s",
			path, len(b), hex.EncodeToString(sum[:]), h.statePath, pf.Bytes, pf.SHA256)
	}
	return b, nil
}

// quantized returns a finished integer matrix (nil, nil: not stored).
func (h *hfOut) quantized(name string) (*spec.Quantized, error) {
	if h.state.Files[name] == nil || !strings.HasSuffix(h.state.Files[name].File, ".qint") {
		return nil, nil
	}
	b, err := h.readFile(name)
	if err != nil {
		return nil, fmt.Errorf("quantize: partial state: %w", err)
	}
	q, err := hfquant.DecodeQuantized(b)
	if err != nil {
		return nil, fmt.Errorf("quantize: partial state %s: %w", filepath.Join(h.dir, h.state.Files[name].File), err)
	}
	return q, nil
}

// floats returns every finished float32 tensor (AWQ's folded norms).
func (h *hfOut) floats() (map[string][]float32, error) {
	out := map[string][]float32{}
	for name, pf := range h.state.Files {
		if !strings.HasSuffix(pf.File, ".f32") {
			continue
		}
		b, err := h.readFile(name)
		if err != nil {
			return nil, fmt.Errorf("quantize: partial state: %w", err)
		}
		out[name] = bytesF32(b)
	}
	return out, nil
}

// actOrder reports whether any stored matrix has an act-order g_idx.
func (h *hfOut) actOrder() bool {
	for _, pf := range h.state.Files {
		if pf.GIdx {
			return true
		}
	}
	return false
}

func (h *hfOut) save() error {
	b, err := json.Marshal(h.state)
	if err != nil {
		return err
	}
	tmp := h.statePath + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("quantize: saving the partial state %s: %w", h.statePath, err)
	}
	return os.Rename(tmp, h.statePath)
}

// commit removes the partial state once the folder is in place.
func (h *hfOut) commit() {
	os.RemoveAll(h.dir)
	os.Remove(h.statePath)
}

// close keeps the partial state for a later run (it is saved after every
// tensor).
func (h *hfOut) close() { h.save() }

// fail removes the partial state.
func (h *hfOut) fail() {
	os.RemoveAll(h.dir)
	os.Remove(h.statePath)
}

// bytesF32 reads little-endian float32s.
func bytesF32(b []byte) []float32 {
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}
