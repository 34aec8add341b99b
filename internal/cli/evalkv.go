package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lmc-project/lmc/kernels"
	"github.com/lmc-project/lmc/model"
	"github.com/lmc-project/lmc/model/kveval"
	"github.com/lmc-project/lmc/modelfile"
	"github.com/lmc-project/lmc/tokenizer"
)

// EvalKVOutput is what `lmc eval kv --json` prints.
type EvalKVOutput struct {
	Model      string              `json:"model"`
	Text       string              `json:"text"`
	TextTokens int                 `json:"text_tokens"`
	Context    int                 `json:"ctx"`
	Chunks     int                 `json:"chunks"`
	Threads    int                 `json:"threads"`
	Kernels    string              `json:"kernels"`
	Results    []kveval.Result     `json:"results"`
	LongFactor int                 `json:"long_factor,omitempty"`
	Long       []kveval.LongResult `json:"long,omitempty"`
}

type evalKVFlags struct {
	text, tokenizer, configs, policyKV, longConfigs string
	ctx, chunks, threads, long, longSeqs, longCtx   int
	passage, trials                                 int
	asJSON, quiet                                   bool
}

func newEvalKVCmd(s *IO) *cobra.Command {
	var f evalKVFlags
	cmd := &cobra.Command{
		Use:   "kv MODEL --text FILE",
		Short: "Measure KV-cache compression: memory, speed and quality of each cache type and eviction policy",
		Long: `Kv evaluates KV-cache configurations against the float32 cache (the
first configuration) on a text, and prints a Markdown table: KV bytes per
token, the most the cache held, peak RSS, decoding tokens/s with a full
context, perplexity, Δppl and KL divergence against the base, top-1
agreement with it, and a repeat-retrieval test (a passage that appears
twice, the first copy at the beginning, middle or end of the context,
scored on the second copy: top-1 accuracy; "control" has no first copy).

The default configurations are every cache type with the whole cache,
q8_0 keys with q4_0 values, keys on a low-rank basis (3/4 and 1/2 of
head_dim, calibrated on the end of the text), then each policy (streaming,
h2o, snapkv, tova, merge) at budgets of 100, 50, 20 and 10 % of the
context with --policy-kv. Perplexity follows llama-perplexity
(chunks of --ctx tokens from BOS, second half scored); configurations with
a policy run one token at a time, so that each query sees at most the
budget. --long F then evaluates sequences F times --long-ctx (past the
positions the model was trained on), scoring each context-long segment:
a full cache degrades and grows, StreamingLLM stays flat in constant
memory. Method and results for books5M: docs/KV.md.

--configs takes a comma-separated list: a KV type (as --kv: f16, q8_0,
q8_0/f16, int4…), optionally with +rN for keys of rank N and
@policy:budget% (f16@h2o:20, f32+r32).`,
		Example: `  lmc eval kv books5M-f32.gguf --text pg98.txt --ctx 256 --chunks 8
  lmc eval kv model.gguf -f book.txt --configs f32,q8_0,q4_0,f16@streaming:20 --long 0 --json`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.text == "" {
				return usageError("--text FILE is required: the text to evaluate on")
			}
			if f.ctx < 0 || f.chunks < 0 || f.threads < 0 || f.long < 0 || f.longSeqs < 0 || f.longCtx < 0 || f.passage < 0 {
				return usageError("--ctx, --chunks, --threads, --long, --long-seqs, --long-ctx and --passage must not be negative")
			}
			pkv, err := model.ParseKVType(f.policyKV)
			if err != nil {
				return usageError("--policy-kv %q: %v", f.policyKV, err)
			}
			var cfgs []kveval.Config // nil: the grid, once the model is known
			if f.configs != "" {
				if cfgs, err = kveval.ParseConfigs(f.configs); err != nil {
					return usageError("--configs: %v", err)
				}
			}
			longCfgs, err := kveval.ParseConfigs(f.longConfigs)
			if err != nil {
				return usageError("--long-configs: %v", err)
			}
			if f.threads > 0 {
				defer kernels.SetThreads(kernels.SetThreads(f.threads))
			}
			return runEvalKV(s, args[0], &f, pkv, cfgs, longCfgs)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.text, "text", "f", "", "UTF-8 text file to evaluate on")
	fl.IntVarP(&f.ctx, "ctx", "c", 0, "context (chunk) length in tokens (0: the model's context length)")
	fl.IntVar(&f.chunks, "chunks", 8, "chunks per configuration (0: the whole text)")
	fl.StringVar(&f.configs, "configs", "", "configurations to compare (default: every type, then every policy at 100/50/20/10 %)")
	fl.StringVar(&f.policyKV, "policy-kv", "f32", "KV type of the default policy rows")
	fl.IntVar(&f.long, "long", 4, "also evaluate sequences this many times --long-ctx (0: skip)")
	fl.IntVar(&f.longCtx, "long-ctx", 0, "the context of the long test (0: --ctx)")
	fl.IntVar(&f.longSeqs, "long-seqs", 2, "long sequences per configuration")
	fl.StringVar(&f.longConfigs, "long-configs", "f32,f32@streaming:50,f32@h2o:50,f32@snapkv:50,f32@tova:50,f32@merge:50", "configurations of the long test (budgets are shares of --long-ctx)")
	fl.IntVar(&f.passage, "passage", 32, "retrieval passage length in tokens")
	fl.IntVar(&f.trials, "trials", 4, "retrieval passages per placement (-1: skip the test)")
	fl.IntVarP(&f.threads, "threads", "t", 0, "threads (0: all cores)")
	fl.StringVar(&f.tokenizer, "tokenizer", "", "tokenizer file for a llama2.c checkpoint (tok*.bin)")
	fl.BoolVar(&f.asJSON, "json", false, "print the results as JSON")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no progress on stderr")
	return cmd
}

func runEvalKV(s *IO, path string, f *evalKVFlags, pkv model.KVType, cfgs, longCfgs []kveval.Config) error {
	mf, err := modelfile.Open(path, &modelfile.OpenOptions{Tokenizer: f.tokenizer})
	if err != nil {
		return err
	}
	defer mf.Close()
	if mf.Vocab == nil {
		return fmt.Errorf("%s carries no tokenizer; evaluation needs one to read the text", path)
	}
	tok, err := tokenizer.New(mf.Vocab)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	m, err := model.Load(mf, model.Options{})
	if err != nil {
		return err
	}
	if cfgs == nil {
		cfgs = kveval.Grid(pkv, m.Config.HeadDim)
	}
	raw, err := os.ReadFile(f.text)
	if err != nil {
		return err
	}
	tokens := tok.Encode(string(raw), true)
	ctx := f.ctx
	if ctx == 0 {
		ctx = m.Config.ContextLength
	}
	chunks := len(tokens) / max(ctx, 1)
	if f.chunks > 0 {
		chunks = min(chunks, f.chunks)
	}
	out := EvalKVOutput{Model: path, Text: f.text, TextTokens: len(tokens), Context: ctx, Chunks: chunks,
		Threads: kernels.Threads(), Kernels: kernels.Implementation() + "/" + kernels.RowImplementation()}
	progress := !f.quiet && !f.asJSON
	o := kveval.Options{Context: ctx, Chunks: f.chunks, BOS: tok.BOS(), Passage: f.passage, Trials: f.trials}
	if progress {
		o.Progress = func(done, total int, r *kveval.Result) {
			fmt.Fprintf(s.ErrOut, "[%d/%d] %-22s ppl %.4f kld %.5f %.0f tok/s (%.1f s)\n", done, total, r.Config, r.PPL, r.KLD, r.TokensPerSecond, r.Seconds)
		}
	}
	if out.Results, err = kveval.Run(m, tokens, cfgs, o); err != nil {
		return err
	}
	if f.long > 0 {
		lc := f.longCtx
		if lc == 0 {
			lc = ctx
		}
		if progress {
			fmt.Fprintf(s.ErrOut, "long text: %d sequences of %d×%d tokens\n", f.longSeqs, f.long, lc)
		}
		out.LongFactor = f.long
		if out.Long, err = kveval.Long(m, tokens, longCfgs, lc, f.long, f.longSeqs, tok.BOS()); err != nil {
			return err
		}
	}
	if f.asJSON {
		e := json.NewEncoder(s.Out)
		e.SetIndent("", "  ")
		return e.Encode(out)
	}
	printEvalKV(s.Out, &out, f)
	return nil
}

func printEvalKV(w io.Writer, o *EvalKVOutput, f *evalKVFlags) {
	fmt.Fprintf(w, "model %s, text %s (%d tokens), context %d, %d chunks, %d threads, %s kernels\n\n",
		o.Model, o.Text, o.TextTokens, o.Context, o.Chunks, o.Threads, o.Kernels)
	hdr := "| config | budget | KV bytes/token | cache | peak RSS | decode tok/s | PPL | ΔPPL | KLD | top-1 |"
	sep := "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	if len(o.Results) > 0 && len(o.Results[0].Retrieval) > 0 {
		for _, r := range o.Results[0].Retrieval {
			hdr += " rep. " + r.Place + " |"
			sep += "---:|"
		}
	}
	fmt.Fprintln(w, hdr)
	fmt.Fprintln(w, sep)
	for _, r := range o.Results {
		budget := "all"
		if r.Policy != model.KVKeepAll.String() {
			budget = fmt.Sprintf("%.0f%% (%d)", r.BudgetPct, r.BudgetTokens)
		}
		fmt.Fprintf(w, "| %s | %s | %.0f | %s | %s | %.0f | %.4f | %+.4f | %.5f | %.3f |", r.Config, budget, r.BytesPerToken,
			humanBytes(r.CacheBytes), humanBytes(r.PeakRSS), r.TokensPerSecond, r.PPL, r.DeltaPPL, r.KLD, r.Top1)
		for _, x := range r.Retrieval {
			fmt.Fprintf(w, " %.3f |", x.Acc)
		}
		fmt.Fprintln(w)
	}
	if len(o.Long) == 0 {
		return
	}
	lc := f.longCtx
	if lc == 0 {
		lc = o.Context
	}
	fmt.Fprintf(w, "\nlong text: %d sequences of %d×%d tokens; perplexity of each %d-token segment, cache bytes at its end\n\n", f.longSeqs, o.LongFactor, lc, lc)
	var h, sp []string
	for i := 0; i < o.LongFactor; i++ {
		h = append(h, fmt.Sprintf("PPL %d–%d", i*lc, (i+1)*lc))
		sp = append(sp, "---:")
	}
	for i := 0; i < o.LongFactor; i++ {
		h = append(h, fmt.Sprintf("cache @%d", (i+1)*lc))
		sp = append(sp, "---:")
	}
	fmt.Fprintf(w, "| config | %s |\n|---|%s|\n", strings.Join(h, " | "), strings.Join(sp, "|"))
	for _, r := range o.Long {
		var cells []string
		for _, p := range r.SegmentPPL {
			cells = append(cells, fmt.Sprintf("%.2f", p))
		}
		for _, b := range r.CacheBytes {
			cells = append(cells, humanBytes(b))
		}
		fmt.Fprintf(w, "| %s | %s |\n", r.Config, strings.Join(cells, " | "))
	}
}
