package tokenizer_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/lmc-project/lmc/internal/shared"
	"github.com/lmc-project/lmc/tokenizer"
)

func mustNew(t testing.TB, v *tokenizer.Vocab) *tokenizer.Tokenizer {
	t.Helper()
	tk, err := tokenizer.New(v)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// tok512Sources returns tokenizers for the tok512 vocabulary read from each
// of the files that carry it.
func tok512Sources(t *testing.T) map[string]*tokenizer.Tokenizer {
	out := map[string]*tokenizer.Tokenizer{}
	v, err := tokenizer.ReadSentencePiece(shared.Path(t, "models/stories260K/tok512.model"))
	if err != nil {
		t.Fatal(err)
	}
	out["tok512.model"] = mustNew(t, v)
	v, err = tokenizer.ReadLlama2cTok(shared.Path(t, "models/stories260K/tok512.bin"))
	if err != nil {
		t.Fatal(err)
	}
	out["tok512.bin"] = mustNew(t, v)
	tk, err := ggufTokenizer(t, shared.Path(t, "models/books5M/books5M-f32.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	out["books5M-f32.gguf"] = tk
	return out
}

// TestTok512Fixtures checks the ids (with BOS) and greedy continuations of
// books5M's PyTorch fixtures, which llama.cpp reproduces.
func TestTok512Fixtures(t *testing.T) {
	raw, err := os.ReadFile(shared.Path(t, "models/books5M/fixtures/fixtures.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fx struct {
		Prompts []struct {
			Prompt     string
			IDs        []int
			GreedyIDs  []int  `json:"greedy_ids"`
			GreedyText string `json:"greedy_text"`
		}
	}
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
	if len(fx.Prompts) != 3 || !reflect.DeepEqual(fx.Prompts[0].IDs, []int{1, 403, 407, 261, 378}) {
		t.Fatalf("unexpected fixtures: %+v", fx.Prompts)
	}
	for name, tk := range tok512Sources(t) {
		if tk.BOS() != 1 || tk.EOS() != 2 || !tk.AddsBOS() || tk.VocabSize() != 512 {
			t.Errorf("%s: BOS %d EOS %d adds BOS %v size %d", name, tk.BOS(), tk.EOS(), tk.AddsBOS(), tk.VocabSize())
		}
		for _, p := range fx.Prompts {
			if got := tk.Encode(p.Prompt, true); !reflect.DeepEqual(got, p.IDs) {
				t.Errorf("%s: Encode(%q) = %v, want %v", name, p.Prompt, got, p.IDs)
			}
			if got := tk.Decode(p.IDs); got != p.Prompt {
				t.Errorf("%s: Decode(%v) = %q, want %q", name, p.IDs, got, p.Prompt)
			}
			// greedy_text is the prompt and its continuation.
			if got := tk.Decode(append(p.IDs, p.GreedyIDs...)); got != p.GreedyText || !strings.HasPrefix(got, p.Prompt) {
				t.Errorf("%s: Decode(prompt+greedy) = %q, want %q", name, got, p.GreedyText)
			}
		}
	}
}

// TestPG98Tok512 tokenizes A Tale of Two Cities: llama.cpp gives 431,017
// tokens with BOS (books5M's README).
func TestPG98Tok512(t *testing.T) {
	text, err := os.ReadFile(shared.Path(t, "text/gutenberg/pg98.txt"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := tokenizer.ReadSentencePiece(shared.Path(t, "models/stories260K/tok512.model"))
	if err != nil {
		t.Fatal(err)
	}
	tk := mustNew(t, v)
	start := time.Now()
	ids := tk.Encode(string(text), true)
	el := time.Since(start)
	if len(ids) != 431017 {
		t.Fatalf("pg98.txt: %d tokens, want 431017", len(ids))
	}
	if got := tk.Decode(ids); got != string(text) {
		t.Errorf("pg98.txt does not decode to itself")
	}
	t.Logf("pg98.txt: %d bytes, %d tokens in %v (%.1f MB/s)", len(text), len(ids), el, float64(len(text))/el.Seconds()/1e6)
	if el > 5*time.Second {
		t.Errorf("tokenizing pg98.txt took %v", el)
	}
}

// tinySPM is a SentencePiece vocabulary with byte fallback, merges whose
// scores decide the order, a user-defined and a control token.
func tinySPM() *tokenizer.Vocab {
	v := tokenizer.NewVocab(tokenizer.ModelLlama)
	add := func(s string, score float32, ty tokenizer.TokenType) {
		v.Tokens = append(v.Tokens, s)
		v.Scores = append(v.Scores, score)
		v.Types = append(v.Types, ty)
	}
	add("<unk>", 0, tokenizer.TypeUnknown)       // 0
	add("<s>", 0, tokenizer.TypeControl)         // 1
	add("</s>", 0, tokenizer.TypeControl)        // 2
	add("<0x0A>", 0, tokenizer.TypeByte)         // 3
	add("<0xC3>", 0, tokenizer.TypeByte)         // 4
	add("<0xA9>", 0, tokenizer.TypeByte)         // 5
	add("▁", -1, tokenizer.TypeNormal)           // 6
	add("a", -2, tokenizer.TypeNormal)           // 7
	add("b", -2, tokenizer.TypeNormal)           // 8
	add("ab", -3, tokenizer.TypeNormal)          // 9
	add("▁a", -1.5, tokenizer.TypeNormal)        // 10
	add("▁ab", -4, tokenizer.TypeNormal)         // 11
	add("bb", -0.5, tokenizer.TypeNormal)        // 12
	add("<sep>", 0, tokenizer.TypeUserDefined)   // 13
	add("c", -2, tokenizer.TypeNormal)           // 14
	add("▁▁", -1, tokenizer.TypeNormal)          // 15
	add("<|special|>", 0, tokenizer.TypeControl) // 16
	v.UNK, v.BOS, v.EOS = 0, 1, 2
	v.AddSpacePrefix = true
	return v
}

func TestSPMTable(t *testing.T) {
	tk := mustNew(t, tinySPM())
	tests := []struct {
		name    string
		in      string
		special bool // parse special tokens
		want    []int
	}{
		{"empty", "", false, nil},
		{"space prefix", "a", false, []int{10}},
		{"score order", "ab", false, []int{11}},            // ▁a (-1.5) before ab (-3), then ▁ab
		{"bb first", "abb", false, []int{10, 12}},          // bb (-0.5) beats ▁a
		{"two words", "a ab", false, []int{10, 11}},        // "▁a▁ab"
		{"spaces", "  a", false, []int{15, 10}},            // "▁▁▁a": ▁▁ then ▁a (leftmost on tie)
		{"byte fallback", "é\n", false, []int{6, 4, 5, 3}}, // ▁, <0xC3><0xA9>, <0x0A>
		{"unk", "z", false, []int{6, 0}},                   // no byte token for 'z': UNK
		{"user-defined always", "a<sep>b", false, []int{10, 13, 6, 8}},
		{"control as text", "<s>a", false, []int{6, 0, 0, 0, 7}},
		{"control parsed", "<s>a", true, []int{1, 10}},
		{"longest special first", "<|special|>", true, []int{16}},
		{"special then text", "a<|special|>c", true, []int{10, 16, 6, 14}},
	}
	for _, tc := range tests {
		got := tk.Tokenize(tc.in, false, tc.special)
		if len(got) == 0 && len(tc.want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: Tokenize(%q, special=%v) = %v, want %v", tc.name, tc.in, tc.special, got, tc.want)
		}
	}
	if got := tk.Encode("a", true); !reflect.DeepEqual(got, []int{1, 10}) {
		t.Errorf("Encode with BOS = %v", got)
	}
	if got := tk.Encode("", true); !reflect.DeepEqual(got, []int{1}) {
		t.Errorf("Encode(\"\", true) = %v, want [1]", got)
	}
	if got := tk.EncodeWithSpecial("<s>a"); !reflect.DeepEqual(got, []int{1, 10}) {
		t.Errorf("EncodeWithSpecial = %v", got)
	}
}

func TestSPMDecode(t *testing.T) {
	tk := mustNew(t, tinySPM())
	tests := []struct {
		ids  []int
		want string
	}{
		{[]int{1, 10, 8}, "ab"},           // BOS, leading space stripped
		{[]int{10, 8}, "ab"},              // no BOS: stripped too
		{[]int{1, 6, 4, 5, 3}, "é\n"},     // bytes join into one character
		{[]int{10, 13, 6, 8}, "a<sep> b"}, // user-defined tokens render
		{[]int{10, 16, 2, 99, -1}, "a"},   // control and out-of-range ids skipped
		{[]int{4}, "\xc3"},                // an incomplete character is kept as is
	}
	for _, tc := range tests {
		if got := tk.Decode(tc.ids); got != tc.want {
			t.Errorf("Decode(%v) = %q, want %q", tc.ids, got, tc.want)
		}
	}
	// llama.cpp's detokenize: the space is kept after a removed BOS.
	for _, tc := range []struct {
		ids             []int
		remove, unparse bool
		want            string
	}{
		{[]int{1, 10, 8}, false, false, " ab"},
		{[]int{1, 10, 8}, true, false, " ab"},
		{[]int{10, 8}, true, false, "ab"},
		{[]int{1, 10, 8, 2}, false, true, "<s> ab</s>"},
		{[]int{1, 10, 8, 2}, true, true, " ab</s>"}, // AddEOS is false: EOS stays
	} {
		if got := tk.Detokenize(tc.ids, tc.remove, tc.unparse); got != tc.want {
			t.Errorf("Detokenize(%v, %v, %v) = %q, want %q", tc.ids, tc.remove, tc.unparse, got, tc.want)
		}
	}
	if tk.Piece(6) != " " || tk.Piece(4) != "\xc3" || tk.Piece(1) != "<s>" || tk.TokenText(10) != "▁a" || tk.Piece(99) != "" {
		t.Errorf("Piece/TokenText: %q %q %q %q", tk.Piece(6), tk.Piece(4), tk.Piece(1), tk.TokenText(10))
	}
	if tk.TokenID("▁ab") != 11 || tk.TokenID("zz") != -1 {
		t.Error("TokenID")
	}
}

// tinyBPE is a byte-level BPE vocabulary over "a", "b", " " and "\n".
func tinyBPE() *tokenizer.Vocab {
	v := tokenizer.NewVocab(tokenizer.ModelGPT2)
	v.Pre = tokenizer.PreGPT2
	for _, s := range []string{"a", "b", "Ġ", "Ċ", "ab", "Ġa", "Ġab", "aa", "aaa", "<|endoftext|>", "  "} {
		v.Tokens = append(v.Tokens, s)
		v.Types = append(v.Types, tokenizer.TypeNormal)
	}
	v.Types[9] = tokenizer.TypeControl
	v.Types[10] = tokenizer.TypeUserDefined
	v.Merges = []string{"a b", "Ġ a", "Ġa b", "a a", "aa a"}
	v.BOS, v.EOS = 9, 9
	return v
}

func TestBPETable(t *testing.T) {
	tk := mustNew(t, tinyBPE())
	tests := []struct {
		in   string
		want []int
	}{
		{"ab", []int{4}},
		{" ab", []int{2, 4}}, // "a b" (rank 0) before "Ġ a" (rank 1); then no "Ġ ab"
		{" a", []int{5}},
		{"aaaa", []int{7, 7}}, // a a (rank 3) at 0, then a a again before aa a (rank 4)
		{"aaa", []int{8}},     // a a, then aa a
		{"aab", []int{0, 4}},  // (a,b) rank 0 before (a,a) rank 3; then (a,ab) does not merge
		{"a\nb", []int{0, 3, 1}},
		{"a  b", []int{0, 10, 1}}, // user-defined "  " is split off first
		{"<|endoftext|>", nil},    // not special: its characters are not in the vocabulary
	}
	for _, tc := range tests {
		got := tk.Encode(tc.in, false)
		if len(got) == 0 && len(tc.want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Encode(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
	if got := tk.EncodeWithSpecial("ab<|endoftext|>"); !reflect.DeepEqual(got, []int{4, 9}) {
		t.Errorf("EncodeWithSpecial = %v", got)
	}
	if tk.AddsBOS() {
		t.Error("gpt-2 adds BOS")
	}
	if got := tk.Decode([]int{6, 3, 9, 10}); got != " ab\n  " {
		t.Errorf("Decode = %q", got)
	}
	if got := tk.Detokenize([]int{6, 9}, false, true); got != " ab<|endoftext|>" {
		t.Errorf("Detokenize = %q", got)
	}
}

func TestBPEUnsupportedPre(t *testing.T) {
	v := tinyBPE()
	v.Pre = "no-such-pre"
	if _, err := tokenizer.New(v); err == nil || !strings.Contains(err.Error(), "no-such-pre") {
		t.Errorf("New with an unknown pre-tokenizer: %v", err)
	}
	v = tinyBPE()
	v.AddBOS, v.AddBOSSet, v.BOS = true, true, -1
	if _, err := tokenizer.New(v); err == nil {
		t.Error("New accepted add_bos without a BOS token")
	}
	v = tinyBPE()
	v.Model = "bert"
	if _, err := tokenizer.New(v); err == nil {
		t.Error("New accepted model bert")
	}
}

// TestInvalidUTF8 checks that byte-level BPE replaces bytes llama.cpp's
// decoder rejects by U+FFFD, as llama.cpp does, and that SentencePiece
// byte fallback keeps every byte.
func TestInvalidUTF8(t *testing.T) {
	gpt2 := gpt2Tokenizer(t)
	in := "a\xffb"
	if got, want := gpt2.Encode(in, false), gpt2.Encode("a\uFFFDb", false); !reflect.DeepEqual(got, want) {
		t.Errorf("gpt-2: Encode(%q) = %v, want %v (as for U+FFFD)", in, got, want)
	}
	spm := mustNew(t, tinySPM())
	if got := spm.Decode(spm.Encode("\xc3\xa9\xc3", false)); got != "é\xc3" {
		t.Errorf("spm round trip of invalid UTF-8 = %q", got)
	}
}

func gpt2Tokenizer(t testing.TB) *tokenizer.Tokenizer {
	tk, err := ggufTokenizer(t, shared.Path(t, "tokenizers/llamacpp_vocab/ggml-vocab-gpt-2.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// TestGPT2Files checks that OpenAI's encoder.json/vocab.bpe give the ids of
// llama.cpp's GPT-2 vocabulary.
func TestGPT2Files(t *testing.T) {
	v, err := tokenizer.ReadGPT2Files(filepath.Dir(shared.Path(t, "tokenizers/gpt2/encoder.json")))
	if err != nil {
		t.Fatal(err)
	}
	tk := mustNew(t, v)
	ref := gpt2Tokenizer(t)
	for _, s := range []string{"Hello world", " this is 🦙.cpp", "It's 2024!\n\n  ok", "нещо на Български"} {
		if got, want := tk.Encode(s, false), ref.Encode(s, false); !reflect.DeepEqual(got, want) {
			t.Errorf("%q: %v, llama.cpp vocab gives %v", s, got, want)
		}
	}
}

// TestTiktoken checks known encodings of OpenAI's cl100k_base and
// o200k_base.
func TestTiktoken(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cases map[string][]int
	}{
		{"cl100k_base", map[string][]int{
			"hello world":        {15339, 1917},
			"tiktoken is great!": {83, 1609, 5963, 374, 2294, 0},
		}},
		{"o200k_base", map[string][]int{
			"hello world":        {24912, 2375},
			"tiktoken is great!": {83, 8251, 2488, 382, 2212, 0},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tk := tiktokenFor(t, tc.name)
			for in, want := range tc.cases {
				got := tk.Encode(in, false)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("Encode(%q) = %v, want %v", in, got, want)
				}
				if tk.Decode(got) != in {
					t.Errorf("Decode(%v) = %q", got, tk.Decode(got))
				}
			}
			eot := tk.TokenID("<|endoftext|>")
			if eot < 100000 {
				t.Fatalf("<|endoftext|> = %d", eot)
			}
			if got := tk.EncodeWithSpecial("hi<|endoftext|>"); len(got) != 2 || got[1] != eot {
				t.Errorf("EncodeWithSpecial = %v", got)
			}
			if got := tk.Encode("<|endoftext|>", false); len(got) < 2 {
				t.Errorf("Encode treats <|endoftext|> as special: %v", got)
			}
		})
	}
}

// tiktokenFor loads shared/tokenizers/tiktoken/NAME with its meta.json.
func tiktokenFor(t testing.TB, name string) *tokenizer.Tokenizer {
	t.Helper()
	ranks := shared.Path(t, "tokenizers/tiktoken/"+name+".tiktoken")
	raw, err := os.ReadFile(strings.TrimSuffix(ranks, ".tiktoken") + ".meta.json")
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		PatStr        string         `json:"pat_str"`
		SpecialTokens map[string]int `json:"special_tokens"`
	}
	if err := json.Unmarshal(raw, &meta); err != nil {
		t.Fatal(err)
	}
	tk, err := tokenizer.NewTiktoken(ranks, meta.PatStr, meta.SpecialTokens)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func TestParseTiktokenErrors(t *testing.T) {
	for _, tc := range []struct {
		name, data, pattern string
	}{
		{"no rank", "YQ==\n", "cl100k_base"},
		{"bad base64", "!!!! 0\n", "cl100k_base"},
		{"bad rank", "YQ== x\n", "cl100k_base"},
		{"negative rank", "YQ== -1\n", "cl100k_base"},
		{"huge rank", "YQ== 99999999\n", "cl100k_base"},
		{"missing bytes", "YQ== 0\n", "cl100k_base"},
		{"unknown pattern", "YQ== 0\n", `\w+`},
		{"empty", "", "cl100k_base"},
	} {
		if _, err := tokenizer.ParseTiktoken([]byte(tc.data), tc.pattern, nil); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	// a complete byte alphabet parses
	var b strings.Builder
	for c := 0; c < 256; c++ {
		b.WriteString(base64Byte(byte(c)))
		b.WriteString(" ")
		b.WriteString(itoa(c))
		b.WriteString("\n")
	}
	tk, err := tokenizer.ParseTiktoken([]byte(b.String()), "cl100k_base", map[string]int{"<|x|>": 300})
	if err != nil {
		t.Fatal(err)
	}
	if got := tk.Encode("hi", false); !reflect.DeepEqual(got, []int{'h', 'i'}) {
		t.Errorf("Encode(hi) = %v", got)
	}
	if tk.VocabSize() != 301 || tk.Piece(300) != "<|x|>" || tk.Piece(299) != "" {
		t.Errorf("size %d, pieces %q %q", tk.VocabSize(), tk.Piece(300), tk.Piece(299))
	}
}

// TestTortureRoundTrip decodes the torture corpus back from every
// tokenizer lmc has data for.
func TestTortureRoundTrip(t *testing.T) {
	text := tortureText(t)
	tks := map[string]*tokenizer.Tokenizer{
		"gpt-2":  gpt2Tokenizer(t),
		"llama3": hfTokenizer(t, "llama3"),
		"qwen3":  hfTokenizer(t, "qwen3"),
		"cl100k": tiktokenFor(t, "cl100k_base"),
		"o200k":  tiktokenFor(t, "o200k_base"),
	}
	for name, tk := range tks {
		ids := tk.Encode(text, false)
		if got := tk.Decode(ids); got != text {
			t.Errorf("%s: torture text does not decode to itself", name)
		}
		// piece by piece through a streaming decoder, too
		var b strings.Builder
		d := tk.NewDecoder()
		for _, id := range ids {
			s := d.Next(id)
			if !utf8.ValidString(s) {
				t.Fatalf("%s: decoder gave invalid UTF-8 %q", name, s)
			}
			b.WriteString(s)
		}
		b.WriteString(d.Flush())
		if b.String() != text {
			t.Errorf("%s: streaming decode differs", name)
		}
	}
}

func dirOf(p string) string { return filepath.Dir(p) }

func tortureText(t testing.TB) string {
	raw, err := os.ReadFile("testdata/torture.txt")
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// TestTortureIDs compares with ids computed by an independent Python
// implementation (testdata/gen_torture.py: the original split regexes run by
// Python's regex module, a plain BPE over tokenizer.json merges or tiktoken
// ranks). The corpus has Unicode of many scripts, emoji, CJK, code,
// whitespace runs, numbers, contractions and \r\n.
func TestTortureIDs(t *testing.T) {
	text := tortureText(t)
	if !strings.Contains(text, "\r\n") || !strings.Contains(text, "🦙") {
		t.Fatal("testdata/torture.txt lost its \\r\\n or emoji")
	}
	raw, err := os.ReadFile("testdata/torture_ids.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct{ IDs map[string][]int }
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.IDs) != 4 {
		t.Fatalf("%d reference encodings, want 4", len(ref.IDs))
	}
	for name, want := range ref.IDs {
		t.Run(name, func(t *testing.T) {
			var tk *tokenizer.Tokenizer
			switch name {
			case "llama3", "qwen3":
				tk = hfTokenizer(t, name)
			default:
				tk = tiktokenFor(t, name)
			}
			got := tk.Encode(text, false)
			if !reflect.DeepEqual(got, want) {
				for i := range min(len(got), len(want)) {
					if got[i] != want[i] {
						lo := max(0, i-3)
						t.Fatalf("%d ids, want %d; first difference at %d: got %v (%q), want %v (%q)", len(got), len(want), i,
							got[lo:min(len(got), i+4)], tk.Decode(got[lo:min(len(got), i+4)]),
							want[lo:min(len(want), i+4)], tk.Decode(want[lo:min(len(want), i+4)]))
					}
				}
				t.Fatalf("%d ids, want %d", len(got), len(want))
			}
		})
	}
}

func base64Byte(c byte) string { return base64.StdEncoding.EncodeToString([]byte{c}) }

func itoa(i int) string { return strconv.Itoa(i) }

// TestHFSpecials checks BOS handling and special tokens of the Llama 3 and
// Qwen3 tokenizer.json files.
func TestHFSpecials(t *testing.T) {
	llama := hfTokenizer(t, "llama3")
	if got := llama.Encode("Hello world", true); !reflect.DeepEqual(got, []int{128000, 9906, 1917}) {
		t.Errorf("llama3: Encode(Hello world, BOS) = %v", got)
	}
	if got := llama.EncodeWithSpecial("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"); !reflect.DeepEqual(got[:4], []int{128000, 128006, 882, 128007}) || got[len(got)-1] != 128009 {
		t.Errorf("llama3: chat prompt = %v", got)
	}
	if got := llama.Decode([]int{128000, 9906, 1917, 128009}); got != "Hello world" {
		t.Errorf("llama3: Decode = %q", got)
	}
	qwen := hfTokenizer(t, "qwen3")
	if qwen.AddsBOS() {
		t.Error("qwen3 adds BOS")
	}
	if got := qwen.EncodeWithSpecial("<|im_start|>user\nHello world<|im_end|>"); !reflect.DeepEqual(got, []int{151644, 872, 198, 9707, 1879, 151645}) {
		t.Errorf("qwen3: chat prompt = %v", got)
	}
	if got := qwen.Encode("<|im_start|>", false); len(got) < 2 {
		t.Errorf("qwen3: Encode parsed a control token: %v", got)
	}
}
