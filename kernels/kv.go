package kernels

import (
	"fmt"
	"unsafe"
)

// RowType is the storage of one KV-cache row: the keys or values of one
// attention head at one position (head_dim elements), as the fused
// attention kernels ([RowDots], [RowWeightedSum]) read it without
// converting the whole cache to float32 first.
//
// Block types are stored as consecutive blocks of 32 elements with ggml's
// byte layouts (little-endian halves):
//
//	RowQ8_0  34 bytes: f16 d, i8 q[32]; x[i] = d·q[i]
//	RowQ4_0  18 bytes: f16 d, u8 qs[16]; x[i] = d·(n[i]−8), n[i] the low
//	         nibble of qs[i] for i < 16, the high nibble of qs[i−16] above
//	RowQ4_1  20 bytes: f16 d, f16 m, u8 qs[16]; x[i] = d·n[i] + m
//	RowQ2_1  12 bytes: f16 d, f16 m, u8 qs[8]; x[i] = d·c[i] + m, c[i] the
//	         two bits of qs[i%8] at bit 2·(i/8) (lmc's 2-bit twin of Q4_1)
//	RowU4    16 bytes: the codes of RowQ4_1 alone; x[i] = n[i]
//	RowU2     8 bytes: the codes of RowQ2_1 alone; x[i] = c[i]
//
// RowU4 and RowU2 hold KIVI keys, whose scale and offset are per channel
// and applied by the caller. RowE4M3 is OCP FP8 E4M3 ("e4m3fn"), one byte
// per element.
type RowType uint8

// The row types.
const (
	RowF32 RowType = iota
	RowF16
	RowBF16
	RowE4M3
	RowQ8_0
	RowQ4_0
	RowQ4_1
	RowQ2_1
	RowU4
	RowU2
	numRowTypes
)

var rowInfo = [numRowTypes]struct {
	name         string
	block, bytes int // elements and bytes per block
}{
	RowF32: {"f32", 1, 4}, RowF16: {"f16", 1, 2}, RowBF16: {"bf16", 1, 2}, RowE4M3: {"e4m3", 1, 1},
	RowQ8_0: {"q8_0", 32, 34}, RowQ4_0: {"q4_0", 32, 18}, RowQ4_1: {"q4_1", 32, 20}, RowQ2_1: {"q2_1", 32, 12},
	RowU4: {"u4", 32, 16}, RowU2: {"u2", 32, 8},
}

func (t RowType) String() string {
	if t < numRowTypes {
		return rowInfo[t].name
	}
	return fmt.Sprintf("RowType(%d)", int(t))
}

// BlockSize is the number of elements per block (1 for the float types).
func (t RowType) BlockSize() int { return rowInfo[t].block }

// RowBytes is the size of a row of k elements; k must be a multiple of
// the block size (it panics otherwise).
func (t RowType) RowBytes(k int) int {
	in := rowInfo[t]
	if k < 0 || k%in.block != 0 {
		panic(fmt.Sprintf("kernels: %s row of %d elements is not a whole number of %d-element blocks", in.name, k, in.block))
	}
	return k / in.block * in.bytes
}

// kvImpl is one implementation level of the row kernels: a dots and a
// weighted-sum function per row type (nil: use the Go reference).
type kvImpl struct {
	name   string
	dots   [numRowTypes]func(dst []float32, dstStride int, rows unsafe.Pointer, rowStride, m int, q []float32, qStride, n, k int)
	affine [numRowTypes]func(dst []float32, dstStride int, rows unsafe.Pointer, rowStride, m int, par unsafe.Pointer, q []float32, qStride, n, k int)
	wsum   [numRowTypes]func(dst []float32, rows unsafe.Pointer, rowStride int, p []float32, add bool)
}

// kvCur is the row-kernel implementation in use, chosen with the dense
// kernels' level (see setKVImpl).
var kvCur = bestKVImpl()

// setKVImpl selects a row-kernel implementation by name, for tests and
// benchmarks; it returns a function that restores the previous one.
func setKVImpl(name string) (restore func()) {
	old := kvCur
	for _, im := range kvImpls() {
		if im.name == name {
			kvCur = im
			return func() { kvCur = old }
		}
	}
	panic(fmt.Sprintf("kernels: row-kernel implementation %q not available", name))
}

func checkRows(what string, t RowType, rows []byte, rowStride, m, k int) {
	if t >= numRowTypes {
		panic(fmt.Sprintf("kernels: %s: unknown row type %d", what, int(t)))
	}
	rb := t.RowBytes(k)
	if m > 0 && (rowStride < rb || len(rows) < (m-1)*rowStride+rb) {
		panic(fmt.Sprintf("kernels: %s: %d rows of %d %s elements need %d bytes at stride %d, have %d",
			what, m, k, t, (m-1)*rowStride+rb, rowStride, len(rows)))
	}
}

// RowDots computes the dot products of n float32 vectors q with m stored
// rows, single-threaded, converting the rows as it reads them:
//
//	dst[t*dstStride + j] = Σ_{i<k} q[t*qStride + i] · row_j[i]   for j < m, t < n
//
// where row j is k elements of type t at rows[j*rowStride:]. It is the
// score half of attention over a quantized cache (rows = keys, q =
// queries). It panics if a slice is too short or k is not a multiple of
// t's block size.
func RowDots(t RowType, dst []float32, dstStride int, rows []byte, rowStride, m int, q []float32, qStride, n, k int) {
	if m <= 0 || n <= 0 {
		return
	}
	checkRows("RowDots", t, rows, rowStride, m, k)
	if k < 0 || len(q) < (n-1)*qStride+k || len(dst) < (n-1)*dstStride+m {
		panic(fmt.Sprintf("kernels: RowDots slices too short: q %d (n %d stride %d), dst %d (m %d stride %d), k %d",
			len(q), n, qStride, len(dst), m, dstStride, k))
	}
	if k == 0 {
		for i := 0; i < n; i++ {
			clear(dst[i*dstStride : i*dstStride+m])
		}
		return
	}
	rp := unsafe.Pointer(unsafe.SliceData(rows))
	if f := kvCur.dots[t]; f != nil {
		f(dst, dstStride, rp, rowStride, m, q, qStride, n, k)
		return
	}
	rowDotsRef(t, dst, dstStride, rp, rowStride, m, q, qStride, n, k)
}

// RowWeightedSum sets dst to a weighted sum of stored rows, single-
// threaded, converting them as it reads them:
//
//	dst[i] = Σ_{j < len(p)} p[j] · row_j[i]   for i < len(dst)
//
// where row j is len(dst) elements of type t at rows[j*rowStride:]. It is
// the output half of attention over a quantized cache (p =
// probabilities, rows = values). It panics if rows is too short or
// len(dst) is not a multiple of t's block size.
func RowWeightedSum(t RowType, dst []float32, rows []byte, rowStride int, p []float32) {
	rowWsum(t, dst, rows, rowStride, p, false)
}

// RowWeightedSumAdd is RowWeightedSum adding to dst instead of setting it
// (dst[i] += Σ_j p[j] · row_j[i]), to sum over rows in several places.
func RowWeightedSumAdd(t RowType, dst []float32, rows []byte, rowStride int, p []float32) {
	rowWsum(t, dst, rows, rowStride, p, true)
}

func rowWsum(t RowType, dst []float32, rows []byte, rowStride int, p []float32, add bool) {
	checkRows("RowWeightedSum", t, rows, rowStride, len(p), len(dst))
	if len(dst) == 0 {
		return
	}
	if len(p) == 0 {
		if !add {
			clear(dst)
		}
		return
	}
	rp := unsafe.Pointer(unsafe.SliceData(rows))
	if f := kvCur.wsum[t]; f != nil {
		f(dst, rp, rowStride, p, add)
		return
	}
	rowWsumRef(t, dst, rp, rowStride, p, add)
}

// RowDotsAffine is RowDots for rows of KIVI key codes (t is RowU4 or
// RowU2) that share per-channel parameters: element i of row j is
// code_j[i]·s[i] + m[i], where par holds, for each block of 32 channels,
// 32 halves s then 32 halves m (k/32·128 bytes):
//
//	dst[t*dstStride + j] = Σ_{i<k} q[t*qStride + i] · (code_j[i]·s[i] + m[i])
//
// It panics if a slice is too short or k is not a multiple of 32.
func RowDotsAffine(t RowType, dst []float32, dstStride int, rows []byte, rowStride, m int, par []byte, q []float32, qStride, n, k int) {
	if t != RowU4 && t != RowU2 {
		panic(fmt.Sprintf("kernels: RowDotsAffine on %s rows (want u4 or u2)", t))
	}
	if m <= 0 || n <= 0 {
		return
	}
	checkRows("RowDotsAffine", t, rows, rowStride, m, k)
	if len(par) < k*4 || k < 0 || len(q) < (n-1)*qStride+k || len(dst) < (n-1)*dstStride+m {
		panic(fmt.Sprintf("kernels: RowDotsAffine slices too short: par %d (k %d), q %d (n %d stride %d), dst %d (m %d stride %d)",
			len(par), k, len(q), n, qStride, len(dst), m, dstStride))
	}
	if k == 0 {
		for i := 0; i < n; i++ {
			clear(dst[i*dstStride : i*dstStride+m])
		}
		return
	}
	rp := unsafe.Pointer(unsafe.SliceData(rows))
	pp := unsafe.Pointer(unsafe.SliceData(par))
	if f := kvCur.affine[t]; f != nil {
		f(dst, dstStride, rp, rowStride, m, pp, q, qStride, n, k)
		return
	}
	rowDotsAffineRef(t, dst, dstStride, rp, rowStride, m, pp, q, qStride, n, k)
}

// DecodeRow converts one stored row of type t (len(dst) elements) to
// float32. The block types give exactly ggml's dequantized values.
func DecodeRow(t RowType, dst []float32, src []byte) {
	checkRows("DecodeRow", t, src, t.RowBytes(len(dst)), 1, len(dst))
	if len(dst) == 0 {
		return
	}
	decodeRowRef(t, dst, unsafe.Pointer(unsafe.SliceData(src)))
}

// RowImplementations lists the row-kernel implementations this CPU can
// run, best last; RowImplementation is the one in use.
func RowImplementations() []string {
	var names []string
	for _, im := range kvImpls() {
		names = append(names, im.name)
	}
	return names
}

// RowImplementation returns the name of the row-kernel implementation in
// use.
func RowImplementation() string { return kvCur.name }
