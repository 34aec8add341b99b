package dedup_test

import (
	"fmt"

	"github.com/lmc-project/lmc/prompt/dedup"
)

func ExampleFind() {
	ms := dedup.Find([]string{
		"Returns are accepted within 30 days of purchase with a receipt.",
		"Shipping is free on orders over 50 dollars.",
		"RETURNS are accepted within 30 days of purchase, with a receipt!",
	}, nil)
	for i, m := range ms {
		fmt.Println(i, m.Kind, m.Of)
	}
	// Output:
	// 0 unique -1
	// 1 unique -1
	// 2 exact 0
}
