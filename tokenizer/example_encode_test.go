package tokenizer_test

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/lmc-project/lmc/tokenizer"
)

// spmVocab is a small SentencePiece vocabulary with byte fallback.
func spmVocab() *tokenizer.Vocab {
	v := tokenizer.NewVocab(tokenizer.ModelLlama)
	for _, p := range []struct {
		s     string
		score float32
		ty    tokenizer.TokenType
	}{
		{"<unk>", 0, tokenizer.TypeUnknown}, {"<s>", 0, tokenizer.TypeControl}, {"</s>", 0, tokenizer.TypeControl},
		{"<0x0A>", 0, tokenizer.TypeByte}, {"▁", -1, tokenizer.TypeNormal}, {"h", -2, tokenizer.TypeNormal},
		{"i", -2, tokenizer.TypeNormal}, {"hi", -1, tokenizer.TypeNormal}, {"▁hi", -0.5, tokenizer.TypeNormal},
	} {
		v.Tokens = append(v.Tokens, p.s)
		v.Scores = append(v.Scores, p.score)
		v.Types = append(v.Types, p.ty)
	}
	v.UNK, v.BOS, v.EOS = 0, 1, 2
	v.AddSpacePrefix = true
	return v
}

func ExampleNew() {
	tk, err := tokenizer.New(spmVocab())
	if err != nil {
		panic(err)
	}
	ids := tk.Encode("hi hi\n", true) // BOS, "▁hi", "▁hi", byte <0x0A>
	fmt.Println(ids)
	fmt.Printf("%q\n", tk.Decode(ids))
	// Output:
	// [1 8 8 3]
	// "hi hi\n"
}

func ExampleTokenizer_EncodeWithSpecial() {
	tk, err := tokenizer.New(spmVocab())
	if err != nil {
		panic(err)
	}
	fmt.Println(tk.Encode("<s>hi", false))     // "<s>" is text: UNK for each unknown letter
	fmt.Println(tk.EncodeWithSpecial("<s>hi")) // "<s>" is BOS, and "hi" after it gets the space prefix
	// Output:
	// [4 0 0 0 7]
	// [1 8]
}

func ExampleTokenizer_Detokenize() {
	tk, err := tokenizer.New(spmVocab())
	if err != nil {
		panic(err)
	}
	ids := []int{1, 8, 8, 2}
	fmt.Printf("%q\n", tk.Decode(ids))
	fmt.Printf("%q\n", tk.Detokenize(ids, false, false)) // llama.cpp keeps the space after BOS
	fmt.Printf("%q\n", tk.Detokenize(ids, false, true))
	// Output:
	// "hi hi"
	// " hi hi"
	// "<s> hi hi</s>"
}

func ExampleTokenizer_NewDecoder() {
	v := spmVocab()
	for _, b := range []string{"<0xC3>", "<0xA9>"} {
		v.Tokens = append(v.Tokens, b)
		v.Scores = append(v.Scores, 0)
		v.Types = append(v.Types, tokenizer.TypeByte)
	}
	tk, err := tokenizer.New(v)
	if err != nil {
		panic(err)
	}
	ids := tk.Encode("hié", false) // ▁hi, then é as two byte tokens
	d := tk.NewDecoder()
	for _, id := range ids {
		fmt.Printf("%d %q\n", id, d.Next(id))
	}
	// Output:
	// 8 "hi"
	// 9 ""
	// 10 "é"
}

func ExampleReadGPT2Files_encode() {
	v, err := tokenizer.ReadGPT2Files("testdata/gpt2-tiny")
	if err != nil {
		panic(err)
	}
	tk, err := tokenizer.New(v)
	if err != nil {
		panic(err)
	}
	ids := tk.Encode("ab ab<|endoftext|>", false)
	fmt.Println(ids, len(ids) > 3) // "<|endoftext|>" is plain text here
	fmt.Println(tk.EncodeWithSpecial("ab ab<|endoftext|>"))
	fmt.Printf("%q\n", tk.Decode([]int{3, 4, 5}))
	// Output:
	// [3 4] false
	// [3 4 5]
	// "ab ab"
}

func ExampleParseTiktoken() {
	// A rank file: every byte, then "ab" and "abc".
	var ranks strings.Builder
	for c := 0; c < 256; c++ {
		fmt.Fprintf(&ranks, "%s %d\n", base64.StdEncoding.EncodeToString([]byte{byte(c)}), c)
	}
	fmt.Fprintf(&ranks, "%s 256\n%s 257\n", base64.StdEncoding.EncodeToString([]byte("ab")),
		base64.StdEncoding.EncodeToString([]byte("abc")))
	tk, err := tokenizer.ParseTiktoken([]byte(ranks.String()), "cl100k_base", map[string]int{"<|endoftext|>": 258})
	if err != nil {
		panic(err)
	}
	fmt.Println(tk.Encode("abc abd", false))
	fmt.Println(tk.EncodeWithSpecial("abc<|endoftext|>"))
	// Output:
	// [257 32 256 100]
	// [257 258]
}

func ExampleByteLevelEncode() {
	s := tokenizer.ByteLevelEncode(" hi\n")
	b, ok := tokenizer.ByteLevelDecode(s)
	fmt.Printf("%s %q %v\n", s, b, ok)
	// Output: ĠhiĊ " hi\n" true
}
