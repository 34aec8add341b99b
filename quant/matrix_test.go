package quant

import (
	"testing"

	"github.com/lmc-project/lmc/kernels"
	"github.com/lmc-project/lmc/kernels/kerneltest"
)

// TestMatrix runs the kernels conformance check on every registered
// format at every kernel level: DequantizeRow bit-exact, MatMul within
// 2% of Σ|w·x| of float64 products (the activations are rounded to 8 bits).
func TestMatrix(t *testing.T) {
	const rows, cols = 19, 512
	r := newRand(11)
	withLevels(t, func(t *testing.T) {
		for _, f := range formats {
			if f.dot == nil {
				continue
			}
			x := randomFloats(r, rows*cols, 0.1)
			rb, _ := f.RowBytes(cols)
			data := make([]byte, rows*rb)
			if err := f.QuantizeRows(data, x, cols, nil); err != nil {
				t.Fatal(err)
			}
			ref := make([][]float32, rows)
			for i := range ref {
				ref[i] = make([]float32, cols)
				f.dequantG(ref[i], data[i*rb:(i+1)*rb])
			}
			m, err := kernels.New(f.Type, data, rows, cols)
			if err != nil {
				t.Fatal(err)
			}
			kerneltest.CheckMatrix(t, m, ref, 0.02)
		}
	})
}
