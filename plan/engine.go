package plan

// EngineRuntimeBytes is the runtime constant of lmc's own engine: the Go
// runtime and the lmc binary's touched pages (`lmc --version` peaks at about
// 13 MB RSS, GNU time -v), plus 4 MiB of heap that garbage may reach before
// the collector runs (Go's minimum heap goal). TestEngineEstimateRSS checks
// the total against `lmc run` on books5M at ctx 512 (42–46 MB peak RSS on
// 1–2 threads).
const EngineRuntimeBytes = 17 << 20

// EngineBatch is the number of tokens lmc's Session allocates activation
// buffers for when no batch is asked (model.SessionOptions.Batch's
// default), capped at the context.
const EngineBatch = 256

// EngineMemory is the estimated peak resident memory of lmc's own CPU
// engine running a model.
type EngineMemory struct {
	// Weights are the tensor bytes as stored: the engine memory-maps the
	// file, and every page of it is touched once per token. With
	// WeightsF32 they are the F32 copies instead.
	Weights int64 `json:"weights"`
	// KV is the F32 cache: K and V, layers × kv_heads × head_dim × ctx × 4.
	KV int64 `json:"kv"`
	// Activations are the Session's F32 buffers for the tokens it
	// processes at once (its batch): per token x and xb (hidden each), q
	// and the attention output (heads × head_dim each), k and v (kv_heads
	// × head_dim each), gate and up (ffn each) and the RoPE cos/sin
	// (head_dim); then the logits (vocab) and one block of attention
	// scores (16 query tokens × ctx).
	Activations int64 `json:"activations"`
	Runtime     int64 `json:"runtime"`
	Total       int64 `json:"total"`
}

// EngineOptions tune [EngineEstimate].
type EngineOptions struct {
	// Tokens is the number of tokens the engine processes at once, its
	// Session batch; 0 means lmc's default, EngineBatch capped at ctx (a
	// Session allocates its batch buffers even to decode one token).
	Tokens int
	// WeightsF32 counts the weights as F32 copies on the heap (an engine
	// that dequantizes at load) instead of the mapped file.
	WeightsF32 bool
}

// EngineEstimate returns the estimated peak RSS of lmc's engine running m
// at context ctx. It is an estimate to be checked against a measurement
// (TestEngineEstimateRSS: books5M at ctx 512, within 10% of the peak RSS
// of `lmc run`).
func EngineEstimate(m *Model, ctx int, o EngineOptions) EngineMemory {
	a := &m.Arch
	n := int64(o.Tokens)
	if n <= 0 {
		n = int64(min(EngineBatch, max(ctx, 1)))
	}
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
	qDim := int64(a.Heads) * int64(a.HeadDim)
	perToken := 2*int64(a.Hidden) + 2*qDim + 2*kvDim + 2*ffn + int64(a.HeadDim)
	e.Activations = (n*perToken + int64(a.Vocab) + 16*int64(ctx)) * 4
	e.Runtime = EngineRuntimeBytes
	e.Total = e.Weights + e.KV + e.Activations + e.Runtime
	return e
}
