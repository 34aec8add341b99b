package main

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/lmc-project/lmc/kernels"
)

func main() {
	fmt.Println(kernels.Implementation())
	rng := rand.New(rand.NewPCG(1, 2))
	worstD, worstW, worstM := 0.0, 0.0, 0.0
	var wd, ww, wm string
	for _, k := range []int{64, 128, 256, 768} {
		for m := 1; m <= 40; m++ {
			for n := 1; n <= 20; n++ {
				a := make([]float32, m*k)
				b := make([]float32, n*k)
				for i := range a {
					a[i] = float32(rng.NormFloat64())
				}
				for i := range b {
					b[i] = float32(rng.NormFloat64())
				}
				dst := make([]float32, n*m)
				kernels.Dots(dst, m, a, k, m, b, k, n, k)
				for t := 0; t < n; t++ {
					for r := 0; r < m; r++ {
						s, mag := 0.0, 0.0
						for i := 0; i < k; i++ {
							s += float64(a[r*k+i]) * float64(b[t*k+i])
							mag += math.Abs(float64(a[r*k+i]) * float64(b[t*k+i]))
						}
						d := math.Abs(float64(dst[t*m+r])-s) / mag
						if d > worstD {
							worstD, wd = d, fmt.Sprintf("k=%d m=%d n=%d t=%d r=%d", k, m, n, t, r)
						}
					}
				}
				// dense MatMul: W m×k, x n×k
				mx, _ := kernels.NewF32(a, m, k)
				kernels.Parallel(1, 1, func(int, int) {})
				mx.MatMul(dst, b, n)
				for t := 0; t < n; t++ {
					for r := 0; r < m; r++ {
						s, mag := 0.0, 0.0
						for i := 0; i < k; i++ {
							s += float64(a[r*k+i]) * float64(b[t*k+i])
							mag += math.Abs(float64(a[r*k+i]) * float64(b[t*k+i]))
						}
						d := math.Abs(float64(dst[t*m+r])-s) / mag
						if d > worstM {
							worstM, wm = d, fmt.Sprintf("k=%d m=%d n=%d t=%d r=%d", k, m, n, t, r)
						}
					}
				}
			}
			// WeightedSum: dst k, v m rows of stride k, p m
			p := make([]float32, m)
			for i := range p {
				p[i] = float32(rng.Float64())
			}
			v := make([]float32, m*k)
			for i := range v {
				v[i] = float32(rng.NormFloat64())
			}
			dst := make([]float32, k)
			kernels.WeightedSum(dst, v, k, p)
			for i := 0; i < k; i++ {
				s, mag := 0.0, 0.0
				for j := 0; j < m; j++ {
					s += float64(p[j]) * float64(v[j*k+i])
					mag += math.Abs(float64(p[j]) * float64(v[j*k+i]))
				}
				d := math.Abs(float64(dst[i])-s) / mag
				if d > worstW {
					worstW, ww = d, fmt.Sprintf("k=%d m=%d i=%d", k, m, i)
				}
			}
		}
	}
	fmt.Printf("Dots worst %.3g (%s)\nMatMul worst %.3g (%s)\nWeightedSum worst %.3g (%s)\n", worstD, wd, worstM, wm, worstW, ww)
}
