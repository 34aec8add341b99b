package quant

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/lmc-project/lmc/gguf"
)

// Errors returned for bad input. Each error names the format and, for
// values, the row and column; test with errors.Is.
var (
	// ErrNonFinite: a value to quantize is NaN or ±Inf (the error is a
	// *ValueError giving its row and column).
	ErrNonFinite = errors.New("non-finite value")
	// ErrRowLength: a row length is not a positive multiple of the block
	// size, or the input is not a whole number of rows.
	ErrRowLength = errors.New("bad row length")
	// ErrImatrix: the importance matrix has the wrong length or holds a
	// negative, NaN or infinite weight.
	ErrImatrix = errors.New("bad importance matrix")
)

// ValueError reports a non-finite input value. It unwraps to ErrNonFinite.
type ValueError struct {
	Type  gguf.Type
	Row   int // row index within the call (0 for Quantize)
	Col   int // column within the row
	Value float32
}

func (e *ValueError) Error() string {
	return fmt.Sprintf("quant: %s: row %d, column %d: %v cannot be quantized", e.Type, e.Row, e.Col, e.Value)
}

func (e *ValueError) Unwrap() error { return ErrNonFinite }

// Format is one ggml block format: its type, block geometry (from
// gguf.Type's table) and kernels. The package-level variables Q4_0 …
// IQ4_XS are the only values; compare them by pointer or by Type.
type Format struct {
	Type       gguf.Type
	BlockSize  int       // elements per block (32 or 256)
	BlockBytes int       // bytes per block
	DotType    gguf.Type // activation format VecDot takes (ggml's vec_dot_type): Q8_0, Q8_1 or Q8_K (0 for Q8_1 and Q8_K)

	quant    func(dst []byte, x, qw []float32) // one row; qw nil or len(x); dispatched
	quantG   func(dst []byte, x, qw []float32) // pure Go reference
	dequant  func(y []float32, b []byte)       // dispatched
	dequantG func(y []float32, b []byte)       // pure Go reference
	dot      func(n int, x, y []byte) float32  // dispatched
	dotG     func(n int, x, y []byte) float32  // pure Go reference
	// dotBatch, when set, is the dot product MatMul uses for batches of
	// batchMin activation rows or more, where llama.cpp's CPU backend
	// runs another kernel (see dot_ggml.go).
	dotBatch func(n int, x, y []byte) float32
	batchMin int
}

func newFormat(t gguf.Type, dotType gguf.Type, quant func(dst []byte, x, qw []float32),
	dequant func(y []float32, b []byte), dot func(n int, x, y []byte) float32) *Format {
	return &Format{
		Type: t, BlockSize: int(t.BlockSize()), BlockBytes: int(t.TypeSize()), DotType: dotType,
		quant: quant, quantG: quant, dequant: dequant, dequantG: dequant, dot: dot, dotG: dot,
	}
}

// withRef returns a quantizer that uses ref without an importance matrix
// and impl with one, as ggml's quantize_* functions do.
func withRef(ref func(dst []byte, x []float32), impl func(dst []byte, x, qw []float32)) func(dst []byte, x, qw []float32) {
	return func(dst []byte, x, qw []float32) {
		if qw == nil {
			ref(dst, x)
			return
		}
		impl(dst, x, qw)
	}
}

// The formats. Quantize reproduces llama-quantize's choices bit for bit:
// without an importance matrix the *_ref quantizers (the iq4 search with
// weights x² for IQ4_NL and IQ4_XS), with one the *_impl quantizers. Q8_0,
// Q8_1 and Q8_K ignore the importance matrix, as ggml does. Q8_1 and Q8_K
// are activation formats (the dot-product partners of Q4_1/Q5_1 and of the
// k-quants); they have no dot product of their own.
var (
	Q4_0   = newFormat(gguf.TypeQ4_0, gguf.TypeQ8_0, withRef(quantizeQ4_0Ref, quantizeQ4_0Impl), dequantizeQ4_0, dotQ4_0Q8_0)
	Q4_1   = newFormat(gguf.TypeQ4_1, gguf.TypeQ8_1, withRef(quantizeQ4_1Ref, quantizeQ4_1Impl), dequantizeQ4_1, dotQ4_1Q8_1)
	Q5_0   = newFormat(gguf.TypeQ5_0, gguf.TypeQ8_0, withRef(quantizeQ5_0Ref, quantizeQ5_0Impl), dequantizeQ5_0, dotQ5_0Q8_0)
	Q5_1   = newFormat(gguf.TypeQ5_1, gguf.TypeQ8_1, withRef(quantizeQ5_1Ref, quantizeQ5_1Impl), dequantizeQ5_1, dotQ5_1Q8_1)
	Q8_0   = newFormat(gguf.TypeQ8_0, gguf.TypeQ8_0, func(d []byte, x, _ []float32) { quantizeQ8_0Ref(d, x) }, dequantizeQ8_0, dotQ8_0Q8_0)
	Q8_1   = newFormat(gguf.TypeQ8_1, 0, func(d []byte, x, _ []float32) { quantizeQ8_1Ref(d, x) }, dequantizeQ8_1, nil)
	Q2_K   = newFormat(gguf.TypeQ2_K, gguf.TypeQ8_K, withRef(quantizeQ2KRef, quantizeQ2KImpl), dequantizeQ2K, dotQ2KQ8K)
	Q3_K   = newFormat(gguf.TypeQ3_K, gguf.TypeQ8_K, withRef(quantizeQ3KRef, quantizeQ3KImpl), dequantizeQ3K, dotQ3KQ8K)
	Q4_K   = newFormat(gguf.TypeQ4_K, gguf.TypeQ8_K, withRef(quantizeQ4KRef, quantizeQ4KImpl), dequantizeQ4K, dotQ4KQ8K)
	Q5_K   = newFormat(gguf.TypeQ5_K, gguf.TypeQ8_K, withRef(quantizeQ5KRef, quantizeQ5KImpl), dequantizeQ5K, dotQ5KQ8K)
	Q6_K   = newFormat(gguf.TypeQ6_K, gguf.TypeQ8_K, quantizeQ6K, dequantizeQ6K, dotQ6KQ8K)
	Q8_K   = newFormat(gguf.TypeQ8_K, 0, func(d []byte, x, _ []float32) { quantizeQ8K(d, x) }, dequantizeQ8K, nil)
	IQ4_NL = newFormat(gguf.TypeIQ4_NL, gguf.TypeQ8_0, quantizeIQ4NL, dequantizeIQ4NL, dotIQ4NLQ8_0)
	IQ4_XS = newFormat(gguf.TypeIQ4_XS, gguf.TypeQ8_K, quantizeIQ4XS, dequantizeIQ4XS, dotIQ4XSQ8KGGML)
)

func init() {
	// llama.cpp runs IQ4_XS through its IQ panel GEMM (iqp.cpp) from 8
	// activation rows on, vec_dot below.
	IQ4_XS.dotBatch, IQ4_XS.batchMin = dotIQ4XSQ8KIqp, 8
}

var formats = []*Format{Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K, IQ4_NL, IQ4_XS}

func init() { setArchKernels() }

// Formats returns the supported formats in ggml type id order. The slice
// is a copy.
func Formats() []*Format { return append([]*Format(nil), formats...) }

// Lookup returns the format of type t, or false if lmc cannot quantize t.
func Lookup(t gguf.Type) (*Format, bool) {
	for _, f := range formats {
		if f.Type == t {
			return f, true
		}
	}
	return nil, false
}

// String returns the ggml type name ("q4_K").
func (f *Format) String() string { return f.Type.String() }

// RowBytes returns the size of a row of n elements, or an error wrapping
// ErrRowLength when n is not a positive multiple of the block size.
func (f *Format) RowBytes(n int) (int, error) {
	if n <= 0 || n%f.BlockSize != 0 {
		return 0, fmt.Errorf("quant: %s: row length %d is not a positive multiple of the block size %d: %w",
			f.Type, n, f.BlockSize, ErrRowLength)
	}
	return n / f.BlockSize * f.BlockBytes, nil
}

// Quantize quantizes one row src into dst, which must hold exactly
// RowBytes(len(src)) bytes (it panics otherwise). imatrix, when not nil,
// holds one non-negative importance weight per element of src (llama.cpp's
// imatrix entry for the tensor) and selects the importance-weighted
// quantizer. It fails, writing nothing useful, if len(src) is not a
// multiple of the block size, if src holds NaN or ±Inf, or if imatrix is
// malformed.
func (f *Format) Quantize(dst []byte, src []float32, imatrix []float32) error {
	return f.QuantizeRows(dst, src, len(src), imatrix)
}

// QuantizeRows quantizes len(src)/rowLen rows of rowLen elements, row after
// row, into dst (exactly the rows' total size in bytes; it panics
// otherwise). imatrix is nil or holds rowLen weights, shared by every row.
// Errors wrap ErrRowLength, ErrNonFinite (a *ValueError naming the row and
// column) or ErrImatrix.
func (f *Format) QuantizeRows(dst []byte, src []float32, rowLen int, imatrix []float32) error {
	rb, err := f.RowBytes(rowLen)
	if err != nil {
		return err
	}
	if len(src)%rowLen != 0 {
		return fmt.Errorf("quant: %s: %d values are not a whole number of rows of %d: %w",
			f.Type, len(src), rowLen, ErrRowLength)
	}
	rows := len(src) / rowLen
	if len(dst) != rows*rb {
		panic("quant: " + f.Type.String() + ": dst holds " + strconv.Itoa(len(dst)) + " bytes, want " + strconv.Itoa(rows*rb))
	}
	if imatrix != nil {
		if len(imatrix) != rowLen {
			return fmt.Errorf("quant: %s: importance matrix has %d weights for rows of %d: %w",
				f.Type, len(imatrix), rowLen, ErrImatrix)
		}
		for i, w := range imatrix {
			if !(w >= 0) || math.IsInf(float64(w), 1) {
				return fmt.Errorf("quant: %s: importance weight %d is %v: %w", f.Type, i, w, ErrImatrix)
			}
		}
	}
	for i, v := range src {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return &ValueError{Type: f.Type, Row: i / rowLen, Col: i % rowLen, Value: v}
		}
	}
	if imatrix == nil {
		// Without an importance matrix every block is quantized on its
		// own, so rows can go in one call.
		f.quant(dst, src, nil)
		return nil
	}
	for r := 0; r < rows; r++ {
		f.quant(dst[r*rb:(r+1)*rb], src[r*rowLen:(r+1)*rowLen], imatrix)
	}
	return nil
}

// Dequantize decodes the blocks of src into dst, which must hold exactly
// len(src)/BlockBytes·BlockSize values (it panics otherwise, or if src is
// not a whole number of blocks). Any bytes decode; a block whose scale is
// NaN or Inf gives NaN or Inf values, as in ggml. The result is bit for bit
// ggml's dequantize_row_* (every product in it is exact, so the order of
// operations does not matter).
func (f *Format) Dequantize(dst []float32, src []byte) {
	nb := f.blocks(len(src), "src")
	if len(dst) != nb*f.BlockSize {
		panic("quant: " + f.Type.String() + ".Dequantize: dst holds " + strconv.Itoa(len(dst)) +
			" values, want " + strconv.Itoa(nb*f.BlockSize))
	}
	f.dequant(dst, src)
}

// VecDot returns the dot product of n weights x, in this format, and n
// activations y, in DotType (see QuantizeActivations), as ggml's vec_dot
// functions compute it: integer dot products per block (exact), scaled and
// summed in float32. x and y must hold exactly n values (it panics
// otherwise, and for Q8_1 and Q8_K, which have no dot product). The summation order differs between the pure-Go and the
// assembly kernels, so results may differ in the last bits.
func (f *Format) VecDot(n int, x, y []byte) float32 {
	if f.dot == nil {
		panic("quant: " + f.Type.String() + " has no dot product")
	}
	if n < 0 || n%f.BlockSize != 0 || n%int(f.DotType.BlockSize()) != 0 {
		panic("quant: " + f.Type.String() + ".VecDot: n=" + strconv.Itoa(n) + " is not a multiple of the block size")
	}
	if len(x) != n/f.BlockSize*f.BlockBytes || len(y) != n/int(f.DotType.BlockSize())*int(f.DotType.TypeSize()) {
		panic("quant: " + f.Type.String() + ".VecDot: x or y does not hold n=" + strconv.Itoa(n) + " values")
	}
	if n == 0 {
		return 0
	}
	return f.dot(n, x, y)
}

// QuantizeActivations quantizes src into DotType for VecDot (it calls
// QuantizeRowQ8_0, QuantizeRowQ8_1 or QuantizeRowQ8_K).
func (f *Format) QuantizeActivations(dst []byte, src []float32) {
	switch f.DotType {
	case gguf.TypeQ8_0:
		QuantizeRowQ8_0(dst, src)
	case gguf.TypeQ8_1:
		QuantizeRowQ8_1(dst, src)
	case gguf.TypeQ8_K:
		QuantizeRowQ8_K(dst, src)
	default:
		panic("quant: " + f.Type.String() + " has no dot product")
	}
}

func (f *Format) blocks(nbytes int, what string) int {
	if nbytes%f.BlockBytes != 0 {
		panic("quant: " + f.Type.String() + ": " + what + " holds " + strconv.Itoa(nbytes) +
			" bytes, not a whole number of " + strconv.Itoa(f.BlockBytes) + "-byte blocks")
	}
	return nbytes / f.BlockBytes
}

// QuantizeRowQ8_0 quantizes activations to Q8_0 the way ggml's CPU backend
// does before a dot product (quantize_row_q8_0, AVX path): d = amax/127,
// codes round-half-even(x·127/amax). len(src) must be a multiple of 32 and
// dst must hold len(src)/32·34 bytes (it panics otherwise). Non-finite
// input gives meaningless codes, as in ggml. Weights are quantized with
// Q8_0.Quantize, which uses ggml's reference rounding instead.
func QuantizeRowQ8_0(dst []byte, src []float32) {
	if len(src)%qk != 0 || len(dst) != len(src)/qk*34 {
		panic("quant: QuantizeRowQ8_0: want len(src) a multiple of 32 and len(dst) = len(src)/32*34")
	}
	quantizeRowQ8_0(dst, src)
}

// QuantizeRowQ8_1 quantizes activations to Q8_1 (the partner of Q4_1 and
// Q5_1) as ggml's CPU backend does (quantize_row_q8_1, AVX path): codes as
// QuantizeRowQ8_0, and s = fp16(d·Σcodes) with d = amax/127 in float32.
// len(src) must be a multiple of 32 and dst must hold len(src)/32·36 bytes
// (it panics otherwise).
func QuantizeRowQ8_1(dst []byte, src []float32) {
	if len(src)%qk != 0 || len(dst) != len(src)/qk*36 {
		panic("quant: QuantizeRowQ8_1: want len(src) a multiple of 32 and len(dst) = len(src)/32*36")
	}
	quantizeRowQ8_1(dst, src)
}

// QuantizeRowQ8_K quantizes activations to Q8_K (quantize_row_q8_K: d =
// max/−127 as a float32, codes capped at 127, and the 16 sums of 16 codes
// that the k-quant dot products use). len(src) must be a multiple of 256
// and dst must hold len(src)/256·292 bytes (it panics otherwise).
func QuantizeRowQ8_K(dst []byte, src []float32) {
	if len(src)%qkK != 0 || len(dst) != len(src)/qkK*q8KBytes {
		panic("quant: QuantizeRowQ8_K: want len(src) a multiple of 256 and len(dst) = len(src)/256*292")
	}
	quantizeRowQ8K(dst, src)
}
