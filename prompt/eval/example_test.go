package eval_test

import (
	"fmt"

	"github.com/lmc-project/lmc/prompt/eval"
)

func ExampleRetained() {
	fmt.Println(eval.Retained("It was headlined by Coldplay.", []string{"The Coldplay"}))
	fmt.Println(eval.Retained("It was headlined by Coldplay.", []string{"Cold"}))
	// Output:
	// true
	// false
}
