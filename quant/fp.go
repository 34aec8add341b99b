package quant

import (
	"math"
	"unsafe"

	"github.com/lmc-project/lmc/tensor"
)

// Float helpers that reproduce the float32 arithmetic of llama.cpp's
// quantizers (ggml-quants.c), operation by operation.

// nearestInt is ggml's nearest_int: it adds 1.5·2^23 so that the hardware
// rounds to an integer (ties to even) and reads the integer from the
// mantissa bits. Valid for |v| < 2^22, like the C function.
func nearestInt(v float32) int32 {
	f := v + 12582912
	return int32(math.Float32bits(f)&0x007fffff) - 0x00400000
}

// fp16 rounds f to half precision (GGML_FP32_TO_FP16: VCVTPS2PH, ties to
// even) and returns the bits.
func fp16(f float32) uint16 { return tensor.F32ToF16(f) }

// f16 returns the float32 value of the half-precision bits h
// (GGML_FP16_TO_FP32, exact).
func f16(h uint16) float32 { return tensor.F16ToF32(h) }

// roundHalfAway is C's roundf for |v| < 2^31: round to nearest, ties
// away from zero, as an integer. v - trunc(v) is exact.
func roundHalfAway(v float32) int32 {
	t := int32(v)
	f := v - float32(t)
	return t + int32(b2i(f >= 0.5)) - int32(b2i(f <= -0.5))
}

func abs32(v float32) float32 {
	return math.Float32frombits(math.Float32bits(v) &^ (1 << 31))
}

func le16(b []byte) uint16 { return uint16(b[0]) | uint16(b[1])<<8 }

func put16(b []byte, v uint16) { b[0] = byte(v); b[1] = byte(v >> 8) }

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

func put32(b []byte, v uint32) {
	b[0] = byte(v)
	b[1] = byte(v >> 8)
	b[2] = byte(v >> 16)
	b[3] = byte(v >> 24)
}

// sqrt32 is sqrtf (correctly rounded: a float64 square root rounded to
// float32 is never double-rounded wrongly).
func sqrt32(v float32) float32 { return float32(math.Sqrt(float64(v))) }

func f32bits(f float32) uint32     { return math.Float32bits(f) }
func f32frombits(b uint32) float32 { return math.Float32frombits(b) }

// roundEven32 rounds v to an integer, ties to even (VROUNDPS mode 0).
func roundEven32(v float32) float32 { return float32(math.RoundToEven(float64(v))) }

// unsafeSlice is the slice of n elements at p.
func unsafeSlice[T any](p *T, n int) []T { return unsafe.Slice(p, n) }
