package quantize

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/lmc-project/lmc/gguf"
	"github.com/lmc-project/lmc/internal/provenance"
	"github.com/lmc-project/lmc/modelfile"
	"github.com/lmc-project/lmc/quant/imatrix"
)

// llama.cpp's metadata keys for quantized files.
const (
	keyFileType     = "general.file_type"
	keyQuantVersion = "general.quantization_version"
	keyImatrixFile  = "quantize.imatrix.file"
	keyImatrixData  = "quantize.imatrix.dataset"
	keyImatrixN     = "quantize.imatrix.entries_count"
	keyImatrixChunk = "quantize.imatrix.chunks_count"
)

// Run quantizes m into out and returns what it wrote. GGUF output
// reproduces llama-quantize: the same per-tensor types, the same blocks
// (without an importance matrix, every block of the reference files), the
// same metadata (the source's, plus general.quantization_version 2 and
// general.file_type) and tensor order. Tensors are converted one at a time
// (rows in parallel chunks), so memory stays near one tensor; calibrated
// methods go block by block. The output appears at out only when complete;
// until then it grows in out.partial, with a state file that lets a run
// killed halfway continue (unless o.NoResume). Errors name the tensor, and
// the row and column of a NaN or ±Inf weight (ErrNonFinite).
func Run(ctx context.Context, m *modelfile.Model, out string, o Options) (*Report, error) {
	start := time.Now()
	if o.Method == "" {
		o.Method = MethodRTN
	}
	if o.Format == "" {
		o.Format = FormatGGUF
	}
	switch o.Method {
	case MethodRTN, MethodGPTQ, MethodAWQ:
	default:
		return nil, fmt.Errorf("quantize: method %q: want rtn, gptq or awq", o.Method)
	}
	if o.Method != MethodRTN && o.Calib == nil {
		return nil, fmt.Errorf("%w: %s needs calibration text", ErrInput, o.Method)
	}
	if o.Calib != nil && o.Imatrix != nil && o.Method == MethodRTN {
		return nil, fmt.Errorf("%w: give an importance matrix or calibration text, not both", ErrInput)
	}
	r := &Report{Output: out, Format: o.Format, Method: o.Method, Types: map[string]int{}, Params: m.ParamCount()}
	var err error
	if r.Inputs, err = provenance.HashPaths(m.Inputs...); err != nil {
		return nil, err
	}
	if o.Format != FormatGGUF {
		return runHF(ctx, m, out, &o, r, start)
	}
	if !o.FileType.Known() {
		return nil, fmt.Errorf("quantize: unknown file type %d", int(o.FileType))
	}
	r.FileType = o.FileType.String()
	plans, notes, err := Plan(m, &o)
	if err != nil {
		return nil, err
	}
	for _, p := range plans {
		if !writable(p.Type) {
			return nil, fmt.Errorf("quantize: %s: the %s mix stores it as %s, which lmc cannot write yet", p.Name, o.FileType, p.Type)
		}
	}
	r.Notes = append(r.Notes, notes...)
	plans, err = withRopeFreqs(m, plans)
	if err != nil {
		return nil, err
	}
	// An importance matrix computed from the calibration text.
	if o.Method == MethodRTN && o.Calib != nil {
		cs := time.Now()
		if o.Imatrix, err = calibImatrix(ctx, m, o.Calib, o.log); err != nil {
			return nil, err
		}
		r.CalibSeconds = time.Since(cs).Seconds()
		o.ImatrixFile = ""
	}
	if o.Imatrix != nil {
		if err := o.Imatrix.Check(imatrixTensors(plans)); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInput, err)
		}
		if o.ImatrixFile != "" {
			r.Imatrix = o.ImatrixFile
		}
	}
	if o.Calib != nil {
		r.Calib = o.Calib.Name
	}
	kvs, err := outputKVs(m, &o)
	if err != nil {
		return nil, err
	}
	infos := make([]gguf.TensorInfo, len(plans))
	for i, p := range plans {
		shape := make([]uint64, len(p.Shape))
		for k, d := range p.Shape {
			shape[len(shape)-1-k] = uint64(d)
		}
		infos[i] = gguf.TensorInfo{Name: p.Name, Shape: shape, Type: p.Type}
	}
	key, err := runKey(r.Inputs, &o, kvs, infos)
	if err != nil {
		return nil, err
	}
	g, err := openGGUFOut(out, kvs, infos, key, !o.NoResume, o.log)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			abandon(g, err)
		}
	}()
	if g.resumed > 0 {
		o.log(fmt.Sprintf("resuming %s: %d of %d tensors already done", g.partial, g.resumed, len(plans)))
	}
	rs := &runState{ctx: ctx, m: m, o: &o, plans: plans, out: g, start: start, report: r}
	for _, ti := range g.infos {
		rs.totalBytes += int64(ti.Size())
	}
	if o.Method == MethodRTN {
		err = rs.rtnAll()
	} else {
		err = rs.calibrated()
	}
	if err != nil {
		return nil, err
	}
	if err = g.commit(); err != nil {
		return nil, err
	}
	ok = true
	for _, p := range plans {
		tr := g.done(p.Name)
		r.Tensors = append(r.Tensors, *tr)
		r.Types[p.Type.String()]++
		if tr.Resumed {
			r.Resumed++
		}
	}
	r.Bytes = g.total
	if r.Params > 0 {
		r.BPW = 8 * float64(r.Bytes) / float64(r.Params)
	}
	r.Seconds = time.Since(start).Seconds()
	return r, nil
}

func (o *Options) log(s string) {
	if o.Log != nil {
		o.Log(s)
	}
}

// runState is one GGUF run in progress.
type runState struct {
	ctx        context.Context
	m          *modelfile.Model
	o          *Options
	plans      []*TensorPlan
	out        *ggufOut
	report     *Report
	start      time.Time
	done       int
	bytes      int64
	totalBytes int64
	layer      int
	stage      string
}

func (rs *runState) progress(name string) {
	rs.done++
	if i, ok := rs.out.index[name]; ok {
		rs.bytes += int64(rs.out.infos[i].Size())
	}
	if rs.o.Progress != nil {
		frac := 0.0
		if rs.totalBytes > 0 {
			frac = float64(rs.bytes) / float64(rs.totalBytes)
		}
		rs.o.Progress(Progress{Tensor: name, Done: rs.done, Total: len(rs.plans), Bytes: rs.bytes, TotalBytes: rs.totalBytes,
			Elapsed: time.Since(rs.start), Stage: rs.stage, Layer: rs.layer, Fraction: frac})
	}
}

// rtnAll converts every tensor not yet in the partial output.
func (rs *runState) rtnAll() error {
	rs.stage = "quantize"
	for _, p := range rs.plans {
		if err := rs.ctx.Err(); err != nil {
			return err
		}
		if rs.out.done(p.Name) != nil {
			rs.progress(p.Name)
			continue
		}
		if err := rs.rtnTensor(p); err != nil {
			return err
		}
		rs.progress(p.Name)
	}
	return nil
}

// report returns the base report of a tensor.
func (p *TensorPlan) report() *TensorReport {
	r := &TensorReport{Name: p.Name, Shape: p.Shape, Src: p.Src.String(), Type: p.Type.String(), Bytes: p.Bytes(), Note: p.Note}
	if p.Wanted != p.Type {
		r.Wanted = p.Wanted.String()
	}
	return r
}

// geometry returns a tensor's row length, rows per matrix and matrices.
func (p *TensorPlan) geometry() (cols, rowsPer, mats int) {
	cols = int(p.Shape[len(p.Shape)-1])
	rowsPer, mats = 1, 1
	if len(p.Shape) >= 2 {
		rowsPer = int(p.Shape[len(p.Shape)-2])
	}
	for _, d := range p.Shape[:max(0, len(p.Shape)-2)] {
		mats *= int(d)
	}
	return
}

// rtnTensor converts one tensor with the block quantizers (importance
// weighted when the run has an importance matrix).
func (rs *runState) rtnTensor(p *TensorPlan) error {
	tr := p.report()
	var data []byte
	if p.src == nil { // synthesized (rope_freqs)
		data = f32Bytes(rs.m.Config.Llama3RopeFreqs())
	} else {
		raw, err := p.src.Read()
		if err != nil {
			return fmt.Errorf("%s: tensor %s: %w", rs.m.Path, p.Name, err)
		}
		defer p.src.Release()
		if !p.Quantize {
			data = raw
		} else {
			cols, rowsPer, _ := p.geometry()
			imw := rs.o.Imatrix.Weights(p.Name)
			if imw == nil && rs.o.Imatrix != nil && p.Type.Quantized() && strings.HasPrefix(p.Name, "blk.") {
				rs.o.log(fmt.Sprintf("no importance data for %s: quantized without", p.Name))
			}
			data = make([]byte, p.Bytes())
			j := &convertJob{name: p.Name, src: raw, srcType: p.Src, dst: data, dstType: p.Type, cols: cols,
				rowsPer: rowsPer, imw: imw, measureW: imw, threads: rs.o.Threads, stats: true}
			if !p.Type.Quantized() {
				j.imw = nil
			}
			st, err := j.run()
			if err != nil {
				return err
			}
			st.fill(tr, imw != nil)
			tr.Method = "rtn"
			if imw != nil && p.Type.Quantized() {
				tr.Method = "imatrix"
			}
		}
	}
	return rs.out.write(p.Name, data, tr)
}

// withRopeFreqs adds llama3's rope_freqs.weight when the source lacks it,
// as modelfile's GGUF writer does.
func withRopeFreqs(m *modelfile.Model, plans []*TensorPlan) ([]*TensorPlan, error) {
	if m.Config.RopeScaling != "llama3" || m.Tensor("rope_freqs.weight") != nil {
		return plans, nil
	}
	p := &TensorPlan{Name: "rope_freqs.weight", Shape: []int64{int64(m.Config.HeadDim / 2)}, Src: gguf.TypeF32,
		Type: gguf.TypeF32, Wanted: gguf.TypeF32, Layer: -1}
	plans = append(plans, p)
	llamaOrder(plans)
	return plans, nil
}

func f32Bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// imatrixTensors lists the quantized weights for imatrix.Matrix.Check.
func imatrixTensors(plans []*TensorPlan) []imatrix.Tensor {
	var ts []imatrix.Tensor
	for _, p := range plans {
		if len(p.Shape) < 2 {
			continue
		}
		cols, _, mats := p.geometry()
		ts = append(ts, imatrix.Tensor{Name: p.Name, Cols: cols, Mats: mats})
	}
	return ts
}

// setKV replaces the value of kv.Key in place, or appends it (gguf_set_val).
func setKV(kvs []gguf.KV, kv gguf.KV) []gguf.KV {
	for i := range kvs {
		if kvs[i].Key == kv.Key {
			kvs[i] = kv
			return kvs
		}
	}
	return append(kvs, kv)
}

// outputKVs returns the output's metadata as llama-quantize writes it: the
// source's KVs, general.quantization_version 2 and general.file_type set
// (in place when present), split keys removed, and the importance matrix
// keys when one is used.
func outputKVs(m *modelfile.Model, o *Options) ([]gguf.KV, error) {
	var kvs []gguf.KV
	if m.Format == "gguf" && len(m.SourceKVs) > 0 {
		kvs = append(kvs, m.SourceKVs...)
	} else {
		p, err := modelfile.PlanGGUF(m, nil)
		if err != nil {
			return nil, err
		}
		kvs = append(kvs, p.KVs...)
	}
	kvs = setKV(kvs, gguf.KV{Key: keyQuantVersion, Value: gguf.Uint32(2)})
	kvs = setKV(kvs, gguf.KV{Key: keyFileType, Value: gguf.Uint32(uint32(o.FileType))})
	out := kvs[:0]
	for _, kv := range kvs {
		switch kv.Key {
		case "split.no", "split.count", "split.tensors.count":
			continue
		}
		out = append(out, kv)
	}
	kvs = out
	if im := o.Imatrix; im != nil && o.Method == MethodRTN {
		file := o.ImatrixFile
		if file == "" && o.Calib != nil {
			file = "(computed by lmc from " + o.Calib.Name + ")"
		}
		kvs = setKV(kvs, gguf.KV{Key: keyImatrixFile, Value: gguf.String(file)})
		if len(im.Datasets) > 0 {
			kvs = setKV(kvs, gguf.KV{Key: keyImatrixData, Value: gguf.String(im.Datasets[0])})
		}
		kvs = setKV(kvs, gguf.KV{Key: keyImatrixN, Value: gguf.Uint32(uint32(len(im.Entries)))})
		if im.ChunkCount > 0 {
			kvs = setKV(kvs, gguf.KV{Key: keyImatrixChunk, Value: gguf.Uint32(uint32(im.ChunkCount))})
		}
	}
	if o.Method != MethodRTN {
		kvs = setKV(kvs, gguf.KV{Key: "quantize.lmc.method", Value: gguf.String(string(o.Method))})
		if o.Calib != nil {
			kvs = setKV(kvs, gguf.KV{Key: "quantize.lmc.calibration", Value: gguf.String(o.Calib.Name)})
		}
	}
	return kvs, nil
}

// runKey identifies a run's inputs and recipe: a partial output is resumed
// only by a run with the same key.
func runKey(inputs []provenance.FileHash, o *Options, kvs []gguf.KV, infos []gguf.TensorInfo) (string, error) {
	h := sha256.New()
	for _, in := range inputs {
		fmt.Fprintf(h, "in %s %d\n", in.SHA256, in.Bytes)
	}
	rec := map[string]any{"method": o.Method, "file_type": int(o.FileType), "pure": o.Pure, "gptq": o.GPTQ, "awq": o.AWQ,
		"grid": o.Grid, "format": o.Format, "version": stateVersion}
	b, err := json.Marshal(rec)
	if err != nil {
		return "", err
	}
	h.Write(b)
	if im := o.Imatrix; im != nil {
		for _, name := range im.Names() {
			e := im.Entries[name]
			fmt.Fprintf(h, "im %s %d\n", name, e.Cols)
			binary.Write(h, binary.LittleEndian, e.Sum2)
			binary.Write(h, binary.LittleEndian, e.Counts)
		}
	}
	if c := o.Calib; c != nil {
		fmt.Fprintf(h, "calib %d %d %d\n", c.Context, c.Chunks, c.BOS)
		for _, t := range c.Tokens {
			binary.Write(h, binary.LittleEndian, int32(t))
		}
	}
	for _, ti := range infos {
		fmt.Fprintf(h, "t %s %v %d\n", ti.Name, ti.Shape, ti.Type)
	}
	_ = kvs // the header checksum covers the metadata
	return hex.EncodeToString(h.Sum(nil)), nil
}
