package awq_test

import (
	"fmt"

	"github.com/lmc-project/lmc/quant/awq"
)

// AWQ's candidate scales grow with the activation magnitude of each input
// channel; α = 0 leaves the weights alone.
func ExampleCandidate() {
	mean := []float32{0.5, 1, 2, 8}
	fmt.Println(awq.Candidate(mean, 0))
	fmt.Println(awq.Candidate(mean, 0.5))
	// Output:
	// [1 1 1 1]
	// [0.5 0.70710677 1 2]
}
