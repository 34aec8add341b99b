package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// TokenType is the kind of a vocabulary entry, with GGUF's (llama.cpp's)
// numbering, which is also SentencePiece's piece type numbering.
type TokenType int32

// The token types, as in GGUF tokenizer.ggml.token_type.
const (
	TypeNormal      TokenType = 1 // an ordinary token
	TypeUnknown     TokenType = 2 // the unknown token (<unk>)
	TypeControl     TokenType = 3 // control/special tokens: <s>, </s>, <|begin_of_text|>, ...
	TypeUserDefined TokenType = 4 // user-defined symbols, matched verbatim before tokenization
	TypeUnused      TokenType = 5 // a placeholder that is never produced
	TypeByte        TokenType = 6 // a byte-fallback token "<0xNN>"
)

func (t TokenType) String() string {
	switch t {
	case TypeNormal:
		return "normal"
	case TypeUnknown:
		return "unknown"
	case TypeControl:
		return "control"
	case TypeUserDefined:
		return "user-defined"
	case TypeUnused:
		return "unused"
	case TypeByte:
		return "byte"
	}
	return fmt.Sprintf("TokenType(%d)", int32(t))
}

// Valid reports whether t is one of the six defined token types.
func (t TokenType) Valid() bool { return t >= TypeNormal && t <= TypeByte }

// Tokenizer model names, as in GGUF tokenizer.ggml.model.
const (
	ModelLlama = "llama" // SentencePiece (BPE or unigram), scored pieces, "▁" for space, "<0xNN>" byte tokens
	ModelGPT2  = "gpt2"  // byte-level BPE with ranked merges, tokens in the GPT-2 bytes-to-unicode alphabet
)

// Pre-tokenizer names (GGUF tokenizer.ggml.pre) that this package detects.
const (
	PreDefault  = "default"
	PreGPT2     = "gpt-2"
	PreLlamaBPE = "llama-bpe"
	PreQwen2    = "qwen2"
)

// Vocab is a tokenizer vocabulary as lmc carries it between file formats.
// Its fields mean exactly what the GGUF tokenizer.ggml.* keys of the same
// name mean, so that a Vocab maps one-to-one onto a GGUF file.
//
// A Vocab read by [ReadSentencePiece] also remembers the bytes of the file it
// came from (unexported), so that [WriteSentencePiece] can reproduce fields
// lmc does not model (trainer options, normalization rules). Changing the
// exported fields is always safe: the writer re-derives whatever it must.
type Vocab struct {
	// Model is "llama" (SentencePiece) or "gpt2" (byte-level BPE): GGUF
	// tokenizer.ggml.model.
	Model string
	// Pre is GGUF tokenizer.ggml.pre for gpt2 models ("gpt-2", "llama-bpe",
	// "qwen2", "default"), "" when unknown or not applicable.
	Pre string
	// Tokens holds the token texts by id. SentencePiece pieces use U+2581
	// ("▁") for space and "<0xNN>" byte tokens; gpt2 tokens are written in
	// the GPT-2 bytes-to-unicode alphabet ("Ġ" for space).
	Tokens []string
	// Scores holds one score per token (SentencePiece log-probabilities or
	// negated merge ranks). It may be nil for gpt2 models.
	Scores []float32
	// Types holds one TokenType per token.
	Types []TokenType
	// Merges holds gpt2 merges, "a b" pairs in rank order (a space inside
	// either half is written as U+0120, as llama.cpp's converter does).
	Merges []string
	// Special token ids, -1 when absent.
	BOS, EOS, UNK, PAD, SEP int
	// AddBOS/AddEOS say whether a BOS/EOS token is added when encoding;
	// AddBOSSet/AddEOSSet whether the source said so explicitly (GGUF
	// tokenizer.ggml.add_bos_token / add_eos_token present).
	AddBOS, AddEOS       bool
	AddBOSSet, AddEOSSet bool
	// AddSpacePrefix is SentencePiece's add_dummy_prefix (GGUF
	// tokenizer.ggml.add_space_prefix).
	AddSpacePrefix bool
	// RemoveExtraWhitespaces is SentencePiece's remove_extra_whitespaces
	// (GGUF tokenizer.ggml.remove_extra_whitespaces).
	RemoveExtraWhitespaces bool
	// ChatTemplate is tokenizer.chat_template, "" when none.
	ChatTemplate string

	// sp is the SentencePiece model this Vocab was read from, or nil.
	sp *spSource
	// hf is what the tokenizer.json this Vocab was read from says beyond
	// the exported fields, or nil.
	hf *hfSource
}

// hfSource keeps the parts of a tokenizer.json that WriteHFTokenizer reuses.
type hfSource struct {
	pre          string          // Pre as detected
	preTokenizer json.RawMessage // pre_tokenizer
	normalizer   json.RawMessage // normalizer
}

// NewVocab returns an empty Vocab of the given model with every special id
// set to -1.
func NewVocab(model string) *Vocab {
	return &Vocab{Model: model, BOS: -1, EOS: -1, UNK: -1, PAD: -1, SEP: -1}
}

// ErrFormat is the sentinel that every *FormatError unwraps to.
var ErrFormat = errors.New("tokenizer: invalid format")

// FormatError reports a malformed tokenizer file or an invalid Vocab. It
// names the file (or "vocab"), the byte offset where that is meaningful (-1
// otherwise) and the field at fault.
type FormatError struct {
	File  string // file name, or "" for an in-memory source
	Off   int64  // byte offset of the offending data, -1 if not applicable
	Field string // field, e.g. "pieces[12].score" or "merges[3]"
	Msg   string // what is wrong
}

func (e *FormatError) Error() string {
	var b strings.Builder
	b.WriteString("tokenizer: ")
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Off >= 0 {
		fmt.Fprintf(&b, " (at byte %d)", e.Off)
	}
	return b.String()
}

// Unwrap returns ErrFormat.
func (e *FormatError) Unwrap() error { return ErrFormat }

func vocabErr(field, format string, args ...any) error {
	return &FormatError{File: "vocab", Off: -1, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Validate checks that v is self-consistent: a known model, one type per
// token (and one score, where scores are present), valid types, special ids
// in range, and merges that are "a b" pairs (gpt2 only). Empty tokens are
// allowed (llama2.c files have them); [WriteSentencePiece] rejects them. The error is a *FormatError naming the field.
func (v *Vocab) Validate() error {
	switch v.Model {
	case ModelLlama, ModelGPT2:
	default:
		return vocabErr("model", "unknown tokenizer model %q (want %q or %q)", v.Model, ModelLlama, ModelGPT2)
	}
	n := len(v.Tokens)
	if n == 0 {
		return vocabErr("tokens", "no tokens")
	}
	if len(v.Types) != n {
		return vocabErr("types", "%d token types for %d tokens", len(v.Types), n)
	}
	if v.Scores != nil && len(v.Scores) != n {
		return vocabErr("scores", "%d scores for %d tokens", len(v.Scores), n)
	}
	if v.Model == ModelLlama && v.Scores == nil {
		return vocabErr("scores", "a llama (SentencePiece) vocabulary needs scores")
	}
	for i, t := range v.Types {
		if !t.Valid() {
			return vocabErr(fmt.Sprintf("types[%d]", i), "invalid token type %d", int32(t))
		}
	}
	if v.Model == ModelLlama {
		if len(v.Merges) != 0 {
			return vocabErr("merges", "a llama (SentencePiece) vocabulary has no merges (found %d)", len(v.Merges))
		}
	}
	for i, m := range v.Merges {
		a, b, ok := strings.Cut(m, " ")
		if !ok || a == "" || b == "" || strings.Contains(b, " ") {
			return vocabErr(fmt.Sprintf("merges[%d]", i), "%q is not an \"a b\" pair", m)
		}
	}
	for _, s := range []struct {
		name string
		id   int
	}{{"bos", v.BOS}, {"eos", v.EOS}, {"unk", v.UNK}, {"pad", v.PAD}, {"sep", v.SEP}} {
		if s.id < -1 || s.id >= n {
			return vocabErr(s.name+"_token_id", "%d out of range [-1, %d)", s.id, n)
		}
	}
	return nil
}

// TokenID returns the id of the first token whose text is s, or -1.
func (v *Vocab) TokenID(s string) int {
	for i, t := range v.Tokens {
		if t == s {
			return i
		}
	}
	return -1
}

// clone returns a deep copy of v (the SentencePiece source is immutable and
// shared).
func (v *Vocab) clone() *Vocab {
	c := *v
	c.Tokens = append([]string(nil), v.Tokens...)
	if v.Scores != nil {
		c.Scores = append([]float32(nil), v.Scores...)
	}
	c.Types = append([]TokenType(nil), v.Types...)
	if v.Merges != nil {
		c.Merges = append([]string(nil), v.Merges...)
	}
	return &c
}
