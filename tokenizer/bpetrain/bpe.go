package bpetrain

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/lmc-project/lmc/tokenizer/pretok"
)

// MaxVocab is the largest vocabulary [New] accepts.
const MaxVocab = 1 << 24

// ErrVocab is returned (wrapped) for an inconsistent vocabulary or merge list.
var ErrVocab = errors.New("bpetrain: invalid vocabulary")

var byteToRune, runeToByte = bytesToUnicode()

// bytesToUnicode is GPT-2's mapping of the 256 bytes to printable runes: the
// printable Latin-1 bytes map to themselves, the others to 256, 257, ... in
// byte order.
func bytesToUnicode() ([256]rune, map[rune]byte) {
	var b2r [256]rune
	r2b := make(map[rune]byte, 256)
	n := 0
	for b := 0; b < 256; b++ {
		if ('!' <= b && b <= '~') || (0xA1 <= b && b <= 0xAC) || (0xAE <= b && b <= 0xFF) {
			b2r[b] = rune(b)
		} else {
			b2r[b] = rune(256 + n)
			n++
		}
		r2b[b2r[b]] = byte(b)
	}
	return b2r, r2b
}

// ByteToRune returns GPT-2's bytes-to-unicode mapping.
func ByteToRune() [256]rune { return byteToRune }

// ByteLevel returns the byte-level form of s: each byte replaced by its
// [ByteToRune] rune.
func ByteLevel(s string) string {
	var sb strings.Builder
	sb.Grow(len(s) * 2)
	for i := 0; i < len(s); i++ {
		sb.WriteRune(byteToRune[s[i]])
	}
	return sb.String()
}

// FromByteLevel inverts [ByteLevel]; ok is false if s holds a rune outside
// the mapping.
func FromByteLevel(s string) (b []byte, ok bool) {
	b = make([]byte, 0, len(s))
	for _, r := range s {
		c, found := runeToByte[r]
		if !found {
			return b, false
		}
		b = append(b, c)
	}
	return b, true
}

type mergeInfo struct {
	rank   int32
	result int32
}

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// Tokenizer is a byte-level BPE tokenizer. It is safe for concurrent use.
type Tokenizer struct {
	pattern  pretok.Pattern
	tokens   []string // id -> byte-level token string
	bytes    [][]byte // id -> raw bytes (nil for special tokens)
	ids      map[string]int
	merges   [][2]int32
	mergeMap map[uint64]mergeInfo
	byteID   [256]int32
	special  []bool

	mu    sync.Mutex
	cache map[string][]int32
}

// New builds a tokenizer from a vocabulary given as token strings in id order
// (byte-level form, see [ByteLevel]), merges in rank order as pairs of token
// strings, and the names of the special tokens, which must be in vocab. Every
// one of the 256 single-byte tokens must be present.
func New(p pretok.Pattern, vocab []string, merges [][2]string, specials []string) (*Tokenizer, error) {
	if len(vocab) > MaxVocab {
		return nil, fmt.Errorf("%w: %d tokens > %d", ErrVocab, len(vocab), MaxVocab)
	}
	if p.Regex() == "" {
		return nil, fmt.Errorf("%w: invalid pre-tokenizer %v", ErrVocab, p)
	}
	t := &Tokenizer{
		pattern:  p,
		tokens:   vocab,
		bytes:    make([][]byte, len(vocab)),
		ids:      make(map[string]int, len(vocab)),
		merges:   make([][2]int32, 0, len(merges)),
		mergeMap: make(map[uint64]mergeInfo, len(merges)),
		special:  make([]bool, len(vocab)),
		cache:    make(map[string][]int32),
	}
	for i := range t.byteID {
		t.byteID[i] = -1
	}
	isSpecial := make(map[string]bool, len(specials))
	for _, s := range specials {
		isSpecial[s] = true
	}
	for id, tok := range vocab {
		if _, dup := t.ids[tok]; dup {
			return nil, fmt.Errorf("%w: token %q appears twice", ErrVocab, tok)
		}
		t.ids[tok] = id
		if isSpecial[tok] {
			t.special[id] = true
			delete(isSpecial, tok)
			continue
		}
		b, ok := FromByteLevel(tok)
		if !ok || len(b) == 0 {
			return nil, fmt.Errorf("%w: token %d %q is not byte-level", ErrVocab, id, tok)
		}
		t.bytes[id] = b
		if len(b) == 1 {
			t.byteID[b[0]] = int32(id)
		}
	}
	for s := range isSpecial {
		return nil, fmt.Errorf("%w: special token %q not in vocabulary", ErrVocab, s)
	}
	for b, id := range t.byteID {
		if id < 0 {
			return nil, fmt.Errorf("%w: no token for byte 0x%02x", ErrVocab, b)
		}
	}
	for r, m := range merges {
		a, okA := t.ids[m[0]]
		b, okB := t.ids[m[1]]
		c, okC := t.ids[m[0]+m[1]]
		if !okA || !okB || !okC || t.special[a] || t.special[b] || t.special[c] {
			return nil, fmt.Errorf("%w: merge %d %q %q: part or result not in vocabulary", ErrVocab, r, m[0], m[1])
		}
		k := pairKey(int32(a), int32(b))
		if _, dup := t.mergeMap[k]; dup {
			continue // first (lowest) rank wins, as in GPT-2
		}
		t.mergeMap[k] = mergeInfo{rank: int32(r), result: int32(c)}
		t.merges = append(t.merges, [2]int32{int32(a), int32(b)})
	}
	return t, nil
}

// Pattern returns the pre-tokenizer pattern.
func (t *Tokenizer) Pattern() pretok.Pattern { return t.pattern }

// VocabSize returns the number of tokens, special tokens included.
func (t *Tokenizer) VocabSize() int { return len(t.tokens) }

// Token returns the byte-level string of token id (the tokenizer.json form).
func (t *Tokenizer) Token(id int) string { return t.tokens[id] }

// ID returns the id of a token given in byte-level form, or a special token's
// name.
func (t *Tokenizer) ID(token string) (int, bool) {
	id, ok := t.ids[token]
	return id, ok
}

// IsSpecial reports whether id is a special token.
func (t *Tokenizer) IsSpecial(id int) bool { return t.special[id] }

// Merges returns the merges in rank order, as pairs of token ids.
func (t *Tokenizer) Merges() [][2]int {
	out := make([][2]int, len(t.merges))
	for i, m := range t.merges {
		out[i] = [2]int{int(m[0]), int(m[1])}
	}
	return out
}

// Encode returns the token ids of text. Special-token names in text are not
// recognised: text is encoded as plain bytes.
func (t *Tokenizer) Encode(text string) []int {
	return t.AppendEncode(nil, text)
}

// AppendEncode appends the token ids of text to dst.
func (t *Tokenizer) AppendEncode(dst []int, text string) []int {
	ends := t.pattern.AppendEnds(nil, text)
	start := 0
	var scratch []int32
	for _, e := range ends {
		word := text[start:e]
		start = e
		t.mu.Lock()
		ids, ok := t.cache[word]
		t.mu.Unlock()
		if !ok {
			scratch = t.encodeWord(scratch[:0], word)
			ids = append([]int32(nil), scratch...)
			t.mu.Lock()
			if len(t.cache) < 1<<20 {
				t.cache[word] = ids
			}
			t.mu.Unlock()
		}
		for _, id := range ids {
			dst = append(dst, int(id))
		}
	}
	return dst
}

// encodeWord runs BPE on one pre-token piece: repeatedly merge every
// occurrence of the lowest-rank adjacent pair.
func (t *Tokenizer) encodeWord(sym []int32, word string) []int32 {
	for i := 0; i < len(word); i++ {
		sym = append(sym, t.byteID[word[i]])
	}
	for len(sym) > 1 {
		best := mergeInfo{rank: -1}
		var bestA, bestB int32
		for i := 0; i+1 < len(sym); i++ {
			if m, ok := t.mergeMap[pairKey(sym[i], sym[i+1])]; ok && (best.rank < 0 || m.rank < best.rank) {
				best, bestA, bestB = m, sym[i], sym[i+1]
			}
		}
		if best.rank < 0 {
			break
		}
		w := 0
		for i := 0; i < len(sym); i++ {
			if i+1 < len(sym) && sym[i] == bestA && sym[i+1] == bestB {
				sym[w] = best.result
				i++
			} else {
				sym[w] = sym[i]
			}
			w++
		}
		sym = sym[:w]
	}
	return sym
}

// Decode returns the bytes of the tokens, special tokens written as their
// names. Ids out of range are skipped.
func (t *Tokenizer) Decode(ids []int) []byte {
	var out []byte
	for _, id := range ids {
		if id < 0 || id >= len(t.tokens) {
			continue
		}
		if t.special[id] {
			out = append(out, t.tokens[id]...)
		} else {
			out = append(out, t.bytes[id]...)
		}
	}
	return out
}

// DecodeString is string(Decode(ids)); invalid UTF-8 is kept as is.
func (t *Tokenizer) DecodeString(ids []int) string { return string(t.Decode(ids)) }

// specials returns the special token ids in increasing order.
func (t *Tokenizer) specialIDs() []int {
	var out []int
	for id, s := range t.special {
		if s {
			out = append(out, id)
		}
	}
	sort.Ints(out)
	return out
}
