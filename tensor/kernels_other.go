//go:build !amd64 || noasm || purego

package tensor

import "unsafe"

// The kernels convert n elements between little-endian buffers at dst and
// src. Without assembly they are the pure-Go loops of kernels_generic.go.

func kF16ToF32(dst, src unsafe.Pointer, n int) {
	f16ToF32LE(bytesAt(dst, 0, 4*n), bytesAt(src, 0, 2*n))
}

func kF32ToF16(dst, src unsafe.Pointer, n int) {
	f32ToF16LE(bytesAt(dst, 0, 2*n), bytesAt(src, 0, 4*n))
}

func kBF16ToF32(dst, src unsafe.Pointer, n int) {
	bf16ToF32LE(bytesAt(dst, 0, 4*n), bytesAt(src, 0, 2*n))
}

func kF32ToBF16(dst, src unsafe.Pointer, n int) {
	f32ToBF16LE(bytesAt(dst, 0, 2*n), bytesAt(src, 0, 4*n))
}

// kernelLevels lists the implementations tests can select; setLevel
// selects one and returns a function that restores the previous choice.
func kernelLevels() []string { return []string{"go"} }

func setLevel(string) (restore func()) { return func() {} }
