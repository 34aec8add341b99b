package quant

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestQuantizeRowQ8_0Levels compares every implementation of the
// activation quantizer with the pure-Go one, byte for byte, on data with
// ties (x·127/amax exactly halfway), zero blocks and large values.
func TestQuantizeActivationsLevels(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	const n = 32 * 40
	x := randomFloats(r, n, 1)
	for i := 0; i < 32; i++ {
		x[32+i] = 0                   // a zero block
		x[64+i] = float32(i-16) * 0.5 // amax 8: codes k·127/16 with halves
	}
	x[96] = 3e38
	for i := 1024; i < 1280; i++ {
		x[i] = 0 // a zero Q8_K block
	}
	x[600], x[700] = -5, 5 // equal magnitudes, the negative first
	for _, tc := range []struct {
		name      string
		block, bs int
		ref       func([]byte, []float32)
		fn        func([]byte, []float32)
	}{
		{"q8_0", 32, 34, quantizeRowQ8_0Go, QuantizeRowQ8_0},
		{"q8_1", 32, 36, quantizeRowQ8_1Go, QuantizeRowQ8_1},
		{"q8_K", 256, 292, quantizeQ8K, QuantizeRowQ8_K},
	} {
		want := make([]byte, n/tc.block*tc.bs)
		tc.ref(want, x)
		withLevels(t, func(t *testing.T) {
			got := make([]byte, len(want))
			tc.fn(got, x)
			for b := 0; b < len(want)/tc.bs; b++ {
				if g, w := got[tc.bs*b:tc.bs*(b+1)], want[tc.bs*b:tc.bs*(b+1)]; string(g) != string(w) {
					t.Errorf("%s block %d:\n got %x\nwant %x", tc.name, b, g, w)
				}
			}
		})
	}
}

// TestQuantizeLevels compares every implementation of the weight
// quantizers with the pure-Go reference, byte for byte, on Gaussian data
// and on blocks with ties, repeated extremes of both signs, signed zeros,
// constant values and zeros.
func TestQuantizeLevels(t *testing.T) {
	r := newRand(12)
	const n = 256 * 6
	x := randomFloats(r, n, 0.3)
	blk := func(b int) []float32 { return x[32*b : 32*b+32] }
	for i := range blk(1) {
		blk(1)[i] = float32(i%5-2) * 0.25 // extremes ±0.5 repeated, halves
	}
	for i := range blk(2) {
		blk(2)[i] = 0
	}
	blk(2)[7] = float32(math.Copysign(0, -1))
	for i := range blk(3) {
		blk(3)[i] = 0.75
	}
	blk(4)[3], blk(4)[9] = -2, 2 // the first extreme is negative
	blk(5)[3], blk(5)[9] = 2, -2
	for i := range blk(6) {
		blk(6)[i] = float32(i) // min 0 first
	}
	blk(6)[5] = float32(math.Copysign(0, -1))
	for i := range blk(7) {
		blk(7)[i] = float32(math.Abs(float64(blk(7)[i])))
	}
	blk(7)[0] = float32(math.Copysign(0, -1))
	blk(7)[4] = 0
	for _, f := range formats {
		want := make([]byte, n/f.BlockSize*f.BlockBytes)
		f.quantG(want, x, nil)
		withLevels(t, func(t *testing.T) {
			got := make([]byte, len(want))
			if err := f.Quantize(got, x, nil); err != nil {
				t.Fatal(err)
			}
			for b := 0; b < len(want)/f.BlockBytes; b++ {
				if g, w := got[b*f.BlockBytes:(b+1)*f.BlockBytes], want[b*f.BlockBytes:(b+1)*f.BlockBytes]; string(g) != string(w) {
					t.Errorf("%s block %d:\n got %x\nwant %x", f, b, g, w)
				}
			}
		})
	}
}
