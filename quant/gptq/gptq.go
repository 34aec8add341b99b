package gptq

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/lmc-project/lmc/gguf"
	"github.com/lmc-project/lmc/hfquant/spec"
	"github.com/lmc-project/lmc/kernels"
	"github.com/lmc-project/lmc/quant"
)

// ErrNonFinite is wrapped by the error for a NaN or ±Inf weight.
var ErrNonFinite = errors.New("non-finite weight")

// Options tune GPTQ. The zero value is GPTQ's reference setting: 1%
// dampening, blocks of 128 columns, columns in order.
type Options struct {
	// Damp is added to the Hessian's diagonal as a fraction of its mean
	// (percdamp; default 0.01). When the dampened Hessian is still not
	// positive definite, it is raised tenfold, up to three times.
	Damp float64
	// BlockSize is the number of columns updated eagerly before the rest
	// of the matrix gets their accumulated error (lazy batch updates;
	// default 128). It is raised to a multiple of the group or ggml block
	// size where needed.
	BlockSize int
	// ActOrder quantizes columns in order of decreasing Hessian diagonal
	// (desc_act). Groups are then formed in that order, and the result's
	// GIdx maps each column to its group. Integer grids only.
	ActOrder bool
	// MinZero is the smallest zero point an asymmetric group may get (1
	// for GPTQ's v1 checkpoint format, which stores zero − 1).
	MinZero int
}

func (o *Options) defaults() {
	if o.Damp == 0 {
		o.Damp = 0.01
	}
	if o.BlockSize <= 0 {
		o.BlockSize = 128
	}
}

// Stats reports a GPTQ run.
type Stats struct {
	// Loss is GPTQ's objective, Σ (w − q)² / [H⁻¹]_jj / 2 over the
	// quantized columns.
	Loss float64
	// Damp is the dampening fraction finally used.
	Damp float64
	// Dead counts columns whose inputs were always zero (their weights do
	// not matter and are quantized as zero).
	Dead int
}

// rounder quantizes columns onto a grid: begin is called at each group (or
// block) boundary with the current weights of the group's columns, round
// for every column of every row.
type rounder interface {
	group() int // columns per group (0: the whole row)
	begin(w []float32, rows, cols, c0, c1 int) error
	round(r, c int, x float32) float32
}

// Factor is the prepared inverse Hessian of one layer input: the column
// order, the dead columns and U, the upper Cholesky factor of the
// dampened H⁻¹ (in that order). Linears sharing an input (q, k and v; gate
// and up) share one Factor.
type Factor struct {
	N        int
	U        []float64 // N×N, row-major, upper triangular
	Perm     []int     // Perm[i] is the original column at position i
	Dead     []bool    // columns whose inputs were always 0
	Damp     float64   // dampening fraction used
	ActOrder bool
}

// Prepare factors h for GPTQ with o's dampening and column order.
func Prepare(h *Hessian, o Options) (*Factor, error) {
	o.defaults()
	cols := h.N
	H := append([]float64(nil), h.H...)
	f := &Factor{N: cols, Dead: make([]bool, cols), ActOrder: o.ActOrder}
	// Dead inputs: GPTQ sets H_ii = 1 (and zeroes the weights).
	for i := 0; i < cols; i++ {
		if H[i*cols+i] == 0 {
			H[i*cols+i] = 1
			f.Dead[i] = true
		}
	}
	f.Perm = make([]int, cols)
	for i := range f.Perm {
		f.Perm[i] = i
	}
	if o.ActOrder {
		perm := f.Perm
		sort.SliceStable(perm, func(a, b int) bool { return H[perm[a]*cols+perm[a]] > H[perm[b]*cols+perm[b]] })
		P := make([]float64, cols*cols)
		for i := 0; i < cols; i++ {
			for j := 0; j < cols; j++ {
				P[i*cols+j] = H[perm[i]*cols+perm[j]]
			}
		}
		H = P
	}
	mean := 0.0
	for i := 0; i < cols; i++ {
		mean += H[i*cols+i]
	}
	mean /= float64(cols)
	damp := o.Damp
	for try := 0; try < 4; try++ {
		D := append([]float64(nil), H...)
		for i := 0; i < cols; i++ {
			D[i*cols+i] += damp * mean
		}
		if u, ok := upperCholInverse(D, cols); ok {
			f.U, f.Damp = u, damp
			return f, nil
		}
		damp *= 10
	}
	return nil, fmt.Errorf("gptq: %w even with dampening %g", ErrNotPD, damp/10)
}

// prepare returns a copy of w with dead columns zeroed, in f's column
// order.
func prepare(w []float32, rows, cols int, f *Factor, st *Stats) ([]float32, error) {
	if f.N != cols {
		return nil, fmt.Errorf("gptq: Hessian of %d columns for a matrix of %d", f.N, cols)
	}
	if len(w) != rows*cols {
		return nil, fmt.Errorf("gptq: %d weights for a [%d, %d] matrix", len(w), rows, cols)
	}
	for i, v := range w {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("gptq: row %d, column %d is %v: %w", i/cols, i%cols, v, ErrNonFinite)
		}
	}
	W := append([]float32(nil), w...)
	for i, d := range f.Dead {
		if d {
			st.Dead++
			for r := 0; r < rows; r++ {
				W[r*cols+i] = 0
			}
		}
	}
	st.Damp = f.Damp
	if f.ActOrder {
		W = permuteCols(W, rows, cols, f.Perm)
	}
	return W, nil
}

func permuteCols(w []float32, rows, cols int, perm []int) []float32 {
	out := make([]float32, len(w))
	for r := 0; r < rows; r++ {
		src, dst := w[r*cols:(r+1)*cols], out[r*cols:(r+1)*cols]
		for i, p := range perm {
			dst[i] = src[p]
		}
	}
	return out
}

// run is GPTQ's main loop over W (rows×cols, permuted order) with U, the
// upper Cholesky factor of the (permuted) inverse Hessian: each column is
// rounded, its error divided by U_jj spread over the remaining columns of
// the block at once and over the rest of the matrix once per block.
func run(W []float32, rows, cols int, U []float64, rd rounder, o *Options, st *Stats) error {
	bs := o.BlockSize
	if g := rd.group(); g > 0 && bs%g != 0 && g%bs != 0 {
		bs = (bs + g - 1) / g * g
	}
	// Uᵀ as float32 for the lazy updates: ut[j*cols + i] = U[i][j].
	ut := make([]float32, cols*cols)
	for i := 0; i < cols; i++ {
		for j := i; j < cols; j++ {
			ut[j*cols+i] = float32(U[i*cols+j])
		}
	}
	errBlk := make([]float32, rows*bs)
	var upd []float32
	g := rd.group()
	for i1 := 0; i1 < cols; i1 += bs {
		i2 := min(i1+bs, cols)
		n := i2 - i1
		for i := i1; i < i2; i++ {
			if g > 0 && i%g == 0 {
				if err := rd.begin(W, rows, cols, i, min(i+g, cols)); err != nil {
					return err
				}
			} else if g == 0 && i == 0 {
				if err := rd.begin(W, rows, cols, 0, cols); err != nil {
					return err
				}
			}
			d := U[i*cols+i]
			urow := U[i*cols : (i+1)*cols]
			for r := 0; r < rows; r++ {
				wr := W[r*cols : (r+1)*cols]
				x := wr[i]
				q := rd.round(r, i, x)
				e := float64(x - q)
				st.Loss += e * e / (d * d) / 2
				err := float32(e / d)
				errBlk[r*bs+(i-i1)] = err
				wr[i] = q
				for j := i + 1; j < i2; j++ {
					wr[j] -= err * float32(urow[j])
				}
			}
		}
		if i2 == cols {
			break
		}
		// W[:, i2:] -= Err·U[i1:i2, i2:].
		m := cols - i2
		if cap(upd) < rows*m {
			upd = make([]float32, rows*m)
		}
		upd = upd[:rows*m]
		kernels.Parallel(rows, 8, func(lo, hi int) {
			// upd[t*m + j] = Σ_k ut[(i2+j)*cols + i1+k] · errBlk[t*bs + k]
			kernels.Dots(upd[lo*m:], m, ut[i2*cols+i1:], cols, m, errBlk[lo*bs:], bs, hi-lo, n)
		})
		for r := 0; r < rows; r++ {
			wr := W[r*cols+i2 : (r+1)*cols]
			ur := upd[r*m : (r+1)*m]
			for j, v := range ur {
				wr[j] -= v
			}
		}
	}
	return nil
}

// intRounder rounds onto an integer grid (spec.Scheme) with per-group
// parameters from the group's current weights, as GPTQ's find_params.
type intRounder struct {
	s       spec.Scheme
	minZero int
	cols    int
	q       *spec.Quantized
	gs      int
	perm    []int
	scale   []float32 // per row, current group
	zero    []uint8
}

func (ir *intRounder) group() int {
	if ir.s.GroupSize <= 0 {
		return 0
	}
	return ir.s.GroupSize
}

func (ir *intRounder) begin(w []float32, rows, cols, c0, c1 int) error {
	k := 0
	if ir.s.GroupSize > 0 {
		k = c0 / ir.s.GroupSize
	}
	G := ir.q.Groups()
	for r := 0; r < rows; r++ {
		lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
		for _, v := range w[r*cols+c0 : r*cols+c1] {
			lo, hi = min(lo, v), max(hi, v)
		}
		sc, z, err := ir.s.Params(lo, hi, ir.minZero)
		if err != nil {
			return fmt.Errorf("gptq: row %d, group %d: %w", r, k, err)
		}
		ir.scale[r], ir.zero[r] = sc, z
		ir.q.Scales[r*G+k], ir.q.Zeros[r*G+k] = sc, z
	}
	return nil
}

func (ir *intRounder) round(r, c int, x float32) float32 {
	code := ir.s.Code(x, ir.scale[r], ir.zero[r])
	ir.q.Codes[r*ir.cols+ir.perm[c]] = code
	return ir.scale[r] * float32(int32(code)-int32(ir.zero[r]))
}

// QuantizeInt quantizes the rows×cols matrix w (row-major, rows = output
// features) onto the integer grid s with GPTQ, given the Hessian of its
// inputs. Scales and zero points of a group come from the group's weights
// as they stand when GPTQ reaches its first column (GPTQ's find_params).
// With o.ActOrder, groups follow the act-order and q.GIdx records them.
func QuantizeInt(w []float32, rows, cols int, f *Factor, s spec.Scheme, o Options) (*spec.Quantized, Stats, error) {
	o.defaults()
	var st Stats
	if err := s.Validate(cols); err != nil {
		return nil, st, err
	}
	W, err := prepare(w, rows, cols, f, &st)
	if err != nil {
		return nil, st, err
	}
	U, perm := f.U, f.Perm
	G := s.Groups(cols)
	q := &spec.Quantized{Rows: rows, Cols: cols, Scheme: s, Codes: make([]uint8, rows*cols),
		Scales: make([]float32, rows*G), Zeros: make([]uint8, rows*G)}
	if f.ActOrder {
		q.GIdx = make([]int32, cols)
		for i, p := range perm {
			if s.GroupSize > 0 {
				q.GIdx[p] = int32(i / s.GroupSize)
			}
		}
	}
	ir := &intRounder{s: s, minZero: o.MinZero, cols: cols, q: q, perm: perm, scale: make([]float32, rows), zero: make([]uint8, rows)}
	if err := run(W, rows, cols, U, ir, &o, &st); err != nil {
		return nil, st, err
	}
	return q, st, nil
}

// ggmlRounder rounds onto a ggml block format: at each block boundary it
// quantizes the block's current weights with the format's quantizer
// (importance-weighted when imw is set), which fixes the block's scales,
// then rounds every column onto that block's grid.
type ggmlRounder struct {
	f     *quant.Format
	imw   []float32
	cols  int
	out   []byte // rows × row bytes
	rb    int
	grids []blockGrid
	buf   []float32
}

func (gr *ggmlRounder) group() int { return gr.f.BlockSize }

func (gr *ggmlRounder) begin(w []float32, rows, cols, c0, c1 int) error {
	bs := gr.f.BlockSize
	blk := c0 / bs
	var imw []float32
	if gr.imw != nil {
		imw = gr.imw[c0:c1]
	}
	for r := 0; r < rows; r++ {
		b := gr.out[r*gr.rb+blk*gr.f.BlockBytes : r*gr.rb+(blk+1)*gr.f.BlockBytes]
		if err := gr.f.Quantize(b, w[r*cols+c0:r*cols+c1], imw); err != nil {
			return fmt.Errorf("gptq: row %d, block %d: %w", r, blk, err)
		}
		gr.grids[r].load(b)
	}
	return nil
}

func (gr *ggmlRounder) round(r, c int, x float32) float32 {
	g := gr.grids[r]
	e := c % gr.f.BlockSize
	code, v := g.round(e, x)
	g.set(e, code)
	return v
}

// QuantizeGGML quantizes w with GPTQ onto ggml block format f and returns
// the rows in f's encoding (a normal tensor of that type). Each block's
// scales are chosen by f's own quantizer (importance-weighted by imw, one
// weight per column, when not nil) from the block's weights as GPTQ
// reaches it; the block's codes are then chosen column by column with
// GPTQ's error feedback. Act-order does not apply (blocks are contiguous).
func QuantizeGGML(w []float32, rows, cols int, fa *Factor, f *quant.Format, imw []float32, o Options) ([]byte, Stats, error) {
	o.defaults()
	var st Stats
	if fa.ActOrder {
		return nil, st, fmt.Errorf("gptq: act-order does not apply to ggml blocks (prepare the factor without it)")
	}
	rb, err := f.RowBytes(cols)
	if err != nil {
		return nil, st, err
	}
	if f.Type == gguf.TypeQ8_1 || f.Type == gguf.TypeQ8_K {
		return nil, st, fmt.Errorf("gptq: %s is an activation format", f.Type)
	}
	if imw != nil && len(imw) != cols {
		return nil, st, fmt.Errorf("gptq: %d importance weights for rows of %d", len(imw), cols)
	}
	W, err := prepare(w, rows, cols, fa, &st)
	if err != nil {
		return nil, st, err
	}
	U := fa.U
	gr := &ggmlRounder{f: f, imw: imw, cols: cols, out: make([]byte, rows*rb), rb: rb, grids: make([]blockGrid, rows)}
	for r := range gr.grids {
		if gr.grids[r], err = gridFor(f.Type); err != nil {
			return nil, st, err
		}
	}
	if err := run(W, rows, cols, U, gr, &o, &st); err != nil {
		return nil, st, err
	}
	return gr.out, st, nil
}

// OutputError returns tr(E·H·Eᵀ) / tr(W·H·Wᵀ) for E = W − Q: the relative
// squared error of the layer's outputs on the calibration inputs behind
// H. q holds the quantized weights as floats.
func OutputError(w, q []float32, rows, cols int, h *Hessian) float64 {
	hf := make([]float32, cols*cols)
	for i, v := range h.H {
		hf[i] = float32(v)
	}
	e := make([]float32, rows*cols)
	for i := range e {
		e[i] = w[i] - q[i]
	}
	num := quadForm(e, rows, cols, hf)
	den := quadForm(w, rows, cols, hf)
	if den == 0 {
		return 0
	}
	return num / den
}

// quadForm returns Σ_r x_r·H·x_rᵀ.
func quadForm(x []float32, rows, cols int, hf []float32) float64 {
	tmp := make([]float32, rows*cols)
	kernels.Parallel(rows, 8, func(lo, hi int) {
		// tmp[t*cols + j] = Σ_i hf[j*cols+i]·x[t*cols+i]  (H symmetric)
		kernels.Dots(tmp[lo*cols:], cols, hf, cols, cols, x[lo*cols:], cols, hi-lo, cols)
	})
	s := 0.0
	for i, v := range x {
		s += float64(v) * float64(tmp[i])
	}
	return s
}
