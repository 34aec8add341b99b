package tokenizer

import (
	"fmt"
	"strings"
)

// spmModel is a SentencePiece-style BPE vocabulary as llama.cpp's
// llm_tokenizer_spm uses it.
type spmModel struct {
	ids    map[string]int32 // token text -> id (the first, for duplicates)
	scores []float32
	byteID [256]int32 // byte fallback: <0xNN>, else the one-byte token, else UNK, else -1
	// cut says that a text may be cut before every "▁" that follows
	// another symbol without changing the result, because no token has a
	// "▁" after something else: the pieces are then tokenized (and cached)
	// one by one.
	cut bool
}

const spaceMark = "\u2581" // ▁

func (t *Tokenizer) buildSPM(v *Vocab) {
	m := &t.spm
	m.ids = make(map[string]int32, len(v.Tokens))
	m.scores = v.Scores
	m.cut = true
	for i, s := range v.Tokens {
		if s == "" {
			continue
		}
		if _, dup := m.ids[s]; !dup {
			m.ids[s] = int32(i)
		}
		for q := strings.Index(s[1:], spaceMark) + 1; q > 0; {
			if q < 3 || s[q-3:q] != spaceMark {
				m.cut = false
				break
			}
			next := strings.Index(s[q+1:], spaceMark)
			if next < 0 {
				break
			}
			q += 1 + next
		}
		a := t.attr[i]
		switch {
		case a&(attrControl|attrUnknown|attrUserDefined) != 0:
			t.pieces[i] = s
		case a&attrNormal != 0:
			t.pieces[i] = strings.ReplaceAll(s, spaceMark, " ")
		case a&attrByte != 0:
			if b, ok := byteTokenValue(s); ok {
				t.pieces[i] = string([]byte{b})
			}
		}
	}
	for b := 0; b < 256; b++ {
		m.byteID[b] = -1
		if id, ok := m.ids[fmt.Sprintf("<0x%02X>", b)]; ok {
			m.byteID[b] = id
		} else if id, ok := m.ids[string([]byte{byte(b)})]; ok {
			m.byteID[b] = id
		} else if t.unk >= 0 {
			m.byteID[b] = int32(t.unk)
		}
	}
}

// byteTokenValue returns the byte of a "<0xNN>" token the way llama.cpp's
// token_to_byte reads it (two hex digits at offset 3).
func byteTokenValue(s string) (byte, bool) {
	if len(s) < 5 {
		return 0, false
	}
	hi, ok1 := unhex(s[3])
	lo, ok2 := unhex(s[4])
	if !ok1 || !ok2 {
		return 0, false
	}
	return hi<<4 | lo, true
}

// maxCachedSegment is the longest SentencePiece segment or BPE word kept in
// the cache.
const maxCachedSegment = 256

// spmEncode tokenizes one raw fragment (with its space prefix already
// added) and appends the ids to out.
func (t *Tokenizer) spmEncode(out []int32, s string) []int32 {
	esc := strings.ReplaceAll(s, " ", spaceMark)
	if !t.spm.cut {
		return t.spmSegment(out, esc)
	}
	// Cut before every "▁" symbol that follows a symbol other than "▁",
	// walking the symbols exactly as llm_tokenizer_spm splits them.
	start, prevSpace := 0, false
	for i := 0; i < len(esc); {
		n := min(utf8Len(esc[i]), len(esc)-i)
		isSpace := n == 3 && esc[i:i+3] == spaceMark
		if isSpace && !prevSpace && i > start {
			out = t.spmCached(out, esc[start:i])
			start = i
		}
		prevSpace = isSpace
		i += n
	}
	return t.spmCached(out, esc[start:])
}

func (t *Tokenizer) spmCached(out []int32, seg string) []int32 {
	if len(seg) > maxCachedSegment {
		return t.spmSegment(out, seg)
	}
	if ids, ok := t.cache.get(seg); ok {
		return append(out, ids...)
	}
	n := len(out)
	out = t.spmSegment(out, seg)
	t.cache.put(seg, append([]int32(nil), out[n:]...))
	return out
}

type spmSym struct {
	start, n   int32
	prev, next int32
}

type spmBigram struct {
	left, right int32
	score       float32
	size        int32
}

// before orders bigrams: highest score first, then leftmost.
func (b spmBigram) before(c spmBigram) bool {
	return b.score > c.score || (b.score == c.score && b.left < c.left)
}

// spmSegment is llm_tokenizer_spm_session::tokenize on an escaped text.
func (t *Tokenizer) spmSegment(out []int32, s string) []int32 {
	if s == "" {
		return out
	}
	m := &t.spm
	syms := make([]spmSym, 0, len(s))
	for off := 0; off < len(s); {
		n := min(utf8Len(s[off]), len(s)-off)
		k := int32(len(syms))
		syms = append(syms, spmSym{start: int32(off), n: int32(n), prev: k - 1, next: k + 1})
		off += n
	}
	syms[len(syms)-1].next = -1
	h := make(heap[spmBigram], 0, len(syms))
	tryAdd := func(l, r int32) {
		if l < 0 || r < 0 {
			return
		}
		text := s[syms[l].start : syms[r].start+syms[r].n]
		id, ok := m.ids[text]
		if !ok {
			return
		}
		h.push(spmBigram{left: l, right: r, score: m.scores[id], size: int32(len(text))})
	}
	for i := int32(1); i < int32(len(syms)); i++ {
		tryAdd(i-1, i)
	}
	for len(h) > 0 {
		b := h.pop()
		L, R := &syms[b.left], &syms[b.right]
		if L.n == 0 || R.n == 0 || L.n+R.n != b.size {
			continue
		}
		L.n += R.n
		R.n = 0
		L.next = R.next
		if R.next >= 0 {
			syms[R.next].prev = b.left
		}
		tryAdd(L.prev, b.left)
		tryAdd(b.left, L.next)
	}
	for i := int32(0); i != -1; i = syms[i].next {
		sym := syms[i]
		text := s[sym.start : sym.start+sym.n]
		if id, ok := m.ids[text]; ok {
			out = append(out, id)
			continue
		}
		for j := 0; j < len(text); j++ {
			if id := m.byteID[text[j]]; id >= 0 {
				out = append(out, id)
			}
		}
	}
	return out
}
