// Package kerneltest checks implementations of [kernels.Matrix] against
// float64 reference arithmetic. Packages that register a weight type (the
// block-quantized types) call [CheckMatrix] from their tests.
package kerneltest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lmc-project/lmc/kernels"
)

// TokenCounts are the batch sizes CheckMatrix runs MatMul with: decoding,
// every tile remainder, and a batch larger than any tile.
var TokenCounts = []int{1, 2, 3, 4, 5, 7, 8, 17}

// CheckMatrix checks m against ref, the exact dequantized weights (ref[r]
// holds row r, Cols() floats):
//
//   - Rows, Cols and len(Data()) agree with ref and Type().RowSize;
//   - DequantizeRow reproduces ref bit for bit;
//   - MatMul, for every n in [TokenCounts], on random activations (a fixed
//     seed), matches the float64 dot products with ref within
//     tol × Σ_c |W[r,c]·x[c]| per output (tol absorbs float32 summation,
//     about 1e-5, and the rounding of activations to Q8_0/Q8_K, about
//     1e-2);
//   - MatMul writes nothing past n×Rows() in dst and leaves x unchanged;
//   - one thread and the default thread count agree within the same bound.
func CheckMatrix(tb testing.TB, m kernels.Matrix, ref [][]float32, tol float64) {
	tb.Helper()
	rows, cols := m.Rows(), m.Cols()
	if rows != len(ref) || rows == 0 || cols != len(ref[0]) {
		tb.Fatalf("%s matrix is [%d, %d], reference is [%d, %d]", m.Type(), rows, cols, len(ref), lenRow(ref))
	}
	rs, err := m.Type().RowSize(int64(cols))
	if err != nil {
		tb.Fatalf("%s RowSize(%d): %v", m.Type(), cols, err)
	}
	if got := len(m.Data()); int64(got) != rs*int64(rows) {
		tb.Errorf("%s Data() has %d bytes, want %d rows × %d", m.Type(), got, rows, rs)
	}
	row := make([]float32, cols+1)
	for r := 0; r < rows; r++ {
		row[cols] = 12345
		m.DequantizeRow(row, r)
		if row[cols] != 12345 {
			tb.Fatalf("%s DequantizeRow(%d) wrote past Cols()", m.Type(), r)
		}
		for c := 0; c < cols; c++ {
			if math.Float32bits(row[c]) != math.Float32bits(ref[r][c]) {
				tb.Fatalf("%s DequantizeRow(%d)[%d] = %v, reference %v", m.Type(), r, c, row[c], ref[r][c])
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, uint64(rows*cols)))
	const sentinel = float32(-7.25e31)
	for _, n := range TokenCounts {
		x := make([]float32, n*cols)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		x0 := append([]float32(nil), x...)
		dst := make([]float32, n*rows+3)
		for i := range dst {
			dst[i] = sentinel
		}
		m.MatMul(dst, x, n)
		for i := n * rows; i < len(dst); i++ {
			if dst[i] != sentinel {
				tb.Fatalf("%s MatMul n=%d wrote dst[%d] past n×rows", m.Type(), n, i)
			}
		}
		for i := range x {
			if math.Float32bits(x[i]) != math.Float32bits(x0[i]) {
				tb.Fatalf("%s MatMul n=%d modified x[%d]", m.Type(), n, i)
			}
		}
		if msg := compare(dst, ref, x, n, tol); msg != "" {
			tb.Fatalf("%s MatMul n=%d: %s", m.Type(), n, msg)
		}
		prev := kernels.SetThreads(1)
		one := make([]float32, n*rows)
		m.MatMul(one, x, n)
		kernels.SetThreads(prev)
		if msg := compare(one, ref, x, n, tol); msg != "" {
			tb.Fatalf("%s MatMul n=%d on one thread: %s", m.Type(), n, msg)
		}
	}
}

func lenRow(ref [][]float32) int {
	if len(ref) == 0 {
		return 0
	}
	return len(ref[0])
}

// compare returns "" when every dst[t*rows+r] is within tol × Σ|w·x| of the
// float64 dot product, or a description of the worst miss.
func compare(dst []float32, ref [][]float32, x []float32, n int, tol float64) string {
	rows, cols := len(ref), len(ref[0])
	for t := 0; t < n; t++ {
		xt := x[t*cols : (t+1)*cols]
		for r := 0; r < rows; r++ {
			var want, mag float64
			for c, w := range ref[r] {
				p := float64(w) * float64(xt[c])
				want += p
				mag += math.Abs(p)
			}
			got := float64(dst[t*rows+r])
			if d := math.Abs(got - want); !(d <= tol*mag+1e-30) {
				return fmt.Sprintf("token %d row %d = %g, want %g (|diff| %.3g > %g × %.3g)", t, r, got, want, d, tol, mag)
			}
		}
	}
	return ""
}
