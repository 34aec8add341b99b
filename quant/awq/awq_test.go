package awq

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lmc-project/lmc/hfquant/spec"
	"github.com/lmc-project/lmc/quant"
	"github.com/lmc-project/lmc/quant/gptq"
	"github.com/lmc-project/lmc/tensor"
)

// setup returns inputs with a few salient channels (large activations), a
// weight matrix and the Hessian.
func setup(rows, cols, n int) ([]float32, *gptq.Hessian) {
	rng := rand.New(rand.NewPCG(7, 8))
	x := make([]float32, n*cols)
	for t := 0; t < n; t++ {
		for j := 0; j < cols; j++ {
			v := float32(rng.NormFloat64())
			if j%16 == 3 {
				v *= 20
			}
			x[t*cols+j] = v
		}
	}
	h := gptq.NewHessian(cols)
	h.Add(x, n)
	w := make([]float32, rows*cols)
	for i := range w {
		w[i] = float32(rng.NormFloat64()) * 0.02
	}
	return w, h
}

func TestSearchScale(t *testing.T) {
	const rows, cols = 48, 256
	w, h := setup(rows, cols, 512)
	for _, g := range []Grid{
		IntGrid{Scheme: spec.Scheme{Bits: 4, GroupSize: 128, Sym: true, ScaleDType: tensor.F16}},
		IntGrid{Scheme: spec.Scheme{Bits: 4, GroupSize: 64, ScaleDType: tensor.F16}},
		GGMLGrid{Format: quant.Q4_K},
		GGMLGrid{Format: quant.Q4_0, NoImatrix: true},
	} {
		for _, duo := range []bool{false, true} {
			r, err := SearchScale([]Linear{{W: w, Rows: rows}}, h, g, nil, Options{Duo: duo})
			if err != nil {
				t.Fatal(err)
			}
			if !(r.Loss <= r.BaseLoss) || r.Alpha == 0 {
				t.Errorf("%T duo=%v: loss %g vs unscaled %g, alpha %g: salient channels should be scaled", g, duo, r.Loss, r.BaseLoss, r.Alpha)
			}
			// Salient channels get larger scales.
			if !(r.Scales[3] > r.Scales[4]) {
				t.Errorf("%T: scale of the salient channel %g not above a normal one %g", g, r.Scales[3], r.Scales[4])
			}
			t.Logf("%T duo=%v: α %.2f (duo %v), loss %.3g → %.3g", g, duo, r.Alpha, r.Duo, r.BaseLoss, r.Loss)
		}
	}
}

// TestScaleInvariance: W·diag(s) applied to x/s is W·x.
func TestScaleInvariance(t *testing.T) {
	const rows, cols = 8, 32
	w, h := setup(rows, cols, 64)
	s := Candidate(h.MeanAbs(), 0.5)
	ws, imw := ScaledWeights(w, rows, cols, s, h.MeanSquares())
	ms := h.MeanSquares()
	x := make([]float32, cols)
	for j := range x {
		x[j] = float32(j%5) - 2
	}
	for r := 0; r < rows; r++ {
		var a, b float64
		for j := 0; j < cols; j++ {
			a += float64(w[r*cols+j]) * float64(x[j])
			b += float64(ws[r*cols+j]) * float64(x[j]/s[j])
		}
		if math.Abs(a-b) > 1e-5 {
			t.Fatalf("row %d: %g vs %g", r, a, b)
		}
	}
	for j := range imw {
		if d := math.Abs(float64(imw[j]*s[j]*s[j]-ms[j])) / float64(ms[j]); d > 1e-5 {
			t.Fatalf("importance of scaled column %d", j)
		}
	}
}

func TestSearchClip(t *testing.T) {
	const rows, cols = 32, 256
	w, h := setup(rows, cols, 512)
	// Outliers in the weights make clipping worthwhile.
	for r := 0; r < rows; r++ {
		w[r*cols+r] = 0.5
	}
	for _, g := range []Grid{IntGrid{Scheme: spec.Scheme{Bits: 4, GroupSize: 128, Sym: true, ScaleDType: tensor.F16}}, GGMLGrid{Format: quant.Q4_0}} {
		c := append([]float32(nil), w...)
		r, err := SearchClip(c, rows, cols, h, nil, nil, g, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !(r.Loss <= r.BaseLoss) || r.Groups != rows*cols/g.Group() {
			t.Errorf("%T: loss %g, unclipped %g, %d groups", g, r.Loss, r.BaseLoss, r.Groups)
		}
		changed := 0
		for i := range c {
			if c[i] != w[i] {
				changed++
				if math.Abs(float64(c[i])) > math.Abs(float64(w[i])) {
					t.Fatalf("clipping grew a weight")
				}
			}
		}
		if changed == 0 && r.Clipped > 0 {
			t.Errorf("%d groups clipped but no weight changed", r.Clipped)
		}
		t.Logf("%T: %d of %d groups clipped, loss %.3g → %.3g", g, r.Clipped, r.Groups, r.BaseLoss, r.Loss)
	}
}

// TestIntGridFake matches the grid's definition (spec.Scheme).
func TestIntGridFake(t *testing.T) {
	s := spec.Scheme{Bits: 4, GroupSize: 4, ScaleDType: tensor.F16}
	w := []float32{0, 1, 2, 3, -1, 0.5, 0.25, 4}
	out := make([]float32, len(w))
	if err := (IntGrid{Scheme: s}).Fake(out, w, 1, 8, nil); err != nil {
		t.Fatal(err)
	}
	for k := 0; k < 2; k++ {
		g := w[k*4 : k*4+4]
		lo, hi := g[0], g[0]
		for _, v := range g {
			lo, hi = min(lo, v), max(hi, v)
		}
		sc, z, _ := s.Params(lo, hi, 0)
		for j, v := range g {
			want := sc * float32(int32(s.Code(v, sc, z))-int32(z))
			if out[k*4+j] != want {
				t.Errorf("group %d element %d: %v, want %v", k, j, out[k*4+j], want)
			}
		}
	}
}
