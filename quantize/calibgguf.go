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
// (layer -1: the output projection), for a resumed run: ggml weights as
// they are, AWQ's with their scales undone.
func (rs *runState) restore(lq *layerQuantizer, l int) error {
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
		data, err := rs.out.read(name)
		if err != nil {
			return err
		}
		rows, cols := int(p.Shape[0]), int(p.Shape[1])
		deq := make([]float32, rows*cols)
		if err := decodeRows(deq, data, p.Type); err != nil {
			return err
		}
		var col, row []float32
		key := func(k string) string { return fmt.Sprintf("awq.%d.%s", l, k) }
		if rs.o.Method == MethodAWQ {
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
				return err
			}
		}
		for r := 0; r < rows; r++ {
			for c := 0; c < cols; c++ {
				v := deq[r*cols+c]
				if row != nil {
					v *= row[r]
				}
				if col != nil {
					v /= col[c]
				}
				deq[r*cols+c] = v
			}
		}
		if err := lq.mm.ReplaceWeightF32(name, deq); err != nil {
			return err
		}
	}
	for _, n := range lq.blockTensors(l) {
		rs.progress(n)
	}
	return nil
}
