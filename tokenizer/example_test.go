package tokenizer_test

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/lmc-project/lmc/tokenizer"
)

// tiny returns a small SentencePiece-style vocabulary.
func tiny() *tokenizer.Vocab {
	v := tokenizer.NewVocab(tokenizer.ModelLlama)
	v.Tokens = []string{"<unk>", "<s>", "</s>", "<0x0A>", "\u2581a", "b"}
	v.Scores = []float32{0, 0, 0, 0, -1, -2}
	v.Types = []tokenizer.TokenType{tokenizer.TypeUnknown, tokenizer.TypeControl, tokenizer.TypeControl,
		tokenizer.TypeByte, tokenizer.TypeNormal, tokenizer.TypeNormal}
	v.UNK, v.BOS, v.EOS = 0, 1, 2
	v.AddSpacePrefix = true
	return v
}

func ExampleVocab_Validate() {
	v := tiny()
	fmt.Println(v.Validate())
	v.EOS = 99
	fmt.Println(v.Validate())
	// Output:
	// <nil>
	// tokenizer: vocab: eos_token_id: 99 out of range [-1, 6)
}

func ExampleMarshalSentencePiece() {
	b, err := tokenizer.MarshalSentencePiece(tiny())
	if err != nil {
		panic(err)
	}
	v, err := tokenizer.ParseSentencePiece(b)
	if err != nil {
		panic(err)
	}
	fmt.Println(v.Tokens[4], v.Scores[4], v.Types[3], v.BOS, v.EOS, v.AddSpacePrefix)
	// Output: ▁a -1 byte 1 2 true
}

func ExampleParseSentencePiece() {
	// One piece "<unk>" of type UNKNOWN (2) with score 0.
	model := []byte{0x0a, 0x0e, 0x0a, 0x05, '<', 'u', 'n', 'k', '>', 0x15, 0, 0, 0, 0, 0x18, 0x02}
	v, err := tokenizer.ParseSentencePiece(model)
	if err != nil {
		panic(err)
	}
	fmt.Println(v.Tokens, v.Types, v.UNK)
	_, err = tokenizer.ParseSentencePiece(model[:10])
	fmt.Println(err)
	// Output:
	// [<unk>] [unknown] 0
	// tokenizer: pieces: length 14 exceeds the 8 bytes that remain (at byte 0)
}

func ExampleWriteSentencePiece() {
	path := filepath.Join(os.TempDir(), "lmc-example-tokenizer.model")
	defer os.Remove(path)
	if err := tokenizer.WriteSentencePiece(path, tiny()); err != nil {
		panic(err)
	}
	v, err := tokenizer.ReadSentencePiece(path)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(v.Tokens), v.Model)
	// Output: 6 llama
}

func ExampleParseLlama2cTok() {
	var b []byte
	b = binary.LittleEndian.AppendUint32(b, 7) // max_token_length
	for _, tok := range []struct {
		s     string
		score float32
	}{{"<unk>", 0}, {"\n<s>\n", 0}, {"\n</s>\n", 0}, {"<0x0A>", 0}, {" a", -1}} {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(tok.score))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(tok.s)))
		b = append(b, tok.s...)
	}
	v, err := tokenizer.ParseLlama2cTok(b)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%q\n%v\n", v.Tokens, v.Types)
	// Output:
	// ["<unk>" "<s>" "</s>" "<0x0A>" "▁a"]
	// [unknown control control byte normal]
}

func ExampleWriteLlama2cTok() {
	path := filepath.Join(os.TempDir(), "lmc-example-tok.bin")
	defer os.Remove(path)
	if err := tokenizer.WriteLlama2cTok(path, tiny()); err != nil {
		panic(err)
	}
	b, _ := os.ReadFile(path)
	fmt.Println(len(b), binary.LittleEndian.Uint32(b)) // size, max_token_length ("\n</s>\n")
	v, err := tokenizer.ReadLlama2cTok(path)
	if err != nil {
		panic(err)
	}
	fmt.Println(v.Tokens)
	// Output:
	// 77 6
	// [<unk> <s> </s> <0x0A> ▁a b]
}

func ExampleMarshalLlama2cTok() {
	b, err := tokenizer.MarshalLlama2cTok(tiny())
	if err != nil {
		panic(err)
	}
	fmt.Printf("%q\n", b[len(b)-9:]) // the last record: score -2, length 1, "b"
	// Output: "\x00\x00\x00\xc0\x01\x00\x00\x00b"
}

func ExampleReadLlama2cTok() {
	// A llama2.c tokenizer maps exactly as llama.cpp's converter maps it.
	path := filepath.Join(os.TempDir(), "lmc-example-tok2.bin")
	defer os.Remove(path)
	b, _ := tokenizer.MarshalLlama2cTok(tiny())
	_ = os.WriteFile(path, b, 0o644)
	v, err := tokenizer.ReadLlama2cTok(path)
	if err != nil {
		panic(err)
	}
	fmt.Println(v.UNK, v.BOS, v.EOS, v.Types[1], v.AddSpacePrefix)
	// Output: 0 1 2 control true
}

func ExampleReadSentencePiece() {
	_, err := tokenizer.ReadSentencePiece("testdata/sp-bad-piece-type.model")
	fmt.Println(err)
	// Output: tokenizer: testdata/sp-bad-piece-type.model: pieces[0].type: unknown piece type 9 (want 1..6) (at byte 12)
}

func ExampleReadHFTokenizer() {
	v, err := tokenizer.ReadHFTokenizer("testdata/llama-hf-json")
	if err != nil {
		panic(err)
	}
	fmt.Println(v.Model, len(v.Tokens), v.BOS, v.AddBOS, v.Types[9], v.Scores[5])
	// Output: llama 10 1 true user-defined -1000
}

func ExampleReadGPT2Files() {
	v, err := tokenizer.ReadGPT2Files("testdata/gpt2-tiny")
	if err != nil {
		panic(err)
	}
	fmt.Println(v.Model, v.Pre, v.Merges, v.EOS, v.Types[5])
	// Output: gpt2 gpt-2 [a b Ġ ab] 5 control
}

func ExampleWriteHFTokenizer() {
	v, err := tokenizer.ReadGPT2Files("testdata/gpt2-tiny")
	if err != nil {
		panic(err)
	}
	dir, err := os.MkdirTemp("", "lmc-example-hf")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	if err := tokenizer.WriteHFTokenizer(dir, v); err != nil {
		panic(err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		fmt.Println(e.Name())
	}
	v2, err := tokenizer.ReadHFTokenizer(dir)
	if err != nil {
		panic(err)
	}
	fmt.Println(v2.Pre, len(v2.Tokens), v2.Merges[1])
	// Output:
	// special_tokens_map.json
	// tokenizer.json
	// tokenizer_config.json
	// gpt-2 6 Ġ ab
}
