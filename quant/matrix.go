package quant

import (
	"github.com/lmc-project/lmc/gguf"
	"github.com/lmc-project/lmc/kernels"
)

// Every format but Q8_1 and Q8_K (activation formats) registers a kernels.Matrix
// constructor: kernels.New(gguf.TypeQ4_K, data, rows, cols) then computes
// with this package's kernels. Activations are quantized once per MatMul to
// the format's DotType, as llama.cpp's CPU backend does, so MatMul results
// differ from float64 products by the activations' rounding (relative
// error about 1% of Σ|w·x| for Q8_0/Q8_1/Q8_K).
func init() {
	for _, f := range formats {
		if f.dot == nil {
			continue
		}
		k := f.blockKernel()
		kernels.Register(f.Type, func(data []byte, rows, cols int) (kernels.Matrix, error) {
			return kernels.NewBlockMatrix(k, data, rows, cols)
		})
	}
}

// BlockKernel returns the kernels.BlockKernel that computes with f (nil
// for Q8_1 and Q8_K, which have no dot product).
func (f *Format) BlockKernel() *kernels.BlockKernel {
	if f.dot == nil {
		return nil
	}
	return f.blockKernel()
}

func (f *Format) blockKernel() *kernels.BlockKernel {
	var quantizeInput func(dst []byte, x []float32)
	switch f.DotType {
	case gguf.TypeQ8_0:
		quantizeInput = QuantizeRowQ8_0
	case gguf.TypeQ8_1:
		quantizeInput = QuantizeRowQ8_1
	case gguf.TypeQ8_K:
		quantizeInput = QuantizeRowQ8_K
	}
	var batchDot func(dst []float32, w, x []byte, cols int)
	if f.dotBatch != nil {
		batchDot = func(dst []float32, w, x []byte, cols int) { f.rowDots(f.dotBatch, dst, w, x, cols) }
	}
	return &kernels.BlockKernel{
		BatchDot:      batchDot,
		BatchMin:      f.batchMin,
		Type:          f.Type,
		Input:         f.DotType,
		QuantizeInput: quantizeInput,
		// f.dot is read per call: it changes with the kernel level and
		// SetGGMLOrder.
		Dot:        func(dst []float32, w, x []byte, cols int) { f.rowDots(f.dot, dst, w, x, cols) },
		Dequantize: func(dst []float32, w []byte) { f.dequant(dst[:len(w)/f.BlockBytes*f.BlockSize], w) },
	}
}

// rowDots sets dst[i] to the dot product of weight row i of w with x.
func (f *Format) rowDots(dot func(n int, x, y []byte) float32, dst []float32, w, x []byte, cols int) {
	rb := cols / f.BlockSize * f.BlockBytes
	for i := range dst {
		dst[i] = dot(cols, w[i*rb:(i+1)*rb], x)
	}
}
