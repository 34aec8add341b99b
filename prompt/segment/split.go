package segment

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Span is the byte range [Start, End) of a unit in the text it came from.
type Span struct {
	Start, End int
}

// Len returns the span's length in bytes.
func (s Span) Len() int { return s.End - s.Start }

// Text returns the span's text in src.
func (s Span) Text(src string) string { return src[s.Start:s.End] }

// Options tune sentence splitting. The zero value means the defaults.
type Options struct {
	// MaxSentence is the longest sentence kept whole, in bytes (default
	// 400); longer ones are cut into clauses. Negative: never cut.
	MaxSentence int
}

func (o *Options) maxSentence() int {
	if o == nil || o.MaxSentence == 0 {
		return 400
	}
	return o.MaxSentence
}

// isFence reports whether the line starting at i opens or closes a fenced
// code block.
func isFence(text string, i int) bool {
	for i < len(text) && (text[i] == ' ') {
		i++
	}
	return strings.HasPrefix(text[i:], "```") || strings.HasPrefix(text[i:], "~~~")
}

// lineEnd returns the offset of the newline ending the line at i, or len.
func lineEnd(text string, i int) int {
	if j := strings.IndexByte(text[i:], '\n'); j >= 0 {
		return i + j
	}
	return len(text)
}

// fenceEnd returns the end of the fenced block whose opening fence line
// starts at i: the end of the closing fence line, or len(text).
func fenceEnd(text string, i int) int {
	j := lineEnd(text, i)
	for j < len(text) {
		k := j + 1
		if isFence(text, k) {
			return lineEnd(text, k)
		}
		j = lineEnd(text, k)
	}
	return len(text)
}

// CodeBlocks returns the spans of the fenced code blocks of text.
func CodeBlocks(text string) []Span {
	var out []Span
	for i := 0; i < len(text); {
		if isFence(text, i) {
			e := fenceEnd(text, i)
			out = append(out, Span{i, e})
			i = e
		}
		j := strings.IndexByte(text[i:], '\n')
		if j < 0 {
			break
		}
		i += j + 1
	}
	return out
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// trim narrows [s, e) to exclude surrounding whitespace (ASCII and
// Unicode); it returns s == e for an all-space span.
func trim(text string, s, e int) (int, int) {
	for s < e {
		if isSpace(text[s]) {
			s++
			continue
		}
		r, n := utf8.DecodeRuneInString(text[s:e])
		if r >= utf8.RuneSelf && unicode.IsSpace(r) {
			s += n
			continue
		}
		break
	}
	for e > s {
		if isSpace(text[e-1]) {
			e--
			continue
		}
		r, n := utf8.DecodeLastRuneInString(text[s:e])
		if r >= utf8.RuneSelf && unicode.IsSpace(r) {
			e -= n
			continue
		}
		break
	}
	return s, e
}

func appendTrimmed(dst []Span, text string, s, e int) []Span {
	s, e = trim(text, s, e)
	if s < e {
		dst = append(dst, Span{s, e})
	}
	return dst
}

// Paragraphs returns the paragraphs of text: runs of lines separated by
// blank lines, each fenced code block being one paragraph.
func Paragraphs(text string) []Span {
	var out []Span
	start := 0
	i := 0
	for i < len(text) {
		// at a line start
		if isFence(text, i) {
			out = appendTrimmed(out, text, start, i)
			e := fenceEnd(text, i)
			out = append(out, Span{i, e})
			start, i = e, e
			if i < len(text) {
				i++
			}
			continue
		}
		e := lineEnd(text, i)
		if e >= len(text) {
			break
		}
		// is the next line blank?
		k := e + 1
		for k < len(text) && (text[k] == ' ' || text[k] == '\t' || text[k] == '\r') {
			k++
		}
		if k < len(text) && text[k] == '\n' {
			out = appendTrimmed(out, text, start, e)
			// skip all blank lines
			for k < len(text) && isSpace(text[k]) {
				k++
			}
			// back up to the start of the line holding k
			ls := strings.LastIndexByte(text[:k], '\n') + 1
			start, i = ls, ls
			continue
		}
		i = e + 1
	}
	return appendTrimmed(out, text, start, len(text))
}

var abbrevs = map[string]bool{
	"mr": true, "mrs": true, "ms": true, "dr": true, "prof": true, "sr": true, "jr": true, "st": true,
	"vs": true, "etc": true, "e.g": true, "i.e": true, "cf": true, "al": true, "no": true, "vol": true,
	"jan": true, "feb": true, "mar": true, "apr": true, "jun": true, "jul": true, "aug": true,
	"sep": true, "sept": true, "oct": true, "nov": true, "dec": true, "gen": true, "col": true,
	"lt": true, "sgt": true, "capt": true, "rev": true, "inc": true, "ltd": true, "co": true,
	"corp": true, "approx": true, "fig": true, "ca": true, "u.s": true, "u.k": true, "mt": true,
}

// wordBefore returns the lower-cased word ending at text[:i] (letters and
// inner dots).
func wordBefore(text string, i int) string {
	j := i
	for j > 0 {
		c := text[j-1]
		if c == '.' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') {
			j--
			continue
		}
		break
	}
	return strings.ToLower(text[j:i])
}

func startsLower(text string, i int) bool {
	if i >= len(text) {
		return false
	}
	r, _ := utf8.DecodeRuneInString(text[i:])
	return unicode.IsLower(r)
}

// Sentences returns the sentences of text (see the package doc for the
// rules), with long ones cut into clauses.
func Sentences(text string, opts *Options) []Span {
	return AppendSentences(nil, text, opts)
}

// AppendSentences appends the sentences of text to dst.
func AppendSentences(dst []Span, text string, opts *Options) []Span {
	max := opts.maxSentence()
	start := 0
	emit := func(s, e int) {
		s, e = trim(text, s, e)
		if s >= e {
			return
		}
		if max > 0 && e-s > max {
			dst = appendClauses(dst, text, s, e, max)
			return
		}
		dst = append(dst, Span{s, e})
	}
	i := 0
	lineStart := true
	for i < len(text) {
		c := text[i]
		if lineStart && (c == '`' || c == '~' || c == ' ') && isFence(text, i) {
			emit(start, i)
			e := fenceEnd(text, i)
			dst = append(dst, Span{i, e})
			start, i = e, e
			lineStart = false
			continue
		}
		lineStart = false
		switch {
		case c == '\n':
			ls := strings.LastIndexByte(text[:i], '\n') + 1
			prev := strings.TrimRight(text[ls:i], " \t\r")
			j := i + 1
			for j < len(text) && (text[j] == ' ' || text[j] == '\t') {
				j++
			}
			wrapped := len(prev) >= 60 && !endsSentence(prev) && startsLower(text, j)
			if !wrapped {
				emit(start, i)
				start = i + 1
			}
			i++
			lineStart = true
			continue
		case c == '.' || c == '!' || c == '?' || (c == 0xE2 && strings.HasPrefix(text[i:], "…")):
			n := 1
			if c == 0xE2 {
				n = len("…")
			}
			j := i + n
			// runs of terminal punctuation and closing quotes/brackets
			for j < len(text) {
				d := text[j]
				if d == '.' || d == '!' || d == '?' || d == '"' || d == '\'' || d == ')' || d == ']' {
					j++
					continue
				}
				if strings.HasPrefix(text[j:], "”") || strings.HasPrefix(text[j:], "’") {
					j += 3
					continue
				}
				break
			}
			if j >= len(text) || !isSpace(text[j]) {
				i = j
				continue
			}
			if c == '.' && j == i+1 {
				w := wordBefore(text, i)
				if abbrevs[w] || (len(w) == 1 && i > 0 && text[i-1] >= 'A' && text[i-1] <= 'Z') {
					i = j
					continue
				}
			}
			k := j
			for k < len(text) && (text[k] == ' ' || text[k] == '\t') {
				k++
			}
			if startsLower(text, k) {
				i = j
				continue
			}
			emit(start, j)
			start = j
			i = j
			continue
		}
		i++
	}
	emit(start, len(text))
	return dst
}

func endsSentence(line string) bool {
	if line == "" {
		return true
	}
	switch line[len(line)-1] {
	case '.', '!', '?', ':', ';', '"', '\'', ')':
		return true
	}
	return strings.HasSuffix(line, "…") || strings.HasSuffix(line, "”")
}

// minClause is the shortest clause cut off a long sentence, in bytes.
const minClause = 24

// appendClauses cuts text[s:e] into clauses after ", " or "; " (each at
// least minClause bytes long), and any clause still longer than max at the
// last space before the limit.
func appendClauses(dst []Span, text string, s, e, max int) []Span {
	start := s
	lastSpace := -1
	for i := s; i < e-1; i++ {
		c := text[i]
		if c == ' ' {
			lastSpace = i
		}
		if (c == ',' || c == ';') && text[i+1] == ' ' && i+1-start >= minClause {
			dst = appendTrimmed(dst, text, start, i+1)
			start = i + 1
			lastSpace = -1
			continue
		}
		if i+1-start >= max && lastSpace > start {
			dst = appendTrimmed(dst, text, start, lastSpace)
			start = lastSpace
			lastSpace = -1
		}
	}
	return appendTrimmed(dst, text, start, e)
}
