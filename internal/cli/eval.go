package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/lmc-project/lmc/eval"
	"github.com/lmc-project/lmc/kernels"
	"github.com/lmc-project/lmc/model"
	"github.com/lmc-project/lmc/modelfile"
	_ "github.com/lmc-project/lmc/quant" // kernels for block-quantized weights
	"github.com/lmc-project/lmc/tokenizer"
)

// EvalPPLOutput is what `lmc eval ppl --json` prints.
type EvalPPLOutput struct {
	Model      string `json:"model"`
	Text       string `json:"text"`
	TextTokens int    `json:"text_tokens"`
	Threads    int    `json:"threads"`
	KV         string `json:"kv"`
	*eval.PPLResult
}

// EvalKLDOutput is what `lmc eval kld --json` prints. Result is absent when
// only --save-base was asked; BasePPL is present when the base model ran.
type EvalKLDOutput struct {
	Base       string          `json:"base"`
	Model      string          `json:"model,omitempty"`
	Text       string          `json:"text,omitempty"`
	SavedBase  string          `json:"saved_base,omitempty"`
	BaseFormat string          `json:"base_format"`
	Threads    int             `json:"threads"`
	KV         string          `json:"kv"`
	BaseRun    *eval.PPLResult `json:"base_run,omitempty"`
	Result     *eval.KLDResult `json:"result,omitempty"`
}

// evalFlags are the flags ppl and kld share.
type evalFlags struct {
	text, tokenizer, kv  string
	ctx, chunks, threads int
	asJSON, quiet        bool
}

func (f *evalFlags) add(cmd *cobra.Command, ctxDefault int) {
	fl := cmd.Flags()
	fl.StringVarP(&f.text, "text", "f", "", "UTF-8 text file to evaluate on")
	fl.IntVarP(&f.ctx, "ctx", "c", ctxDefault, "chunk length in tokens (llama-perplexity -c)")
	fl.IntVar(&f.chunks, "chunks", 0, "evaluate only the first K chunks (0: all)")
	fl.IntVarP(&f.threads, "threads", "t", 0, "threads (0: all cores)")
	fl.StringVar(&f.kv, "kv", "f32", "KV cache type: f32 or f16 (llama.cpp's default is f16)")
	fl.StringVar(&f.tokenizer, "tokenizer", "", "tokenizer file for a llama2.c checkpoint (tok*.bin)")
	fl.BoolVar(&f.asJSON, "json", false, "print the result as JSON")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no progress on stderr")
}

func (f *evalFlags) check() (model.KVType, error) {
	kv, err := model.ParseKVType(f.kv)
	if err != nil {
		return 0, usageError("--kv %q: choose f32 or f16", f.kv)
	}
	if f.ctx < 0 || f.chunks < 0 || f.threads < 0 {
		return 0, usageError("--ctx, --chunks and --threads must not be negative")
	}
	if f.ctx != 0 && f.ctx < 3 {
		return 0, usageError("--ctx %d: a chunk needs at least 3 tokens (the second half is scored)", f.ctx)
	}
	return kv, nil
}

func newEvalCmd(s *IO) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Measure model quality: perplexity, KL divergence against a base model, KV-cache and prompt compression",
		Long: `Eval measures what compression costs. ppl and kld follow llama-perplexity's
protocol exactly, so their numbers compare directly with llama.cpp's: the
text is tokenized with BOS first and cut into chunks of --ctx tokens; each
chunk is evaluated from an empty cache with its first token replaced by BOS,
and the second half of each chunk is scored. How the numbers are made and
lmc's agreement with llama.cpp: docs/EVAL.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newEvalPPLCmd(s), newEvalKLDCmd(s), newEvalKVCmd(s), newEvalPromptCmd(s))
	return cmd
}

func newEvalPPLCmd(s *IO) *cobra.Command {
	var f evalFlags
	cmd := &cobra.Command{
		Use:   "ppl MODEL --text FILE",
		Short: "Perplexity on a text, computed as llama-perplexity computes it",
		Long: `Ppl computes a model's perplexity on a UTF-8 text the way llama-perplexity
does: len(tokens)/ctx chunks of --ctx tokens, each starting with BOS, the
second half of each scored (positions ctx/2 … ctx−2, each predicting the next
token). It prints PPL = exp(mean negative log-likelihood) with llama.cpp's ±
estimate, and on stderr the running perplexity after each chunk
([1]…,[2]…, as llama-perplexity prints it). The text must tokenize to at
least 2×ctx tokens.`,
		Example: `  lmc eval ppl books5M-f32.gguf --text pg98.txt --ctx 256
  lmc eval ppl model.gguf -f wiki.test.raw -c 512 --chunks 100 -t 2 --json`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			kv, err := f.check()
			if err != nil {
				return err
			}
			if f.text == "" {
				return usageError("--text FILE is required: the text to compute the perplexity of")
			}
			if f.ctx == 0 {
				f.ctx = 512
			}
			if f.threads > 0 {
				defer kernels.SetThreads(kernels.SetThreads(f.threads))
			}
			mf, m, tok, err := openEvalModel(args[0], f.tokenizer)
			if err != nil {
				return err
			}
			defer mf.Close()
			text, err := eval.ReadText(f.text, tok)
			if err != nil {
				return err
			}
			pr := newChunkProgress(s, &f, "ppl")
			res, err := eval.Perplexity(cmdContext(cmd), m, text, eval.Options{Context: f.ctx, Chunks: f.chunks, KV: kv, Progress: pr.update})
			pr.finish()
			if err != nil {
				return err
			}
			out := EvalPPLOutput{Model: args[0], Text: f.text, TextTokens: len(text.Tokens), Threads: kernels.Threads(), KV: kv.String(), PPLResult: res}
			if f.asJSON {
				return writeJSON(s.Out, out)
			}
			printPPL(s.Out, &out)
			return nil
		},
	}
	f.add(cmd, 512)
	return cmd
}

func printPPL(w io.Writer, o *EvalPPLOutput) {
	r := o.PPLResult
	fmt.Fprintf(w, "model    %s\n", o.Model)
	fmt.Fprintf(w, "text     %s (%d tokens)\n", o.Text, o.TextTokens)
	fmt.Fprintf(w, "chunks   %d × %d tokens, %d scored (positions %d…%d of each)\n", r.Chunks, r.Context, r.Tokens, r.Context/2, r.Context-2)
	fmt.Fprintf(w, "NLL      %.5f nats/token\n", r.NLL)
	fmt.Fprintf(w, "speed    %d tokens in %.1f s: %.0f tokens/s (%d threads, %s kernels, %s KV cache)\n",
		r.Evaluated, r.Seconds, r.TokensPerSecond, o.Threads, kernels.Implementation(), o.KV)
	fmt.Fprintf(w, "Final estimate: PPL = %.4f +/- %.5f\n", r.PPL, r.PPLErr)
}

func newEvalKLDCmd(s *IO) *cobra.Command {
	var (
		f                               evalFlags
		base, baseLogits, mdl, saveBase string
		topK                            int
	)
	cmd := &cobra.Command{
		Use:   "kld --base BASE --model MODEL --text FILE",
		Short: "KL divergence of a model from its base, as llama-perplexity --kl-divergence",
		Long: `Kld compares a model (typically quantized or pruned) with its base model on a
text, position by position over the scored half of every chunk (the ppl
protocol), and prints llama-perplexity --kl-divergence's statistics: mean
PPL of both and their ratio, the KL divergence of the model's next-token
distribution from the base's (mean, median, percentiles, maximum), Δp (the
change in the probability of the token that came next) and the share of
positions where both agree on the most likely token. The output has
llama-perplexity's layout, so the two can be compared line by line; on
stderr, after each chunk, the running PPL(Q) and mean KLD ([1]10.62/0.0039,…).

The base's log-probabilities can be saved once (--save-base FILE) and
reused (--base-logits FILE), so comparing many candidates runs the base only
once. The default file format is llama-perplexity's own (uint16-quantized
log-probabilities of the whole vocabulary: files are interchangeable with
llama.cpp's --kl-divergence-base); --top-k K writes lmc's compact format
instead (the K largest log-probabilities per position, for large
vocabularies; its KLD is a slight underestimate, see docs/EVAL.md).`,
		Example: `  lmc eval kld --base books5M-f32.gguf --model books5M-q4_k_m.gguf --text pg98.txt --ctx 256
  lmc eval kld --base model-f16.gguf --text wiki.test.raw --save-base f16.kld
  lmc eval kld --base-logits f16.kld --model model-q4_k_m.gguf
  lmc eval kld --base model-f16.gguf --text wiki.test.raw --save-base f16-top32.kld --top-k 32`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			kv, err := f.check()
			if err != nil {
				return err
			}
			switch {
			case (base == "") == (baseLogits == ""):
				return usageError("give the base as a model (--base BASE) or as saved log-probabilities (--base-logits FILE), not both")
			case baseLogits != "" && saveBase != "":
				return usageError("--save-base needs the base model (--base), not --base-logits")
			case baseLogits != "" && f.text != "":
				return usageError("--base-logits carries its own tokens: drop --text")
			case base != "" && f.text == "":
				return usageError("--text FILE is required with --base")
			case mdl == "" && saveBase == "":
				return usageError("--model MODEL is required (or --save-base FILE to only save the base)")
			case topK != 0 && saveBase == "":
				return usageError("--top-k only applies to --save-base")
			case topK < 0:
				return usageError("--top-k %d: want a positive number of entries (0: llama.cpp's format)", topK)
			}
			if f.threads > 0 {
				defer kernels.SetThreads(kernels.SetThreads(f.threads))
			}
			ctx := cmdContext(cmd)
			out := EvalKLDOutput{Base: base, Model: mdl, Text: f.text, SavedBase: saveBase, KV: kv.String(), Threads: kernels.Threads()}
			if baseLogits != "" {
				out.Base = baseLogits
			}
			var (
				bl   *eval.BaseLogits
				text *eval.Text
				bm   *model.Model
			)
			if base != "" {
				if f.ctx == 0 {
					f.ctx = 512
				}
				bf, m, tok, err := openEvalModel(base, f.tokenizer)
				if err != nil {
					return err
				}
				defer bf.Close()
				bm = m
				if text, err = eval.ReadText(f.text, tok); err != nil {
					return err
				}
			}
			if saveBase != "" {
				if same(saveBase, f.text) || same(saveBase, base) {
					return usageError("--save-base %s would overwrite an input", saveBase)
				}
				pr := newChunkProgress(s, &f, "base")
				res, err := eval.SaveBase(ctx, bm, text, saveBase, topK, eval.Options{Context: f.ctx, Chunks: f.chunks, KV: kv, Progress: pr.update})
				pr.finish()
				if err != nil {
					return err
				}
				out.BaseRun = res
				baseLogits = saveBase
			}
			out.BaseFormat = eval.FormatLlamaCpp
			if baseLogits != "" {
				if bl, err = eval.OpenBase(baseLogits); err != nil {
					return err
				}
				defer bl.Close()
				out.BaseFormat = bl.Format
				if f.ctx != 0 && f.ctx != bl.Context && base == "" {
					return usageError("%s was computed with --ctx %d, not %d", baseLogits, bl.Context, f.ctx)
				}
			}
			if mdl != "" {
				mf, m, tok, err := openEvalModel(mdl, f.tokenizer)
				if err != nil {
					return err
				}
				defer mf.Close()
				pr := newChunkProgress(s, &f, "kld")
				o := eval.Options{Context: f.ctx, Chunks: f.chunks, KV: kv, Progress: pr.update}
				var res *eval.KLDResult
				if bl != nil {
					bos := -1
					if tok.AddsBOS() {
						bos = tok.BOS()
					}
					o.Context = bl.Context
					res, err = eval.KLD(ctx, m, bl, bos, o)
				} else {
					res, err = eval.KLDModels(ctx, bm, m, text, o)
				}
				pr.finish()
				if err != nil {
					return err
				}
				out.Result = res
			}
			if f.asJSON {
				return writeJSON(s.Out, out)
			}
			printKLD(s.Out, &out)
			return nil
		},
	}
	f.add(cmd, 0)
	fl := cmd.Flags()
	fl.StringVar(&base, "base", "", "the base (reference) model")
	fl.StringVar(&baseLogits, "base-logits", "", "saved base log-probabilities (from --save-base or llama-perplexity --kl-divergence-base)")
	fl.StringVar(&mdl, "model", "", "the model to compare with the base")
	fl.StringVar(&saveBase, "save-base", "", "save the base's log-probabilities to FILE for later --base-logits runs")
	fl.IntVar(&topK, "top-k", 0, "with --save-base: keep the K most likely tokens per position (lmc's compact format) instead of llama.cpp's full uint16 rows")
	return cmd
}

func printKLD(w io.Writer, o *EvalKLDOutput) {
	if b := o.BaseRun; b != nil {
		fmt.Fprintf(w, "saved %s (%s format): base %d chunks × %d tokens, PPL(base) = %.4f +/- %.5f, %.0f tokens/s\n",
			o.SavedBase, o.BaseFormat, b.Chunks, b.Context, b.PPL, b.PPLErr, b.TokensPerSecond)
	}
	r := o.Result
	if r == nil {
		return
	}
	fmt.Fprintf(w, "model %s vs base %s (%s): %d chunks × %d tokens, %d scored\n", o.Model, o.Base, r.BaseFormat, r.Chunks, r.Context, r.Tokens)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "====== Perplexity statistics ======")
	fmt.Fprintf(w, "Mean PPL(Q)                   : %10.6f ± %10.6f\n", r.PPL.Value, r.PPL.Err)
	fmt.Fprintf(w, "Mean PPL(base)                : %10.6f ± %10.6f\n", r.BasePPL.Value, r.BasePPL.Err)
	fmt.Fprintf(w, "Cor(ln(PPL(Q)), ln(PPL(base))): %6.2f%%\n", 100*r.Correlation)
	fmt.Fprintf(w, "Mean ln(PPL(Q)/PPL(base))     : %10.6f ± %10.6f\n", r.LnRatio.Value, r.LnRatio.Err)
	fmt.Fprintf(w, "Mean PPL(Q)/PPL(base)         : %10.6f ± %10.6f\n", r.Ratio.Value, r.Ratio.Err)
	fmt.Fprintf(w, "Mean PPL(Q)-PPL(base)         : %10.6f ± %10.6f\n", r.Diff.Value, r.Diff.Err)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "====== KL divergence statistics ======")
	q := r.KLDQuantiles
	fmt.Fprintf(w, "Mean    KLD: %10.6f ± %10.6f\n", r.KLD.Value, r.KLD.Err)
	for _, row := range []struct {
		name string
		v    float64
	}{{"Maximum", q.Max}, {"99.9%  ", q.P99_9}, {"99.0%  ", q.P99}, {"95.0%  ", q.P95}, {"90.0%  ", q.P90}, {"Median ", q.Median},
		{"10.0%  ", q.P10}, {" 5.0%  ", q.P5}, {" 1.0%  ", q.P1}, {" 0.1%  ", q.P0_1}, {"Minimum", q.Min}} {
		fmt.Fprintf(w, "%s KLD: %10.6f\n", row.name, row.v)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "====== Token probability statistics ======")
	d := r.DeltaPQuantiles
	fmt.Fprintf(w, "Mean    Δp: %6.3f ± %5.3f %%\n", 100*r.DeltaP.Value, 100*r.DeltaP.Err)
	for _, row := range []struct {
		name string
		v    float64
	}{{"Maximum", d.Max}, {"99.9%  ", d.P99_9}, {"99.0%  ", d.P99}, {"95.0%  ", d.P95}, {"90.0%  ", d.P90}, {"75.0%  ", d.P75},
		{"Median ", d.Median}, {"25.0%  ", d.P25}, {"10.0%  ", d.P10}, {" 5.0%  ", d.P5}, {" 1.0%  ", d.P1}, {" 0.1%  ", d.P0_1}, {"Minimum", d.Min}} {
		fmt.Fprintf(w, "%s Δp: %6.3f%%\n", row.name, 100*row.v)
	}
	fmt.Fprintf(w, "RMS Δp    : %6.3f ± %5.3f %%\n", 100*r.RMSDeltaP.Value, 100*r.RMSDeltaP.Err)
	fmt.Fprintf(w, "Same top p: %6.3f ± %5.3f %%\n", 100*r.SameTop.Value, 100*r.SameTop.Err)
	fmt.Fprintln(w)
	fmt.Fprintf(w, "speed: %d tokens in %.1f s, %.0f tokens/s (%d threads, %s KV cache)\n", r.Evaluated, r.Seconds, r.TokensPerSecond, o.Threads, o.KV)
}

// openEvalModel opens a model with its tokenizer and builds the network.
func openEvalModel(path, tokPath string) (*modelfile.Model, *model.Model, *tokenizer.Tokenizer, error) {
	mf, err := modelfile.Open(path, &modelfile.OpenOptions{Tokenizer: tokPath})
	if err != nil {
		return nil, nil, nil, err
	}
	if mf.Vocab == nil {
		mf.Close()
		return nil, nil, nil, fmt.Errorf("%s carries no tokenizer; evaluation needs one to read the text", path)
	}
	tok, err := tokenizer.New(mf.Vocab)
	if err != nil {
		mf.Close()
		return nil, nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	m, err := model.Load(mf, model.Options{})
	if err != nil {
		mf.Close()
		return nil, nil, nil, err
	}
	return mf, m, tok, nil
}

// cmdContext is the command's context (cobra sets one when executing).
func cmdContext(cmd *cobra.Command) context.Context {
	if c := cmd.Context(); c != nil {
		return c
	}
	return context.Background()
}

// chunkProgress shows a run's chunks: a progress bar on a terminal, else
// llama-perplexity's running values on stderr ([1]9.8,[2]9.7,… for ppl).
type chunkProgress struct {
	s            *IO
	what         string
	bar          *progressbar.ProgressBar
	quiet, lines bool
	printed      bool
}

func newChunkProgress(s *IO, f *evalFlags, what string) *chunkProgress {
	p := &chunkProgress{s: s, what: what, quiet: f.quiet}
	p.lines = !f.quiet && !s.progress(f.quiet || f.asJSON)
	return p
}

func (p *chunkProgress) update(pr eval.Progress) {
	if p.quiet {
		return
	}
	if p.lines {
		p.printed = true
		switch p.what {
		case "kld":
			fmt.Fprintf(p.s.ErrOut, "[%d]%.4f/%.6f,", pr.Chunk, pr.PPL, pr.KLD)
		default:
			fmt.Fprintf(p.s.ErrOut, "[%d]%.4f,", pr.Chunk, pr.PPL)
		}
		return
	}
	if p.bar == nil {
		p.bar = progressbar.NewOptions(pr.Chunks, progressbar.OptionSetWriter(p.s.ErrOut),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionShowCount(),
			progressbar.OptionShowElapsedTimeOnFinish(), progressbar.OptionClearOnFinish())
	}
	desc := fmt.Sprintf("%s: PPL %.4f", p.what, pr.PPL)
	if p.what == "kld" {
		desc += fmt.Sprintf(", KLD %.6f", pr.KLD)
	}
	p.bar.Describe(desc)
	p.bar.Set(pr.Chunk)
}

func (p *chunkProgress) finish() {
	if p.bar != nil {
		p.bar.Finish()
		p.bar = nil
	}
	if p.printed {
		fmt.Fprintln(p.s.ErrOut)
		p.printed = false
	}
}
