package awq

import (
	"fmt"
	"math"
	"sync"

	"github.com/lmc-project/lmc/hfquant/spec"
	"github.com/lmc-project/lmc/kernels"
	"github.com/lmc-project/lmc/quant"
)

// IntGrid is an integer grid with per-group scales and zero points from
// each group's minimum and maximum (round to nearest), as GPTQ files and
// compressed-tensors store it.
type IntGrid struct {
	Scheme  spec.Scheme
	MinZero int // smallest zero point (1 for GPTQ's v1 format)
}

// Group returns the group size (0: one group per row).
func (g IntGrid) Group() int { return max(g.Scheme.GroupSize, 0) }

// Fake rounds w onto the grid and returns the dequantized values.
func (g IntGrid) Fake(dst, w []float32, rows, cols int, _ []float32) error {
	gs := g.Scheme.GroupSize
	if gs <= 0 {
		gs = cols
	}
	for r := 0; r < rows; r++ {
		for c0 := 0; c0 < cols; c0 += gs {
			src := w[r*cols+c0 : r*cols+c0+gs]
			lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
			for _, v := range src {
				lo, hi = min(lo, v), max(hi, v)
			}
			sc, z, err := g.Scheme.Params(lo, hi, g.MinZero)
			if err != nil {
				return fmt.Errorf("awq: row %d, column %d: %w", r, c0, err)
			}
			out := dst[r*cols+c0 : r*cols+c0+gs]
			for j, v := range src {
				out[j] = sc * float32(int32(g.Scheme.Code(v, sc, z))-int32(z))
			}
		}
	}
	return nil
}

// GGMLGrid is a ggml block format, quantized with its own (importance
// weighted, when weights are given) quantizer.
type GGMLGrid struct {
	Format *quant.Format
	// NoImatrix ignores the importance weights (llama.cpp's reference
	// quantizers).
	NoImatrix bool
}

// Group returns the format's block size.
func (g GGMLGrid) Group() int { return g.Format.BlockSize }

// Fake quantizes w with the format and dequantizes it.
func (g GGMLGrid) Fake(dst, w []float32, rows, cols int, imw []float32) error {
	rb, err := g.Format.RowBytes(cols)
	if err != nil {
		return err
	}
	if g.NoImatrix {
		imw = nil
	}
	buf := make([]byte, rows*rb)
	var first error
	var mu sync.Mutex
	kernels.Parallel(rows, 1, func(lo, hi int) {
		if err := g.Format.QuantizeRows(buf[lo*rb:hi*rb], w[lo*cols:hi*cols], cols, imw); err != nil {
			mu.Lock()
			first = err
			mu.Unlock()
			return
		}
		g.Format.Dequantize(dst[lo*cols:hi*cols], buf[lo*rb:hi*rb])
	})
	return first
}
