package safetensors

import (
	"archive/zip"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// torchZip makes a tiny zip laid out like torch.save's (PyTorch ≥ 1.6):
// the named entries, each with a few bytes.
func torchZip(t testing.TB, names ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: n, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("\x80\x02}q\x00.")) // pickle: PROTO 2, EMPTY_DICT, BINPUT 0, STOP
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDetectPickle(t *testing.T) {
	// A safetensors file whose header length is 0x0280 = 640 starts with the
	// bytes 0x80 0x02, like a protocol-2 pickle.
	var hdr640 bytes.Buffer
	w, _ := NewWriter(&hdr640, map[string]string{"pad": strings.Repeat("x", 640-32)}, nil)
	if w == nil || !bytes.HasPrefix(hdr640.Bytes(), []byte{0x80, 0x02, 0, 0}) {
		t.Fatalf("fixture: header length bytes %x", hdr640.Bytes()[:8])
	}
	for _, c := range []struct {
		name   string
		data   []byte
		pickle bool
		kind   string
	}{
		{"pytorch_model.bin", torchZip(t, "archive/data.pkl", "archive/data/0", "archive/version"), true, "pickle entry archive/data.pkl"},
		{"late-pkl.pt", torchZip(t, "archive/version", "archive/data/0", "model/data.pkl"), true, "pickle entry model/data.pkl"},
		{"torchscript.pt", torchZip(t, "m/code/__torch__.py", "m/constants.pkl"), true, "m/constants.pkl"},
		{"plain.zip", torchZip(t, "readme.txt"), false, ""},
		{"broken.zip", []byte("PK\x03\x04garbage"), false, ""},
		{"legacy.pth", append([]byte{0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e}, "\x80\x02M\xe9\x03."...), true, "legacy PyTorch (< 1.6)"},
		{"proto2.pkl", []byte("\x80\x02}q\x00."), true, "protocol 2"},
		{"proto4.ckpt", []byte("\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00}\x94."), true, "protocol 4"},
		{"proto5.pkl", []byte("\x80\x05K\x01."), true, "protocol 5"},
		{"proto6.pkl", []byte("\x80\x06K\x01."), false, ""},
		{"proto0.pkl", []byte("(dp0\n."), false, ""}, // no magic: not recognized
		{"header640.safetensors", hdr640.Bytes(), false, ""},
		{"books.safetensors", st(`{}`, nil), false, ""},
		{"empty", nil, false, ""},
		{"one-byte", []byte{0x80}, false, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), c.name)
			if err := os.WriteFile(path, c.data, 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := DetectPickle(path)
			if err != nil || got != c.pickle {
				t.Fatalf("DetectPickle = %v, %v; want %v", got, err, c.pickle)
			}
			err = CheckNotPickle(path)
			if !c.pickle {
				if err != nil {
					t.Fatalf("CheckNotPickle = %v", err)
				}
				return
			}
			var pe *PickleError
			if !errors.As(err, &pe) || !errors.Is(err, ErrPickle) || pe.File != path {
				t.Fatalf("CheckNotPickle = %#v", err)
			}
			msg := err.Error()
			for _, want := range []string{path, c.kind, "arbitrary code", "sandbox", "safetensors.torch import save_file", "weights_only=True", "Hugging Face Hub"} {
				if !strings.Contains(msg, want) {
					t.Errorf("message lacks %q:\n%s", want, msg)
				}
			}
			// Open and FromBytes refuse it with the same explanation.
			if _, err := Open(path); !errors.Is(err, ErrPickle) {
				t.Errorf("Open = %v, want ErrPickle", err)
			}
			if _, err := FromBytes(c.name, c.data); !errors.Is(err, ErrPickle) {
				t.Errorf("FromBytes = %v, want ErrPickle", err)
			}
		})
	}
	if _, err := DetectPickle(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("DetectPickle(missing) error = %v", err)
	}
	if err := CheckNotPickle(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("CheckNotPickle(missing) = %v", err)
	}
}
