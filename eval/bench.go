package eval

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/lmc-project/lmc/kernels"
	"github.com/lmc-project/lmc/model"
)

// BenchOptions configure [Bench]. The zero value runs nothing; llama-bench's
// defaults are Prompt 512, Gen 128, Reps 5.
type BenchOptions struct {
	// Prompt is the prompt length of the prompt-processing test (ppN): a
	// BOS token and Prompt−1 random tokens evaluated in one Prefill from
	// an empty cache. 0 skips the test.
	Prompt int
	// Gen is the number of decoded tokens of the generation test (tgN):
	// Decode called Gen times from an empty cache, on BOS and then random
	// tokens. 0 skips the test.
	Gen int
	// Reps is the number of timed repetitions of each test (default 5),
	// after one untimed warm-up run, as llama-bench does.
	Reps int
	// KV is the KV cache type.
	KV model.KVType
	// BOS is the first token of every test (−1: a random one).
	BOS int
	// Seed seeds the random tokens.
	Seed uint64
	// Progress, when not nil, is called before each run (rep 0 is the
	// warm-up).
	Progress func(test string, rep int)
}

// BenchTest is the result of one test.
type BenchTest struct {
	Name   string `json:"name"` // "pp128", "tg128"
	Tokens int    `json:"tokens"`
	// Samples are the tokens per second of each repetition; Mean and Std
	// their mean and sample standard deviation (llama-bench's avg_ts and
	// stddev_ts).
	Samples []float64 `json:"samples_tokens_per_second"`
	Mean    float64   `json:"tokens_per_second"`
	Std     float64   `json:"std_tokens_per_second"`
	// GBPerSecond is the memory bandwidth the speed of a generation test
	// implies: weight bytes read per decoded token × tokens per second
	// (every decoded token reads every weight once). 0 for prompt tests,
	// where one pass over the weights serves the whole batch.
	GBPerSecond float64 `json:"weight_gb_per_second,omitempty"`
}

// BenchResult is the outcome of [Bench].
type BenchResult struct {
	Threads        int    `json:"threads"`
	Implementation string `json:"kernels"`
	// WeightBytes are the bytes of weights one decoded token reads: every
	// weight matrix but the token embedding, plus one embedding row.
	WeightBytes int64       `json:"weight_bytes_per_token"`
	Tests       []BenchTest `json:"tests"`
	// PeakRSS is the process's peak resident memory when Bench returned
	// (VmHWM; 0 where the system does not report it).
	PeakRSS int64 `json:"peak_rss_bytes"`
}

// Bench measures prompt processing and generation speed of m the way
// llama-bench -p Prompt -n Gen -r Reps does, on kernels.Threads()
// threads.
func Bench(ctx context.Context, m *model.Model, o BenchOptions) (*BenchResult, error) {
	if o.Prompt < 0 || o.Gen < 0 || o.Reps < 0 {
		return nil, fmt.Errorf("eval: bench sizes must not be negative (prompt %d, gen %d, reps %d)", o.Prompt, o.Gen, o.Reps)
	}
	reps := o.Reps
	if reps == 0 {
		reps = 5
	}
	vocab := m.Config.VocabSize
	rng := rand.New(rand.NewPCG(o.Seed, 0x6c6d63))
	first := func() int {
		if o.BOS >= 0 && o.BOS < vocab {
			return o.BOS
		}
		return rng.IntN(vocab)
	}
	res := &BenchResult{Threads: kernels.Threads(), Implementation: kernels.Implementation(), WeightBytes: WeightBytesPerToken(m)}
	run := func(name string, n int, gen bool, once func(s *model.Session) error) error {
		s, err := m.NewSessionWith(model.SessionOptions{Context: n, KV: o.KV, Batch: n})
		if err != nil {
			return err
		}
		t := BenchTest{Name: name, Tokens: n}
		for rep := 0; rep <= reps; rep++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			if o.Progress != nil {
				o.Progress(name, rep)
			}
			s.Reset()
			t0 := time.Now()
			if err := once(s); err != nil {
				return err
			}
			if rep > 0 {
				t.Samples = append(t.Samples, float64(n)/max(time.Since(t0).Seconds(), 1e-9))
			}
		}
		t.Mean, t.Std = meanStd(t.Samples)
		if gen {
			t.GBPerSecond = float64(res.WeightBytes) * t.Mean / 1e9
		}
		res.Tests = append(res.Tests, t)
		return nil
	}
	if o.Prompt > 0 {
		toks := make([]int, o.Prompt)
		err := run("pp"+strconv.Itoa(o.Prompt), o.Prompt, false, func(s *model.Session) error {
			toks[0] = first()
			for i := 1; i < len(toks); i++ {
				toks[i] = rng.IntN(vocab)
			}
			_, err := s.Prefill(toks)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	if o.Gen > 0 {
		err := run("tg"+strconv.Itoa(o.Gen), o.Gen, true, func(s *model.Session) error {
			tok := first()
			for i := 0; i < o.Gen; i++ {
				if _, err := s.Decode(tok); err != nil {
					return err
				}
				tok = rng.IntN(vocab)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	res.PeakRSS = PeakRSS()
	return res, nil
}

// meanStd returns the mean and the sample standard deviation.
func meanStd(v []float64) (mean, std float64) {
	if len(v) == 0 {
		return 0, 0
	}
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	if len(v) < 2 {
		return mean, 0
	}
	for _, x := range v {
		std += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(std / float64(len(v)-1))
}

// WeightBytesPerToken returns the weight bytes one decoded token reads:
// every weight matrix in its stored type, except that of the token
// embedding only one row (unless it is also the output projection).
func WeightBytesPerToken(m *model.Model) int64 {
	var n int64
	for _, name := range m.WeightNames() {
		w := m.Weight(name)
		b := int64(len(w.Data()))
		if name == "token_embd.weight" && !m.Config.TiedEmbeddings {
			b /= int64(max(w.Rows(), 1))
		}
		n += b
	}
	return n
}

// PeakRSS returns the peak resident set size of the process in bytes
// (VmHWM from /proc/self/status), or 0 where it is not available.
func PeakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(v)
			if len(f) == 2 && f[1] == "kB" {
				if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil {
					return kb << 10
				}
			}
		}
	}
	return 0
}
