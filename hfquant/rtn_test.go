package hfquant_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/lmc-project/lmc/hfquant"
	"github.com/lmc-project/lmc/tensor"
)

// TestRTNPaths: the contiguous-group loop and the g_idx loop (given the
// trivial g_idx c/GroupSize) choose the same scales, zeros and codes, for
// several grids and awkward rows (all zero, all negative, one outlier).
func TestRTNPaths(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	rows, cols := 7, 256
	w := make([]float32, rows*cols)
	for i := range w {
		w[i] = float32(r.NormFloat64() * 0.05)
	}
	for c := 0; c < cols; c++ {
		w[1*cols+c] = 0                                        // all zero
		w[2*cols+c] = -float32(math.Abs(float64(w[2*cols+c]))) // all negative
		w[3*cols+c] = float32(math.Abs(float64(w[3*cols+c])))  // all positive
	}
	w[4*cols+17] = 3 // outlier
	for _, s := range []hfquant.Scheme{
		{Bits: 4, GroupSize: 128, Sym: true, ScaleDType: tensor.F16},
		{Bits: 4, GroupSize: 32, Sym: false, ScaleDType: tensor.BF16},
		{Bits: 8, GroupSize: -1, Sym: false, ScaleDType: tensor.F32},
		{Bits: 8, GroupSize: 64, Sym: true, ScaleDType: tensor.F16},
	} {
		for _, minZero := range []int{0, 1} {
			a, err := hfquant.QuantizeRTNWith(w, rows, cols, s, hfquant.RTNOptions{MinZero: minZero})
			if err != nil {
				t.Fatal(err)
			}
			gidx := make([]int32, cols)
			for c := range gidx {
				if s.GroupSize > 0 {
					gidx[c] = int32(c / s.GroupSize)
				}
			}
			b, err := hfquant.QuantizeRTNWith(w, rows, cols, s, hfquant.RTNOptions{GIdx: gidx, MinZero: minZero})
			if err != nil {
				t.Fatal(err)
			}
			b.GIdx = nil
			if !reflect.DeepEqual(a, b) {
				t.Errorf("%+v minZero %d: the two loops differ", s, minZero)
			}
			if err := a.Validate(); err != nil {
				t.Error(err)
			}
			// Every value within half a step of the original, plus what
			// rounding the scale to its dtype (relative error rel) can push
			// the range ends out: at most (MaxQ+1)·rel of a step (the top
			// code of a symmetric grid, 2^(bits−1)−1 steps for an amax of
			// 2^(bits−1)−0.5, is within that too); one more step for a group
			// whose zero point MinZero raised from 0 to 1.
			y := make([]float32, len(w))
			a.Dequantize(y)
			g := a.Groups()
			rel := map[tensor.DType]float64{tensor.F16: 0x1p-11, tensor.BF16: 0x1p-8, tensor.F32: 0x1p-24}[s.ScaleDType]
			bound := 0.5 + float64(s.MaxQ()+1)*rel + 1e-6
			if !s.Sym && minZero == 1 {
				bound++
			}
			for i := range w {
				row, k := i/cols, a.Group(i%cols)
				sc := float64(a.Scales[row*g+k])
				if d := math.Abs(float64(w[i] - y[i])); d > sc*bound {
					t.Fatalf("%+v: element %d: %v → %v, step %v", s, i, w[i], y[i], sc)
				}
			}
			if minZero == 1 && !s.Sym {
				for _, z := range a.Zeros {
					if z == 0 {
						t.Fatalf("%+v: zero point 0 despite MinZero 1", s)
					}
				}
			}
		}
	}
}

// TestRTNErrors: NaN/Inf weights, wrong sizes, bad g_idx.
func TestRTNErrors(t *testing.T) {
	s := hfquant.Scheme{Bits: 4, GroupSize: 8, Sym: true}
	w := make([]float32, 16)
	w[11] = float32(math.Inf(1))
	if _, err := hfquant.QuantizeRTN(w, 2, 8, s); !errors.Is(err, hfquant.ErrNonFinite) {
		t.Errorf("Inf: %v", err)
	}
	w[11] = 0
	if _, err := hfquant.QuantizeRTN(w, 3, 8, s); err == nil {
		t.Error("wrong length accepted")
	}
	if _, err := hfquant.QuantizeRTNWith(w, 2, 8, s, hfquant.RTNOptions{GIdx: []int32{0, 0, 0, 0, 1, 0, 0, 0}}); err == nil {
		t.Error("g_idx naming group 1 of 1 accepted")
	}
	if _, err := hfquant.QuantizeRTN(w, 2, 8, hfquant.Scheme{Bits: 2, GroupSize: 8}); err == nil {
		t.Error("2 bits accepted")
	}
}
