package tokenizer

import (
	"math"
	"strings"
	"sync"
)

// bpeModel is a byte-level BPE vocabulary. Symbols are byte strings (the
// vocabulary's GPT-2-alphabet texts decoded to the bytes they stand for)
// named by an id: a token id, or an id >= n for a string that is the half
// or the result of a merge but not a token.
type bpeModel struct {
	n       int32
	symIDs  map[string]int32 // bytes -> symbol id
	merges  map[uint64]bpeMerge
	byteSym [256]int32
	// tiktoken: no merge list; a pair merges into the token its bytes make,
	// with that token's id as rank.
	tiktoken bool
}

type bpeMerge struct{ rank, id int32 }

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

func (t *Tokenizer) buildBPE(v *Vocab) error {
	m := &t.bpe
	n := len(v.Tokens)
	m.n = int32(n)
	m.symIDs = make(map[string]int32, n+len(v.Merges)/4)
	inAlphabet := make([]bool, n) // the token's text is all GPT-2 alphabet
	for i, s := range v.Tokens {
		b, ok := ByteLevelDecode(s)
		inAlphabet[i] = ok
		if ok && len(b) > 0 {
			if _, dup := m.symIDs[string(b)]; !dup {
				m.symIDs[string(b)] = int32(i)
			}
		}
		a := t.attr[i]
		switch {
		case a&(attrControl|attrUnknown|attrUserDefined) != 0:
			t.pieces[i] = s
		case a&attrNormal != 0:
			// llama.cpp's llama_decode_text; characters outside the alphabet
			// (it prints "[UNK_BYTE_0x...]" for them) are kept as they are.
			t.pieces[i] = string(b)
		case a&attrByte != 0:
			if c, ok := byteTokenValue(s); ok {
				t.pieces[i] = string([]byte{c})
			}
		}
	}
	next := int32(n)
	intern := func(s string) int32 {
		if id, ok := m.symIDs[s]; ok {
			return id
		}
		id := next
		next++
		m.symIDs[s] = id
		return id
	}
	// Merge halves are mostly tokens: find them by their text first.
	textIDs := make(map[string]int32, n)
	for i, s := range v.Tokens {
		if _, dup := textIDs[s]; !dup {
			textIDs[s] = int32(i)
		}
	}
	symOf := func(text string) (int32, bool) {
		if id, ok := textIDs[text]; ok && inAlphabet[id] {
			return id, true
		}
		b, ok := ByteLevelDecode(text)
		if !ok {
			return -1, false // no symbol can ever be spelled so
		}
		return intern(string(b)), true
	}
	m.merges = make(map[uint64]bpeMerge, len(v.Merges))
	var buf []byte
	for r, mg := range v.Merges {
		if r > math.MaxInt32 {
			break
		}
		a, b, _ := strings.Cut(mg, " ")
		ia, okA := symOf(a)
		ib, okB := symOf(b)
		if !okA || !okB {
			continue
		}
		k := pairKey(ia, ib)
		if _, dup := m.merges[k]; dup {
			continue
		}
		buf = append(append(buf[:0], a...), b...)
		iab, ok := textIDs[string(buf)]
		if !ok || !inAlphabet[iab] {
			iab, _ = symOf(string(buf))
		}
		m.merges[k] = bpeMerge{rank: int32(r), id: iab}
	}
	for c := 0; c < 256; c++ {
		m.byteSym[c] = intern(string([]byte{byte(c)}))
	}
	return nil
}

var endsPool = sync.Pool{New: func() any { return new([]int) }}

// bpeEncode pre-tokenizes one raw fragment and appends the ids of each
// piece.
func (t *Tokenizer) bpeEncode(out []int32, s string) []int32 {
	s = sanitizeUTF8(s)
	ep := endsPool.Get().(*[]int)
	ends := t.pre.AppendEnds((*ep)[:0], s)
	start := 0
	for _, e := range ends {
		out = t.bpeCached(out, s[start:e])
		start = e
	}
	*ep = ends
	endsPool.Put(ep)
	return out
}

func (t *Tokenizer) bpeCached(out []int32, w string) []int32 {
	if len(w) > maxCachedSegment {
		return t.bpeWord(out, w)
	}
	if ids, ok := t.cache.get(w); ok {
		return append(out, ids...)
	}
	n := len(out)
	out = t.bpeWord(out, w)
	t.cache.put(w, append([]int32(nil), out[n:]...))
	return out
}

// bpeScratch holds one word's symbols: symbol i is w[start[i]:start[i+1]],
// rank[i]/res[i] the merge of symbols i and i+1 (rank -1: none).
type bpeScratch struct {
	start, id, rank, res []int32
}

var scratchPool = sync.Pool{New: func() any { return new(bpeScratch) }}

func grow(s []int32, n int) []int32 {
	if cap(s) < n {
		return make([]int32, n)
	}
	return s[:n]
}

// linearBPEMax is the longest word merged by rescanning all pairs for the
// lowest rank after each merge; longer words use a heap.
var linearBPEMax = 128

// bpeWord merges one pre-token: the adjacent pair with the lowest rank
// first, leftmost on ties, as llm_tokenizer_bpe_session (and tiktoken's
// byte_pair_merge) do.
func (t *Tokenizer) bpeWord(out []int32, w string) []int32 {
	m := &t.bpe
	if t.ignoreMerges {
		if id, ok := m.symIDs[w]; ok && id < m.n {
			return append(out, id)
		}
	}
	if len(w) == 1 {
		return t.bpeEmit(out, w, m.byteSym[w[0]])
	}
	if len(w) > linearBPEMax {
		return t.bpeWordHeap(out, w)
	}
	sc := scratchPool.Get().(*bpeScratch)
	k := len(w)
	start := grow(sc.start, k+1)
	id := grow(sc.id, k)
	rank := grow(sc.rank, k)
	res := grow(sc.res, k)
	for i := 0; i < k; i++ {
		start[i] = int32(i)
		id[i] = m.byteSym[w[i]]
	}
	start[k] = int32(k)
	for i := 0; i+1 < k; i++ {
		rank[i], res[i] = t.pairRank(w, start[i], start[i+2], id[i], id[i+1])
	}
	for k > 1 {
		best, br := -1, int32(math.MaxInt32)
		for i := 0; i+1 < k; i++ {
			if r := rank[i]; r >= 0 && r < br {
				best, br = i, r
			}
		}
		if best < 0 {
			break
		}
		id[best] = res[best]
		copy(start[best+1:], start[best+2:k+1])
		copy(id[best+1:], id[best+2:k])
		copy(rank[best:], rank[best+1:k-1])
		copy(res[best:], res[best+1:k-1])
		k--
		if best > 0 {
			rank[best-1], res[best-1] = t.pairRank(w, start[best-1], start[best+1], id[best-1], id[best])
		}
		if best+1 < k {
			rank[best], res[best] = t.pairRank(w, start[best], start[best+2], id[best], id[best+1])
		}
	}
	for i := 0; i < k; i++ {
		out = t.bpeEmit(out, w[start[i]:start[i+1]], id[i])
	}
	sc.start, sc.id, sc.rank, sc.res = start, id, rank, res
	scratchPool.Put(sc)
	return out
}

// pairRank returns the rank of merging the adjacent symbols a (w[s:...])
// and b (ending at e), and the merged symbol's id; rank -1 when they do not
// merge.
func (t *Tokenizer) pairRank(w string, s, e, a, b int32) (int32, int32) {
	m := &t.bpe
	if m.tiktoken {
		if id, ok := m.symIDs[w[s:e]]; ok {
			return id, id
		}
		return -1, -1
	}
	if mg, ok := m.merges[pairKey(a, b)]; ok {
		return mg.rank, mg.id
	}
	return -1, -1
}

// bpeEmit appends the token of a final symbol. A symbol that is not a token
// (a merge result or byte missing from the vocabulary) becomes what
// llama.cpp makes of it: the tokens of its bytes '!'..'~', which are their
// own GPT-2 characters; other bytes are dropped.
func (t *Tokenizer) bpeEmit(out []int32, text string, id int32) []int32 {
	if id >= 0 && id < t.bpe.n {
		return append(out, id)
	}
	for j := 0; j < len(text); j++ {
		if c := text[j]; '!' <= c && c <= '~' {
			if id, ok := t.bpe.symIDs[text[j:j+1]]; ok && id < t.bpe.n {
				out = append(out, id)
			}
		}
	}
	return out
}

// bpeWordHeap is bpeWord for long words: a linked list of symbols and a
// heap of candidate merges, stale entries skipped when popped (as
// llama.cpp's work queue does).
func (t *Tokenizer) bpeWordHeap(out []int32, w string) []int32 {
	type sym struct {
		start, end int32
		prev, next int32
		id         int32
	}
	syms := make([]sym, len(w))
	for i := range syms {
		syms[i] = sym{int32(i), int32(i + 1), int32(i - 1), int32(i + 1), t.bpe.byteSym[w[i]]}
	}
	syms[len(syms)-1].next = -1
	h := make(heap[bpeCand], 0, len(w))
	add := func(l, r int32) {
		if l < 0 || r < 0 {
			return
		}
		rank, res := t.pairRank(w, syms[l].start, syms[r].end, syms[l].id, syms[r].id)
		if rank >= 0 {
			h.push(bpeCand{rank: rank, left: l, right: r, lend: syms[l].end, rend: syms[r].end, res: res})
		}
	}
	for i := int32(0); i+1 < int32(len(syms)); i++ {
		add(i, i+1)
	}
	for len(h) > 0 {
		c := h.pop()
		L, R := &syms[c.left], &syms[c.right]
		if L.end == L.start || R.end == R.start || L.end != c.lend || R.end != c.rend {
			continue
		}
		L.end = R.end
		L.id = c.res
		R.end = R.start // merged away
		L.next = R.next
		if R.next >= 0 {
			syms[R.next].prev = c.left
		}
		add(L.prev, c.left)
		add(c.left, L.next)
	}
	for i := int32(0); i != -1; i = syms[i].next {
		out = t.bpeEmit(out, w[syms[i].start:syms[i].end], syms[i].id)
	}
	return out
}

type bpeCand struct {
	rank, left, right, lend, rend, res int32
}

// before orders BPE merge candidates: lowest rank first, then leftmost.
func (c bpeCand) before(d bpeCand) bool {
	return c.rank < d.rank || (c.rank == d.rank && c.left < d.left)
}
