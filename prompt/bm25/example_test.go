package bm25_test

import (
	"fmt"

	"github.com/lmc-project/lmc/prompt/bm25"
)

func ExampleIndex_Rank() {
	ix := bm25.New([]string{
		"Paris is the capital of France.",
		"Berlin is the capital of Germany.",
		"France borders Germany.",
	}, nil)
	fmt.Println(ix.Rank("capital of Germany"))
	// Output: [1 0 2]
}
