package bpetrain_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lmc-project/lmc/internal/shared"
	"github.com/lmc-project/lmc/tokenizer/bpetrain"
	"github.com/lmc-project/lmc/tokenizer/pretok"
)

func train(t testing.TB, vocab int, docs ...string) *bpetrain.Tokenizer {
	t.Helper()
	tr := bpetrain.NewTrainer(pretok.GPT2)
	for _, d := range docs {
		tr.Add(d)
	}
	tok, err := tr.Train(vocab, []string{"<|endoftext|>"})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func mergeStrings(tok *bpetrain.Tokenizer) []string {
	var out []string
	for _, m := range tok.Merges() {
		out = append(out, tok.Token(m[0])+" "+tok.Token(m[1]))
	}
	return out
}

func TestTrainKnownMerges(t *testing.T) {
	tests := []struct {
		name  string
		docs  []string
		vocab int
		want  []string
	}{
		// pieces "ab" x1, " ab" x2, " abc" x1: (a,b)=4, then (" ",ab)=3, then (" ab",c)=1.
		{name: "chain", docs: []string{"ab ab ab abc"}, vocab: 256 + 3 + 1, want: []string{"a b", "Ġ ab", "Ġab c"}},
		// pieces "cd", " ab", "ab", " cd": (c,d) and (a,b) are both 2, and the
		// smaller left id (a=97 < c=99) goes first although "cd" came first.
		{name: "tie to smaller id", docs: []string{"cd ab", "ab cd"}, vocab: 256 + 2 + 1, want: []string{"a b", "c d"}},
		// only two distinct pairs exist: training stops early.
		{name: "runs out", docs: []string{"abc"}, vocab: 300, want: []string{"a b", "ab c"}},
		// "aaaa": (a,a)=3 overlapping counts, merge gives [aa aa], then (aa,aa)=1.
		{name: "repeats", docs: []string{"aaaa"}, vocab: 256 + 2 + 1, want: []string{"a a", "aa aa"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok := train(t, tc.vocab, tc.docs...)
			if got := mergeStrings(tok); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("merges %q, want %q", got, tc.want)
			}
			if id, ok := tok.ID("<|endoftext|>"); !ok || id != tok.VocabSize()-1 || !tok.IsSpecial(id) {
				t.Errorf("special id %d %v, vocab %d", id, ok, tok.VocabSize())
			}
		})
	}
}

func TestTrainLayout(t *testing.T) {
	tok := train(t, 260, "ab ab ab abc")
	for b := 0; b < 256; b++ {
		if got := tok.Decode([]int{b}); len(got) != 1 || got[0] != byte(b) {
			t.Fatalf("id %d decodes to %q", b, got)
		}
	}
	if tok.Token(' ') != "Ġ" || tok.Token('\n') != "Ċ" || tok.Token('a') != "a" {
		t.Errorf("byte tokens: %q %q %q", tok.Token(' '), tok.Token('\n'), tok.Token('a'))
	}
	if got := tok.Encode(" abc ab"); !reflect.DeepEqual(got, []int{258, 257}) {
		t.Errorf("Encode = %v, want [258 257]", got)
	}
}

func TestTrainTooSmall(t *testing.T) {
	tr := bpetrain.NewTrainer(pretok.GPT2)
	if _, err := tr.Train(256, []string{"<s>"}); !errors.Is(err, bpetrain.ErrTrain) {
		t.Errorf("Train(256, 1 special) error %v, want ErrTrain", err)
	}
}

const sample = "It was the best of times, it was the worst of times, it was the age of wisdom.\n\n" +
	"Once upon a time there was a little girl named Lily. She loved to play!  \"Don't,\" she said.\n" +
	"ROMEO:\nBut soft, what light through yonder window breaks? 1234 5678\t\ttabs\r\n" +
	"Ünïcödé: Führer нещо на Български 我想在apple工作 🦙🚀 😶‍🌫️ e\u0301 \u00a0x\n"

func TestDeterministic(t *testing.T) {
	docs := []string{sample, strings.Repeat("the cat sat on the mat. ", 20), strings.ToUpper(sample)}
	a := train(t, 400, docs...)
	b := train(t, 400, docs[2], docs[0], docs[1]) // order of documents must not matter
	ja, err := a.MarshalHF(bpetrain.HFOptions{BOS: "<|endoftext|>"})
	if err != nil {
		t.Fatal(err)
	}
	jb, err := b.MarshalHF(bpetrain.HFOptions{BOS: "<|endoftext|>"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ja, jb) {
		t.Error("two trainings on the same documents differ")
	}
}

func TestRoundTrip(t *testing.T) {
	tok := train(t, 600, sample, sample)
	texts := []string{"", sample, "\xff\xfe invalid \x80 utf8", "  leading and trailing  ", "<|endoftext|>", strings.Repeat("z", 1000)}
	for _, s := range texts {
		ids := tok.Encode(s)
		if got := tok.DecodeString(ids); got != s {
			t.Errorf("decode(encode(%q)) = %q", s, got)
		}
		for _, id := range ids {
			if tok.IsSpecial(id) {
				t.Errorf("Encode(%q) produced special id %d", s, id)
			}
		}
	}
	if ids := tok.Encode(sample); len(ids) >= len(sample)/2 {
		t.Errorf("trained on the text, still %d tokens for %d bytes", len(ids), len(sample))
	}
}

// refTokenizer is a from-scratch BPE over a parsed tokenizer.json: the
// textbook GPT-2 bpe() on byte-level strings, merging the lowest-rank pair.
type refTokenizer struct {
	vocab map[string]int
	ranks map[[2]string]int
}

func loadRef(t testing.TB, data []byte) *refTokenizer {
	var tj struct {
		AddedTokens []struct {
			ID      int
			Content string
			Special bool
		} `json:"added_tokens"`
		PreTokenizer struct {
			Type     string
			UseRegex bool `json:"use_regex"`
		} `json:"pre_tokenizer"`
		Model struct {
			Type   string
			Vocab  map[string]int
			Merges []string
		}
	}
	if err := json.Unmarshal(data, &tj); err != nil {
		t.Fatal(err)
	}
	if tj.Model.Type != "BPE" || tj.PreTokenizer.Type != "ByteLevel" || !tj.PreTokenizer.UseRegex {
		t.Fatalf("unexpected tokenizer.json: model %q pre %q", tj.Model.Type, tj.PreTokenizer.Type)
	}
	if len(tj.AddedTokens) != 1 || tj.AddedTokens[0].Content != "<|endoftext|>" || !tj.AddedTokens[0].Special {
		t.Fatalf("added_tokens %+v", tj.AddedTokens)
	}
	r := &refTokenizer{vocab: tj.Model.Vocab, ranks: map[[2]string]int{}}
	for i, m := range tj.Model.Merges {
		a, b, ok := strings.Cut(m, " ")
		if !ok {
			t.Fatalf("merge %q", m)
		}
		r.ranks[[2]string{a, b}] = i
	}
	return r
}

func (r *refTokenizer) encode(t testing.TB, text string) []int {
	b2r := bpetrain.ByteToRune()
	var out []int
	for _, piece := range pretok.SplitGPT2(text) {
		var word []string
		for i := 0; i < len(piece); i++ {
			word = append(word, string(b2r[piece[i]]))
		}
		for len(word) > 1 {
			best, bi := -1, -1
			for i := 0; i+1 < len(word); i++ {
				if rk, ok := r.ranks[[2]string{word[i], word[i+1]}]; ok && (best < 0 || rk < best) {
					best, bi = rk, i
				}
			}
			if bi < 0 {
				break
			}
			a, b := word[bi], word[bi+1]
			var next []string
			for i := 0; i < len(word); i++ {
				if i+1 < len(word) && word[i] == a && word[i+1] == b {
					next = append(next, a+b)
					i++
				} else {
					next = append(next, word[i])
				}
			}
			word = next
		}
		for _, w := range word {
			id, ok := r.vocab[w]
			if !ok {
				t.Fatalf("token %q not in vocab", w)
			}
			out = append(out, id)
		}
	}
	return out
}

func TestMatchesReferenceFromJSON(t *testing.T) {
	docs := []string{sample, strings.Repeat("the quick brown fox jumps over the lazy dog; ", 10)}
	text := sample
	if p := shared.Root(); p != "" {
		if b, err := os.ReadFile(shared.Path(t, "text/tinystories/TinyStories-valid.head30k.txt")); err == nil {
			docs = append(docs, string(b[:20000]))
			text += string(b[20000:])
		}
	}
	tok := train(t, 1000, docs...)
	js, err := tok.MarshalHF(bpetrain.HFOptions{BOS: "<|endoftext|>"})
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(js) {
		t.Fatal("MarshalHF wrote invalid JSON")
	}
	ref := loadRef(t, js)
	if len(ref.vocab) != tok.VocabSize() {
		t.Errorf("json vocab %d, tokenizer %d", len(ref.vocab), tok.VocabSize())
	}
	text = strings.ToValidUTF8(text, "?")
	if !utf8.ValidString(text) {
		t.Fatal("bad text")
	}
	got, want := tok.Encode(text), ref.encode(t, text)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Encode differs from the reference BPE over tokenizer.json (%d vs %d tokens)", len(got), len(want))
	}
}

func TestNewErrors(t *testing.T) {
	bytesVocab := func() []string {
		v := make([]string, 256)
		for b := range v {
			v[b] = bpetrain.ByteLevel(string([]byte{byte(b)}))
		}
		return v
	}
	tests := []struct {
		name     string
		vocab    []string
		merges   [][2]string
		specials []string
	}{
		{name: "missing byte", vocab: bytesVocab()[:255]},
		{name: "duplicate token", vocab: append(bytesVocab(), "a")},
		{name: "not byte-level", vocab: append(bytesVocab(), " x")},
		{name: "merge result missing", vocab: bytesVocab(), merges: [][2]string{{"a", "b"}}},
		{name: "merge part missing", vocab: append(bytesVocab(), "ab"), merges: [][2]string{{"a", "zz"}}},
		{name: "special not in vocab", vocab: bytesVocab(), specials: []string{"<s>"}},
		{name: "merge of special", vocab: append(bytesVocab(), "<s>", "<s>a"), merges: [][2]string{{"<s>", "a"}}, specials: []string{"<s>"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := bpetrain.New(pretok.GPT2, tc.vocab, tc.merges, tc.specials)
			if !errors.Is(err, bpetrain.ErrVocab) {
				t.Errorf("New error %v, want ErrVocab", err)
			}
		})
	}
	if _, err := bpetrain.New(pretok.GPT2, append(bytesVocab(), "ab"), [][2]string{{"a", "b"}}, nil); err != nil {
		t.Errorf("valid vocabulary rejected: %v", err)
	}
}

func TestByteLevel(t *testing.T) {
	var all []byte
	for b := 0; b < 256; b++ {
		all = append(all, byte(b))
	}
	s := bpetrain.ByteLevel(string(all))
	if utf8.RuneCountInString(s) != 256 {
		t.Fatalf("%d runes", utf8.RuneCountInString(s))
	}
	back, ok := bpetrain.FromByteLevel(s)
	if !ok || !bytes.Equal(back, all) {
		t.Error("FromByteLevel(ByteLevel(x)) != x")
	}
	if _, ok := bpetrain.FromByteLevel(" "); ok {
		t.Error("a raw space is not a byte-level rune")
	}
}

func BenchmarkTrain(b *testing.B) {
	text := strings.Repeat(sample, 50)
	for b.Loop() {
		tr := bpetrain.NewTrainer(pretok.GPT2)
		tr.Add(text)
		if _, err := tr.Train(1024, []string{"<|endoftext|>"}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	tok := loadGPT2(b)
	raw, err := os.ReadFile(shared.Path(b, "text/gutenberg/pg11.txt"))
	if err != nil {
		b.Fatal(err)
	}
	text := string(raw[:100000])
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		tok.Encode(text)
	}
}

func TestParseHFRoundTrip(t *testing.T) {
	tok := train(t, 500, sample, strings.Repeat("the cat sat on the mat. ", 20))
	js, err := tok.MarshalHF(bpetrain.HFOptions{BOS: "<|endoftext|>"})
	if err != nil {
		t.Fatal(err)
	}
	back, err := bpetrain.ParseHF(js)
	if err != nil {
		t.Fatal(err)
	}
	js2, err := back.MarshalHF(bpetrain.HFOptions{BOS: "<|endoftext|>"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(js, js2) {
		t.Error("MarshalHF(ParseHF(x)) != x")
	}
	if !reflect.DeepEqual(tok.Encode(sample), back.Encode(sample)) {
		t.Error("parsed tokenizer encodes differently")
	}
}

func TestParseHFErrors(t *testing.T) {
	good := `{"added_tokens":[],"pre_tokenizer":{"type":"ByteLevel","use_regex":true},"model":{"type":"BPE","vocab":VOCAB,"merges":MERGES}}`
	var vb strings.Builder
	vb.WriteString("{")
	for b := 0; b < 256; b++ {
		if b > 0 {
			vb.WriteString(",")
		}
		q, _ := json.Marshal(bpetrain.ByteLevel(string([]byte{byte(b)})))
		vb.Write(q)
		vb.WriteString(":" + itoa(b))
	}
	bytesOnly := vb.String() + "}"
	withAB := vb.String() + `,"ab":256}`
	mk := func(vocab, merges string) string {
		return strings.NewReplacer("VOCAB", vocab, "MERGES", merges).Replace(good)
	}
	if _, err := bpetrain.ParseHF([]byte(mk(withAB, `[["a","b"]]`))); err != nil {
		t.Fatalf("valid file (pair merges) rejected: %v", err)
	}
	tests := []struct{ name, js string }{
		{"not json", "{"},
		{"wordpiece", strings.Replace(mk(bytesOnly, "[]"), `"BPE"`, `"WordPiece"`, 1)},
		{"no regex", strings.Replace(mk(bytesOnly, "[]"), `"use_regex":true`, `"use_regex":false`, 1)},
		{"id hole", mk(vb.String()+`,"ab":300}`, "[]")},
		{"bad merge", mk(withAB, `["ab"]`)},
		{"bad merge pair", mk(withAB, `[["a"]]`)},
		{"merge not in vocab", mk(bytesOnly, `["a b"]`)},
		{"missing byte", mk(`{"a":0}`, "[]")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := bpetrain.ParseHF([]byte(tc.js)); !errors.Is(err, bpetrain.ErrVocab) {
				t.Errorf("error %v, want ErrVocab", err)
			}
		})
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }
