package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/lmc-project/lmc/prompt"
	"github.com/lmc-project/lmc/prompt/eval"
	"github.com/lmc-project/lmc/prompt/tokens"
)

// EvalPromptOutput is what `lmc eval prompt --json` prints.
type EvalPromptOutput struct {
	Data      string     `json:"data"`
	Examples  int        `json:"examples"`
	Tokenizer string     `json:"tokenizer"`
	Backend   string     `json:"backend,omitempty"`
	Rows      []eval.Row `json:"rows"`
}

func newEvalPromptCmd(s *IO) *cobra.Command {
	var (
		data, methods, rates, tokenizerName string
		targets                             string
		limit, maxTokens                    int
		asJSON, quiet                       bool
		be                                  backendFlags
	)
	cmd := &cobra.Command{
		Use:   "prompt",
		Short: "Measure prompt compression: ratio and answer retention per method and rate",
		Long: `Prompt evaluates prompt compression on question-answering data. For each
method chain and rate it compresses every example's context and reports the
compression ratio (context tokens before / after, summed over the examples,
in --tokenizer), the ratio for the whole prompt (context + question), and
the answer retention: the share of examples whose gold answer or one of its
aliases is still in the compressed context (SQuAD-normalized). With
--backend it also asks the model each compressed question and reports the
share of answers containing a gold answer.

Budgets are --rates (each context cut to that share of its own tokens) and
--target-tokens (each context cut to at most N tokens, as a RAG pipeline
budgets its context; contexts already within N are sent as they are and
counted in the ratio uncompressed).

--data is a JSON-lines file: retrieval QA ({"query": "Context: …
Question: …", "answer", "aliases"}, as llm-foundry's natural_questions
files), key-value retrieval ({"context": "… Key: …", "answer"}, the needle
must survive), or {"context", "question", "answer", "aliases"}; or
memory:N for N built-in multi-turn conversations whose early facts a final
question needs (memory keeps the last two turns and summarizes the rest;
without --backend the summary is extractive).

Chains in --methods are separated by commas, methods inside a chain by
"+"; "none" is the uncompressed baseline.

--scorer-model scores prune's tokens with a local model (lmc-mini or a
model path) instead of the unigram stand-in; --json reports its speed
(scorer_tokens_per_s). --local-model gives summarize, extract and memory a
local generator, and embed and rerank a local embedder.`,
		Example: `  lmc eval prompt --data ../shared/eval/free_response__natural_questions_openbook_short_rag.jsonl
  lmc eval prompt --data kv.jsonl --methods query,rerank --rates 0.5,0.25 --tokenizer cl100k_base
  lmc eval prompt --data memory:100 --methods memory,memory+query
  lmc eval prompt --data nq.jsonl --methods prune --rates 0.5,0.33 --scorer-model lmc-mini
  lmc eval prompt --data nq.jsonl --backend http://127.0.0.1:8080/v1 --model qwen3 --limit 50`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if data == "" {
				return usageError("--data is required (a JSON-lines file or memory:N)")
			}
			var exs []eval.Example
			if n, ok := strings.CutPrefix(data, "memory:"); ok {
				k, err := strconv.Atoi(n)
				if err != nil || k <= 0 || k > 100000 {
					return usageError("--data %q: memory:N with N in 1..100000", data)
				}
				exs = eval.MemoryCases(k, 1)
			} else {
				var err error
				if exs, err = eval.Load(data); err != nil {
					return err
				}
			}
			cfg := eval.Config{Limit: limit, MaxTokens: maxTokens}
			for _, chain := range splitList(methods) {
				if chain == "none" {
					cfg.Chains = append(cfg.Chains, nil)
					continue
				}
				cfg.Chains = append(cfg.Chains, strings.Split(chain, "+"))
			}
			if len(cfg.Chains) == 0 {
				return usageError("--methods: no method chain")
			}
			for _, r := range splitList(rates) {
				v, err := strconv.ParseFloat(r, 64)
				if err != nil || v <= 0 || v >= 1 {
					return usageError("--rates: %q is not a fraction in (0, 1)", r)
				}
				cfg.Rates = append(cfg.Rates, v)
			}
			for _, r := range splitList(targets) {
				v, err := strconv.Atoi(r)
				if err != nil || v <= 0 {
					return usageError("--target-tokens: %q is not a positive number of tokens", r)
				}
				cfg.Targets = append(cfg.Targets, v)
			}
			if len(cfg.Rates)+len(cfg.Targets) == 0 {
				return usageError("--rates and --target-tokens are both empty: give at least one budget")
			}
			var err error
			if cfg.Counter, err = tokens.Open(tokenizerName); err != nil {
				return usageError("--tokenizer: %v", err)
			}
			client, err := be.client()
			if err != nil {
				return err
			}
			if client != nil {
				cfg.Backend = client
				cfg.Options.Generator = prompt.OpenAIGenerator(client, be.stream)
				if be.embedModel != "" {
					cfg.Options.Embedder = prompt.OpenAIEmbedder(client, be.embedModel)
				}
			}
			closeLocal, err := be.useLocal(&cfg.Options)
			if err != nil {
				return err
			}
			defer closeLocal()
			if s.progress(quiet || asJSON) {
				cfg.Progress = func(done, total int) {
					if done%10 == 0 || done == total {
						fmt.Fprintf(s.ErrOut, "\r%d/%d", done, total)
						if done == total {
							fmt.Fprintln(s.ErrOut)
						}
					}
				}
			}
			rows, err := eval.Run(context.Background(), exs, cfg)
			if err != nil {
				if errors.Is(err, prompt.ErrMethod) {
					return usageError("%v", err)
				}
				return err
			}
			n := len(exs)
			if limit > 0 && limit < n {
				n = limit
			}
			out := EvalPromptOutput{Data: data, Examples: n, Tokenizer: cfg.Counter.Name(), Backend: be.url, Rows: rows}
			if asJSON {
				enc := json.NewEncoder(s.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			printEvalTable(s.Out, &out)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&data, "data", "", "JSON-lines evaluation file, or memory:N for the built-in conversations")
	f.StringVar(&methods, "methods", "none,query,query-sentences,rerank,extractive,prune,dedup+query", "method chains to evaluate (comma-separated; + chains methods; none = uncompressed)")
	f.StringVar(&rates, "rates", "0.5,0.33,0.25", "kept fractions to evaluate (each context compressed to this share of its tokens; \"\" for none)")
	f.StringVar(&targets, "target-tokens", "", "fixed budgets to evaluate, in tokens per context (e.g. 128,160: a RAG context budget; contexts already within it are sent as they are)")
	f.StringVar(&tokenizerName, "tokenizer", "o200k_base", "tokenizer for budgets and ratios")
	f.IntVar(&limit, "limit", 0, "evaluate only the first N examples")
	f.IntVar(&maxTokens, "max-tokens", 32, "answer length asked of --backend")
	f.BoolVar(&asJSON, "json", false, "print the rows as JSON")
	f.BoolVarP(&quiet, "quiet", "q", false, "no progress on standard error")
	be.add(cmd)
	return cmd
}

func printEvalTable(w io.Writer, o *EvalPromptOutput) {
	fmt.Fprintf(w, "%s: %d examples, tokens in %s\n\n", o.Data, o.Examples, o.Tokenizer)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	acc := o.Backend != ""
	head := "method\trate\tcontext tokens\tratio\tprompt ratio\tretention\t"
	if acc {
		head += "accuracy\t"
	}
	fmt.Fprintln(tw, head+"fallbacks\tMB/s\t")
	for _, r := range o.Rows {
		rate := "-"
		switch {
		case r.Rate > 0:
			rate = strconv.FormatFloat(r.Rate, 'f', -1, 64)
		case r.Target > 0:
			rate = fmt.Sprintf("≤%d tok", r.Target)
		}
		line := fmt.Sprintf("%s\t%s\t%d -> %d\t%.2fx\t%.2fx\t%.1f%%\t", r.Method, rate, r.Before, r.After, r.Ratio, r.PromptRatio, 100*r.Retention)
		if acc {
			line += fmt.Sprintf("%.1f%%\t", 100*r.Accuracy)
		}
		fmt.Fprintf(tw, "%s%d\t%.2f\t\n", line, r.Fallbacks, r.MBPerSec)
	}
	tw.Flush()
	for _, r := range o.Rows {
		if r.FirstError != "" {
			at := fmt.Sprintf("rate %v", r.Rate)
			if r.Target > 0 {
				at = fmt.Sprintf("%d tokens", r.Target)
			}
			fmt.Fprintf(w, "\n%s at %s: %d examples left uncompressed; first error: %s\n", r.Method, at, r.Fallbacks, r.FirstError)
		}
	}
}
