package kernels

import "unsafe"

// kvGoImpl is the pure-Go level: dense scores on the Go tiles, every other
// kernel the reference of kvref.go.
var kvGoImpl = denseKVImpl(goImpl)

// denseKVImpl returns a row-kernel level whose F32, F16 and BF16 scores run
// on im's dense tiles (the kernels of MatMul) and whose F32 sums run on
// im's weighted sum; other types fall back to the Go reference.
func denseKVImpl(im *impl) *kvImpl {
	kv := &kvImpl{name: im.name}
	for _, t := range []RowType{RowF32, RowF16, RowBF16} {
		kind := int(t)
		kv.dots[t] = func(dst []float32, dstStride int, rows unsafe.Pointer, rowStride, m int, q []float32, qStride, n, k int) {
			mulRows(im, kind, rows, rowStride, q, qStride, n, dst, dstStride, 0, m, k)
		}
	}
	return kv
}
