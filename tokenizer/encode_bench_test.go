package tokenizer_test

import (
	"os"
	"testing"

	"github.com/lmc-project/lmc/internal/shared"
	"github.com/lmc-project/lmc/tokenizer"
)

// Encode throughput on A Tale of Two Cities (755 KB). "Warm" keeps the
// word cache between iterations (the steady state of a long-lived
// tokenizer); "Cold" empties it first, so every distinct word of the text
// is merged once per iteration.
func benchEncode(b *testing.B, tk *tokenizer.Tokenizer, cold bool) {
	text, err := os.ReadFile(shared.Path(b, "text/gutenberg/pg98.txt"))
	if err != nil {
		b.Fatal(err)
	}
	s := string(text)
	b.SetBytes(int64(len(s)))
	n := 0
	for b.Loop() {
		if cold {
			tokenizer.ClearCache(tk)
		}
		n = tk.Count(s)
	}
	b.ReportMetric(float64(n), "tokens")
}

func tok512(b *testing.B) *tokenizer.Tokenizer {
	v, err := tokenizer.ReadSentencePiece(shared.Path(b, "models/stories260K/tok512.model"))
	if err != nil {
		b.Fatal(err)
	}
	return mustNew(b, v)
}

func llamaSPM(b *testing.B) *tokenizer.Tokenizer {
	tk, err := ggufTokenizer(b, shared.Path(b, "tokenizers/llamacpp_vocab/ggml-vocab-llama-spm.gguf"))
	if err != nil {
		b.Fatal(err)
	}
	return tk
}

func BenchmarkEncodeSPMTok512Warm(b *testing.B)  { benchEncode(b, tok512(b), false) }
func BenchmarkEncodeSPMTok512Cold(b *testing.B)  { benchEncode(b, tok512(b), true) }
func BenchmarkEncodeSPMLlama2Cold(b *testing.B)  { benchEncode(b, llamaSPM(b), true) }
func BenchmarkEncodeBPEGPT2Warm(b *testing.B)    { benchEncode(b, gpt2Tokenizer(b), false) }
func BenchmarkEncodeBPEGPT2Cold(b *testing.B)    { benchEncode(b, gpt2Tokenizer(b), true) }
func BenchmarkEncodeBPELlama3Warm(b *testing.B)  { benchEncode(b, hfTokenizer(b, "llama3"), false) }
func BenchmarkEncodeBPELlama3Cold(b *testing.B)  { benchEncode(b, hfTokenizer(b, "llama3"), true) }
func BenchmarkEncodeBPEQwen3Cold(b *testing.B)   { benchEncode(b, hfTokenizer(b, "qwen3"), true) }
func BenchmarkEncodeTiktokenCl100k(b *testing.B) { benchEncode(b, tiktokenFor(b, "cl100k_base"), true) }
func BenchmarkEncodeTiktokenO200k(b *testing.B)  { benchEncode(b, tiktokenFor(b, "o200k_base"), true) }
func BenchmarkEncodeTiktokenO200kWarm(b *testing.B) {
	benchEncode(b, tiktokenFor(b, "o200k_base"), false)
}

func BenchmarkDecodeGPT2(b *testing.B) {
	text, err := os.ReadFile(shared.Path(b, "text/gutenberg/pg98.txt"))
	if err != nil {
		b.Fatal(err)
	}
	tk := gpt2Tokenizer(b)
	ids := tk.Encode(string(text), false)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		tk.Decode(ids)
	}
}

func BenchmarkNewLlama3(b *testing.B) {
	v, err := tokenizer.ReadHFTokenizer(dirOf(shared.Path(b, "tokenizers/llama3/tokenizer.json")))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		mustNew(b, v)
	}
}
