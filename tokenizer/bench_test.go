package tokenizer

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/lmc-project/lmc/internal/shared"
)

func BenchmarkParseSentencePiece(b *testing.B) {
	data, err := os.ReadFile(shared.Path(b, "models/stories260K/tok512.model"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParseSentencePiece(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalSentencePiece(b *testing.B) {
	v, err := ReadSentencePiece(shared.Path(b, "models/stories260K/tok512.model"))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := MarshalSentencePiece(v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseLlama2cTok(b *testing.B) {
	data, err := os.ReadFile(shared.Path(b, "models/stories260K/tok512.bin"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParseLlama2cTok(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadHFTokenizerLlama3 reads a 9 MB tokenizer.json (128k tokens,
// 280k merges).
func BenchmarkReadHFTokenizerLlama3(b *testing.B) {
	dir := filepath.Dir(shared.Path(b, "tokenizers/llama3/tokenizer.json"))
	for b.Loop() {
		if _, err := ReadHFTokenizer(dir); err != nil {
			b.Fatal(err)
		}
	}
}
