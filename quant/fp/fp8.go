package fp

import (
	"fmt"

	"github.com/lmc-project/lmc/tensor"
)

// FP8Max is the largest finite FP8 E4M3 ("e4m3fn") value.
const FP8Max = 448

// Granularity says how many values share one FP8 scale.
type Granularity int

const (
	// PerTensor: one scale for the whole matrix (compressed-tensors
	// strategy "tensor").
	PerTensor Granularity = iota
	// PerChannel: one scale per output row (strategy "channel").
	PerChannel
)

func (g Granularity) String() string {
	switch g {
	case PerTensor:
		return "tensor"
	case PerChannel:
		return "channel"
	}
	return fmt.Sprintf("Granularity(%d)", int(g))
}

// FP8 is a weight matrix in FP8 E4M3 with float32 scales: element (r, c)
// is F8E4M3ToF32(Data[r·Cols+c]) · scale, where scale is Scales[0]
// (PerTensor) or Scales[r] (PerChannel). This is compressed-tensors'
// "float-quantized" layout (weight F8_E4M3 [out, in] and weight_scale) and
// the layout vLLM's FP8 linear layers load.
type FP8 struct {
	Rows, Cols  int
	Granularity Granularity
	Data        []uint8   // E4M3 bit patterns, row-major
	Scales      []float32 // 1 (PerTensor) or Rows (PerChannel) scales
}

// FP8Scale returns the scale that maps amax onto FP8Max (amax/448, the
// compressed-tensors and vLLM choice), or 1 when amax is 0 (all codes are
// then 0 whatever the scale).
func FP8Scale(amax float32) float32 {
	if !(amax > 0) {
		return 1
	}
	return amax / FP8Max
}

// FP8Scales computes the scales QuantizeFP8 would use for w.
func FP8Scales(w []float32, rows, cols int, g Granularity) []float32 {
	if g == PerTensor {
		var amax float32
		for _, v := range w[:rows*cols] {
			amax = max(amax, abs32(v))
		}
		return []float32{FP8Scale(amax)}
	}
	s := make([]float32, rows)
	for r := range s {
		var amax float32
		for _, v := range w[r*cols : (r+1)*cols] {
			amax = max(amax, abs32(v))
		}
		s[r] = FP8Scale(amax)
	}
	return s
}

// QuantizeFP8 quantizes a rows × cols matrix to FP8 E4M3 with scales of
// the given granularity (amax/448 each): each value becomes
// F32ToF8E4M3Sat(x / scale), which is compressed-tensors' clamp to ±448
// followed by PyTorch's round-to-nearest-even cast. It returns a
// *ValueError for a NaN or ±Inf input.
func QuantizeFP8(w []float32, rows, cols int, g Granularity) (*FP8, error) {
	if rows <= 0 || cols <= 0 || len(w) != rows*cols || (g != PerTensor && g != PerChannel) {
		return nil, fmt.Errorf("fp: FP8: shape [%d, %d] with %d values and granularity %v: want positive sizes, rows×cols values, tensor or channel", rows, cols, len(w), g)
	}
	if err := checkFinite("FP8", w); err != nil {
		return nil, err
	}
	return QuantizeFP8Scaled(w, rows, cols, FP8Scales(w, rows, cols, g))
}

// QuantizeFP8Scaled is QuantizeFP8 with given scales (1 for the tensor, or
// one per row), for callers that store scales in a narrower type and must
// quantize with the rounded values (a BF16 weight_scale, say). Scales must
// be positive and finite; values then beyond ±448·scale saturate.
func QuantizeFP8Scaled(w []float32, rows, cols int, scales []float32) (*FP8, error) {
	if rows <= 0 || cols <= 0 || len(w) != rows*cols {
		return nil, fmt.Errorf("fp: FP8: shape [%d, %d] with %d values", rows, cols, len(w))
	}
	g := PerTensor
	switch len(scales) {
	case 1:
	case rows:
		g = PerChannel
	default:
		return nil, fmt.Errorf("fp: FP8: %d scales for %d rows: want 1 or one per row", len(scales), rows)
	}
	for i, s := range scales {
		if !(s > 0) || s > 3.4e38 {
			return nil, fmt.Errorf("fp: FP8: scale %d is %v: want a positive finite value", i, s)
		}
	}
	if err := checkFinite("FP8", w); err != nil {
		return nil, err
	}
	q := &FP8{Rows: rows, Cols: cols, Granularity: g, Data: make([]uint8, rows*cols), Scales: append([]float32(nil), scales...)}
	for r := 0; r < rows; r++ {
		s := q.scale(r)
		row := w[r*cols : (r+1)*cols]
		out := q.Data[r*cols : (r+1)*cols]
		for c, v := range row {
			out[c] = tensor.F32ToF8E4M3Sat(v / s)
		}
	}
	return q, nil
}

func (q *FP8) scale(r int) float32 {
	if len(q.Scales) == 1 {
		return q.Scales[0]
	}
	return q.Scales[r]
}

// DequantizeRow writes row r (Cols values) into dst: F8E4M3ToF32(code) ·
// scale, one float32 product each (exact: an E4M3 value has 4 significant
// bits, so the product rounds only when the scale has more than 20).
func (q *FP8) DequantizeRow(dst []float32, r int) {
	s := q.scale(r)
	for c, b := range q.Data[r*q.Cols : (r+1)*q.Cols] {
		dst[c] = tensor.F8E4M3ToF32(b) * s
	}
}

// Dequantize writes all Rows × Cols values into dst.
func (q *FP8) Dequantize(dst []float32) {
	if len(dst) < q.Rows*q.Cols {
		panic("fp: FP8.Dequantize: dst too short")
	}
	for r := 0; r < q.Rows; r++ {
		q.DequantizeRow(dst[r*q.Cols:], r)
	}
}
