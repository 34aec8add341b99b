package fp_test

import (
	"fmt"
	"math"

	"github.com/lmc-project/lmc/quant/fp"
)

func ramp(n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(math.Sin(float64(i))) / 4
	}
	return x
}

func maxErr(x, y []float32) float64 {
	var worst float64
	for i := range x {
		worst = max(worst, math.Abs(float64(x[i]-y[i])))
	}
	return worst
}

func ExampleQuantizeRowMXFP4() {
	x := ramp(64)
	q := make([]byte, len(x)/fp.MXFP4BlockSize*fp.MXFP4BlockBytes)
	if err := fp.QuantizeRowMXFP4(q, x); err != nil {
		panic(err)
	}
	y := make([]float32, len(x))
	fp.DequantizeRowMXFP4(y, q)
	// amax 0.2499 → e = floor(log2 amax) − 2 + 127 = 122: the grid tops
	// out at 6·2^(122−127) = 0.1875, and larger values clip (OCP's choice).
	fmt.Printf("%d values in %d bytes, exponent byte %d, max error %.4f\n", len(x), len(q), q[0], maxErr(x, y))
	// Output: 64 values in 34 bytes, exponent byte 122, max error 0.0625
}

func ExampleQuantizeRowNVFP4() {
	x := ramp(64)
	q := make([]byte, fp.NVFP4BlockBytes)
	if err := fp.QuantizeRowNVFP4(q, x); err != nil {
		panic(err)
	}
	y := make([]float32, len(x))
	fp.DequantizeRowNVFP4(y, q)
	fmt.Printf("scales % x, max error %.4f\n", q[:4], maxErr(x, y))
	// Output: scales 13 13 13 13, max error 0.0409
}

func ExampleQuantizeNVFP4() {
	w := ramp(2 * 32)
	q, err := fp.QuantizeNVFP4(w, 2, 32)
	if err != nil {
		panic(err)
	}
	y := make([]float32, len(w))
	q.Dequantize(y)
	fmt.Printf("global scale %.1f, %d group scales, %d packed bytes, max error %.4f\n", q.GlobalScale, len(q.Scales), len(q.Packed), maxErr(w, y))
	// Output: global scale 10752.1, 4 group scales, 32 packed bytes, max error 0.0413
}

func ExampleQuantizeFP8() {
	w := ramp(4 * 8)
	q, err := fp.QuantizeFP8(w, 4, 8, fp.PerChannel)
	if err != nil {
		panic(err)
	}
	y := make([]float32, len(w))
	q.Dequantize(y)
	fmt.Printf("%d scales, first %.6f (= amax/448), max error %.5f\n", len(q.Scales), q.Scales[0], maxErr(w, y))
	// Output: 4 scales, first 0.000535 (= amax/448), max error 0.00791
}

func ExampleQuantizeNF4() {
	x := ramp(1000)
	q, err := fp.QuantizeNF4(x, fp.NF4Options{DoubleQuant: true})
	if err != nil {
		panic(err)
	}
	y := make([]float32, len(x))
	q.Dequantize(y)
	// Bytes counts the 256-entry double-quantization code (1 KiB), which
	// dominates at this size.
	fmt.Printf("%d blocks, offset %.4f, %.2f bits per value, max error %.4f\n", len(q.QAbsmax), q.Offset, float64(8*q.Bytes())/float64(len(x)), maxErr(x, y))
	// Output: 16 blocks, offset 0.2498, 12.38 bits per value, max error 0.0375
}

func ExampleDynamicMap() {
	m := fp.DynamicMap()
	fmt.Println(m[0], m[127], m[128], m[255])
	// Output: -0.99296874 0 5.5000004e-07 1
}

// Example_dot multiplies MXFP4 weights by Q8_0 activations with DotMXFP4Q8_0.
func Example_dot() {
	w := ramp(64)
	x := make([]float32, 64)
	for i := range x {
		x[i] = float32(i%7) - 3
	}
	qw := make([]byte, 2*fp.MXFP4BlockBytes)
	if err := fp.QuantizeRowMXFP4(qw, w); err != nil {
		panic(err)
	}
	qx := make([]byte, 2*34)
	fp.QuantizeRowQ8_0(qx, x)
	dw := make([]float32, 64)
	fp.DequantizeRowMXFP4(dw, qw)
	var exact float64
	for i := range x {
		exact += float64(dw[i]) * float64(x[i])
	}
	// The kernel sees activations rounded to Q8_0 (1/127 of each block's
	// largest value), hence the small difference.
	fmt.Printf("kernel %.4f, float64 on dequantized weights %.4f\n", fp.DotMXFP4Q8_0(64, qw, qx), exact)
	// Output: kernel -0.6245, float64 on dequantized weights -0.6250
}

func ExampleF32ToUE4M3() {
	for _, v := range []float32{1, 1.0625, 300, 0.001} {
		c := fp.F32ToUE4M3(v)
		fmt.Printf("%v → %#02x → %v\n", v, c, 2*fp.UE4M3ToF32Half(c))
	}
	// Output:
	// 1 → 0x38 → 1
	// 1.0625 → 0x39 → 1.125
	// 300 → 0x7e → 448
	// 0.001 → 0x01 → 0.001953125
}

func ExampleQuantizeFP8Scaled() {
	// Scales stored as BF16 must be rounded before the codes are chosen.
	w := ramp(8)
	s := fp.FP8Scales(w, 1, 8, fp.PerTensor)
	s[0] = float32(math.Float32frombits(math.Float32bits(s[0]) &^ 0xffff)) // BF16 truncation, for the example
	q, err := fp.QuantizeFP8Scaled(w, 1, 8, s)
	if err != nil {
		panic(err)
	}
	fmt.Printf("scale %.6f, codes % x\n", q.Scales[0], q.Data)
	// Output: scale 0.000534, codes 00 7c 7d 68 fb fe f0 7a
}
