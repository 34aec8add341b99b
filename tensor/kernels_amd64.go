//go:build amd64 && !noasm && !purego

package tensor

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// Kernel levels, from the CPU once at start-up. HasAVX2 and HasAVX512F are
// set only when the OS saves the registers; GODEBUG=cpu.avx512f=off selects
// the AVX2 level and cpu.avx2=off the Go loops. The AVX-512 level also uses
// the AVX2 kernels for remainders, hence its AVX2 requirement.
const (
	levelGo = iota
	levelAVX2
	levelAVX512
)

var level = detectLevel()

func detectLevel() int {
	switch {
	case cpu.X86.HasAVX512F && cpu.X86.HasAVX2 && cpu.X86.HasF16C:
		return levelAVX512
	case cpu.X86.HasAVX2 && cpu.X86.HasF16C:
		return levelAVX2
	}
	return levelGo
}

var levelNames = [...]string{levelGo: "go", levelAVX2: "avx2", levelAVX512: "avx512"}

// kernelLevels lists the implementations this CPU can run, for tests.
func kernelLevels() []string {
	names := []string{"go"}
	for l := levelAVX2; l <= detectLevel(); l++ {
		names = append(names, levelNames[l])
	}
	return names
}

// setLevel selects an implementation by name, for tests; it returns a
// function that restores the previous one.
func setLevel(name string) (restore func()) {
	old := level
	for l, n := range levelNames {
		if n == name {
			level = l
		}
	}
	return func() { level = old }
}

// Assembly kernels (kernels_amd64.s). Each converts n elements from src to
// dst; n must be a positive multiple of the kernel's width (16 for the
// AVX512 ones and for f32ToBF16AVX2, 8 for the other AVX2 ones). Their
// reference is the Go loop with the same stem in kernels_generic.go.

//go:noescape
func f16ToF32AVX512(dst, src unsafe.Pointer, n int)

//go:noescape
func f16ToF32AVX2(dst, src unsafe.Pointer, n int)

//go:noescape
func f32ToF16AVX512(dst, src unsafe.Pointer, n int)

//go:noescape
func f32ToF16AVX2(dst, src unsafe.Pointer, n int)

//go:noescape
func bf16ToF32AVX512(dst, src unsafe.Pointer, n int)

//go:noescape
func bf16ToF32AVX2(dst, src unsafe.Pointer, n int)

//go:noescape
func f32ToBF16AVX512(dst, src unsafe.Pointer, n int)

//go:noescape
func f32ToBF16AVX2(dst, src unsafe.Pointer, n int)

// The kernels convert n elements between little-endian buffers at dst and
// src: the widest assembly the CPU has for the bulk, then the next width,
// then the Go loop for the last few elements.

func kF16ToF32(dst, src unsafe.Pointer, n int) {
	i := 0
	if level >= levelAVX512 && n >= 16 {
		i = n &^ 15
		f16ToF32AVX512(dst, src, i)
	}
	if level >= levelAVX2 && n-i >= 8 {
		m := (n - i) &^ 7
		f16ToF32AVX2(unsafe.Add(dst, 4*i), unsafe.Add(src, 2*i), m)
		i += m
	}
	if i < n {
		f16ToF32LE(bytesAt(dst, 4*i, 4*(n-i)), bytesAt(src, 2*i, 2*(n-i)))
	}
}

func kF32ToF16(dst, src unsafe.Pointer, n int) {
	i := 0
	if level >= levelAVX512 && n >= 16 {
		i = n &^ 15
		f32ToF16AVX512(dst, src, i)
	}
	if level >= levelAVX2 && n-i >= 8 {
		m := (n - i) &^ 7
		f32ToF16AVX2(unsafe.Add(dst, 2*i), unsafe.Add(src, 4*i), m)
		i += m
	}
	if i < n {
		f32ToF16LE(bytesAt(dst, 2*i, 2*(n-i)), bytesAt(src, 4*i, 4*(n-i)))
	}
}

func kBF16ToF32(dst, src unsafe.Pointer, n int) {
	i := 0
	if level >= levelAVX512 && n >= 16 {
		i = n &^ 15
		bf16ToF32AVX512(dst, src, i)
	}
	if level >= levelAVX2 && n-i >= 8 {
		m := (n - i) &^ 7
		bf16ToF32AVX2(unsafe.Add(dst, 4*i), unsafe.Add(src, 2*i), m)
		i += m
	}
	if i < n {
		bf16ToF32LE(bytesAt(dst, 4*i, 4*(n-i)), bytesAt(src, 2*i, 2*(n-i)))
	}
}

func kF32ToBF16(dst, src unsafe.Pointer, n int) {
	i := 0
	if level >= levelAVX512 && n >= 16 {
		i = n &^ 15
		f32ToBF16AVX512(dst, src, i)
	} else if level >= levelAVX2 && n >= 16 {
		i = n &^ 15
		f32ToBF16AVX2(dst, src, i)
	}
	if i < n {
		f32ToBF16LE(bytesAt(dst, 2*i, 2*(n-i)), bytesAt(src, 4*i, 4*(n-i)))
	}
}
