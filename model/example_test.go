package model_test

import (
	"fmt"
	"log"

	"github.com/lmc-project/lmc/model"
	"github.com/lmc-project/lmc/model/sample"
	"github.com/lmc-project/lmc/modelfile"
)

// Greedy generation from prompt token ids. (Not run by go test: it needs
// the model file.)
func Example() {
	mf, err := modelfile.Open("stories260K.gguf", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer mf.Close()
	m, err := model.Load(mf, model.Options{})
	if err != nil {
		log.Fatal(err)
	}
	s := m.NewSession(512)
	logits, err := s.Prefill([]int{1, 403, 407, 261, 378}) // <s> Once upon a time
	if err != nil {
		log.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		next := sample.Greedy(logits)
		fmt.Print(mf.Vocab.Tokens[next], " ")
		if logits, err = s.Decode(next); err != nil {
			log.Fatal(err)
		}
	}
}

// Collecting the inputs of every linear layer, as a calibration pass does.
func ExampleHooks() {
	mf, err := modelfile.Open("stories260K.gguf", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer mf.Close()
	rows := map[string]int{}
	m, err := model.Load(mf, model.Options{Hooks: model.Hooks{
		OnLinearInput: func(layer int, name string, x []float32, n, cols int) { rows[name] += n },
	}})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := m.NewSession(0).Prefill([]int{1, 403, 407, 261, 378}); err != nil {
		log.Fatal(err)
	}
	fmt.Println(rows["blk.0.ffn_down.weight"]) // 5 token rows
}

func ExampleNewKVCache() {
	c, err := model.NewKVCache(model.KVF16, 2, 4, 16) // 2 layers, 4 floats per position, 16 positions
	if err != nil {
		log.Fatal(err)
	}
	c.Put(0, 0, []float32{1, 2, 3, 4}, []float32{0.5, 0.25, 0, -1})
	c.SetLen(1)
	fmt.Println(c.Len(), c.Keys(0, 1), c.Values(0, 1))
	// Output: 1 [1 2 3 4] [0.5 0.25 0 -1]
}
