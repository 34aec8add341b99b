package kernels

import (
	"unsafe"

	"github.com/lmc-project/lmc/tensor"
)

// The pure-Go kernels. They define what the assembly computes (tests
// compare the two) and are the implementation under the noasm and purego
// build tags and on other architectures. They are kept plain on purpose.

// weightAt returns element i of a dense weight row at w.
func weightAt(kind int, w unsafe.Pointer, i int) float32 {
	switch kind {
	case kindF16:
		return tensor.F16ToF32(*(*uint16)(unsafe.Add(w, 2*i)))
	case kindBF16:
		return tensor.BF16ToF32(*(*uint16)(unsafe.Add(w, 2*i)))
	}
	return *(*float32)(unsafe.Add(w, 4*i))
}

// tileRef is the loop every tile kernel computes (see [tileFn]):
//
//	for g < groups, t < T, r < R:
//	    dst[g*R + r + t*dstride] = Σ_{i<k} w[g*R + r][i] · x[t][i]
func tileRef(kind, R, T int, w unsafe.Pointer, wstride uintptr, x unsafe.Pointer, xstride uintptr, dst unsafe.Pointer, dstride uintptr, k int, groups int) {
	row := make([]float32, k)
	for g := 0; g < groups; g++ {
		for r := 0; r < R; r++ {
			wr := unsafe.Add(w, uintptr(g*R+r)*wstride)
			rowToF32(kind, row, wr)
			for t := 0; t < T; t++ {
				xt := unsafe.Slice((*float32)(unsafe.Add(x, uintptr(t)*xstride)), k)
				var s0, s1, s2, s3 float32
				i := 0
				for ; i+4 <= k; i += 4 {
					s0 += row[i] * xt[i]
					s1 += row[i+1] * xt[i+1]
					s2 += row[i+2] * xt[i+2]
					s3 += row[i+3] * xt[i+3]
				}
				for ; i < k; i++ {
					s0 += row[i] * xt[i]
				}
				*(*float32)(unsafe.Add(dst, uintptr(4*(g*R+r))+uintptr(t)*dstride)) = (s0 + s1) + (s2 + s3)
			}
		}
	}
}

// rowToF32 decodes len(dst) elements of a dense weight row at w.
func rowToF32(kind int, dst []float32, w unsafe.Pointer) {
	n := len(dst)
	if n == 0 {
		return
	}
	switch kind {
	case kindF16:
		tensor.F16ToF32Slice(dst, unsafe.Slice((*uint16)(w), n))
	case kindBF16:
		tensor.BF16ToF32Slice(dst, unsafe.Slice((*uint16)(w), n))
	default:
		copy(dst, unsafe.Slice((*float32)(w), n))
	}
}

// wsumRef is the loop every weighted-sum kernel computes:
//
//	dst[i] = Σ_{j < len(p)} p[j] · v[j*stride + i]   for i < len(dst)
func wsumRef(dst, v []float32, stride int, p []float32) {
	for i := range dst {
		dst[i] = 0
	}
	for j, pj := range p {
		vj := v[j*stride : j*stride+len(dst)]
		for i := range dst {
			dst[i] += pj * vj[i]
		}
	}
}
