package bpetrain_test

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/lmc-project/lmc/internal/shared"
	"github.com/lmc-project/lmc/tokenizer/bpetrain"
	"github.com/lmc-project/lmc/tokenizer/pretok"
)

// loadGPT2 builds GPT-2's tokenizer from the original encoder.json and
// vocab.bpe.
func loadGPT2(tb testing.TB) *bpetrain.Tokenizer {
	tb.Helper()
	encPath := shared.Path(tb, "tokenizers/gpt2/encoder.json")
	bpePath := shared.Path(tb, "tokenizers/gpt2/vocab.bpe")
	raw, err := os.ReadFile(encPath)
	if err != nil {
		tb.Fatal(err)
	}
	var enc map[string]int
	if err := json.Unmarshal(raw, &enc); err != nil {
		tb.Fatal(err)
	}
	vocab := make([]string, len(enc))
	for tok, id := range enc {
		vocab[id] = tok
	}
	raw, err = os.ReadFile(bpePath)
	if err != nil {
		tb.Fatal(err)
	}
	var merges [][2]string
	for _, line := range strings.Split(string(raw), "\n") {
		if line == "" || strings.HasPrefix(line, "#version") {
			continue
		}
		a, b, ok := strings.Cut(line, " ")
		if !ok {
			tb.Fatalf("vocab.bpe: bad line %q", line)
		}
		merges = append(merges, [2]string{a, b})
	}
	tok, err := bpetrain.New(pretok.GPT2, vocab, merges, []string{"<|endoftext|>"})
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// TestGPT2Vectors checks the GPT-2 pre-tokenizer and the BPE encoder against
// llama.cpp's GPT-2 tokenizer test vectors (ids from Hugging Face).
func TestGPT2Vectors(t *testing.T) {
	inp := shared.Path(t, "tokenizers/llamacpp_vocab/ggml-vocab-gpt-2.gguf.inp")
	out := shared.Path(t, "tokenizers/llamacpp_vocab/ggml-vocab-gpt-2.gguf.out")
	tok := loadGPT2(t)
	rawIn, err := os.ReadFile(inp)
	if err != nil {
		t.Fatal(err)
	}
	rawOut, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	texts := strings.Split(string(rawIn), "\n__ggml_vocab_test__\n")
	if texts[len(texts)-1] == "" {
		texts = texts[:len(texts)-1]
	}
	wants := strings.Split(strings.TrimSuffix(string(rawOut), "\n"), "\n")
	if len(texts) != len(wants) || len(texts) < 40 {
		t.Fatalf("%d inputs, %d outputs", len(texts), len(wants))
	}
	for i, text := range texts {
		var want []int
		for _, f := range strings.Fields(wants[i]) {
			id, err := strconv.Atoi(f)
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, id)
		}
		got := tok.Encode(text)
		if !equalInts(got, want) {
			t.Errorf("case %d %q:\n got %v\nwant %v\npieces %q", i, text, got, want, pretok.SplitGPT2(text))
		}
		if dec := tok.DecodeString(got); dec != text {
			t.Errorf("case %d: decode %q != %q", i, dec, text)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
