package kernels_test

import (
	"fmt"

	"github.com/lmc-project/lmc/kernels"
)

// Attention over two Q8_0 keys, read without converting them first.
func ExampleRowDots() {
	// Block 0 of each row: d = 0.5 (f16 0x3800), then 32 int8 codes.
	row := func(code int8) []byte {
		b := []byte{0x00, 0x38}
		for i := 0; i < 32; i++ {
			b = append(b, byte(code))
		}
		return b
	}
	keys := append(row(2), row(-4)...) // keys all 1, all −2
	q := make([]float32, 32)
	q[0], q[1] = 1, 0.5
	scores := make([]float32, 2)
	kernels.RowDots(kernels.RowQ8_0, scores, 2, keys, 34, 2, q, 32, 1, 32)
	out := make([]float32, 32)
	kernels.RowWeightedSum(kernels.RowQ8_0, out, keys, 34, []float32{0.75, 0.25})
	fmt.Println(scores, out[0])
	// Output: [1.5 -3] 0.25
}
