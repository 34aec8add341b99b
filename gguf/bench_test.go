package gguf_test

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/lmc-project/lmc/gguf"
	"github.com/lmc-project/lmc/internal/shared"
)

// BenchmarkParseHeader parses the header, metadata and tensor infos of
// books5M-f32.gguf from memory; SetBytes counts the header bytes.
func BenchmarkParseHeader(b *testing.B) {
	for _, rel := range []string{"models/books5M/books5M-f32.gguf", "tokenizers/llamacpp_vocab/ggml-vocab-gpt-2.gguf"} {
		data, err := os.ReadFile(shared.Path(b, rel))
		if err != nil {
			b.Fatal(err)
		}
		f, err := gguf.ParseBytes(rel, data)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(filepath.Base(rel), func(b *testing.B) {
			b.SetBytes(f.DataOffset)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := gguf.ParseBytes(rel, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkOpen maps and parses books5M-f32.gguf.
func BenchmarkOpen(b *testing.B) {
	p := shared.Path(b, "models/books5M/books5M-f32.gguf")
	b.ReportAllocs()
	for b.Loop() {
		f, err := gguf.Open(p)
		if err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}

// BenchmarkWriter streams 8 tensors of 1 MiB each to io.Discard.
func BenchmarkWriter(b *testing.B) {
	const n, size = 8, 1 << 20
	tensors := make([]gguf.TensorInfo, n)
	for i := range tensors {
		tensors[i] = gguf.TensorInfo{Name: "blk." + string(rune('0'+i)) + ".w", Shape: []uint64{size / 4}, Type: gguf.TypeF32}
	}
	kvs := []gguf.KV{{Key: "general.architecture", Value: gguf.String("llama")}}
	data := make([]byte, size)
	b.SetBytes(n * size)
	b.ReportAllocs()
	for b.Loop() {
		w, err := gguf.NewWriter(io.Discard, kvs, tensors, 0)
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
