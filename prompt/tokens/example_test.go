package tokens_test

import (
	"fmt"

	"github.com/lmc-project/lmc/prompt/tokens"
)

func ExampleOpen() {
	c, err := tokens.Open("cl100k_base")
	if err != nil {
		panic(err)
	}
	fmt.Println(c.Name(), c.Count("Prompt compression keeps the answer."))
	// Output: cl100k_base 6
}
