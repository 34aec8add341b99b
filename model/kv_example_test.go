package model_test

import (
	"fmt"
	"log"

	"github.com/lmc-project/lmc/model"
	"github.com/lmc-project/lmc/modelfile"
)

func ExampleParseKVType() {
	for _, s := range []string{"q8_0", "Q4_0/F16", "e4m3", "kivi2"} {
		t, err := model.ParseKVType(s)
		fmt.Println(t, t.K(), t.V(), err)
	}
	// Output:
	// q8_0 q8_0 q8_0 <nil>
	// q4_0/f16 q4_0 f16 <nil>
	// fp8 fp8 fp8 <nil>
	// int2 int2 int2 <nil>
}

// A session whose cache stores keys in Q8_0 and values in Q4_0 and keeps
// at most 128 positions per layer, chosen by H2O. (Not run by go test: it
// needs the model file.)
func ExampleSessionOptions_compressedCache() {
	mf, err := modelfile.Open("books5M-f32.gguf", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer mf.Close()
	m, err := model.Load(mf, model.Options{})
	if err != nil {
		log.Fatal(err)
	}
	s, err := m.NewSessionWith(model.SessionOptions{
		Context:   4096,
		KV:        model.KVPair(model.KVQ8_0, model.KVQ4_0),
		KVOptions: model.KVOptions{Policy: model.KVH2O, Budget: 128},
		Batch:     16, // small prompt batches: each sees at most 128+16 positions
	})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := s.Prefill([]int{1, 359, 413, 286}); err != nil {
		log.Fatal(err)
	}
	c := s.Cache().(*model.Cache)
	fmt.Printf("%.0f bytes per position, %d evicted\n", c.BytesPerToken(), c.Stats().Evicted)
}

// Two requests sharing a system prompt: the second computes only what
// follows the shared pages. (Not run by go test: it needs the model file.)
func ExampleNewPrefixCache() {
	mf, err := modelfile.Open("books5M-f32.gguf", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer mf.Close()
	m, err := model.Load(mf, model.Options{})
	if err != nil {
		log.Fatal(err)
	}
	pc, err := model.NewPrefixCache(model.PrefixOptions{MaxBytes: 256 << 20, Dir: "kv-pages"})
	if err != nil {
		log.Fatal(err)
	}
	system := make([]int, 300) // the shared prompt's tokens
	for _, question := range [][]int{{17, 18}, {19, 20, 21}} {
		s, err := m.NewSessionWith(model.SessionOptions{KVOptions: model.KVOptions{Prefix: pc}})
		if err != nil {
			log.Fatal(err)
		}
		if _, err := s.Prefill(append(append([]int(nil), system...), question...)); err != nil {
			log.Fatal(err)
		}
		fmt.Println("reused", s.Cache().(*model.Cache).Stats().ReusedTokens, "positions")
		s.Close()
	}
	pc.Flush() // keep the pages on disk for the next process
}
