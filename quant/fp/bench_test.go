package fp

import (
	"math/rand/v2"
	"testing"
)

func benchData(n int) []float32 {
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64() * 0.02)
	}
	return x
}

// Benchmarks process 4096 values (128 MXFP4 blocks); b.SetBytes counts
// float32 input bytes, so MB/s compare across formats.
const benchN = 4096

func BenchmarkQuantizeMXFP4(b *testing.B) {
	x := benchData(benchN)
	q := make([]byte, benchN/32*17)
	b.SetBytes(4 * benchN)
	for b.Loop() {
		_ = QuantizeRowMXFP4(q, x)
	}
}

func BenchmarkDequantizeMXFP4(b *testing.B) {
	x := benchData(benchN)
	q := make([]byte, benchN/32*17)
	_ = QuantizeRowMXFP4(q, x)
	b.SetBytes(4 * benchN)
	for b.Loop() {
		DequantizeRowMXFP4(x, q)
	}
}

func BenchmarkDotMXFP4(b *testing.B) {
	x := benchData(benchN)
	q := make([]byte, benchN/32*17)
	_ = QuantizeRowMXFP4(q, x)
	a := make([]byte, benchN/32*34)
	QuantizeRowQ8_0(a, x)
	b.SetBytes(4 * benchN)
	for b.Loop() {
		_ = DotMXFP4Q8_0(benchN, q, a)
	}
}

func BenchmarkQuantizeNVFP4GGML(b *testing.B) {
	x := benchData(benchN)
	q := make([]byte, benchN/64*36)
	b.SetBytes(4 * benchN)
	for b.Loop() {
		_ = QuantizeRowNVFP4(q, x)
	}
}

func BenchmarkDequantizeNVFP4GGML(b *testing.B) {
	x := benchData(benchN)
	q := make([]byte, benchN/64*36)
	_ = QuantizeRowNVFP4(q, x)
	b.SetBytes(4 * benchN)
	for b.Loop() {
		DequantizeRowNVFP4(x, q)
	}
}

func BenchmarkDotNVFP4(b *testing.B) {
	x := benchData(benchN)
	q := make([]byte, benchN/64*36)
	_ = QuantizeRowNVFP4(q, x)
	a := make([]byte, benchN/32*34)
	QuantizeRowQ8_0(a, x)
	b.SetBytes(4 * benchN)
	for b.Loop() {
		_ = DotNVFP4Q8_0(benchN, q, a)
	}
}

func BenchmarkQuantizeNVFP4(b *testing.B) {
	x := benchData(benchN)
	b.SetBytes(4 * benchN)
	for b.Loop() {
		_, _ = QuantizeNVFP4(x, 16, benchN/16)
	}
}

func BenchmarkQuantizeFP8(b *testing.B) {
	x := benchData(benchN)
	b.SetBytes(4 * benchN)
	for b.Loop() {
		_, _ = QuantizeFP8(x, 16, benchN/16, PerChannel)
	}
}

func BenchmarkDequantizeFP8(b *testing.B) {
	x := benchData(benchN)
	q, _ := QuantizeFP8(x, 16, benchN/16, PerChannel)
	b.SetBytes(4 * benchN)
	for b.Loop() {
		q.Dequantize(x)
	}
}

func BenchmarkQuantizeNF4(b *testing.B) {
	x := benchData(benchN)
	b.SetBytes(4 * benchN)
	for b.Loop() {
		_, _ = QuantizeNF4(x, NF4Options{DoubleQuant: true})
	}
}

func BenchmarkDequantizeNF4(b *testing.B) {
	x := benchData(benchN)
	q, _ := QuantizeNF4(x, NF4Options{DoubleQuant: true})
	b.SetBytes(4 * benchN)
	for b.Loop() {
		q.Dequantize(x)
	}
}

func BenchmarkQuantizeRowQ8_0(b *testing.B) {
	x := benchData(benchN)
	a := make([]byte, benchN/32*34)
	b.SetBytes(4 * benchN)
	for b.Loop() {
		QuantizeRowQ8_0(a, x)
	}
}
