package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/lmc-project/lmc/tensor"
)

// randRows returns m rows of k elements of type t at the given stride
// (bytes), starting off bytes into the buffer, with random but sane
// contents: block scales are halves of moderate size, FP8 codes are never
// NaN.
func randRows(rng *rand.Rand, t RowType, m, k, stride, off int) []byte {
	buf := make([]byte, off+(m-1)*stride+t.RowBytes(k)+8)
	for i := range buf {
		buf[i] = byte(rng.Uint32())
	}
	rows := buf[off:]
	put16 := func(b []byte, v float32) { *(*uint16)(unsafe.Pointer(&b[0])) = tensor.F32ToF16(v) }
	for j := 0; j < m; j++ {
		r := rows[j*stride : j*stride+t.RowBytes(k)]
		switch t {
		case RowF32:
			for i := 0; i < k; i++ {
				*(*float32)(unsafe.Pointer(&r[4*i])) = float32(rng.NormFloat64())
			}
		case RowF16:
			for i := 0; i < k; i++ {
				put16(r[2*i:], float32(rng.NormFloat64()))
			}
		case RowBF16:
			for i := 0; i < k; i++ {
				*(*uint16)(unsafe.Pointer(&r[2*i])) = tensor.F32ToBF16(float32(rng.NormFloat64()))
			}
		case RowE4M3:
			for i := range r {
				if r[i]&0x7f == 0x7f {
					r[i] &^= 1
				}
			}
		case RowQ8_0, RowQ4_0:
			for b := 0; b < k/32; b++ {
				put16(r[b*rowInfo[t].bytes:], float32(rng.NormFloat64()*0.05))
			}
		case RowQ4_1, RowQ2_1:
			for b := 0; b < k/32; b++ {
				put16(r[b*rowInfo[t].bytes:], float32(rng.NormFloat64()*0.05))
				put16(r[b*rowInfo[t].bytes+2:], float32(rng.NormFloat64()))
			}
		}
	}
	return rows
}

func sizesFor(t RowType) []int {
	if t.BlockSize() == 32 {
		return []int{32, 64, 96, 128, 160, 256}
	}
	return []int{1, 7, 8, 16, 24, 32, 40, 64, 100, 128}
}

// TestRowKernelsAllImpls runs every row-kernel implementation against the
// Go reference on every row type, for row counts around the tile sizes,
// 1 to 6 queries and row strides with padding, with sentinels after dst.
// Sums are float32 in different groupings, so the bound is relative to
// Σ|terms| (1e-5, as for the dense tiles).
func TestRowKernelsAllImpls(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const sentinel = float32(-12345)
	for _, name := range RowImplementations() {
		restore := setKVImpl(name)
		for rt := RowType(0); rt < numRowTypes; rt++ {
			for _, k := range sizesFor(rt) {
				for _, m := range []int{1, 3, 4, 5, 9, 70} {
					for _, n := range []int{1, 2, 3, 4, 6} {
						rb := rt.RowBytes(k)
						stride := rb + 4*(m%3)
						rows := randRows(rng, rt, m, k, stride, m%5)
						q := make([]float32, n*(k+3))
						for i := range q {
							q[i] = float32(rng.NormFloat64())
						}
						dst := make([]float32, n*(m+2)+4)
						for i := range dst {
							dst[i] = sentinel
						}
						RowDots(rt, dst, m+2, rows, stride, m, q, k+3, n, k)
						row := make([]float32, k)
						for j := 0; j < m; j++ {
							DecodeRow(rt, row, rows[j*stride:j*stride+rb])
							for tk := 0; tk < n; tk++ {
								var want, mag float64
								for i := 0; i < k; i++ {
									p := float64(row[i]) * float64(q[tk*(k+3)+i])
									want += p
									mag += math.Abs(p)
								}
								got := float64(dst[tk*(m+2)+j])
								if d := math.Abs(got - want); !(d <= 1e-5*mag+1e-30) {
									t.Fatalf("%s %s dots k=%d m=%d n=%d: row %d query %d = %g, want %g", name, rt, k, m, n, j, tk, got, want)
								}
							}
						}
						for tk := 0; tk < n; tk++ {
							for j := m; j < m+2 && tk*(m+2)+j < len(dst); j++ {
								if dst[tk*(m+2)+j] != sentinel {
									t.Fatalf("%s %s dots k=%d m=%d n=%d: wrote past row %d", name, rt, k, m, n, m)
								}
							}
						}
						if n > 1 {
							continue
						}
						// Weighted sum over the same rows.
						p := make([]float32, m)
						for i := range p {
							p[i] = rng.Float32()
						}
						out := make([]float32, k+2)
						out[k], out[k+1] = sentinel, sentinel
						RowWeightedSum(rt, out[:k], rows, stride, p)
						for i := 0; i < k; i++ {
							var want, mag float64
							for j := 0; j < m; j++ {
								DecodeRow(rt, row, rows[j*stride:j*stride+rb])
								want += float64(p[j]) * float64(row[i])
								mag += math.Abs(float64(p[j]) * float64(row[i]))
								if rt == RowQ4_1 || rt == RowQ2_1 {
									// x = d·c + m may cancel: bound by the terms.
									mag += math.Abs(float64(p[j])) * 4
								}
							}
							if d := math.Abs(float64(out[i]) - want); !(d <= 1e-5*mag+1e-30) {
								t.Fatalf("%s %s wsum k=%d m=%d: element %d = %g, want %g", name, rt, k, m, i, out[i], want)
							}
						}
						if out[k] != sentinel || out[k+1] != sentinel {
							t.Fatalf("%s %s wsum k=%d m=%d: wrote past dst", name, rt, k, m)
						}
						// Adding to dst: twice the sum.
						again := append([]float32(nil), out...)
						RowWeightedSumAdd(rt, again[:k], rows, stride, p)
						for i := 0; i < k; i++ {
							if d := math.Abs(float64(again[i] - 2*out[i])); d > 1e-5*(math.Abs(float64(out[i]))+float64(m)) {
								t.Fatalf("%s %s wsum add k=%d m=%d: element %d = %g, want %g", name, rt, k, m, i, again[i], 2*out[i])
							}
						}
					}
				}
			}
		}
		restore()
	}
}

// TestRowDotsAffine checks the KIVI key kernels (codes with per-channel
// scale and minimum) of every implementation against float64 sums.
func TestRowDotsAffine(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, name := range RowImplementations() {
		restore := setKVImpl(name)
		for _, rt := range []RowType{RowU4, RowU2} {
			for _, k := range []int{32, 64, 128, 96} {
				for _, m := range []int{1, 4, 7, 32} {
					for _, n := range []int{1, 2, 4, 5} {
						rb := rt.RowBytes(k)
						rows := randRows(rng, rt, m, k, rb, 0)
						par := make([]byte, 4*k)
						for i := 0; i < 2*k; i++ {
							*(*uint16)(unsafe.Pointer(&par[2*i])) = tensor.F32ToF16(float32(rng.NormFloat64()))
						}
						q := make([]float32, n*k)
						for i := range q {
							q[i] = float32(rng.NormFloat64())
						}
						dst := make([]float32, n*m)
						RowDotsAffine(rt, dst, m, rows, rb, m, par, q, k, n, k)
						row := make([]float32, k)
						for j := 0; j < m; j++ {
							DecodeRow(rt, row, rows[j*rb:(j+1)*rb])
							for tk := 0; tk < n; tk++ {
								var want, mag float64
								for i := 0; i < k; i++ {
									b, e := i/32, i%32
									s := float64(tensor.F16ToF32(*(*uint16)(unsafe.Pointer(&par[128*b+2*e]))))
									mn := float64(tensor.F16ToF32(*(*uint16)(unsafe.Pointer(&par[128*b+64+2*e]))))
									x := float64(q[tk*k+i])
									want += x * (float64(row[i])*s + mn)
									mag += math.Abs(x) * (math.Abs(float64(row[i])*s) + math.Abs(mn))
								}
								if got := float64(dst[tk*m+j]); math.Abs(got-want) > 1e-5*mag {
									t.Fatalf("%s %s affine k=%d m=%d n=%d: row %d query %d = %g, want %g", name, rt, k, m, n, j, tk, got, want)
								}
							}
						}
					}
				}
			}
		}
		restore()
	}
}

// TestDecodeRowExact pins the decoders on hand-made blocks.
func TestDecodeRowExact(t *testing.T) {
	h := func(v float32) (byte, byte) {
		b := tensor.F32ToF16(v)
		return byte(b), byte(b >> 8)
	}
	d0, d1 := h(0.5)
	m0, m1 := h(-1)
	q8 := append([]byte{d0, d1}, make([]byte, 32)...)
	q8[2], q8[3], q8[33] = 0x7f, 0x80, 0xff // 127, -128, -1
	q4 := append([]byte{d0, d1}, make([]byte, 16)...)
	q4[2] = 0xf0 // element 0: 0-8, element 16: 15-8
	q41 := append([]byte{d0, d1, m0, m1}, make([]byte, 16)...)
	q41[4+1] = 0x3a // element 1: 10, element 17: 3
	q21 := append([]byte{d0, d1, m0, m1}, make([]byte, 8)...)
	q21[4+2] = 0b11100100 // elements 2, 10, 18, 26: 0, 1, 2, 3
	for _, c := range []struct {
		t    RowType
		src  []byte
		want map[int]float32
	}{
		{RowQ8_0, q8, map[int]float32{0: 63.5, 1: -64, 31: -0.5, 2: 0}},
		{RowQ4_0, q4, map[int]float32{0: -4, 16: 3.5, 1: -4}},
		{RowQ4_1, q41, map[int]float32{1: 4, 17: 0.5, 0: -1}},
		{RowQ2_1, q21, map[int]float32{2: -1, 10: -0.5, 18: 0, 26: 0.5, 3: -1}},
		{RowU2, q21[4:], map[int]float32{2: 0, 10: 1, 18: 2, 26: 3}},
		{RowE4M3, []byte{0x38, 0xb8, 0x7e, 0x01, 0x08}, map[int]float32{0: 1, 1: -1, 2: 448, 3: 1.0 / 512, 4: 1.0 / 64}},
	} {
		n := 32
		if c.t == RowE4M3 {
			n = len(c.src)
		}
		y := make([]float32, n)
		DecodeRow(c.t, y, c.src)
		for i, w := range c.want {
			if y[i] != w {
				t.Errorf("%s element %d = %v, want %v", c.t, i, y[i], w)
			}
		}
	}
}

func TestRowKernelPanics(t *testing.T) {
	for _, c := range []struct {
		name string
		fn   func()
	}{
		{"short rows", func() {
			RowDots(RowQ8_0, make([]float32, 2), 2, make([]byte, 60), 34, 2, make([]float32, 32), 32, 1, 32)
		}},
		{"k not a block multiple", func() { RowWeightedSum(RowQ4_0, make([]float32, 16), make([]byte, 18), 18, []float32{1}) }},
		{"short q", func() {
			RowDots(RowF16, make([]float32, 1), 1, make([]byte, 64), 64, 1, make([]float32, 31), 32, 1, 32)
		}},
		{"bad type", func() {
			RowDots(numRowTypes, make([]float32, 1), 1, make([]byte, 64), 64, 1, make([]float32, 32), 32, 1, 32)
		}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", c.name)
				}
			}()
			c.fn()
		}()
	}
}

// BenchmarkRowKernels measures one decode step of attention for one KV
// head: scores of 2 queries against 4096 keys of head_dim 64, then a
// weighted sum over 4096 values, per row type.
//
//	go test -run - -bench RowKernels -benchtime 200ms ./kernels/
func BenchmarkRowKernels(b *testing.B) {
	const m, k, n = 4096, 64, 2
	rng := rand.New(rand.NewPCG(3, 4))
	for _, rt := range []RowType{RowF32, RowF16, RowBF16, RowE4M3, RowQ8_0, RowQ4_0, RowQ4_1, RowU4, RowU2, RowQ2_1} {
		rb := rt.RowBytes(k)
		rows := randRows(rng, rt, m, k, rb, 0)
		q := make([]float32, n*k)
		for i := range q {
			q[i] = float32(rng.NormFloat64())
		}
		dst := make([]float32, n*m)
		p := make([]float32, m)
		for i := range p {
			p[i] = 1.0 / m
		}
		out := make([]float32, k)
		if rt != RowQ4_1 && rt != RowQ2_1 { // value-only types: no scores
			b.Run(fmt.Sprintf("%s/dots", rt), func(b *testing.B) {
				b.SetBytes(int64(m * rb))
				for b.Loop() {
					RowDots(rt, dst, m, rows, rb, m, q, k, n, k)
				}
			})
		}
		if rt == RowU4 || rt == RowU2 {
			continue // key-only types: no sums
		}
		b.Run(fmt.Sprintf("%s/wsum", rt), func(b *testing.B) {
			b.SetBytes(int64(m * rb))
			for b.Loop() {
				RowWeightedSum(rt, out, rows, rb, p)
			}
		})
	}
}
