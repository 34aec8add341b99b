package quantize

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/lmc-project/lmc/gguf"
	"github.com/lmc-project/lmc/hfquant/spec"
	"github.com/lmc-project/lmc/model"
	"github.com/lmc-project/lmc/quant"
	"github.com/lmc-project/lmc/quant/awq"
	"github.com/lmc-project/lmc/quant/gptq"
)

// linearSuffixes are a block's linear layers in the order they run.
var linearSuffixes = []string{"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"}

// layerQuantizer quantizes a model block by block with a calibrated
// method: each block's inputs are collected by running the engine (whose
// earlier blocks already hold their quantized weights) over the
// calibration text, the block is quantized, and its quantized weights
// replace the float ones in the engine before the next block.
type layerQuantizer struct {
	ctx   context.Context
	o     *Options
	mm    *model.Model
	cr    *calibRunner
	plans map[string]*TensorPlan
	// scheme is set for integer-grid targets (HF formats); nil: ggml types.
	scheme *spec.Scheme
	// sink stores a finished tensor: ggml bytes or an integer matrix, or
	// float32 values for a modified norm or bias.
	sink func(p *TensorPlan, data []byte, q *spec.Quantized, f32 []float32, tr *TensorReport) error
	// done reports a tensor already stored (a resumed run).
	done func(name string) bool
	// restore reinstalls a stored block in the engine (resume).
	restore  func(l int) error
	extra    map[string]string // AWQ scales, kept for resuming
	log      func(string)
	calibS   float64
	onLayer  func(l int)
	layerNow int
}

// readF32 returns a source tensor as float32.
func readF32(p *TensorPlan) ([]float32, error) {
	raw, err := p.src.Read()
	if err != nil {
		return nil, fmt.Errorf("tensor %s: %w", p.Name, err)
	}
	defer p.src.Release()
	x := make([]float32, p.src.NumElements())
	if err := decodeRows(x, raw, p.Src); err != nil {
		return nil, fmt.Errorf("tensor %s: %w", p.Name, err)
	}
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			cols := int(p.Shape[len(p.Shape)-1])
			return nil, fmt.Errorf("tensor %s: row %d, column %d is %v: %w", p.Name, i/cols, i%cols, v, ErrNonFinite)
		}
	}
	return x, nil
}

// linear is one weight matrix of a block being quantized.
type linear struct {
	p          *TensorPlan
	w          []float32 // original weights
	ws         []float32 // weights as quantized (AWQ: scaled and clipped)
	rows, cols int
	colScale   []float32 // AWQ input scales (nil: none)
	rowScale   []float32 // AWQ scales of the outputs folded into this layer (v, up)
	in         int
}

func (lq *layerQuantizer) block(l int) error {
	names := make([]string, len(linearSuffixes))
	var ls []*linear
	for i, s := range linearSuffixes {
		names[i] = fmt.Sprintf("blk.%d.%s.weight", l, s)
		p := lq.plans[names[i]]
		if p == nil {
			return fmt.Errorf("quantize: block %d has no %s", l, names[i])
		}
		ls = append(ls, &linear{p: p, rows: int(p.Shape[0]), cols: int(p.Shape[1]), in: inputOf(names[i])})
	}
	all := true
	for _, n := range lq.blockTensors(l) {
		all = all && lq.done(n)
	}
	if all {
		return lq.restore(l)
	}
	for _, li := range ls {
		w, err := readF32(li.p)
		if err != nil {
			return err
		}
		li.w = w
	}
	cs := time.Now()
	switch lq.o.Method {
	case MethodGPTQ:
		if lq.o.GPTQ.OnePass {
			hs, err := lq.cr.collect(lq.ctx, l, inAttn, inDown)
			if err != nil {
				return err
			}
			lq.calibS += since(cs)
			for _, group := range [][]int{{0, 1, 2}, {3}, {4, 5}, {6}} {
				var gl []*linear
				for _, i := range group {
					gl = append(gl, ls[i])
				}
				if err := lq.gptqGroup(gl, hs[gl[0].in]); err != nil {
					return err
				}
			}
			break
		}
		// True-sequential: each input is collected after the linears
		// before it in the block were quantized and installed.
		for _, group := range [][]int{{0, 1, 2}, {3}, {4, 5}, {6}} {
			in := ls[group[0]].in
			cs := time.Now()
			hs, err := lq.cr.collect(lq.ctx, l, in, in)
			if err != nil {
				return err
			}
			lq.calibS += since(cs)
			var gl []*linear
			for _, i := range group {
				gl = append(gl, ls[i])
			}
			if err := lq.gptqGroup(gl, hs[in]); err != nil {
				return err
			}
		}
	case MethodAWQ:
		hs, err := lq.cr.collect(lq.ctx, l, inAttn, inDown)
		if err != nil {
			return err
		}
		lq.calibS += since(cs)
		if err := lq.awqBlock(l, ls, hs); err != nil {
			return err
		}
	}
	if lq.onLayer != nil {
		lq.onLayer(l)
	}
	return nil
}

// blockTensors lists the tensors a calibrated block writes.
func (lq *layerQuantizer) blockTensors(l int) []string {
	var out []string
	for _, s := range linearSuffixes {
		out = append(out, fmt.Sprintf("blk.%d.%s.weight", l, s))
	}
	if lq.o.Method == MethodAWQ {
		for _, s := range []string{"attn_norm.weight", "ffn_norm.weight", "attn_v.bias"} {
			if n := fmt.Sprintf("blk.%d.%s", l, s); lq.plans[n] != nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// quantizeAs quantizes ws (the weights as they go into the file) to li's
// planned type and returns the file bytes (ggml) or integer matrix, and
// the dequantized values.
func (lq *layerQuantizer) quantizeAs(li *linear, ws []float32, imw []float32) ([]byte, *spec.Quantized, []float32, error) {
	deq := make([]float32, len(ws))
	if lq.scheme != nil {
		q, err := rtnInt(ws, li.rows, li.cols, *lq.scheme, lq.minZero())
		if err != nil {
			return nil, nil, nil, fmt.Errorf("tensor %s: %w", li.p.Name, err)
		}
		q.Dequantize(deq)
		return nil, q, deq, nil
	}
	data := make([]byte, li.p.Bytes())
	if !li.p.Type.Quantized() {
		imw = nil
	}
	if err := encodeRows(data, ws, li.cols, li.p.Type, imw); err != nil {
		return nil, nil, nil, fmt.Errorf("tensor %s: %w", li.p.Name, err)
	}
	if err := decodeRows(deq, data, li.p.Type); err != nil {
		return nil, nil, nil, err
	}
	return data, nil, deq, nil
}

func (lq *layerQuantizer) minZero() int {
	if lq.o.Format == FormatGPTQ && lq.scheme != nil && !lq.scheme.Sym {
		return 1
	}
	return 0
}

// rtnInt rounds to nearest on an integer grid (min/max per group).
func rtnInt(w []float32, rows, cols int, s spec.Scheme, minZero int) (*spec.Quantized, error) {
	g := s.Groups(cols)
	gs := s.GroupSize
	if gs <= 0 {
		gs = cols
	}
	q := &spec.Quantized{Rows: rows, Cols: cols, Scheme: s, Codes: make([]uint8, rows*cols),
		Scales: make([]float32, rows*g), Zeros: make([]uint8, rows*g)}
	for r := 0; r < rows; r++ {
		for k := 0; k < g; k++ {
			src := w[r*cols+k*gs : r*cols+(k+1)*gs]
			lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
			for _, v := range src {
				lo, hi = min(lo, v), max(hi, v)
			}
			sc, z, err := s.Params(lo, hi, minZero)
			if err != nil {
				return nil, fmt.Errorf("row %d, group %d: %w", r, k, err)
			}
			q.Scales[r*g+k], q.Zeros[r*g+k] = sc, z
			for j, v := range src {
				q.Codes[r*cols+k*gs+j] = s.Code(v, sc, z)
			}
		}
	}
	return q, nil
}

// finish installs a quantized linear in the engine (its effective weights
// in the original coordinates), measures it and stores it.
func (lq *layerQuantizer) finish(li *linear, data []byte, q *spec.Quantized, deq []float32, h *gptq.Hessian, method string) error {
	eff := deq
	if li.colScale != nil || li.rowScale != nil {
		eff = make([]float32, len(deq))
		for r := 0; r < li.rows; r++ {
			rs := float32(1)
			if li.rowScale != nil {
				rs = li.rowScale[r]
			}
			for c := 0; c < li.cols; c++ {
				v := deq[r*li.cols+c] * rs
				if li.colScale != nil {
					v /= li.colScale[c]
				}
				eff[r*li.cols+c] = v
			}
		}
	}
	// The engine gets the dequantized weights as float32 (the quantized
	// function with float activations, and the fast float kernels for the
	// calibration passes still to come).
	if err := lq.mm.ReplaceWeightF32(li.p.Name, eff); err != nil {
		return err
	}
	tr := li.p.report()
	tr.Method = method
	st := measure(li.w, eff, li.cols, nil)
	st.fill(tr, false)
	if h != nil {
		tr.OutputRelErr = gptq.OutputError(li.w, eff, li.rows, li.cols, h)
	}
	if q != nil {
		tr.Type = fmt.Sprintf("int%d-g%d-%s", q.Scheme.Bits, q.Scheme.GroupSize, map[bool]string{true: "sym", false: "asym"}[q.Scheme.Sym])
	}
	return lq.sink(li.p, data, q, nil, tr)
}

func (lq *layerQuantizer) gptqGroup(ls []*linear, h *gptq.Hessian) error {
	if h == nil {
		return fmt.Errorf("quantize: no calibration input reached %s", ls[0].p.Name)
	}
	act := lq.o.GPTQ.ActOrder && lq.scheme != nil
	opt := gptq.Options{Damp: lq.o.GPTQ.Damp, BlockSize: lq.o.GPTQ.BlockSize, ActOrder: act, MinZero: lq.minZero()}
	f, err := gptq.Prepare(h, opt)
	if err != nil {
		return fmt.Errorf("%s: %w", ls[0].p.Name, err)
	}
	imw := h.MeanSquares()
	for _, li := range ls {
		if lq.scheme != nil {
			q, _, err := gptq.QuantizeInt(li.w, li.rows, li.cols, f, *lq.scheme, opt)
			if err != nil {
				return fmt.Errorf("tensor %s: %w", li.p.Name, err)
			}
			deq := make([]float32, len(li.w))
			q.Dequantize(deq)
			if err := lq.finish(li, nil, q, deq, h, "gptq"); err != nil {
				return err
			}
			continue
		}
		fm, ok := quant.Lookup(li.p.Type)
		if !ok || !li.p.Type.Quantized() {
			// A dense fallback type: nothing to round.
			data, _, deq, err := lq.quantizeAs(li, li.w, nil)
			if err != nil {
				return err
			}
			if err := lq.finish(li, data, nil, deq, h, "gptq"); err != nil {
				return err
			}
			continue
		}
		data, _, err := gptq.QuantizeGGML(li.w, li.rows, li.cols, f, fm, imw, opt)
		if err != nil {
			return fmt.Errorf("tensor %s: %w", li.p.Name, err)
		}
		deq := make([]float32, len(li.w))
		fm.Dequantize(deq, data)
		if err := lq.finish(li, data, nil, deq, h, "gptq"); err != nil {
			return err
		}
	}
	return nil
}

// gridOf returns the AWQ grid of a linear.
func (lq *layerQuantizer) gridOf(p *TensorPlan) awq.Grid {
	if lq.scheme != nil {
		return awq.IntGrid{Scheme: *lq.scheme, MinZero: lq.minZero()}
	}
	if f, ok := quant.Lookup(p.Type); ok && p.Type.Quantized() {
		return awq.GGMLGrid{Format: f}
	}
	return denseGrid{t: p.Type}
}

// denseGrid is a dense fallback type (F16): it rounds each value.
type denseGrid struct{ t gguf.Type }

func (denseGrid) Group() int { return 0 }

func (g denseGrid) Fake(dst, w []float32, rows, cols int, _ []float32) error {
	b := make([]byte, rowBytes(g.t, cols)*rows)
	if err := encodeRows(b, w[:rows*cols], cols, g.t, nil); err != nil {
		return err
	}
	return decodeRows(dst[:rows*cols], b, g.t)
}

func (lq *layerQuantizer) awqOpts() awq.Options {
	return awq.Options{Grid: lq.o.AWQ.Grid, Duo: lq.o.AWQ.Duo}
}

// awqBlock scales, clips and quantizes a block with AWQ.
func (lq *layerQuantizer) awqBlock(l int, ls []*linear, hs [nInputs]*gptq.Hessian) error {
	for in := inAttn; in <= inDown; in++ {
		if hs[in] == nil {
			return fmt.Errorf("quantize: no calibration input reached block %d", l)
		}
	}
	q, k, v, o, gate, up, down := ls[0], ls[1], ls[2], ls[3], ls[4], ls[5], ls[6]
	search := func(group []*linear, h *gptq.Hessian, tie []int) ([]float32, error) {
		var in []awq.Linear
		for _, li := range group {
			in = append(in, awq.Linear{W: li.w, Rows: li.rows, Grid: lq.gridOf(li.p)})
		}
		r, err := awq.SearchScale(in, h, nil, tie, lq.awqOpts())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", group[0].p.Name, err)
		}
		return r.Scales, nil
	}
	s1, err := search([]*linear{q, k, v}, hs[inAttn], nil)
	if err != nil {
		return err
	}
	// o's input channels belong to query heads; their scales fold into
	// v's rows, so heads sharing a KV head share scales.
	c := &lq.mm.Config
	hd, group := c.HeadDim, c.HeadCount/c.HeadCountKV
	tie := make([]int, o.cols)
	for ch := range tie {
		tie[ch] = (ch/hd/group)*hd + ch%hd
	}
	s2, err := search([]*linear{o}, hs[inAttnOut], tie)
	if err != nil {
		return err
	}
	t := make([]float32, v.rows)
	for ch, kv := range tie {
		t[kv] = s2[ch]
	}
	s3, err := search([]*linear{gate, up}, hs[inFFN], nil)
	if err != nil {
		return err
	}
	s4, err := search([]*linear{down}, hs[inDown], nil)
	if err != nil {
		return err
	}
	for _, li := range []*linear{q, k, v} {
		li.colScale = s1
	}
	v.rowScale = t
	o.colScale = s2
	gate.colScale, up.colScale = s3, s3
	up.rowScale = s4
	down.colScale = s4
	lq.extra[fmt.Sprintf("awq.%d.attn", l)] = encodeF32s(s1)
	lq.extra[fmt.Sprintf("awq.%d.v", l)] = encodeF32s(t)
	lq.extra[fmt.Sprintf("awq.%d.o", l)] = encodeF32s(s2)
	lq.extra[fmt.Sprintf("awq.%d.ffn", l)] = encodeF32s(s3)
	lq.extra[fmt.Sprintf("awq.%d.down", l)] = encodeF32s(s4)
	for _, li := range ls {
		li.ws = make([]float32, len(li.w))
		for r := 0; r < li.rows; r++ {
			rs := float32(1)
			if li.rowScale != nil {
				rs = 1 / li.rowScale[r]
			}
			for ch := 0; ch < li.cols; ch++ {
				li.ws[r*li.cols+ch] = li.w[r*li.cols+ch] * rs * li.colScale[ch]
			}
		}
		h := hs[li.in]
		_, imw := awq.ScaledWeights(nil, 0, li.cols, li.colScale, h.MeanSquares())
		if !lq.o.AWQ.NoClip && li != q && li != k {
			if _, err := awq.SearchClip(li.ws, li.rows, li.cols, h, li.colScale, imw, lq.gridOf(li.p), lq.awqOpts()); err != nil {
				return fmt.Errorf("%s: %w", li.p.Name, err)
			}
		}
		data, qi, deq, err := lq.quantizeAs(li, li.ws, imw)
		if err != nil {
			return err
		}
		if err := lq.finish(li, data, qi, deq, h, "awq"); err != nil {
			return err
		}
	}
	// The folded scales: norms and v's bias.
	for _, fold := range []struct {
		name string
		div  []float32
	}{{fmt.Sprintf("blk.%d.attn_norm.weight", l), s1}, {fmt.Sprintf("blk.%d.ffn_norm.weight", l), s3}, {fmt.Sprintf("blk.%d.attn_v.bias", l), t}} {
		p := lq.plans[fold.name]
		if p == nil {
			continue
		}
		x, err := readF32(p)
		if err != nil {
			return err
		}
		if len(x) != len(fold.div) {
			return fmt.Errorf("quantize: %s has %d values, AWQ scales %d", fold.name, len(x), len(fold.div))
		}
		for i := range x {
			x[i] /= fold.div[i]
		}
		tr := p.report()
		tr.Method = "awq"
		tr.Note = "AWQ scales folded in"
		if err := lq.sink(p, nil, nil, x, tr); err != nil {
			return err
		}
	}
	return nil
}

// output quantizes output.weight with the calibrated method (GPTQ, or
// AWQ with its scales folded into output_norm), from the inputs of the
// quantized model.
func (lq *layerQuantizer) output() error {
	p := lq.plans["output.weight"]
	if p == nil || !p.Quantize || lq.scheme != nil {
		return nil
	}
	names := []string{"output.weight"}
	if lq.o.Method == MethodAWQ {
		names = append(names, "output_norm.weight")
	}
	all := true
	for _, n := range names {
		all = all && lq.done(n)
	}
	if all {
		return lq.restore(-1)
	}
	w, err := readF32(p)
	if err != nil {
		return err
	}
	li := &linear{p: p, w: w, rows: int(p.Shape[0]), cols: int(p.Shape[1]), in: inOutput}
	cs := time.Now()
	hs, err := lq.cr.collect(lq.ctx, -1, inOutput, inOutput)
	if err != nil {
		return err
	}
	lq.calibS += since(cs)
	h := hs[inOutput]
	if lq.o.Method == MethodGPTQ {
		return lq.gptqGroup([]*linear{li}, h)
	}
	r, err := awq.SearchScale([]awq.Linear{{W: w, Rows: li.rows, Grid: lq.gridOf(p)}}, h, nil, nil, lq.awqOpts())
	if err != nil {
		return err
	}
	li.colScale = r.Scales
	lq.extra["awq.out"] = encodeF32s(r.Scales)
	li.ws, _ = awq.ScaledWeights(w, li.rows, li.cols, r.Scales, nil)
	_, imw := awq.ScaledWeights(nil, 0, li.cols, r.Scales, h.MeanSquares())
	if !lq.o.AWQ.NoClip {
		if _, err := awq.SearchClip(li.ws, li.rows, li.cols, h, r.Scales, imw, lq.gridOf(p), lq.awqOpts()); err != nil {
			return err
		}
	}
	data, _, deq, err := lq.quantizeAs(li, li.ws, imw)
	if err != nil {
		return err
	}
	if err := lq.finish(li, data, nil, deq, h, "awq"); err != nil {
		return err
	}
	np := lq.plans["output_norm.weight"]
	x, err := readF32(np)
	if err != nil {
		return err
	}
	for i := range x {
		x[i] /= r.Scales[i]
	}
	tr := np.report()
	tr.Method, tr.Note = "awq", "AWQ scales folded in"
	return lq.sink(np, nil, nil, x, tr)
}

// reinstall puts a block already quantized (layer -1: the output
// projection) back into the engine, for a resumed run: deq returns each
// linear's stored weights dequantized, in the coordinates they were
// quantized in; AWQ's scales (kept in lq.extra) are undone exactly as
// finish undid them, so the engine holds the same float32 weights as in
// the run that quantized the block.
func (lq *layerQuantizer) reinstall(l int, deq func(p *TensorPlan) ([]float32, error)) error {
	var names []string
	if l >= 0 {
		for _, s := range linearSuffixes {
			names = append(names, fmt.Sprintf("blk.%d.%s.weight", l, s))
		}
	} else {
		names = []string{"output.weight"}
	}
	for _, name := range names {
		p := lq.plans[name]
		if p == nil {
			return fmt.Errorf("quantize: block %d has no %s", l, name)
		}
		w, err := deq(p)
		if err != nil {
			return fmt.Errorf("quantize: resuming %s: %w", name, err)
		}
		rows, cols := int(p.Shape[0]), int(p.Shape[1])
		if len(w) != rows*cols {
			return fmt.Errorf("quantize: resuming %s: %d stored weights for [%d, %d]", name, len(w), rows, cols)
		}
		var col, row []float32
		key := func(k string) string { return fmt.Sprintf("awq.%d.%s", l, k) }
		if lq.o.Method == MethodAWQ {
			switch inputOf(name) {
			case inAttn:
				col, err = decodeF32s(lq.extra[key("attn")])
				if err == nil && name == fmt.Sprintf("blk.%d.attn_v.weight", l) {
					row, err = decodeF32s(lq.extra[key("v")])
				}
			case inAttnOut:
				col, err = decodeF32s(lq.extra[key("o")])
			case inFFN:
				col, err = decodeF32s(lq.extra[key("ffn")])
				if err == nil && name == fmt.Sprintf("blk.%d.ffn_up.weight", l) {
					row, err = decodeF32s(lq.extra[key("down")])
				}
			case inDown:
				col, err = decodeF32s(lq.extra[key("down")])
			case inOutput:
				col, err = decodeF32s(lq.extra["awq.out"])
			}
			if err != nil {
				return fmt.Errorf("quantize: resuming %s: %w", name, err)
			}
			if len(col) != cols || (row != nil && len(row) != rows) {
				return fmt.Errorf("quantize: resuming %s: the partial state's AWQ scales do not fit [%d, %d]", name, rows, cols)
			}
		}
		for r := 0; r < rows; r++ {
			for c := 0; c < cols; c++ {
				v := w[r*cols+c]
				if row != nil {
					v *= row[r]
				}
				if col != nil {
					v /= col[c]
				}
				w[r*cols+c] = v
			}
		}
		if err := lq.mm.ReplaceWeightF32(name, w); err != nil {
			return err
		}
	}
	return nil
}

func encodeF32s(v []float32) string {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return base64.StdEncoding.EncodeToString(b)
}

func decodeF32s(s string) ([]float32, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b)%4 != 0 {
		return nil, fmt.Errorf("quantize: bad scales in the partial state")
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v, nil
}

// isBlockLinear reports a block's linear weight.
func isBlockLinear(name string) bool {
	return strings.HasPrefix(name, "blk.") && inputOf(name) >= 0
}
