package tokenizer

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/lmc-project/lmc/internal/shared"
)

// diffVocab returns a description of the first difference between the
// exported fields of a and b ("" when equal; scores compare as bits).
func diffVocab(a, b *Vocab) string {
	if a.Model != b.Model || a.Pre != b.Pre {
		return fmt.Sprintf("model/pre %q/%q vs %q/%q", a.Model, a.Pre, b.Model, b.Pre)
	}
	if len(a.Tokens) != len(b.Tokens) {
		return fmt.Sprintf("%d tokens vs %d", len(a.Tokens), len(b.Tokens))
	}
	for i := range a.Tokens {
		if a.Tokens[i] != b.Tokens[i] {
			return fmt.Sprintf("token %d: %q vs %q", i, a.Tokens[i], b.Tokens[i])
		}
		if a.Types[i] != b.Types[i] {
			return fmt.Sprintf("type %d (%q): %v vs %v", i, a.Tokens[i], a.Types[i], b.Types[i])
		}
	}
	if (a.Scores == nil) != (b.Scores == nil) {
		return "scores: one is nil"
	}
	for i := range a.Scores {
		if math.Float32bits(a.Scores[i]) != math.Float32bits(b.Scores[i]) {
			return fmt.Sprintf("score %d (%q): %v vs %v", i, a.Tokens[i], a.Scores[i], b.Scores[i])
		}
	}
	if !slices.Equal(a.Merges, b.Merges) {
		return fmt.Sprintf("merges differ (%d vs %d)", len(a.Merges), len(b.Merges))
	}
	type rest struct {
		BOS, EOS, UNK, PAD, SEP                int
		AddBOS, AddEOS, AddBOSSet, AddEOSSet   bool
		AddSpacePrefix, RemoveExtraWhitespaces bool
		ChatTemplate                           string
	}
	ra := rest{a.BOS, a.EOS, a.UNK, a.PAD, a.SEP, a.AddBOS, a.AddEOS, a.AddBOSSet, a.AddEOSSet, a.AddSpacePrefix, a.RemoveExtraWhitespaces, a.ChatTemplate}
	rb := rest{b.BOS, b.EOS, b.UNK, b.PAD, b.SEP, b.AddBOS, b.AddEOS, b.AddBOSSet, b.AddEOSSet, b.AddSpacePrefix, b.RemoveExtraWhitespaces, b.ChatTemplate}
	if ra != rb {
		return fmt.Sprintf("%+v vs %+v", ra, rb)
	}
	return ""
}

// checkAgainstGGUF compares v with the tokenizer.ggml.* arrays of a GGUF.
func checkAgainstGGUF(t *testing.T, v *Vocab, g *testGGUF, withScores bool) {
	t.Helper()
	if got, want := v.Model, g.kv["tokenizer.ggml.model"]; got != want {
		t.Errorf("model %q, gguf %q", got, want)
	}
	if pre, ok := g.kv["tokenizer.ggml.pre"]; ok && v.Pre != pre {
		t.Errorf("pre %q, gguf %q", v.Pre, pre)
	}
	tokens := g.strings(t, "tokenizer.ggml.tokens")
	types := g.int32s(t, "tokenizer.ggml.token_type")
	if len(v.Tokens) != len(tokens) {
		t.Fatalf("%d tokens, gguf %d", len(v.Tokens), len(tokens))
	}
	bad := 0
	for i := range tokens {
		if v.Tokens[i] != tokens[i] || int32(v.Types[i]) != types[i] {
			if bad++; bad < 5 {
				t.Errorf("token %d: %q type %d, gguf %q type %d", i, v.Tokens[i], v.Types[i], tokens[i], types[i])
			}
		}
	}
	if withScores {
		scores := g.float32s(t, "tokenizer.ggml.scores")
		for i := range scores {
			if math.Float32bits(v.Scores[i]) != math.Float32bits(scores[i]) {
				if bad++; bad < 5 {
					t.Errorf("score %d: %v (%#x), gguf %v (%#x)", i, v.Scores[i], math.Float32bits(v.Scores[i]), scores[i], math.Float32bits(scores[i]))
				}
			}
		}
	}
	if _, ok := g.kv["tokenizer.ggml.merges"]; ok {
		merges := g.strings(t, "tokenizer.ggml.merges")
		if !slices.Equal(v.Merges, merges) {
			t.Errorf("merges differ: %d vs gguf %d", len(v.Merges), len(merges))
		}
	}
	for _, s := range []struct {
		key string
		got int
	}{{"bos_token_id", v.BOS}, {"eos_token_id", v.EOS}, {"unknown_token_id", v.UNK}, {"padding_token_id", v.PAD}, {"seperator_token_id", v.SEP}} {
		if want := g.id("tokenizer.ggml." + s.key); s.got != want {
			t.Errorf("%s = %d, gguf %d", s.key, s.got, want)
		}
	}
}

func TestReadLlama2cTokMatchesLlamaCpp(t *testing.T) {
	tok := shared.Path(t, "models/stories260K/tok512.bin")
	for _, gg := range []string{"models/stories260K/stories260K.gguf", "models/books5M/books5M-f32.gguf"} {
		t.Run(filepath.Base(gg), func(t *testing.T) {
			g := readTestGGUF(t, shared.Path(t, gg))
			v, err := ReadLlama2cTok(tok)
			if err != nil {
				t.Fatal(err)
			}
			if err := v.Validate(); err != nil {
				t.Fatal(err)
			}
			checkAgainstGGUF(t, v, g, true)
			if v.UNK != 0 || v.BOS != 1 || v.EOS != 2 {
				t.Errorf("unk/bos/eos = %d/%d/%d, want 0/1/2", v.UNK, v.BOS, v.EOS)
			}
			// -0.0 is kept as such (piece "▁t" in tok512).
			if i := v.TokenID("\u2581t"); i < 0 || math.Float32bits(v.Scores[i]) != 0x80000000 {
				t.Errorf("score of ▁t is not -0: id %d", i)
			}
		})
	}
}

func TestLlama2cTokRoundTripExact(t *testing.T) {
	path := shared.Path(t, "models/stories260K/tok512.bin")
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := ReadLlama2cTok(path)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "tok.bin")
	if err := WriteLlama2cTok(out, v); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, orig) {
		t.Fatalf("round trip differs: %d bytes vs %d", len(got), len(orig))
	}
}

func TestLlama2cByteTokenLikeSscanf(t *testing.T) {
	// Expected values from glibc: sscanf(s, "<0x%02hhX>", &b) == 1.
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{"<0x41>", true}, {"<0x4", true}, {"<0x", false}, {"<0x0x", true}, {"<0x 4", true},
		{"<0x+4", true}, {"<0x-4", true}, {"<0x+", false}, {"<0xG", false}, {"<0X41>", false},
		{"<0x\t7", true}, {"<0x-", false}, {"<0x  +1", true}, {"x<0x41>", false},
	} {
		if got := isLlamaCppByteToken(tc.s); got != tc.want {
			t.Errorf("isLlamaCppByteToken(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}

func TestReadSentencePieceTok512(t *testing.T) {
	v, err := ReadSentencePiece(shared.Path(t, "models/stories260K/tok512.model"))
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Validate(); err != nil {
		t.Fatal(err)
	}
	// The same 512 pieces, scores and types as llama.cpp's conversion of
	// tok512.bin.
	g := readTestGGUF(t, shared.Path(t, "models/stories260K/stories260K.gguf"))
	checkAgainstGGUF(t, v, g, true)
	if !v.AddSpacePrefix || !v.RemoveExtraWhitespaces {
		t.Errorf("AddSpacePrefix %v RemoveExtraWhitespaces %v, want true true (defaults)", v.AddSpacePrefix, v.RemoveExtraWhitespaces)
	}
	if v.AddBOSSet || v.AddEOSSet {
		t.Error("a tokenizer.model does not say whether to add BOS/EOS")
	}
	if v.sp.ts.modelType != spBPE || !v.sp.ts.byteFallback || v.sp.ns.name != "identity" {
		t.Errorf("trainer/normalizer spec: %+v %+v", v.sp.ts, v.sp.ns)
	}
}

func TestSentencePieceRoundTripExact(t *testing.T) {
	path := shared.Path(t, "models/stories260K/tok512.model")
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := ReadSentencePiece(path)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "tok.model")
	if err := WriteSentencePiece(out, v); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(out)
	if !bytes.Equal(got, orig) {
		t.Fatalf("round trip differs: %d bytes vs %d", len(got), len(orig))
	}
	v2, err := ReadSentencePiece(out)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffVocab(v, v2); d != "" {
		t.Fatal(d)
	}
}

// A Vocab with no SentencePiece source (from llama2.c, or from a GGUF) is
// written from scratch and reads back equal.
func TestSentencePieceFromScratch(t *testing.T) {
	v, err := ReadLlama2cTok(shared.Path(t, "models/stories260K/tok512.bin"))
	if err != nil {
		t.Fatal(err)
	}
	v.RemoveExtraWhitespaces = true
	b, err := MarshalSentencePiece(v)
	if err != nil {
		t.Fatal(err)
	}
	v2, err := ParseSentencePiece(b)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffVocab(v, v2); d != "" {
		t.Fatal(d)
	}
	if v2.sp.ts.modelType != spBPE || !v2.sp.ts.byteFallback {
		t.Errorf("fresh trainer spec %+v, want BPE with byte_fallback", v2.sp.ts)
	}
	// The pieces are encoded as sentencepiece encodes them, so they match
	// the original tokenizer.model's piece records byte for byte.
	orig, err := os.ReadFile(shared.Path(t, "models/stories260K/tok512.model"))
	if err != nil {
		t.Fatal(err)
	}
	ov, err := ParseSentencePiece(orig)
	if err != nil {
		t.Fatal(err)
	}
	for i := range v2.sp.pieces {
		if !bytes.Equal(v2.sp.pieces[i].raw, ov.sp.pieces[i].raw) {
			t.Fatalf("piece %d encoded %x, sentencepiece wrote %x", i, v2.sp.pieces[i].raw, ov.sp.pieces[i].raw)
		}
	}
}

// Edits to a Vocab read from a file are written through; the rest of the
// file is kept.
func TestSentencePieceEdits(t *testing.T) {
	orig, err := os.ReadFile(shared.Path(t, "models/stories260K/tok512.model"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(v *Vocab)
	}{
		{"score", func(v *Vocab) { v.Scores[300] = 1.5 }},
		{"no dummy prefix", func(v *Vocab) { v.AddSpacePrefix = false }},
		{"keep whitespace", func(v *Vocab) { v.RemoveExtraWhitespaces = false }},
		{"add control token", func(v *Vocab) {
			v.Tokens = append(v.Tokens, "<|im_end|>")
			v.Scores = append(v.Scores, 0)
			v.Types = append(v.Types, TypeControl)
			v.EOS = len(v.Tokens) - 1
		}},
		{"add pad", func(v *Vocab) {
			v.Tokens = append(v.Tokens, "<pad>")
			v.Scores = append(v.Scores, 0)
			v.Types = append(v.Types, TypeControl)
			v.PAD = len(v.Tokens) - 1
		}},
		{"no bos", func(v *Vocab) { v.BOS = -1 }},
		{"user defined", func(v *Vocab) { v.Types[400] = TypeUserDefined }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := ParseSentencePiece(orig)
			if err != nil {
				t.Fatal(err)
			}
			tc.edit(v)
			b, err := MarshalSentencePiece(v)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(b, orig) {
				t.Fatal("edit not written")
			}
			v2, err := ParseSentencePiece(b)
			if err != nil {
				t.Fatal(err)
			}
			if d := diffVocab(v, v2); d != "" {
				t.Fatal(d)
			}
			// The trainer fields lmc does not model survive.
			if v2.sp.ts.modelType != spBPE || v2.sp.ns.name != "identity" {
				t.Errorf("lost fields: %+v %+v", v2.sp.ts, v2.sp.ns)
			}
		})
	}
}

func TestMarshalSentencePieceRejects(t *testing.T) {
	base := func() *Vocab {
		v := NewVocab(ModelLlama)
		v.Tokens = []string{"<unk>", "<s>", "</s>", "<0x41>", "\u2581a"}
		v.Scores = []float32{0, 0, 0, 0, -1}
		v.Types = []TokenType{TypeUnknown, TypeControl, TypeControl, TypeByte, TypeNormal}
		v.UNK, v.BOS, v.EOS = 0, 1, 2
		return v
	}
	if _, err := MarshalSentencePiece(base()); err != nil {
		t.Fatalf("valid vocab rejected: %v", err)
	}
	tests := []struct {
		name string
		edit func(v *Vocab)
	}{
		{"empty piece", func(v *Vocab) { v.Tokens[4] = "" }},
		{"duplicate", func(v *Vocab) { v.Tokens[4] = "<s>" }},
		{"no unk", func(v *Vocab) { v.Types[0] = TypeControl; v.UNK = -1 }},
		{"two unk", func(v *Vocab) { v.Types[4] = TypeUnknown }},
		{"unk id elsewhere", func(v *Vocab) { v.UNK = 4 }},
		{"bad byte piece", func(v *Vocab) { v.Tokens[3] = "<0x4>" }},
		{"bos not control", func(v *Vocab) { v.BOS = 4 }},
		{"gpt2 model", func(v *Vocab) { v.Model = ModelGPT2 }},
		{"scores missing", func(v *Vocab) { v.Scores = nil }},
		{"bad type", func(v *Vocab) { v.Types[4] = 9 }},
		{"special out of range", func(v *Vocab) { v.EOS = 5 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := base()
			tc.edit(v)
			_, err := MarshalSentencePiece(v)
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("err = %v, want ErrFormat", err)
			}
		})
	}
}

func TestParseHostile(t *testing.T) {
	tests := []struct {
		file  string
		parse func([]byte) (*Vocab, error)
	}{
		{"sp-truncated-varint.model", ParseSentencePiece},
		{"sp-huge-length.model", ParseSentencePiece},
		{"sp-piece-overruns.model", ParseSentencePiece},
		{"sp-group-wiretype.model", ParseSentencePiece},
		{"sp-bad-piece-type.model", ParseSentencePiece},
		{"sp-score-wrong-wiretype.model", ParseSentencePiece},
		{"sp-no-pieces.model", ParseSentencePiece},
		{"sp-varint-11-bytes.model", ParseSentencePiece},
		{"sp-field-zero.model", ParseSentencePiece},
		{"sp-trainer-truncated.model", ParseSentencePiece},
		{"tok-short-header.bin", ParseLlama2cTok},
		{"tok-truncated-record.bin", ParseLlama2cTok},
		{"tok-huge-length.bin", ParseLlama2cTok},
		{"tok-no-tokens.bin", ParseLlama2cTok},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			v, err := tc.parse(data)
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("got %v, %v; want an ErrFormat error", v, err)
			}
			var fe *FormatError
			if !errors.As(err, &fe) || fe.Field == "" {
				t.Errorf("error %v does not name a field", err)
			}
			t.Log(err)
		})
	}
}

// Errors from the file readers name the file.
func TestReadErrorsNameFile(t *testing.T) {
	p := filepath.Join("testdata", "sp-huge-length.model")
	_, err := ReadSentencePiece(p)
	var fe *FormatError
	if !errors.As(err, &fe) || fe.File != p {
		t.Fatalf("err = %v, want a *FormatError naming %s", err, p)
	}
	p = filepath.Join("testdata", "tok-huge-length.bin")
	_, err = ReadLlama2cTok(p)
	if !errors.As(err, &fe) || fe.File != p || fe.Off != 8 {
		t.Fatalf("err = %v, want a *FormatError naming %s at byte 8", err, p)
	}
	if _, err := ReadSentencePiece(filepath.Join("testdata", "absent.model")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

func TestValidate(t *testing.T) {
	base := func() *Vocab {
		v := NewVocab(ModelGPT2)
		v.Tokens = []string{"a", "b", "ab", "<|endoftext|>"}
		v.Types = []TokenType{1, 1, 1, 3}
		v.Merges = []string{"a b"}
		v.BOS, v.EOS = 3, 3
		return v
	}
	if err := base().Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(v *Vocab)
	}{
		{"unknown model", func(v *Vocab) { v.Model = "bert" }},
		{"no tokens", func(v *Vocab) { v.Tokens, v.Types = nil, nil }},
		{"types short", func(v *Vocab) { v.Types = v.Types[:3] }},
		{"scores short", func(v *Vocab) { v.Scores = []float32{0} }},
		{"bad type", func(v *Vocab) { v.Types[0] = 0 }},
		{"bad merge", func(v *Vocab) { v.Merges = []string{"ab"} }},
		{"merge with two spaces", func(v *Vocab) { v.Merges = []string{"a b c"} }},
		{"bos out of range", func(v *Vocab) { v.BOS = 4 }},
		{"pad below -1", func(v *Vocab) { v.PAD = -2 }},
		{"llama with merges", func(v *Vocab) { v.Model = ModelLlama; v.Scores = make([]float32, 4) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := base()
			tc.edit(v)
			if err := v.Validate(); !errors.Is(err, ErrFormat) {
				t.Fatalf("Validate = %v, want ErrFormat", err)
			}
		})
	}
}

func TestLlama2cTokWriterChecks(t *testing.T) {
	v := NewVocab(ModelLlama)
	v.Tokens = []string{"<unk>", "<s>", "</s>", "\u2581a"}
	v.Scores = make([]float32, 4)
	v.Types = []TokenType{2, 3, 3, 1}
	v.UNK, v.BOS, v.EOS = 0, 1, 2
	b, err := MarshalLlama2cTok(v)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{6, 0, 0, 0}
	for _, s := range []string{"<unk>", "\n<s>\n", "\n</s>\n", " a"} {
		want = append(want, 0, 0, 0, 0, byte(len(s)), 0, 0, 0)
		want = append(want, s...)
	}
	if !bytes.Equal(b, want) {
		t.Fatalf("got %q\nwant %q", b, want)
	}
	v.BOS = 3
	if _, err := MarshalLlama2cTok(v); !errors.Is(err, ErrFormat) {
		t.Fatalf("BOS 3 accepted: %v", err)
	}
}

func FuzzSentencePiece(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.model"))
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	small := NewVocab(ModelLlama)
	small.Tokens = []string{"<unk>", "<s>", "</s>", "<0x0A>", "\u2581a", "b"}
	small.Scores = []float32{0, 0, 0, 0, -1, -2}
	small.Types = []TokenType{2, 3, 3, 6, 1, 4}
	small.UNK, small.BOS, small.EOS = 0, 1, 2
	if b, err := MarshalSentencePiece(small); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := ParseSentencePiece(data)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		if err := v.Validate(); err != nil {
			t.Fatalf("parsed vocab invalid: %v", err)
		}
		b, err := MarshalSentencePiece(v)
		if err != nil {
			return // e.g. no unknown piece: sentencepiece would refuse it too
		}
		v2, err := ParseSentencePiece(b)
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if d := diffVocab(v, v2); d != "" {
			t.Fatalf("round trip: %s", d)
		}
	})
}

func FuzzLlama2cTok(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.bin"))
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte{5, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, '<', 'u', 'n', 'k', '>', 0, 0, 128, 191, 2, 0, 0, 0, ' ', 'a'})
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := ParseLlama2cTok(data)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		if err := v.Validate(); err != nil {
			t.Fatalf("parsed vocab invalid: %v", err)
		}
		b, err := MarshalLlama2cTok(v)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		v2, err := ParseLlama2cTok(b)
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if d := diffVocab(v, v2); d != "" {
			t.Fatalf("round trip: %s", d)
		}
	})
}

// A model with pieces only (no trainer or normalizer spec) is written back
// as it was: the writer adds no spec that nothing needs.
func TestSentencePiecePiecesOnly(t *testing.T) {
	orig, err := os.ReadFile(shared.Path(t, "models/stories260K/tok512.model"))
	if err != nil {
		t.Fatal(err)
	}
	full, err := ParseSentencePiece(orig)
	if err != nil {
		t.Fatal(err)
	}
	var pieces []byte
	for _, p := range full.sp.pieces {
		pieces = append(pieces, p.raw...)
	}
	v, err := ParseSentencePiece(pieces)
	if err != nil {
		t.Fatal(err)
	}
	if !v.AddSpacePrefix || !v.RemoveExtraWhitespaces || v.BOS != 1 || v.EOS != 2 || v.UNK != 0 || v.PAD != -1 {
		t.Errorf("defaults not applied: %+v", v)
	}
	b, err := MarshalSentencePiece(v)
	if err != nil {
		t.Fatal(err)
	}
	// byte_fallback must now be said (there are byte pieces): only a
	// trainer_spec with that one field is added.
	want := appendBytesField(append([]byte(nil), pieces...), spModelTrainer, appendBoolField(nil, spTrainerByteFallback, true))
	if !bytes.Equal(b, want) {
		t.Fatalf("got %d bytes, want %d", len(b), len(want))
	}
}
