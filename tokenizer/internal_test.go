package tokenizer_test

import (
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lmc-project/lmc/internal/shared"
	"github.com/lmc-project/lmc/tokenizer"
)

// randomText returns n random pieces of awkward text.
func randomText(r *rand.Rand, n int) string {
	parts := []string{" ", "  ", "\n", "\r\n", "\t", "a", "b", "ab", "the", " the", "The", "é", "ß", "日本", "語",
		"🦙", "😶\u200d🌫️", "\u0301", "1", "42", "1234567", "'s", "'LL", "!", "...", "--", "(", ")", "<s>", "</s>",
		"<|endoftext|>", "\xff", "\xc3", "\xe2\x96", "aaaaaaaa", "▁", "\u00a0", "\u3000"}
	var b strings.Builder
	for range n {
		b.WriteString(parts[r.IntN(len(parts))])
	}
	return b.String()
}

// TestBPEHeapMatchesLinear checks the two merge loops against each other on
// long and random words.
func TestBPEHeapMatchesLinear(t *testing.T) {
	tks := map[string]*tokenizer.Tokenizer{"gpt-2": gpt2Tokenizer(t), "o200k": tiktokenFor(t, "o200k_base")}
	r := rand.New(rand.NewPCG(1, 2))
	texts := []string{tortureText(t), strings.Repeat("aaaa", 300), strings.Repeat("=-", 400), strings.Repeat("abcdefghij", 50)}
	for range 200 {
		texts = append(texts, randomText(r, 1+r.IntN(60)))
	}
	for name, tk := range tks {
		var linear [][]int
		for _, s := range texts {
			linear = append(linear, tk.Encode(s, false))
		}
		old := tokenizer.SetLinearBPEMax(0)
		tokenizer.ClearCache(tk)
		for i, s := range texts {
			if got := tk.Encode(s, false); !reflect.DeepEqual(got, linear[i]) {
				t.Errorf("%s: heap %v, linear %v for %q", name, got, linear[i], s)
			}
		}
		tokenizer.SetLinearBPEMax(old)
		tokenizer.ClearCache(tk)
	}
}

// TestSPMCutMatchesWhole checks that cutting SentencePiece text before
// "▁" changes nothing, and that the Llama 2 and tok512 vocabularies allow
// it.
func TestSPMCutMatchesWhole(t *testing.T) {
	llama, err := ggufTokenizer(t, shared.Path(t, "tokenizers/llamacpp_vocab/ggml-vocab-llama-spm.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	tok512, err := tokenizer.ReadSentencePiece(shared.Path(t, "models/stories260K/tok512.model"))
	if err != nil {
		t.Fatal(err)
	}
	pg98, err := os.ReadFile(shared.Path(t, "text/gutenberg/pg98.txt"))
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	texts := []string{tortureText(t), string(pg98[:50000])}
	for range 200 {
		texts = append(texts, randomText(r, 1+r.IntN(40)))
	}
	for name, tk := range map[string]*tokenizer.Tokenizer{"llama-spm": llama, "tok512": mustNew(t, tok512)} {
		if !tokenizer.SetSPMCut(tk, true) {
			t.Errorf("%s: vocabulary does not allow cutting at ▁", name)
		}
		var cut [][]int
		for _, s := range texts {
			cut = append(cut, tk.Encode(s, true))
		}
		tokenizer.SetSPMCut(tk, false)
		for i, s := range texts {
			if got := tk.Encode(s, true); !reflect.DeepEqual(got, cut[i]) {
				t.Errorf("%s: whole %v, cut %v for %q", name, got, cut[i], truncateStr(s))
			}
		}
		tokenizer.SetSPMCut(tk, true)
	}
	// A vocabulary with a token holding "▁" after a letter is not cut.
	v := tinySPM()
	for _, tok := range []string{"a▁", "a▁b"} {
		v.Tokens = append(v.Tokens, tok)
		v.Scores = append(v.Scores, 5)
		v.Types = append(v.Types, tokenizer.TypeNormal)
	}
	tk := mustNew(t, v)
	if tokenizer.SetSPMCut(tk, false) {
		t.Error("cutting allowed with a token a▁b")
	}
	// "▁a▁b": a▁ (score 5) first, then a▁b, across the place a cut would be.
	if got, want := tk.Encode("a b", false), []int{6, len(v.Tokens) - 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("Encode(a b) = %v, want %v", got, want)
	}
}

func truncateStr(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// FuzzEncode checks that encoding never fails and decodes back: exactly for
// SentencePiece with byte fallback, with invalid UTF-8 replaced by U+FFFD
// for byte-level BPE.
func FuzzEncode(f *testing.F) {
	tok512, err := tokenizer.ReadSentencePiece(shared.Path(f, "models/stories260K/tok512.model"))
	if err != nil {
		f.Fatal(err)
	}
	spm := mustNew(f, tok512)
	gpt2 := gpt2Tokenizer(f)
	tiny := mustNew(f, tinyBPE())
	for _, s := range []string{"", "Hello world", "  a\n\n b", "I'm 42!", "\xff ' 's", "日本 語\u00a0x", "<s>x</s>", "<|endoftext|>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// (llama.cpp cuts invalid UTF-8 by the lengths its first bytes
		// claim, which can swallow a following "▁": no round trip then.)
		if got := spm.Decode(spm.Encode(s, true)); got != s && utf8.ValidString(s) {
			t.Fatalf("spm: %q decodes to %q", s, got)
		}
		spm.EncodeWithSpecial(s)
		ids := gpt2.Encode(s, false)
		got := gpt2.Decode(ids)
		if utf8.ValidString(s) && got != s {
			t.Fatalf("gpt-2: %q decodes to %q", s, got)
		}
		// Invalid bytes became U+FFFD (surrogates stay, as in llama.cpp):
		// encoding the decoded text again changes nothing.
		if again := gpt2.Encode(got, false); !reflect.DeepEqual(again, ids) {
			t.Fatalf("gpt-2: %q: %v, but its decoding %q gives %v", s, ids, got, again)
		}
		gpt2.EncodeWithSpecial(s)
		tiny.Encode(s, true)
	})
}

// TestConcurrentEncode encodes from several goroutines at once (run with
// -race).
func TestConcurrentEncode(t *testing.T) {
	tks := []*tokenizer.Tokenizer{gpt2Tokenizer(t), mustNew(t, tinySPM())}
	text := tortureText(t)
	for _, tk := range tks {
		want := tk.Encode(text, true)
		tokenizer.ClearCache(tk)
		errs := make(chan string, 4)
		for g := range 4 {
			go func() {
				r := rand.New(rand.NewPCG(uint64(g), 9))
				for range 20 {
					s := randomText(r, 30)
					tk.Encode(s, false)
				}
				if got := tk.Encode(text, true); !reflect.DeepEqual(got, want) {
					errs <- "concurrent encoding differs"
					return
				}
				errs <- ""
			}()
		}
		for range 4 {
			if e := <-errs; e != "" {
				t.Error(e)
			}
		}
	}
}

// FuzzParseTiktoken checks that hostile rank files give errors, not panics.
func FuzzParseTiktoken(f *testing.F) {
	var full strings.Builder
	for c := 0; c < 256; c++ {
		full.WriteString(base64Byte(byte(c)) + " " + itoa(c) + "\n")
	}
	for _, s := range []string{"", "YQ== 0\n", "YQ== 5\nYg== 5\n", full.String(), full.String() + "YWI= 256\r\n", "\n\n x\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tk, err := tokenizer.ParseTiktoken([]byte(s), "o200k_base", map[string]int{"<|x|>": 300})
		if err == nil {
			tk.Decode(tk.EncodeWithSpecial("ab c<|x|>\xff"))
		}
	})
}

// FuzzNew builds vocabularies from fuzz input: New must reject or accept
// them without panicking, and encoding must not panic.
func FuzzNew(f *testing.F) {
	f.Add("a\x00b\x00ab\x00<0x41>\x00▁\x00<s>", "a b", uint8(0))
	f.Add("Ġ\x00a\x00Ġa\x00<|endoftext|>\x00  ", "Ġ a\x00a a", uint8(1))
	f.Fuzz(func(t *testing.T, toks, merges string, mode uint8) {
		v := tokenizer.NewVocab(tokenizer.ModelLlama)
		if mode&1 == 1 {
			v = tokenizer.NewVocab(tokenizer.ModelGPT2)
			v.Pre = []string{"gpt-2", "llama-bpe", "qwen2", "falcon", "deepseek-llm", ""}[int(mode>>1)%6]
			for _, m := range strings.Split(merges, "\x00") {
				if m != "" {
					v.Merges = append(v.Merges, m)
				}
			}
		}
		for i, s := range strings.Split(toks, "\x00") {
			v.Tokens = append(v.Tokens, s)
			v.Scores = append(v.Scores, float32(-i))
			v.Types = append(v.Types, tokenizer.TokenType(1+(i+int(mode))%6))
		}
		v.BOS = int(mode)%(len(v.Tokens)+1) - 1
		tk, err := tokenizer.New(v)
		if err != nil {
			return
		}
		for _, s := range []string{"", "a b ab", toks, merges, "\xff<s>  x"} {
			ids := tk.Tokenize(s, true, true)
			tk.Decode(ids)
			tk.Detokenize(ids, true, true)
		}
	})
}
