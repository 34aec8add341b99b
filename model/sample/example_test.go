package sample_test

import (
	"fmt"

	"github.com/lmc-project/lmc/model/sample"
)

func ExampleGreedy() {
	fmt.Println(sample.Greedy([]float32{0.1, 2.5, -1, 2.4}))
	// Output: 1
}

func ExampleSampler_Sample() {
	logits := []float32{1, 3, 2, 0.5}
	s := sample.New(sample.Options{Temperature: 0.8, TopK: 2, Seed: 42})
	for i := 0; i < 5; i++ {
		tok := s.Sample(logits)
		fmt.Println(tok == 1 || tok == 2) // top-k 2 keeps tokens 1 and 2
	}
	// Output:
	// true
	// true
	// true
	// true
	// true
}
