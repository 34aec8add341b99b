package tensor

import (
	"encoding/binary"
	"math"
	"unsafe"
)

// Pure-Go conversion loops. They are the reference for the assembly kernels
// in kernels_amd64.s (tests compare the two bit for bit) and the
// implementation under the noasm and purego tags.
//
// Each loop comes in two forms: on typed slices (the fast form, used when
// the machine is little-endian and the buffers are aligned, so that typed
// memory and little-endian bytes agree), and on little-endian byte slices
// (any endianness or alignment). Each takes its element count from src;
// dst must hold as many elements.

// f16ToF32Go is: for each i, dst[i] = F16ToF32(src[i]).
func f16ToF32Go(dst []float32, src []uint16) {
	dst = dst[:len(src)]
	for i, h := range src {
		dst[i] = F16ToF32(h)
	}
}

// f32ToF16Go is: for each i, dst[i] = F32ToF16(src[i]), with F32ToF16's
// body written out because it is too large for the inliner.
func f32ToF16Go(dst []uint16, src []float32) {
	dst = dst[:len(src)]
	for i, f := range src {
		b := math.Float32bits(f)
		a := b & f32AbsMask
		var r uint32
		switch {
		case a < f16MinNorm:
			r = math.Float32bits(math.Float32frombits(a)+0.5) - f32Half
		case a < f16InfEdge:
			r = (a + 0xfff + (a>>13)&1 - (127-15)<<23) >> 13
		case a > f32Inf:
			r = 0x7e00 | a>>13&0x3ff
		default:
			r = 0x7c00
		}
		dst[i] = uint16(b>>16)&0x8000 | uint16(r)
	}
}

// bf16ToF32Go is: for each i, dst[i] = BF16ToF32(src[i]).
func bf16ToF32Go(dst []float32, src []uint16) {
	dst = dst[:len(src)]
	for i, h := range src {
		dst[i] = BF16ToF32(h)
	}
}

// f32ToBF16Go is: for each i, dst[i] = F32ToBF16(src[i]).
func f32ToBF16Go(dst []uint16, src []float32) {
	dst = dst[:len(src)]
	for i, f := range src {
		dst[i] = F32ToBF16(f)
	}
}

// f16ToF32LE is: for each i, dst.f32[i] = F16ToF32(src.u16[i]).
func f16ToF32LE(dst, src []byte) {
	n := len(src) / 2
	if d, s, ok := typed32x16(dst, src, n); ok {
		f16ToF32Go(d, s)
		return
	}
	dst = dst[:4*n]
	for i := 0; i < n; i++ {
		h := binary.LittleEndian.Uint16(src[2*i:])
		binary.LittleEndian.PutUint32(dst[4*i:], math.Float32bits(F16ToF32(h)))
	}
}

// f32ToF16LE is: for each i, dst.u16[i] = F32ToF16(src.f32[i]).
func f32ToF16LE(dst, src []byte) {
	n := len(src) / 4
	if s, d, ok := typed32x16(src, dst, n); ok {
		f32ToF16Go(d, s)
		return
	}
	dst = dst[:2*n]
	for i := 0; i < n; i++ {
		f := math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		binary.LittleEndian.PutUint16(dst[2*i:], F32ToF16(f))
	}
}

// bf16ToF32LE is: for each i, dst.f32[i] = BF16ToF32(src.u16[i]).
func bf16ToF32LE(dst, src []byte) {
	n := len(src) / 2
	if d, s, ok := typed32x16(dst, src, n); ok {
		bf16ToF32Go(d, s)
		return
	}
	dst = dst[:4*n]
	for i := 0; i < n; i++ {
		h := binary.LittleEndian.Uint16(src[2*i:])
		binary.LittleEndian.PutUint32(dst[4*i:], uint32(h)<<16)
	}
}

// f32ToBF16LE is: for each i, dst.u16[i] = F32ToBF16(src.f32[i]).
func f32ToBF16LE(dst, src []byte) {
	n := len(src) / 4
	if s, d, ok := typed32x16(src, dst, n); ok {
		f32ToBF16Go(d, s)
		return
	}
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
	if d, ok := typed32(dst, len(src)); ok {
		for i, b := range src {
			d[i] = math.Float32frombits(table[b])
		}
		return
	}
	dst = dst[:4*len(src)]
	for i, b := range src {
		binary.LittleEndian.PutUint32(dst[4*i:], table[b])
	}
}

// f32ToF8E4M3LE is: for each i, dst[i] = F32ToF8E4M3(src.f32[i]).
func f32ToF8E4M3LE(dst, src []byte) {
	n := len(src) / 4
	dst = dst[:n]
	if s, ok := typed32(src, n); ok {
		for i, f := range s {
			dst[i] = F32ToF8E4M3(f)
		}
		return
	}
	for i := range dst {
		dst[i] = F32ToF8E4M3(math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:])))
	}
}

// f32ToF8E5M2LE is: for each i, dst[i] = F32ToF8E5M2(src.f32[i]).
func f32ToF8E5M2LE(dst, src []byte) {
	n := len(src) / 4
	dst = dst[:n]
	if s, ok := typed32(src, n); ok {
		for i, f := range s {
			dst[i] = F32ToF8E5M2(f)
		}
		return
	}
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

// typed32 views the first n 4-byte elements of b as []float32 when that is
// the same as decoding them as little-endian: on a little-endian machine,
// with b 4-byte aligned (so the view is valid for checkptr too).
func typed32(b []byte, n int) ([]float32, bool) {
	if !nativeLE || n == 0 || uintptr(unsafe.Pointer(&b[0]))%4 != 0 {
		return nil, false
	}
	_ = b[4*n-1]
	return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), n), true
}

// typed32x16 views b32 as n float32s and b16 as n uint16s, like typed32.
func typed32x16(b32, b16 []byte, n int) ([]float32, []uint16, bool) {
	f, ok := typed32(b32, n)
	if !ok || uintptr(unsafe.Pointer(&b16[0]))%2 != 0 {
		return nil, nil, false
	}
	_ = b16[2*n-1]
	return f, unsafe.Slice((*uint16)(unsafe.Pointer(&b16[0])), n), true
}
