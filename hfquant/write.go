package hfquant

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/lmc-project/lmc/hf"
	"github.com/lmc-project/lmc/hfquant/spec"
	"github.com/lmc-project/lmc/internal/atomicfile"
	"github.com/lmc-project/lmc/modelfile"
	"github.com/lmc-project/lmc/quant/fp"
	"github.com/lmc-project/lmc/safetensors"
	"github.com/lmc-project/lmc/tensor"
	"github.com/lmc-project/lmc/tokenizer"
)

// WriteOptions tunes the writers.
type WriteOptions struct {
	// DType stores the tensors that stay unquantized (token embedding,
	// norms, lm_head, biases): F16, BF16 or F32. Invalid means F16 for
	// GPTQ (what GPTQ checkpoints use) and BF16 for compressed-tensors.
	DType tensor.DType
	// CheckpointFormat is GPTQ's: spec.GPTQv1 ("gptq", the default: zero
	// points stored minus 1, what AutoGPTQ, transformers and vLLM read) or
	// spec.GPTQv2 ("gptq_v2", GPTQModel's).
	CheckpointFormat string
	// FP8Dynamic declares dynamic per-token FP8 input activations (W8A8,
	// vLLM's FP8_DYNAMIC scheme) in a float-quantized checkpoint; false
	// writes a weight-only (W8A16) one. No tensor changes.
	FP8Dynamic bool
	// Force replaces an existing output folder.
	Force bool
	// MaxShardBytes splits the weights into model-0000i-of-0000n files of
	// at most this many bytes (0: one model.safetensors).
	MaxShardBytes int64
	// Progress, when set, is called after each tensor written with the
	// bytes written so far and the total.
	Progress func(name string, done, total int64)
}

var linearRE = regexp.MustCompile(`^blk\.\d+\.(attn_q|attn_k|attn_v|attn_output|ffn_gate|ffn_up|ffn_down)\.weight$`)

// IsLinear reports whether a GGUF tensor name is one of the linear layers
// the exporters quantize: the attention and feed-forward projections of
// every block (transformers' and vLLM's quantized Linear modules). The
// token embedding and the output projection (lm_head) stay dense, as in
// GPTQ ("lm_head": false) and compressed-tensors ("ignore": ["lm_head"])
// checkpoints.
func IsLinear(name string) bool { return linearRE.MatchString(name) }

// Targets lists the GGUF names of m's tensors that IsLinear selects, in
// model order. GPTQ and AWQ produce a Quantized for each of these.
func Targets(m *modelfile.Model) []string {
	var out []string
	for _, t := range m.Tensors {
		if IsLinear(t.Name) && len(t.Shape) == 2 {
			out = append(out, t.Name)
		}
	}
	return out
}

// rowPerm returns the permutation taking the canonical (GGUF) rows of a
// tensor to Hugging Face's order, or nil: llama's q and k rows are
// interleaved for RoPE in GGUF (see package hf).
func rowPerm(m *modelfile.Model, name string, rows int) ([]int, error) {
	nHead := 0
	if m.Config.PermuteQK() {
		switch {
		case strings.Contains(name, ".attn_q."):
			nHead = m.Config.HeadCount
		case strings.Contains(name, ".attn_k."):
			nHead = m.Config.HeadCountKV
		}
	}
	if nHead == 0 {
		return nil, nil
	}
	ids := make([]byte, 4*rows)
	for i := range rows {
		binary.LittleEndian.PutUint32(ids[4*i:], uint32(i))
	}
	out := make([]byte, len(ids))
	if err := hf.UnpermuteRows(out, ids, nHead, rows, 4); err != nil {
		return nil, fmt.Errorf("tensor %s: %w", name, err)
	}
	perm := make([]int, rows)
	for i := range perm {
		perm[i] = int(binary.LittleEndian.Uint32(out[4*i:]))
	}
	return perm, nil
}

// inversePerm returns p⁻¹.
func inversePerm(p []int) []int {
	inv := make([]int, len(p))
	for i, v := range p {
		inv[v] = i
	}
	return inv
}

// entry is one tensor of the output safetensors.
type entry struct {
	name  string
	dtype tensor.DType
	shape []int64
	data  func() ([]byte, error)
}

// layer is one quantized linear layer: its parts are computed together,
// the first time one is asked for, and dropped after the last is written.
type layer struct {
	encode func() (map[string][]byte, error)
	parts  map[string][]byte
	left   int
}

func (l *layer) part(suffix string) ([]byte, error) {
	if l.parts == nil {
		p, err := l.encode()
		if err != nil {
			return nil, err
		}
		l.parts = p
	}
	b, ok := l.parts[suffix]
	if !ok {
		return nil, fmt.Errorf("hfquant: internal error: no part %q", suffix)
	}
	if l.left--; l.left == 0 {
		l.parts = map[string][]byte{}
	}
	return b, nil
}

// partSpec names one tensor of a quantized layer.
type partSpec struct {
	suffix string
	dtype  tensor.DType
	shape  []int64
}

// denseEntries returns the entries of m's tensors that stay dense (every
// tensor for which quantized returns false), converted to dtype when they
// are floating point, with q/k rows in Hugging Face's order.
func denseEntries(m *modelfile.Model, dtype tensor.DType, quantized func(string) bool) ([]entry, error) {
	var out []entry
	for _, t := range m.Tensors {
		if t.Name == "rope_freqs.weight" || quantized(t.Name) {
			continue
		}
		if t.DType == tensor.Invalid {
			return nil, fmt.Errorf("hfquant: tensor %s is %s: the exporters read float tensors (dequantize the model first)", t.Name, t.Type)
		}
		name, err := hf.ToHFName(t.Name)
		if err != nil {
			return nil, err
		}
		d := t.DType
		if d.IsFloat() {
			d = dtype
		}
		var perm []int
		if len(t.Shape) >= 1 {
			if perm, err = rowPerm(m, t.Name, int(t.Shape[0])); err != nil {
				return nil, err
			}
		}
		t, from := t, t.DType
		out = append(out, entry{name: name, dtype: d, shape: t.Shape, data: func() ([]byte, error) {
			raw, err := t.Read()
			if err != nil {
				return nil, err
			}
			defer t.Release()
			buf := make([]byte, int(t.NumElements())*d.Size())
			if err := tensor.Convert(buf, d, raw, from); err != nil {
				return nil, fmt.Errorf("tensor %s: %w", t.Name, err)
			}
			if perm != nil {
				rows := int(t.Shape[0])
				rb := len(buf) / rows
				un := make([]byte, len(buf))
				for i, p := range perm {
					copy(un[i*rb:(i+1)*rb], buf[p*rb:(p+1)*rb])
				}
				buf = un
			}
			return buf, nil
		}})
	}
	return out, nil
}

// readF32 decodes a dense tensor of m to float32.
func readF32(t *modelfile.Tensor) ([]float32, error) {
	if t.DType == tensor.Invalid || !t.DType.IsFloat() {
		return nil, fmt.Errorf("hfquant: tensor %s is %s, not a float tensor", t.Name, t.Type)
	}
	raw, err := t.Read()
	if err != nil {
		return nil, err
	}
	defer t.Release()
	w := make([]float32, t.NumElements())
	if err := tensor.DecodeF32(w, raw, t.DType); err != nil {
		return nil, fmt.Errorf("tensor %s: %w", t.Name, err)
	}
	return w, nil
}

// writeFolder writes a complete Hugging Face folder: the entries (sorted
// by name) into safetensors, config.json with quantization_config, the
// generation config and the tokenizer files. The folder appears only when
// complete.
func writeFolder(dir string, m *modelfile.Model, entries []entry, qcfg any, dtype tensor.DType, opts *WriteOptions) error {
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	infos := make([]safetensors.TensorInfo, len(entries))
	var total int64
	for i, e := range entries {
		infos[i] = safetensors.TensorInfo{Name: e.name, DType: e.dtype, Shape: e.shape}
		total += infos[i].NumBytes()
	}
	qj, err := json.Marshal(qcfg)
	if err != nil {
		return err
	}
	hc := modelfile.HFFolderConfig(m, dtype)
	extra := make(map[string]json.RawMessage, len(hc.Extra)+1)
	for k, v := range hc.Extra {
		extra[k] = v
	}
	extra["quantization_config"] = qj
	hc.Extra = extra
	cb, err := hc.Marshal()
	if err != nil {
		return err
	}

	out, err := atomicfile.CreateDir(dir, opts.Force)
	if err != nil {
		return err
	}
	defer out.Abort()
	w, err := safetensors.NewShardedWriter(out.Path, map[string]string{"format": "pt"}, infos, opts.MaxShardBytes)
	if err != nil {
		return err
	}
	var done int64
	for i, e := range entries {
		data, err := e.data()
		if err != nil {
			return err
		}
		if int64(len(data)) != infos[i].NumBytes() {
			return fmt.Errorf("hfquant: internal error: tensor %s has %d bytes, header says %d", e.name, len(data), infos[i].NumBytes())
		}
		if err := w.WriteTensor(e.name, data); err != nil {
			return err
		}
		done += int64(len(data))
		if opts.Progress != nil {
			opts.Progress(e.name, done, total)
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out.Path, "config.json"), cb, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out.Path, "generation_config.json"), modelfile.HFGenerationConfig(m), 0o644); err != nil {
		return err
	}
	if m.Vocab != nil {
		if err := tokenizer.WriteHFTokenizer(out.Path, m.Vocab); err != nil {
			return err
		}
	}
	return out.Commit()
}

// intFormat selects the integer layout.
type intFormat int

const (
	gptqFormat intFormat = iota
	packFormat
)

// writeInt writes an integer-quantized folder; get returns the quantized
// matrix of each target (canonical row order).
func writeInt(dir string, m *modelfile.Model, f intFormat, s Scheme, actOrder bool, get func(name string, t *modelfile.Tensor) (*Quantized, error), opts *WriteOptions) error {
	if opts == nil {
		opts = &WriteOptions{}
	}
	dtype := opts.DType
	if dtype == tensor.Invalid {
		dtype = map[intFormat]tensor.DType{gptqFormat: tensor.F16, packFormat: tensor.BF16}[f]
	}
	if dtype != tensor.F16 && dtype != tensor.BF16 && dtype != tensor.F32 {
		return fmt.Errorf("hfquant: dtype %s: want F16, BF16 or F32", dtype)
	}
	v2 := false
	switch opts.CheckpointFormat {
	case "", spec.GPTQv1:
	case spec.GPTQv2:
		v2 = true
	default:
		return fmt.Errorf("hfquant: checkpoint format %q: want %q or %q", opts.CheckpointFormat, spec.GPTQv1, spec.GPTQv2)
	}
	targets := map[string]bool{}
	for _, n := range Targets(m) {
		targets[n] = true
	}
	if len(targets) == 0 {
		return fmt.Errorf("hfquant: %s has no linear layers to quantize", m.Path)
	}
	entries, err := denseEntries(m, dtype, func(n string) bool { return targets[n] })
	if err != nil {
		return err
	}
	for _, t := range m.Tensors {
		if !targets[t.Name] {
			continue
		}
		t := t
		rows, cols := int(t.Shape[0]), int(t.Shape[1])
		var parts []partSpec
		switch f {
		case gptqFormat:
			if err := spec.CheckGPTQ(rows, cols, s); err != nil {
				return fmt.Errorf("tensor %s: %w", t.Name, err)
			}
			qw, qz, sc, gi := spec.GPTQShapes(rows, cols, s)
			parts = []partSpec{{"qweight", tensor.I32, qw}, {"qzeros", tensor.I32, qz}, {"scales", tensor.F16, sc}, {"g_idx", tensor.I32, gi}}
		case packFormat:
			if err := s.Validate(cols); err != nil {
				return fmt.Errorf("tensor %s: %w", t.Name, err)
			}
			pk, sc, zp, sh, gi := spec.PackedShapes(rows, cols, s)
			sd := s.ScaleDType
			if sd == tensor.Invalid {
				sd = tensor.F16
			}
			parts = []partSpec{{"weight_packed", tensor.I32, pk}, {"weight_scale", sd, sc}, {"weight_shape", tensor.I64, sh}}
			if !s.Sym {
				parts = append(parts, partSpec{"weight_zero_point", tensor.I32, zp})
			}
			if actOrder {
				parts = append(parts, partSpec{"weight_g_idx", tensor.I32, gi})
			}
		}
		perm, err := rowPerm(m, t.Name, rows)
		if err != nil {
			return err
		}
		hfName, err := hf.ToHFName(t.Name)
		if err != nil {
			return err
		}
		mod := strings.TrimSuffix(hfName, ".weight")
		l := &layer{left: len(parts), encode: func() (map[string][]byte, error) {
			q, err := get(t.Name, t)
			if err != nil {
				return nil, err
			}
			if q.Rows != rows || q.Cols != cols {
				return nil, fmt.Errorf("hfquant: tensor %s is [%d, %d], its quantized form [%d, %d]", t.Name, rows, cols, q.Rows, q.Cols)
			}
			if q.Scheme.Bits != s.Bits || q.Scheme.GroupSize != s.GroupSize || q.Scheme.Sym != s.Sym || (f == packFormat && q.Scheme.ScaleDType != s.ScaleDType) {
				return nil, fmt.Errorf("hfquant: tensor %s is quantized with %+v, the checkpoint with %+v (one scheme per file)", t.Name, q.Scheme, s)
			}
			if perm != nil {
				q = q.PermuteRows(perm)
			}
			switch f {
			case gptqFormat:
				g, err := spec.EncodeGPTQ(q, v2)
				if err != nil {
					return nil, fmt.Errorf("tensor %s: %w", t.Name, err)
				}
				return map[string][]byte{"qweight": g.QWeight, "qzeros": g.QZeros, "scales": g.Scales, "g_idx": g.GIdx}, nil
			default:
				p, err := spec.EncodePacked(q)
				if err != nil {
					return nil, fmt.Errorf("tensor %s: %w", t.Name, err)
				}
				out := map[string][]byte{"weight_packed": p.Packed, "weight_scale": p.Scale, "weight_shape": p.Shape, "weight_zero_point": p.ZeroPoint}
				if actOrder {
					out["weight_g_idx"] = p.GIdx
					if p.GIdx == nil { // a layer without act-order in an act-order file
						out["weight_g_idx"] = make([]byte, 4*q.Cols)
						for c := 0; c < q.Cols; c++ {
							binary.LittleEndian.PutUint32(out["weight_g_idx"][4*c:], uint32(q.Group(c)))
						}
					}
				}
				return out, nil
			}
		}}
		for _, p := range parts {
			p := p
			entries = append(entries, entry{name: mod + "." + p.suffix, dtype: p.dtype, shape: p.shape, data: func() ([]byte, error) { return l.part(p.suffix) }})
		}
	}
	var qcfg any
	switch f {
	case gptqFormat:
		c := &spec.GPTQConfig{Bits: s.Bits, GroupSize: s.GroupSize, DescAct: actOrder, Sym: s.Sym, CheckpointFormat: opts.CheckpointFormat,
			Extra: map[string]json.RawMessage{
				"damp_percent": json.RawMessage(`0.01`), "true_sequential": json.RawMessage(`true`), "static_groups": json.RawMessage(`false`),
				"meta": json.RawMessage(`{"quantizer":["lmc"]}`),
			}}
		qcfg = c
	case packFormat:
		var gs any
		strategy := "channel"
		if s.GroupSize > 0 {
			gs, strategy = s.GroupSize, "group"
		}
		var actorder any
		if actOrder {
			actorder = "group"
		}
		qcfg = ctConfig(spec.FormatPackQuantized, map[string]any{
			"num_bits": s.Bits, "type": "int", "symmetric": s.Sym, "group_size": gs, "strategy": strategy,
			"dynamic": false, "actorder": actorder, "block_structure": nil, "observer": "minmax", "observer_kwargs": map[string]any{},
		}, nil)
	}
	return writeFolder(dir, m, entries, qcfg, dtype, opts)
}

// ctConfig builds a compressed-tensors quantization_config with one
// config group targeting every Linear module but lm_head.
func ctConfig(format string, weights, inputActivations map[string]any) map[string]any {
	var in any
	if inputActivations != nil {
		in = inputActivations
	}
	return map[string]any{
		"quant_method": "compressed-tensors",
		"format":       format,
		"config_groups": map[string]any{"group_0": map[string]any{
			"targets": []string{"Linear"}, "weights": weights, "input_activations": in, "output_activations": nil,
		}},
		"ignore":                   []string{"lm_head"},
		"kv_cache_scheme":          nil,
		"quantization_status":      "compressed",
		"global_compression_ratio": nil,
		"sparsity_config":          map[string]any{},
	}
}

// schemeOf checks that every entry of q shares one grid and returns it,
// with whether any layer has an act-order g_idx.
func schemeOf(m *modelfile.Model, q map[string]*Quantized) (Scheme, bool, error) {
	var s Scheme
	first, act := true, false
	var missing []string
	for _, n := range Targets(m) {
		x, ok := q[n]
		if !ok || x == nil {
			missing = append(missing, n)
			continue
		}
		if first {
			s, first = x.Scheme, false
		} else if x.Scheme.Bits != s.Bits || x.Scheme.GroupSize != s.GroupSize || x.Scheme.Sym != s.Sym || x.Scheme.ScaleDType != s.ScaleDType {
			return s, false, fmt.Errorf("hfquant: tensor %s is quantized with %+v, others with %+v: a checkpoint has one scheme", n, x.Scheme, s)
		}
		act = act || x.GIdx != nil
	}
	if len(missing) > 0 {
		return s, false, fmt.Errorf("hfquant: no quantized form for %d linear layers (%s …); use Export to quantize the rest with RTN", len(missing), missing[0])
	}
	return s, act, nil
}

func lookup(q map[string]*Quantized) func(string, *modelfile.Tensor) (*Quantized, error) {
	return func(name string, _ *modelfile.Tensor) (*Quantized, error) { return q[name], nil }
}

// WriteGPTQ writes m as a GPTQ checkpoint folder that transformers (with
// optimum/GPTQModel) and vLLM load: each linear layer of Targets(m) as
// qweight/qzeros/scales/g_idx from quantized (keyed by GGUF name, rows in
// m's canonical order; they must all share one scheme, with F16 scales),
// the other tensors in opts.DType, config.json with a quantization_config
// (quant_method "gptq", bits, group_size, desc_act = any layer has g_idx,
// sym, lm_head false, checkpoint_format), generation_config.json and the
// tokenizer files. The folder is built beside dir and renamed into place
// when complete.
func WriteGPTQ(dir string, m *modelfile.Model, quantized map[string]*Quantized, opts *WriteOptions) error {
	s, act, err := schemeOf(m, quantized)
	if err != nil {
		return err
	}
	return writeInt(dir, m, gptqFormat, s, act, lookup(quantized), opts)
}

// WriteCompressedTensors writes m as a compressed-tensors "pack-quantized"
// checkpoint (W4A16 / W8A16, what llm-compressor produces and vLLM's
// CompressedTensorsWNA16 loads): weight_packed, weight_scale (in the
// scheme's ScaleDType), weight_shape, weight_zero_point when asymmetric and
// weight_g_idx with act-order, for every layer of Targets(m), from
// quantized (keyed by GGUF name, one scheme for all). See WriteGPTQ for the
// rest of the folder.
func WriteCompressedTensors(dir string, m *modelfile.Model, quantized map[string]*Quantized, opts *WriteOptions) error {
	s, act, err := schemeOf(m, quantized)
	if err != nil {
		return err
	}
	return writeInt(dir, m, packFormat, s, act, lookup(quantized), opts)
}

// WriteCompressedTensorsFP8 writes m as a compressed-tensors
// "float-quantized" FP8 checkpoint: every layer of Targets(m) as weight
// (F8_E4M3 [out, in]) and weight_scale (F32 [1] per tensor or [out, 1] per
// channel, one granularity for all), from quantized (keyed by GGUF name,
// canonical rows). With opts.FP8Dynamic the config declares dynamic
// per-token FP8 activations (W8A8); otherwise weights only.
func WriteCompressedTensorsFP8(dir string, m *modelfile.Model, quantized map[string]*fp.FP8, opts *WriteOptions) error {
	return writeFP8(dir, m, -1, func(name string, _ *modelfile.Tensor) (*fp.FP8, error) {
		q, ok := quantized[name]
		if !ok || q == nil {
			return nil, fmt.Errorf("hfquant: no FP8 form for linear layer %s", name)
		}
		return q, nil
	}, quantized, opts)
}

func writeFP8(dir string, m *modelfile.Model, gran fp.Granularity, get func(string, *modelfile.Tensor) (*fp.FP8, error), given map[string]*fp.FP8, opts *WriteOptions) error {
	if opts == nil {
		opts = &WriteOptions{}
	}
	dtype := opts.DType
	if dtype == tensor.Invalid {
		dtype = tensor.BF16
	}
	targets := map[string]bool{}
	for _, n := range Targets(m) {
		targets[n] = true
		if given != nil {
			q, ok := given[n]
			if !ok || q == nil {
				return fmt.Errorf("hfquant: no FP8 form for linear layer %s", n)
			}
			if gran < 0 {
				gran = q.Granularity
			} else if q.Granularity != gran {
				return fmt.Errorf("hfquant: tensor %s has %v scales, others %v: a checkpoint has one granularity", n, q.Granularity, gran)
			}
		}
	}
	if len(targets) == 0 {
		return fmt.Errorf("hfquant: %s has no linear layers to quantize", m.Path)
	}
	entries, err := denseEntries(m, dtype, func(n string) bool { return targets[n] })
	if err != nil {
		return err
	}
	for _, t := range m.Tensors {
		if !targets[t.Name] {
			continue
		}
		t := t
		rows, cols := int(t.Shape[0]), int(t.Shape[1])
		perm, err := rowPerm(m, t.Name, rows)
		if err != nil {
			return err
		}
		hfName, err := hf.ToHFName(t.Name)
		if err != nil {
			return err
		}
		mod := strings.TrimSuffix(hfName, ".weight")
		l := &layer{left: 2, encode: func() (map[string][]byte, error) {
			q, err := get(t.Name, t)
			if err != nil {
				return nil, err
			}
			if q.Rows != rows || q.Cols != cols || q.Granularity != gran {
				return nil, fmt.Errorf("hfquant: tensor %s is [%d, %d], its FP8 form [%d, %d] with %v scales", t.Name, rows, cols, q.Rows, q.Cols, q.Granularity)
			}
			if perm != nil {
				q = permuteFP8(q, perm)
			}
			sc := make([]byte, 4*len(q.Scales))
			for i, v := range q.Scales {
				binary.LittleEndian.PutUint32(sc[4*i:], math.Float32bits(v))
			}
			return map[string][]byte{"weight": q.Data, "weight_scale": sc}, nil
		}}
		entries = append(entries,
			entry{name: mod + ".weight", dtype: tensor.F8E4M3, shape: []int64{int64(rows), int64(cols)}, data: func() ([]byte, error) { return l.part("weight") }},
			entry{name: mod + ".weight_scale", dtype: tensor.F32, shape: spec.FP8ScaleShape(rows, gran), data: func() ([]byte, error) { return l.part("weight_scale") }})
	}
	var in map[string]any
	if opts.FP8Dynamic {
		in = map[string]any{"num_bits": 8, "type": "float", "symmetric": true, "group_size": nil, "strategy": "token",
			"dynamic": true, "actorder": nil, "block_structure": nil, "observer": nil, "observer_kwargs": map[string]any{}}
	}
	qcfg := ctConfig(spec.FormatFloatQuantized, map[string]any{
		"num_bits": 8, "type": "float", "symmetric": true, "group_size": nil, "strategy": gran.String(),
		"dynamic": false, "actorder": nil, "block_structure": nil, "observer": "minmax", "observer_kwargs": map[string]any{},
	}, in)
	return writeFolder(dir, m, entries, qcfg, dtype, opts)
}

// permuteFP8 returns q with row i = row perm[i].
func permuteFP8(q *fp.FP8, perm []int) *fp.FP8 {
	out := &fp.FP8{Rows: q.Rows, Cols: q.Cols, Granularity: q.Granularity, Data: make([]uint8, len(q.Data)), Scales: q.Scales}
	if len(q.Scales) > 1 {
		out.Scales = make([]float32, len(q.Scales))
	}
	for i, p := range perm {
		copy(out.Data[i*q.Cols:(i+1)*q.Cols], q.Data[p*q.Cols:(p+1)*q.Cols])
		if len(q.Scales) > 1 {
			out.Scales[i] = q.Scales[p]
		}
	}
	return out
}

// permuteNVFP4 returns q with row i = row perm[i].
func permuteNVFP4(q *fp.NVFP4, perm []int) *fp.NVFP4 {
	out := &fp.NVFP4{Rows: q.Rows, Cols: q.Cols, GlobalScale: q.GlobalScale, Packed: make([]uint8, len(q.Packed)), Scales: make([]uint8, len(q.Scales))}
	pb, sb := q.Cols/2, q.Cols/16
	for i, p := range perm {
		copy(out.Packed[i*pb:(i+1)*pb], q.Packed[p*pb:(p+1)*pb])
		copy(out.Scales[i*sb:(i+1)*sb], q.Scales[p*sb:(p+1)*sb])
	}
	return out
}
