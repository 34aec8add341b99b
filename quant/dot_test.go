package quant

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lmc-project/lmc/gguf"
)

// scaleFields lists the byte offsets of the half-precision scale fields of
// each format's block.
var scaleFields = map[gguf.Type][]int{
	gguf.TypeQ4_0: {0}, gguf.TypeQ4_1: {0, 2}, gguf.TypeQ5_0: {0}, gguf.TypeQ5_1: {0, 2},
	gguf.TypeQ8_0: {0}, gguf.TypeIQ4_NL: {0}, gguf.TypeIQ4_XS: {0},
	gguf.TypeQ2_K: {80, 82}, gguf.TypeQ3_K: {108}, gguf.TypeQ4_K: {0, 2}, gguf.TypeQ5_K: {0, 2},
	gguf.TypeQ6_K: {208},
}

// randomCodes returns nb blocks of random codes whose scales are all 1,
// and activations in f.DotType with codes in [-3, 3] and scale 1, so that
// every partial sum of the dot product is an exactly representable integer.
func randomCodes(r *rand.Rand, f *Format, nb int) (x, y []byte) {
	x = make([]byte, nb*f.BlockBytes)
	for i := range x {
		x[i] = byte(r.Uint32())
	}
	for b := 0; b < nb; b++ {
		for _, off := range scaleFields[f.Type] {
			put16(x[b*f.BlockBytes+off:], 0x3c00)
		}
	}
	n := nb * f.BlockSize
	dot, _ := Lookup(f.DotType)
	y = make([]byte, n/dot.BlockSize*dot.BlockBytes)
	for b := 0; b < len(y)/dot.BlockBytes; b++ {
		blk := y[b*dot.BlockBytes:]
		switch dot {
		case Q8_0:
			put16(blk, 0x3c00)
			for j := 0; j < 32; j++ {
				blk[2+j] = byte(int8(r.IntN(7) - 3))
			}
			continue
		case Q8_1:
			put16(blk, 0x3c00)
			var sum int
			for j := 0; j < 32; j++ {
				q := r.IntN(7) - 3
				blk[4+j] = byte(int8(q))
				sum += q
			}
			put16(blk[2:], fp16(float32(sum)))
			continue
		}
		put32(blk, math.Float32bits(1))
		for j := 0; j < 16; j++ {
			var s int16
			for l := 0; l < 16; l++ {
				q := int8(r.IntN(7) - 3)
				blk[4+16*j+l] = byte(q)
				s += int16(q)
			}
			put16(blk[260+2*j:], uint16(s))
		}
	}
	return x, y
}

func randomFloats(r *rand.Rand, n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64() * scale)
	}
	return v
}

func withLevels(t *testing.T, fn func(t *testing.T)) {
	for _, l := range kernelLevels() {
		t.Run(l, func(t *testing.T) {
			defer setLevel(l)()
			fn(t)
		})
	}
}

// TestVecDotExactIntegers checks every kernel's integer arithmetic: with
// unit scales the dot product is an integer that every summation order
// gives exactly.
func TestVecDotExactIntegers(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	withLevels(t, func(t *testing.T) {
		for _, f := range formats {
			if f.dot == nil {
				continue
			}
			for _, nb := range []int{1, 2, 3, 4, 5, 8, 9} {
				if f.BlockSize == 32 {
					nb *= 8 // keep n a multiple of 256 so Q8_K-sized tests share sizes
				}
				x, y := randomCodes(r, f, nb)
				n := nb * f.BlockSize
				want := f.dotG(n, x, y)
				// Shift the buffers off their allocation's alignment.
				xs := append(make([]byte, 1, len(x)+1), x...)[1:]
				ys := append(make([]byte, 3, len(y)+3), y...)[3:]
				if got := f.VecDot(n, xs, ys); got != want || want != float32(math.Round(float64(want))) {
					t.Errorf("%s n=%d: got %v, want %v (an integer)", f, n, got, want)
				}
			}
		}
	})
}

// TestVecDotMatchesReference compares each kernel with the pure-Go
// reference and both with a float64 dot product of the dequantized rows,
// on quantized Gaussian data. Only the float32 summation order differs
// between kernels, so they agree to within a few ulps of Σ|x·y|.
func TestVecDotMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	withLevels(t, func(t *testing.T) {
		for _, f := range formats {
			if f.dot == nil {
				continue
			}
			dot, _ := Lookup(f.DotType)
			for _, n := range []int{256, 512, 768, 4096} {
				xf, yf := randomFloats(r, n, 0.05), randomFloats(r, n, 1)
				x := make([]byte, n/f.BlockSize*f.BlockBytes)
				if err := f.Quantize(x, xf, nil); err != nil {
					t.Fatal(err)
				}
				y := make([]byte, n/dot.BlockSize*dot.BlockBytes)
				f.QuantizeActivations(y, yf)
				xd, yd := make([]float32, n), make([]float32, n)
				f.dequantG(xd, x)
				dot.dequantG(yd, y)
				var exact, mag float64
				for i := range xd {
					exact += float64(xd[i]) * float64(yd[i])
					mag += math.Abs(float64(xd[i]) * float64(yd[i]))
				}
				if dot == Q8_1 {
					// ggml uses the stored s = fp16(d·Σq) for the min term.
					for b := 0; b < n/32; b++ {
						xb, yb := x[b*f.BlockBytes:], y[b*36:]
						var sumq float64
						for j := 0; j < 32; j++ {
							sumq += float64(int8(yb[4+j]))
						}
						exact += float64(f16(le16(xb[2:]))) * (float64(f16(le16(yb[2:]))) - float64(f16(le16(yb)))*sumq)
					}
				}
				ref := f.dotG(n, x, y)
				got := f.VecDot(n, x, y)
				tol := 1e-5 * mag
				if math.Abs(float64(ref)-exact) > tol || math.Abs(float64(got)-exact) > tol {
					t.Errorf("%s n=%d: kernel %v, reference %v, float64 %v (tolerance %.3g)", f, n, got, ref, exact, tol)
				}
			}
		}
	})
}
