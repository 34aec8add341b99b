// Package tokens gives prompt compression its token counters: OpenAI's
// tiktoken encodings (cl100k_base, o200k_base) and the tokenizer of any
// model or tokenizer file lmc reads (Llama 3, Qwen2/3 and other Hugging
// Face tokenizer.json files, SentencePiece models, GGUF files, llama2.c
// tokenizers, lmc-mini).
//
// The tiktoken rank files come from the Go module
// github.com/pkoukk/tiktoken-go-loader (MIT), which embeds byte-exact
// copies of OpenAI's cl100k_base.tiktoken and o200k_base.tiktoken (the
// tests compare their sha256 with the published files), so a fresh machine
// gets them from the Go module proxy with the rest of lmc's dependencies
// and counting needs no network at run time.
//
// Limits are those of package tokenizer and package modelfile, which parse
// the files.
package tokens

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/pkoukk/tiktoken-go-loader/assets"

	"github.com/lmc-project/lmc/modelfile"
	"github.com/lmc-project/lmc/prompt"
	"github.com/lmc-project/lmc/tokenizer"
)

// tiktoken encodings lmc ships: the special tokens are OpenAI's.
var tiktokens = map[string]map[string]int{
	"cl100k_base": {"<|endoftext|>": 100257, "<|fim_prefix|>": 100258, "<|fim_middle|>": 100259, "<|fim_suffix|>": 100260, "<|endofprompt|>": 100276},
	"o200k_base":  {"<|endoftext|>": 199999, "<|endofprompt|>": 200018},
}

var (
	mu    sync.Mutex
	cache = map[string]*tokenizer.Tokenizer{}
)

// Names lists the built-in counters Open accepts by name.
func Names() []string {
	return []string{"o200k_base", "cl100k_base", "bytes", "words", "runes"}
}

// TiktokenRanks returns the embedded rank file of a tiktoken encoding
// ("cl100k_base" or "o200k_base").
func TiktokenRanks(name string) ([]byte, error) {
	if _, ok := tiktokens[name]; !ok {
		return nil, fmt.Errorf("tokens: no tiktoken encoding %q (have cl100k_base, o200k_base)", name)
	}
	return assets.Assets.ReadFile(name + ".tiktoken")
}

// Tiktoken returns the tokenizer of a tiktoken encoding ("cl100k_base" or
// "o200k_base"), parsed once and cached.
func Tiktoken(name string) (*tokenizer.Tokenizer, error) {
	mu.Lock()
	defer mu.Unlock()
	if t, ok := cache[name]; ok {
		return t, nil
	}
	data, err := TiktokenRanks(name)
	if err != nil {
		return nil, err
	}
	t, err := tokenizer.ParseTiktoken(data, name, tiktokens[name])
	if err != nil {
		return nil, fmt.Errorf("tokens: %s: %w", name, err)
	}
	cache[name] = t
	return t, nil
}

// FromTokenizer is a [prompt.Counter] over t: Count is t.Count (no BOS or
// EOS, special-token texts counted as plain text).
func FromTokenizer(name string, t *tokenizer.Tokenizer) prompt.Counter {
	return &counter{name: name, t: t}
}

type counter struct {
	name string
	t    *tokenizer.Tokenizer
}

func (c *counter) Count(text string) int { return c.t.Count(text) }
func (c *counter) Name() string          { return c.name }

// Open returns the counter spec names: "o200k_base" or "cl100k_base",
// "bytes", "words" or "runes", or the path of a tokenizer or model: a
// Hugging Face folder or its tokenizer.json, a SentencePiece
// tokenizer.model, a llama2.c tok*.bin, a GGUF file, or anything else
// package modelfile opens (lmc-mini). The counter's name is the spec's
// base name.
func Open(spec string) (prompt.Counter, error) {
	switch spec {
	case "bytes":
		return prompt.Bytes, nil
	case "words":
		return prompt.Words, nil
	case "runes":
		return prompt.Runes, nil
	case "cl100k_base", "o200k_base":
		t, err := Tiktoken(spec)
		if err != nil {
			return nil, err
		}
		return FromTokenizer(spec, t), nil
	}
	v, err := readVocab(spec)
	if err != nil {
		return nil, err
	}
	t, err := tokenizer.New(v)
	if err != nil {
		return nil, fmt.Errorf("tokens: %s: %w", spec, err)
	}
	name := filepath.Base(strings.TrimRight(spec, "/"))
	if name == "tokenizer.json" || name == "tokenizer.model" {
		name = filepath.Base(filepath.Dir(spec)) + "/" + name
	}
	return FromTokenizer(name, t), nil
}

func readVocab(spec string) (*tokenizer.Vocab, error) {
	st, statErr := os.Stat(spec)
	base := strings.ToLower(filepath.Base(spec))
	switch {
	case statErr == nil && st.IsDir() && exists(filepath.Join(spec, "tokenizer.json")) && !exists(filepath.Join(spec, "config.json")):
		return tokenizer.ReadHFTokenizer(spec)
	case statErr == nil && !st.IsDir() && strings.HasSuffix(base, ".json"):
		return tokenizer.ReadHFTokenizer(filepath.Dir(spec))
	case statErr == nil && !st.IsDir() && strings.HasSuffix(base, ".model"):
		return tokenizer.ReadSentencePiece(spec)
	case statErr == nil && !st.IsDir() && strings.HasPrefix(base, "tok") && strings.HasSuffix(base, ".bin"):
		return tokenizer.ReadLlama2cTok(spec)
	}
	m, err := modelfile.Open(spec, nil)
	if err != nil {
		if statErr != nil {
			return nil, fmt.Errorf("tokens: %q is neither a built-in tokenizer (%s) nor a file: %v", spec, strings.Join(Names(), ", "), statErr)
		}
		return nil, err
	}
	if m.Vocab == nil {
		return nil, fmt.Errorf("tokens: %s has no tokenizer", spec)
	}
	return m.Vocab, nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
