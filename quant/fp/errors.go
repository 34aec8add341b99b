package fp

import (
	"errors"
	"fmt"
	"math"
)

// ErrNonFinite is wrapped by the *ValueError that quantizers return for a
// NaN or ±Inf input: no format here can represent it, and ggml's reference
// quantizers would silently write garbage.
var ErrNonFinite = errors.New("non-finite value")

// ValueError reports a non-finite input value. It unwraps to ErrNonFinite.
type ValueError struct {
	Format string // "MXFP4", "NVFP4", "FP8", "NF4"
	Index  int    // element index in the input (row-major)
	Value  float32
}

func (e *ValueError) Error() string {
	return fmt.Sprintf("fp: %s: element %d is %v, which cannot be quantized", e.Format, e.Index, e.Value)
}

func (e *ValueError) Unwrap() error { return ErrNonFinite }

// checkFinite returns a *ValueError for the first NaN or ±Inf in x.
func checkFinite(format string, x []float32) error {
	for i, v := range x {
		if math.Float32bits(v)&0x7f800000 == 0x7f800000 {
			return &ValueError{Format: format, Index: i, Value: v}
		}
	}
	return nil
}

func abs32(v float32) float32 {
	return math.Float32frombits(math.Float32bits(v) &^ (1 << 31))
}
