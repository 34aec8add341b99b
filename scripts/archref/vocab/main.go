// Command vocab writes the byte-level BPE tokenizer shared by the archref
// test models (testdata/archref): the 256 GPT-2 byte tokens, 40 merges
// trained with tokenizer/bpetrain on a few sentences written for this
// purpose (public domain), and "<|endoftext|>" as the last id, used as
// both BOS and EOS. It writes tokenizer.json into each variant folder and
// prompts.json (the token ids of the two test prompts) into the root, for
// scripts/archref/make.py to read.
//
//	go run ./scripts/archref/vocab -o testdata/archref llama llama-tied qwen2 qwen3 mistral llama3-rope
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/lmc-project/lmc/tokenizer/bpetrain"
	"github.com/lmc-project/lmc/tokenizer/pretok"
)

// corpus was written for this tool; it is in the public domain.
var corpus = []string{
	"The small fox ran over the green hill and the tall tree.",
	"A little bird sang in the morning, and the sun was warm.",
	"They went to the river to look at the boats on the water.",
	"The old man told the children a story about the sea.",
	"She put the red book on the table and went to the garden.",
	"In the evening the stars came out over the quiet town.",
	"The cat and the dog sat by the fire and the rain fell.",
	"We walked along the road, talking about the long winter.",
}

// Prompt texts: their ids, after BOS, are cut to 5 and 19 tokens.
var prompts = []struct {
	text string
	n    int
}{
	{"The little fox went to the river.", 5},
	{"In the morning the old man walked to the garden and sat by the water, talking about the sea.", 19},
}

const (
	nMerges = 40
	special = "<|endoftext|>"
)

func main() {
	out := flag.String("o", "testdata/archref", "root folder of the archref models")
	flag.Parse()
	tr := bpetrain.NewTrainer(pretok.GPT2)
	for _, s := range corpus {
		tr.Add(s)
	}
	tok, err := tr.Train(256+nMerges+1, []string{special})
	if err != nil {
		log.Fatal(err)
	}
	if tok.VocabSize() != 256+nMerges+1 {
		log.Fatalf("trained %d tokens, want %d (corpus ran out of pairs)", tok.VocabSize(), 256+nMerges+1)
	}
	js, err := tok.MarshalHF(bpetrain.HFOptions{BOS: special})
	if err != nil {
		log.Fatal(err)
	}
	for _, v := range flag.Args() {
		dir := filepath.Join(*out, v)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), js, 0o644); err != nil {
			log.Fatal(err)
		}
	}
	bos, _ := tok.ID(special)
	var p struct {
		VocabSize int      `json:"vocab_size"`
		BOS       int      `json:"bos"`
		Texts     []string `json:"texts"`
		IDs       [][]int  `json:"ids"`
	}
	p.VocabSize, p.BOS = tok.VocabSize(), bos
	for _, pr := range prompts {
		ids := tok.Encode(pr.text)
		if len(ids) < pr.n {
			log.Fatalf("prompt %q has %d tokens, want at least %d", pr.text, len(ids), pr.n)
		}
		ids = append([]int{bos}, ids[:pr.n]...)
		p.Texts = append(p.Texts, tok.DecodeString(ids[1:]))
		p.IDs = append(p.IDs, ids)
	}
	b, _ := json.MarshalIndent(p, "", "  ")
	if err := os.WriteFile(filepath.Join(*out, "prompts.json"), append(b, '\n'), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("vocab %d tokens (bos/eos %d), prompts %v\n", tok.VocabSize(), bos, p.IDs)
}
