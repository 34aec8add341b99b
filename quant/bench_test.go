package quant

import (
	"bufio"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Benchmarks report wall-clock ns per 32 values ("ns/32v") and cycles per
// 32 values ("cyc/32v", the unit of llama.cpp's test-quantize-perf): the
// thread's CPU time (getrusage, so time the thread spends descheduled on a
// busy machine does not count) times the CPU's nominal clock (the "cpu
// MHz" line of /proc/cpuinfo, which is also the TSC rate that
// test-quantize-perf counts in). Sizes follow test-quantize-perf: 4096 and
// 65536 values.

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

// loop runs fn under b.Loop on a locked thread and reports the metrics
// for n values per call.
func loop(b *testing.B, n int, fn func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	c0 := threadCPU()
	for b.Loop() {
		fn()
	}
	cpu := threadCPU() - c0
	per := float64(b.N) * float64(n/32)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/per, "ns/32v")
	if g := cpuGHz(); g > 0 && cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/per*g, "cyc/32v")
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
				loop(b, n, func() { f.quant(dst, x, nil) })
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
				loop(b, n, func() { f.Dequantize(y, q) })
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
				loop(b, n, func() { s += f.VecDot(n, q, y) })
			})
		}
	}
}

func BenchmarkQuantizeActivations(b *testing.B) {
	for _, f := range []*Format{Q8_0, Q4_1, Q4_K} {
		for _, n := range benchSizes {
			b.Run(f.DotType.String()+"/"+strconv.Itoa(n), func(b *testing.B) {
				x := benchData(n)
				dot, _ := Lookup(f.DotType)
				y := make([]byte, n/dot.BlockSize*dot.BlockBytes)
				loop(b, n, func() { f.QuantizeActivations(y, x) })
			})
		}
	}
}

// BenchmarkIQ4NLNoSearch times IQ4_NL without the scale search
// (quantize_row_iq4_nl_ref, ntry −1), the function test-quantize-perf
// times; llama-quantize and Quantize search 15 trial scales.
func BenchmarkIQ4NLNoSearch(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			x := benchData(n)
			dst := make([]byte, n/32*iq4NLBytes)
			loop(b, n, func() { quantizeIQ4NLTry(dst, x, nil, -1) })
		})
	}
}
