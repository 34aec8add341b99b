package plan

// EngineRuntimeBytes is the runtime constant of lmc's own engine: the Go
// runtime, the lmc binary's touched pages and the heap's bookkeeping. `lmc
// --version` peaks at 6.7 MB RSS on the development machine (GNU time -v);
// 8 MiB leaves room for the goroutines and buffers of a run.
const EngineRuntimeBytes = 8 << 20

// EngineMemory is the estimated peak resident memory of lmc's own CPU
// engine running a model.
type EngineMemory struct {
	// Weights are the tensor bytes as stored: the engine memory-maps the
	// file, and every page of it is touched once per token. With
	// WeightsF32 they are the F32 copies instead.
	Weights int64 `json:"weights"`
	// KV is the F32 cache: K and V, layers × kv_heads × head_dim × ctx × 4.
	KV int64 `json:"kv"`
	// Activations are the F32 buffers for tokens processed at once:
	// x, xb, xb2 (hidden each), q (heads × head_dim), k and v, hb and hb2
	// (ffn each), the attention scores (heads × ctx), and the logits
	// (vocab).
	Activations int64 `json:"activations"`
	Runtime     int64 `json:"runtime"`
	Total       int64 `json:"total"`
}

// EngineOptions tune [EngineEstimate].
type EngineOptions struct {
	// Tokens is the number of tokens the engine processes at once (1 for
	// token-by-token decoding; 0 means 1).
	Tokens int
	// WeightsF32 counts the weights as F32 copies on the heap (an engine
	// that dequantizes at load) instead of the mapped file.
	WeightsF32 bool
}

// EngineEstimate returns the estimated peak RSS of lmc's engine running m
// at context ctx. It is an estimate to be checked against a measurement
// (the lead's test: books5M at ctx 512 within 10% of the measured peak).
func EngineEstimate(m *Model, ctx int, o EngineOptions) EngineMemory {
	a := &m.Arch
	n := int64(max(o.Tokens, 1))
	var e EngineMemory
	for _, t := range m.Tensors {
		if o.WeightsF32 {
			e.Weights += t.Elements() * 4
		} else if b, err := tensorBytes(t, t.Type); err == nil {
			e.Weights += b
		}
	}
	kvDim := int64(a.KVHeads) * int64(a.HeadDim)
	e.KV = 2 * int64(a.Layers) * kvDim * int64(ctx) * 4
	ffn := int64(a.FFN)
	if a.MoE() {
		ffn = int64(a.ActiveExperts+a.SharedExperts) * int64(a.ExpertFFNWidth())
	}
	perToken := 3*int64(a.Hidden) + int64(a.Heads)*int64(a.HeadDim) + 2*kvDim + 2*ffn +
		int64(a.Heads)*int64(ctx) + int64(a.Vocab)
	e.Activations = n * perToken * 4
	e.Runtime = EngineRuntimeBytes
	e.Total = e.Weights + e.KV + e.Activations + e.Runtime
	return e
}
