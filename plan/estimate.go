package plan

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
)

// Defaults of the overhead model (see docs/PLAN.md).
const (
	// DefaultMicroBatch is the prompt tokens processed per step
	// (llama.cpp's n_ubatch).
	DefaultMicroBatch = 512
	// DefaultContextCap bounds the default context (the model's own limit
	// when smaller).
	DefaultContextCap = 8192
)

// Options are the planner's inputs besides the model.
type Options struct {
	// Weights is the weight format (see [ParseWeightFormat]); "" means the
	// model's own tensors as stored.
	Weights string `json:"weights"`
	// KV is the KV-cache type (see [ParseKVType]); "" means f16.
	KV string `json:"kv"`
	// Context is the tokens per sequence; 0 means min(the model's limit,
	// DefaultContextCap).
	Context int `json:"context"`
	// Batch is the number of concurrent sequences (0 means 1).
	Batch int `json:"batch"`
	// TP is the tensor-parallel degree: devices sharing one model (0 means 1).
	TP int `json:"tp"`
	// ActiveExperts overrides the experts each token uses (MoE models).
	ActiveExperts int `json:"active_experts,omitempty"`
	// MicroBatch is the prompt tokens processed per step (0 means 512).
	MicroBatch int `json:"micro_batch"`
	// NoFlashAttention adds the attention score matrix (heads × micro-batch
	// × context × 4 bytes) that kernels without flash attention allocate.
	NoFlashAttention bool `json:"no_flash_attention,omitempty"`
	// RuntimeGiB, when set (>= 0 with SetRuntime), replaces every device's
	// runtime constant.
	RuntimeGiB float64 `json:"runtime_gib,omitempty"`
	SetRuntime bool    `json:"-"`
	// RopeScaling allows a context beyond the model's trained limit (the
	// user runs it with rope scaling); otherwise that is an error.
	RopeScaling bool `json:"rope_scaling,omitempty"`
	// FullSWA ignores sliding windows (the cache keeps every token, as
	// llama.cpp does for Mistral, or with --swa-full).
	FullSWA bool `json:"full_swa,omitempty"`
	// KIVIGroup and KIVIResidual override the int8/int4/int2 cache's group
	// size and f16 residual length (0: 32 and 128).
	KIVIGroup    int `json:"kivi_group,omitempty"`
	KIVIResidual int `json:"kivi_residual,omitempty"`
	// PricePerHour, when > 0, is the USD price of one device-hour for
	// every device (replacing the data's prices).
	PricePerHour float64 `json:"price_per_hour,omitempty"`
	// Hardware is the device list (nil: [DefaultHardware]).
	Hardware []Hardware `json:"-"`
}

// ErrContext is returned (wrapped in a *ContextError) for a context beyond
// the model's limit without rope scaling.
var ErrContext = errors.New("context beyond the model's limit")

// ContextError reports a context beyond the model's trained limit.
type ContextError struct {
	Model         string
	Context, Max  int
	ScaledContext int
}

func (e *ContextError) Error() string {
	msg := fmt.Sprintf("context %d is beyond %s's limit of %d tokens", e.Context, e.Model, e.Max)
	if e.ScaledContext > e.Max {
		msg += fmt.Sprintf(" (%d with the rope scaling its authors publish)", e.ScaledContext)
	}
	return msg + "; pass --rope-scaling if you run it with rope scaling"
}

func (e *ContextError) Unwrap() error { return ErrContext }

// KVReport is the priced KV cache.
type KVReport struct {
	Type string `json:"type"`
	// BytesPerToken is one token's K and V over all layers (whole model,
	// before any window cap).
	BytesPerToken float64  `json:"bytes_per_token"`
	Layout        KVLayout `json:"layout"`
	// SequenceBytes is one sequence at the context; Bytes all of them.
	SequenceBytes int64  `json:"sequence_bytes"`
	Bytes         int64  `json:"bytes"`
	Note          string `json:"note,omitempty"`
}

// Fit is the answer for one kind of device.
type Fit struct {
	Hardware string `json:"hardware"`
	Kind     string `json:"kind"`
	// Devices is the tensor-parallel degree used.
	Devices int `json:"devices"`
	// UsableBytes and NeedBytes are per device.
	UsableBytes int64 `json:"usable_bytes"`
	NeedBytes   int64 `json:"need_bytes"`
	Fits        bool  `json:"fits"`
	// MaxContext is the longest context that fits at the given batch
	// (ModelLimited: it is the model's own limit); MaxBatch the most
	// sequences that fit at the given context.
	MaxContext   int  `json:"max_context"`
	ModelLimited bool `json:"model_limited,omitempty"`
	MaxBatch     int  `json:"max_batch"`
	// TokensPerSecond is the decode ceiling of one sequence (bandwidth ÷
	// bytes read per step) at the given batch and context;
	// AggregateTokensPerSecond multiplies by the batch.
	TokensPerSecond          float64 `json:"tokens_per_second"`
	AggregateTokensPerSecond float64 `json:"aggregate_tokens_per_second"`
	// PricePerHour is for all Devices; CostPerMillion is USD per million
	// output tokens at the aggregate ceiling (0: no price).
	PricePerHour   float64 `json:"price_per_hour,omitempty"`
	CostPerMillion float64 `json:"cost_per_million,omitempty"`
	// MinDevices is the fewest devices (1, 2, 4 or 8, tensor parallel)
	// that hold the model at the given context and batch (0: not even 8).
	MinDevices int `json:"min_devices"`
}

// FormatSize is the weights of the model in one format.
type FormatSize struct {
	Format        string  `json:"format"`
	Bytes         int64   `json:"bytes,omitempty"`
	BitsPerWeight float64 `json:"bits_per_weight,omitempty"`
	Error         string  `json:"error,omitempty"`
}

// Result is the plan.
type Result struct {
	Model   *Model        `json:"model"`
	Params  int64         `json:"params"`
	Options Options       `json:"options"`
	Weights *WeightReport `json:"weights"`
	KV      KVReport      `json:"kv"`
	// Activations is the workspace of one step: micro-batch activations
	// and the logits of the batch (per device).
	Activations int64 `json:"activations"`
	// Total is weights + KV + activations (whole model, runtime constant
	// not included: it is per device, see Fits).
	Total int64 `json:"total"`
	// ReadPerStep is the bytes one decode step reads (whole model):
	// weights shared by the batch plus each sequence's KV.
	ReadPerStep int64        `json:"read_per_step"`
	Fits        []Fit        `json:"fits"`
	Cheapest    string       `json:"cheapest,omitempty"`
	CheapestPer string       `json:"cheapest_per_token,omitempty"`
	Formats     []FormatSize `json:"formats,omitempty"`
	Warnings    []string     `json:"warnings,omitempty"`
}

// ComparisonFormats are the formats Estimate prices besides the chosen one.
var ComparisonFormats = []string{"f16", "q8_0", "q6_k", "q5_k_m", "q4_k_m", "q3_k_m", "q2_k"}

type planner struct {
	m        *Model
	o        Options
	w        *WeightReport
	kv       KVType
	layout   KVLayout // per device at tp
	ctxLimit int
	active   int
}

// Estimate plans m under o.
func Estimate(m *Model, o Options) (*Result, error) {
	if m == nil || len(m.Tensors) == 0 {
		return nil, errors.New("plan: model has no tensors")
	}
	o.Batch = max(o.Batch, 1)
	o.TP = max(o.TP, 1)
	if o.MicroBatch <= 0 {
		o.MicroBatch = DefaultMicroBatch
	}
	if o.Batch > 1<<20 || o.TP > 1024 || o.MicroBatch > 1<<20 || o.Context < 0 || o.Context > 1<<30 {
		return nil, fmt.Errorf("plan: batch %d, tp %d, micro-batch %d or context %d out of range", o.Batch, o.TP, o.MicroBatch, o.Context)
	}
	a := &m.Arch
	res := &Result{Model: m, Params: m.Params()}
	p := &planner{m: m, o: o}

	// Context and its limit.
	p.ctxLimit = a.MaxContext
	if p.ctxLimit <= 0 {
		p.ctxLimit = 1 << 30
	}
	if o.Context == 0 {
		o.Context = min(p.ctxLimit, DefaultContextCap)
		p.o.Context = o.Context
	}
	if o.Context > p.ctxLimit {
		if !o.RopeScaling {
			return nil, &ContextError{Model: a.Name, Context: o.Context, Max: a.MaxContext, ScaledContext: a.ScaledContext}
		}
		if a.ScaledContext > 0 && o.Context > a.ScaledContext {
			res.Warnings = append(res.Warnings, fmt.Sprintf("context %d is beyond %d, the longest context %s's authors publish with rope scaling",
				o.Context, a.ScaledContext, a.Name))
		}
	}
	if o.RopeScaling {
		p.ctxLimit = max(p.ctxLimit, a.ScaledContext, o.Context)
		if a.ScaledContext == 0 {
			p.ctxLimit = max(p.ctxLimit, o.Context, 4*a.MaxContext)
		}
	}

	// Experts.
	p.active = a.ActiveExperts
	if o.ActiveExperts != 0 {
		if !a.MoE() {
			return nil, fmt.Errorf("plan: --experts %d: %s is not a mixture-of-experts model", o.ActiveExperts, a.Name)
		}
		if o.ActiveExperts < 1 || o.ActiveExperts > a.Experts {
			return nil, fmt.Errorf("plan: --experts %d: %s has %d experts", o.ActiveExperts, a.Name, a.Experts)
		}
		p.active = o.ActiveExperts
	}

	// Weights.
	wf, err := ParseWeightFormat(o.Weights)
	if err != nil {
		return nil, err
	}
	p.w, err = PriceWeights(m, wf)
	if err != nil {
		return nil, err
	}
	res.Weights = p.w
	if n := len(p.w.Fallbacks); n > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d tensor(s) have rows that do not fit %s's types and fall back as llama-quantize does (first: %s)",
			n, p.w.Format, p.w.Fallbacks[0]))
	}

	// KV cache.
	p.kv, err = ParseKVType(o.KV)
	if err != nil {
		return nil, err
	}
	kivi := func(k *KVType) {
		if k.bits > 0 {
			if o.KIVIGroup > 0 {
				k.Group = o.KIVIGroup
			}
			if o.KIVIResidual > 0 {
				k.Residual = o.KIVIResidual
			}
		}
	}
	kivi(&p.kv)
	if p.kv.V != nil {
		v := *p.kv.V
		kivi(&v)
		p.kv.V = &v
	}
	if v := p.kv.value(); o.NoFlashAttention && v.ggml.Quantized() && !a.MLA() {
		f16, _ := ParseKVType("f16")
		kName, _, _ := strings.Cut(p.kv.Name, "/")
		p.kv.V, p.kv.Name = &f16, kName+"/f16"
		res.Warnings = append(res.Warnings, fmt.Sprintf("llama.cpp needs flash attention for a quantized V cache: V priced in f16 (%s)", p.kv.Name))
	}
	whole := a.Layout(1, o.FullSWA)
	p.layout = a.Layout(o.TP, o.FullSWA)
	bpt, err := whole.BytesPerToken(p.kv)
	if err != nil {
		return nil, err
	}
	seq, _ := whole.SequenceBytes(p.kv, o.Context)
	res.KV = KVReport{Type: p.kv.Name, BytesPerToken: bpt, Layout: whole,
		SequenceBytes: int64(math.Ceil(seq)), Bytes: int64(math.Ceil(seq * float64(o.Batch)))}
	switch {
	case a.MLA():
		res.KV.Note = fmt.Sprintf("MLA: the cache holds the compressed latent (kv_lora_rank %d + rope %d per token and layer), as llama.cpp and vLLM store it; replicated on every tensor-parallel device",
			a.KVLoRARank, a.QKRopeDim)
	case whole.WindowLayers > 0:
		res.KV.Note = fmt.Sprintf("%d of %d layers keep only the last %d tokens (sliding window)", whole.WindowLayers, whole.Layers, whole.Window)
	}
	if k := p.kv; k.bits > 0 || k.value().bits > 0 {
		if k.bits == 0 {
			k = k.value()
		}
		n := res.KV.Note
		if n != "" {
			n += "; "
		}
		res.KV.Note = n + fmt.Sprintf("int%d KIVI-style: %d bits per element + f16 scale and zero per group of %d, last %d tokens in f16",
			k.bits, k.bits, k.Group, k.Residual)
	}
	if o.TP > 1 && !a.MLA() && a.KVHeads%o.TP != 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d KV heads do not split evenly over %d devices: each holds %d (replicated)",
			a.KVHeads, o.TP, (a.KVHeads+o.TP-1)/o.TP))
	}
	if o.TP > 1 && a.Heads%o.TP != 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d attention heads do not divide by tensor-parallel degree %d (vLLM refuses this)", a.Heads, o.TP))
	}
	if a.SlidingWindow > 0 && o.FullSWA {
		res.Warnings = append(res.Warnings, "sliding windows ignored (--full-swa): every layer caches the whole context")
	}

	res.Activations = p.activations(o.Context, o.Batch)
	res.Total = p.w.Bytes + res.KV.Bytes + res.Activations
	res.ReadPerStep = int64(p.weightsRead(o.Batch) + float64(o.Batch)*seq)

	// Hardware.
	hw := o.Hardware
	if hw == nil {
		hw = DefaultHardware()
	}
	for i := range hw {
		res.Fits = append(res.Fits, p.fit(&hw[i]))
	}
	best, bestPer := -1, -1
	for i, f := range res.Fits {
		if !f.Fits || f.PricePerHour <= 0 {
			continue
		}
		if best < 0 || f.PricePerHour < res.Fits[best].PricePerHour ||
			(f.PricePerHour == res.Fits[best].PricePerHour && f.CostPerMillion < res.Fits[best].CostPerMillion) {
			best = i
		}
		if bestPer < 0 || f.CostPerMillion < res.Fits[bestPer].CostPerMillion {
			bestPer = i
		}
	}
	if best >= 0 {
		res.Cheapest = res.Fits[best].Hardware
		res.CheapestPer = res.Fits[bestPer].Hardware
	}

	// Other formats for comparison.
	for _, s := range ComparisonFormats {
		f, _ := ParseWeightFormat(s)
		fs := FormatSize{Format: f.String()}
		if w, err := PriceWeights(m, f); err != nil {
			fs.Error = err.Error()
		} else {
			fs.Bytes, fs.BitsPerWeight = w.Bytes, w.BitsPerWeight
		}
		res.Formats = append(res.Formats, fs)
	}
	p.o.Hardware = nil
	res.Options = p.o
	return res, nil
}

// ffnWidth is the FFN intermediate a token computes: dense, or its active
// experts plus the shared ones.
func (p *planner) ffnWidth() int64 {
	a := &p.m.Arch
	if !a.MoE() {
		return int64(a.FFN)
	}
	return int64(p.active+a.SharedExperts) * int64(a.ExpertFFNWidth())
}

// activations returns the per-device workspace of one step: for the tokens
// processed at once (the micro-batch, or the batch when larger), 4-byte
// floats for the residual and normed input (2 × hidden), Q, K and V,
// the attention output, and gate, up and activated FFN values
// (3 × ffn width); plus the logits of the batch (vocab × 4 bytes each);
// plus, without flash attention, the heads × tokens × context score matrix.
func (p *planner) activations(ctx, batch int) int64 {
	a := &p.m.Arch
	tokens := int64(max(p.o.MicroBatch, batch))
	q := int64(a.Heads) * int64(a.HeadDim)
	kvd := int64(a.KVHeads) * int64(a.HeadDim)
	if a.MLA() {
		q = int64(a.Heads) * int64(a.QKNopeDim+a.QKRopeDim)
		kvd = int64(a.KVLoRARank + a.QKRopeDim)
	}
	perToken := 2*int64(a.Hidden) + 2*q + 2*kvd + 3*p.ffnWidth()
	b := tokens*perToken*4 + int64(batch)*int64(a.Vocab)*4
	if p.o.NoFlashAttention {
		b += int64(a.Heads) * tokens * int64(ctx) * 4
	}
	return b
}

// weightsRead returns the weight bytes one decode step of batch sequences
// reads (whole model): everything but the untied embedding matrix (a token
// reads one row) and the routed experts, plus the experts the batch
// touches: E × (1 − (1 − k/E)^batch) of E when each token picks k uniformly.
func (p *planner) weightsRead(batch int) float64 {
	a := &p.m.Arch
	w := float64(p.w.Bytes - p.w.ExpertBytes - p.w.EmbeddingBytes)
	if p.w.ExpertBytes > 0 && a.Experts > 0 {
		e := float64(a.Experts)
		touched := e * (1 - math.Pow(1-float64(p.active)/e, float64(batch)))
		w += float64(p.w.ExpertBytes) * touched / e
	}
	return w
}

// need returns the bytes one of tp devices needs at ctx and batch.
func (p *planner) need(h *Hardware, ctx, batch, tp int) int64 {
	l := p.m.Arch.Layout(tp, p.o.FullSWA)
	seq, _ := l.SequenceBytes(p.kv, ctx)
	w := (p.w.Bytes + int64(tp) - 1) / int64(tp)
	return w + int64(math.Ceil(seq*float64(batch))) + p.activations(ctx, batch) + p.runtime(h)
}

func (p *planner) runtime(h *Hardware) int64 {
	if p.o.SetRuntime {
		return int64(p.o.RuntimeGiB * (1 << 30))
	}
	return int64(h.RuntimeOverheadGiB * (1 << 30))
}

func (p *planner) fit(h *Hardware) Fit {
	o := p.o
	tp := o.TP
	f := Fit{Hardware: h.Name, Kind: h.Kind, Devices: tp, UsableBytes: h.UsableBytes()}
	f.NeedBytes = p.need(h, o.Context, o.Batch, tp)
	f.Fits = f.NeedBytes <= f.UsableBytes
	fits := func(ctx, batch int) bool { return p.need(h, ctx, batch, tp) <= f.UsableBytes }

	// Longest context at the batch.
	if fits(p.ctxLimit, o.Batch) {
		f.MaxContext, f.ModelLimited = p.ctxLimit, true
	} else if fits(1, o.Batch) {
		f.MaxContext = sort.Search(p.ctxLimit, func(c int) bool { return !fits(c+1, o.Batch) })
	}
	// Most sequences at the context.
	const maxBatch = 1 << 24
	if fits(o.Context, 1) {
		f.MaxBatch = sort.Search(maxBatch, func(b int) bool { return !fits(o.Context, b+1) })
	}
	// Fewest devices.
	for _, n := range []int{1, 2, 4, 8} {
		if p.need(h, o.Context, o.Batch, n) <= f.UsableBytes {
			f.MinDevices = n
			break
		}
		if h.Kind != "gpu" {
			break
		}
	}
	// Decode ceiling: every device streams its shard of the weights and its
	// share of each sequence's cache once per step.
	seq, _ := p.layout.SequenceBytes(p.kv, o.Context)
	perDevice := p.weightsRead(o.Batch)/float64(tp) + float64(o.Batch)*seq
	if perDevice > 0 {
		f.TokensPerSecond = h.BandwidthGBs * 1e9 / perDevice
		f.AggregateTokensPerSecond = f.TokensPerSecond * float64(o.Batch)
	}
	price := h.PricePerHour
	if o.PricePerHour > 0 {
		price = o.PricePerHour
	}
	if price > 0 {
		f.PricePerHour = price * float64(tp)
		if f.AggregateTokensPerSecond > 0 {
			f.CostPerMillion = f.PricePerHour / (f.AggregateTokensPerSecond * 3600) * 1e6
		}
	}
	return f
}
