package cli

import (
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/lmc-project/lmc/eval"
	"github.com/lmc-project/lmc/kernels"
	"github.com/lmc-project/lmc/model"
	"github.com/lmc-project/lmc/modelfile"
)

// BenchOutput is what `lmc bench --json` prints.
type BenchOutput struct {
	Model      string `json:"model"`
	ModelBytes int64  `json:"model_bytes"` // stored size of the tensors
	Params     int64  `json:"params"`
	KV         string `json:"kv"`
	*eval.BenchResult
}

func newBenchCmd(s *IO) *cobra.Command {
	var (
		prompt, gen, threads, reps int
		kvName, tokPath            string
		asJSON, quiet              bool
	)
	cmd := &cobra.Command{
		Use:   "bench MODEL",
		Short: "Measure prompt-processing and generation speed, like llama-bench",
		Long: `Bench measures how fast lmc runs a model on this machine, the way llama-bench
-p P -n N does: ppP evaluates a prompt of P tokens (BOS, then random tokens)
in one batch from an empty cache; tgN decodes N tokens one at a time from an
empty cache. Each test runs once untimed, then --reps times; bench prints the
mean tokens per second ± the standard deviation over the repetitions, the
memory bandwidth the speed implies (weight bytes one token reads × tokens per
second: every weight matrix, one row of the token embedding) and the peak
resident memory of the process.

Compare with llama-bench on the same file, at the same --threads, when the
machine is otherwise idle: docs/EVAL.md has lmc's numbers beside llama.cpp's.`,
		Example: `  lmc bench books5M-q4_k_m.gguf -t 1
  lmc bench model.gguf -p 512 -n 128 -r 3 --json`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			kv, err := model.ParseKVType(kvName)
			if err != nil {
				return usageError("--kv %q: choose f32 or f16", kvName)
			}
			if prompt < 0 || gen < 0 || threads < 0 || reps < 1 {
				return usageError("-p, -n and --threads must not be negative, --reps at least 1")
			}
			if prompt == 0 && gen == 0 {
				return usageError("-p 0 -n 0: nothing to measure")
			}
			if threads > 0 {
				defer kernels.SetThreads(kernels.SetThreads(threads))
			}
			mf, err := modelfile.Open(args[0], &modelfile.OpenOptions{Tokenizer: tokPath})
			if err != nil {
				return err
			}
			defer mf.Close()
			m, err := model.Load(mf, model.Options{})
			if err != nil {
				return err
			}
			bos := -1
			if mf.Vocab != nil {
				bos = mf.Vocab.BOS
			}
			o := eval.BenchOptions{Prompt: prompt, Gen: gen, Reps: reps, KV: kv, BOS: bos, Seed: 1}
			var bar *progressbar.ProgressBar
			if s.progress(quiet || asJSON) {
				runs := 0
				for _, n := range []int{prompt, gen} {
					if n > 0 {
						runs += reps + 1
					}
				}
				bar = progressbar.NewOptions(runs, progressbar.OptionSetWriter(s.ErrOut), progressbar.OptionSetDescription("bench"),
					progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
				o.Progress = func(test string, rep int) {
					bar.Describe(test)
					bar.Add(1)
				}
			}
			res, err := eval.Bench(cmdContext(cmd), m, o)
			if bar != nil {
				bar.Finish()
			}
			if err != nil {
				return err
			}
			out := BenchOutput{Model: args[0], ModelBytes: mf.TensorBytes(), Params: mf.ParamCount(), KV: kv.String(), BenchResult: res}
			if asJSON {
				return writeJSON(s.Out, out)
			}
			printBench(s.Out, &out)
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVarP(&prompt, "n-prompt", "p", 128, "prompt tokens of the prompt-processing test (0: skip it)")
	f.IntVarP(&gen, "n-gen", "n", 128, "tokens of the generation test (0: skip it)")
	f.IntVarP(&threads, "threads", "t", 0, "threads (0: all cores)")
	f.IntVarP(&reps, "reps", "r", 5, "timed repetitions of each test")
	f.StringVar(&kvName, "kv", "f32", "KV cache type: f32 or f16")
	f.StringVar(&tokPath, "tokenizer", "", "tokenizer file for a llama2.c checkpoint (tok*.bin)")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	f.BoolVarP(&quiet, "quiet", "q", false, "no progress bar")
	return cmd
}

func printBench(w io.Writer, o *BenchOutput) {
	fmt.Fprintf(w, "| %-24s | %10s | %8s | %7s | %6s | %20s | %10s |\n", "model", "size", "params", "threads", "test", "t/s", "weight GB/s")
	fmt.Fprintf(w, "| %-24s | %10s | %8s | %7s | %6s | %20s | %10s |\n", "---", "---:", "---:", "---:", "---:", "---:", "---:")
	for _, t := range o.Tests {
		gbs := "-"
		if t.GBPerSecond > 0 {
			gbs = fmt.Sprintf("%.2f", t.GBPerSecond)
		}
		fmt.Fprintf(w, "| %-24s | %10s | %7.2fM | %7d | %6s | %20s | %10s |\n", filepath.Base(o.Model), humanBytes(o.ModelBytes),
			float64(o.Params)/1e6, o.Threads, t.Name, fmt.Sprintf("%.2f ± %.2f", t.Mean, t.Std), gbs)
	}
	fmt.Fprintf(w, "\n%s kernels, %s KV cache, %s of weights read per token, peak RSS %s\n",
		o.Implementation, o.KV, humanBytes(o.WeightBytes), humanBytes(o.PeakRSS))
}
