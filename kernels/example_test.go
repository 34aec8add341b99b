package kernels_test

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/lmc-project/lmc/gguf"
	"github.com/lmc-project/lmc/kernels"
)

// A 2×3 F32 weight matrix applied to two activation rows at once.
func ExampleNew() {
	w := []float32{
		1, 2, 3,
		0, 1, 0,
	}
	var data []byte
	for _, v := range w {
		data = binary.LittleEndian.AppendUint32(data, math.Float32bits(v))
	}
	m, err := kernels.New(gguf.TypeF32, data, 2, 3)
	if err != nil {
		panic(err)
	}
	x := []float32{
		1, 1, 1, // token 0
		0, 2, 0, // token 1
	}
	dst := make([]float32, 2*m.Rows())
	m.MatMul(dst, x, 2)
	fmt.Println(dst)
	// Output: [6 1 4 2]
}

func ExampleNewF32() {
	m, _ := kernels.NewF32([]float32{1, 0, 0, 1, 2, 2}, 3, 2)
	dst := make([]float32, 3)
	m.MatMul(dst, []float32{3, 4}, 1)
	fmt.Println(m.Type(), dst)
	// Output: f32 [3 4 14]
}

func ExampleParallel() {
	squares := make([]int, 10)
	kernels.Parallel(len(squares), 4, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			squares[i] = i * i
		}
	})
	fmt.Println(squares)
	// Output: [0 1 4 9 16 25 36 49 64 81]
}

// Attention for one query over three positions: scores with Dots, then
// the probabilities' weighted sum of the values.
func ExampleDots() {
	keys := []float32{1, 0, 0, 1, 1, 1} // 3 positions × 2
	q := []float32{2, 1}
	scores := make([]float32, 3)
	kernels.Dots(scores, 3, keys, 2, 3, q, 2, 1, 2)
	fmt.Println(scores)
	vals := []float32{1, 10, 2, 20, 3, 30}
	out := make([]float32, 2)
	kernels.WeightedSum(out, vals, 2, []float32{0.5, 0.25, 0.25})
	fmt.Println(out)
	// Output:
	// [2 1 3]
	// [1.75 17.5]
}
