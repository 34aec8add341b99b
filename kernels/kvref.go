package kernels

import (
	"unsafe"

	"github.com/lmc-project/lmc/tensor"
)

// The pure-Go row kernels: the meaning of RowDots and RowWeightedSum, the
// oracle the assembly is tested against, and the implementation under the
// noasm and purego tags. Kept plain on purpose.

func half(p unsafe.Pointer, off int) float32 {
	return tensor.F16ToF32(*(*uint16)(unsafe.Add(p, off)))
}

func u8(p unsafe.Pointer, off int) byte { return *(*byte)(unsafe.Add(p, off)) }

// decodeRowRef decodes len(dst) elements of a row of type t at src.
func decodeRowRef(t RowType, dst []float32, src unsafe.Pointer) {
	k := len(dst)
	switch t {
	case RowF32, RowF16, RowBF16:
		rowToF32(int(t), dst, src) // the kinds are numbered alike
	case RowE4M3:
		for i := range dst {
			dst[i] = tensor.F8E4M3ToF32(u8(src, i))
		}
	default:
		bb := rowInfo[t].bytes
		for b := 0; b < k/32; b++ {
			p := unsafe.Add(src, b*bb)
			y := dst[32*b : 32*b+32]
			switch t {
			case RowQ8_0:
				d := half(p, 0)
				for i := range y {
					y[i] = float32(int8(u8(p, 2+i))) * d
				}
			case RowQ4_0:
				d := half(p, 0)
				for i := 0; i < 16; i++ {
					q := u8(p, 2+i)
					y[i] = float32(int(q&15)-8) * d
					y[i+16] = float32(int(q>>4)-8) * d
				}
			case RowQ4_1, RowU4:
				d, m, qs := float32(1), float32(0), 0
				if t == RowQ4_1 {
					d, m, qs = half(p, 0), half(p, 2), 4
				}
				for i := 0; i < 16; i++ {
					q := u8(p, qs+i)
					y[i] = float32(q&15)*d + m
					y[i+16] = float32(q>>4)*d + m
				}
			case RowQ2_1, RowU2:
				d, m, qs := float32(1), float32(0), 0
				if t == RowQ2_1 {
					d, m, qs = half(p, 0), half(p, 2), 4
				}
				for i := range y {
					c := u8(p, qs+i%8) >> (2 * (i / 8)) & 3
					y[i] = float32(c)*d + m
				}
			}
		}
	}
}

// rowDotsRef is the loop every RowDots kernel computes: each row is
// decoded, then dotted with each query in 4 float32 lanes.
func rowDotsRef(t RowType, dst []float32, dstStride int, rows unsafe.Pointer, rowStride, m int, q []float32, qStride, n, k int) {
	row := make([]float32, k)
	for j := 0; j < m; j++ {
		decodeRowRef(t, row, unsafe.Add(rows, j*rowStride))
		for tk := 0; tk < n; tk++ {
			x := q[tk*qStride : tk*qStride+k]
			var s0, s1, s2, s3 float32
			i := 0
			for ; i+4 <= k; i += 4 {
				s0 += row[i] * x[i]
				s1 += row[i+1] * x[i+1]
				s2 += row[i+2] * x[i+2]
				s3 += row[i+3] * x[i+3]
			}
			for ; i < k; i++ {
				s0 += row[i] * x[i]
			}
			dst[tk*dstStride+j] = (s0 + s1) + (s2 + s3)
		}
	}
}

// affineRow applies KIVI's per-channel parameters to decoded codes.
func affineRow(row []float32, par unsafe.Pointer) {
	for i := range row {
		b, e := i/32, i%32
		row[i] = row[i]*half(par, 128*b+2*e) + half(par, 128*b+64+2*e)
	}
}

// rowDotsAffineRef is the loop every RowDotsAffine kernel computes.
func rowDotsAffineRef(t RowType, dst []float32, dstStride int, rows unsafe.Pointer, rowStride, m int, par unsafe.Pointer, q []float32, qStride, n, k int) {
	row := make([]float32, k)
	for j := 0; j < m; j++ {
		decodeRowRef(t, row, unsafe.Add(rows, j*rowStride))
		affineRow(row, par)
		for tk := 0; tk < n; tk++ {
			x := q[tk*qStride : tk*qStride+k]
			var s0, s1, s2, s3 float32
			i := 0
			for ; i+4 <= k; i += 4 {
				s0 += row[i] * x[i]
				s1 += row[i+1] * x[i+1]
				s2 += row[i+2] * x[i+2]
				s3 += row[i+3] * x[i+3]
			}
			dst[tk*dstStride+j] = (s0 + s1) + (s2 + s3)
		}
	}
}

// rowWsumRef is the loop every RowWeightedSum kernel computes (adding to
// dst when add is set).
func rowWsumRef(t RowType, dst []float32, rows unsafe.Pointer, rowStride int, p []float32, add bool) {
	row := make([]float32, len(dst))
	if !add {
		clear(dst)
	}
	for j, pj := range p {
		decodeRowRef(t, row, unsafe.Add(rows, j*rowStride))
		for i, v := range row {
			dst[i] += pj * v
		}
	}
}
