package kernels

import (
	"fmt"
	"sync"
	"unsafe"

	"github.com/lmc-project/lmc/gguf"
)

// BlockKernel describes a block-quantized weight type to [NewBlockMatrix]:
// how activations are prepared and how prepared activations meet weight
// rows.
type BlockKernel struct {
	// Type is the weight type (gguf.TypeQ4_K, ...).
	Type gguf.Type
	// Input is the format activations are converted to once per MatMul
	// call, before any dot product: gguf.TypeQ8_0 (for 32-element weight
	// blocks), gguf.TypeQ8_K (for 256-element k-quant blocks), or
	// gguf.TypeF32 to receive the float32 activations unchanged (as
	// little-endian bytes).
	Input gguf.Type
	// QuantizeInput converts one activation row of cols floats into
	// Input.RowSize(cols) bytes (ggml's quantize_row_q8_0 / q8_K). It is
	// not called when Input is F32.
	QuantizeInput func(dst []byte, x []float32)
	// Dot computes the dot products of len(dst) consecutive weight rows
	// (w holds len(dst) × Type.RowSize(cols) bytes) with one prepared
	// activation row x: dst[i] = row i · x. It is called with up to 16
	// rows at a time, from several goroutines at once.
	Dot func(dst []float32, w, x []byte, cols int)
	// Dequantize decodes one weight row (Type.RowSize(cols) bytes) into
	// dst[:cols].
	Dequantize func(dst []float32, w []byte)
	// BatchDot, when set, replaces Dot in MatMul calls with at least
	// BatchMin activation rows. llama.cpp's CPU backend switches kernels,
	// and with them the float summation order, by batch size (for IQ4_XS
	// the IQ panel GEMM from 8 rows, vec_dot below); a type that follows
	// it bit for bit needs the same switch.
	BatchDot func(dst []float32, w, x []byte, cols int)
	BatchMin int
}

// NewBlockMatrix returns a Matrix over data (rows × k.Type.RowSize(cols)
// bytes, not copied) that computes with k. See [Matrix] for how its MatMul
// works.
func NewBlockMatrix(k *BlockKernel, data []byte, rows, cols int) (Matrix, error) {
	if k == nil || k.Dot == nil || k.Dequantize == nil {
		return nil, fmt.Errorf("kernels: BlockKernel for %s lacks Dot or Dequantize", k.typeName())
	}
	if k.Input != gguf.TypeF32 && k.QuantizeInput == nil {
		return nil, fmt.Errorf("kernels: BlockKernel for %s has input %s but no QuantizeInput", k.typeName(), k.Input.UpperName())
	}
	if err := CheckShape(k.Type, data, rows, cols); err != nil {
		return nil, err
	}
	rb, _ := k.Type.RowSize(int64(cols))
	ib, err := k.Input.RowSize(int64(cols))
	if err != nil {
		return nil, fmt.Errorf("kernels: %s input %s for %d columns: %w", k.typeName(), k.Input.UpperName(), cols, err)
	}
	return &blockMatrix{k: k, data: data, rows: rows, cols: cols, rowBytes: int(rb), inBytes: int(ib)}, nil
}

func (k *BlockKernel) typeName() string {
	if k == nil {
		return "<nil>"
	}
	return k.Type.UpperName()
}

type blockMatrix struct {
	k                 *BlockKernel
	data              []byte
	rows, cols        int
	rowBytes, inBytes int
}

func (m *blockMatrix) Rows() int       { return m.rows }
func (m *blockMatrix) Cols() int       { return m.cols }
func (m *blockMatrix) Type() gguf.Type { return m.k.Type }
func (m *blockMatrix) Data() []byte    { return m.data }

func (m *blockMatrix) DequantizeRow(dst []float32, r int) {
	checkRow(m, dst, r)
	m.k.Dequantize(dst[:m.cols], m.data[r*m.rowBytes:(r+1)*m.rowBytes])
}

var inputPool sync.Pool // *[]byte scratch for prepared activations

// blockRows is how many weight rows a worker runs every token against
// before moving on (small enough to stay in L1 for rows of a few KiB).
const blockRows = 16

func (m *blockMatrix) MatMul(dst, x []float32, n int) {
	checkMatMul(m, dst, x, n)
	if n == 0 {
		return
	}
	var in []byte
	if m.k.Input == gguf.TypeF32 {
		in = unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(x))), 4*n*m.cols)
	} else {
		need := n * m.inBytes
		bp, _ := inputPool.Get().(*[]byte)
		if bp == nil || cap(*bp) < need {
			b := make([]byte, need)
			bp = &b
		}
		in = (*bp)[:need]
		defer inputPool.Put(bp)
		Parallel(n, 1, func(lo, hi int) {
			for t := lo; t < hi; t++ {
				m.k.QuantizeInput(in[t*m.inBytes:(t+1)*m.inBytes], x[t*m.cols:(t+1)*m.cols])
			}
		})
	}
	dot := m.k.Dot
	if m.k.BatchDot != nil && n >= m.k.BatchMin {
		dot = m.k.BatchDot
	}
	Parallel(m.rows, blockRows, func(lo, hi int) {
		for rb := lo; rb < hi; rb += blockRows {
			re := min(rb+blockRows, hi)
			w := m.data[rb*m.rowBytes : re*m.rowBytes]
			for t := 0; t < n; t++ {
				dot(dst[t*m.rows+rb:t*m.rows+re], w, in[t*m.inBytes:(t+1)*m.inBytes], m.cols)
			}
		}
	})
}
