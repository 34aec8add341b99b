package bpetrain

import (
	"container/heap"
	"errors"
	"fmt"
	"sort"

	"github.com/lmc-project/lmc/tokenizer/pretok"
)

// Trainer learns a byte-level BPE vocabulary from text. Add text with
// [Trainer.Add], then call [Trainer.Train]. A Trainer is not safe for
// concurrent use.
type Trainer struct {
	pattern pretok.Pattern
	words   map[string]int64
	ends    []int
}

// NewTrainer returns a trainer that splits text with pattern p.
func NewTrainer(p pretok.Pattern) *Trainer {
	return &Trainer{pattern: p, words: make(map[string]int64)}
}

// Add counts the pre-token pieces of text. Pieces never span two calls, so
// each document should be added separately.
func (tr *Trainer) Add(text string) {
	tr.ends = tr.pattern.AppendEnds(tr.ends[:0], text)
	start := 0
	for _, e := range tr.ends {
		tr.words[text[start:e]]++
		start = e
	}
}

// Words returns the number of distinct pieces counted so far.
func (tr *Trainer) Words() int { return len(tr.words) }

// ErrTrain is returned (wrapped) for impossible training requests.
var ErrTrain = errors.New("bpetrain: cannot train")

// Train learns vocabSize-256-len(specials) merges (fewer if the corpus runs
// out of pairs) and returns the tokenizer: ids 0..255 are bytes, then the
// merges, then the specials in the order given.
func (tr *Trainer) Train(vocabSize int, specials []string) (*Tokenizer, error) {
	nMerges := vocabSize - 256 - len(specials)
	if nMerges < 0 || vocabSize > MaxVocab {
		return nil, fmt.Errorf("%w: vocabulary %d too small for 256 bytes and %d specials", ErrTrain, vocabSize, len(specials))
	}
	// Words in sorted order, so the run does not depend on map order.
	keys := make([]string, 0, len(tr.words))
	for w := range tr.words {
		if len(w) > 1 {
			keys = append(keys, w)
		}
	}
	sort.Strings(keys)
	syms := make([][]int32, len(keys))
	freq := make([]int64, len(keys))
	counts := make(map[uint64]int64)
	where := make(map[uint64][]int32)
	for wi, w := range keys {
		s := make([]int32, len(w))
		for i := 0; i < len(w); i++ {
			s[i] = int32(w[i])
		}
		syms[wi] = s
		f := tr.words[w]
		freq[wi] = f
		for i := 0; i+1 < len(s); i++ {
			k := pairKey(s[i], s[i+1])
			if counts[k] == 0 || lastWord(where[k]) != int32(wi) {
				where[k] = append(where[k], int32(wi))
			}
			counts[k] += f
		}
	}
	h := &pairHeap{}
	for k, c := range counts {
		*h = append(*h, pairEntry{count: c, key: k})
	}
	heap.Init(h)

	tokens := make([][]byte, 256, vocabSize)
	for b := range tokens {
		tokens[b] = []byte{byte(b)}
	}
	var merges [][2]int32
	seen := make([]int32, len(keys)) // iteration+1 at which a word was last updated
	delta := make(map[uint64]int64)
	for len(merges) < nMerges && h.Len() > 0 {
		e := heap.Pop(h).(pairEntry)
		if cur := counts[e.key]; cur != e.count || cur <= 0 {
			continue // stale entry
		}
		a, b := int32(e.key>>32), int32(uint32(e.key))
		c := int32(len(tokens))
		tokens = append(tokens, append(append([]byte(nil), tokens[a]...), tokens[b]...))
		merges = append(merges, [2]int32{a, b})
		iter := int32(len(merges))
		clear(delta)
		for _, wi := range where[e.key] {
			if seen[wi] == iter {
				continue
			}
			seen[wi] = iter
			s := syms[wi]
			f := freq[wi]
			found := false
			for i := 0; i+1 < len(s); i++ {
				if s[i] == a && s[i+1] == b {
					found = true
					break
				}
			}
			if !found {
				continue
			}
			for i := 0; i+1 < len(s); i++ {
				delta[pairKey(s[i], s[i+1])] -= f
			}
			w := 0
			for i := 0; i < len(s); i++ {
				if i+1 < len(s) && s[i] == a && s[i+1] == b {
					s[w] = c
					i++
				} else {
					s[w] = s[i]
				}
				w++
			}
			s = s[:w]
			syms[wi] = s
			for i := 0; i+1 < len(s); i++ {
				k := pairKey(s[i], s[i+1])
				delta[k] += f
				if (s[i] == c || s[i+1] == c) && lastWord(where[k]) != wi {
					where[k] = append(where[k], wi)
				}
			}
		}
		delete(where, e.key)
		for k, d := range delta {
			if d == 0 {
				continue
			}
			n := counts[k] + d
			if n <= 0 {
				delete(counts, k)
				continue
			}
			counts[k] = n
			heap.Push(h, pairEntry{count: n, key: k})
		}
		delete(counts, e.key)
	}
	vocab := make([]string, 0, len(tokens)+len(specials))
	for _, tok := range tokens {
		vocab = append(vocab, ByteLevel(string(tok)))
	}
	vocab = append(vocab, specials...)
	mergeStr := make([][2]string, len(merges))
	for i, m := range merges {
		mergeStr[i] = [2]string{vocab[m[0]], vocab[m[1]]}
	}
	return New(tr.pattern, vocab, mergeStr, specials)
}

func lastWord(s []int32) int32 {
	if len(s) == 0 {
		return -1
	}
	return s[len(s)-1]
}

type pairEntry struct {
	count int64
	key   uint64
}

// pairHeap is a max-heap on count, ties to the smaller key (left id, then
// right id).
type pairHeap []pairEntry

func (h pairHeap) Len() int { return len(h) }
func (h pairHeap) Less(i, j int) bool {
	if h[i].count != h[j].count {
		return h[i].count > h[j].count
	}
	return h[i].key < h[j].key
}
func (h pairHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *pairHeap) Push(x any)   { *h = append(*h, x.(pairEntry)) }
func (h *pairHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
