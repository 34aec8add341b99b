//go:build amd64 && !noasm && !purego

package kernels

import "unsafe"

//go:generate go run ./_kvgen/gen.go -out kv_amd64.s -decl kv_amd64_decl.go

// The row kernels per level: the generated tiles and sums of kv_amd64.s
// for the quantized types, the dense tiles for F32, F16 and BF16 scores.
var (
	kvAVX2 = newKVImpl(avx2Impl, [numRowTypes]*tileSet{
		RowE4M3: &kvDotsE4M3AVX2, RowQ8_0: &kvDotsQ8_0AVX2, RowQ4_0: &kvDotsQ4_0AVX2, RowU4: &kvDotsU4AVX2, RowU2: &kvDotsU2AVX2,
	}, [numRowTypes]*[5][5]affineFn{
		RowU4: &kvDotsU4AAVX2, RowU2: &kvDotsU2AAVX2,
	}, [numRowTypes]*[5]kvWsumFn{
		RowQ8_0: &kvWsumQ8_0AVX2, RowQ4_0: &kvWsumQ4_0AVX2, RowQ4_1: &kvWsumQ4_1AVX2, RowQ2_1: &kvWsumQ2_1AVX2,
		RowF32: &kvWsumVecF32AVX2, RowF16: &kvWsumVecF16AVX2, RowBF16: &kvWsumVecBF16AVX2, RowE4M3: &kvWsumVecE4M3AVX2,
	})
	kvAVX512 = newKVImpl(avx512Impl, [numRowTypes]*tileSet{
		RowE4M3: &kvDotsE4M3AVX512, RowQ8_0: &kvDotsQ8_0AVX512, RowQ4_0: &kvDotsQ4_0AVX512, RowU4: &kvDotsU4AVX512, RowU2: &kvDotsU2AVX512,
	}, [numRowTypes]*[5][5]affineFn{
		RowU4: &kvDotsU4AAVX512, RowU2: &kvDotsU2AAVX512,
	}, [numRowTypes]*[5]kvWsumFn{
		RowQ8_0: &kvWsumQ8_0AVX512, RowQ4_0: &kvWsumQ4_0AVX512, RowQ4_1: &kvWsumQ4_1AVX512, RowQ2_1: &kvWsumQ2_1AVX512,
		RowF32: &kvWsumVecF32AVX512, RowF16: &kvWsumVecF16AVX512, RowBF16: &kvWsumVecBF16AVX512, RowE4M3: &kvWsumVecE4M3AVX512,
	})
)

// kvWsumFn is a generated weighted sum (see wsumRef): dst = Σ p[j]·row_j,
// or dst += it when acc is not zero.
type kvWsumFn func(dst, v unsafe.Pointer, vstride uintptr, p unsafe.Pointer, np int, acc int)

// affineFn is a generated KIVI key tile: a tileFn with the per-channel
// parameters (see RowDotsAffine).
type affineFn func(w unsafe.Pointer, wstride uintptr, x unsafe.Pointer, xstride uintptr, dst unsafe.Pointer, dstride uintptr, k int, groups int, par unsafe.Pointer)

func kvImpls() []*kvImpl {
	l := []*kvImpl{kvGoImpl}
	if hasAVX2 {
		l = append(l, kvAVX2)
	}
	if hasAVX512 {
		l = append(l, kvAVX512)
	}
	return l
}

func bestKVImpl() *kvImpl {
	l := kvImpls()
	return l[len(l)-1]
}

// newKVImpl builds a level from its dense implementation (F32, F16 and
// BF16 scores on the dense tiles; F32 sums on its weighted sum), the
// generated score tiles and the generated sums.
func newKVImpl(im *impl, tiles [numRowTypes]*tileSet, affine [numRowTypes]*[5][5]affineFn, sums [numRowTypes]*[5]kvWsumFn) *kvImpl {
	kv := denseKVImpl(im)
	for t, ts := range tiles {
		if ts == nil {
			continue
		}
		ts := ts
		kv.dots[t] = func(dst []float32, dstStride int, rows unsafe.Pointer, rowStride, m int, q []float32, qStride, n, k int) {
			if k%32 != 0 {
				rowDotsRef(RowType(t), dst, dstStride, rows, rowStride, m, q, qStride, n, k)
				return
			}
			rowTiles(ts, im.maxT, dst, dstStride, rows, rowStride, m, q, qStride, n, k)
		}
	}
	for t, ts := range affine {
		if ts == nil {
			continue
		}
		ts := ts
		kv.affine[t] = func(dst []float32, dstStride int, rows unsafe.Pointer, rowStride, m int, par unsafe.Pointer, q []float32, qStride, n, k int) {
			affineTiles(ts, im.maxT, dst, dstStride, rows, rowStride, m, par, q, qStride, n, k)
		}
	}
	for t, s := range sums {
		if s == nil {
			continue
		}
		s, rt := s, RowType(t)
		if rowInfo[rt].block == 32 {
			kv.wsum[t] = func(dst []float32, rows unsafe.Pointer, rowStride int, p []float32, add bool) {
				wsumBlocks(s, rt, dst, rows, rowStride, p, add)
			}
		} else {
			kv.wsum[t] = func(dst []float32, rows unsafe.Pointer, rowStride int, p []float32, add bool) {
				wsumVec(s, im.vw, rt, dst, rows, rowStride, p, add)
			}
		}
	}
	return kv
}

// affineTiles is rowTiles for KIVI key tiles.
func affineTiles(ts *[5][5]affineFn, maxT int, dst []float32, dstStride int, rows unsafe.Pointer, rowStride, m int, par unsafe.Pointer, q []float32, qStride, n, k int) {
	qp := unsafe.Pointer(unsafe.SliceData(q))
	dp := unsafe.Pointer(unsafe.SliceData(dst))
	g4 := m / 4
	for t := 0; t < n; t += maxT {
		T := min(maxT, n-t)
		xt := unsafe.Add(qp, 4*t*qStride)
		if g4 > 0 {
			ts[4][T](rows, uintptr(rowStride), xt, uintptr(4*qStride), unsafe.Add(dp, 4*t*dstStride), uintptr(4*dstStride), k, g4, par)
		}
		for r := 4 * g4; r < m; r++ {
			ts[1][T](unsafe.Add(rows, r*rowStride), uintptr(rowStride), xt, uintptr(4*qStride),
				unsafe.Add(dp, 4*(t*dstStride+r)), uintptr(4*dstStride), k, 1, par)
		}
	}
}

// rowTiles runs score tiles over m rows and n queries: rows in blocks of 64
// (which stay in L1 while every query tile passes over them), 4 rows at a
// time, queries up to maxT at a time.
func rowTiles(ts *tileSet, maxT int, dst []float32, dstStride int, rows unsafe.Pointer, rowStride, m int, q []float32, qStride, n, k int) {
	qp := unsafe.Pointer(unsafe.SliceData(q))
	dp := unsafe.Pointer(unsafe.SliceData(dst))
	const block = 64
	for rb := 0; rb < m; rb += block {
		re := min(rb+block, m)
		g4 := (re - rb) / 4
		for t := 0; t < n; t += maxT {
			T := min(maxT, n-t)
			xt := unsafe.Add(qp, 4*t*qStride)
			if g4 > 0 {
				ts[4][T](unsafe.Add(rows, rb*rowStride), uintptr(rowStride), xt, uintptr(4*qStride),
					unsafe.Add(dp, 4*(t*dstStride+rb)), uintptr(4*dstStride), k, g4)
			}
			for r := rb + 4*g4; r < re; r++ {
				ts[1][T](unsafe.Add(rows, r*rowStride), uintptr(rowStride), xt, uintptr(4*qStride),
					unsafe.Add(dp, 4*(t*dstStride+r)), uintptr(4*dstStride), k, 1)
			}
		}
	}
}

// wsumBlocks runs a block-format sum in chunks of the largest block count
// the level has (4, 2 or 1 blocks of 32).
func wsumBlocks(s *[5]kvWsumFn, t RowType, dst []float32, rows unsafe.Pointer, rowStride int, p []float32, add bool) {
	nb := len(dst) / 32
	bb := rowInfo[t].bytes
	dp := unsafe.Pointer(unsafe.SliceData(dst))
	pp := unsafe.Pointer(unsafe.SliceData(p))
	for b := 0; b < nb; {
		c := 4
		for c > nb-b || s[c] == nil {
			c /= 2
		}
		s[c](unsafe.Add(dp, 4*32*b), unsafe.Add(rows, b*bb), uintptr(rowStride), pp, len(p), acc(add))
		b += c
	}
}

// wsumVec runs a per-element sum in chunks of 4 vectors, then 1 vector,
// then the Go loop for the last len(dst) % vw elements.
func wsumVec(s *[5]kvWsumFn, vw int, t RowType, dst []float32, rows unsafe.Pointer, rowStride int, p []float32, add bool) {
	n := len(dst)
	eb := rowInfo[t].bytes
	dp := unsafe.Pointer(unsafe.SliceData(dst))
	pp := unsafe.Pointer(unsafe.SliceData(p))
	i := 0
	for ; i+4*vw <= n; i += 4 * vw {
		s[4](unsafe.Add(dp, 4*i), unsafe.Add(rows, eb*i), uintptr(rowStride), pp, len(p), acc(add))
	}
	for ; i+vw <= n; i += vw {
		s[1](unsafe.Add(dp, 4*i), unsafe.Add(rows, eb*i), uintptr(rowStride), pp, len(p), acc(add))
	}
	if i < n {
		rowWsumRef(t, dst[i:], unsafe.Add(rows, eb*i), rowStride, p, add)
	}
}

func acc(add bool) int {
	if add {
		return 1
	}
	return 0
}
