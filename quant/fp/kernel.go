package fp

import (
	"github.com/lmc-project/lmc/gguf"
	"github.com/lmc-project/lmc/kernels"
)

// MXFP4 and NVFP4 register kernels.Matrix constructors, so that GGUF files
// holding them run in lmc's engine: activations are quantized to Q8_0 once
// per MatMul ([QuantizeRowQ8_0], as llama.cpp's CPU backend does, whose
// vec_dot_type for both is Q8_0), and rows are multiplied with
// DotMXFP4Q8_0 / DotNVFP4Q8_0 (pure Go).
var (
	mxfp4Kernel = &kernels.BlockKernel{
		Type:          gguf.TypeMXFP4,
		Input:         gguf.TypeQ8_0,
		QuantizeInput: QuantizeRowQ8_0,
		Dot: func(dst []float32, w, x []byte, cols int) {
			rb := cols / MXFP4BlockSize * MXFP4BlockBytes
			for i := range dst {
				dst[i] = DotMXFP4Q8_0(cols, w[i*rb:(i+1)*rb], x)
			}
		},
		Dequantize: func(dst []float32, w []byte) {
			DequantizeRowMXFP4(dst[:len(w)/MXFP4BlockBytes*MXFP4BlockSize], w)
		},
	}
	nvfp4Kernel = &kernels.BlockKernel{
		Type:          gguf.TypeNVFP4,
		Input:         gguf.TypeQ8_0,
		QuantizeInput: QuantizeRowQ8_0,
		Dot: func(dst []float32, w, x []byte, cols int) {
			rb := cols / NVFP4BlockSize * NVFP4BlockBytes
			for i := range dst {
				dst[i] = DotNVFP4Q8_0(cols, w[i*rb:(i+1)*rb], x)
			}
		},
		Dequantize: func(dst []float32, w []byte) {
			DequantizeRowNVFP4(dst[:len(w)/NVFP4BlockBytes*NVFP4BlockSize], w)
		},
	}
)

func init() {
	kernels.Register(gguf.TypeMXFP4, func(data []byte, rows, cols int) (kernels.Matrix, error) {
		return kernels.NewBlockMatrix(mxfp4Kernel, data, rows, cols)
	})
	kernels.Register(gguf.TypeNVFP4, func(data []byte, rows, cols int) (kernels.Matrix, error) {
		return kernels.NewBlockMatrix(nvfp4Kernel, data, rows, cols)
	})
}
