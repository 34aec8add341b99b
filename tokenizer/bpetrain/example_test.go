package bpetrain_test

import (
	"fmt"

	"github.com/lmc-project/lmc/tokenizer/bpetrain"
	"github.com/lmc-project/lmc/tokenizer/pretok"
)

func ExampleTrainer() {
	tr := bpetrain.NewTrainer(pretok.GPT2)
	tr.Add("low lower lowest low low")
	tok, err := tr.Train(256+4+1, []string{"<|endoftext|>"})
	if err != nil {
		panic(err)
	}
	for _, m := range tok.Merges() {
		fmt.Printf("%q + %q\n", tok.Token(m[0]), tok.Token(m[1]))
	}
	ids := tok.Encode("low lowest")
	fmt.Println(ids, tok.DecodeString(ids))
	// Output:
	// "l" + "o"
	// "lo" + "w"
	// "Ġ" + "low"
	// "Ġlow" + "e"
	// [257 259 115 116] low lowest
}

func ExampleTokenizer_MarshalHF() {
	tr := bpetrain.NewTrainer(pretok.GPT2)
	tr.Add("hello hello")
	tok, _ := tr.Train(260, []string{"<|endoftext|>"})
	js, _ := tok.MarshalHF(bpetrain.HFOptions{BOS: "<|endoftext|>"})
	fmt.Println(len(js) > 0, tok.VocabSize())
	// Output: true 260
}
