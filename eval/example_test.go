package eval_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/lmc-project/lmc/eval"
	"github.com/lmc-project/lmc/model"
	"github.com/lmc-project/lmc/modelfile"
	"github.com/lmc-project/lmc/tokenizer"
)

// load opens a model file with its tokenizer.
func load(path string) (*model.Model, *tokenizer.Tokenizer) {
	mf, err := modelfile.Open(path, nil)
	if err != nil {
		log.Fatal(err)
	}
	m, err := model.Load(mf, model.Options{})
	if err != nil {
		log.Fatal(err)
	}
	tok, err := tokenizer.New(mf.Vocab)
	if err != nil {
		log.Fatal(err)
	}
	return m, tok
}

// Perplexity of a model on a text, as llama-perplexity -c 256 computes it.
// (Not run by go test: it needs the model file.)
func ExamplePerplexity() {
	m, tok := load("books5M-f32.gguf")
	text, err := eval.ReadText("pg98.txt", tok)
	if err != nil {
		log.Fatal(err)
	}
	r, err := eval.Perplexity(context.Background(), m, text, eval.Options{Context: 256})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("PPL = %.4f +/- %.5f over %d tokens\n", r.PPL, r.PPLErr, r.Tokens)
}

// Saving a base model's log-probabilities once, then comparing a quantized
// model with them. (Not run by go test: it needs the model files.)
func ExampleKLD() {
	base, tok := load("books5M-f32.gguf")
	text, err := eval.ReadText("pg98.txt", tok)
	if err != nil {
		log.Fatal(err)
	}
	o := eval.Options{Context: 256}
	if _, err := eval.SaveBase(context.Background(), base, text, "f32.kld", 0, o); err != nil {
		log.Fatal(err)
	}
	bl, err := eval.OpenBase("f32.kld")
	if err != nil {
		log.Fatal(err)
	}
	defer bl.Close()
	q, _ := load("books5M-q4_k_m.gguf")
	r, err := eval.KLD(context.Background(), q, bl, text.BOS, o)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("mean KLD %.6f, 99%% %.6f, same top %.2f%%\n", r.KLD.Value, r.KLDQuantiles.P99, 100*r.SameTop.Value)
}

// Speed as llama-bench -p 128 -n 128 measures it. (Not run by go test.)
func ExampleBench() {
	m, tok := load("books5M-q4_k_m.gguf")
	r, err := eval.Bench(context.Background(), m, eval.BenchOptions{Prompt: 128, Gen: 128, Reps: 5, BOS: tok.BOS()})
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range r.Tests {
		fmt.Printf("%s: %.1f ± %.1f tokens/s\n", t.Name, t.Mean, t.Std)
	}
}

// A file that is not base logits is refused with a FormatError naming the
// field at fault.
func ExampleOpenBase_formatError() {
	p := filepath.Join(os.TempDir(), "not-logits.kld")
	os.WriteFile(p, []byte("GGUF\x03\x00\x00\x00"), 0o644)
	defer os.Remove(p)
	_, err := eval.OpenBase(p)
	var fe *eval.FormatError
	fmt.Println(errors.Is(err, eval.ErrFormat), errors.As(err, &fe) && fe.Field == "magic")
	// Output: true true
}
