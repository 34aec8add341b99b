package quant_test

import (
	"errors"
	"fmt"
	"math"

	"github.com/lmc-project/lmc/gguf"
	"github.com/lmc-project/lmc/quant"
)

func ramp(n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(math.Sin(float64(i))) / 4
	}
	return x
}

func ExampleFormat_Quantize() {
	x := ramp(256)
	f := quant.Q4_K
	n, _ := f.RowBytes(len(x))
	q := make([]byte, n)
	if err := f.Quantize(q, x, nil); err != nil {
		panic(err)
	}
	y := make([]float32, len(x))
	f.Dequantize(y, q)
	var worst float64
	for i := range x {
		worst = max(worst, math.Abs(float64(x[i]-y[i])))
	}
	fmt.Printf("%s: %d values in %d bytes, max error %.4f\n", f, len(x), len(q), worst)
	// Output: q4_K: 256 values in 144 bytes, max error 0.0169
}

func ExampleFormat_QuantizeRows() {
	x := ramp(2 * 64)
	x[64+5] = float32(math.NaN())
	q := make([]byte, 2*2*quant.Q8_0.BlockBytes)
	err := quant.Q8_0.QuantizeRows(q, x, 64, nil)
	fmt.Println(err)
	fmt.Println(errors.Is(err, quant.ErrNonFinite))
	// Output:
	// quant: q8_0: row 1, column 5: NaN cannot be quantized
	// true
}

func ExampleFormat_VecDot() {
	w, a := ramp(512), ramp(512)
	f := quant.Q6_K
	q := make([]byte, 2*f.BlockBytes)
	if err := f.Quantize(q, w, nil); err != nil {
		panic(err)
	}
	act := make([]byte, 2*quant.Q8_K.BlockBytes) // f.DotType is Q8_K
	f.QuantizeActivations(act, a)
	var exact float64
	for i := range w {
		exact += float64(w[i]) * float64(a[i])
	}
	fmt.Printf("%.3f %.3f\n", f.VecDot(512, q, act), exact)
	// Output: 15.988 16.001
}

func ExampleLookup() {
	for _, t := range []gguf.Type{gguf.TypeQ5_K, gguf.TypeIQ2_XXS} {
		if f, ok := quant.Lookup(t); ok {
			fmt.Printf("%s: %d values in %d bytes, dot with %s\n", f, f.BlockSize, f.BlockBytes, f.DotType)
		} else {
			fmt.Printf("%s: not supported\n", t)
		}
	}
	// Output:
	// q5_K: 256 values in 176 bytes, dot with q8_K
	// iq2_xxs: not supported
}

// QuantizeRowQ8_0 (its name cannot carry an Example suffix).
func Example_quantizeRowQ8_0() {
	x := ramp(32)
	q := make([]byte, quant.Q8_0.BlockBytes)
	quant.QuantizeRowQ8_0(q, x)
	fmt.Println(int8(q[2]), int8(q[3]), int8(q[4]), int8(q[5]))
	// Output: 0 107 115 18
}

// QuantizeRowQ8_K.
func Example_quantizeRowQ8_K() {
	x := ramp(256)
	q := make([]byte, quant.Q8_K.BlockBytes)
	quant.QuantizeRowQ8_K(q, x)
	fmt.Println(int8(q[4]), int8(q[5]), int8(q[6]), "bsum0", int16(uint16(q[260])|uint16(q[261])<<8))
	// Output: 0 107 115 bsum0 246
}
