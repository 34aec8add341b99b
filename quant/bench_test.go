package quant

import (
	"bufio"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Benchmarks report ns per 32 values ("ns/32v") and, at the CPU's nominal
// clock (the "cpu MHz" line of /proc/cpuinfo; a turbo clock makes the real
// count higher), cycles per 32 values ("cyc/32v"), the unit of llama.cpp's
// test-quantize-perf. Sizes follow test-quantize-perf: 4096 and 65536
// values (pass -benchtime to taste).

var cpuGHz = sync.OnceValue(func() float64 {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if k, v, ok := strings.Cut(s.Text(), ":"); ok && strings.TrimSpace(k) == "cpu MHz" {
			mhz, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err == nil {
				return mhz / 1000
			}
		}
	}
	return 0
})

func report(b *testing.B, n int) {
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / float64(n/32)
	b.ReportMetric(ns, "ns/32v")
	if g := cpuGHz(); g > 0 {
		b.ReportMetric(ns*g, "cyc/32v")
	}
	b.ReportMetric(0, "ns/op")
}

var benchSizes = []int{4096, 65536}

func benchData(n int) []float32 {
	return randomFloats(rand.New(rand.NewPCG(1, 1)), n, 0.05)
}

func BenchmarkQuantize(b *testing.B) {
	for _, f := range formats {
		for _, n := range benchSizes {
			b.Run(f.String()+"/"+strconv.Itoa(n), func(b *testing.B) {
				x := benchData(n)
				dst := make([]byte, n/f.BlockSize*f.BlockBytes)
				for b.Loop() {
					f.quant(dst, x, nil)
				}
				report(b, n)
			})
		}
	}
}

func BenchmarkDequantize(b *testing.B) {
	for _, f := range formats {
		for _, n := range benchSizes {
			b.Run(f.String()+"/"+strconv.Itoa(n), func(b *testing.B) {
				q := make([]byte, n/f.BlockSize*f.BlockBytes)
				f.quant(q, benchData(n), nil)
				y := make([]float32, n)
				for b.Loop() {
					f.Dequantize(y, q)
				}
				report(b, n)
			})
		}
	}
}

func BenchmarkVecDot(b *testing.B) {
	for _, f := range formats {
		if f.dot == nil {
			continue
		}
		for _, n := range benchSizes {
			b.Run(f.String()+"/"+strconv.Itoa(n), func(b *testing.B) {
				q := make([]byte, n/f.BlockSize*f.BlockBytes)
				f.quant(q, benchData(n), nil)
				dot, _ := Lookup(f.DotType)
				y := make([]byte, n/dot.BlockSize*dot.BlockBytes)
				f.QuantizeActivations(y, randomFloats(rand.New(rand.NewPCG(2, 2)), n, 1))
				var s float32
				for b.Loop() {
					s += f.VecDot(n, q, y)
				}
				report(b, n)
			})
		}
	}
}

func BenchmarkQuantizeActivations(b *testing.B) {
	for _, f := range []*Format{Q8_0, Q4_K} {
		for _, n := range benchSizes {
			b.Run(f.DotType.String()+"/"+strconv.Itoa(n), func(b *testing.B) {
				x := benchData(n)
				dot, _ := Lookup(f.DotType)
				y := make([]byte, n/dot.BlockSize*dot.BlockBytes)
				for b.Loop() {
					f.QuantizeActivations(y, x)
				}
				report(b, n)
			})
		}
	}
}
