package kernels

import (
	"encoding/binary"
	"fmt"
	"unsafe"

	"github.com/lmc-project/lmc/gguf"
)

func init() {
	Register(gguf.TypeF32, func(data []byte, rows, cols int) (Matrix, error) { return newDense(kindF32, data, rows, cols), nil })
	Register(gguf.TypeF16, func(data []byte, rows, cols int) (Matrix, error) { return newDense(kindF16, data, rows, cols), nil })
	Register(gguf.TypeBF16, func(data []byte, rows, cols int) (Matrix, error) { return newDense(kindBF16, data, rows, cols), nil })
}

// dense is an F32, F16 or BF16 matrix over its stored bytes.
type dense struct {
	kind       int
	rows, cols int
	data       []byte // as given (GGUF layout), returned by Data
	native     []byte // data in host byte order: data itself on little-endian hosts
}

var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

func newDense(kind int, data []byte, rows, cols int) *dense {
	d := &dense{kind: kind, rows: rows, cols: cols, data: data, native: data}
	if !littleEndian {
		d.native = make([]byte, len(data))
		if kind == kindF32 {
			for i := 0; i+4 <= len(data); i += 4 {
				*(*uint32)(unsafe.Pointer(&d.native[i])) = binary.LittleEndian.Uint32(data[i:])
			}
		} else {
			for i := 0; i+2 <= len(data); i += 2 {
				*(*uint16)(unsafe.Pointer(&d.native[i])) = binary.LittleEndian.Uint16(data[i:])
			}
		}
	}
	return d
}

// NewF32 returns an F32 Matrix over w (rows × cols floats, row-major),
// without copying it: w must not change while the Matrix is in use.
func NewF32(w []float32, rows, cols int) (Matrix, error) {
	if rows <= 0 || cols <= 0 || len(w) != rows*cols {
		return nil, fmt.Errorf("kernels: NewF32 with %d floats for shape [%d, %d]", len(w), rows, cols)
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(w))), 4*len(w))
	d := &dense{kind: kindF32, rows: rows, cols: cols, data: b, native: b}
	if !littleEndian {
		d.data = make([]byte, len(b))
		for i, v := range w {
			binary.LittleEndian.PutUint32(d.data[4*i:], *(*uint32)(unsafe.Pointer(&v)))
		}
	}
	return d, nil
}

func (d *dense) Rows() int    { return d.rows }
func (d *dense) Cols() int    { return d.cols }
func (d *dense) Data() []byte { return d.data }

func (d *dense) Type() gguf.Type {
	switch d.kind {
	case kindF16:
		return gguf.TypeF16
	case kindBF16:
		return gguf.TypeBF16
	}
	return gguf.TypeF32
}

func (d *dense) rowBytes() int {
	if d.kind == kindF32 {
		return 4 * d.cols
	}
	return 2 * d.cols
}

func (d *dense) DequantizeRow(dst []float32, r int) {
	checkRow(d, dst, r)
	rb := d.rowBytes()
	rowToF32(d.kind, dst[:d.cols], unsafe.Pointer(&d.native[r*rb]))
}

func (d *dense) MatMul(dst, x []float32, n int) {
	checkMatMul(d, dst, x, n)
	if n == 0 {
		return
	}
	im := cur
	w := unsafe.Pointer(unsafe.SliceData(d.native))
	rb := d.rowBytes()
	Parallel(d.rows, 4, func(lo, hi int) {
		mulRows(im, d.kind, w, rb, x, d.cols, n, dst, d.rows, lo, hi, d.cols)
	})
}

// Dots computes a block of dot products between the rows of a and of b,
// single-threaded, with the same kernels as MatMul:
//
//	dst[t*dstStride + r] = Σ_{i<k} a[r*aStride + i] · b[t*bStride + i]   for r < m, t < n
//
// It is the building block for attention scores (a = keys, b = queries).
// It panics if a slice is too short for the strides and counts.
func Dots(dst []float32, dstStride int, a []float32, aStride, m int, b []float32, bStride, n, k int) {
	if m <= 0 || n <= 0 {
		return
	}
	if k < 0 || len(a) < (m-1)*aStride+k || len(b) < (n-1)*bStride+k || len(dst) < (n-1)*dstStride+m {
		panic(fmt.Sprintf("kernels: Dots slices too short: a %d (m %d stride %d), b %d (n %d stride %d), dst %d (stride %d), k %d",
			len(a), m, aStride, len(b), n, bStride, len(dst), dstStride, k))
	}
	if k == 0 {
		for t := 0; t < n; t++ {
			clear(dst[t*dstStride : t*dstStride+m])
		}
		return
	}
	mulRows(cur, kindF32, unsafe.Pointer(unsafe.SliceData(a)), 4*aStride, b, bStride, n, dst, dstStride, 0, m, k)
}

// WeightedSum sets dst to a weighted sum of rows of v, single-threaded:
//
//	dst[i] = Σ_{j < len(p)} p[j] · v[j*stride + i]   for i < len(dst)
//
// It is the second half of attention (p = probabilities, v = values). It
// panics if v is too short.
func WeightedSum(dst, v []float32, stride int, p []float32) {
	if len(p) > 0 && len(v) < (len(p)-1)*stride+len(dst) {
		panic(fmt.Sprintf("kernels: WeightedSum v has %d floats, need %d", len(v), (len(p)-1)*stride+len(dst)))
	}
	cur.wsum(dst, v, stride, p)
}
