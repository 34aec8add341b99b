package hfquant

import (
	"fmt"

	"github.com/lmc-project/lmc/hfquant/spec"
	"github.com/lmc-project/lmc/modelfile"
	"github.com/lmc-project/lmc/quant/fp"
	"github.com/lmc-project/lmc/tensor"
)

// Export formats.
const (
	FormatGPTQ              = "gptq"               // qweight/qzeros/scales/g_idx, quant_method "gptq"
	FormatCompressedTensors = "compressed-tensors" // pack-quantized ints, or float-quantized FP8 with ExportOptions.FP8
)

// ExportOptions configures Export. The zero value (with a Format) writes
// 4-bit symmetric weights in groups of 128.
type ExportOptions struct {
	Format string // FormatGPTQ or FormatCompressedTensors
	// Scheme is the integer grid; nil means 4 bits, groups of 128,
	// symmetric. In a given Scheme, zero Bits and GroupSize mean 4 and 128,
	// and a zero ScaleDType means F16 (GPTQ) or the output DType
	// (compressed-tensors); Sym is taken as given.
	Scheme *Scheme
	// FP8 writes compressed-tensors float-quantized FP8 E4M3 weights
	// instead of integers (Scheme is then ignored), with scales per
	// FP8Granularity (per tensor by default).
	FP8            bool
	FP8Granularity fp.Granularity
	// Quantized holds matrices already quantized (by GPTQ or AWQ), keyed by
	// GGUF name, canonical rows, on Scheme's grid; every other linear layer
	// is quantized here with RTN.
	Quantized map[string]*Quantized
	// Load, when set, supplies the quantized form of the linear layers not
	// in Quantized, one at a time as they are written (from a checkpoint
	// on disk, say, so that memory stays at one layer); nil, nil means
	// RTN. ActOrder declares that layers from Load carry an act-order
	// g_idx (desc_act), which Export cannot see before writing them.
	Load     func(name string) (*Quantized, error)
	ActOrder bool
	WriteOptions
}

// DefaultScheme returns the scheme Export uses for o: o.Scheme (or 4-bit
// symmetric groups of 128) with zero fields filled in (4 bits, group 128,
// F16 scales for GPTQ, the output dtype for compressed-tensors).
func (o *ExportOptions) DefaultScheme() Scheme {
	s := Scheme{Sym: true}
	if o.Scheme != nil {
		s = *o.Scheme
	}
	if s.Bits == 0 {
		s.Bits = 4
	}
	if s.GroupSize == 0 {
		s.GroupSize = 128
	}
	if s.ScaleDType == tensor.Invalid {
		s.ScaleDType = tensor.F16
		if o.Format == FormatCompressedTensors {
			s.ScaleDType = o.DType
			if s.ScaleDType == tensor.Invalid {
				s.ScaleDType = tensor.BF16
			}
		}
	}
	return s
}

// Export quantizes m's linear layers (Targets) and writes a Hugging Face
// folder at outDir that transformers and vLLM load, tensor by tensor
// (memory for about one layer beyond m's memory map). Layers in
// opts.Quantized are written as given; the others are quantized with RTN
// on opts' scheme (asymmetric zero points kept ≥ 1 for GPTQ's v1 format,
// which stores zero − 1), or to FP8 with opts.FP8. opts.Progress reports
// the bytes written. The folder appears only when complete.
func Export(m *modelfile.Model, outDir string, opts ExportOptions) error {
	switch opts.Format {
	case FormatGPTQ:
		if opts.FP8 {
			return fmt.Errorf("hfquant: FP8 is a compressed-tensors format; GPTQ files hold integers")
		}
	case FormatCompressedTensors:
	default:
		return fmt.Errorf("hfquant: export format %q: want %q or %q", opts.Format, FormatGPTQ, FormatCompressedTensors)
	}
	w := opts.WriteOptions
	if opts.FP8 {
		if opts.FP8Granularity != fp.PerTensor && opts.FP8Granularity != fp.PerChannel {
			return fmt.Errorf("hfquant: FP8 granularity %v: want tensor or channel", opts.FP8Granularity)
		}
		return writeFP8(outDir, m, opts.FP8Granularity, func(name string, t *modelfile.Tensor) (*fp.FP8, error) {
			x, err := readF32(t)
			if err != nil {
				return nil, err
			}
			return fp.QuantizeFP8(x, int(t.Shape[0]), int(t.Shape[1]), opts.FP8Granularity)
		}, nil, &w)
	}
	s := opts.DefaultScheme()
	minZero := 0
	if opts.Format == FormatGPTQ && !s.Sym && w.CheckpointFormat != spec.GPTQv2 {
		minZero = 1
	}
	act := opts.ActOrder
	for _, q := range opts.Quantized {
		act = act || (q != nil && q.GIdx != nil)
	}
	get := func(name string, t *modelfile.Tensor) (*Quantized, error) {
		if q, ok := opts.Quantized[name]; ok && q != nil {
			return q, nil
		}
		if opts.Load != nil {
			q, err := opts.Load(name)
			if err != nil {
				return nil, err
			}
			if q != nil {
				return q, nil
			}
		}
		x, err := readF32(t)
		if err != nil {
			return nil, err
		}
		q, err := QuantizeRTNWith(x, int(t.Shape[0]), int(t.Shape[1]), s, RTNOptions{MinZero: minZero})
		if err != nil {
			return nil, fmt.Errorf("tensor %s: %w", name, err)
		}
		return q, nil
	}
	f := gptqFormat
	if opts.Format == FormatCompressedTensors {
		f = packFormat
	}
	return writeInt(outDir, m, f, s, act, get, &w)
}
