package awq

import (
	"fmt"
	"math"

	"github.com/lmc-project/lmc/kernels"
	"github.com/lmc-project/lmc/quant/gptq"
)

// Grid is the quantization a search is measured against.
type Grid interface {
	// Group is the number of consecutive columns quantized together (an
	// integer grid's group, a ggml block); rows are quantized in groups.
	Group() int
	// Fake writes into dst the dequantized values of w (rows × cols,
	// row-major, cols a multiple of Group) as stored, given per-column
	// importance weights imw (nil, or cols values) for quantizers that use
	// them.
	Fake(dst, w []float32, rows, cols int, imw []float32) error
}

// Options tune the searches. The zero value is AWQ's reference setting.
type Options struct {
	// Grid is the number of exponents α tried, α = 0, 1/Grid, …,
	// (Grid−1)/Grid (default 20). α = 0 (no scaling) is always a
	// candidate, so the search never does worse than plain rounding on
	// its objective.
	Grid int
	// ClipGrid and MaxShrink set the clipping search: thresholds
	// max|w|·(1 − i/ClipGrid) for i < MaxShrink·ClipGrid (defaults 20 and
	// 0.5, AWQ's).
	ClipGrid  int
	MaxShrink float64
	// MaxRows bounds the rows of each linear the scale search measures
	// (evenly spaced; default 256): the loss is a sum over rows, and a
	// sample of them ranks the candidates as well at a fraction of the
	// cost. The final quantization always uses every row.
	MaxRows int
	// Duo also tries AutoAWQ's duo-scaling candidates (s = m^α /
	// w^(1−α), w the weights' mean relative magnitude per column) beside
	// the activation-only ones. (On books5M they lower the search's
	// objective but not the model's KL divergence.)
	Duo bool
}

func (o *Options) defaults() {
	if o.Grid <= 0 {
		o.Grid = 20
	}
	if o.ClipGrid <= 0 {
		o.ClipGrid = 20
	}
	if o.MaxShrink <= 0 {
		o.MaxShrink = 0.5
	}
	if o.MaxRows <= 0 {
		o.MaxRows = 256
	}
}

// sampleRows returns up to n evenly spaced rows of l.
func sampleRows(l Linear, cols, n int) Linear {
	if l.Rows <= n {
		return l
	}
	w := make([]float32, n*cols)
	for i := 0; i < n; i++ {
		r := i * l.Rows / n
		copy(w[i*cols:(i+1)*cols], l.W[r*cols:(r+1)*cols])
	}
	return Linear{W: w, Rows: n, Grid: l.Grid}
}

// Linear is a weight matrix (rows × cols, row-major; rows are output
// features) reading the input whose statistics a search gets.
type Linear struct {
	W    []float32
	Rows int
	// Grid quantizes this linear (nil: the grid passed to the search).
	Grid Grid
}

// ScaleResult is the outcome of [SearchScale].
type ScaleResult struct {
	// Scales multiply the weights' input columns (W·diag(s)); the
	// preceding operation's output must be divided by them.
	Scales []float32
	// Alpha is the exponent chosen, Duo whether the candidate was
	// AutoAWQ's duo scaling (activation and weight magnitudes).
	Alpha float64
	Duo   bool
	// Loss and BaseLoss are the output error Σ tr(E·H·Eᵀ) with the chosen
	// scales and without scaling (α = 0).
	Loss, BaseLoss float64
}

// Candidate returns AWQ's scales for exponent alpha: s_j = m_j^α, clamped
// below at 1e-4 and normalized by sqrt(max(s)·min(s)), where m_j is the
// mean |x| of input column j.
func Candidate(meanAbs []float32, alpha float64) []float32 {
	s := make([]float32, len(meanAbs))
	lo, hi := math.Inf(1), math.Inf(-1)
	for j, m := range meanAbs {
		v := math.Max(math.Pow(float64(m), alpha), 1e-4)
		s[j] = float32(v)
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	norm := math.Sqrt(hi * lo)
	for j := range s {
		s[j] = float32(float64(s[j]) / norm)
	}
	return s
}

// SearchScale finds per-input-column scales for the linears that share
// one input, AWQ's search: for α on a grid, s = Candidate(mean|x|, α),
// each W is quantized as Q(W·diag(s))·diag(1/s), and the α whose output
// error Σ tr(E·H·Eᵀ) (E = W − that, H = Σxᵀx from h) is smallest wins.
// tie, when not nil, maps each column to a tie group (columns of one group
// get one scale, from their mean magnitude: needed when the scales are
// folded into a previous layer with fewer outputs, as v → o with grouped
// query attention); nil means none.
func SearchScale(ls []Linear, h *gptq.Hessian, g Grid, tie []int, o Options) (*ScaleResult, error) {
	o.defaults()
	cols := h.N
	for i, l := range ls {
		if len(l.W) != l.Rows*cols {
			return nil, fmt.Errorf("awq: linear %d has %d weights for [%d, %d]", i, len(l.W), l.Rows, cols)
		}
	}
	mean := h.MeanAbs()
	if tie != nil {
		mean = tieMean(mean, tie)
	}
	sampled := make([]Linear, len(ls))
	for i, l := range ls {
		sampled[i] = sampleRows(l, cols, o.MaxRows)
	}
	ms := h.MeanSquares()
	hf := hessian32(h)
	res := &ScaleResult{Loss: math.Inf(1)}
	var wmean []float32
	if o.Duo {
		wmean = weightMean(ls, cols, groupOf(ls, g, cols))
		if tie != nil {
			wmean = tieMean(wmean, tie)
		}
	}
	for _, duo := range []bool{false, true} {
		if duo && wmean == nil {
			continue
		}
		for i := 0; i < o.Grid; i++ {
			alpha := float64(i) / float64(o.Grid)
			if duo && i == 0 {
				continue // not a scaling of the activations
			}
			s := Candidate(mean, alpha)
			if duo {
				s = DuoCandidate(mean, wmean, alpha)
			}
			loss, err := scaledLoss(sampled, cols, s, ms, hf, g)
			if err != nil {
				return nil, err
			}
			if i == 0 && !duo {
				res.BaseLoss = loss
			}
			if loss < res.Loss {
				res.Loss, res.Alpha, res.Scales, res.Duo = loss, alpha, s, duo
			}
		}
	}
	return res, nil
}

// groupOf returns the group size weightMean normalizes by: the grid's
// group (the first linear's when they differ), or the whole row.
func groupOf(ls []Linear, g Grid, cols int) int {
	if len(ls) > 0 && ls[0].Grid != nil {
		g = ls[0].Grid
	}
	gs := 0
	if g != nil {
		gs = g.Group()
	}
	if gs <= 0 || cols%gs != 0 {
		gs = cols
	}
	return gs
}

// weightMean is AutoAWQ's w_mean: per input column, the mean over all
// rows of the linears of |w| divided by its group's max |w|.
func weightMean(ls []Linear, cols, gs int) []float32 {
	sum := make([]float64, cols)
	n := 0
	for _, l := range ls {
		for r := 0; r < l.Rows; r++ {
			row := l.W[r*cols : (r+1)*cols]
			for c0 := 0; c0 < cols; c0 += gs {
				amax := float32(0)
				for _, v := range row[c0 : c0+gs] {
					amax = max(amax, float32(math.Abs(float64(v))))
				}
				for j, v := range row[c0 : c0+gs] {
					sum[c0+j] += math.Abs(float64(v)) / (float64(amax) + 1e-6)
				}
			}
		}
		n += l.Rows
	}
	out := make([]float32, cols)
	for j := range out {
		out[j] = float32(sum[j] / float64(max(n, 1)))
	}
	return out
}

// DuoCandidate returns AutoAWQ's duo-scaling candidate for alpha: s_j =
// m_j^α / (w_j^(1−α) + 1e-4), clamped below at 1e-4 and normalized as in
// Candidate; w_j is the mean relative weight magnitude of column j.
func DuoCandidate(meanAbs, wmean []float32, alpha float64) []float32 {
	s := make([]float32, len(meanAbs))
	lo, hi := math.Inf(1), math.Inf(-1)
	for j, m := range meanAbs {
		v := math.Max(math.Pow(float64(m), alpha)/(math.Pow(float64(wmean[j]), 1-alpha)+1e-4), 1e-4)
		s[j] = float32(v)
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	norm := math.Sqrt(hi * lo)
	for j := range s {
		s[j] = float32(float64(s[j]) / norm)
	}
	return s
}

// tieMean averages the magnitudes within tie groups.
func tieMean(mean []float32, tie []int) []float32 {
	n := 0
	for _, t := range tie {
		n = max(n, t+1)
	}
	sum := make([]float64, n)
	cnt := make([]int, n)
	for j, t := range tie {
		sum[t] += float64(mean[j])
		cnt[t]++
	}
	out := make([]float32, len(mean))
	for j, t := range tie {
		out[j] = float32(sum[t] / float64(cnt[t]))
	}
	return out
}

func hessian32(h *gptq.Hessian) []float32 {
	hf := make([]float32, len(h.H))
	// Normalize by the count so that float32 sums stay moderate.
	c := float64(max(h.Count, 1))
	for i, v := range h.H {
		hf[i] = float32(v / c)
	}
	return hf
}

// ScaledWeights returns W·diag(s) and the importance weights of the
// scaled input (mean squares / s²).
func ScaledWeights(w []float32, rows, cols int, s, ms []float32) ([]float32, []float32) {
	ws := make([]float32, len(w))
	for r := 0; r < rows; r++ {
		for j := 0; j < cols; j++ {
			ws[r*cols+j] = w[r*cols+j] * s[j]
		}
	}
	var imw []float32
	if ms != nil {
		imw = make([]float32, cols)
		for j := range imw {
			imw[j] = ms[j] / (s[j] * s[j])
		}
	}
	return ws, imw
}

func scaledLoss(ls []Linear, cols int, s, ms, hf []float32, g Grid) (float64, error) {
	total := 0.0
	for _, l := range ls {
		ws, imw := ScaledWeights(l.W, l.Rows, cols, s, ms)
		q := make([]float32, len(ws))
		lg := g
		if l.Grid != nil {
			lg = l.Grid
		}
		if err := lg.Fake(q, ws, l.Rows, cols, imw); err != nil {
			return 0, err
		}
		e := make([]float32, len(ws))
		for r := 0; r < l.Rows; r++ {
			for j := 0; j < cols; j++ {
				i := r*cols + j
				e[i] = l.W[i] - q[i]/s[j]
			}
		}
		total += quadForm(e, l.Rows, cols, hf)
	}
	return total, nil
}

// quadForm returns Σ_r x_r·H·x_rᵀ.
func quadForm(x []float32, rows, cols int, hf []float32) float64 {
	tmp := make([]float32, rows*cols)
	kernels.Parallel(rows, 8, func(lo, hi int) {
		kernels.Dots(tmp[lo*cols:], cols, hf, cols, cols, x[lo*cols:], cols, hi-lo, cols)
	})
	s := 0.0
	for i, v := range x {
		s += float64(v) * float64(tmp[i])
	}
	return s
}

// ClipResult reports [SearchClip].
type ClipResult struct {
	// Clipped counts the groups whose threshold is below their maximum.
	Clipped, Groups int
	// Loss and BaseLoss are the summed per-group output errors with the
	// chosen thresholds and without clipping.
	Loss, BaseLoss float64
}

// SearchClip clips the weights of w (rows × cols, already scaled; in
// place) group by group to the threshold that minimizes the group's output
// error e·H_gg·eᵀ, e = W − Q(clip(W)), among max|w|·(1 − i/ClipGrid), AWQ's
// auto-clip. h holds the statistics of the (scaled) input: pass scales to
// divide H by sᵢsⱼ (nil: none); imw are the importance weights for the
// quantizer (nil: none).
func SearchClip(w []float32, rows, cols int, h *gptq.Hessian, s []float32, imw []float32, g Grid, o Options) (*ClipResult, error) {
	o.defaults()
	gs := g.Group()
	if gs <= 0 {
		gs = cols
	}
	if cols%gs != 0 {
		return nil, fmt.Errorf("awq: rows of %d do not divide into groups of %d", cols, gs)
	}
	hf := hessian32(h)
	if s != nil {
		for i := 0; i < cols; i++ {
			for j := 0; j < cols; j++ {
				hf[i*cols+j] /= s[i] * s[j]
			}
		}
	}
	steps := max(1, int(o.MaxShrink*float64(o.ClipGrid)))
	res := &ClipResult{}
	type acc struct {
		loss, base     float64
		clipped, count int
		err            error
	}
	ngroups := cols / gs
	parts := make([]acc, rows)
	kernels.Parallel(rows, 1, func(lo, hi int) {
		cand := make([]float32, gs)
		q := make([]float32, gs)
		e := make([]float32, gs)
		tmp := make([]float32, gs)
		for r := lo; r < hi; r++ {
			a := &parts[r]
			for k := 0; k < ngroups; k++ {
				c0 := k * gs
				wg := w[r*cols+c0 : r*cols+c0+gs]
				var gw []float32
				if imw != nil {
					gw = imw[c0 : c0+gs]
				}
				amax := float32(0)
				for _, v := range wg {
					amax = max(amax, float32(math.Abs(float64(v))))
				}
				best, bestT := math.Inf(1), amax
				for i := 0; i < steps; i++ {
					t := amax * float32(1-float64(i)/float64(o.ClipGrid))
					for j, v := range wg {
						cand[j] = min(max(v, -t), t)
					}
					if err := g.Fake(q, cand, 1, gs, gw); err != nil {
						a.err = err
						return
					}
					for j := range e {
						e[j] = wg[j] - q[j]
					}
					l := groupLoss(e, hf, cols, c0, tmp)
					if i == 0 {
						a.base += l
					}
					if l < best {
						best, bestT = l, t
					}
				}
				a.loss += best
				a.count++
				if bestT < amax {
					a.clipped++
					for j, v := range wg {
						wg[j] = min(max(v, -bestT), bestT)
					}
				}
			}
		}
	})
	for _, a := range parts {
		if a.err != nil {
			return nil, a.err
		}
		res.Loss += a.loss
		res.BaseLoss += a.base
		res.Clipped += a.clipped
		res.Groups += a.count
	}
	return res, nil
}

// groupLoss returns e·H_gg·eᵀ for the group starting at column c0 (tmp
// holds len(e) floats of scratch).
func groupLoss(e, hf []float32, cols, c0 int, tmp []float32) float64 {
	n := len(e)
	// tmp[j] = Σ_i hf[(c0+j)*cols + c0+i]·e[i]  (H symmetric)
	kernels.Dots(tmp, n, hf[c0*cols+c0:], cols, n, e, n, 1, n)
	s := 0.0
	for i, v := range e {
		s += float64(v) * float64(tmp[i])
	}
	return s
}
