package pretok_test

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/lmc-project/lmc/tokenizer/pretok"
)

// TestMoreRegex compares Llama3, Qwen2 and GPT4o with piece boundaries that
// Python's regex module computes (testdata/gen_more.py).
func TestMoreRegex(t *testing.T) {
	raw, err := os.ReadFile("testdata/more_regex.json")
	if err != nil {
		t.Fatal(err)
	}
	var data struct {
		Patterns map[string]struct {
			Pattern string
			Cases   []struct {
				Text string
				Ends []int
			}
		}
	}
	if err := json.Unmarshal(raw, &data); err != nil {
		t.Fatal(err)
	}
	if len(data.Patterns) != 3 {
		t.Fatalf("%d patterns in testdata, want 3", len(data.Patterns))
	}
	for name, pd := range data.Patterns {
		t.Run(name, func(t *testing.T) {
			p, ok := pretok.ByName(name)
			if !ok {
				t.Fatalf("ByName(%q) failed", name)
			}
			if pd.Pattern != p.Regex() {
				t.Fatalf("testdata pattern %q != %q", pd.Pattern, p.Regex())
			}
			if q, ok := pretok.ByRegex(pd.Pattern); !ok || q != p {
				t.Fatalf("ByRegex = %v, %v", q, ok)
			}
			if len(pd.Cases) < 1000 {
				t.Fatalf("only %d cases", len(pd.Cases))
			}
			bad := 0
			for i, c := range pd.Cases {
				got := p.AppendEnds(nil, c.Text)
				if len(got) == 0 && len(c.Ends) == 0 {
					continue
				}
				if !reflect.DeepEqual(got, c.Ends) {
					t.Errorf("case %d %q: ends %v, want %v (%q)", i, c.Text, got, c.Ends, p.Split(c.Text))
					if bad++; bad > 10 {
						t.FailNow()
					}
				}
			}
		})
	}
}

func TestMorePatternsTable(t *testing.T) {
	tests := []struct {
		p    pretok.Pattern
		in   string
		want []string
	}{
		{pretok.Llama3, "Hello, y'all! I'M 12345 \n\n  x", []string{"Hello", ",", " y", "'all", "!", " I", "'M", " ", "123", "45", " \n\n", " ", " x"}},
		{pretok.Llama3, "\tfoo (bar)", []string{"\tfoo", " (", "bar", ")"}},
		{pretok.Qwen2, "abc 2024!\r\n", []string{"abc", " ", "2", "0", "2", "4", "!\r\n"}},
		{pretok.GPT4o, "HelloWORLD isn't camelCase", []string{"Hello", "WORLD", " isn't", " camel", "Case"}},
		{pretok.GPT4o, "WORLDwide", []string{"WORLDwide"}},
		{pretok.GPT4o, "a/b//\n", []string{"a", "/b", "//\n"}},
		{pretok.Falcon, "x:=1234;y", []string{"x", ":=", "123", "4", ";", "y"}},
		{pretok.StarCoder, "abc 123", []string{"abc", " ", "1", "2", "3"}},
		{pretok.Default, "abc 12345", []string{"abc", " ", "123", "45"}},
		{pretok.DeepSeekCoder, "x = 42\n我们", []string{"x", " = ", "4", "2", "\n", "我们"}}, // '=' is Sm, not P
		{pretok.DeepSeekCoder, "f(a);", []string{"f", "(", "a", ");"}},
		{pretok.DeepSeekLLM, "Hi, 世界 99 \n", []string{"Hi", ",", " ", "世界", " ", "99", " ", "\n"}},
		{pretok.DeepSeekLLM, "ab  ", []string{"ab", "  "}},
	}
	for _, tc := range tests {
		got := tc.p.Split(tc.in)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%v.Split(%q) = %q, want %q", tc.p, tc.in, got, tc.want)
		}
	}
}

func TestMorePatternNames(t *testing.T) {
	for _, p := range []pretok.Pattern{pretok.GPT2, pretok.Llama3, pretok.Qwen2, pretok.GPT4o, pretok.Falcon,
		pretok.StarCoder, pretok.DeepSeekLLM, pretok.DeepSeekCoder, pretok.Default} {
		q, ok := pretok.ByName(p.String())
		if !ok || q != p {
			t.Errorf("ByName(%q) = %v, %v", p.String(), q, ok)
		}
		if len(p.Regexes()) == 0 {
			t.Errorf("%v has no regexes", p)
		}
	}
	for name, want := range map[string]pretok.Pattern{"refact": pretok.StarCoder, "mpt": pretok.GPT2,
		"deepseek-r1-qwen": pretok.Qwen2, "llama3": pretok.Llama3, "cl100k_base": pretok.Llama3} {
		if p, ok := pretok.ByName(name); !ok || p != want {
			t.Errorf("ByName(%q) = %v, %v, want %v", name, p, ok, want)
		}
	}
	if len(pretok.Falcon.Regexes()) != 3 || pretok.Falcon.Regex() != "" {
		t.Errorf("Falcon regexes %q, regex %q", pretok.Falcon.Regexes(), pretok.Falcon.Regex())
	}
	if _, ok := pretok.ByRegex(`\w+`); ok {
		t.Error("ByRegex(\\w+) found a pattern")
	}
}

func FuzzMorePatterns(f *testing.F) {
	for _, s := range []string{"", "Hello world", "  a\n\n b", "I'M 42!", "\xff ' 's", "日本 語\u00a0x", "ÀB\u0301c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range []pretok.Pattern{pretok.Llama3, pretok.Qwen2, pretok.GPT4o, pretok.Falcon,
			pretok.StarCoder, pretok.DeepSeekLLM, pretok.DeepSeekCoder, pretok.Default} {
			pieces := p.Split(s)
			checkCover(t, s, pieces)
		}
	})
}

func BenchmarkLlama3(b *testing.B) {
	text := strings.Repeat("It was the best of times, it was the worst of times; I'm 42 — café 日本語!\n\n", 200)
	b.SetBytes(int64(len(text)))
	var ends []int
	for b.Loop() {
		ends = pretok.Llama3.AppendEnds(ends[:0], text)
	}
}
