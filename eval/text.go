package eval

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"github.com/lmc-project/lmc/tokenizer"
)

// MaxTextBytes is the largest evaluation text ReadText reads (1 GiB).
const MaxTextBytes = 1 << 30

// Text is a tokenized evaluation text.
type Text struct {
	// Name identifies the text in messages (its path).
	Name string
	// Tokens is the whole text, with the beginning-of-sequence token first
	// when the tokenizer adds one: llama.cpp's llama_tokenize(text,
	// add_special=true, parse_special=false), never with EOS.
	Tokens []int
	// BOS is the token that replaces the first token of every chunk, as
	// llama-perplexity does when the vocabulary adds one; -1 when it does
	// not (chunks are then evaluated as they are).
	BOS int
}

// ReadText reads a UTF-8 text file and tokenizes it with tok (see
// [Tokenize]). Files larger than [MaxTextBytes] are refused.
func ReadText(path string, tok *tokenizer.Tokenizer) (*Text, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxTextBytes+1))
	if err != nil {
		return nil, fmt.Errorf("eval: read %s: %w", path, err)
	}
	if len(data) > MaxTextBytes {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrText, path, MaxTextBytes)
	}
	return Tokenize(path, data, tok)
}

// Tokenize checks that text is non-empty UTF-8 and tokenizes it the way
// llama-perplexity does: BOS first when the vocabulary adds one, special
// tokens' texts treated as plain text, no EOS. Errors wrap [ErrText] and
// give the offset and line of the first invalid byte.
func Tokenize(name string, text []byte, tok *tokenizer.Tokenizer) (*Text, error) {
	if len(text) == 0 {
		return nil, fmt.Errorf("%w: %s is empty", ErrText, name)
	}
	if !utf8.Valid(text) {
		off := invalidUTF8(text)
		line := 1 + bytes.Count(text[:off], []byte{'\n'})
		return nil, fmt.Errorf("%w: %s is not UTF-8 text: invalid byte 0x%02x at offset %d (line %d)", ErrText, name, text[off], off, line)
	}
	t := &Text{Name: name, BOS: -1}
	ids := tok.Encode(string(text), false)
	if tok.AddsBOS() && tok.BOS() >= 0 {
		t.BOS = tok.BOS()
		t.Tokens = make([]int, 0, len(ids)+1)
		t.Tokens = append(t.Tokens, t.BOS)
	}
	t.Tokens = append(t.Tokens, ids...)
	if len(t.Tokens) == 0 {
		return nil, fmt.Errorf("%w: %s has no tokens", ErrText, name)
	}
	return t, nil
}

// invalidUTF8 returns the offset of the first byte that does not start a
// valid UTF-8 sequence.
func invalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}
