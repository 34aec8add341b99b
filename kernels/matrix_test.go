package kernels_test

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lmc-project/lmc/gguf"
	"github.com/lmc-project/lmc/kernels"
	"github.com/lmc-project/lmc/kernels/kerneltest"
	"github.com/lmc-project/lmc/tensor"
)

// denseBytes stores w as typ and returns the bytes and the exact values.
func denseBytes(typ gguf.Type, w []float32) ([]byte, []float32) {
	var b []byte
	exact := make([]float32, len(w))
	for i, v := range w {
		switch typ {
		case gguf.TypeF16:
			h := tensor.F32ToF16(v)
			b = binary.LittleEndian.AppendUint16(b, h)
			exact[i] = tensor.F16ToF32(h)
		case gguf.TypeBF16:
			h := tensor.F32ToBF16(v)
			b = binary.LittleEndian.AppendUint16(b, h)
			exact[i] = tensor.BF16ToF32(h)
		default:
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
			exact[i] = v
		}
	}
	return b, exact
}

func rowsOf(w []float32, rows, cols int) [][]float32 {
	out := make([][]float32, rows)
	for r := range out {
		out[r] = w[r*cols : (r+1)*cols]
	}
	return out
}

// TestDenseConformance runs kerneltest.CheckMatrix on the dense types with
// every implementation this CPU has.
func TestDenseConformance(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, impl := range kernels.Implementations() {
		for _, typ := range []gguf.Type{gguf.TypeF32, gguf.TypeF16, gguf.TypeBF16} {
			for _, sh := range []struct{ rows, cols int }{{1, 1}, {7, 33}, {64, 172}, {36, 256}} {
				t.Run(fmt.Sprintf("%s/%s/%dx%d", impl, typ.UpperName(), sh.rows, sh.cols), func(t *testing.T) {
					w := make([]float32, sh.rows*sh.cols)
					for i := range w {
						w[i] = float32(rng.NormFloat64())
					}
					data, exact := denseBytes(typ, w)
					m, err := kernels.New(typ, data, sh.rows, sh.cols)
					if err != nil {
						t.Fatal(err)
					}
					defer kernels.SetImpl(impl)()
					kerneltest.CheckMatrix(t, m, rowsOf(exact, sh.rows, sh.cols), 1e-5)
				})
			}
		}
	}
}

// q8Kernel is a plain Q8_0 × Q8_0 kernel, written here to exercise
// NewBlockMatrix the way the quant package will.
var q8Kernel = kernels.BlockKernel{
	Type:  gguf.TypeQ8_0,
	Input: gguf.TypeQ8_0,
	QuantizeInput: func(dst []byte, x []float32) {
		for b := 0; b < len(x)/32; b++ {
			quantQ8(dst[34*b:34*b+34], x[32*b:32*b+32])
		}
	},
	Dot: func(dst []float32, w, x []byte, cols int) {
		nb := cols / 32
		for r := range dst {
			row := w[r*34*nb:]
			var s float32
			for b := 0; b < nb; b++ {
				wb, xb := row[34*b:], x[34*b:]
				var acc int32
				for i := 0; i < 32; i++ {
					acc += int32(int8(wb[2+i])) * int32(int8(xb[2+i]))
				}
				s += tensor.F16ToF32(binary.LittleEndian.Uint16(wb)) * tensor.F16ToF32(binary.LittleEndian.Uint16(xb)) * float32(acc)
			}
			dst[r] = s
		}
	},
	Dequantize: func(dst []float32, w []byte) {
		for b := 0; b < len(dst)/32; b++ {
			d := tensor.F16ToF32(binary.LittleEndian.Uint16(w[34*b:]))
			for i := 0; i < 32; i++ {
				dst[32*b+i] = d * float32(int8(w[34*b+2+i]))
			}
		}
	},
}

func quantQ8(dst []byte, x []float32) {
	var amax float32
	for _, v := range x {
		amax = max(amax, float32(math.Abs(float64(v))))
	}
	d := amax / 127
	binary.LittleEndian.PutUint16(dst, tensor.F32ToF16(d))
	inv := float32(0)
	if d != 0 {
		inv = 1 / d
	}
	for i, v := range x {
		dst[2+i] = byte(int8(math.Round(float64(v * inv))))
	}
}

// TestBlockMatrix checks NewBlockMatrix with the Q8_0 kernel above through
// CheckMatrix. Tolerance 1e-2 of Σ|w·x|: the activations are rounded to 8
// bits per block (relative error up to 1/254 per element).
func TestBlockMatrix(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	rows, cols := 37, 96
	data := make([]byte, rows*34*cols/32)
	ref := make([][]float32, rows)
	for r := range ref {
		x := make([]float32, cols)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		for b := 0; b < cols/32; b++ {
			quantQ8(data[(r*cols/32+b)*34:], x[32*b:32*b+32])
		}
		ref[r] = make([]float32, cols)
		q8Kernel.Dequantize(ref[r], data[r*34*cols/32:(r+1)*34*cols/32])
	}
	m, err := kernels.NewBlockMatrix(&q8Kernel, data, rows, cols)
	if err != nil {
		t.Fatal(err)
	}
	kerneltest.CheckMatrix(t, m, ref, 1e-2)

	if _, err := kernels.NewBlockMatrix(&q8Kernel, data[:len(data)-1], rows, cols); err == nil {
		t.Error("NewBlockMatrix accepted data one byte short")
	}
	if _, err := kernels.NewBlockMatrix(&q8Kernel, data, rows, 100); err == nil {
		t.Error("NewBlockMatrix accepted 100 columns for 32-element blocks")
	}
	bad := q8Kernel
	bad.QuantizeInput = nil
	if _, err := kernels.NewBlockMatrix(&bad, data, rows, cols); err == nil {
		t.Error("NewBlockMatrix accepted a Q8_0-input kernel without QuantizeInput")
	}
}
