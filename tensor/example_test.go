package tensor_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/lmc-project/lmc/tensor"
)

func ExampleParseDType() {
	for _, s := range []string{"bf16", "F8_E4M3", "fp8", "float32", "q4"} {
		d, err := tensor.ParseDType(s)
		if err != nil {
			fmt.Println(s, "->", "error")
			continue
		}
		fmt.Println(s, "->", d, d.Size(), d.IsFloat())
	}
	// Output:
	// bf16 -> BF16 2 true
	// F8_E4M3 -> F8_E4M3 1 true
	// fp8 -> F8_E4M3 1 true
	// float32 -> F32 4 true
	// q4 -> error
}

func ExampleF32ToF16() {
	for _, f := range []float32{1, 0.1, 65504, 65519, 65520, 1e-8} {
		fmt.Printf("%g -> %#04x -> %g\n", f, tensor.F32ToF16(f), tensor.F16ToF32(tensor.F32ToF16(f)))
	}
	// Output:
	// 1 -> 0x3c00 -> 1
	// 0.1 -> 0x2e66 -> 0.099975586
	// 65504 -> 0x7bff -> 65504
	// 65519 -> 0x7bff -> 65504
	// 65520 -> 0x7c00 -> +Inf
	// 1e-08 -> 0x0000 -> 0
}

func ExampleF16ToF32() {
	fmt.Println(tensor.F16ToF32(0x3555), tensor.F16ToF32(0x0001), tensor.F16ToF32(0xfc00))
	// Output: 0.33325195 5.9604645e-08 -Inf
}

func ExampleF32ToBF16() {
	h := tensor.F32ToBF16(math.Pi)
	fmt.Printf("%#04x %g\n", h, tensor.BF16ToF32(h))
	// Output: 0x4049 3.140625
}

func ExampleBF16ToF32() {
	fmt.Println(tensor.BF16ToF32(0x3f80), tensor.BF16ToF32(0xc2f7))
	// Output: 1 -123.5
}

func ExampleF32ToF8E4M3() {
	// PyTorch semantics: beyond the 464 tie there is no finite value left.
	for _, f := range []float32{1.1, 448, 464, 465, float32(math.Inf(-1))} {
		b := tensor.F32ToF8E4M3(f)
		fmt.Printf("%g -> %#02x -> %g\n", f, b, tensor.F8E4M3ToF32(b))
	}
	// Output:
	// 1.1 -> 0x39 -> 1.125
	// 448 -> 0x7e -> 448
	// 464 -> 0x7e -> 448
	// 465 -> 0x7f -> NaN
	// -Inf -> 0xff -> NaN
}

func ExampleF32ToF8E4M3Sat() {
	fmt.Printf("%#02x %#02x\n", tensor.F32ToF8E4M3Sat(1000), tensor.F32ToF8E4M3Sat(float32(math.Inf(-1))))
	// Output: 0x7e 0xfe
}

func ExampleF8E4M3ToF32() {
	fmt.Println(tensor.F8E4M3ToF32(0x01), tensor.F8E4M3ToF32(0x38), tensor.F8E4M3ToF32(0xfe))
	// Output: 0.001953125 1 -448
}

func ExampleF32ToF8E5M2() {
	for _, f := range []float32{3, 57344, 61440} {
		fmt.Printf("%g -> %#02x\n", f, tensor.F32ToF8E5M2(f))
	}
	// Output:
	// 3 -> 0x42
	// 57344 -> 0x7b
	// 61440 -> 0x7c
}

func ExampleF8E5M2ToF32() {
	fmt.Println(tensor.F8E5M2ToF32(0x42), tensor.F8E5M2ToF32(0x7c), tensor.F8E5M2ToF32(0x01))
	// Output: 3 +Inf 1.5258789e-05
}

func ExampleF16ToF32Slice() {
	dst := make([]float32, 3)
	tensor.F16ToF32Slice(dst, []uint16{0x3c00, 0xc000, 0x3800})
	fmt.Println(dst)
	// Output: [1 -2 0.5]
}

func ExampleF32ToF16Slice() {
	dst := make([]uint16, 3)
	tensor.F32ToF16Slice(dst, []float32{1, -2, 0.5})
	fmt.Printf("%#04x\n", dst)
	// Output: [0x3c00 0xc000 0x3800]
}

func ExampleBF16ToF32Slice() {
	dst := make([]float32, 2)
	tensor.BF16ToF32Slice(dst, []uint16{0x3f80, 0x4049})
	fmt.Println(dst)
	// Output: [1 3.140625]
}

func ExampleF32ToBF16Slice() {
	dst := make([]uint16, 2)
	tensor.F32ToBF16Slice(dst, []float32{1, math.Pi})
	fmt.Printf("%#04x\n", dst)
	// Output: [0x3f80 0x4049]
}

func ExampleConvert() {
	// Two BF16 values, little-endian, converted to F16 and to FP8
	// (3.140625 rounds to 3.25 in F8_E4M3).
	src := []byte{0x80, 0x3f, 0x49, 0x40} // 1.0, 3.140625
	f16 := make([]byte, 4)
	if err := tensor.Convert(f16, tensor.F16, src, tensor.BF16); err != nil {
		fmt.Println(err)
	}
	f8 := make([]byte, 2)
	if err := tensor.Convert(f8, tensor.F8E4M3, src, tensor.BF16); err != nil {
		fmt.Println(err)
	}
	fmt.Printf("% x | % x\n", f16, f8)

	err := tensor.Convert(make([]byte, 3), tensor.F16, src, tensor.BF16)
	fmt.Println(errors.Is(err, tensor.ErrLength))
	err = tensor.Convert(make([]byte, 2), tensor.I8, src, tensor.BF16)
	fmt.Println(errors.Is(err, tensor.ErrUnsupported))
	// Output:
	// 00 3c 48 42 | 38 45
	// true
	// true
}

func ExampleDecodeF32() {
	src := binary.LittleEndian.AppendUint16(nil, 0x3555) // F16 1/3
	src = binary.LittleEndian.AppendUint16(src, 0x7c00)  // F16 +Inf
	dst := make([]float32, 2)
	if err := tensor.DecodeF32(dst, src, tensor.F16); err != nil {
		fmt.Println(err)
	}
	fmt.Println(dst)
	// Output: [0.33325195 +Inf]
}

func ExampleEncodeF32() {
	dst := make([]byte, 3)
	if err := tensor.EncodeF32(dst, tensor.F8E5M2, []float32{1, -0.5, 1e6}); err != nil {
		fmt.Println(err)
	}
	fmt.Printf("% x\n", dst)
	// Output: 3c b8 7c
}
