package prompt

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/lmc-project/lmc/prompt/segment"
)

// boilerplate are phrases that carry no information for the model; a
// sentence matching one is removed whole.
var boilerplate = []*regexp.Regexp{
	regexp.MustCompile(`(?i)^(i hope (this|that) helps|hope (this|that) helps)\b.*$`),
	regexp.MustCompile(`(?i)^(please )?(let me know|feel free to (ask|reach out|let me know))\b.*$`),
	regexp.MustCompile(`(?i)^as an ai( language model| assistant| model)?\b.*$`),
	regexp.MustCompile(`(?i)^(thank you|thanks)( (so|very) much)?( in advance)?( for (your|the) (help|time|patience|question))?[.!]*$`),
	regexp.MustCompile(`(?i)^(sure|certainly|of course|absolutely|great question|good question)[.!,]*$`),
	regexp.MustCompile(`(?i)^(sure|certainly|of course)[!,.] (here|i)('s| is| am| can| will)\b[^.!?]*[:.!]$`),
	regexp.MustCompile(`(?i)^<!--.*-->$`),
	regexp.MustCompile(`^(-{3,}|\*{3,}|_{3,}|={3,})$`),
}

// fillers are phrases removed from inside sentences (matched without case,
// on a word boundary, followed by whitespace); "in order to" becomes "to".
var fillers = []string{
	"it is important to note that", "it should be noted that", "it is worth noting that", "please note that",
	"needless to say,", "needless to say", "as mentioned above,", "as mentioned above", "as mentioned before,",
	"as mentioned before", "as mentioned earlier,", "as mentioned earlier", "in order to",
}

// findFillers returns the [start, end) of the filler phrases of s, with the
// whitespace after each, in order and without overlaps.
func findFillers(s string) [][]int {
	low := strings.ToLower(s)
	if len(low) != len(s) {
		return nil // case mapping changed lengths: offsets would not match
	}
	var out [][]int
	for _, f := range fillers {
		for i := 0; ; {
			k := strings.Index(low[i:], f)
			if k < 0 {
				break
			}
			a, e := i+k, i+k+len(f)
			i = e
			if a > 0 && isAlnumByte(low[a-1]) || e >= len(low) || !isSpaceByte(low[e]) {
				continue
			}
			for e < len(low) && isSpaceByte(low[e]) && low[e] != '\n' {
				e++
			}
			out = append(out, []int{a, e})
		}
	}
	sort.Slice(out, func(x, y int) bool { return out[x][0] < out[y][0] })
	k := 0
	for _, m := range out {
		if k > 0 && m[0] < out[k-1][1] {
			continue
		}
		out[k] = m
		k++
	}
	return out[:k]
}

// template minimizes a prompt without choosing content: whitespace
// (runs of spaces and tabs inside lines, trailing spaces, more than one
// blank line), sentences repeated verbatim (instructions restated, also
// across messages: the later copy goes), boilerplate sentences and filler
// phrases ("please note that", "in order to" → "to"). Code blocks and
// protected spans are never touched.
func (j *job) template(text string, _ int) (string, error) {
	// hard-protected spans (code, --keep) are swapped for placeholders
	// (private-use runes) while the rest is minimized
	spans := j.prot.spans(text)
	var b strings.Builder
	var saved []string
	last := 0
	for _, s := range spans {
		if !s.kind.hard() {
			continue
		}
		b.WriteString(text[last:s.Start])
		fmt.Fprintf(&b, "\uE000%d\uE001", len(saved))
		saved = append(saved, text[s.Start:s.End])
		last = s.End
	}
	b.WriteString(text[last:])
	out := strings.TrimSpace(j.minimize(b.String()))
	if len(saved) == 0 {
		return out, nil
	}
	return placeholder.ReplaceAllStringFunc(out, func(m string) string {
		k, err := strconv.Atoi(m[len("\uE000") : len(m)-len("\uE001")])
		if err != nil || k >= len(saved) {
			return m
		}
		return saved[k]
	}), nil
}

var placeholder = regexp.MustCompile("\uE000[0-9]+\uE001")

// minimize handles a stretch of text with no code block.
func (j *job) minimize(text string) string {
	// 1. whitespace inside lines
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		l = strings.TrimRight(l, " \t\r\u00a0")
		// keep the indentation, collapse inner runs
		k := len(l) - len(strings.TrimLeft(l, " \t"))
		inner := l[k:]
		if strings.Contains(inner, "  ") || strings.Contains(inner, "\t") || strings.Contains(inner, "\u00a0") {
			inner = strings.Join(strings.FieldsFunc(inner, func(r rune) bool { return r == ' ' || r == '\t' || r == '\u00a0' }), " ")
		}
		lines[i] = l[:k] + inner
	}
	text = strings.Join(lines, "\n")
	for strings.Contains(text, "\n\n\n") {
		text = strings.ReplaceAll(text, "\n\n\n", "\n\n")
	}
	// 2. sentences: repeated, boilerplate; fillers inside
	d := &doc{text: text}
	for p, ps := range segment.Paragraphs(text) {
		for _, s := range segment.Sentences(text[ps.Start:ps.End], &segment.Options{MaxSentence: -1}) {
			d.units = append(d.units, unit{Span: segment.Span{Start: ps.Start + s.Start, End: ps.Start + s.End}, para: p})
		}
	}
	if len(d.units) == 0 {
		return text
	}
	j.mark(d)
	keep := make([]bool, len(d.units))
	for i, u := range d.units {
		s := text[u.Start:u.End]
		keep[i] = true
		if u.forced {
			continue
		}
		norm := strings.Join(strings.Fields(strings.ToLower(s)), " ")
		if len(strings.Fields(norm)) >= 3 {
			h := hashString(norm)
			if j.seen[h] {
				keep[i] = false
				j.remove("repeated sentence", s, j.count(s))
				continue
			}
			j.seen[h] = true
		}
		if len(s) > 200 || !mayBeBoilerplate(s) {
			continue
		}
		for _, re := range boilerplate {
			if re.MatchString(s) {
				keep[i] = false
				j.remove("boilerplate", s, j.count(s))
				break
			}
		}
	}
	// fillers, outside protected spans
	res := d.assemble(keep)
	prot := j.prot.spans(res)
	var b strings.Builder
	last := 0
	for _, m := range findFillers(res) {
		inside := false
		for _, p := range prot {
			if p.Start < m[1] && m[0] < p.End {
				inside = true
				break
			}
		}
		if inside {
			continue
		}
		f := res[m[0]:m[1]]
		j.remove("filler phrase", strings.TrimSpace(f), j.count(f))
		b.WriteString(res[last:m[0]])
		if strings.HasPrefix(strings.ToLower(f), "in order to") {
			b.WriteString(matchCase(f, "to "))
		} else if m[0] == 0 || strings.ContainsAny(res[max(0, m[0]-2):m[0]], ".!?\n") {
			// the filler started a sentence: capitalize what follows
			rest := res[m[1]:]
			if rest != "" && rest[0] >= 'a' && rest[0] <= 'z' {
				b.WriteByte(rest[0] - 'a' + 'A')
				m[1]++
			}
		}
		last = m[1]
	}
	b.WriteString(res[last:])
	return b.String()
}

func matchCase(orig, repl string) string {
	if orig != "" && orig[0] >= 'A' && orig[0] <= 'Z' {
		return strings.ToUpper(repl[:1]) + repl[1:]
	}
	return repl
}

func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return h
}

// boilerStarts are the lower-cased first letters of the boilerplate
// patterns, a cheap filter before the regular expressions.
func mayBeBoilerplate(s string) bool {
	if s == "" {
		return false
	}
	switch c := s[0] | 0x20; c {
	case 'i', 'h', 'p', 'l', 'f', 'a', 't', 's', 'c', 'o', 'g', '<' | 0x20, '-', '*', '_', '=':
		return true
	}
	return s[0] == '<' || s[0] == '-' || s[0] == '*' || s[0] == '_' || s[0] == '='
}
