package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/lmc-project/lmc/eval"
	"github.com/lmc-project/lmc/model"
	"github.com/lmc-project/lmc/modelfile"
	_ "github.com/lmc-project/lmc/quant"
	"github.com/lmc-project/lmc/tokenizer"
)

func main() {
	mf, err := modelfile.Open(os.Args[1], nil)
	if err != nil {
		panic(err)
	}
	m, err := model.Load(mf, model.Options{})
	if err != nil {
		panic(err)
	}
	tok, _ := tokenizer.New(mf.Vocab)
	text, err := eval.ReadText(os.Args[2], tok)
	if err != nil {
		panic(err)
	}
	n, _ := strconv.Atoi(os.Args[3])
	t0 := time.Now()
	r, err := eval.Perplexity(context.Background(), m, text, eval.Options{Context: 256, Chunks: n})
	if err != nil {
		panic(err)
	}
	fmt.Printf("ppl %.4f  %.0f tok/s  %v\n", r.PPL, r.TokensPerSecond, time.Since(t0))
}
