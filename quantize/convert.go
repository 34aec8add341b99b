package quantize

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/lmc-project/lmc/gguf"
	"github.com/lmc-project/lmc/quant"
	"github.com/lmc-project/lmc/tensor"
)

// ErrNonFinite is wrapped by the error for a NaN or ±Inf weight; the
// message names the tensor, row and column.
var ErrNonFinite = errors.New("non-finite weight")

// ErrInput is wrapped by the errors for input lmc refuses (a shape or
// importance matrix that does not fit, a calibration text too short).
var ErrInput = errors.New("bad quantization input")

// errStats accumulates a tensor's quantization error in float64.
type errStats struct {
	se, sx, wse, wsx float64 // Σ(x−q)², Σx², Σw(x−q)², Σwx²
	n                int64
}

func (a *errStats) add(b errStats) {
	a.se += b.se
	a.sx += b.sx
	a.wse += b.wse
	a.wsx += b.wsx
	a.n += b.n
}

// fill writes the error fields of r.
func (a *errStats) fill(r *TensorReport, weighted bool) {
	if a.n == 0 {
		return
	}
	r.RMSE = math.Sqrt(a.se / float64(a.n))
	if a.sx > 0 {
		r.RelRMSE = math.Sqrt(a.se / a.sx)
	}
	if weighted && a.wsx > 0 {
		r.WeightedRelErr = a.wse / a.wsx
	}
}

// decodeRows converts rows of a source tensor (stored as st) to float32.
func decodeRows(dst []float32, src []byte, st gguf.Type) error {
	switch st {
	case gguf.TypeF32:
		return tensor.DecodeF32(dst, src, tensor.F32)
	case gguf.TypeF16:
		return tensor.DecodeF32(dst, src, tensor.F16)
	case gguf.TypeBF16:
		return tensor.DecodeF32(dst, src, tensor.BF16)
	}
	f, ok := quant.Lookup(st)
	if !ok {
		return fmt.Errorf("cannot read %s data", st)
	}
	f.Dequantize(dst, src)
	return nil
}

// encodeRows stores float32 rows as type t into dst (exactly the rows'
// size); imw holds the importance weights of one row (or nil).
func encodeRows(dst []byte, x []float32, cols int, t gguf.Type, imw []float32) error {
	switch t {
	case gguf.TypeF32:
		return tensor.EncodeF32(dst, tensor.F32, x)
	case gguf.TypeF16:
		return tensor.EncodeF32(dst, tensor.F16, x)
	case gguf.TypeBF16:
		return tensor.EncodeF32(dst, tensor.BF16, x)
	}
	f, ok := quant.Lookup(t)
	if !ok {
		return fmt.Errorf("cannot write %s data", t)
	}
	return f.QuantizeRows(dst, x, cols, imw)
}

// rowBytes returns the stored size of a row of cols elements of type t.
func rowBytes(t gguf.Type, cols int) int {
	n, _ := t.RowSize(int64(cols))
	return int(n)
}

// convertJob describes converting a tensor's rows from one type to another.
type convertJob struct {
	name     string
	src      []byte    // source rows
	srcType  gguf.Type // its type
	dst      []byte    // output rows (exact size)
	dstType  gguf.Type
	cols     int
	rowsPer  int       // rows per matrix (expert); imatrix weights change between matrices
	imw      []float32 // nil, or cols weights per matrix
	measureW []float32 // weights for the weighted error (nil: none), like imw
	threads  int
	stats    bool // measure the error
}

// run converts the rows in parallel chunks. NaN and ±Inf inputs are
// reported with the tensor, row and column. The output does not depend on
// the number of threads.
func (j *convertJob) run() (errStats, error) {
	cols := j.cols
	srb, drb := rowBytes(j.srcType, cols), rowBytes(j.dstType, cols)
	rows := len(j.dst) / drb
	if rows*drb != len(j.dst) || len(j.src) != rows*srb {
		return errStats{}, fmt.Errorf("quantize: %s: %d source bytes and %d output bytes for rows of %d", j.name, len(j.src), len(j.dst), cols)
	}
	// Chunks of about 16 K elements (llama-quantize's minimum chunk),
	// never crossing a matrix boundary.
	per := max(1, (1<<14)/cols)
	if j.rowsPer > 0 {
		per = min(per, j.rowsPer)
	}
	type chunk struct{ lo, hi int }
	var chunks []chunk
	for lo := 0; lo < rows; {
		hi := min(lo+per, rows)
		if j.rowsPer > 0 {
			hi = min(hi, (lo/j.rowsPer+1)*j.rowsPer)
		}
		chunks = append(chunks, chunk{lo, hi})
		lo = hi
	}
	threads := j.threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	threads = min(threads, len(chunks))
	results := make([]errStats, len(chunks))
	errs := make([]error, len(chunks))
	var next int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < threads; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var x, y []float32
			for {
				mu.Lock()
				c := next
				next++
				mu.Unlock()
				if c >= len(chunks) {
					return
				}
				lo, hi := chunks[c].lo, chunks[c].hi
				n := (hi - lo) * cols
				if cap(x) < n {
					x, y = make([]float32, n), make([]float32, n)
				}
				x, y = x[:n], y[:n]
				if err := decodeRows(x, j.src[lo*srb:hi*srb], j.srcType); err != nil {
					errs[c] = fmt.Errorf("quantize: %s: %w", j.name, err)
					continue
				}
				var imw, mw []float32
				if j.rowsPer > 0 {
					m := lo / j.rowsPer
					if j.imw != nil {
						imw = j.imw[m*cols : (m+1)*cols]
					}
					if j.measureW != nil {
						mw = j.measureW[m*cols : (m+1)*cols]
					}
				}
				if !j.dstType.Quantized() && hasNonFinite(x) {
					r, col, v := firstNonFinite(x, cols)
					errs[c] = fmt.Errorf("tensor %s: row %d, column %d is %v: %w", j.name, lo+r, col, v, ErrNonFinite)
					continue
				}
				err := encodeRows(j.dst[lo*drb:hi*drb], x, cols, j.dstType, imw)
				if err != nil {
					var ve *quant.ValueError
					if errors.As(err, &ve) {
						err = fmt.Errorf("tensor %s: row %d, column %d is %v: %w", j.name, lo+ve.Row, ve.Col, ve.Value, ErrNonFinite)
					} else {
						err = fmt.Errorf("tensor %s: %w", j.name, err)
					}
					errs[c] = err
					continue
				}
				if !j.stats {
					continue
				}
				if err := decodeRows(y, j.dst[lo*drb:hi*drb], j.dstType); err != nil {
					errs[c] = err
					continue
				}
				results[c] = measure(x, y, cols, mw)
			}
		}()
	}
	wg.Wait()
	var total errStats
	for c := range chunks {
		if errs[c] != nil {
			return errStats{}, errs[c]
		}
		total.add(results[c])
	}
	return total, nil
}

// measure returns the error of y as an approximation of x (rows of cols),
// weighted per column by w when w is not nil.
func measure(x, y []float32, cols int, w []float32) errStats {
	var s errStats
	for i, v := range x {
		d := float64(v) - float64(y[i])
		s.se += d * d
		s.sx += float64(v) * float64(v)
		if w != nil {
			c := float64(w[i%cols])
			s.wse += c * d * d
			s.wsx += c * float64(v) * float64(v)
		}
	}
	s.n = int64(len(x))
	return s
}

func hasNonFinite(x []float32) bool {
	for _, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return true
		}
	}
	return false
}

func firstNonFinite(x []float32, cols int) (int, int, float32) {
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return i / cols, i % cols, v
		}
	}
	return 0, 0, 0
}
