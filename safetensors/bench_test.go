package safetensors

import (
	"errors"
	"io"
	"os"
	"testing"

	"github.com/lmc-project/lmc/internal/shared"
	"github.com/lmc-project/lmc/tensor"
)

// BenchmarkOpenData opens the 20 MB books5M F32 file, gets every tensor's
// Data and closes it. "mmap" touches one byte per 4 KiB page of each tensor
// (so pages are really faulted in); "readat" is the fallback, which copies.
func BenchmarkOpenData(b *testing.B) {
	path := shared.Path(b, books5MF32)
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B) {
		b.SetBytes(st.Size())
		var sink byte
		for b.Loop() {
			f, err := Open(path)
			if err != nil {
				b.Fatal(err)
			}
			for _, t := range f.Tensors {
				d, err := f.Data(t.Name)
				if err != nil {
					b.Fatal(err)
				}
				for i := 0; i < len(d); i += 4096 {
					sink += d[i]
				}
			}
			f.Close()
		}
		_ = sink
	}
	b.Run("mmap", run)
	b.Run("readat", func(b *testing.B) {
		defer func(h func(*os.File, int64) ([]byte, error)) { mmapHook = h }(mmapHook)
		mmapHook = func(*os.File, int64) ([]byte, error) { return nil, errors.New("off") }
		run(b)
	})
}

// BenchmarkOpenHeader measures Open alone (header parse and validation).
func BenchmarkOpenHeader(b *testing.B) {
	path := shared.Path(b, books5MF32)
	for b.Loop() {
		f, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}

// BenchmarkWriter streams 64 tensors of 256 KiB through Writer to io.Discard.
func BenchmarkWriter(b *testing.B) {
	var tensors []TensorInfo
	for i := range 64 {
		tensors = append(tensors, TensorInfo{Name: "layer." + string(rune('a'+i%26)) + string(rune('a'+i/26)), DType: tensor.F32, Shape: []int64{256, 256}})
	}
	data := make([]byte, 256*256*4)
	b.SetBytes(int64(len(tensors) * len(data)))
	for b.Loop() {
		w, err := NewWriter(io.Discard, map[string]string{"format": "pt"}, tensors)
		if err != nil {
			b.Fatal(err)
		}
		for _, t := range tensors {
			if err := w.WriteTensor(t.Name, data); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriterFile writes the same 16 MiB to a temp file (page cache).
func BenchmarkWriterFile(b *testing.B) {
	var tensors []TensorInfo
	for i := range 64 {
		tensors = append(tensors, TensorInfo{Name: "t" + string(rune('A'+i)), DType: tensor.BF16, Shape: []int64{512, 256}})
	}
	data := make([]byte, 512*256*2)
	path := b.TempDir() + "/w.safetensors"
	b.SetBytes(int64(len(tensors) * len(data)))
	for b.Loop() {
		fh, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		w, err := NewWriter(fh, nil, tensors)
		if err != nil {
			b.Fatal(err)
		}
		for _, t := range tensors {
			w.WriteTensor(t.Name, data)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		fh.Close()
	}
}
