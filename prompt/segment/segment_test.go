package segment_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/lmc-project/lmc/prompt/segment"
)

func texts(src string, ss []segment.Span) []string {
	out := []string{}
	for _, s := range ss {
		out = append(out, s.Text(src))
	}
	return out
}

func TestSentences(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"simple", "One. Two! Three?", []string{"One.", "Two!", "Three?"}},
		{"abbreviations", "Mr. Smith met Dr. Jones. They talked.", []string{"Mr. Smith met Dr. Jones.", "They talked."}},
		{"initials", "J. R. R. Tolkien wrote it. Done.", []string{"J. R. R. Tolkien wrote it.", "Done."}},
		{"lower-case continuation", "It costs approx. ten dollars. Yes.", []string{"It costs approx. ten dollars.", "Yes."}},
		{"quotes", `He said "stop." Then left.`, []string{`He said "stop."`, "Then left."}},
		{"decimal", "Pi is 3.14 roughly. Ok.", []string{"Pi is 3.14 roughly.", "Ok."}},
		{"newlines end lines", "Title\nFirst line.\n\nSecond para", []string{"Title", "First line.", "Second para"}},
		{"hard wrap", "This is a long line of prose that goes on and on without an end mark\ncontinues here.", []string{"This is a long line of prose that goes on and on without an end mark\ncontinues here."}},
		{"ellipsis", "Wait… Go.", []string{"Wait…", "Go."}},
		{"code block whole", "Run this:\n```\nx = 1. y = 2.\n\nz = 3\n```\nDone.", []string{"Run this:", "```\nx = 1. y = 2.\n\nz = 3\n```", "Done."}},
		{"empty", "  \n\n ", []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := texts(tc.in, segment.Sentences(tc.in, nil))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Sentences(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestParagraphs(t *testing.T) {
	in := "a b\nc\n\n  \n\nd e\n```\ncode\n\nmore\n```\nf"
	got := texts(in, segment.Paragraphs(in))
	want := []string{"a b\nc", "d e", "```\ncode\n\nmore\n```", "f"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Paragraphs = %q, want %q", got, want)
	}
}

// Long sentences become clauses: a JSON object becomes one unit per pair,
// never split between a key and its value.
func TestClauses(t *testing.T) {
	var pairs []string
	for i := 0; i < 20; i++ {
		pairs = append(pairs, `"key-`+strings.Repeat("k", 10)+string(rune('a'+i))+`": "value-`+string(rune('a'+i))+`"`)
	}
	in := "{" + strings.Join(pairs, ", ") + "}"
	got := texts(in, segment.Sentences(in, &segment.Options{MaxSentence: 100}))
	if len(got) != 20 {
		t.Fatalf("%d clauses, want 20: %q", len(got), got)
	}
	for i, c := range got {
		if !strings.Contains(c, `": "value-`+string(rune('a'+i))) {
			t.Errorf("clause %d %q lost its pair", i, c)
		}
		if len(c) > 100 {
			t.Errorf("clause %d is %d bytes", i, len(c))
		}
	}
	// no separators at all: cut at spaces
	long := strings.Repeat("word ", 100)
	for _, c := range texts(long, segment.Sentences(long, &segment.Options{MaxSentence: 50})) {
		if len(c) > 50 {
			t.Errorf("piece of %d bytes > 50", len(c))
		}
	}
	// negative: never cut
	if n := len(segment.Sentences(long, &segment.Options{MaxSentence: -1})); n != 1 {
		t.Errorf("MaxSentence -1 gave %d pieces", n)
	}
}

// Spans are ordered, disjoint, trimmed, and cover every non-space byte.
func FuzzSentences(f *testing.F) {
	f.Add("Hello there. How are you?\n\nFine, thanks!")
	f.Add("```go\nx := 1\n```\nDr. No. e.g. this… “quoted.” Yes")
	f.Fuzz(func(t *testing.T, s string) {
		spans := segment.Sentences(s, &segment.Options{MaxSentence: 30})
		covered := make([]bool, len(s))
		last := 0
		for _, sp := range spans {
			if sp.Start < last || sp.End <= sp.Start || sp.End > len(s) {
				t.Fatalf("bad span %v after %d in %q", sp, last, s)
			}
			for i := sp.Start; i < sp.End; i++ {
				covered[i] = true
			}
			last = sp.End
		}
		for i := 0; i < len(s); i++ {
			if !covered[i] && !strings.ContainsRune(" \t\n\r\v\f", rune(s[i])) && s[i] < 0x80 {
				t.Fatalf("byte %d (%q) of %q in no span", i, s[i], s)
			}
		}
	})
}

func TestTerms(t *testing.T) {
	a := segment.AppendTerms(nil, "The Passages of the passage, PASSAGES!", true)
	if len(a) != 3 || a[0] != a[1] || a[1] != a[2] {
		t.Errorf("terms = %v: want three equal terms (case, plural s, stop words)", a)
	}
	if segment.TermOf("glass") == segment.TermOf("glas") {
		t.Error(`"glass" stemmed like "glas": words ending in ss keep their s`)
	}
	if segment.TermOf("bus") == segment.TermOf("bu") {
		t.Error("three-letter words keep their s")
	}
	if n := len(segment.AppendTerms(nil, "this is what it was", true)); n != 0 {
		t.Errorf("%d terms left from stop words", n)
	}
	if got := len(segment.AppendTerms(nil, "Zürich 2024 naïve—café", false)); got != 4 {
		t.Errorf("%d terms, want 4 (unicode letters, digits)", got)
	}
	if !segment.IsStopword("The") || segment.IsStopword("lamp") {
		t.Error("IsStopword")
	}
}

func TestCodeBlocks(t *testing.T) {
	in := "a\n```\nb\n```\nc\n~~~\nd"
	got := texts(in, segment.CodeBlocks(in))
	want := []string{"```\nb\n```", "~~~\nd"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("CodeBlocks = %q, want %q", got, want)
	}
}
