package quantize

import (
	"context"
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

// runHF writes a GPTQ or compressed-tensors folder: RTN through
// hfquant.Export, or GPTQ/AWQ block by block with the integer matrices
// handed to it. AWQ's scales are folded into the norms of a temporary
// copy of the model that the export reads. HF-format runs are not
// resumable.
func runHF(ctx context.Context, m *modelfile.Model, out string, o *Options, r *Report, start time.Time) (*Report, error) {
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
	for _, name := range targets {
		t := m.Tensor(name)
		if err := s.Validate(int(t.Shape[1])); err != nil {
			return nil, fmt.Errorf("%w: tensor %s: %w", ErrInput, name, err)
		}
	}
	r.FileType = fmt.Sprintf("int%d-g%d-%s", s.Bits, s.GroupSize, map[bool]string{true: "sym", false: "asym"}[s.Sym])
	src := m
	reports := map[string]*TensorReport{}
	if o.Method != MethodRTN {
		qs, norms, err := hfCalibrated(ctx, m, o, &s, reports, r)
		if err != nil {
			return nil, err
		}
		eo.Quantized = qs
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
	}
	if o.Progress != nil {
		eo.WriteOptions.Progress = func(name string, done, total int64) {
			o.Progress(Progress{Tensor: name, Bytes: done, TotalBytes: total, Elapsed: time.Since(start), Stage: "write",
				Fraction: float64(done) / float64(max(total, 1))})
		}
	}
	if err := hfquant.Export(src, out, eo); err != nil {
		return nil, err
	}
	for _, name := range targets {
		t := m.Tensor(name)
		tr := reports[name]
		if tr == nil {
			tr = &TensorReport{Name: name, Shape: t.Shape, Src: srcType(t).String(), Method: "rtn"}
		}
		tr.Type = r.FileType
		r.Tensors = append(r.Tensors, *tr)
		r.Types[tr.Type]++
	}
	r.Bytes = dirBytes(out)
	if r.Params > 0 {
		r.BPW = 8 * float64(r.Bytes) / float64(r.Params)
	}
	r.Seconds = time.Since(start).Seconds()
	return r, nil
}

// hfCalibrated runs GPTQ or AWQ onto the integer grid s, block by block.
func hfCalibrated(ctx context.Context, m *modelfile.Model, o *Options, s *spec.Scheme, reports map[string]*TensorReport, r *Report) (map[string]*spec.Quantized, map[string][]float32, error) {
	mm, err := model.Load(m, model.Options{Threads: o.Threads})
	if err != nil {
		return nil, nil, err
	}
	cr, err := newCalibRunner(mm, o.Calib)
	if err != nil {
		return nil, nil, err
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
	qs := map[string]*spec.Quantized{}
	norms := map[string][]float32{}
	lq := &layerQuantizer{ctx: ctx, o: o, mm: mm, cr: cr, plans: plans, scheme: s, extra: map[string]string{}, log: o.log}
	lq.done = func(string) bool { return false }
	lq.restore = func(int) error { return nil }
	done := 0
	lq.sink = func(p *TensorPlan, _ []byte, q *spec.Quantized, f32 []float32, tr *TensorReport) error {
		if q != nil {
			qs[p.Name] = q
		}
		if f32 != nil {
			norms[p.Name] = f32
		}
		reports[p.Name] = tr
		done++
		if o.Progress != nil {
			o.Progress(Progress{Tensor: p.Name, Done: done, Stage: "calibrate", Layer: lq.layerNow,
				Fraction: float64(lq.layerNow+1) / float64(m.Config.BlockCount+1)})
		}
		return nil
	}
	for l := 0; l < m.Config.BlockCount; l++ {
		lq.layerNow = l
		if err := lq.block(l); err != nil {
			return nil, nil, err
		}
	}
	r.CalibSeconds = lq.calibS
	return qs, norms, nil
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
