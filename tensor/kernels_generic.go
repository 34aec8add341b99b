package tensor

import (
	"encoding/binary"
	"math"
)

// Pure-Go loops over little-endian byte buffers. They are the reference
// for the assembly kernels in kernels_amd64.s (tests compare the two bit for
// bit) and the implementation under the noasm and purego tags. Each takes
// its element count from src; dst must hold as many elements.

// f16ToF32LE is: for each i, dst.f32[i] = F16ToF32(src.u16[i]).
func f16ToF32LE(dst, src []byte) {
	n := len(src) / 2
	dst = dst[:4*n]
	for i := 0; i < n; i++ {
		h := binary.LittleEndian.Uint16(src[2*i:])
		binary.LittleEndian.PutUint32(dst[4*i:], math.Float32bits(F16ToF32(h)))
	}
}

// f32ToF16LE is: for each i, dst.u16[i] = F32ToF16(src.f32[i]).
func f32ToF16LE(dst, src []byte) {
	n := len(src) / 4
	dst = dst[:2*n]
	for i := 0; i < n; i++ {
		f := math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		binary.LittleEndian.PutUint16(dst[2*i:], F32ToF16(f))
	}
}

// bf16ToF32LE is: for each i, dst.f32[i] = BF16ToF32(src.u16[i]).
func bf16ToF32LE(dst, src []byte) {
	n := len(src) / 2
	dst = dst[:4*n]
	for i := 0; i < n; i++ {
		h := binary.LittleEndian.Uint16(src[2*i:])
		binary.LittleEndian.PutUint32(dst[4*i:], uint32(h)<<16)
	}
}

// f32ToBF16LE is: for each i, dst.u16[i] = F32ToBF16(src.f32[i]).
func f32ToBF16LE(dst, src []byte) {
	n := len(src) / 4
	dst = dst[:2*n]
	for i := 0; i < n; i++ {
		f := math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		binary.LittleEndian.PutUint16(dst[2*i:], F32ToBF16(f))
	}
}

// FP8 decoding goes through 256-entry tables of float32 bit patterns.
var f8e4m3Bits, f8e5m2Bits = func() (a, b [256]uint32) {
	for i := range 256 {
		a[i] = math.Float32bits(F8E4M3ToF32(uint8(i)))
		b[i] = math.Float32bits(F8E5M2ToF32(uint8(i)))
	}
	return
}()

// f8ToF32LE is: for each i, dst.f32[i] = table[src[i]] (the FP8 decoder).
func f8ToF32LE(dst, src []byte, table *[256]uint32) {
	dst = dst[:4*len(src)]
	for i, b := range src {
		binary.LittleEndian.PutUint32(dst[4*i:], table[b])
	}
}

// f32ToF8E4M3LE is: for each i, dst[i] = F32ToF8E4M3(src.f32[i]).
func f32ToF8E4M3LE(dst, src []byte) {
	n := len(src) / 4
	dst = dst[:n]
	for i := range dst {
		dst[i] = F32ToF8E4M3(math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:])))
	}
}

// f32ToF8E5M2LE is: for each i, dst[i] = F32ToF8E5M2(src.f32[i]).
func f32ToF8E5M2LE(dst, src []byte) {
	n := len(src) / 4
	dst = dst[:n]
	for i := range dst {
		dst[i] = F32ToF8E5M2(math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:])))
	}
}

// f64ToF32LE is: for each i, dst.f32[i] = float32(src.f64[i]), or
// f64ToF32Odd(src.f64[i]) when odd is set (before a second rounding).
func f64ToF32LE(dst, src []byte, odd bool) {
	n := len(src) / 8
	dst = dst[:4*n]
	for i := 0; i < n; i++ {
		x := math.Float64frombits(binary.LittleEndian.Uint64(src[8*i:]))
		f := float32(x)
		if odd {
			f = f64ToF32Odd(x)
		}
		binary.LittleEndian.PutUint32(dst[4*i:], math.Float32bits(f))
	}
}

// f32ToF64LE is: for each i, dst.f64[i] = float64(src.f32[i]) (exact).
func f32ToF64LE(dst, src []byte) {
	n := len(src) / 4
	dst = dst[:8*n]
	for i := 0; i < n; i++ {
		f := math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		binary.LittleEndian.PutUint64(dst[8*i:], math.Float64bits(float64(f)))
	}
}
