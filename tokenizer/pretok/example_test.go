package pretok_test

import (
	"fmt"

	"github.com/lmc-project/lmc/tokenizer/pretok"
)

func ExampleSplitGPT2() {
	fmt.Printf("%q\n", pretok.SplitGPT2("Hello, y'all!  It's 2024\n\nbye"))
	// Output: ["Hello" "," " y" "'" "all" "!" " " " It" "'s" " 2024" "\n" "\n" "bye"]
}

func ExamplePattern_AppendEnds() {
	text := "Once upon a time"
	start := 0
	for _, end := range pretok.GPT2.AppendEnds(nil, text) {
		fmt.Printf("%q ", text[start:end])
		start = end
	}
	fmt.Println()
	// Output: "Once" " upon" " a" " time"
}
