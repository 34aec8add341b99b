package tokenizer

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"strings"
)

// MaxLlama2cTokSize is the largest llama2.c tokenizer file ReadLlama2cTok
// accepts.
const MaxLlama2cTokSize = 256 << 20

// The fixed special ids of llama2.c tokenizers (llama.cpp's
// convert-llama2c-to-ggml hard-codes the same).
const (
	llama2cUNK = 0
	llama2cBOS = 1
	llama2cEOS = 2
)

// ReadLlama2cTok reads a llama2.c tokenizer (tokenizer.bin, tok512.bin):
//
//	uint32 max_token_length
//	repeated until the end of the file:
//	    float32 score; uint32 len; len bytes of token text
//
// It maps the file exactly as llama.cpp's convert-llama2c-to-ggml does
// (--copy-vocab-from-model): the vocabulary is "llama"; id 0 is "<unk>"
// (type unknown), ids 1 and 2 are "<s>" and "</s>" (type control) whatever
// their text in the file (llama2.c writes "\n<s>\n"); an empty text is a
// control token; a text starting "<0x" and a hex digit is a byte token;
// every other token is normal, with each space replaced by U+2581 ("▁").
// UNK, BOS and EOS are 0, 1 and 2; AddSpacePrefix is true (llama2.c's
// encoder prepends a space); AddBOS/AddEOS are left unset.
//
// The file has no token count: every record up to the end is read. The
// error is a *FormatError naming the file, offset and token at fault.
func ReadLlama2cTok(path string) (*Vocab, error) {
	data, err := readFileLimit(path, MaxLlama2cTokSize)
	if err != nil {
		return nil, err
	}
	return parseLlama2cTok(data, path)
}

// ParseLlama2cTok decodes a llama2.c tokenizer held in memory; see
// [ReadLlama2cTok].
func ParseLlama2cTok(data []byte) (*Vocab, error) {
	return parseLlama2cTok(data, "")
}

func parseLlama2cTok(data []byte, file string) (*Vocab, error) {
	if len(data) < 4 {
		return nil, &FormatError{File: file, Off: 0, Field: "max_token_length", Msg: fmt.Sprintf("file is %d bytes, too short for the header", len(data))}
	}
	// max_token_length only sizes run.c's buffers; llama.cpp ignores it,
	// and so does this reader.
	v := NewVocab(ModelLlama)
	v.AddSpacePrefix = true
	// Each record is at least 8 bytes: never allocate beyond that.
	maxTokens := (len(data) - 4) / 8
	v.Tokens = make([]string, 0, maxTokens)
	v.Scores = make([]float32, 0, maxTokens)
	v.Types = make([]TokenType, 0, maxTokens)
	pos := 4
	for pos < len(data) {
		id := len(v.Tokens)
		if len(data)-pos < 8 {
			return nil, &FormatError{File: file, Off: int64(pos), Field: fmt.Sprintf("token[%d]", id), Msg: fmt.Sprintf("truncated record: %d bytes left, a record header is 8", len(data)-pos)}
		}
		score := math.Float32frombits(binary.LittleEndian.Uint32(data[pos:]))
		n := binary.LittleEndian.Uint32(data[pos+4:])
		if uint64(n) > uint64(len(data)-pos-8) {
			return nil, &FormatError{File: file, Off: int64(pos + 4), Field: fmt.Sprintf("token[%d].len", id), Msg: fmt.Sprintf("length %d exceeds the %d bytes that remain", n, len(data)-pos-8)}
		}
		text := string(data[pos+8 : pos+8+int(n)])
		pos += 8 + int(n)
		typ := TypeNormal
		switch {
		case id == llama2cUNK:
			text, typ = "<unk>", TypeUnknown
		case id == llama2cBOS:
			text, typ = "<s>", TypeControl
		case id == llama2cEOS:
			text, typ = "</s>", TypeControl
		case text == "":
			typ = TypeControl
		case isLlamaCppByteToken(text):
			typ = TypeByte
		}
		v.Tokens = append(v.Tokens, strings.ReplaceAll(text, " ", "\u2581"))
		v.Scores = append(v.Scores, score)
		v.Types = append(v.Types, typ)
	}
	if len(v.Tokens) == 0 {
		return nil, &FormatError{File: file, Off: 4, Field: "token[0]", Msg: "no tokens"}
	}
	n := len(v.Tokens)
	if n > llama2cUNK {
		v.UNK = llama2cUNK
	}
	if n > llama2cBOS {
		v.BOS = llama2cBOS
	}
	if n > llama2cEOS {
		v.EOS = llama2cEOS
	}
	return v, nil
}

// isLlamaCppByteToken mirrors convert-llama2c-to-ggml's test
// sscanf(text, "<0x%02hhX>", &b) == 1 under glibc: "<0x", optional white
// space, an optional sign, then a hex digit. (So "<0x4" and "<0x0x" count,
// "<0x+" and "<0X41>" do not.)
func isLlamaCppByteToken(s string) bool {
	rest, ok := strings.CutPrefix(s, "<0x")
	if !ok {
		return false
	}
	rest = strings.TrimLeft(rest, " \t\n\v\f\r")
	if rest != "" && (rest[0] == '+' || rest[0] == '-') {
		rest = rest[1:]
	}
	if rest == "" {
		return false
	}
	_, ok = unhex(rest[0])
	return ok
}

// WriteLlama2cTok writes v as a llama2.c tokenizer, the inverse of
// [ReadLlama2cTok]: "▁" becomes a space again, and BOS and EOS are written
// "\n<s>\n" and "\n</s>\n" as llama2.c's tokenizer.py exports them, so a file
// that llama2.c wrote is reproduced byte for byte. max_token_length is the
// longest token in bytes. v must be a "llama" Vocab with UNK 0, BOS 1 and
// EOS 2 (llama2.c's run.c and llama.cpp's converter assume those ids).
func WriteLlama2cTok(path string, v *Vocab) error {
	b, err := MarshalLlama2cTok(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// MarshalLlama2cTok returns the bytes [WriteLlama2cTok] writes.
func MarshalLlama2cTok(v *Vocab) ([]byte, error) {
	if err := v.Validate(); err != nil {
		return nil, err
	}
	if v.Model != ModelLlama {
		return nil, vocabErr("model", "a llama2.c tokenizer holds a %q vocabulary, not %q", ModelLlama, v.Model)
	}
	n := len(v.Tokens)
	for _, s := range []struct {
		name      string
		got, want int
	}{{"unk_token_id", v.UNK, llama2cUNK}, {"bos_token_id", v.BOS, llama2cBOS}, {"eos_token_id", v.EOS, llama2cEOS}} {
		if s.want < n && s.got != s.want {
			return nil, vocabErr(s.name, "%d, but llama2.c tokenizers fix it at %d", s.got, s.want)
		}
	}
	texts := make([]string, n)
	maxLen, total := 0, 4
	for i, tok := range v.Tokens {
		t := strings.ReplaceAll(tok, "\u2581", " ")
		if i == llama2cBOS || i == llama2cEOS {
			t = "\n" + t + "\n"
		}
		if uint64(len(t)) > math.MaxUint32 {
			return nil, vocabErr(fmt.Sprintf("tokens[%d]", i), "too long")
		}
		texts[i] = t
		maxLen = max(maxLen, len(t))
		total += 8 + len(t)
	}
	out := make([]byte, 0, total)
	out = binary.LittleEndian.AppendUint32(out, uint32(maxLen))
	for i, t := range texts {
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v.Scores[i]))
		out = binary.LittleEndian.AppendUint32(out, uint32(len(t)))
		out = append(out, t...)
	}
	return out, nil
}
