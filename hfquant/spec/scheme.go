package spec

import (
	"fmt"
	"math"

	"github.com/lmc-project/lmc/tensor"
)

// Scheme is an integer quantization grid: each weight is a code q in
// [0, 2^Bits) and dequantizes to scale·(q − zero), with one (scale, zero)
// per output row and group of input columns.
type Scheme struct {
	Bits int // 4 or 8 (the widths GPTQ and compressed-tensors files pack)
	// GroupSize is the number of input columns sharing a scale, or −1 for
	// one group per row ("per channel").
	GroupSize int
	// Sym fixes every zero point at 2^(Bits−1) (GPTQ sym, compressed-tensors
	// symmetric): the grid is symmetric around 0.
	Sym bool
	// ScaleDType is the precision scales are stored in: F16 (what GPTQ
	// files hold), BF16 or F32 (compressed-tensors stores the model's
	// dtype). Quantizers round each scale to it before choosing codes, so a
	// file reproduces the quantizer's dequantized values exactly. Invalid
	// means F16.
	ScaleDType tensor.DType
}

// MaxQ is the largest code, 2^Bits − 1.
func (s Scheme) MaxQ() int { return 1<<s.Bits - 1 }

// SymZero is the zero point of symmetric schemes, 2^(Bits−1).
func (s Scheme) SymZero() uint8 { return uint8(1 << (s.Bits - 1)) }

// PackFactor is the number of codes per int32, 32/Bits.
func (s Scheme) PackFactor() int { return 32 / s.Bits }

func (s Scheme) scaleDType() tensor.DType {
	if s.ScaleDType == tensor.Invalid {
		return tensor.F16
	}
	return s.ScaleDType
}

// Validate checks the scheme for a matrix with cols input columns.
func (s Scheme) Validate(cols int) error {
	if s.Bits != 4 && s.Bits != 8 {
		return fmt.Errorf("hfquant: %d-bit codes: GPTQ and compressed-tensors files pack 4 or 8 bits", s.Bits)
	}
	if s.GroupSize != -1 && s.GroupSize <= 0 {
		return fmt.Errorf("hfquant: group size %d: want a positive size or -1 (one group per row)", s.GroupSize)
	}
	if s.GroupSize > 0 && cols%s.GroupSize != 0 {
		return fmt.Errorf("hfquant: %d input columns are not a multiple of group size %d", cols, s.GroupSize)
	}
	switch s.scaleDType() {
	case tensor.F16, tensor.BF16, tensor.F32:
	default:
		return fmt.Errorf("hfquant: scale dtype %s: want F16, BF16 or F32", s.ScaleDType)
	}
	return nil
}

// Groups is the number of groups per row for cols input columns.
func (s Scheme) Groups(cols int) int {
	if s.GroupSize <= 0 {
		return 1
	}
	return (cols + s.GroupSize - 1) / s.GroupSize
}

// RoundScale rounds a scale to the scheme's ScaleDType (to nearest, ties
// to even). A positive scale that would round to 0 becomes the dtype's
// smallest positive value; one that overflows to ±Inf is returned as is
// (callers report it).
func (s Scheme) RoundScale(v float32) float32 {
	var r float32
	switch s.scaleDType() {
	case tensor.F16:
		r = tensor.F16ToF32(tensor.F32ToF16(v))
		if r == 0 && v > 0 {
			r = tensor.F16ToF32(1)
		}
	case tensor.BF16:
		r = tensor.BF16ToF32(tensor.F32ToBF16(v))
		if r == 0 && v > 0 {
			r = tensor.BF16ToF32(1)
		}
	default:
		r = v
	}
	return r
}

// Params returns the scale and zero point of a group whose smallest and
// largest values are lo and hi, the grid of GPTQ's Quantizer.find_params
// and compressed-tensors' calculate_qparams:
//
//   - the range is widened to include 0: lo = min(lo, 0), hi = max(hi, 0);
//   - symmetric: scale = 2·max(−lo, hi)/MaxQ, zero = 2^(Bits−1) (GPTQ's
//     reference code uses hi/MaxQ when a group has no negative value; lmc
//     always uses the symmetric range, as compressed-tensors does);
//   - asymmetric: scale = (hi − lo)/MaxQ, zero = round(−lo/scale), clamped
//     to [minZero, MaxQ] (minZero 1 suits GPTQ's v1 files, which store
//     zero − 1);
//   - an all-zero group gets scale 1 and zero 2^(Bits−1);
//   - the scale is rounded to ScaleDType first and the zero computed from
//     the rounded scale (rounding is to nearest even, as torch.round).
//
// It returns an error when the rounded scale is not finite (a value too
// large for F16, for instance).
func (s Scheme) Params(lo, hi float32, minZero int) (scale float32, zero uint8, err error) {
	lo, hi = min(lo, 0), max(hi, 0)
	maxq := float32(s.MaxQ())
	if lo == 0 && hi == 0 {
		return 1, s.SymZero(), nil
	}
	if s.Sym {
		amax := max(-lo, hi)
		scale = s.RoundScale((amax + amax) / maxq)
		zero = s.SymZero()
	} else {
		scale = s.RoundScale((hi - lo) / maxq)
		z := roundEven(-lo / scale)
		z = min(max(z, float32(minZero)), maxq)
		zero = uint8(z)
	}
	if math.IsInf(float64(scale), 0) || math.IsNaN(float64(scale)) {
		return 0, 0, fmt.Errorf("hfquant: scale for the range [%g, %g] overflows %s", lo, hi, s.scaleDType())
	}
	return scale, zero, nil
}

// Code returns the code of x on the grid (scale, zero): clamp(round(x /
// scale) + zero, 0, MaxQ), with round to nearest even (torch.round), as
// GPTQ's quantize() and compressed-tensors' _quantize compute it.
func (s Scheme) Code(x, scale float32, zero uint8) uint8 {
	q := roundEven(x/scale) + float32(zero)
	return uint8(min(max(q, 0), float32(s.MaxQ())))
}

func roundEven(v float32) float32 { return float32(math.RoundToEven(float64(v))) }

// Quantized is a weight matrix on an integer grid: the product of RTN,
// GPTQ or AWQ, and what GPTQ and compressed-tensors files store. Rows are
// output features and Cols input features (PyTorch's [out, in]); the
// value of element (r, c) is
//
//	Scales[r·G + g] · (Codes[r·Cols + c] − Zeros[r·G + g]),   g = Group(c)
//
// computed in float32 (exact for 4- and 8-bit codes with F16 or BF16
// scales). G = Scheme.Groups(Cols).
type Quantized struct {
	Rows, Cols int
	Scheme     Scheme
	Codes      []uint8   // Rows × Cols codes, row-major
	Scales     []float32 // Rows × G scales, row-major
	Zeros      []uint8   // Rows × G zero points; 2^(Bits−1) throughout when Scheme.Sym
	// GIdx gives the group of each input column (GPTQ's g_idx). nil means
	// column c is in group c/GroupSize (0 for GroupSize −1); a permutation
	// of that (GPTQ's act-order, desc_act) is stored in the files.
	GIdx []int32
}

// Groups is the number of groups per row.
func (q *Quantized) Groups() int { return q.Scheme.Groups(q.Cols) }

// Group returns the group of input column c.
func (q *Quantized) Group(c int) int {
	if q.GIdx != nil {
		return int(q.GIdx[c])
	}
	if q.Scheme.GroupSize <= 0 {
		return 0
	}
	return c / q.Scheme.GroupSize
}

// Validate checks sizes and ranges: every slice has its length, codes are
// at most MaxQ, zeros at most 2^Bits (GPTQ v1 files can hold 2^Bits, see
// the package documentation), symmetric zeros are 2^(Bits−1), scales are
// finite and GIdx values name existing groups.
func (q *Quantized) Validate() error {
	if q.Rows <= 0 || q.Cols <= 0 {
		return fmt.Errorf("hfquant: quantized matrix [%d, %d] is not positive", q.Rows, q.Cols)
	}
	if err := q.Scheme.Validate(q.Cols); err != nil {
		return err
	}
	g := q.Groups()
	if len(q.Codes) != q.Rows*q.Cols || len(q.Scales) != q.Rows*g || len(q.Zeros) != q.Rows*g {
		return fmt.Errorf("hfquant: quantized matrix [%d, %d] with %d groups has %d codes, %d scales, %d zeros",
			q.Rows, q.Cols, g, len(q.Codes), len(q.Scales), len(q.Zeros))
	}
	maxq := q.Scheme.MaxQ()
	for i, c := range q.Codes {
		if int(c) > maxq {
			return fmt.Errorf("hfquant: code %d at (%d, %d) exceeds %d", c, i/q.Cols, i%q.Cols, maxq)
		}
	}
	for i, z := range q.Zeros {
		if int(z) > maxq+1 || (q.Scheme.Sym && z != q.Scheme.SymZero()) {
			return fmt.Errorf("hfquant: zero point %d at row %d group %d is out of range for a %d-bit %s grid",
				z, i/g, i%g, q.Scheme.Bits, map[bool]string{true: "symmetric", false: "asymmetric"}[q.Scheme.Sym])
		}
	}
	for i, s := range q.Scales {
		if math.IsInf(float64(s), 0) || math.IsNaN(float64(s)) {
			return fmt.Errorf("hfquant: scale %v at row %d group %d is not finite", s, i/g, i%g)
		}
	}
	if q.GIdx != nil {
		if len(q.GIdx) != q.Cols {
			return fmt.Errorf("hfquant: g_idx has %d entries for %d columns", len(q.GIdx), q.Cols)
		}
		for c, v := range q.GIdx {
			if v < 0 || int(v) >= g {
				return fmt.Errorf("hfquant: g_idx[%d] = %d is not a group (0 … %d)", c, v, g-1)
			}
		}
	}
	return nil
}

// DequantizeRow writes row r (Cols values) into dst.
func (q *Quantized) DequantizeRow(dst []float32, r int) {
	g := q.Groups()
	codes := q.Codes[r*q.Cols : (r+1)*q.Cols]
	sc := q.Scales[r*g : (r+1)*g]
	ze := q.Zeros[r*g : (r+1)*g]
	if q.GIdx == nil && q.Scheme.GroupSize > 0 {
		gs := q.Scheme.GroupSize
		for k := 0; k < g; k++ {
			s, z := sc[k], int32(ze[k])
			hi := min((k+1)*gs, q.Cols)
			for c := k * gs; c < hi; c++ {
				dst[c] = s * float32(int32(codes[c])-z)
			}
		}
		return
	}
	for c, code := range codes {
		k := q.Group(c)
		dst[c] = sc[k] * float32(int32(code)-int32(ze[k]))
	}
}

// Dequantize writes all Rows × Cols values into dst.
func (q *Quantized) Dequantize(dst []float32) {
	if len(dst) < q.Rows*q.Cols {
		panic("hfquant: Quantized.Dequantize: dst too short")
	}
	for r := 0; r < q.Rows; r++ {
		q.DequantizeRow(dst[r*q.Cols:], r)
	}
}

// PermuteRows returns a copy of q whose row i is row perm[i] of q (GIdx is
// shared: it describes columns). It panics if perm is not a permutation
// of the rows.
func (q *Quantized) PermuteRows(perm []int) *Quantized {
	if len(perm) != q.Rows {
		panic("hfquant: PermuteRows: permutation length differs from the row count")
	}
	g := q.Groups()
	out := &Quantized{Rows: q.Rows, Cols: q.Cols, Scheme: q.Scheme, GIdx: q.GIdx,
		Codes: make([]uint8, len(q.Codes)), Scales: make([]float32, len(q.Scales)), Zeros: make([]uint8, len(q.Zeros))}
	seen := make([]bool, q.Rows)
	for i, p := range perm {
		if p < 0 || p >= q.Rows || seen[p] {
			panic("hfquant: PermuteRows: not a permutation")
		}
		seen[p] = true
		copy(out.Codes[i*q.Cols:(i+1)*q.Cols], q.Codes[p*q.Cols:(p+1)*q.Cols])
		copy(out.Scales[i*g:(i+1)*g], q.Scales[p*g:(p+1)*g])
		copy(out.Zeros[i*g:(i+1)*g], q.Zeros[p*g:(p+1)*g])
	}
	return out
}
