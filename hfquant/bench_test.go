package hfquant_test

import (
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/lmc-project/lmc/hfquant"
	"github.com/lmc-project/lmc/hfquant/spec"
	"github.com/lmc-project/lmc/tensor"
)

// Benchmarks use books5M's largest matrix shape, 768 × 256; MB/s counts
// float32 weights (4 bytes each).
const benchRows, benchCols = 768, 256

func benchWeights() []float32 {
	r := rand.New(rand.NewPCG(1, 2))
	w := make([]float32, benchRows*benchCols)
	for i := range w {
		w[i] = float32(r.NormFloat64() * 0.02)
	}
	return w
}

var benchScheme = hfquant.Scheme{Bits: 4, GroupSize: 128, Sym: true, ScaleDType: tensor.F16}

func BenchmarkQuantizeRTN(b *testing.B) {
	w := benchWeights()
	b.SetBytes(4 * benchRows * benchCols)
	for b.Loop() {
		if _, err := hfquant.QuantizeRTN(w, benchRows, benchCols, benchScheme); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDequantize(b *testing.B) {
	q, _ := hfquant.QuantizeRTN(benchWeights(), benchRows, benchCols, benchScheme)
	out := make([]float32, benchRows*benchCols)
	b.SetBytes(4 * benchRows * benchCols)
	for b.Loop() {
		q.Dequantize(out)
	}
}

func BenchmarkEncodeGPTQ(b *testing.B) {
	q, _ := hfquant.QuantizeRTN(benchWeights(), benchRows, benchCols, benchScheme)
	b.SetBytes(4 * benchRows * benchCols)
	for b.Loop() {
		if _, err := spec.EncodeGPTQ(q, false); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeGPTQ(b *testing.B) {
	q, _ := hfquant.QuantizeRTN(benchWeights(), benchRows, benchCols, benchScheme)
	g, _ := spec.EncodeGPTQ(q, false)
	b.SetBytes(4 * benchRows * benchCols)
	for b.Loop() {
		if _, err := spec.DecodeGPTQ(benchRows, benchCols, benchScheme, false, g.QWeight, g.QZeros, g.Scales, tensor.F16, g.GIdx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodePacked(b *testing.B) {
	q, _ := hfquant.QuantizeRTN(benchWeights(), benchRows, benchCols, benchScheme)
	b.SetBytes(4 * benchRows * benchCols)
	for b.Loop() {
		if _, err := spec.EncodePacked(q); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExportBooks5M times a whole GPTQ export of books5M (4.7M
// quantized weights), writing into a temporary folder.
func BenchmarkExportBooks5M(b *testing.B) {
	m := openBooks5MB(b)
	dir := b.TempDir()
	b.SetBytes(4 * m.ParamCount())
	i := 0
	for b.Loop() {
		i++
		out := filepath.Join(dir, "out", string(rune('a'+i%26)))
		if err := hfquant.Export(m, out, hfquant.ExportOptions{Format: hfquant.FormatGPTQ, Scheme: &hfquant.Scheme{Sym: true},
			WriteOptions: hfquant.WriteOptions{Force: true}}); err != nil {
			b.Fatal(err)
		}
	}
}
