// Package kveval measures what KV-cache compression costs: for each cache
// configuration (element type × eviction policy × budget) it reports the
// memory (bytes per token, cache bytes, peak RSS), the decoding speed, and
// the quality against the float32 cache: perplexity and KL divergence
// over long text, and a repeat-retrieval test that a small model can pass.
//
// # Perplexity and KLD
//
// The text is cut into chunks of Context tokens, each evaluated from an
// empty cache with its first token replaced by BOS, and the positions
// Context/2 … Context−2 are scored (llama-perplexity's layout). Configs
// without a policy evaluate each chunk in batches; configs with one
// evaluate it one token at a time, so that every query sees at most the
// budget plus itself, as in decoding. KLD is the mean over scored
// positions of KL(base ‖ config), the base being the first config
// (normally f32 with no policy).
//
// # Repeat retrieval
//
// A passage of Passage tokens appears twice in a context of Context
// tokens of other text: the second copy ends the context, and the first
// is placed at its beginning (position 1), middle, or end (just before
// the second). Copying the passage needs the first copy in the cache
// (induction heads); the score is the top-1 accuracy and mean NLL of the
// second copy's tokens after its first, averaged over Trials passages.
// Control is the same score with the first copy replaced by other text.
//
// # Long text
//
// [Long] evaluates one sequence Factor times the model's context (past
// the positions it was trained on) and reports the perplexity of each
// context-long segment and the cache's bytes: a full cache degrades past
// the trained positions and grows; StreamingLLM stays flat and constant.
//
// # Limits
//
// The text must hold at least two chunks (and Factor contexts for Long).
// Peak RSS is read from /proc/self/status (Linux; 0 elsewhere) after a
// garbage collection, so it includes the model.
package kveval

import (
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/lmc-project/lmc/model"
)

// Config is one cache configuration.
type Config struct {
	KV     model.KVType
	Policy model.KVPolicy
	// Budget is the fraction of the context each layer keeps (1: all;
	// ignored without a policy).
	Budget float64
	// KeyRank, when positive, stores keys on a low-rank basis of that
	// rank, calibrated on the end of the text (see model.KeyBasis), unless
	// Options.KeyBasis is already set.
	KeyRank int
	// Options holds further cache options (KIVI group, residual, sinks…);
	// Policy, Budget and BudgetFraction are set from the fields above.
	Options model.KVOptions
}

// Name is "type", or "type policy budget%".
func (c Config) Name() string {
	n := c.KV.String()
	if c.KeyRank > 0 {
		n += fmt.Sprintf(" keys r%d", c.KeyRank)
	}
	if c.Policy == model.KVKeepAll {
		return n
	}
	return fmt.Sprintf("%s %v %d%%", n, c.Policy, int(math.Round(c.Budget*100)))
}

func (c Config) session(m *model.Model, ctx, batch int) (*model.Session, error) {
	o := c.Options
	o.Policy, o.Budget, o.BudgetFraction = c.Policy, 0, 0
	if c.Policy != model.KVKeepAll {
		o.Budget = max(1, int(math.Round(c.Budget*float64(ctx))))
		batch = 1
	}
	return m.NewSessionWith(model.SessionOptions{Context: ctx, KV: c.KV, KVOptions: o, Batch: batch})
}

// ParseConfigs reads a list of configurations: types (as model.ParseKVType),
// each optionally followed by +rN (keys on a rank-N basis) and by
// @policy:budget% ("f16@h2o:20", "f32+r32"), comma-separated.
func ParseConfigs(s string) ([]Config, error) {
	var out []Config
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		typ, rest, _ := strings.Cut(f, "@")
		typ, rank, lowRank := strings.Cut(typ, "+r")
		kv, err := model.ParseKVType(typ)
		if err != nil {
			return nil, err
		}
		c := Config{KV: kv, Budget: 1}
		if lowRank {
			if c.KeyRank, err = strconv.Atoi(rank); err != nil || c.KeyRank <= 0 {
				return nil, fmt.Errorf("kveval: %q: key rank %q is not a positive number", f, rank)
			}
		}
		if rest != "" {
			pol, b, ok := strings.Cut(rest, ":")
			if !ok {
				return nil, fmt.Errorf("kveval: %q: want type@policy:budget%%", f)
			}
			if c.Policy, err = model.ParseKVPolicy(pol); err != nil {
				return nil, err
			}
			pct, err := strconv.ParseFloat(strings.TrimSuffix(b, "%"), 64)
			if err != nil || !(pct > 0 && pct <= 100) {
				return nil, fmt.Errorf("kveval: %q: budget %q is not a percentage in (0, 100]", f, b)
			}
			c.Budget = pct / 100
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("kveval: no configurations")
	}
	return out, nil
}

// Grid returns the standard table: the base f32, every other type with
// the whole cache, q8_0 keys with q4_0 values, keys of rank 3/4 and 1/2
// of head_dim (headDim; skipped when 0), then each policy (streaming, h2o,
// snapkv, tova, merge) at 100, 50, 20 and 10 % with type kv.
func Grid(kv model.KVType, headDim int) []Config {
	out := []Config{{KV: model.KVF32, Budget: 1}}
	for _, n := range model.KVTypeNames()[1:] {
		t, _ := model.ParseKVType(n)
		out = append(out, Config{KV: t, Budget: 1})
	}
	out = append(out, Config{KV: model.KVPair(model.KVQ8_0, model.KVQ4_0), Budget: 1})
	if headDim > 0 {
		out = append(out, Config{KV: model.KVF32, Budget: 1, KeyRank: headDim * 3 / 4}, Config{KV: model.KVF32, Budget: 1, KeyRank: headDim / 2})
	}
	for _, p := range []model.KVPolicy{model.KVStreaming, model.KVH2O, model.KVSnapKV, model.KVTOVA, model.KVMerge} {
		for _, b := range []float64{1, 0.5, 0.2, 0.1} {
			out = append(out, Config{KV: kv, Policy: p, Budget: b})
		}
	}
	return out
}

// Options configures Run.
type Options struct {
	// Context is the chunk length (default: the model's context length).
	Context int
	// Chunks bounds the chunks evaluated (0: every chunk of the text).
	Chunks int
	// BOS replaces each chunk's first token (negative: keep it).
	BOS int
	// Passage and Trials set the retrieval test (defaults 32 tokens, 4
	// passages; Trials < 0 skips it).
	Passage, Trials int
	// Batch is the prompt batch of configs without a policy (default 64).
	Batch int
	// Progress, when not nil, is called as configs finish.
	Progress func(done, total int, r *Result)
}

// Retrieval is the repeat-retrieval score of one placement.
type Retrieval struct {
	Place string  `json:"place"` // beginning, middle, end, control
	Acc   float64 `json:"acc"`   // top-1 accuracy on the second copy
	NLL   float64 `json:"nll"`   // mean NLL on the second copy (nats)
}

// Result is one configuration's measurements.
type Result struct {
	Config       string  `json:"config"`
	KV           string  `json:"kv"`
	Policy       string  `json:"policy"`
	BudgetPct    float64 `json:"budget_pct"`
	BudgetTokens int     `json:"budget_tokens"`
	// BytesPerToken is the cache's storage per position (all layers,
	// keys and values); CacheBytes the most the cache held during the
	// perplexity pass; PeakRSS the process's peak resident memory during
	// this config (model included).
	BytesPerToken float64 `json:"kv_bytes_per_token"`
	CacheBytes    int64   `json:"cache_bytes"`
	PeakRSS       int64   `json:"peak_rss"`
	// TokensPerSecond is the decoding speed with a full context.
	TokensPerSecond float64 `json:"decode_tokens_per_second"`
	PPL             float64 `json:"ppl"`
	DeltaPPL        float64 `json:"delta_ppl"`
	KLD             float64 `json:"kld"`
	// Top1 is how often the config's most likely token is the base's.
	Top1      float64     `json:"top1_agreement"`
	Retrieval []Retrieval `json:"retrieval,omitempty"`
	Seconds   float64     `json:"seconds"`
}

// Run evaluates each configuration on tokens; the first is the base of
// Δppl and KLD.
func Run(m *model.Model, tokens []int, cfgs []Config, o Options) ([]Result, error) {
	if o.Context <= 0 {
		o.Context = m.Config.ContextLength
	}
	if o.Batch <= 0 {
		o.Batch = 64
	}
	if o.Passage <= 0 {
		o.Passage = 32
	}
	if o.Trials == 0 {
		o.Trials = 4
	}
	C := o.Context
	if C < 8 {
		return nil, fmt.Errorf("kveval: context %d is too small", C)
	}
	chunks := len(tokens) / C
	if chunks < 2 {
		return nil, fmt.Errorf("kveval: the text has %d tokens; a context of %d needs at least %d", len(tokens), C, 2*C)
	}
	if o.Chunks > 0 {
		chunks = min(chunks, o.Chunks)
	}
	if o.Trials > 0 && 4*o.Passage+8 > C {
		return nil, fmt.Errorf("kveval: a retrieval passage of %d tokens does not fit twice in a context of %d", o.Passage, C)
	}
	first := C / 2
	vocab := m.Config.VocabSize
	var base [][]float32 // log-probabilities of the base, per scored position
	var baseNLL float64
	var out []Result
	for ci, cfg := range cfgs {
		if cfg.KeyRank > 0 && cfg.Options.KeyBasis == nil {
			// Calibrate on the end of the text, away from the chunks.
			kb, err := model.CalibrateKeyBasis(m, tokens[len(tokens)-2*C:], C, cfg.KeyRank)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", cfg.Name(), err)
			}
			cfg.Options.KeyBasis = kb
		}
		startRSS()
		t0 := time.Now()
		s, err := cfg.session(m, C, o.Batch)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", cfg.Name(), err)
		}
		cache := s.Cache().(*model.Cache)
		r := Result{Config: cfg.Name(), KV: cfg.KV.String(), Policy: cfg.Policy.String(), BudgetPct: 100 * cfg.Budget,
			BudgetTokens: C, BytesPerToken: cache.BytesPerToken()}
		if cfg.Policy == model.KVKeepAll {
			r.BudgetPct = 100
		} else {
			r.BudgetTokens = cache.Budget()
		}
		var nll, kld float64
		var agree, scored int
		buf := make([]int, C)
		lp := make([]float32, vocab)
		for ch := 0; ch < chunks; ch++ {
			copy(buf, tokens[ch*C:(ch+1)*C])
			if o.BOS >= 0 {
				buf[0] = o.BOS
			}
			s.Reset()
			row := 0
			err := s.PrefillFunc(buf[:C-1], func(i int, logits []float32) {
				if i < first {
					return
				}
				logSoftmax(lp, logits)
				nll -= float64(lp[buf[i+1]])
				if ci == 0 {
					base = append(base, append([]float32(nil), lp...))
				} else {
					b := base[ch*(C-1-first)+row]
					kld += kl(b, lp)
					if argmax(b) == argmax(lp) {
						agree++
					}
				}
				row++
				scored++
			})
			if err != nil {
				return nil, fmt.Errorf("%s: %w", cfg.Name(), err)
			}
			r.CacheBytes = max(r.CacheBytes, cache.Bytes())
		}
		r.PPL = math.Exp(nll / float64(scored))
		if ci == 0 {
			baseNLL = nll / float64(scored)
			r.Top1 = 1
		} else {
			r.KLD = kld / float64(scored)
			r.Top1 = float64(agree) / float64(scored)
		}
		r.DeltaPPL = r.PPL - math.Exp(baseNLL)
		if o.Trials > 0 {
			if r.Retrieval, err = retrieval(s, tokens, C, o, ci == 0); err != nil {
				return nil, fmt.Errorf("%s: %w", cfg.Name(), err)
			}
		}
		if r.TokensPerSecond, err = decodeSpeed(m, cfg, tokens, C); err != nil {
			return nil, fmt.Errorf("%s: %w", cfg.Name(), err)
		}
		r.PeakRSS = peakRSS()
		r.Seconds = time.Since(t0).Seconds()
		s.Close()
		out = append(out, r)
		if o.Progress != nil {
			o.Progress(ci+1, len(cfgs), &out[len(out)-1])
		}
	}
	return out, nil
}

// retrieval runs the repeat-retrieval test on session s.
func retrieval(s *model.Session, tokens []int, C int, o Options, control bool) ([]Retrieval, error) {
	Lp := o.Passage
	places := []string{"beginning", "middle", "end"}
	if control {
		places = append(places, "control")
	}
	var out []Retrieval
	n := len(tokens)
	for _, place := range places {
		var acc, nll float64
		var count int
		for tr := 0; tr < o.Trials; tr++ {
			// The passage and the filler come from distant parts of the
			// text, different for each trial.
			pStart := (n/2 + tr*n/(4*o.Trials) + 7919*tr) % (n - Lp)
			fStart := (tr * n / (2 * o.Trials)) % (n - C)
			seq := make([]int, C)
			copy(seq, tokens[fStart:fStart+C])
			seq[0] = o.BOS
			if o.BOS < 0 {
				seq[0] = tokens[fStart]
			}
			passage := tokens[pStart : pStart+Lp]
			second := C - Lp
			var at int
			switch place {
			case "beginning":
				at = 1
			case "middle":
				at = (second - Lp) / 2
			case "end":
				at = second - Lp
			}
			if place != "control" {
				copy(seq[at:], passage)
			}
			copy(seq[second:], passage)
			s.Reset()
			lp := make([]float32, len(passage)+1)
			_ = lp
			err := s.PrefillFunc(seq[:C-1], func(i int, logits []float32) {
				j := i + 1 - second // index in the passage of the predicted token
				if j < 1 {
					return
				}
				want := passage[j]
				if argmax(logits) == want {
					acc++
				}
				nll += lse(logits) - float64(logits[want])
				count++
			})
			if err != nil {
				return nil, err
			}
		}
		out = append(out, Retrieval{Place: place, Acc: acc / float64(count), NLL: nll / float64(count)})
	}
	return out, nil
}

// decodeSpeed fills a session to C−32 positions and times 32 decoded
// tokens, best of two rounds.
func decodeSpeed(m *model.Model, cfg Config, tokens []int, C int) (float64, error) {
	const gen = 32
	s, err := cfg.session(m, C, 64)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	if _, err := s.Prefill(tokens[:C-gen]); err != nil {
		return 0, err
	}
	best := math.Inf(1)
	for round := 0; round < 2; round++ {
		t0 := time.Now()
		for i := 0; i < gen; i++ {
			if _, err := s.Decode(tokens[C-gen+i]); err != nil {
				return 0, err
			}
		}
		best = math.Min(best, time.Since(t0).Seconds())
		if cfg.Policy != model.KVKeepAll {
			break // evicted positions cannot be truncated back
		}
		s.Truncate(C - gen)
	}
	return gen / best, nil
}

// LongResult is the perplexity of each context-long segment of one long
// sequence and the cache's bytes at the end of each.
type LongResult struct {
	Config     string    `json:"config"`
	SegmentPPL []float64 `json:"segment_ppl"`
	CacheBytes []int64   `json:"cache_bytes"`
}

// Long evaluates sequences of factor×ctx tokens (seqs of them, from
// distinct parts of the text) in one session each, scoring every token.
func Long(m *model.Model, tokens []int, cfgs []Config, ctx, factor, seqs, bos int) ([]LongResult, error) {
	if ctx <= 0 {
		ctx = m.Config.ContextLength
	}
	L := factor * ctx
	if seqs <= 0 {
		seqs = 1
	}
	if len(tokens) < seqs*L {
		return nil, fmt.Errorf("kveval: the text has %d tokens; %d sequences of %d×%d need %d", len(tokens), seqs, factor, ctx, seqs*L)
	}
	var out []LongResult
	for _, cfg := range cfgs {
		c := cfg
		if c.Policy != model.KVKeepAll {
			// The budget is a fraction of the model's context, not of
			// the long sequence.
			c.Budget = cfg.Budget / float64(factor)
		}
		s, err := c.session(m, L, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", cfg.Name(), err)
		}
		r := LongResult{Config: cfg.Name(), SegmentPPL: make([]float64, factor), CacheBytes: make([]int64, factor)}
		nll := make([]float64, factor)
		cnt := make([]int, factor)
		for q := 0; q < seqs; q++ {
			seq := append([]int(nil), tokens[q*L:(q+1)*L]...)
			if bos >= 0 {
				seq[0] = bos
			}
			s.Reset()
			for seg := 0; seg < factor; seg++ {
				lo, hi := seg*ctx, min((seg+1)*ctx, L-1)
				err := s.PrefillFunc(seq[lo:hi], func(i int, logits []float32) {
					nll[seg] += lse(logits) - float64(logits[seq[lo+i+1]])
					cnt[seg]++
				})
				if err != nil {
					return nil, fmt.Errorf("%s: %w", cfg.Name(), err)
				}
				r.CacheBytes[seg] = max(r.CacheBytes[seg], s.Cache().(*model.Cache).Bytes())
			}
		}
		for seg := range nll {
			r.SegmentPPL[seg] = math.Exp(nll[seg] / float64(cnt[seg]))
		}
		s.Close()
		out = append(out, r)
	}
	return out, nil
}

func lse(x []float32) float64 {
	m := x[0]
	for _, v := range x {
		m = max(m, v)
	}
	var s float64
	for _, v := range x {
		s += math.Exp(float64(v - m))
	}
	return float64(m) + math.Log(s)
}

func logSoftmax(dst, x []float32) {
	l := float32(lse(x))
	for i, v := range x {
		dst[i] = v - l
	}
}

// kl is KL(p ‖ q) of two log-probability rows.
func kl(p, q []float32) float64 {
	var s float64
	for i, lp := range p {
		if lp > -80 {
			s += math.Exp(float64(lp)) * float64(lp-q[i])
		}
	}
	return max(s, 0)
}

func argmax(x []float32) int {
	b := 0
	for i, v := range x {
		if v > x[b] {
			b = i
		}
	}
	return b
}

// startRSS frees what the last config left and resets the peak RSS
// counter (Linux: clear_refs 5).
func startRSS() {
	runtime.GC()
	debug.FreeOSMemory()
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakRSS reads VmHWM from /proc/self/status, in bytes (0 if unknown).
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}
