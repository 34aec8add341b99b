package quantize

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/lmc-project/lmc/gguf"
)

// stateVersion changes when the partial-output layout or the quantizers'
// output change, so that an old partial file is never resumed.
const stateVersion = 1

// partialState is the sidecar of a partial output (OUT.partial.json): the
// key of the inputs and recipe it was made from, and the tensors already
// written to OUT.partial with their checksums and reports.
type partialState struct {
	Version int                      `json:"version"`
	Key     string                   `json:"key"`
	Header  string                   `json:"header_sha256"`
	Done    map[string]*TensorReport `json:"done"`
	Extra   map[string]string        `json:"extra,omitempty"`
	// Files are the files of finished tensors (HF formats, whose partial
	// output is a folder of them).
	Files map[string]*partFile `json:"files,omitempty"`
}

// ggufOut writes a GGUF file whose layout is known up front (the header and
// every tensor's offset), tensor by tensor in any order, into OUT.partial,
// and renames it to OUT when every tensor is there. The sidecar records
// finished tensors so that a run killed halfway continues where it
// stopped; their bytes are verified against their checksums first.
type ggufOut struct {
	path, partial, statePath string
	f                        *os.File
	header                   []byte
	infos                    []gguf.TensorInfo // with offsets relative to the data section
	index                    map[string]int
	total                    int64
	state                    *partialState
	resumed                  int
	saved                    time.Time // last state save
}

// PartialPath returns the partial output file of a run writing out, and its
// state file.
func PartialPath(out string) (partial, state string) {
	return out + ".partial", out + ".partial.json"
}

// encodeHeader returns the header bytes (with padding) gguf.Writer writes
// for kvs and infos, and the infos with their offsets.
func encodeHeader(kvs []gguf.KV, infos []gguf.TensorInfo) ([]byte, []gguf.TensorInfo, uint64, error) {
	var buf bytes.Buffer
	w, err := gguf.NewWriter(&buf, kvs, infos, 0)
	if err != nil {
		return nil, nil, 0, err
	}
	laid := w.Tensors()
	_ = w.Close() // flushes the header; it reports the tensors not written
	return buf.Bytes(), laid, w.Alignment(), nil
}

// openGGUFOut prepares out. With resume, a partial output made with the
// same key and header is continued; otherwise it is started afresh.
func openGGUFOut(out string, kvs []gguf.KV, infos []gguf.TensorInfo, key string, resume bool, log func(string)) (*ggufOut, error) {
	header, laid, align, err := encodeHeader(kvs, infos)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", out, err)
	}
	g := &ggufOut{path: out, header: header, infos: laid, index: map[string]int{}}
	g.partial, g.statePath = PartialPath(out)
	for i, ti := range laid {
		g.index[ti.Name] = i
		end := int64(ti.Offset + ti.Size())
		end += int64((align - uint64(end)%align) % align)
		g.total = max(g.total, end)
	}
	g.total += int64(len(header))
	hsum := sha256.Sum256(header)
	hh := hex.EncodeToString(hsum[:])
	st, stErr := readState(g.statePath)
	pst, pErr := os.Lstat(g.partial)
	switch {
	case stErr != nil && pErr != nil:
	case !resume:
		log(fmt.Sprintf("--no-resume: discarding %s from an earlier run", g.partial))
	case stErr != nil:
		log(fmt.Sprintf("discarding %s: its state %s is missing or unreadable", g.partial, g.statePath))
	case st.Version != stateVersion || st.Header == "hf" || pErr != nil || !pst.Mode().IsRegular():
		log(fmt.Sprintf("discarding %s: it was made by another version of lmc or for another output format", g.partial))
	case st.Key != key || st.Header != hh:
		log(fmt.Sprintf("discarding %s: it was made from other inputs or another recipe", g.partial))
	default:
		if f, err := os.OpenFile(g.partial, os.O_RDWR, 0); err == nil {
			g.f, g.state = f, st
			g.verify()
			return g, nil
		}
	}
	if pErr == nil && pst.IsDir() {
		if err := os.RemoveAll(g.partial); err != nil { // an HF run's partial state
			return nil, fmt.Errorf("quantize: removing the stale partial state %s: %w", g.partial, err)
		}
	}
	f, err := os.OpenFile(g.partial, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	g.f = f
	g.state = &partialState{Version: stateVersion, Key: key, Header: hh, Done: map[string]*TensorReport{}}
	if _, err := f.WriteAt(header, 0); err != nil {
		g.fail()
		return nil, err
	}
	if err := g.saveState(); err != nil {
		g.fail()
		return nil, err
	}
	return g, nil
}

// verify drops from the state every finished tensor whose bytes in the
// partial file no longer match their checksum.
func (g *ggufOut) verify() {
	for name, r := range g.state.Done {
		i, ok := g.index[name]
		if !ok {
			delete(g.state.Done, name)
			continue
		}
		ti := g.infos[i]
		b := make([]byte, ti.Size())
		if _, err := g.f.ReadAt(b, int64(len(g.header))+int64(ti.Offset)); err != nil {
			delete(g.state.Done, name)
			continue
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != r.SHA256 {
			delete(g.state.Done, name)
			continue
		}
		r.Resumed = true
		g.resumed++
	}
}

// done returns the report of a tensor already in the partial output.
func (g *ggufOut) done(name string) *TensorReport { return g.state.Done[name] }

// read returns the bytes of a finished tensor.
func (g *ggufOut) read(name string) ([]byte, error) {
	i, ok := g.index[name]
	if !ok {
		return nil, fmt.Errorf("quantize: no tensor %s in the output", name)
	}
	ti := g.infos[i]
	b := make([]byte, ti.Size())
	_, err := g.f.ReadAt(b, int64(len(g.header))+int64(ti.Offset))
	return b, err
}

// write stores the bytes of a tensor and records it as finished.
func (g *ggufOut) write(name string, data []byte, r *TensorReport) error {
	i, ok := g.index[name]
	if !ok {
		return fmt.Errorf("quantize: no tensor %s in the output", name)
	}
	ti := g.infos[i]
	if uint64(len(data)) != ti.Size() {
		return fmt.Errorf("quantize: tensor %s: %d bytes, the header says %d", name, len(data), ti.Size())
	}
	if _, err := g.f.WriteAt(data, int64(len(g.header))+int64(ti.Offset)); err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	r.SHA256 = hex.EncodeToString(sum[:])
	g.state.Done[name] = r
	// The state is saved at most every 250 ms: a run killed in between
	// redoes those tensors.
	if time.Since(g.saved) < 250*time.Millisecond {
		return nil
	}
	return g.saveState()
}

func (g *ggufOut) saveState() error {
	g.saved = time.Now()
	b, err := json.Marshal(g.state)
	if err != nil {
		return err
	}
	tmp := g.statePath + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, g.statePath)
}

// commit checks that every tensor was written, completes the file (its
// final padding), and renames it to the output path.
func (g *ggufOut) commit() error {
	for _, ti := range g.infos {
		if g.state.Done[ti.Name] == nil {
			return fmt.Errorf("quantize: tensor %s was not written", ti.Name)
		}
	}
	if err := g.f.Truncate(g.total); err != nil {
		return err
	}
	if err := g.f.Sync(); err != nil {
		return err
	}
	if err := g.f.Close(); err != nil {
		return err
	}
	g.f = nil
	if err := os.Rename(g.partial, g.path); err != nil {
		return err
	}
	os.Remove(g.statePath)
	return nil
}

// abandon ends the output of a run that failed with err: an error the same
// input would repeat (non-finite weights, bad input) discards the partial
// state, as there is nothing to resume; any other (a cancel, a kill, a full
// disk) keeps it for the next run.
func abandon(out interface {
	close()
	fail()
}, err error) {
	if errors.Is(err, ErrNonFinite) || errors.Is(err, ErrInput) {
		out.fail()
	} else {
		out.close()
	}
}

// close closes the partial file, keeping it and its state for a later run.
func (g *ggufOut) close() {
	if g.f != nil {
		g.saveState()
		g.f.Close()
		g.f = nil
	}
}

// fail removes the partial output and its state.
func (g *ggufOut) fail() {
	g.close()
	os.Remove(g.partial)
	os.Remove(g.statePath)
}

func readState(path string) (*partialState, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var st partialState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, err
	}
	if st.Done == nil {
		return nil, errors.New("no tensors")
	}
	return &st, nil
}
