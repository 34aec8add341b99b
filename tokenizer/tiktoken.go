package tokenizer

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strconv"

	"github.com/lmc-project/lmc/tokenizer/pretok"
)

// MaxTiktokenSize is the largest tiktoken rank file [NewTiktoken] reads.
const MaxTiktokenSize = 64 << 20

// NewTiktoken returns a tokenizer for an OpenAI tiktoken rank file
// (cl100k_base.tiktoken, o200k_base.tiktoken: one "base64-token rank" pair
// per line). pattern is the split regex (tiktoken's pat_str, as in the
// meta.json files beside them) or a pretok pattern name ("cl100k_base",
// "o200k_base", "llama-bpe", ...); lmc has hand-written splitters for
// cl100k's and o200k's patterns (pretok.Llama3, pretok.GPT4o) and the
// others package pretok knows. specials maps special-token texts to ids
// (tiktoken's special_tokens); they are control tokens, parsed by
// EncodeWithSpecial.
//
// Encoding is tiktoken's: each piece that is a token is that token; other
// pieces are merged from bytes, the adjacent pair whose bytes form the
// lowest-ranked token first. Token texts (TokenText) are the raw bytes.
// There is no BOS or EOS.
func NewTiktoken(ranksFile, pattern string, specials map[string]int) (*Tokenizer, error) {
	data, err := readFileLimit(ranksFile, MaxTiktokenSize)
	if err != nil {
		return nil, err
	}
	return parseTiktoken(data, ranksFile, pattern, specials)
}

// ParseTiktoken is [NewTiktoken] on the rank file's contents.
func ParseTiktoken(data []byte, pattern string, specials map[string]int) (*Tokenizer, error) {
	return parseTiktoken(data, "", pattern, specials)
}

func parseTiktoken(data []byte, file, pattern string, specials map[string]int) (*Tokenizer, error) {
	p, ok := pretok.ByRegex(pattern)
	if !ok {
		if p, ok = pretok.ByName(pattern); !ok {
			return nil, fmt.Errorf("tokenizer: tiktoken pattern %q is not one lmc implements", truncate(pattern, 80))
		}
	}
	ferr := func(off int, field, format string, args ...any) error {
		return &FormatError{File: file, Off: int64(off), Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	type entry struct {
		tok  string
		rank int
	}
	// One line is at least 4 bytes ("YQ== 0" has 6), so this bounds what
	// the file can hold.
	entries := make([]entry, 0, len(data)/6+1)
	maxRank := -1
	for off, line := 0, 0; off < len(data); line++ {
		end := bytes.IndexByte(data[off:], '\n')
		if end < 0 {
			end = len(data) - off
		}
		ln := bytes.TrimSuffix(data[off:off+end], []byte{'\r'})
		lineOff := off
		off += end + 1
		if len(ln) == 0 {
			continue
		}
		sp := bytes.IndexByte(ln, ' ')
		field := fmt.Sprintf("line %d", line+1)
		if sp < 0 {
			return nil, ferr(lineOff, field, "want \"base64 rank\"")
		}
		tok, err := base64.StdEncoding.DecodeString(string(ln[:sp]))
		if err != nil || len(tok) == 0 {
			return nil, ferr(lineOff, field, "bad base64 token %q", truncate(string(ln[:sp]), 40))
		}
		rank, err := strconv.Atoi(string(ln[sp+1:]))
		if err != nil || rank < 0 || rank >= maxVocabSize {
			return nil, ferr(lineOff+sp+1, field, "bad rank %q (want 0..%d)", truncate(string(ln[sp+1:]), 20), maxVocabSize-1)
		}
		entries = append(entries, entry{string(tok), rank})
		maxRank = max(maxRank, rank)
	}
	if len(entries) == 0 {
		return nil, ferr(-1, "ranks", "no tokens")
	}
	if maxRank >= 2*len(entries)+1024 {
		return nil, ferr(-1, "ranks", "rank %d for only %d tokens", maxRank, len(entries))
	}
	n := maxRank + 1
	for s, id := range specials {
		if id < 0 || id >= maxVocabSize || id >= n+len(specials)+1024 || s == "" {
			return nil, fmt.Errorf("tokenizer: tiktoken special token %q: bad id %d", s, id)
		}
		n = max(n, id+1)
	}
	t := &Tokenizer{
		kind:         kindTiktoken,
		texts:        make([]string, n),
		pieces:       make([]string, n),
		attr:         make([]uint8, n),
		pre:          p,
		bos:          -1,
		eos:          -1,
		unk:          -1,
		ignoreMerges: true,
	}
	m := &t.bpe
	m.n = int32(n)
	m.tiktoken = true
	m.symIDs = make(map[string]int32, len(entries))
	for _, e := range entries {
		if t.attr[e.rank] != 0 {
			return nil, ferr(-1, fmt.Sprintf("rank %d", e.rank), "rank given twice")
		}
		if _, dup := m.symIDs[e.tok]; dup {
			return nil, ferr(-1, fmt.Sprintf("rank %d", e.rank), "token %q given twice", truncate(e.tok, 40))
		}
		t.texts[e.rank], t.pieces[e.rank], t.attr[e.rank] = e.tok, e.tok, attrNormal
		m.symIDs[e.tok] = int32(e.rank)
	}
	for c := 0; c < 256; c++ {
		id, ok := m.symIDs[string([]byte{byte(c)})]
		if !ok {
			return nil, ferr(-1, "ranks", "byte 0x%02x has no token", c)
		}
		m.byteSym[c] = id
	}
	for s, id := range specials {
		if t.attr[id] != 0 && t.texts[id] != s {
			return nil, fmt.Errorf("tokenizer: tiktoken special token %q: id %d is token %q", s, id, truncate(t.texts[id], 40))
		}
		t.texts[id], t.pieces[id], t.attr[id] = s, s, attrControl
	}
	for i, a := range t.attr {
		if a == 0 {
			t.attr[i] = attrUnused
		}
	}
	t.buildSpecials()
	return t, nil
}
