package eval

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/lmc-project/lmc/model"
)

// Options configure [Perplexity], [KLD], [KLDModels] and [SaveBase].
type Options struct {
	// Context is the chunk length in tokens (llama-perplexity -c). The
	// text is cut into len(tokens)/Context chunks; each is evaluated from
	// an empty cache, with its first token replaced by BOS, and positions
	// Context/2 … Context−2 are scored (each predicting the next token).
	// At least 3; the text must have at least 2×Context tokens.
	Context int
	// Chunks, when positive, evaluates only the first Chunks chunks
	// (llama-perplexity --chunks).
	Chunks int
	// KV is the KV cache type of the evaluated models (default float32;
	// llama.cpp's default is F16).
	KV model.KVType
	// Progress, when not nil, is called after every chunk.
	Progress func(Progress)
}

// Progress reports a run after each chunk.
type Progress struct {
	Chunk, Chunks int     // chunks done (1-based) and to do
	PPL           float64 // perplexity so far (of the evaluated model)
	KLD           float64 // mean KL divergence so far (KLD runs only)
	Elapsed       time.Duration
}

// PPLResult is the outcome of [Perplexity].
type PPLResult struct {
	Context int `json:"ctx"`
	Chunks  int `json:"chunks"`
	// Tokens is the number of scored tokens: Chunks × (Context − 1 −
	// Context/2).
	Tokens int `json:"scored_tokens"`
	// NLL is the mean negative log-likelihood in nats per scored token,
	// NLLStd its standard deviation over the scored tokens.
	NLL    float64 `json:"nll"`
	NLLStd float64 `json:"nll_std"`
	// PPL is exp(NLL); PPLErr is llama-perplexity's "±" estimate:
	// PPL × sqrt(var(nll)/(Tokens−1)).
	PPL    float64 `json:"ppl"`
	PPLErr float64 `json:"ppl_err"`
	// Running is the perplexity after each chunk, the numbers
	// llama-perplexity prints as [1]…,[2]….
	Running []float64 `json:"running"`
	// Evaluated is the number of tokens run through the model (Chunks ×
	// Context), Seconds the wall time and TokensPerSecond their ratio.
	Evaluated       int     `json:"evaluated_tokens"`
	Seconds         float64 `json:"seconds"`
	TokensPerSecond float64 `json:"tokens_per_second"`
}

// layout is how a text is cut into chunks.
type layout struct {
	ctx, chunks, first, scored int
}

func newLayout(name string, nTokens int, o *Options) (layout, error) {
	if o.Context < 3 {
		return layout{}, fmt.Errorf("eval: context %d is too small (at least 3 tokens, half of them scored)", o.Context)
	}
	if nTokens < 2*o.Context {
		return layout{}, fmt.Errorf("%w: %s tokenizes to %d tokens; a context of %d needs at least %d (two chunks)", ErrText, name, nTokens, o.Context, 2*o.Context)
	}
	l := layout{ctx: o.Context, chunks: nTokens / o.Context, first: o.Context / 2}
	if o.Chunks > 0 {
		l.chunks = min(l.chunks, o.Chunks)
	}
	l.scored = l.ctx - 1 - l.first
	return l, nil
}

// runner evaluates chunks of tokens with one model, llama-perplexity's
// way: empty cache, first token replaced by BOS, logits of the second half.
type runner struct {
	m   *model.Model
	s   *model.Session
	l   layout
	bos int
	buf []int
}

func newRunner(m *model.Model, l layout, bos int, kv model.KVType) (*runner, error) {
	if bos >= m.Config.VocabSize {
		return nil, fmt.Errorf("eval: BOS token %d is outside the model's vocabulary of %d", bos, m.Config.VocabSize)
	}
	// One batch of logits is held at a time: keep it under 64 MiB for
	// large vocabularies.
	batch := min(256, max(32, (16<<20)/max(m.Config.VocabSize, 1)))
	s, err := m.NewSessionWith(model.SessionOptions{Context: l.ctx, KV: kv, Batch: batch})
	if err != nil {
		return nil, err
	}
	return &runner{m: m, s: s, l: l, bos: bos, buf: make([]int, l.ctx)}, nil
}

// run evaluates chunk (Context tokens) and calls fn(j, logits) for every
// scored position j in [first, ctx−1): logits predict chunk[j+1].
func (r *runner) run(chunk []int, fn func(j int, logits []float32)) error {
	copy(r.buf, chunk)
	if r.bos >= 0 {
		r.buf[0] = r.bos
	}
	r.s.Reset()
	first := r.l.first
	if _, err := r.s.Prefill(r.buf[:first]); err != nil {
		return err
	}
	return r.s.PrefillFunc(r.buf[first:], func(i int, logits []float32) {
		if j := first + i; j < r.l.ctx-1 {
			fn(j, logits)
		}
	})
}

// Perplexity computes the perplexity of m on text exactly as
// llama-perplexity does (see [Options.Context]): the mean negative
// log-likelihood of the scored tokens, its exponential, and llama.cpp's ±
// estimate. It stops with ctx's error when ctx is cancelled.
func Perplexity(ctx context.Context, m *model.Model, text *Text, o Options) (*PPLResult, error) {
	l, err := newLayout(text.Name, len(text.Tokens), &o)
	if err != nil {
		return nil, err
	}
	r, err := newRunner(m, l, text.BOS, o.KV)
	if err != nil {
		return nil, err
	}
	acc := newPPLAcc(l)
	for i := 0; i < l.chunks; i++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		chunk := text.Tokens[i*l.ctx : (i+1)*l.ctx]
		err := r.run(chunk, func(j int, logits []float32) {
			acc.add(nllOf(logits, chunk[j+1]))
		})
		if err != nil {
			return nil, err
		}
		acc.chunkDone(o.Progress)
	}
	return acc.result(), nil
}

// pplAcc accumulates negative log-likelihoods chunk by chunk.
type pplAcc struct {
	res       *PPLResult
	l         layout
	nll, nll2 float64
	count     int
	start     time.Time
}

func newPPLAcc(l layout) *pplAcc {
	return &pplAcc{res: &PPLResult{Context: l.ctx, Chunks: l.chunks, Running: make([]float64, 0, l.chunks)}, l: l, start: time.Now()}
}

func (a *pplAcc) add(v float64) {
	a.nll += v
	a.nll2 += v * v
	a.count++
}

// chunkDone records the running perplexity after a chunk.
func (a *pplAcc) chunkDone(progress func(Progress)) {
	p := math.Exp(a.nll / float64(a.count))
	a.res.Running = append(a.res.Running, p)
	if progress != nil {
		progress(Progress{Chunk: len(a.res.Running), Chunks: a.l.chunks, PPL: p, Elapsed: time.Since(a.start)})
	}
}

func (a *pplAcc) result() *PPLResult {
	res := a.res
	res.Seconds = time.Since(a.start).Seconds()
	res.Tokens = a.count
	res.Evaluated = len(res.Running) * a.l.ctx
	res.TokensPerSecond = float64(res.Evaluated) / max(res.Seconds, 1e-9)
	n := float64(a.count)
	res.NLL = a.nll / n
	res.PPL = math.Exp(res.NLL)
	if v := a.nll2/n - res.NLL*res.NLL; v > 0 {
		res.NLLStd = math.Sqrt(v)
		res.PPLErr = math.Sqrt(v/(n-1)) * res.PPL
	}
	return res
}

// nllOf is −log softmax(logits)[tok], computed as llama-perplexity does:
// float32 logits shifted by their maximum, exponentials summed in float64.
func nllOf(logits []float32, tok int) float64 {
	mx := logits[0]
	for _, v := range logits[1:] {
		mx = max(mx, v)
	}
	var sum float64
	for _, v := range logits {
		sum += float64(float32(math.Exp(float64(v - mx))))
	}
	return math.Log(sum) - float64(logits[tok]-mx)
}
