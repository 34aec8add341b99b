package quant

import (
	"math/rand/v2"
	"testing"
)

// TestQuantizeRowQ8_0Levels compares every implementation of the
// activation quantizer with the pure-Go one, byte for byte, on data with
// ties (x·127/amax exactly halfway), zero blocks and large values.
func TestQuantizeRowQ8_0Levels(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	const n = 32 * 40
	x := randomFloats(r, n, 1)
	for i := 0; i < 32; i++ {
		x[32+i] = 0 // a zero block
		x[64+i] = float32(i-16) * 0.5 // amax 8: codes k·127/16 with halves
	}
	x[96] = 3e38
	want := make([]byte, n/32*34)
	quantizeRowQ8_0Go(want, x)
	withLevels(t, func(t *testing.T) {
		got := make([]byte, len(want))
		QuantizeRowQ8_0(got, x)
		for b := 0; b < n/32; b++ {
			if g, w := got[34*b:34*b+34], want[34*b:34*b+34]; string(g) != string(w) {
				t.Errorf("block %d:\n got %x\nwant %x", b, g, w)
			}
		}
	})
}
