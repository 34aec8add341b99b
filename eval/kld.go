package eval

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/lmc-project/lmc/internal/atomicfile"
	"github.com/lmc-project/lmc/model"
)

// Estimate is a value with llama-perplexity's ± uncertainty.
type Estimate struct {
	Value float64 `json:"value"`
	Err   float64 `json:"err"`
}

// Quantiles summarize a distribution over the scored tokens, with
// llama-perplexity's interpolation between sorted values.
type Quantiles struct {
	Max    float64 `json:"max"`
	P99_9  float64 `json:"p99_9"`
	P99    float64 `json:"p99"`
	P95    float64 `json:"p95"`
	P90    float64 `json:"p90"`
	P75    float64 `json:"p75"`
	Median float64 `json:"median"`
	P25    float64 `json:"p25"`
	P10    float64 `json:"p10"`
	P5     float64 `json:"p5"`
	P1     float64 `json:"p1"`
	P0_1   float64 `json:"p0_1"`
	Min    float64 `json:"min"`
}

// KLDResult is the outcome of [KLD]: llama-perplexity --kl-divergence's
// statistics of a model (Q) against a base model. Probabilities (Δp,
// same-top) are fractions, not percentages.
type KLDResult struct {
	Context int `json:"ctx"`
	Chunks  int `json:"chunks"`
	Tokens  int `json:"scored_tokens"`
	// BaseFormat is how the base log-probabilities were stored
	// (FormatLlamaCpp or FormatTopK), TopK the entries per position of
	// the latter.
	BaseFormat string `json:"base_format"`
	TopK       int    `json:"top_k,omitempty"`

	PPL         Estimate `json:"ppl"`      // Mean PPL(Q)
	BasePPL     Estimate `json:"base_ppl"` // Mean PPL(base)
	Correlation float64  `json:"ln_ppl_correlation"`
	LnRatio     Estimate `json:"ln_ppl_ratio"` // Mean ln(PPL(Q)/PPL(base))
	Ratio       Estimate `json:"ppl_ratio"`    // Mean PPL(Q)/PPL(base)
	Diff        Estimate `json:"ppl_diff"`     // Mean PPL(Q)-PPL(base)

	KLD          Estimate  `json:"kld"` // mean KL(base ‖ Q), nats
	KLDQuantiles Quantiles `json:"kld_quantiles"`

	// DeltaP is the mean of p_Q − p_base of the token that came next.
	DeltaP          Estimate  `json:"delta_p"`
	DeltaPQuantiles Quantiles `json:"delta_p_quantiles"`
	RMSDeltaP       Estimate  `json:"rms_delta_p"`
	// SameTop is the share of positions where both models' most likely
	// token is the same ("Same top p").
	SameTop Estimate `json:"same_top"`

	Evaluated       int     `json:"evaluated_tokens"` // tokens run through Q
	Seconds         float64 `json:"seconds"`
	TokensPerSecond float64 `json:"tokens_per_second"`
}

// KLD evaluates m on the tokens of base and compares its next-token
// distributions with the stored ones, as llama-perplexity
// --kl-divergence does. bos replaces the first token of every chunk (the
// model's beginning-of-sequence token, −1 for none). o.Context must be 0
// or base.Context; o.Chunks limits the chunks compared.
func KLD(ctx context.Context, m *model.Model, base *BaseLogits, bos int, o Options) (*KLDResult, error) {
	if o.Context != 0 && o.Context != base.Context {
		return nil, fmt.Errorf("eval: %s was computed with a context of %d, not %d", base.Path, base.Context, o.Context)
	}
	if base.Vocab != m.Config.VocabSize {
		return nil, fmt.Errorf("eval: %s has a vocabulary of %d tokens, the model %d: not the same tokenizer", base.Path, base.Vocab, m.Config.VocabSize)
	}
	l := base.l
	if o.Chunks > 0 {
		l.chunks = min(l.chunks, o.Chunks)
	}
	return runKLD(ctx, m, base.Tokens, bos, l, base.Format, base.TopK, base.readChunk, o)
}

// KLDModels runs base and m over text and compares them, as KLD does with
// a saved file. The base's log-probabilities go through the same uint16
// encoding as [FormatLlamaCpp] files, so the numbers equal those of
// SaveBase followed by KLD.
func KLDModels(ctx context.Context, base, m *model.Model, text *Text, o Options) (*KLDResult, error) {
	if base.Config.VocabSize != m.Config.VocabSize {
		return nil, fmt.Errorf("eval: the base model has a vocabulary of %d tokens, the model %d: not the same tokenizer", base.Config.VocabSize, m.Config.VocabSize)
	}
	l, err := newLayout(text.Name, len(text.Tokens), &o)
	if err != nil {
		return nil, err
	}
	br, err := newRunner(base, l, text.BOS, o.KV)
	if err != nil {
		return nil, err
	}
	vocab := base.Config.VocabSize
	rb := rowBytesFor(FormatLlamaCpp, vocab, 0)
	src := func(i int, dst []byte) error {
		chunk := text.Tokens[i*l.ctx : (i+1)*l.ctx]
		return br.run(chunk, func(j int, logits []float32) {
			encodeQ16(dst[(j-l.first)*rb:], logits, chunk[j+1])
		})
	}
	return runKLD(ctx, m, text.Tokens, text.BOS, l, FormatLlamaCpp, 0, src, o)
}

func runKLD(ctx context.Context, m *model.Model, tokens []int, bos int, l layout, format string, k int,
	src func(i int, dst []byte) error, o Options) (*KLDResult, error) {
	r, err := newRunner(m, l, bos, o.KV)
	if err != nil {
		return nil, err
	}
	rb := rowBytesFor(format, m.Config.VocabSize, k)
	rows := make([]byte, l.scored*rb)
	kldv := make([]float32, 0, l.chunks*l.scored)
	pdv := make([]float32, 0, l.chunks*l.scored)
	var a kldAcc
	start := time.Now()
	evaluated := 0
	for i := 0; i < l.chunks; i++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := src(i, rows); err != nil {
			return nil, err
		}
		chunk := tokens[i*l.ctx : (i+1)*l.ctx]
		err := r.run(chunk, func(j int, logits []float32) {
			row := rows[(j-l.first)*rb : (j-l.first+1)*rb]
			var kv float64
			var pd float32
			if format == FormatTopK {
				kv, pd = a.addTopK(logits, row, chunk[j+1], k)
			} else {
				kv, pd = a.addQ16(logits, row, chunk[j+1])
			}
			kldv = append(kldv, float32(kv))
			pdv = append(pdv, pd)
		})
		if err != nil {
			return nil, err
		}
		evaluated += l.ctx
		if o.Progress != nil {
			lp := meanUnc(a.sumNLL, a.sumNLL2, a.count)
			o.Progress(Progress{Chunk: i + 1, Chunks: l.chunks, PPL: math.Exp(lp.Value), KLD: a.sumKLD / float64(a.count), Elapsed: time.Since(start)})
		}
	}
	res := a.result(kldv, pdv)
	res.Context, res.Chunks = l.ctx, l.chunks
	res.BaseFormat = format
	if format == FormatTopK {
		res.TopK = k
	}
	res.Evaluated = evaluated
	res.Seconds = time.Since(start).Seconds()
	res.TokensPerSecond = float64(evaluated) / max(res.Seconds, 1e-9)
	return res, nil
}

// meanUnc is llama-perplexity's mean_and_uncertainty.
func meanUnc(sum, sum2 float64, count int) Estimate {
	if count < 1 {
		return Estimate{}
	}
	n := float64(count)
	f := sum / n
	df := sum2/n - f*f
	if df > 0 && count > 10 {
		df = math.Sqrt(df / (n - 1))
	} else {
		df = 0
	}
	return Estimate{f, df}
}

// covariance is llama-perplexity's covariance (of the means).
func covariance(sa, sb, sab float64, count int) float64 {
	if count < 10 {
		return 0
	}
	n := float64(count)
	return (sab/n - (sa/n)*(sb/n)) / (n - 1)
}

func (a *kldAcc) result(kldv, pdv []float32) *KLDResult {
	r := &KLDResult{Tokens: a.count}
	lp := meanUnc(a.sumNLL, a.sumNLL2, a.count)
	ppl := math.Exp(lp.Value)
	r.PPL = Estimate{ppl, ppl * lp.Err}
	lpb := meanUnc(a.sumNLLBase, a.sumNLLBase2, a.count)
	pplb := math.Exp(lpb.Value)
	r.BasePPL = Estimate{pplb, pplb * lpb.Err}
	cov := covariance(a.sumNLL, a.sumNLLBase, a.sumNLLNLLBase, a.count)
	if lp.Err > 0 && lpb.Err > 0 {
		r.Correlation = cov / (lp.Err * lpb.Err)
	}
	lr := lp.Value - lpb.Value
	lrErr := math.Sqrt(max(0, lp.Err*lp.Err+lpb.Err*lpb.Err-2*cov))
	r.LnRatio = Estimate{lr, lrErr}
	r.Ratio = Estimate{math.Exp(lr), math.Exp(lr) * lrErr}
	pcov := ppl * pplb * cov
	r.Diff = Estimate{ppl - pplb, math.Sqrt(max(0, r.PPL.Err*r.PPL.Err+r.BasePPL.Err*r.BasePPL.Err-2*pcov))}
	r.KLD = meanUnc(a.sumKLD, a.sumKLD2, a.count)
	r.DeltaP = meanUnc(a.sumPDiff, a.sumPDiff2, a.count)
	mse := meanUnc(a.sumPDiff2, a.sumPDiff4, a.count)
	rms := math.Sqrt(mse.Value)
	r.RMSDeltaP = Estimate{Value: rms}
	if rms > 0 {
		r.RMSDeltaP.Err = 0.5 / rms * mse.Err
	}
	if a.count > 0 {
		p := float64(a.sameTop) / float64(a.count)
		r.SameTop = Estimate{Value: p}
		if a.count > 1 {
			r.SameTop.Err = math.Sqrt(p * (1 - p) / float64(a.count-1))
		}
	}
	r.KLDQuantiles = quantiles(kldv)
	r.DeltaPQuantiles = quantiles(pdv)
	return r
}

// quantiles sorts v and returns its quantiles as llama-perplexity computes
// them (linear interpolation at fraction·(n−1); the median of an even
// count is the mean of the middle two).
func quantiles(v []float32) Quantiles {
	if len(v) == 0 {
		return Quantiles{}
	}
	slices.Sort(v)
	pct := func(f float64) float64 {
		p := f * float64(len(v)-1)
		ip := int(p)
		p -= float64(ip)
		return (1-p)*float64(v[ip]) + p*float64(v[min(ip+1, len(v)-1)])
	}
	med := float64(v[len(v)/2])
	if len(v)%2 == 0 {
		med = 0.5 * (float64(v[len(v)/2]) + float64(v[len(v)/2-1]))
	}
	return Quantiles{
		Max: float64(v[len(v)-1]), P99_9: pct(0.999), P99: pct(0.99), P95: pct(0.95), P90: pct(0.90), P75: pct(0.75),
		Median: med, P25: pct(0.25), P10: pct(0.10), P5: pct(0.05), P1: pct(0.01), P0_1: pct(0.001), Min: float64(v[0]),
	}
}

// SaveBase runs m over text and writes its log-probabilities at the scored
// positions to path, for [OpenBase] and [KLD]: in FormatLlamaCpp (readable
// by llama-perplexity --kl-divergence-base) when topK is 0, else in
// FormatTopK with topK entries per position. The file is written through a
// temporary file and renamed when complete. It returns m's perplexity,
// computed on the way.
func SaveBase(ctx context.Context, m *model.Model, text *Text, path string, topK int, o Options) (*PPLResult, error) {
	vocab := m.Config.VocabSize
	if topK < 0 || topK > vocab {
		return nil, fmt.Errorf("eval: top-k %d is outside [0, %d] (0: llama.cpp's full uint16 rows)", topK, vocab)
	}
	l, err := newLayout(text.Name, len(text.Tokens), &o)
	if err != nil {
		return nil, err
	}
	r, err := newRunner(m, l, text.BOS, o.KV)
	if err != nil {
		return nil, err
	}
	format := FormatLlamaCpp
	if topK > 0 {
		format = FormatTopK
	}
	f, err := atomicfile.Create(path)
	if err != nil {
		return nil, err
	}
	defer f.Abort()
	w := bufio.NewWriterSize(f, 1<<20)
	le := binary.LittleEndian
	var hdr []byte
	if format == FormatTopK {
		hdr = append([]byte(magicTopK), make([]byte, 20)...)
		le.PutUint32(hdr[8:], 1)
		le.PutUint32(hdr[12:], uint32(l.ctx))
		le.PutUint32(hdr[16:], uint32(vocab))
		le.PutUint32(hdr[20:], uint32(l.chunks))
		le.PutUint32(hdr[24:], uint32(topK))
	} else {
		hdr = append([]byte(magicLlamaCpp), make([]byte, 12)...)
		le.PutUint32(hdr[8:], uint32(l.ctx))
		le.PutUint32(hdr[12:], uint32(vocab))
		le.PutUint32(hdr[16:], uint32(l.chunks))
	}
	w.Write(hdr)
	var b4 [4]byte
	for _, t := range text.Tokens[:l.ctx*l.chunks] {
		le.PutUint32(b4[:], uint32(t))
		w.Write(b4[:])
	}
	rb := rowBytesFor(format, vocab, topK)
	rows := make([]byte, l.scored*rb)
	var scratch []topEntry
	acc := newPPLAcc(l)
	for i := 0; i < l.chunks; i++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		chunk := text.Tokens[i*l.ctx : (i+1)*l.ctx]
		err := r.run(chunk, func(j int, logits []float32) {
			dst := rows[(j-l.first)*rb:]
			if format == FormatTopK {
				acc.add(encodeTopK(dst, logits, chunk[j+1], topK, &scratch))
			} else {
				acc.add(encodeQ16(dst, logits, chunk[j+1]))
			}
		})
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(rows); err != nil {
			return nil, fmt.Errorf("eval: write %s: %w", path, err)
		}
		acc.chunkDone(o.Progress)
	}
	if err := w.Flush(); err != nil {
		return nil, fmt.Errorf("eval: write %s: %w", path, err)
	}
	if err := f.Commit(); err != nil {
		return nil, err
	}
	return acc.result(), nil
}
