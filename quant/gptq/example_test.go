package gptq_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/lmc-project/lmc/hfquant/spec"
	"github.com/lmc-project/lmc/quant"
	"github.com/lmc-project/lmc/quant/gptq"
	"github.com/lmc-project/lmc/tensor"
)

// GPTQ onto a 4-bit grid and onto Q4_K, compared with plain rounding by
// the layer's output error on its calibration inputs.
func Example() {
	rng := rand.New(rand.NewPCG(1, 1))
	const rows, cols, n = 32, 256, 1024
	x := make([]float32, n*cols) // calibration inputs with a shared component
	for t := 0; t < n; t++ {
		c := float32(rng.NormFloat64())
		for j := 0; j < cols; j++ {
			x[t*cols+j] = float32(rng.NormFloat64()) + c
		}
	}
	w := make([]float32, rows*cols)
	for i := range w {
		w[i] = float32(rng.NormFloat64())
	}
	h := gptq.NewHessian(cols)
	h.Add(x, n)
	f, err := gptq.Prepare(h, gptq.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	s := spec.Scheme{Bits: 4, GroupSize: 128, Sym: true, ScaleDType: tensor.F16}
	q, _, err := gptq.QuantizeInt(w, rows, cols, f, s, gptq.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	deq := make([]float32, rows*cols)
	q.Dequantize(deq)
	b, _, err := gptq.QuantizeGGML(w, rows, cols, f, quant.Q4_K, nil, gptq.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	deqK := make([]float32, rows*cols)
	quant.Q4_K.Dequantize(deqK, b)
	ref := make([]byte, len(b))
	quant.Q4_K.QuantizeRows(ref, w, cols, nil)
	rtnK := make([]float32, rows*cols)
	quant.Q4_K.Dequantize(rtnK, ref)
	fmt.Printf("int4 g128: %d codes, relative output error below 2%%: %v\n", len(q.Codes), gptq.OutputError(w, deq, rows, cols, h) < 0.02)
	fmt.Println("Q4_K: GPTQ below RTN:", gptq.OutputError(w, deqK, rows, cols, h) < gptq.OutputError(w, rtnK, rows, cols, h))
	// Output:
	// int4 g128: 8192 codes, relative output error below 2%: true
	// Q4_K: GPTQ below RTN: true
}
