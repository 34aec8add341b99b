package kernels

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/lmc-project/lmc/gguf"
)

// Matrix is a weight matrix W with Rows() rows of Cols() elements, in
// PyTorch's [out, in] order: row r holds the weights of output r, stored as
// one GGUF row (row-major, little-endian, block-quantized types packed in
// blocks along the row). A linear layer computes y = W·x.
//
// Implementations must be safe for concurrent use by several goroutines
// (they are read-only after construction) and must not retain x or dst.
//
// # Implementing Matrix for a block-quantized type
//
// The easy path is [NewBlockMatrix]: describe the type with a
// [BlockKernel] (a function that quantizes one activation row to Q8_0 or
// Q8_K bytes, a function that takes the dot product of weight rows with one
// prepared activation row, and a row dequantizer) and register a
// constructor:
//
//	func init() {
//		kernels.Register(gguf.TypeQ4_K, func(data []byte, rows, cols int) (kernels.Matrix, error) {
//			return kernels.NewBlockMatrix(&q4KKernel, data, rows, cols)
//		})
//	}
//
// NewBlockMatrix's MatMul quantizes each of the n activation rows once per
// call (in parallel), then splits the weight rows across [Threads] workers;
// each worker walks its rows in blocks small enough to stay in L1 and, for
// each block, runs every token against it, so a weight row is loaded from
// memory once per call however many tokens there are.
//
// A type that wants more control (several rows × several tokens per inner
// kernel, its own input format) implements Matrix directly, using
// [Parallel] to split the work. Either way, kerneltest.CheckMatrix checks an
// implementation against float64 reference dot products.
type Matrix interface {
	// Rows is the number of output features (rows of W).
	Rows() int
	// Cols is the number of input features (elements per row).
	Cols() int
	// Type is the storage type of the rows.
	Type() gguf.Type
	// Data returns the stored rows: Rows() × Type().RowSize(Cols()) bytes
	// in GGUF layout. It may alias a read-only memory map.
	Data() []byte
	// DequantizeRow decodes row r into dst[:Cols()].
	DequantizeRow(dst []float32, r int)
	// MatMul computes n matrix-vector products at once:
	//
	//	dst[t*Rows() + r] = Σ_c W[r, c] · x[t*Cols() + c]   for t < n, r < Rows()
	//
	// x holds n activation rows of Cols() floats and dst receives n rows
	// of Rows() floats (elements of dst past n*Rows() are not touched). It
	// runs on [Threads] goroutines. It panics if a slice is too short.
	MatMul(dst, x []float32, n int)
}

// Constructor builds a Matrix of a given type over data, rows of cols
// elements. data holds exactly rows × RowSize(cols) bytes and may be a
// read-only memory map: a constructor must not modify it and should not copy
// it.
type Constructor func(data []byte, rows, cols int) (Matrix, error)

var (
	regMu    sync.RWMutex
	registry = map[gguf.Type]Constructor{}
)

// Register makes the constructor for type t available to [New]. It is
// meant to be called from an init function; it panics if t already has one.
func Register(t gguf.Type, c Constructor) {
	regMu.Lock()
	defer regMu.Unlock()
	if c == nil {
		panic("kernels: Register of a nil constructor for " + t.String())
	}
	if _, dup := registry[t]; dup {
		panic("kernels: Register called twice for type " + t.String())
	}
	registry[t] = c
}

// Registered lists the types [New] can build, in id order.
func Registered() []gguf.Type {
	regMu.RLock()
	defer regMu.RUnlock()
	ts := make([]gguf.Type, 0, len(registry))
	for t := range registry {
		ts = append(ts, t)
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
	return ts
}

// New builds a Matrix of type t over data (rows × cols). It fails if no
// constructor is registered for t, if the shape is not positive, if cols is
// not a multiple of t's block size, or if len(data) is not exactly
// rows × t.RowSize(cols).
func New(t gguf.Type, data []byte, rows, cols int) (Matrix, error) {
	regMu.RLock()
	c := registry[t]
	regMu.RUnlock()
	if c == nil {
		var names []string
		for _, r := range Registered() {
			names = append(names, r.UpperName())
		}
		return nil, fmt.Errorf("kernels: no matrix kernel for type %s (registered: %s)", t.UpperName(), strings.Join(names, ", "))
	}
	if err := CheckShape(t, data, rows, cols); err != nil {
		return nil, err
	}
	return c(data, rows, cols)
}

// CheckShape reports whether data is exactly rows × t.RowSize(cols) bytes,
// with rows and cols positive and cols a multiple of t's block size.
func CheckShape(t gguf.Type, data []byte, rows, cols int) error {
	if rows <= 0 || cols <= 0 {
		return fmt.Errorf("kernels: %s matrix shape [%d, %d] is not positive", t.UpperName(), rows, cols)
	}
	rs, err := t.RowSize(int64(cols))
	if err != nil {
		return fmt.Errorf("kernels: %s matrix with %d columns: %w", t.UpperName(), cols, err)
	}
	if want := rs * int64(rows); int64(len(data)) != want {
		return fmt.Errorf("kernels: %s matrix [%d, %d] needs %d bytes, got %d", t.UpperName(), rows, cols, want, len(data))
	}
	return nil
}

// checkMatMul panics with a named message when MatMul's slices are short.
func checkMatMul(m Matrix, dst, x []float32, n int) {
	if n < 0 {
		panic(fmt.Sprintf("kernels: MatMul with negative n %d", n))
	}
	if len(x) < n*m.Cols() {
		panic(fmt.Sprintf("kernels: MatMul x has %d floats, need n×cols = %d×%d", len(x), n, m.Cols()))
	}
	if len(dst) < n*m.Rows() {
		panic(fmt.Sprintf("kernels: MatMul dst has %d floats, need n×rows = %d×%d", len(dst), n, m.Rows()))
	}
}

func checkRow(m Matrix, dst []float32, r int) {
	if r < 0 || r >= m.Rows() {
		panic(fmt.Sprintf("kernels: DequantizeRow row %d out of range [0, %d)", r, m.Rows()))
	}
	if len(dst) < m.Cols() {
		panic(fmt.Sprintf("kernels: DequantizeRow dst has %d floats, need %d", len(dst), m.Cols()))
	}
}
