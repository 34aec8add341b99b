package segment

import (
	"unicode"
	"unicode/utf8"
)

// Term is the 64-bit FNV-1a hash of a lower-cased word: lexical scorers
// compare terms, never strings, so splitting allocates nothing per word.
type Term uint64

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// TermOf returns the term of a single word (lower-cased, plural "s"
// stripped as [AppendTerms] does).
func TermOf(word string) Term {
	ts := AppendTerms(nil, word, false)
	if len(ts) == 0 {
		return 0
	}
	return ts[0]
}

// AppendTerms appends the terms of text to dst: maximal runs of letters and
// digits, lower-cased, with a final "s" dropped from words of four or more
// letters that do not end in "ss" (a light stemmer: "passages" matches
// "passage"). With dropStop, English stop words ("the", "of", "is" …) are
// skipped.
func AppendTerms(dst []Term, text string, dropStop bool) []Term {
	i := 0
	for i < len(text) {
		c := text[i]
		if c < utf8.RuneSelf && !isAlnumASCII(c) {
			i++
			continue
		}
		h := uint64(fnvOffset)
		var prev, last byte // last two lower-cased ASCII bytes
		n := 0              // runes
		var hs uint64       // hash before the last byte
		start := i
		for i < len(text) {
			c = text[i]
			if c < utf8.RuneSelf {
				if !isAlnumASCII(c) {
					break
				}
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				hs = h
				h = (h ^ uint64(c)) * fnvPrime
				prev, last = last, c
				n++
				i++
				continue
			}
			r, size := utf8.DecodeRuneInString(text[i:])
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				break
			}
			r = unicode.ToLower(r)
			var buf [4]byte
			m := utf8.EncodeRune(buf[:], r)
			hs = h
			for k := 0; k < m; k++ {
				h = (h ^ uint64(buf[k])) * fnvPrime
			}
			prev, last = last, 0
			n++
			i += size
		}
		if n == 0 {
			// an unknown non-ASCII symbol: skip it
			_, size := utf8.DecodeRuneInString(text[i:])
			i += size
			continue
		}
		if dropStop && i-start <= 10 && stopwords[Term(h)] {
			continue
		}
		if last == 's' && prev != 's' && n >= 4 {
			h = hs
		}
		dst = append(dst, Term(h))
	}
	return dst
}

func isAlnumASCII(c byte) bool {
	return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

// stopwordList is a short English stop word list (function words only).
var stopwordList = []string{
	"a", "an", "the", "and", "or", "but", "if", "of", "at", "by", "for", "with", "about", "to", "from",
	"in", "on", "into", "onto", "over", "under", "as", "is", "are", "was", "were", "be", "been", "being",
	"am", "do", "does", "did", "have", "has", "had", "it", "its", "this", "that", "these", "those",
	"there", "their", "they", "them", "he", "she", "his", "her", "him", "we", "us", "our", "you", "your",
	"i", "me", "my", "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "not", "no",
	"so", "than", "then", "too", "very", "can", "could", "will", "would", "shall", "should", "may",
	"might", "must", "s", "t", "also", "just", "all", "any", "some", "such", "only", "own", "same",
	"other", "up", "down", "out", "off", "again", "once", "here", "both", "each", "few", "more", "most",
	"nor", "while", "during", "before", "after", "above", "below", "between", "through", "until",
	"against", "because", "further", "per", "via", "get", "got",
}

var stopwords = func() map[Term]bool {
	m := make(map[Term]bool, len(stopwordList))
	for _, w := range stopwordList {
		h := uint64(fnvOffset)
		for k := 0; k < len(w); k++ {
			h = (h ^ uint64(w[k])) * fnvPrime
		}
		m[Term(h)] = true
	}
	return m
}()

// IsStopword reports whether the lower-cased word is one of the stop words
// [AppendTerms] drops.
func IsStopword(word string) bool {
	h := uint64(fnvOffset)
	for k := 0; k < len(word); k++ {
		c := word[k]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		h = (h ^ uint64(c)) * fnvPrime
	}
	return stopwords[Term(h)]
}

// Words returns the spans of the whitespace-separated words of text.
func Words(text string) []Span {
	var out []Span
	i := 0
	for i < len(text) {
		for i < len(text) && isSpace(text[i]) {
			i++
		}
		if i >= len(text) {
			break
		}
		s := i
		for i < len(text) && !isSpace(text[i]) {
			i++
		}
		out = append(out, Span{s, i})
	}
	return out
}
