package pretok

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// Pattern names a pre-tokenizer regular expression. The zero value is not a
// valid pattern.
type Pattern uint8

// The supported patterns.
const (
	// GPT2 is GPT-2's pattern, also used by RoBERTa, GPT-J, GPT-NeoX and
	// lmc-mini (llama.cpp: tokenizer.ggml.pre = "gpt-2").
	GPT2 Pattern = iota + 1
)

// String returns the pattern's llama.cpp name (tokenizer.ggml.pre).
func (p Pattern) String() string {
	switch p {
	case GPT2:
		return "gpt-2"
	}
	if in := p.info(); in != nil {
		return in.name
	}
	return fmt.Sprintf("pretok.Pattern(%d)", uint8(p))
}

// Regex returns the regular expression the pattern implements, in the
// syntax of Python's regex module and Hugging Face tokenizers.
func (p Pattern) Regex() string {
	switch p {
	case GPT2:
		return `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
	}
	if in := p.info(); in != nil && len(in.regexes) == 1 {
		return in.regexes[0]
	}
	return ""
}

// ByName returns the pattern with the given llama.cpp name, and false when
// there is none.
func ByName(name string) (Pattern, bool) {
	switch name {
	case "gpt-2", "gpt2":
		return GPT2, true
	}
	for p := GPT2 + 1; p <= lastPattern; p++ {
		if patterns[p].name == name {
			return p, true
		}
	}
	if p, ok := aliases[name]; ok {
		return p, true
	}
	return 0, false
}

// AppendEnds appends to dst the end offset (exclusive, in bytes) of each piece
// of text, in order, and returns the extended slice. The first piece starts
// at 0 and each next one where the previous ended; the last end is len(text)
// (nothing is appended for an empty text). It panics on an invalid pattern.
func (p Pattern) AppendEnds(dst []int, text string) []int {
	switch p {
	case GPT2:
		return appendGPT2(dst, text)
	}
	if in := p.info(); in != nil {
		return in.ends(dst, text)
	}
	panic("pretok: invalid pattern " + p.String())
}

// Split returns the pieces of text. It panics on an invalid pattern.
func (p Pattern) Split(text string) []string {
	ends := p.AppendEnds(nil, text)
	out := make([]string, len(ends))
	start := 0
	for i, e := range ends {
		out[i] = text[start:e]
		start = e
	}
	return out
}

// SplitGPT2 returns the pieces of text under GPT-2's pattern; it is
// GPT2.Split(text).
func SplitGPT2(text string) []string { return GPT2.Split(text) }

// class of a rune for the GPT-style patterns.
const (
	clsOther = iota // not space, letter or number (includes invalid UTF-8)
	clsSpace
	clsLetter
	clsNumber
)

// decode returns the rune class and size at text[i:].
func decode(text string, i int) (cls, size int) {
	c := text[i]
	if c < utf8.RuneSelf {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
			return clsLetter, 1
		case '0' <= c && c <= '9':
			return clsNumber, 1
		case c == ' ', c == '\t', c == '\n', c == '\v', c == '\f', c == '\r':
			return clsSpace, 1
		}
		return clsOther, 1
	}
	r, n := utf8.DecodeRuneInString(text[i:])
	if r == utf8.RuneError && n == 1 {
		return clsOther, 1
	}
	return classOf(r), n
}

func classOf(r rune) int {
	switch {
	case unicode.IsLetter(r):
		return clsLetter
	case unicode.IsNumber(r):
		return clsNumber
	case unicode.IsSpace(r):
		return clsSpace
	}
	return clsOther
}

// run returns the end of the run of class cls starting at i (i itself if the
// rune at i is not of that class).
func run(text string, i, cls int) int {
	for i < len(text) {
		c, n := decode(text, i)
		if c != cls {
			break
		}
		i += n
	}
	return i
}

// contraction returns the length of a GPT-2 contraction ('s 't 're 've 'm
// 'll 'd) at the start of s, or 0.
func contraction(s string) int {
	if len(s) < 2 || s[0] != '\'' {
		return 0
	}
	switch s[1] {
	case 's', 't', 'm', 'd':
		return 2
	case 'r':
		if len(s) >= 3 && s[2] == 'e' {
			return 3
		}
	case 'v':
		if len(s) >= 3 && s[2] == 'e' {
			return 3
		}
	case 'l':
		if len(s) >= 3 && s[2] == 'l' {
			return 3
		}
	}
	return 0
}

func appendGPT2(dst []int, text string) []int {
	i := 0
	for i < len(text) {
		// 's|'t|'re|'ve|'m|'ll|'d
		if n := contraction(text[i:]); n > 0 {
			i += n
			dst = append(dst, i)
			continue
		}
		cls, n := decode(text, i)
		// " ?X+" for X in letters, numbers, other: an optional literal space
		// followed by at least one rune of the class.
		start := i
		if text[i] == ' ' && i+1 < len(text) {
			c2, n2 := decode(text, i+1)
			if c2 != clsSpace {
				// the space joins the following letter/number/other run
				i = run(text, i+1+n2, c2)
				dst = append(dst, i)
				continue
			}
		}
		if cls != clsSpace {
			i = run(text, i+n, cls)
			dst = append(dst, i)
			continue
		}
		// \s+(?!\S) | \s+
		end := run(text, i+n, clsSpace)
		if end < len(text) {
			// followed by a non-space: leave the last space rune for the next
			// piece, unless the run is a single rune (then \s+ takes it).
			last := lastRuneStart(text, start, end)
			if last > start {
				end = last
			}
		}
		i = end
		dst = append(dst, i)
	}
	return dst
}

// lastRuneStart returns the offset of the last rune of the all-space (hence
// valid UTF-8) run text[start:end].
func lastRuneStart(text string, start, end int) int {
	_, n := utf8.DecodeLastRuneInString(text[start:end])
	return end - n
}
