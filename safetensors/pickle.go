package safetensors

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ErrPickle is the sentinel that every [*PickleError] unwraps to.
var ErrPickle = errors.New("safetensors: refusing to load a pickle file")

// A PickleError reports that a file is a Python pickle (a PyTorch
// checkpoint), which lmc refuses to load. Its message explains why and how to
// convert the file.
type PickleError struct {
	File string // the file's path
	Kind string // what was recognized, e.g. "PyTorch zip checkpoint (archive/data.pkl)"
}

func (e *PickleError) Error() string {
	base := filepath.Base(e.File)
	return fmt.Sprintf("safetensors: %s is a %s. lmc never loads pickle files: unpickling can execute arbitrary code, "+
		"so a malicious checkpoint could take over the machine. Convert it to safetensors with a trusted tool, "+
		"in a sandbox (a container or VM without your credentials), e.g.\n"+
		"  python -c \"import torch; from safetensors.torch import save_file; "+
		"sd = torch.load('%s', map_location='cpu', weights_only=True); "+
		"save_file({k: v.contiguous().clone() for k, v in sd.items()}, 'model.safetensors', metadata={'format': 'pt'})\"\n"+
		"or download the model's safetensors revision from the Hugging Face Hub "+
		"(many repositories have one, often on the refs/pr/N branch opened by the safetensors conversion bot)",
		e.File, e.Kind, base)
}

// Unwrap returns ErrPickle.
func (e *PickleError) Unwrap() error { return ErrPickle }

func newPickleError(file, kind string) *PickleError { return &PickleError{File: file, Kind: kind} }

// legacyTorchMagic is the pickle that starts a PyTorch < 1.6 checkpoint:
// PROTO 2, then LONG1 of the 10-byte magic number 0x1950a86a20f9469cfc6c.
var legacyTorchMagic = []byte{0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19}

// DetectPickle reports whether the file at path is a pickle, recognized by its
// magic bytes only (the file is never unpickled):
//   - a zip archive (PK\x03\x04) holding a *.pkl entry such as
//     archive/data.pkl: the PyTorch ≥ 1.6 format of pytorch_model.bin, .pt,
//     .pth and .ckpt files, and TorchScript archives;
//   - the legacy (< 1.6) PyTorch format, whose first pickle is a magic number;
//   - a raw pickle of protocol 2 to 5 (0x80 then the protocol byte).
//
// A safetensors file is never reported as a pickle, even when its header
// length happens to start with the bytes 0x80 0x02..0x05. Protocol 0 and 1
// pickles have no magic bytes and are not recognized. The error is non-nil
// only when the file cannot be read.
func DetectPickle(path string) (bool, error) {
	fh, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return false, err
	}
	_, ok := detectPickle(fh, st.Size())
	return ok, nil
}

// CheckNotPickle returns a *PickleError (unwrapping to ErrPickle) that
// explains the risk and the conversion when the file at path is a pickle
// (see DetectPickle), an error when it cannot be read, and nil otherwise.
func CheckNotPickle(path string) error {
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return err
	}
	if kind, ok := detectPickle(fh, st.Size()); ok {
		return newPickleError(path, kind)
	}
	return nil
}

// detectPickle classifies the content of r (size bytes).
func detectPickle(r io.ReaderAt, size int64) (kind string, ok bool) {
	var head [64]byte
	n, _ := r.ReadAt(head[:], 0)
	b := head[:n]
	switch {
	case bytes.HasPrefix(b, []byte("PK\x03\x04")):
		// The first local file header names the first entry; PyTorch writes
		// <name>/data.pkl first. Otherwise list the central directory.
		if len(b) >= 30 {
			nameLen := int(binary.LittleEndian.Uint16(b[26:28]))
			name := make([]byte, min(nameLen, 512))
			if m, _ := r.ReadAt(name, 30); m == len(name) && strings.HasSuffix(string(name), ".pkl") {
				return fmt.Sprintf("PyTorch zip checkpoint (pickle entry %s)", name), true
			}
		}
		zr, err := zip.NewReader(r, size)
		if zr == nil || err != nil && !errors.Is(err, zip.ErrInsecurePath) {
			return "", false
		}
		for _, f := range zr.File {
			if strings.HasSuffix(f.Name, ".pkl") {
				return fmt.Sprintf("PyTorch zip checkpoint (pickle entry %s)", f.Name), true
			}
		}
		return "", false
	case len(b) >= 2 && b[0] == 0x80 && b[1] >= 2 && b[1] <= 5:
		if looksLikeSafetensors(b, size) {
			return "", false
		}
		if bytes.HasPrefix(b, legacyTorchMagic) {
			return "legacy PyTorch (< 1.6) pickle checkpoint", true
		}
		return fmt.Sprintf("Python pickle (protocol %d)", b[1]), true
	}
	return "", false
}

// looksLikeSafetensors reports whether b (the first bytes of a size-byte
// file) starts like a safetensors file: a plausible header length, then '{'.
func looksLikeSafetensors(b []byte, size int64) bool {
	if len(b) < 9 || b[8] != '{' {
		return false
	}
	n := binary.LittleEndian.Uint64(b)
	return n <= MaxHeaderSize && n <= uint64(size-8)
}
