package gptq

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lmc-project/lmc/quant"
)

// TestGrids checks every format's grid against the format's own
// dequantizer: rounding a block's dequantized values gives back its codes
// (the bytes do not change), and setting another code changes the
// dequantized element to exactly the value the grid predicts (up to
// float32 rounding of the product) and no other element.
func TestGrids(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, f := range quant.Formats() {
		g, err := gridFor(f.Type)
		if err != nil {
			continue
		}
		t.Run(f.Type.String(), func(t *testing.T) {
			n := f.BlockSize
			x := make([]float32, n)
			for trial := 0; trial < 20; trial++ {
				for i := range x {
					x[i] = float32(rng.NormFloat64()) * (1 + float32(trial%3))
				}
				b := make([]byte, f.BlockBytes)
				if err := f.Quantize(b, x, nil); err != nil {
					t.Fatal(err)
				}
				orig := append([]byte(nil), b...)
				y := make([]float32, n)
				f.Dequantize(y, b)
				g.load(b)
				for e := 0; e < n; e++ {
					code, v := g.round(e, y[e])
					if math.Abs(float64(v-y[e])) > 1e-6*math.Max(1, math.Abs(float64(y[e]))) {
						t.Fatalf("trial %d element %d: grid value %v for dequantized %v", trial, e, v, y[e])
					}
					g.set(e, code)
				}
				if !bytes.Equal(b, orig) {
					t.Fatalf("trial %d: re-rounding the block's own values changed its bytes", trial)
				}
				// Move each element to a random target and compare.
				for e := 0; e < n; e++ {
					target := x[e] + float32(rng.NormFloat64())
					code, v := g.round(e, target)
					g.set(e, code)
					f.Dequantize(y, b)
					if math.Abs(float64(v-y[e])) > 1e-5*math.Max(1, math.Abs(float64(y[e]))) {
						t.Fatalf("trial %d element %d: set code %d, grid says %v, block decodes %v", trial, e, code, v, y[e])
					}
				}
			}
		})
	}
}
