package modelfile

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/lmc-project/lmc/gguf"
	"github.com/lmc-project/lmc/hf"
	"github.com/lmc-project/lmc/internal/atomicfile"
	"github.com/lmc-project/lmc/internal/provenance"
	"github.com/lmc-project/lmc/safetensors"
	"github.com/lmc-project/lmc/tensor"
	"github.com/lmc-project/lmc/tokenizer"
)

// WriteOptions tunes the writers.
type WriteOptions struct {
	// DType converts the weight matrices to F32, F16 or BF16. Invalid keeps
	// each tensor's stored type. One-dimensional tensors (norms, biases)
	// stay F32 in GGUF, as llama.cpp keeps them.
	DType tensor.DType
	// Progress, when set, is called after each tensor with the bytes
	// written so far and the total.
	Progress func(name string, done, total int64)
	// Force replaces an existing output folder (HF output).
	Force bool
	// Written receives the sha256 of each output file that the writer
	// hashed while writing it (GGUF outputs), so callers need not read
	// the file again for the provenance manifest.
	Written []provenance.FileHash
	// MaxShardBytes splits an HF output into model-0000i-of-0000n
	// safetensors files of at most this many bytes (0: one file).
	MaxShardBytes int64
}

// outType decides the stored type of t in a GGUF output.
func outType(t *Tensor, want tensor.DType) (gguf.Type, tensor.DType, error) {
	if t.DType == tensor.Invalid { // block-quantized: kept as is
		if want != tensor.Invalid {
			return 0, 0, fmt.Errorf("tensor %s is %s; converting quantized tensors to %s is not supported (quantized data is copied unchanged when --dtype is not given)", t.Name, t.Type, want)
		}
		return t.Type, tensor.Invalid, nil
	}
	d := t.DType
	switch {
	case len(t.Shape) == 1 && d.IsFloat():
		// llama.cpp's CPU kernels multiply by norms and biases only in
		// F32 (BF16 norms abort it), and its converter writes them so.
		d = tensor.F32
	case want != tensor.Invalid && d.IsFloat():
		d = want
	}
	if _, ok := ggmlOfDType(d); !ok {
		d = tensor.F16 // F8 → F16 is exact
	}
	g, _ := ggmlOfDType(d)
	return g, d, nil
}

// fileType returns general.file_type for the types of the matrices.
func fileType(types map[gguf.Type]int64) uint32 {
	var best gguf.Type
	var n int64 = -1
	for t, c := range types {
		if c > n || (c == n && t < best) {
			best, n = t, c
		}
	}
	ft := map[gguf.Type]uint32{gguf.TypeF32: 0, gguf.TypeF16: 1, gguf.TypeQ4_0: 2, gguf.TypeQ4_1: 3,
		gguf.TypeQ8_0: 7, gguf.TypeQ5_0: 8, gguf.TypeQ5_1: 9, gguf.TypeQ2_K: 10, gguf.TypeQ3_K: 12,
		gguf.TypeQ4_K: 15, gguf.TypeQ5_K: 17, gguf.TypeQ6_K: 18, gguf.TypeIQ4_NL: 25, gguf.TypeIQ4_XS: 30,
		gguf.TypeBF16: 32}
	if v, ok := ft[best]; ok {
		return v
	}
	return 0
}

// scratch is a reusable output buffer: converting tensor after tensor
// reuses one allocation the size of the largest, which keeps the resident
// set of a conversion near one tensor instead of leaving garbage behind.
type scratch struct{ buf []byte }

func (s *scratch) get(n int) []byte {
	if cap(s.buf) < n {
		s.buf = make([]byte, n)
	}
	return s.buf[:n]
}

// convertData converts src (stored as from) to the dtype to, into buf's
// memory when a conversion is needed.
func convertData(buf *scratch, src []byte, from, to tensor.DType, name string) ([]byte, error) {
	if from == to {
		return src, nil
	}
	n := len(src) / from.Size()
	dst := buf.get(n * to.Size())
	if err := tensor.Convert(dst, to, src, from); err != nil {
		return nil, fmt.Errorf("tensor %s: %w", name, err)
	}
	return dst, nil
}

// GGUFPlan describes the GGUF file WriteGGUF would write.
type GGUFPlan struct {
	KVs     []gguf.KV
	Infos   []gguf.TensorInfo
	dtypes  []tensor.DType
	sources []*Tensor
}

// PlanGGUF computes metadata and tensor infos without writing anything.
func PlanGGUF(m *Model, opts *WriteOptions) (*GGUFPlan, error) {
	if opts == nil {
		opts = &WriteOptions{}
	}
	p := &GGUFPlan{}
	counts := map[gguf.Type]int64{}
	changed := false
	for _, t := range m.Tensors {
		gt, dt, err := outType(t, opts.DType)
		if err != nil {
			return nil, err
		}
		if gt != t.Type {
			changed = true
		}
		if len(t.Shape) > 1 {
			counts[gt] += t.NumElements()
		}
		shape := make([]uint64, len(t.Shape))
		for i, d := range t.Shape {
			shape[len(shape)-1-i] = uint64(d)
		}
		p.Infos = append(p.Infos, gguf.TensorInfo{Name: t.Name, Shape: shape, Type: gt})
		p.dtypes = append(p.dtypes, dt)
		p.sources = append(p.sources, t)
	}
	if m.Config.RopeScaling == "llama3" && m.Tensor("rope_freqs.weight") == nil {
		p.Infos = append([]gguf.TensorInfo{{Name: "rope_freqs.weight", Shape: []uint64{uint64(m.Config.HeadDim / 2)}, Type: gguf.TypeF32}}, p.Infos...)
		p.dtypes = append([]tensor.DType{tensor.F32}, p.dtypes...)
		p.sources = append([]*Tensor{nil}, p.sources...)
	}
	ft := fileType(counts)
	quantized := false
	for t := range counts {
		if t.Quantized() {
			quantized = true
		}
	}
	if len(m.SourceKVs) > 0 {
		p.KVs = append(p.KVs, m.SourceKVs...)
		if changed {
			p.KVs = setKV(p.KVs, gguf.KV{Key: "general.file_type", Value: gguf.Uint32(ft)})
		}
	} else {
		p.KVs = m.Config.KVs()
		p.KVs = append(p.KVs, gguf.KV{Key: "general.file_type", Value: gguf.Uint32(ft)})
		if quantized {
			p.KVs = append(p.KVs, gguf.KV{Key: "general.quantization_version", Value: gguf.Uint32(2)})
		}
		if m.Vocab != nil {
			p.KVs = append(p.KVs, VocabKVs(m.Vocab)...)
		}
	}
	return p, nil
}

func setKV(kvs []gguf.KV, kv gguf.KV) []gguf.KV {
	for i := range kvs {
		if kvs[i].Key == kv.Key {
			kvs[i] = kv
			return kvs
		}
	}
	return append(kvs, kv)
}

// WriteGGUF writes m as a GGUF v3 file at path, atomically: the file appears
// only when complete. Tensors are streamed one at a time.
func WriteGGUF(m *Model, path string, opts *WriteOptions) error {
	if opts == nil {
		opts = &WriteOptions{}
	}
	p, err := PlanGGUF(m, opts)
	if err != nil {
		return err
	}
	out, err := atomicfile.Create(path)
	if err != nil {
		return err
	}
	defer out.Abort()
	// The output is hashed as it is written, so that its provenance record
	// costs no second read of the file.
	hw := provenance.NewHashWriter(out)
	w, err := gguf.NewWriter(hw, p.KVs, p.Infos, m.Alignment)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var total, done int64
	for _, ti := range p.Infos {
		total += int64(ti.Size())
	}
	var buf scratch
	for i, ti := range p.Infos {
		var data []byte
		if src := p.sources[i]; src == nil {
			data = f32Bytes(m.Config.Llama3RopeFreqs())
		} else {
			raw, err := src.Read()
			if err != nil {
				return err
			}
			if p.dtypes[i] != tensor.Invalid {
				data, err = convertData(&buf, raw, src.DType, p.dtypes[i], src.Name)
				if err != nil {
					return err
				}
			} else {
				data = raw
			}
		}
		if err := w.WriteTensor(ti.Name, data); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if src := p.sources[i]; src != nil {
			src.Release()
		}
		done += int64(ti.Size())
		if opts.Progress != nil {
			opts.Progress(ti.Name, done, total)
		}
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := out.Commit(); err != nil {
		return err
	}
	opts.Written = append(opts.Written, hw.Sum(path))
	return nil
}

func f32Bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// WriteHF writes m as a Hugging Face folder (config.json,
// generation_config.json, model.safetensors, tokenizer files). The folder is
// built beside dir and renamed into place when complete.
func WriteHF(m *Model, dir string, opts *WriteOptions) error {
	if opts == nil {
		opts = &WriteOptions{}
	}
	type entry struct {
		src   *Tensor
		hf    string
		dtype tensor.DType
		nHead int
	}
	var entries []entry
	var infos []safetensors.TensorInfo
	var total int64
	// A Hugging Face folder holds one dtype (config.json's torch_dtype);
	// GGUF keeps norms in F32 by convention, so 1-D tensors follow the
	// matrices' dtype (exact for values that came from that dtype).
	main := mainDType(m)
	for _, t := range m.Tensors {
		if t.Name == "rope_freqs.weight" {
			continue // derived from config.json's rope_scaling
		}
		if t.DType == tensor.Invalid {
			return fmt.Errorf("tensor %s is %s: a Hugging Face folder holds float tensors only; dequantized export is not supported yet", t.Name, t.Type)
		}
		name, err := hf.ToHFName(t.Name)
		if err != nil {
			return err
		}
		d := t.DType
		switch {
		case opts.DType != tensor.Invalid && d.IsFloat():
			d = opts.DType
		case len(t.Shape) == 1 && d.IsFloat() && main != tensor.Invalid:
			d = main
		}
		e := entry{src: t, hf: name, dtype: d}
		if m.Config.PermuteQK() {
			switch {
			case strings.Contains(t.Name, ".attn_q."):
				e.nHead = m.Config.HeadCount
			case strings.Contains(t.Name, ".attn_k."):
				e.nHead = m.Config.HeadCountKV
			}
		}
		entries = append(entries, e)
		infos = append(infos, safetensors.TensorInfo{Name: name, DType: d, Shape: t.Shape})
		total += t.NumElements() * int64(d.Size())
	}
	// safetensors files written by HF tools list tensors sorted by name.
	order := make([]int, len(entries))
	for i := range order {
		order[i] = i
	}
	sortByName(order, func(i int) string { return entries[i].hf })
	sorted := make([]safetensors.TensorInfo, len(order))
	for i, j := range order {
		sorted[i] = infos[j]
	}
	meta := map[string]string{"format": "pt"}
	if len(m.SourceKVs) > 0 {
		s, err := encodeStash(m.SourceKVs)
		if err != nil {
			return err
		}
		meta[stashKVs] = s
		names := make([]string, len(m.Tensors))
		for i, t := range m.Tensors {
			names[i] = t.Name
		}
		b, _ := json.Marshal(names)
		meta[stashTensors] = string(b)
		if m.Alignment > 0 {
			meta[stashAlignment] = strconv.Itoa(m.Alignment)
		}
	}

	out, err := atomicfile.CreateDir(dir, opts.Force)
	if err != nil {
		return err
	}
	defer out.Abort()
	w, err := safetensors.NewShardedWriter(out.Path, meta, sorted, opts.MaxShardBytes)
	if err != nil {
		return err
	}
	var done int64
	var buf, perm scratch
	for _, j := range order {
		e := entries[j]
		raw, err := e.src.Read()
		if err != nil {
			return err
		}
		data, err := convertData(&buf, raw, e.src.DType, e.dtype, e.src.Name)
		if err != nil {
			return err
		}
		if e.nHead > 0 {
			rows := int(e.src.Shape[0])
			un := perm.get(len(data))
			if err := hf.UnpermuteRows(un, data, e.nHead, rows, len(data)/rows); err != nil {
				return fmt.Errorf("tensor %s: %w", e.src.Name, err)
			}
			data = un
		}
		if err := w.WriteTensor(e.hf, data); err != nil {
			return err
		}
		e.src.Release()
		done += int64(len(data))
		if opts.Progress != nil {
			opts.Progress(e.hf, done, total)
		}
	}
	if err := w.Close(); err != nil {
		return err
	}

	dt := opts.DType
	if dt == tensor.Invalid && len(entries) > 0 {
		dt = entries[0].dtype
	}
	hc := HFFolderConfig(m, dt)
	cb, err := hc.Marshal()
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out.Path, "config.json"), cb, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out.Path, "generation_config.json"), HFGenerationConfig(m), 0o644); err != nil {
		return err
	}
	if m.Vocab != nil {
		if err := tokenizer.WriteHFTokenizer(out.Path, m.Vocab); err != nil {
			return err
		}
	}
	return out.Commit()
}

func sortByName(idx []int, name func(int) string) {
	sort.Slice(idx, func(a, b int) bool { return name(idx[a]) < name(idx[b]) })
}

// mainDType is the most common dtype of the model's float matrices
// (by element count), or Invalid when there are none.
func mainDType(m *Model) tensor.DType {
	counts := map[tensor.DType]int64{}
	for _, t := range m.Tensors {
		if len(t.Shape) > 1 && t.DType.IsFloat() {
			counts[t.DType] += t.NumElements()
		}
	}
	best, n := tensor.Invalid, int64(0)
	for d, c := range counts {
		if c > n || (c == n && d < best) {
			best, n = d, c
		}
	}
	return best
}
