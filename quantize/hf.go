package quantize

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/lmc-project/lmc/gguf"
	"github.com/lmc-project/lmc/hf"
	"github.com/lmc-project/lmc/hfquant"
	"github.com/lmc-project/lmc/hfquant/spec"
	"github.com/lmc-project/lmc/model"
	"github.com/lmc-project/lmc/modelfile"
	"github.com/lmc-project/lmc/tensor"
)

// scheme returns the integer grid of an HF-format run.
func (o *Options) scheme() spec.Scheme {
	hfFormat := hfquant.FormatGPTQ
	if o.Format == FormatCompressedTensors {
		hfFormat = hfquant.FormatCompressedTensors
	}
	eo := hfquant.ExportOptions{Format: hfFormat, Scheme: &spec.Scheme{Bits: o.Grid.Bits, GroupSize: o.Grid.GroupSize, Sym: !o.Grid.Asym}}
	return eo.DefaultScheme()
}

// runHF writes a GPTQ or compressed-tensors folder: every linear layer is
// quantized (RTN, or GPTQ/AWQ block by block) into the partial state
// OUT.partial/ (see hfOut), then hfquant.Export writes the folder from
// it, one layer in memory at a time, atomically. AWQ's scales are folded
// into the norms of a temporary copy of the model that the export reads.
// A run that stops halfway continues from the finished tensors.
func runHF(ctx context.Context, m *modelfile.Model, out string, o *Options, r *Report, start time.Time) (_ *Report, err error) {
	switch o.Format {
	case FormatGPTQ, FormatCompressedTensors:
	default:
		return nil, fmt.Errorf("quantize: output format %q: want gguf, gptq or compressed-tensors", o.Format)
	}
	hfFormat := hfquant.FormatGPTQ
	if o.Format == FormatCompressedTensors {
		hfFormat = hfquant.FormatCompressedTensors
	}
	s := o.scheme()
	if err := s.Validate(max(s.GroupSize, 1)); err != nil {
		return nil, err
	}
	eo := hfquant.ExportOptions{Format: hfFormat, Scheme: &s}
	targets := hfquant.Targets(m)
	if len(targets) == 0 {
		return nil, fmt.Errorf("%w: %s has no linear layers to quantize", ErrInput, m.Path)
	}
	infos := make([]gguf.TensorInfo, 0, len(targets))
	for _, name := range targets {
		t := m.Tensor(name)
		if err := s.Validate(int(t.Shape[1])); err != nil {
			return nil, fmt.Errorf("%w: tensor %s: %w", ErrInput, name, err)
		}
		infos = append(infos, gguf.TensorInfo{Name: name, Shape: []uint64{uint64(t.Shape[1]), uint64(t.Shape[0])}, Type: srcType(t)})
	}
	if st, err := os.Stat(out); err == nil {
		what := "folder"
		if !st.IsDir() {
			what = "file"
		}
		return nil, fmt.Errorf("quantize: output %s already exists (a %s); remove it or choose another output", out, what)
	}
	r.FileType = fmt.Sprintf("int%d-g%d-%s", s.Bits, s.GroupSize, map[bool]string{true: "sym", false: "asym"}[s.Sym])
	key, err := runKey(r.Inputs, o, nil, infos)
	if err != nil {
		return nil, err
	}
	key = hfKey(key, s)
	h, err := openHFOut(out, key, !o.NoResume, o.log)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			abandon(h, err)
		}
	}()
	if h.resumed > 0 {
		o.log(fmt.Sprintf("resuming %s: %d tensors already done", h.dir, h.resumed))
	}
	plans := map[string]*TensorPlan{}
	for _, t := range m.Tensors {
		st := srcType(t)
		p := &TensorPlan{Name: t.Name, Shape: t.Shape, Src: st, Type: st, Wanted: st, Layer: hf.Layer(t.Name), src: t}
		if len(t.Shape) == 1 {
			p.Type = gguf.TypeF32
		}
		p.Quantize = isBlockLinear(t.Name)
		plans[t.Name] = p
	}
	// The first part of the run (quantizing) ends at writeFrom of the
	// progress fraction, the export takes the rest.
	writeFrom := 0.5
	if o.Method != MethodRTN {
		writeFrom = 0.95
	}
	if o.Method == MethodRTN {
		err = hfRTN(ctx, m, o, &s, h, plans, targets, start, writeFrom)
	} else {
		err = hfCalibrated(ctx, m, o, &s, h, plans, r, start, writeFrom)
	}
	if err != nil {
		return nil, err
	}
	for _, name := range targets {
		if !h.done(name) {
			return nil, fmt.Errorf("quantize: internal error: %s was not quantized", name)
		}
	}
	if err = ctx.Err(); err != nil {
		return nil, err
	}
	eo.Load = h.quantized
	eo.ActOrder = h.actOrder()
	src := m
	norms, err := h.floats()
	if err != nil {
		return nil, err
	}
	if len(norms) > 0 {
		tmp, err := os.MkdirTemp("", "lmc-awq-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		if src, err = withTensors(m, filepath.Join(tmp, "scaled.gguf"), norms); err != nil {
			return nil, err
		}
		defer src.Close()
	}
	if o.Progress != nil {
		eo.WriteOptions.Progress = func(name string, done, total int64) {
			f := float64(done) / float64(max(total, 1))
			o.Progress(Progress{Tensor: name, Bytes: done, TotalBytes: total, Elapsed: time.Since(start), Stage: "write",
				Fraction: writeFrom + (1-writeFrom)*f})
		}
	}
	if err = hfquant.Export(src, out, eo); err != nil {
		return nil, err
	}
	h.commit()
	ok = true
	for _, name := range targets {
		tr := *h.state.Done[name]
		tr.Type = r.FileType
		r.Tensors = append(r.Tensors, tr)
		r.Types[tr.Type]++
		if tr.Resumed {
			r.Resumed++
		}
	}
	r.Bytes = dirBytes(out)
	if r.Params > 0 {
		r.BPW = 8 * float64(r.Bytes) / float64(r.Params)
	}
	r.Seconds = time.Since(start).Seconds()
	return r, nil
}

// hfKey mixes the integer grid and the layout of the partial state into a
// run's key.
func hfKey(key string, s spec.Scheme) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s hf-state %d scheme %d %d %v %d", key, hfStateVersion, s.Bits, s.GroupSize, s.Sym, s.ScaleDType)))
	return hex.EncodeToString(sum[:])
}

// hfRTN rounds every linear layer not yet in the partial state to nearest
// on the grid s, as hfquant.Export would.
func hfRTN(ctx context.Context, m *modelfile.Model, o *Options, s *spec.Scheme, h *hfOut, plans map[string]*TensorPlan, targets []string, start time.Time, upto float64) error {
	minZero := 0
	if o.Format == FormatGPTQ && !s.Sym {
		minZero = 1 // GPTQ's v1 checkpoints store zero − 1
	}
	for i, name := range targets {
		if !h.done(name) {
			if err := ctx.Err(); err != nil {
				return err
			}
			p := plans[name]
			w, err := readF32(p)
			if err != nil {
				return fmt.Errorf("%s: %w", m.Path, err)
			}
			q, err := hfquant.QuantizeRTNWith(w, int(p.Shape[0]), int(p.Shape[1]), *s, hfquant.RTNOptions{MinZero: minZero})
			if err != nil {
				return fmt.Errorf("tensor %s: %w", name, err)
			}
			tr := &TensorReport{Name: name, Shape: p.Shape, Src: p.Src.String(), Method: "rtn"}
			if err := h.put(name, q, nil, tr); err != nil {
				return err
			}
		}
		if o.Progress != nil {
			o.Progress(Progress{Tensor: name, Done: i + 1, Total: len(targets), Elapsed: time.Since(start), Stage: "quantize",
				Fraction: upto * float64(i+1) / float64(len(targets))})
		}
	}
	return nil
}

// hfCalibrated runs GPTQ or AWQ onto the integer grid s, block by block,
// into the partial state; blocks already there are put back into the
// engine instead.
func hfCalibrated(ctx context.Context, m *modelfile.Model, o *Options, s *spec.Scheme, h *hfOut, plans map[string]*TensorPlan, r *Report, start time.Time, upto float64) error {
	mm, err := model.Load(m, model.Options{Threads: o.Threads})
	if err != nil {
		return err
	}
	cr, err := newCalibRunner(mm, o.Calib)
	if err != nil {
		return err
	}
	lq := &layerQuantizer{ctx: ctx, o: o, mm: mm, cr: cr, plans: plans, scheme: s, extra: h.state.Extra, log: o.log}
	lq.done = h.done
	done := 0
	progress := func(name, stage string) {
		done++
		if o.Progress != nil {
			o.Progress(Progress{Tensor: name, Done: done, Stage: stage, Layer: lq.layerNow, Elapsed: time.Since(start),
				Fraction: upto * float64(lq.layerNow+1) / float64(m.Config.BlockCount)})
		}
	}
	lq.restore = func(l int) error {
		err := lq.reinstall(l, func(p *TensorPlan) ([]float32, error) {
			q, err := h.quantized(p.Name)
			if err != nil {
				return nil, err
			}
			if q == nil || q.Rows != int(p.Shape[0]) || q.Cols != int(p.Shape[1]) {
				return nil, fmt.Errorf("no stored matrix of its shape in %s", h.dir)
			}
			deq := make([]float32, q.Rows*q.Cols)
			q.Dequantize(deq)
			return deq, nil
		})
		if err != nil {
			return err
		}
		for _, n := range lq.blockTensors(l) {
			progress(n, "resume")
		}
		return nil
	}
	lq.sink = func(p *TensorPlan, _ []byte, q *spec.Quantized, f32 []float32, tr *TensorReport) error {
		if err := h.put(p.Name, q, f32, tr); err != nil {
			return err
		}
		progress(p.Name, "calibrate")
		return nil
	}
	for l := 0; l < m.Config.BlockCount; l++ {
		lq.layerNow = l
		if err := lq.block(l); err != nil {
			return err
		}
	}
	r.CalibSeconds = lq.calibS
	return nil
}

// withTensors writes m to path as GGUF with some tensors' values replaced
// (float32, stored as F32) and opens the result.
func withTensors(m *modelfile.Model, path string, repl map[string][]float32) (*modelfile.Model, error) {
	if err := modelfile.WriteGGUF(m, path, nil); err != nil {
		return nil, err
	}
	f, err := gguf.Open(path)
	if err != nil {
		return nil, err
	}
	type patch struct {
		off  int64
		data []byte
	}
	var patches []patch
	for name, v := range repl {
		ti, ok := f.Tensor(name)
		if !ok || ti.Type != gguf.TypeF32 || int(ti.NumElements()) != len(v) {
			f.Close()
			return nil, fmt.Errorf("quantize: cannot replace %s in the temporary copy", name)
		}
		b := make([]byte, 4*len(v))
		if err := tensor.EncodeF32(b, tensor.F32, v); err != nil {
			f.Close()
			return nil, err
		}
		patches = append(patches, patch{f.DataOffset + int64(ti.Offset), b})
	}
	f.Close()
	fh, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	for _, p := range patches {
		if _, err := fh.WriteAt(p.data, p.off); err != nil {
			fh.Close()
			return nil, err
		}
	}
	if err := fh.Close(); err != nil {
		return nil, err
	}
	return modelfile.Open(path, nil)
}

// dirBytes sums the sizes of the files under dir (or of the file dir).
func dirBytes(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n += info.Size()
		}
		return nil
	})
	return n
}
