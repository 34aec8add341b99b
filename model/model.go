package model

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/lmc-project/lmc/gguf"
	"github.com/lmc-project/lmc/kernels"
	"github.com/lmc-project/lmc/modelfile"
	"github.com/lmc-project/lmc/tensor"
)

// Architectures lists the GGUF architectures Load supports.
var Architectures = []string{"llama", "qwen2", "qwen3"}

// Options tunes Load. The zero value is fine.
type Options struct {
	// Threads, when positive, sets the number of threads every kernel uses
	// (process-wide, through kernels.SetThreads). Zero leaves the setting
	// alone (default: GOMAXPROCS).
	Threads int
	// Hooks are installed on the model (see [Model.Hooks]).
	Hooks Hooks
}

// Hooks lets a caller observe the forward pass. Nil functions are skipped.
// Hooks run on the goroutine that called Prefill or Decode, between
// kernels, and must not keep the slices they are given.
type Hooks struct {
	// OnLinearInput is called with the input of every linear layer before
	// it runs: layer is the block index (-1 for the output projection),
	// name the weight's GGUF tensor name ("blk.3.ffn_down.weight"), and x
	// holds n rows of cols activations. Layers that share an input (q, k
	// and v; gate and up) each get their own call with the same x.
	OnLinearInput func(layer int, name string, x []float32, n, cols int)
}

// Model is a Llama-family network ready to run. Weights stay in their
// stored type and, for memory-mapped sources, in the map: the
// modelfile.Model it was loaded from must stay open while the Model is in
// use. A Model is safe for concurrent use by several Sessions, except for
// ReplaceWeight and changes to Hooks, which must not overlap with them.
type Model struct {
	Config modelfile.Config
	// Hooks observe every forward pass (see [Hooks]).
	Hooks Hooks

	tokEmbd    kernels.Matrix
	output     kernels.Matrix // nil when tied to tokEmbd
	outputNorm []float32
	layers     []layer
	invFreq    []float32 // per rotary pair: the angle per position
	neox       bool      // rotate halves (x[i], x[i+d/2]) instead of pairs
	weights    map[string]*kernels.Matrix
	eps        float32
}

type layer struct {
	attnNorm, ffnNorm   []float32
	q, k, v, o          kernels.Matrix
	qBias, kBias, vBias []float32
	qNorm, kNorm        []float32
	gate, up, down      kernels.Matrix
	names               [7]string // GGUF names of q, k, v, o, gate, up, down
}

const (
	wQ = iota
	wK
	wV
	wO
	wGate
	wUp
	wDown
)

// Load builds the network described by m. It fails, naming the tensor and
// its expected shape, when a tensor is missing or misshapen, and lists the
// supported architectures when m's is not one of them. Weights of types
// with no registered kernel (block-quantized types before their package is
// imported) are reported by name and type.
func Load(m *modelfile.Model, opts Options) (*Model, error) {
	c := m.Config
	supported := false
	for _, a := range Architectures {
		supported = supported || c.Arch == a
	}
	if !supported {
		return nil, fmt.Errorf("%s: architecture %q is not supported; lmc runs %s (Llama 1/2/3, Mistral, SmolLM, TinyLlama, Qwen2, Qwen3)",
			m.Path, c.Arch, strings.Join(Architectures, ", "))
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", m.Path, err)
	}
	if c.HeadDim%2 != 0 {
		return nil, fmt.Errorf("%s: head_dim %d is odd; RoPE needs pairs", m.Path, c.HeadDim)
	}
	if err := m.CheckShapes(); err != nil {
		return nil, err
	}
	if opts.Threads > 0 {
		kernels.SetThreads(opts.Threads)
	}
	md := &Model{Config: c, Hooks: opts.Hooks, weights: map[string]*kernels.Matrix{}, neox: c.Arch != "llama"}
	md.eps = float32(c.RMSNormEps)
	if md.eps == 0 {
		md.eps = 1e-5
	}
	var err error
	matrix := func(name string, dst *kernels.Matrix) {
		if err != nil {
			return
		}
		var mx kernels.Matrix
		if mx, err = loadMatrix(m, name); err == nil {
			*dst = mx
			md.weights[name] = dst
		}
	}
	vector := func(name string, dst *[]float32) {
		if err != nil {
			return
		}
		*dst, err = loadVector(m, name)
	}
	matrix("token_embd.weight", &md.tokEmbd)
	if !c.TiedEmbeddings {
		matrix("output.weight", &md.output)
	}
	vector("output_norm.weight", &md.outputNorm)
	md.layers = make([]layer, c.BlockCount)
	for l := range md.layers {
		L := &md.layers[l]
		p := fmt.Sprintf("blk.%d.", l)
		for i, s := range []string{"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"} {
			L.names[i] = p + s + ".weight"
		}
		vector(p+"attn_norm.weight", &L.attnNorm)
		vector(p+"ffn_norm.weight", &L.ffnNorm)
		for i, dst := range []*kernels.Matrix{&L.q, &L.k, &L.v, &L.o, &L.gate, &L.up, &L.down} {
			matrix(L.names[i], dst)
		}
		if c.QKVBias {
			vector(p+"attn_q.bias", &L.qBias)
			vector(p+"attn_k.bias", &L.kBias)
			vector(p+"attn_v.bias", &L.vBias)
		}
		if c.QKNorm {
			vector(p+"attn_q_norm.weight", &L.qNorm)
			vector(p+"attn_k_norm.weight", &L.kNorm)
		}
	}
	if err != nil {
		return nil, err
	}
	if md.invFreq, err = ropeFreqs(m); err != nil {
		return nil, err
	}
	return md, nil
}

func loadMatrix(m *modelfile.Model, name string) (kernels.Matrix, error) {
	t := m.Tensor(name)
	if t == nil {
		return nil, fmt.Errorf("%s: tensor %s is missing", m.Path, name)
	}
	if len(t.Shape) != 2 {
		return nil, fmt.Errorf("%s: tensor %s has shape %v, expected 2 dimensions", m.Path, name, t.Shape)
	}
	if t.Type == modelfile.NoGGMLType {
		return nil, fmt.Errorf("%s: tensor %s is %s, which lmc cannot compute with; convert the model to F16, BF16 or F32 first", m.Path, name, t.DType)
	}
	data, err := t.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: tensor %s: %w", m.Path, name, err)
	}
	mx, err := kernels.New(t.Type, data, int(t.Shape[0]), int(t.Shape[1]))
	if err != nil {
		return nil, fmt.Errorf("%s: tensor %s (%s): %w", m.Path, name, t.Type.UpperName(), err)
	}
	return mx, nil
}

func loadVector(m *modelfile.Model, name string) ([]float32, error) {
	t := m.Tensor(name)
	if t == nil {
		return nil, fmt.Errorf("%s: tensor %s is missing", m.Path, name)
	}
	if t.DType == tensor.Invalid || !t.DType.IsFloat() {
		return nil, fmt.Errorf("%s: tensor %s is %s; a 1-D tensor must be a float type", m.Path, name, t.Type.UpperName())
	}
	data, err := t.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: tensor %s: %w", m.Path, name, err)
	}
	out := make([]float32, t.NumElements())
	if err := tensor.DecodeF32(out, data, t.DType); err != nil {
		return nil, fmt.Errorf("%s: tensor %s: %w", m.Path, name, err)
	}
	return out, nil
}

// ropeFreqs returns the rotation angle per position of each rotary pair i:
// theta^(-2i/d), divided by llama3's per-pair factors (the rope_freqs.weight
// tensor, or computed from the config) or by a linear scaling factor.
func ropeFreqs(m *modelfile.Model) ([]float32, error) {
	c := &m.Config
	half := c.HeadDim / 2
	theta := c.RopeTheta
	if theta <= 0 {
		theta = 10000
	}
	inv := make([]float32, half)
	for i := range inv {
		inv[i] = float32(1 / math.Pow(theta, float64(2*i)/float64(c.HeadDim)))
	}
	var factors []float32
	switch c.RopeScaling {
	case "":
	case "linear":
		if c.RopeFactor > 0 {
			for i := range inv {
				inv[i] = float32(float64(inv[i]) / c.RopeFactor)
			}
		}
	case "llama3":
		if t := m.Tensor("rope_freqs.weight"); t != nil {
			f, err := loadVector(m, "rope_freqs.weight")
			if err != nil {
				return nil, err
			}
			if len(f) != half {
				return nil, fmt.Errorf("%s: tensor rope_freqs.weight has %d elements, expected %d (head_dim/2)", m.Path, len(f), half)
			}
			factors = f
		} else if c.RopeFactor > 0 && c.RopeOrigContext > 0 && c.RopeHighFreqFactor != c.RopeLowFreqFactor {
			factors = c.Llama3RopeFreqs()
		} else {
			return nil, fmt.Errorf("%s: llama3 rope scaling without rope_freqs.weight or complete factors", m.Path)
		}
	default:
		return nil, fmt.Errorf("%s: rope scaling %q is not supported (lmc runs none, linear and llama3)", m.Path, c.RopeScaling)
	}
	for i, f := range factors {
		inv[i] = float32(float64(inv[i]) / float64(f))
	}
	return inv, nil
}

// WeightNames lists the tensors that [Model.Weight] and
// [Model.ReplaceWeight] accept, in a stable order.
func (m *Model) WeightNames() []string {
	names := make([]string, 0, len(m.weights))
	for n := range m.weights {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Weight returns the matrix of the named weight tensor, or nil.
func (m *Model) Weight(name string) kernels.Matrix {
	if p, ok := m.weights[name]; ok {
		return *p
	}
	return nil
}

// ReplaceWeight swaps the named weight matrix for mx, which must have the
// same shape, so that a quantizer or pruner can measure its output without
// writing a file. With tied embeddings, replacing token_embd.weight also
// replaces the output projection. It must not run while a Session of m is
// running.
func (m *Model) ReplaceWeight(name string, mx kernels.Matrix) error {
	p, ok := m.weights[name]
	if !ok {
		return fmt.Errorf("model: no weight matrix named %q", name)
	}
	if mx.Rows() != (*p).Rows() || mx.Cols() != (*p).Cols() {
		return fmt.Errorf("model: %s is [%d, %d], replacement is [%d, %d]", name, (*p).Rows(), (*p).Cols(), mx.Rows(), mx.Cols())
	}
	*p = mx
	return nil
}

// ReplaceWeightF32 is ReplaceWeight with the new weights as float32 values
// (rows × cols, row-major), used in place.
func (m *Model) ReplaceWeightF32(name string, w []float32) error {
	old := m.Weight(name)
	if old == nil {
		return fmt.Errorf("model: no weight matrix named %q", name)
	}
	mx, err := kernels.NewF32(w, old.Rows(), old.Cols())
	if err != nil {
		return fmt.Errorf("model: %s: %w", name, err)
	}
	return m.ReplaceWeight(name, mx)
}

// outputMatrix is the output projection (the embedding when tied).
func (m *Model) outputMatrix() kernels.Matrix {
	if m.output != nil {
		return m.output
	}
	return m.tokEmbd
}

// WeightTypes counts weight matrices per storage type, for reports.
func (m *Model) WeightTypes() map[gguf.Type]int {
	out := map[gguf.Type]int{}
	for _, p := range m.weights {
		out[(*p).Type()]++
	}
	return out
}
