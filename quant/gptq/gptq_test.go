package gptq

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lmc-project/lmc/hfquant/spec"
	"github.com/lmc-project/lmc/quant"
	"github.com/lmc-project/lmc/tensor"
)

// calib returns n activation rows of cols values with correlated columns
// and a few large channels, like a transformer's.
func calib(rng *rand.Rand, n, cols int) []float32 {
	x := make([]float32, n*cols)
	mix := make([]float32, cols)
	for j := range mix {
		mix[j] = float32(rng.NormFloat64())
	}
	for t := 0; t < n; t++ {
		common := float32(rng.NormFloat64())
		for j := 0; j < cols; j++ {
			v := float32(rng.NormFloat64()) + 0.8*common*mix[j]
			if j%37 == 0 {
				v *= 6
			}
			x[t*cols+j] = v
		}
	}
	return x
}

func randW(rng *rand.Rand, rows, cols int) []float32 {
	w := make([]float32, rows*cols)
	for i := range w {
		w[i] = float32(rng.NormFloat64()) * 0.05
	}
	return w
}

// TestGPTQBeatsRTN checks that GPTQ's output error on the calibration
// inputs is lower than round-to-nearest's on the same grid, for integer
// grids and ggml formats.
func TestGPTQBeatsRTN(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const rows, cols, n = 64, 512, 2048
	x := calib(rng, n, cols)
	h := NewHessian(cols)
	h.Add(x, n)
	w := randW(rng, rows, cols)
	for _, c := range []struct {
		name string
		s    spec.Scheme
		act  bool
	}{
		{"int4-g128-sym", spec.Scheme{Bits: 4, GroupSize: 128, Sym: true, ScaleDType: tensor.F16}, false},
		{"int4-g32-asym", spec.Scheme{Bits: 4, GroupSize: 32, ScaleDType: tensor.F16}, false},
		{"int4-g128-sym-act", spec.Scheme{Bits: 4, GroupSize: 128, Sym: true, ScaleDType: tensor.F16}, true},
		{"int8-perrow", spec.Scheme{Bits: 8, GroupSize: -1, Sym: true, ScaleDType: tensor.F16}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, err := Prepare(h, Options{ActOrder: c.act})
			if err != nil {
				t.Fatal(err)
			}
			q, _, err := QuantizeInt(w, rows, cols, f, c.s, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := q.Validate(); err != nil {
				t.Fatal(err)
			}
			deq := make([]float32, rows*cols)
			q.Dequantize(deq)
			rtn := rtnInt(w, rows, cols, c.s)
			eg, er := OutputError(w, deq, rows, cols, h), OutputError(w, rtn, rows, cols, h)
			t.Logf("output error: GPTQ %.3g, RTN %.3g (%.2fx)", eg, er, er/eg)
			if !(eg < er) {
				t.Errorf("GPTQ %g is not below RTN %g", eg, er)
			}
		})
	}
	for _, ft := range []*quant.Format{quant.Q4_0, quant.Q8_0, quant.Q4_K, quant.Q6_K, quant.Q3_K, quant.Q2_K, quant.Q5_K, quant.IQ4_XS, quant.IQ4_NL, quant.Q5_1} {
		t.Run(ft.Type.String(), func(t *testing.T) {
			f, err := Prepare(h, Options{})
			if err != nil {
				t.Fatal(err)
			}
			imw := h.MeanSquares()
			b, _, err := QuantizeGGML(w, rows, cols, f, ft, imw, Options{})
			if err != nil {
				t.Fatal(err)
			}
			deq := make([]float32, rows*cols)
			ft.Dequantize(deq, b)
			ref := make([]byte, len(b))
			if err := ft.QuantizeRows(ref, w, cols, imw); err != nil {
				t.Fatal(err)
			}
			rtn := make([]float32, rows*cols)
			ft.Dequantize(rtn, ref)
			eg, er := OutputError(w, deq, rows, cols, h), OutputError(w, rtn, rows, cols, h)
			t.Logf("output error: GPTQ %.3g, imatrix RTN %.3g (%.2fx)", eg, er, er/eg)
			if !(eg < er) {
				t.Errorf("GPTQ %g is not below RTN %g", eg, er)
			}
		})
	}
}

func rtnInt(w []float32, rows, cols int, s spec.Scheme) []float32 {
	out := make([]float32, len(w))
	gs := s.GroupSize
	if gs <= 0 {
		gs = cols
	}
	for r := 0; r < rows; r++ {
		for c0 := 0; c0 < cols; c0 += gs {
			lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
			for _, v := range w[r*cols+c0 : r*cols+c0+gs] {
				lo, hi = min(lo, v), max(hi, v)
			}
			sc, z, _ := s.Params(lo, hi, 0)
			for j := c0; j < c0+gs; j++ {
				out[r*cols+j] = sc * float32(int32(s.Code(w[r*cols+j], sc, z))-int32(z))
			}
		}
	}
	return out
}

// TestCholeskyInverse checks U against a direct inverse: UᵀU·H = I.
func TestCholeskyInverse(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const n = 40
	x := calib(rng, 200, n)
	h := NewHessian(n)
	h.Add(x, 200)
	u, ok := upperCholInverse(h.H, n)
	if !ok {
		t.Fatal("not positive definite")
	}
	for i := 0; i < n; i++ {
		for j := 0; j < i; j++ {
			if u[i*n+j] != 0 {
				t.Fatalf("U[%d][%d] = %g below the diagonal", i, j, u[i*n+j])
			}
		}
		if !(u[i*n+i] > 0) {
			t.Fatalf("U[%d][%d] = %g", i, i, u[i*n+i])
		}
	}
	// (UᵀU)·H
	worst := 0.0
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			s := 0.0
			for k := 0; k < n; k++ {
				inv := 0.0
				for m := 0; m < n; m++ {
					inv += u[m*n+i] * u[m*n+k]
				}
				s += inv * h.H[k*n+j]
			}
			want := 0.0
			if i == j {
				want = 1
			}
			worst = math.Max(worst, math.Abs(s-want))
		}
	}
	if worst > 1e-8 {
		t.Errorf("max |UᵀU·H − I| = %g", worst)
	}
}
