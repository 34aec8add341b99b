package tensor

import (
	"flag"
	"math"
	"testing"
)

var exhaustive = flag.Bool("exhaustive", false, "check the F32->F16 and F32->BF16 slice kernels against the scalar functions on all 2^32 float32 inputs (about a minute)")

// TestAllF32Inputs compares the bulk F32->F16 and F32->BF16 conversions
// with the scalar functions on every float32 bit pattern, at every kernel
// level. On amd64 the AVX kernels' F16 path is the CPU's own VCVTPS2PH, an
// implementation independent of F32ToF16. Opt-in: -exhaustive.
func TestAllF32Inputs(t *testing.T) {
	if !*exhaustive {
		t.Skip("run with -exhaustive")
	}
	const chunk = 1 << 20
	src := make([]float32, chunk)
	dst := make([]uint16, chunk)
	forEachLevel(t, func(t *testing.T) {
		for _, c := range []struct {
			name   string
			slice  func([]uint16, []float32)
			scalar func(float32) uint16
		}{
			{"F16", F32ToF16Slice, F32ToF16},
			{"BF16", F32ToBF16Slice, F32ToBF16},
		} {
			for base := uint64(0); base < 1<<32; base += chunk {
				for i := range src {
					src[i] = math.Float32frombits(uint32(base) + uint32(i))
				}
				c.slice(dst, src)
				for i, x := range src {
					if dst[i] != c.scalar(x) {
						t.Fatalf("%s(%#08x): slice %#04x, scalar %#04x", c.name, math.Float32bits(x), dst[i], c.scalar(x))
					}
				}
			}
		}
	})
}
