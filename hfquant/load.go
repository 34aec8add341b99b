package hfquant

import (
	"fmt"
	"path/filepath"

	"github.com/lmc-project/lmc/hf"
	"github.com/lmc-project/lmc/hfquant/spec"
	"github.com/lmc-project/lmc/modelfile"
	"github.com/lmc-project/lmc/quant/fp"
	"github.com/lmc-project/lmc/safetensors"
)

// Checkpoint is the quantized content of a GPTQ or compressed-tensors
// folder, keyed by GGUF tensor name ("blk.0.attn_q.weight"), with rows in
// lmc's canonical order (llama's q/k rows permuted as in GGUF), so that
// Ints[n].Dequantize gives the weights modelfile.Open presents.
type Checkpoint struct {
	Method string // "gptq" or "compressed-tensors"
	Format string // "gptq", "gptq_v2", "pack-quantized", "float-quantized", "nvfp4-pack-quantized"
	Ints   map[string]*Quantized
	FP8    map[string]*fp.FP8
	NVFP4  map[string]*fp.NVFP4
}

// Dequantize returns the float32 weights of the named layer, or nil when
// the checkpoint has no such quantized layer.
func (c *Checkpoint) Dequantize(name string) []float32 {
	var out []float32
	switch {
	case c.Ints[name] != nil:
		q := c.Ints[name]
		out = make([]float32, q.Rows*q.Cols)
		q.Dequantize(out)
	case c.FP8[name] != nil:
		q := c.FP8[name]
		out = make([]float32, q.Rows*q.Cols)
		q.Dequantize(out)
	case c.NVFP4[name] != nil:
		q := c.NVFP4[name]
		out = make([]float32, q.Rows*q.Cols)
		q.Dequantize(out)
	}
	return out
}

// LoadQuantized reads every quantized layer of a GPTQ or compressed-tensors
// folder (config.json with a quantization_config, safetensors). Errors
// name the file and tensor at fault and wrap spec.ErrFormat, or
// spec.ErrUnsupported for checkpoints lmc does not read. To run such a
// folder, open it with modelfile.Open, which dequantizes on the fly.
func LoadQuantized(dir string) (*Checkpoint, error) {
	cfgPath := filepath.Join(dir, "config.json")
	hc, err := hf.ReadConfig(cfgPath)
	if err != nil {
		return nil, err
	}
	cfg, err := modelfile.ConfigFromHF(hc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfgPath, err)
	}
	raw, ok := hc.Extra["quantization_config"]
	if !ok {
		return nil, &spec.FormatError{File: cfgPath, Field: "quantization_config", Msg: "missing: not a quantized checkpoint"}
	}
	st, err := safetensors.OpenModel(dir)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	v, err := spec.NewView(cfgPath, st, raw)
	if err != nil {
		return nil, err
	}
	c := &Checkpoint{Method: v.Method, Format: v.Format, Ints: map[string]*Quantized{}, FP8: map[string]*fp.FP8{}, NVFP4: map[string]*fp.NVFP4{}}
	m := &modelfile.Model{Config: cfg}
	for name, l := range v.Layers {
		gname, err := hf.ToGGUFName(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		perm, err := rowPerm(m, gname, l.Rows)
		if err != nil {
			return nil, err
		}
		if perm != nil {
			perm = inversePerm(perm) // HF → canonical
		}
		switch l.Kind {
		case spec.KindInt:
			q, err := v.Int(name)
			if err != nil {
				return nil, err
			}
			if perm != nil {
				q = q.PermuteRows(perm)
			}
			c.Ints[gname] = q
		case spec.KindFP8:
			q, err := v.FP8(name)
			if err != nil {
				return nil, err
			}
			if perm != nil {
				q = permuteFP8(q, perm)
			}
			c.FP8[gname] = q
		case spec.KindNVFP4:
			q, err := v.NVFP4(name)
			if err != nil {
				return nil, err
			}
			if perm != nil {
				q = permuteNVFP4(q, perm)
			}
			c.NVFP4[gname] = q
		}
	}
	return c, nil
}
