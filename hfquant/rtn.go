package hfquant

import (
	"errors"
	"fmt"
	"math"

	"github.com/lmc-project/lmc/hfquant/spec"
)

// Scheme is an integer quantization grid (bits, group size, symmetry, scale
// precision); see spec.Scheme.
type Scheme = spec.Scheme

// Quantized is a weight matrix on an integer grid: codes, per-group scales
// and zero points, and the group of each input column (g_idx). RTN, GPTQ
// and AWQ all produce it, and the GPTQ and compressed-tensors writers
// store it; see spec.Quantized.
type Quantized = spec.Quantized

// ErrNonFinite is wrapped by the errors for NaN or ±Inf weights.
var ErrNonFinite = errors.New("non-finite weight")

// RTNOptions tunes QuantizeRTNWith.
type RTNOptions struct {
	// GIdx assigns each input column to a group (GPTQ's g_idx; groups of
	// an act-order permutation). nil: consecutive columns, GroupSize at a
	// time. It must have one entry per column, each below the number of
	// groups.
	GIdx []int32
	// MinZero is the smallest zero point an asymmetric group may get:
	// GPTQ's v1 checkpoint format stores zero − 1 and needs 1.
	MinZero int
}

// QuantizeRTN rounds a rows × cols matrix (row-major, rows = output
// features) to the nearest point of the grid s, with per-group scales and
// zero points from each group's minimum and maximum (s.Params, the grid
// of GPTQ and compressed-tensors) and codes s.Code. Scales are rounded to
// s.ScaleDType before the codes are chosen, so the result dequantizes to
// exactly what a GPTQ or compressed-tensors file of it holds. It fails for
// an invalid scheme, a shape that does not divide into groups, and NaN or
// ±Inf weights (naming the row and column, wrapping ErrNonFinite).
func QuantizeRTN(w []float32, rows, cols int, s Scheme) (*Quantized, error) {
	return QuantizeRTNWith(w, rows, cols, s, RTNOptions{})
}

// QuantizeRTNWith is QuantizeRTN with column groups and a minimum zero
// point (see RTNOptions).
func QuantizeRTNWith(w []float32, rows, cols int, s Scheme, o RTNOptions) (*Quantized, error) {
	if rows <= 0 || cols <= 0 || len(w) != rows*cols {
		return nil, fmt.Errorf("hfquant: RTN: %d weights for a [%d, %d] matrix", len(w), rows, cols)
	}
	if err := s.Validate(cols); err != nil {
		return nil, err
	}
	g := s.Groups(cols)
	if o.GIdx != nil {
		if len(o.GIdx) != cols {
			return nil, fmt.Errorf("hfquant: RTN: g_idx has %d entries for %d columns", len(o.GIdx), cols)
		}
		for c, v := range o.GIdx {
			if v < 0 || int(v) >= g {
				return nil, fmt.Errorf("hfquant: RTN: g_idx[%d] = %d is not one of the %d groups", c, v, g)
			}
		}
	}
	if o.MinZero < 0 || o.MinZero > s.MaxQ() {
		return nil, fmt.Errorf("hfquant: RTN: minimum zero point %d outside [0, %d]", o.MinZero, s.MaxQ())
	}
	for i, v := range w {
		if math.IsInf(float64(v), 0) || math.IsNaN(float64(v)) {
			return nil, fmt.Errorf("hfquant: RTN: weight (%d, %d) is %v: %w", i/cols, i%cols, v, ErrNonFinite)
		}
	}
	q := &Quantized{Rows: rows, Cols: cols, Scheme: s, Codes: make([]uint8, rows*cols),
		Scales: make([]float32, rows*g), Zeros: make([]uint8, rows*g)}
	if o.GIdx != nil {
		q.GIdx = append([]int32(nil), o.GIdx...)
	}
	if o.GIdx == nil {
		return q, rtnContiguous(q, w, o.MinZero)
	}
	lo, hi := make([]float32, g), make([]float32, g)
	for r := 0; r < rows; r++ {
		row := w[r*cols : (r+1)*cols]
		for k := range lo {
			lo[k], hi[k] = float32(math.Inf(1)), float32(math.Inf(-1))
		}
		for c, v := range row {
			k := q.Group(c)
			lo[k], hi[k] = min(lo[k], v), max(hi[k], v)
		}
		for k := 0; k < g; k++ {
			if lo[k] > hi[k] { // a group with no column (possible with g_idx)
				lo[k], hi[k] = 0, 0
			}
			sc, z, err := s.Params(lo[k], hi[k], o.MinZero)
			if err != nil {
				return nil, fmt.Errorf("%w (row %d, group %d)", err, r, k)
			}
			q.Scales[r*g+k], q.Zeros[r*g+k] = sc, z
		}
		codes := q.Codes[r*cols : (r+1)*cols]
		for c, v := range row {
			k := q.Group(c)
			codes[c] = s.Code(v, q.Scales[r*g+k], q.Zeros[r*g+k])
		}
	}
	return q, nil
}

// rtnContiguous is QuantizeRTNWith's loop for consecutive column groups.
func rtnContiguous(q *Quantized, w []float32, minZero int) error {
	s := q.Scheme
	g, cols := q.Groups(), q.Cols
	gs := cols
	if s.GroupSize > 0 {
		gs = s.GroupSize
	}
	maxq := float32(s.MaxQ())
	for r := 0; r < q.Rows; r++ {
		for k := 0; k < g; k++ {
			x := w[r*cols+k*gs : r*cols+min((k+1)*gs, cols)]
			lo, hi := x[0], x[0]
			for _, v := range x[1:] {
				lo, hi = min(lo, v), max(hi, v)
			}
			sc, z, err := s.Params(lo, hi, minZero)
			if err != nil {
				return fmt.Errorf("%w (row %d, group %d)", err, r, k)
			}
			q.Scales[r*g+k], q.Zeros[r*g+k] = sc, z
			codes := q.Codes[r*cols+k*gs : r*cols+k*gs+len(x)]
			zf := float32(z)
			for c, v := range x {
				// s.Code, inlined: clamp(round(v/sc) + zero, 0, maxq).
				c8 := float32(math.RoundToEven(float64(v/sc))) + zf
				codes[c] = uint8(min(max(c8, 0), maxq))
			}
		}
	}
	return nil
}
