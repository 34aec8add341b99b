package tensor

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// Benchmark sizes in elements. b.SetBytes counts bytes read plus bytes
// written, so MB/s is memory traffic.
var benchSizes = []struct {
	name string
	n    int
}{{"4K", 4 << 10}, {"1M", 1 << 20}}

// benchLevels runs f for every kernel level and size.
func benchLevels(b *testing.B, bytesPerElem int, f func(b *testing.B, n int)) {
	for _, name := range kernelLevels() {
		for _, sz := range benchSizes {
			b.Run(fmt.Sprintf("impl=%s/size=%s", name, sz.name), func(b *testing.B) {
				defer setLevel(name)()
				b.SetBytes(int64(bytesPerElem * sz.n))
				f(b, sz.n)
			})
		}
	}
}

func benchF32(n int) []float32 {
	r := rand.New(rand.NewPCG(1, 1))
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

func bench16(n int) []uint16 {
	f := benchF32(n)
	h := make([]uint16, n)
	F32ToBF16Slice(h, f) // plausible values for both F16 and BF16 decoding
	return h
}

func BenchmarkF16ToF32Slice(b *testing.B) {
	benchLevels(b, 6, func(b *testing.B, n int) {
		src, dst := bench16(n), make([]float32, n)
		for b.Loop() {
			F16ToF32Slice(dst, src)
		}
	})
}

func BenchmarkF32ToF16Slice(b *testing.B) {
	benchLevels(b, 6, func(b *testing.B, n int) {
		src, dst := benchF32(n), make([]uint16, n)
		for b.Loop() {
			F32ToF16Slice(dst, src)
		}
	})
}

func BenchmarkBF16ToF32Slice(b *testing.B) {
	benchLevels(b, 6, func(b *testing.B, n int) {
		src, dst := bench16(n), make([]float32, n)
		for b.Loop() {
			BF16ToF32Slice(dst, src)
		}
	})
}

func BenchmarkF32ToBF16Slice(b *testing.B) {
	benchLevels(b, 6, func(b *testing.B, n int) {
		src, dst := benchF32(n), make([]uint16, n)
		for b.Loop() {
			F32ToBF16Slice(dst, src)
		}
	})
}

// BenchmarkConvert covers the byte-level paths, including the chunked ones
// (no F32 side) and the Go-only FP8 and F64 loops.
func BenchmarkConvert(b *testing.B) {
	pairs := []struct{ st, dt DType }{
		{BF16, F16}, {F16, BF16}, {BF16, F32}, {F32, F8E4M3}, {F8E4M3, F32}, {F8E5M2, BF16}, {F64, F16}, {F32, F64},
	}
	for _, p := range pairs {
		b.Run(fmt.Sprintf("%v_to_%v", p.st, p.dt), func(b *testing.B) {
			benchLevels(b, p.st.Size()+p.dt.Size(), func(b *testing.B, n int) {
				f := benchF32(n)
				src := make([]byte, n*p.st.Size())
				if err := EncodeF32(src, p.st, f); err != nil {
					b.Fatal(err)
				}
				dst := make([]byte, n*p.dt.Size())
				for b.Loop() {
					if err := Convert(dst, p.dt, src, p.st); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
