package gptq

import (
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/lmc-project/lmc/kernels"
)

// Hessian accumulates the second moment of a linear layer's inputs: H =
// Σ xᵀx over activation rows x (GPTQ's Hessian is 2H/n; scale does not
// matter to GPTQ, whose dampening is relative), plus Σ|x| per column
// (AWQ's activation magnitude) and the row count. It is safe for
// concurrent use.
type Hessian struct {
	N      int       // columns (input features)
	H      []float64 // N×N, row-major, symmetric
	AbsSum []float64 // Σ|x| per column
	Count  int64     // rows added

	mu  sync.Mutex
	xt  []float32 // scratch: the transposed rows
	out []float32
}

// NewHessian returns an empty accumulator for n input columns.
func NewHessian(n int) *Hessian {
	return &Hessian{N: n, H: make([]float64, n*n), AbsSum: make([]float64, n)}
}

// Add accumulates rows activation rows of N values (row-major). The
// products run in float32 on the kernels' SIMD dot products, one block of
// up to 256 rows at a time, and are summed into float64.
func (h *Hessian) Add(x []float32, rows int) {
	n := h.N
	if len(x) < rows*n {
		panic(fmt.Sprintf("gptq: Hessian.Add: %d values for %d rows of %d", len(x), rows, n))
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	const step = 256
	for r0 := 0; r0 < rows; r0 += step {
		m := min(step, rows-r0)
		if cap(h.xt) < m*n {
			h.xt = make([]float32, step*n)
		}
		xt := h.xt[:m*n]
		for r := 0; r < m; r++ {
			row := x[(r0+r)*n : (r0+r+1)*n]
			for c, v := range row {
				xt[c*m+r] = v
				h.AbsSum[c] += math.Abs(float64(v))
			}
		}
		if cap(h.out) < n*n {
			h.out = make([]float32, n*n)
		}
		out := h.out[:n*n]
		// out[t*n + r] = Σ_k xt[r*m+k]·xt[t*m+k] = H[t][r]: split by t.
		kernels.Parallel(n, 8, func(lo, hi int) {
			kernels.Dots(out[lo*n:], n, xt, m, n, xt[lo*m:], m, hi-lo, m)
		})
		for i, v := range out {
			h.H[i] += float64(v)
		}
	}
	h.Count += int64(rows)
}

// MeanSquares returns H's diagonal divided by the row count: the mean
// squared activation per column (an importance matrix entry).
func (h *Hessian) MeanSquares() []float32 {
	w := make([]float32, h.N)
	if h.Count == 0 {
		for i := range w {
			w[i] = 1
		}
		return w
	}
	for i := range w {
		w[i] = float32(h.H[i*h.N+i] / float64(h.Count))
	}
	return w
}

// MeanAbs returns the mean |x| per column.
func (h *Hessian) MeanAbs() []float32 {
	w := make([]float32, h.N)
	for i := range w {
		if h.Count > 0 {
			w[i] = float32(h.AbsSum[i] / float64(h.Count))
		}
	}
	return w
}

// ErrNotPD is returned when the dampened Hessian is not positive definite
// even after raising the dampening.
var ErrNotPD = errors.New("Hessian not positive definite")

// cholesky factors the n×n symmetric matrix a (row-major) in place into
// its lower triangle L (a = L·Lᵀ); the upper triangle is zeroed. It
// returns false if a pivot is not positive.
func cholesky(a []float64, n int) bool {
	for j := 0; j < n; j++ {
		rj := a[j*n : j*n+j]
		s := a[j*n+j]
		for _, v := range rj {
			s -= v * v
		}
		if !(s > 0) {
			return false
		}
		d := math.Sqrt(s)
		a[j*n+j] = d
		inv := 1 / d
		// Rows below j: a[i][j] = (a[i][j] − Σ_k a[i][k]·a[j][k]) / d.
		kernelsParallel(n-j-1, func(lo, hi int) {
			for i := j + 1 + lo; i < j+1+hi; i++ {
				ri := a[i*n : i*n+j]
				s := a[i*n+j]
				for k, v := range ri {
					s -= v * rj[k]
				}
				a[i*n+j] = s * inv
			}
		})
	}
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			a[i*n+j] = 0
		}
	}
	return true
}

// invLower inverts the lower-triangular n×n matrix l in place.
func invLower(l []float64, n int) {
	// Column by column of the inverse: solve L·x = e_j by forward
	// substitution, writing x into column j (rows ≥ j), working from the
	// last column so that the columns still needed are intact... simpler:
	// compute into a copy.
	inv := make([]float64, n*n)
	kernelsParallel(n, func(lo, hi int) {
		x := make([]float64, n)
		for j := lo; j < hi; j++ {
			for i := range x {
				x[i] = 0
			}
			x[j] = 1 / l[j*n+j]
			for i := j + 1; i < n; i++ {
				s := 0.0
				ri := l[i*n : i*n+i]
				for k := j; k < i; k++ {
					s -= ri[k] * x[k]
				}
				x[i] = s / l[i*n+i]
			}
			for i := j; i < n; i++ {
				inv[i*n+j] = x[i]
			}
		}
	})
	copy(l, inv)
}

// upperCholInverse returns U, upper triangular with a positive diagonal,
// such that H⁻¹ = UᵀU: with J the reversal permutation, U = J·L⁻¹·J where
// L is the Cholesky factor of J·H·J (one factorization and one triangular
// inverse instead of GPTQ's three steps). h is not modified.
func upperCholInverse(h []float64, n int) ([]float64, bool) {
	p := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			p[i*n+j] = h[(n-1-i)*n+(n-1-j)]
		}
	}
	if !cholesky(p, n) {
		return nil, false
	}
	invLower(p, n)
	u := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			u[i*n+j] = p[(n-1-i)*n+(n-1-j)]
		}
	}
	return u, true
}

// kernelsParallel runs fn over [0, n) in chunks on the kernels' threads
// (serially for small n).
func kernelsParallel(n int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	if n < 64 {
		fn(0, n)
		return
	}
	kernels.Parallel(n, 16, fn)
}
