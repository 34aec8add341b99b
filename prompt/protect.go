package prompt

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lmc-project/lmc/prompt/segment"
)

// Protect is a set of kinds of spans that compression never removes.
type Protect uint8

// Kinds of protected spans. User strings and regular expressions
// ([Options.Keep], [Options.KeepRegexp]) and the question are always
// protected.
const (
	// ProtectCode: fenced code blocks (``` or ~~~ lines) and inline `code`.
	ProtectCode Protect = 1 << iota
	// ProtectNumbers: runs of digits with inner separators ("1,024",
	// "3.14", "2024-05-01", "10:30", "50%").
	ProtectNumbers
	// ProtectEntities: named entities by a capitalized-phrase heuristic: a
	// run of capitalized words (first letter upper case), joined by "of",
	// "the", "de", "von", "van", "and" or "&" inside the run, and all-caps
	// acronyms of two or more letters. A single capitalized word at the
	// start of a sentence is not an entity unless it is an acronym, and a
	// sentence's first word is left out of a phrase when it is a stop word
	// or a common sentence opener ("The", "Yesterday", "However" …).
	ProtectEntities

	// DefaultProtect is what [Options.Protect]'s zero value means.
	DefaultProtect = ProtectCode | ProtectNumbers | ProtectEntities
)

// ParseProtect parses a comma-separated list of "code", "numbers",
// "entities", "all" or "none".
func ParseProtect(s string) (Protect, error) {
	var p Protect
	none := false
	for _, f := range strings.Split(s, ",") {
		switch strings.TrimSpace(strings.ToLower(f)) {
		case "code":
			p |= ProtectCode
		case "numbers", "number":
			p |= ProtectNumbers
		case "entities", "entity":
			p |= ProtectEntities
		case "all":
			p |= DefaultProtect
		case "none":
			none = true
		case "":
		default:
			return 0, fmt.Errorf("protect %q: want code, numbers, entities, all or none", f)
		}
	}
	if none && p != 0 {
		return 0, fmt.Errorf("protect %q: none with other kinds", s)
	}
	return p, nil
}

// spanKind says why a span is protected.
type spanKind uint8

const (
	kindCode spanKind = iota
	kindNumber
	kindEntity
	kindKeep
)

func (k spanKind) String() string {
	return [...]string{"code", "number", "entity", "keep"}[k]
}

// hard reports whether a unit holding a span of this kind is never dropped
// by unit selection (see the package doc).
func (k spanKind) hard() bool { return k == kindCode || k == kindKeep }

type protSpan struct {
	segment.Span
	kind spanKind
}

// protector finds the protected spans of a text.
type protector struct {
	kinds  Protect
	strict bool
	keep   []string
	keepRe []*regexp.Regexp
	cache  map[string][]protSpan
}

var (
	inlineCode = regexp.MustCompile("`[^`\n]+`")
)

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// appendNumbers appends the spans of the numbers of text: what the regular
// expression [-+]?(\d[\d,.:/-]*\d|\d)(%|st|nd|rd|th)? matches.
func appendNumbers(dst []segment.Span, text string) []segment.Span {
	for i := 0; i < len(text); {
		if !isDigit(text[i]) {
			i++
			continue
		}
		start := i
		if start > 0 && (text[start-1] == '-' || text[start-1] == '+') {
			start--
		}
		end := i + 1
		for j := i + 1; j < len(text); j++ {
			c := text[j]
			if isDigit(c) {
				end = j + 1
				continue
			}
			if c == ',' || c == '.' || c == ':' || c == '/' || c == '-' {
				continue
			}
			break
		}
		switch {
		case end < len(text) && text[end] == '%':
			end++
		case end+1 < len(text) && (text[end:end+2] == "st" || text[end:end+2] == "nd" || text[end:end+2] == "rd" || text[end:end+2] == "th"):
			end += 2
		}
		dst = append(dst, segment.Span{Start: start, End: end})
		i = end
	}
	return dst
}

// spans returns the protected spans of text, sorted by start, merged where
// they overlap (the merged span takes the hardest kind). Results are
// cached per text.
func (p *protector) spans(text string) []protSpan {
	if s, ok := p.cache[text]; ok {
		return s
	}
	s := p.find(text)
	if p.cache == nil {
		p.cache = map[string][]protSpan{}
	}
	if len(p.cache) > 64 {
		clear(p.cache)
	}
	p.cache[text] = s
	return s
}

func (p *protector) find(text string) []protSpan {
	var out []protSpan
	if p.kinds&ProtectCode != 0 {
		for _, s := range segment.CodeBlocks(text) {
			out = append(out, protSpan{s, kindCode})
		}
		if strings.IndexByte(text, '`') >= 0 {
			for _, m := range inlineCode.FindAllStringIndex(text, -1) {
				out = append(out, protSpan{segment.Span{Start: m[0], End: m[1]}, kindCode})
			}
		}
	}
	if p.kinds&ProtectNumbers != 0 {
		for _, m := range appendNumbers(nil, text) {
			out = append(out, protSpan{m, kindNumber})
		}
	}
	if p.kinds&ProtectEntities != 0 {
		out = appendEntities(out, text)
	}
	for _, k := range p.keep {
		if k == "" {
			continue
		}
		for i := 0; ; {
			j := strings.Index(text[i:], k)
			if j < 0 {
				break
			}
			out = append(out, protSpan{segment.Span{Start: i + j, End: i + j + len(k)}, kindKeep})
			i += j + len(k)
		}
	}
	for _, re := range p.keepRe {
		for _, m := range re.FindAllStringIndex(text, -1) {
			if m[1] > m[0] {
				out = append(out, protSpan{segment.Span{Start: m[0], End: m[1]}, kindKeep})
			}
		}
	}
	if len(out) < 2 {
		return out
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Start < out[b].Start })
	merged := out[:1]
	for _, s := range out[1:] {
		last := &merged[len(merged)-1]
		if s.Start < last.End {
			if s.End > last.End {
				last.End = s.End
			}
			if s.kind.hard() && !last.kind.hard() || s.kind == kindCode {
				last.kind = s.kind
			}
			continue
		}
		merged = append(merged, s)
	}
	return merged
}

var entityJoiners = map[string]bool{"of": true, "the": true, "de": true, "von": true, "van": true, "and": true, "&": true, "la": true, "du": true, "der": true}

func isCapWord(w string) bool {
	r, n := utf8.DecodeRuneInString(w)
	if !unicode.IsUpper(r) {
		return false
	}
	if n == len(w) {
		return false // a lone capital letter ("A", "I")
	}
	return true
}

func isAcronym(w string) bool {
	n := 0
	for _, r := range w {
		if !unicode.IsUpper(r) && !unicode.IsDigit(r) {
			return false
		}
		if unicode.IsUpper(r) {
			n++
		}
	}
	return n >= 2
}

// appendEntities appends the capitalized-phrase entities of text. It
// scans the words once, keeping only the phrase being built.
func appendEntities(out []protSpan, text string) []protSpan {
	var (
		open         bool
		ps, pe       int  // phrase span
		count        int  // capitalized words in it
		firstInitial bool // its first word starts a sentence
		firstAcr     bool
		joiner       bool // a joiner word follows the phrase
	)
	closePhrase := func() {
		if open && (count > 1 || firstAcr || !firstInitial) {
			out = append(out, protSpan{segment.Span{Start: ps, End: pe}, kindEntity})
		}
		open, joiner = false, false
	}
	sentenceStart := true
	i := 0
	for i < len(text) {
		for i < len(text) && isSpaceByte(text[i]) {
			i++
		}
		if i >= len(text) {
			break
		}
		ws := i
		for i < len(text) && !isSpaceByte(text[i]) {
			i++
		}
		we := i
		initial := sentenceStart
		last := text[we-1]
		sentenceStart = last == '.' || last == '!' || last == '?' || last == ':' || (we < len(text) && text[we] == '\n') || (we+1 < len(text) && text[we+1] == '\n')
		// strip surrounding punctuation
		s, e := ws, we
		for s < e {
			c := text[s]
			if c < utf8.RuneSelf {
				if isAlnumByte(c) {
					break
				}
				s++
				continue
			}
			r, n := utf8.DecodeRuneInString(text[s:e])
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				break
			}
			s += n
		}
		for e > s {
			c := text[e-1]
			if c < utf8.RuneSelf {
				if isAlnumByte(c) {
					break
				}
				e--
				continue
			}
			r, n := utf8.DecodeLastRuneInString(text[s:e])
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				break
			}
			e -= n
		}
		if s >= e {
			closePhrase()
			continue
		}
		word := text[s:e]
		capw, acr := isCapWord(word), isAcronym(word)
		if initial {
			closePhrase()
		}
		switch {
		case capw || acr:
			if open && !initial {
				pe = e
				count++
				joiner = false
				continue
			}
			closePhrase()
			if initial && !acr && isStarter(word) {
				continue
			}
			open, ps, pe, count, firstInitial, firstAcr, joiner = true, s, e, 1, initial, acr, false
		case open && !joiner && entityJoiners[strings.ToLower(word)]:
			joiner = true
		default:
			closePhrase()
		}
		// punctuation after a word ends the phrase ("Paris, France")
		if open && e < we && text[e] != '\'' {
			closePhrase()
		}
	}
	closePhrase()
	return out
}

func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func isAlnumByte(c byte) bool {
	return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

// Entities returns the named entities the capitalized-phrase heuristic of
// [ProtectEntities] finds in text.
func Entities(text string) []string {
	var out []string
	for _, s := range appendEntities(nil, text) {
		out = append(out, text[s.Start:s.End])
	}
	return out
}

// starters are capitalized words that often start a sentence without
// being a name.
var starters = map[string]bool{
	"yesterday": true, "today": true, "tomorrow": true, "however": true, "meanwhile": true, "later": true,
	"finally": true, "first": true, "second": true, "third": true, "next": true, "last": true, "also": true,
	"although": true, "though": true, "since": true, "unlike": true, "like": true, "many": true, "several": true,
	"every": true, "according": true, "in": true, "on": true, "at": true, "as": true, "after": true, "before": true,
	"during": true, "while": true, "if": true, "when": true, "where": true, "please": true, "note": true,
}

func isStarter(w string) bool {
	l := strings.ToLower(w)
	return starters[l] || segment.IsStopword(l)
}
