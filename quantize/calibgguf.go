package quantize

import (
	"fmt"

	"github.com/lmc-project/lmc/hfquant/spec"
	"github.com/lmc-project/lmc/model"
)

// calibrated runs GPTQ or AWQ block by block into the GGUF output, then
// quantizes what remains (embeddings, norms) as RTN does.
func (rs *runState) calibrated() error {
	mm, err := model.Load(rs.m, model.Options{Threads: rs.o.Threads})
	if err != nil {
		return err
	}
	cr, err := newCalibRunner(mm, rs.o.Calib)
	if err != nil {
		return err
	}
	plans := map[string]*TensorPlan{}
	for _, p := range rs.plans {
		plans[p.Name] = p
	}
	if rs.out.state.Extra == nil {
		rs.out.state.Extra = map[string]string{}
	}
	lq := &layerQuantizer{ctx: rs.ctx, o: rs.o, mm: mm, cr: cr, plans: plans, extra: rs.out.state.Extra, log: rs.o.log}
	lq.done = func(name string) bool { return rs.out.done(name) != nil }
	lq.sink = func(p *TensorPlan, data []byte, _ *spec.Quantized, f32 []float32, tr *TensorReport) error {
		if f32 != nil {
			data = f32Bytes(f32)
			if p.Type != 0 { // F32 is type 0; norms and biases are written as F32
				return fmt.Errorf("quantize: %s: folded scales need an F32 tensor, the plan says %s", p.Name, p.Type)
			}
		}
		if err := rs.out.write(p.Name, data, tr); err != nil {
			return err
		}
		rs.progress(p.Name)
		return nil
	}
	lq.restore = func(l int) error { return rs.restore(lq, l) }
	rs.stage = "calibrate"
	for l := 0; l < rs.m.Config.BlockCount; l++ {
		rs.layer = l
		if err := lq.block(l); err != nil {
			return err
		}
	}
	rs.layer = -1
	if err := lq.output(); err != nil {
		return err
	}
	rs.report.CalibSeconds = lq.calibS
	rs.stage = "quantize"
	for _, p := range rs.plans {
		if rs.out.done(p.Name) != nil {
			continue
		}
		if err := rs.ctx.Err(); err != nil {
			return err
		}
		if err := rs.rtnTensor(p); err != nil {
			return err
		}
		rs.progress(p.Name)
	}
	return nil
}

// restore puts a block already in the partial output back into the engine
// (layer -1: the output projection), for a resumed run.
func (rs *runState) restore(lq *layerQuantizer, l int) error {
	err := lq.reinstall(l, func(p *TensorPlan) ([]float32, error) {
		data, err := rs.out.read(p.Name)
		if err != nil {
			return nil, err
		}
		deq := make([]float32, p.Shape[0]*p.Shape[1])
		if err := decodeRows(deq, data, p.Type); err != nil {
			return nil, err
		}
		return deq, nil
	})
	if err != nil {
		return err
	}
	for _, n := range lq.blockTensors(l) {
		rs.progress(n)
	}
	return nil
}
