package pretok_test

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lmc-project/lmc/tokenizer/pretok"
)

func TestGPT2Table(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{name: "empty", in: "", want: []string{}},
		{name: "words", in: "Hello world", want: []string{"Hello", " world"}},
		{name: "leading space", in: " Hello", want: []string{" Hello"}},
		{name: "two spaces", in: "  Hello", want: []string{" ", " Hello"}},
		{name: "four spaces", in: "    Hello", want: []string{"   ", " Hello"}},
		{name: "trailing spaces", in: "Hello   ", want: []string{"Hello", "   "}},
		{name: "only spaces", in: "   ", want: []string{"   "}},
		{name: "newline before word", in: "\nHello", want: []string{"\n", "Hello"}},
		{name: "newlines then word", in: "a\n\n\nb", want: []string{"a", "\n\n", "\n", "b"}},
		{name: "newline space word", in: "a\n b", want: []string{"a", "\n", " b"}},
		{name: "tab word", in: "\tb", want: []string{"\t", "b"}},
		{name: "contractions", in: "I'm don't they're we've I'll he'd it's", want: []string{"I", "'m", " don", "'t", " they", "'re", " we", "'ve", " I", "'ll", " he", "'d", " it", "'s"}},
		{name: "upper contraction", in: "IT'S", want: []string{"IT", "'", "S"}},
		{name: "contraction prefix of word", in: "'sam", want: []string{"'s", "am"}},
		{name: "quote space", in: "' era", want: []string{"'", " era"}},
		{name: "punct run", in: "Hello, world!!!", want: []string{"Hello", ",", " world", "!!!"}},
		{name: "space punct", in: "a (b)", want: []string{"a", " (", "b", ")"}},
		{name: "punct then quote s", in: "!'s", want: []string{"!'", "s"}},
		{name: "numbers", in: "w048 7tuijk", want: []string{"w", "048", " 7", "tuijk"}},
		{name: "long number", in: "333333333", want: []string{"333333333"}},
		{name: "unicode letters", in: "Führer нещо", want: []string{"Führer", " нещо"}},
		{name: "cjk and digits", in: "我想在apple工作1314151天", want: []string{"我想在apple工作", "1314151", "天"}},
		{name: "emoji", in: "this is 🦙.cpp", want: []string{"this", " is", " 🦙.", "cpp"}},
		{name: "nbsp is space", in: "a\u00a0b", want: []string{"a", "\u00a0", "b"}},
		{name: "nbsp then space word", in: "a\u00a0 b", want: []string{"a", "\u00a0", " b"}},
		{name: "invalid utf8", in: "a\xff\xfeb", want: []string{"a", "\xff\xfe", "b"}},
		{name: "space invalid", in: " \xff", want: []string{" \xff"}},
		{name: "lone quote end", in: "x'", want: []string{"x", "'"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := pretok.SplitGPT2(tc.in)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("SplitGPT2(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestGPT2Regex compares with piece boundaries computed by Python's regex
// module (testdata/gen_gpt2.py) on random strings built from tricky parts.
func TestGPT2Regex(t *testing.T) {
	raw, err := os.ReadFile("testdata/gpt2_regex.json")
	if err != nil {
		t.Fatal(err)
	}
	var data struct {
		Pattern string
		Cases   []struct {
			Text string
			Ends []int
		}
	}
	if err := json.Unmarshal(raw, &data); err != nil {
		t.Fatal(err)
	}
	if data.Pattern != pretok.GPT2.Regex() {
		t.Fatalf("testdata pattern %q != %q", data.Pattern, pretok.GPT2.Regex())
	}
	if len(data.Cases) < 1000 {
		t.Fatalf("only %d cases", len(data.Cases))
	}
	for i, c := range data.Cases {
		got := pretok.GPT2.AppendEnds(nil, c.Text)
		if len(got) == 0 && len(c.Ends) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, c.Ends) {
			t.Errorf("case %d %q: ends %v, want %v", i, c.Text, got, c.Ends)
		}
	}
}

func checkCover(t testing.TB, text string, pieces []string) {
	if strings.Join(pieces, "") != text {
		t.Fatalf("pieces %q do not join to %q", pieces, text)
	}
	for _, p := range pieces {
		if p == "" {
			t.Fatalf("empty piece in %q", pieces)
		}
	}
}

func TestAppendEndsAppends(t *testing.T) {
	dst := []int{-7}
	got := pretok.GPT2.AppendEnds(dst, "ab cd")
	if want := []int{-7, 2, 5}; !reflect.DeepEqual(got, want) {
		t.Errorf("AppendEnds = %v, want %v", got, want)
	}
}

func TestPatternNames(t *testing.T) {
	p, ok := pretok.ByName("gpt-2")
	if !ok || p != pretok.GPT2 || p.String() != "gpt-2" {
		t.Errorf("ByName(gpt-2) = %v, %v", p, ok)
	}
	if _, ok := pretok.ByName("no-such"); ok {
		t.Error("ByName(no-such) found a pattern")
	}
	if pretok.Pattern(0).Regex() != "" {
		t.Error("zero Pattern has a regex")
	}
	defer func() {
		if recover() == nil {
			t.Error("Split on the zero Pattern did not panic")
		}
	}()
	pretok.Pattern(0).Split("x")
}

func FuzzGPT2(f *testing.F) {
	for _, s := range []string{"", "Hello world", "  a\n\n b", "I'm 42!", "\xff ' 's", "日本 語\u00a0x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pieces := pretok.SplitGPT2(s)
		checkCover(t, s, pieces)
		// No piece but the last may end in whitespace followed by a piece
		// that starts with a letter, digit or other after a single space
		// it could have taken: spot-check the \s+(?!\S) rule.
		for i := 0; i+1 < len(pieces); i++ {
			p, next := pieces[i], pieces[i+1]
			r, _ := utf8.DecodeLastRuneInString(p)
			if strings.TrimSpace(p) == "" && r == ' ' && len(p) > 1 && !strings.HasPrefix(next, " ") && strings.TrimSpace(next[:1]) != "" {
				t.Fatalf("space run %q keeps its last space before %q", p, next)
			}
		}
	})
}

func BenchmarkGPT2(b *testing.B) {
	text := strings.Repeat("It was the best of times, it was the worst of times; I'm 42 — café 日本語!\n\n", 200)
	b.SetBytes(int64(len(text)))
	var ends []int
	for b.Loop() {
		ends = pretok.GPT2.AppendEnds(ends[:0], text)
	}
}
