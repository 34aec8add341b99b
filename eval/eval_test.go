package eval_test

import (
	"bufio"
	"context"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/lmc-project/lmc/eval"
	"github.com/lmc-project/lmc/internal/shared"
	"github.com/lmc-project/lmc/model"
	"github.com/lmc-project/lmc/modelfile"
	_ "github.com/lmc-project/lmc/quant" // kernels of the llama.cpp quantizations
	"github.com/lmc-project/lmc/tokenizer"
)

// long reports whether the full-text checks (all 1683 chunks of pg98.txt,
// minutes of CPU) were asked for with LMC_LONG=1.
func long() bool { return os.Getenv("LMC_LONG") == "1" }

const books5M = "models/books5M/books5M-f32.gguf"

// loadModel opens and loads a model from the shared test data.
func loadModel(t testing.TB, rel string) (*model.Model, *tokenizer.Tokenizer) {
	t.Helper()
	mf, err := modelfile.Open(shared.Path(t, rel), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mf.Close() })
	m, err := model.Load(mf, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.New(mf.Vocab)
	if err != nil {
		t.Fatal(err)
	}
	return m, tok
}

var (
	pg98Once sync.Once
	pg98     *eval.Text
	pg98Err  error
)

// pg98Text is pg98.txt tokenized with books5M's tokenizer.
func pg98Text(t testing.TB, tok *tokenizer.Tokenizer) *eval.Text {
	t.Helper()
	p := shared.Path(t, "text/gutenberg/pg98.txt")
	pg98Once.Do(func() { pg98, pg98Err = eval.ReadText(p, tok) })
	if pg98Err != nil {
		t.Fatal(pg98Err)
	}
	return pg98
}

// llamaRunningPPL parses llama-perplexity's [1]x,[2]y,… line from its log
// of books5M F32 on pg98.txt at ctx 256.
func llamaRunningPPL(t testing.TB) []float64 {
	t.Helper()
	b, err := os.ReadFile(shared.Path(t, "models/books5M/llamacpp/logs/f32.base.log"))
	if err != nil {
		t.Fatal(err)
	}
	var out []float64
	for _, m := range regexp.MustCompile(`\[(\d+)\]([0-9.]+),`).FindAllStringSubmatch(string(b), -1) {
		i, _ := strconv.Atoi(m[1])
		v, _ := strconv.ParseFloat(m[2], 64)
		if i != len(out)+1 {
			break // the log repeats the tail of the line
		}
		out = append(out, v)
	}
	if len(out) != 1683 {
		t.Fatalf("parsed %d running values from the llama.cpp log, want 1683", len(out))
	}
	return out
}

// TestTokenizePg98 checks the evaluation text against the token count
// llama.cpp's tokenizer gives (books5M README: 431,017 with BOS).
func TestTokenizePg98(t *testing.T) {
	_, tok := loadModel(t, books5M)
	text := pg98Text(t, tok)
	if len(text.Tokens) != 431017 || text.Tokens[0] != 1 || text.BOS != 1 {
		t.Errorf("pg98.txt: %d tokens, first %d, BOS %d; want 431017, 1, 1", len(text.Tokens), text.Tokens[0], text.BOS)
	}
	// The Hugging Face folder's SentencePiece model encodes it the same.
	_, htok := loadModel(t, "models/books5M/hf")
	h, err := eval.ReadText(shared.Path(t, "text/gutenberg/pg98.txt"), htok)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Tokens) != len(text.Tokens) || h.BOS != text.BOS {
		t.Fatalf("HF tokenizer: %d tokens, BOS %d", len(h.Tokens), h.BOS)
	}
	for i := range h.Tokens {
		if h.Tokens[i] != text.Tokens[i] {
			t.Fatalf("HF tokenizer differs at token %d: %d vs %d", i, h.Tokens[i], text.Tokens[i])
		}
	}
}

// TestPerplexityMatchesLlamaCpp compares lmc's running perplexity of
// books5M F32 on pg98.txt at ctx 256 with the values llama-perplexity
// printed after each chunk, on the first 64 chunks (all 1683 with
// LMC_LONG=1, where the final 9.3775 ± 0.03893 must match within 0.1 %).
func TestPerplexityMatchesLlamaCpp(t *testing.T) {
	want := llamaRunningPPL(t)
	for _, src := range []string{books5M, "models/books5M/hf"} {
		t.Run(filepath.Base(src), func(t *testing.T) {
			m, tok := loadModel(t, src)
			text := pg98Text(t, tok)
			chunks := 64
			if src != books5M {
				chunks = 8
			}
			if long() && src == books5M {
				chunks = 0
			}
			calls := 0
			r, err := eval.Perplexity(context.Background(), m, text, eval.Options{Context: 256, Chunks: chunks,
				Progress: func(p eval.Progress) { calls++ }})
			if err != nil {
				t.Fatal(err)
			}
			n := len(r.Running)
			if chunks > 0 && n != chunks || chunks == 0 && n != 1683 || calls != n || r.Chunks != n {
				t.Fatalf("%d running values, %d progress calls, Chunks %d", n, calls, r.Chunks)
			}
			if r.Tokens != 127*n || r.Evaluated != 256*n {
				t.Errorf("scored %d, evaluated %d tokens; want %d, %d", r.Tokens, r.Evaluated, 127*n, 256*n)
			}
			worst := 0.0
			for i, v := range r.Running {
				worst = max(worst, math.Abs(v/want[i]-1))
			}
			// llama.cpp printed 4 decimals (±5e-6 relative) and ran its
			// KV cache in F16; lmc's F32 engine agrees to ~3e-5.
			if worst > 2e-4 {
				t.Errorf("running PPL differs from llama.cpp's by up to %.2e (relative)", worst)
			}
			if math.Abs(r.PPL-r.Running[n-1]) > 1e-12 || math.Abs(math.Log(r.PPL)-r.NLL) > 1e-12 {
				t.Errorf("PPL %v, NLL %v, last running %v", r.PPL, r.NLL, r.Running[n-1])
			}
			t.Logf("%s: %d chunks, PPL %.4f ± %.5f (llama.cpp [%d] %.4f), max rel diff %.1e, %.0f tokens/s",
				src, n, r.PPL, r.PPLErr, n, want[n-1], worst, r.TokensPerSecond)
			if n == 1683 {
				if math.Abs(r.PPL/9.3775-1) > 1e-3 || math.Abs(r.PPLErr/0.03893-1) > 0.01 {
					t.Errorf("full text: PPL %.4f ± %.5f, llama.cpp 9.3775 ± 0.03893", r.PPL, r.PPLErr)
				}
			}
		})
	}
}

// llamaKLD is one chunk line of llama-perplexity --kl-divergence's log.
type llamaKLD struct {
	ppl, lnRatio, kld, rms, same float64
}

// llamaKLDAt parses the running statistics llama.cpp printed after chunk k
// of its KLD run of books5M-<typ>.gguf.
func llamaKLDAt(t testing.TB, typ string, k int) llamaKLD {
	t.Helper()
	f, err := os.Open(shared.Path(t, "models/books5M/llamacpp/logs/books5M-"+typ+".kld.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	prefix := strconv.Itoa(k) + " "
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		fs := strings.Fields(strings.ReplaceAll(line, "%", ""))
		// chunk ppl ± err ln ± err kld ± err rms ± err same ± err
		if len(fs) != 16 {
			continue
		}
		v := func(i int) float64 {
			x, err := strconv.ParseFloat(fs[i], 64)
			if err != nil {
				t.Fatalf("%s log: %q: %v", typ, line, err)
			}
			return x
		}
		return llamaKLD{ppl: v(1), lnRatio: v(4), kld: v(7), rms: v(10) / 100, same: v(13) / 100}
	}
	t.Fatalf("no chunk %d line in the %s KLD log", k, typ)
	return llamaKLD{}
}

// Full-text llama.cpp numbers (llamacpp/RESULTS.md, logs/*.kld.log).
var llamaFull = map[string]struct {
	ppl, kld, kld99, rms, same float64
}{
	"q8_0":   {9.3786, 0.000147, 0.000986, 0.00347, 0.99031},
	"q6_k":   {9.3835, 0.000828, 0.005436, 0.00815, 0.97734},
	"q4_k_m": {9.4046, 0.004707, 0.038319, 0.01978, 0.95118},
	"q4_0":   {9.4126, 0.007084, 0.054518, 0.02440, 0.94086},
	"q2_k":   {9.9092, 0.065002, 0.515364, 0.07758, 0.83195},
}

// lmc's own KLD of the first 32 chunks (ctx 256), recorded when the test
// was last updated (docs/EVAL.md), to catch drift in the engine or the
// kernels. Changes in the kernels' rounding move these by up to about 2 %
// (Q8_0 went from 0.0001527 to 0.0001494 when its activation rounding was
// made llama.cpp's); the tolerance is 3 %.
var lmcFirst32 = map[string]float64{
	"q8_0": 0.0001494, "q6_k": 0.0008514, "q4_k_m": 0.0047295, "q4_0": 0.0072171, "q2_k": 0.0671233,
}

// TestKLDMatchesLlamaCpp saves books5M F32's log-probabilities on the
// first 32 chunks of pg98.txt, then compares each of llama.cpp's
// quantizations with them: mean KLD within 2 % of what llama.cpp printed
// after chunk 32 (plus its rounding to 5 decimals) and within 3 % of lmc's
// recorded value, PPL(Q) within 0.25 %, same top-1 within a point,
// the quantizations in the order of their KLD, and F32 against itself at
// 0. With LMC_LONG=1 all 1683 chunks are compared with llama.cpp's final
// numbers.
func TestKLDMatchesLlamaCpp(t *testing.T) {
	base, tok := loadModel(t, books5M)
	text := pg98Text(t, tok)
	chunks := 32
	if long() {
		chunks = 0
	}
	o := eval.Options{Context: 256, Chunks: chunks}
	path := filepath.Join(t.TempDir(), "f32.kld")
	bres, err := eval.SaveBase(context.Background(), base, text, path, 0, o)
	if err != nil {
		t.Fatal(err)
	}
	want := llamaRunningPPL(t)
	if n := bres.Chunks; math.Abs(bres.PPL/want[n-1]-1) > 2e-4 {
		t.Errorf("base PPL %.4f, llama.cpp [%d] %.4f", bres.PPL, n, want[n-1])
	}
	bl, err := eval.OpenBase(path)
	if err != nil {
		t.Fatal(err)
	}
	defer bl.Close()
	if bl.Format != eval.FormatLlamaCpp || bl.Context != 256 || bl.Vocab != 512 || bl.Chunks != bres.Chunks || len(bl.Tokens) != 256*bl.Chunks {
		t.Fatalf("base file: %+v", bl)
	}

	self, err := eval.KLD(context.Background(), base, bl, text.BOS, eval.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Only the uint16 rounding of the base separates F32 from itself (it
	// can tie the two most likely tokens: 13 of 213,741 positions over the
	// whole text).
	if math.Abs(self.KLD.Value) > 2e-6 || self.SameTop.Value < 0.9999 || math.Abs(self.Ratio.Value-1) > 1e-4 || self.RMSDeltaP.Value > 1e-4 {
		t.Errorf("F32 against itself: KLD %g, same top %g, PPL ratio %g, RMS Δp %g", self.KLD.Value, self.SameTop.Value, self.Ratio.Value, self.RMSDeltaP.Value)
	}

	prev := self.KLD.Value
	for _, typ := range []string{"q8_0", "q6_k", "q4_k_m", "q4_0", "q2_k"} {
		t.Run(typ, func(t *testing.T) {
			m, _ := loadModel(t, "models/books5M/llamacpp/books5M-"+typ+".gguf")
			r, err := eval.KLD(context.Background(), m, bl, text.BOS, eval.Options{Context: 256})
			if err != nil {
				t.Fatal(err)
			}
			if r.Chunks != bl.Chunks || r.Tokens != 127*bl.Chunks {
				t.Fatalf("%d chunks, %d tokens", r.Chunks, r.Tokens)
			}
			if r.KLD.Value <= prev {
				t.Errorf("mean KLD %.6f is not above the previous (better) type's %.6f", r.KLD.Value, prev)
			}
			prev = r.KLD.Value
			if math.Abs(r.BasePPL.Value/bres.PPL-1) > 1e-4 {
				t.Errorf("PPL(base) %.5f from the file, %.5f when saved", r.BasePPL.Value, bres.PPL)
			}
			if r.Chunks == 1683 {
				w := llamaFull[typ]
				t.Logf("%s full: PPL(Q) %.4f (llama.cpp %.4f), KLD %.6f (%.6f), 99%% %.6f (%.6f), RMS Δp %.3f%% (%.3f%%), same top %.3f%% (%.3f%%)",
					typ, r.PPL.Value, w.ppl, r.KLD.Value, w.kld, r.KLDQuantiles.P99, w.kld99, 100*r.RMSDeltaP.Value, 100*w.rms, 100*r.SameTop.Value, 100*w.same)
				if math.Abs(r.KLD.Value/w.kld-1) > 0.02 {
					t.Errorf("mean KLD %.6f, llama.cpp %.6f: more than 2%% apart", r.KLD.Value, w.kld)
				}
				if math.Abs(r.PPL.Value/w.ppl-1) > 1e-3 {
					t.Errorf("PPL(Q) %.4f, llama.cpp %.4f", r.PPL.Value, w.ppl)
				}
				if math.Abs(r.KLDQuantiles.P99/w.kld99-1) > 0.05 || math.Abs(r.RMSDeltaP.Value/w.rms-1) > 0.02 || math.Abs(r.SameTop.Value-w.same) > 0.002 {
					t.Errorf("99%% KLD %.6f (llama.cpp %.6f), RMS Δp %.5f (%.5f), same top %.5f (%.5f)",
						r.KLDQuantiles.P99, w.kld99, r.RMSDeltaP.Value, w.rms, r.SameTop.Value, w.same)
				}
				return
			}
			w := llamaKLDAt(t, typ, r.Chunks)
			t.Logf("%s first %d chunks: PPL(Q) %.4f (llama.cpp %.4f), KLD %.7f (%.5f), RMS Δp %.3f%% (%.3f%%), same top %.3f%% (%.3f%%), %.0f tokens/s",
				typ, r.Chunks, r.PPL.Value, w.ppl, r.KLD.Value, w.kld, 100*r.RMSDeltaP.Value, 100*w.rms, 100*r.SameTop.Value, 100*w.same, r.TokensPerSecond)
			if math.Abs(r.KLD.Value-w.kld) > 0.02*w.kld+0.5e-5 {
				t.Errorf("mean KLD %.6f, llama.cpp %.5f: more than 2%% apart", r.KLD.Value, w.kld)
			}
			// Over 4,064 tokens rounding differences between the engines
			// average out less than over the whole text (q2_k: 0.08 %
			// after 32 chunks, 0.004 % after 1683).
			if math.Abs(r.PPL.Value/w.ppl-1) > 2.5e-3 {
				t.Errorf("PPL(Q) %.4f, llama.cpp %.4f", r.PPL.Value, w.ppl)
			}
			if math.Abs(r.SameTop.Value-w.same) > 0.01 || math.Abs(r.RMSDeltaP.Value-w.rms) > 0.1*w.rms {
				t.Errorf("same top %.4f (llama.cpp %.4f), RMS Δp %.5f (%.5f)", r.SameTop.Value, w.same, r.RMSDeltaP.Value, w.rms)
			}
			if ref := lmcFirst32[typ]; r.Chunks == 32 && ref != 0 && math.Abs(r.KLD.Value/ref-1) > 0.03 {
				t.Errorf("mean KLD %.7f, recorded %.7f: more than 3%% drift", r.KLD.Value, ref)
			}
		})
	}
}
