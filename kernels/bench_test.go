package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkMatMul measures MatMul on books5M's shapes (rows×cols) for
// decoding (n=1) and prefill (n=128), on one thread and on all, for every
// implementation. GFLOP/s counts 2 flops per weight per token; weight-GB/s
// is the weight bytes read per call (once per call, however many tokens)
// over the time.
//
//	go test -run - -bench MatMul -benchtime 200ms ./kernels/
func BenchmarkMatMul(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	shapes := []struct{ rows, cols int }{{256, 256}, {768, 256}, {512, 256}, {256, 768}}
	for _, im := range impls() {
		for kind := range kindNames {
			for _, sh := range shapes {
				data, _ := encode(kind, randVec(rng, sh.rows*sh.cols), 0)
				m := newDense(kind, data, sh.rows, sh.cols)
				for _, n := range []int{1, 128} {
					for _, th := range []int{1, 0} {
						thName := "all"
						if th == 1 {
							thName = "t1"
						}
						name := fmt.Sprintf("%s/%s/%dx%d/n=%d/%s", im.name, kindNames[kind], sh.rows, sh.cols, n, thName)
						b.Run(name, func(b *testing.B) {
							x := randVec(rng, n*sh.cols)
							dst := make([]float32, n*sh.rows)
							restore := setImpl(im.name)
							defer restore()
							defer SetThreads(SetThreads(th))
							b.SetBytes(int64(len(data)))
							for b.Loop() {
								m.MatMul(dst, x, n)
							}
							sec := b.Elapsed().Seconds() / float64(b.N)
							b.ReportMetric(2*float64(sh.rows*sh.cols*n)/sec/1e9, "GFLOP/s")
						})
					}
				}
			}
		}
	}
}

// BenchmarkAttention measures the attention building blocks at books5M's
// head size over 128 positions.
func BenchmarkAttention(b *testing.B) {
	rng := rand.New(rand.NewPCG(2, 2))
	const hd, np, kvdim = 64, 128, 128
	k := randVec(rng, np*kvdim)
	q := randVec(rng, 4*hd)
	p := randVec(rng, np)
	dst := make([]float32, 4*np)
	b.Run("Dots/4x128x64", func(b *testing.B) {
		for b.Loop() {
			Dots(dst, np, k, kvdim, np, q, hd, 4, hd)
		}
		b.ReportMetric(2*float64(4*np*hd)/(b.Elapsed().Seconds()/float64(b.N))/1e9, "GFLOP/s")
	})
	b.Run("WeightedSum/128x64", func(b *testing.B) {
		for b.Loop() {
			WeightedSum(dst[:hd], k, kvdim, p)
		}
		b.ReportMetric(2*float64(np*hd)/(b.Elapsed().Seconds()/float64(b.N))/1e9, "GFLOP/s")
	})
}

// BenchmarkSwiGLU: one feed-forward activation of a Llama-3-8B-sized
// layer (14336 floats) per iteration, for each implementation; each
// iteration first restores the gate from a copy (included in the time), so
// every call sees the same values.
//
//	go test -run - -bench SwiGLU ./kernels/
func BenchmarkSwiGLU(b *testing.B) {
	const n = 14336
	g0, g, u := make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range g0 {
		g0[i], u[i] = float32(i%97)/10-4.8, float32(i%13)/6-1
	}
	for _, im := range impls() {
		b.Run(im.name, func(b *testing.B) {
			defer setImpl(im.name)()
			b.SetBytes(n * 4)
			for b.Loop() {
				copy(g, g0)
				SwiGLU(g, u)
			}
		})
	}
}
