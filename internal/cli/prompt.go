package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/lmc-project/lmc/prompt"
	"github.com/lmc-project/lmc/prompt/lm"
	"github.com/lmc-project/lmc/prompt/openai"
	"github.com/lmc-project/lmc/prompt/tokens"
)

// MaxPromptInput is the largest input `lmc prompt compress` reads.
const MaxPromptInput = 256 << 20

func newPromptCmd(s *IO) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "prompt",
		Short: "Compress prompts and contexts: fewer input tokens, the answer kept",
		Long: `Prompt commands shrink what is sent to a language model (documents,
retrieved passages, chat histories) to a token budget counted in the
target model's tokenizer, and report what was removed and why.`,
	}
	cmd.AddCommand(newPromptCompressCmd(s))
	return cmd
}

// backendFlags are the flags of an OpenAI-compatible backend.
type backendFlags struct {
	url, model, embedModel, keyEnv string
	timeout                        time.Duration
	stream                         bool
	localModel, scorerModel        string // local models run by lmc's engine (prompt/lm)
}

func (b *backendFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&b.url, "backend", "", "OpenAI-compatible server for generation and embeddings (e.g. http://127.0.0.1:8080/v1)")
	cmd.Flags().StringVar(&b.model, "model", "", "model name sent to --backend")
	cmd.Flags().StringVar(&b.embedModel, "embed-model", "", "embedding model name; enables the backend's /v1/embeddings for embed and rerank")
	cmd.Flags().StringVar(&b.keyEnv, "api-key-env", "OPENAI_API_KEY", "environment variable holding the backend's API key (sent when set)")
	cmd.Flags().DurationVar(&b.timeout, "timeout", 60*time.Second, "per-request timeout for --backend")
	cmd.Flags().BoolVar(&b.stream, "stream", false, "stream chat completions from --backend (server-sent events)")
	cmd.Flags().StringVar(&b.scorerModel, "scorer-model", "", "prune: score token self-information with this local model (a GGUF file, HF folder or lmc-mini) instead of the model-free unigram stand-in")
	cmd.Flags().StringVar(&b.localModel, "local-model", "", "a local model (GGUF file, HF folder or lmc-mini) run on the CPU: the generator (summarize, extract, memory) when there is no --backend, and the embedder (embed, rerank) when there is no --embed-model")
}

// useLocal loads --scorer-model and --local-model (once when they name the
// same model) and sets opts.Scorer, and opts.Generator and opts.Embedder
// where --backend did not. The returned function closes the models.
func (b *backendFlags) useLocal(opts *prompt.Options) (func(), error) {
	loaded := map[string]*lm.Model{}
	done := func() {
		for _, m := range loaded {
			m.Close()
		}
	}
	load := func(flag, path string) (*lm.Model, error) {
		if m := loaded[path]; m != nil {
			return m, nil
		}
		m, err := lm.Load(path, lm.Options{})
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", flag, err)
		}
		loaded[path] = m
		return m, nil
	}
	if b.scorerModel != "" {
		m, err := load("scorer-model", b.scorerModel)
		if err != nil {
			done()
			return nil, err
		}
		opts.Scorer = lm.NewScorer(m)
	}
	if b.localModel != "" {
		m, err := load("local-model", b.localModel)
		if err != nil {
			done()
			return nil, err
		}
		if opts.Generator == nil {
			opts.Generator = lm.NewGenerator(m, lm.GenerateOptions{})
		}
		if opts.Embedder == nil {
			opts.Embedder = lm.NewEmbedder(m)
		}
	}
	return done, nil
}

func (b *backendFlags) client() (*openai.Client, error) {
	if b.url == "" {
		return nil, nil
	}
	c, err := openai.New(b.url)
	if err != nil {
		return nil, usageError("--backend: %v", err)
	}
	c.Model = b.model
	c.Timeout = b.timeout
	if b.keyEnv != "" {
		c.APIKey = os.Getenv(b.keyEnv)
	}
	return c, nil
}

// PromptOutput is what `lmc prompt compress --json` prints: the compressed
// input and the report.
type PromptOutput = prompt.Result

func newPromptCompressCmd(s *IO) *cobra.Command {
	var (
		question, questionFile, format, methods, tokenizerName, protect, fields, fallback string
		reportTokenizers, keep, keepRegex                                                 []string
		target, keepTurns                                                                 int
		rate                                                                              float64
		strict, docOrder, asJSON, quiet                                                   bool
		be                                                                                backendFlags
	)
	cmd := &cobra.Command{
		Use:   "compress [FILE]",
		Short: "Compress text, a context and question, or chat messages to a token budget",
		Long: `Compress reads plain text or an OpenAI chat "messages" JSON from FILE (or
standard input when FILE is - or absent), applies the methods in order and
prints the compressed text (or messages JSON) on standard output, with a
report on standard error: tokens before and after in each tokenizer, the
ratio, what each method removed and why, and the time taken.

Methods (--methods, applied in order; see docs/PROMPT.md):
` + methodList() + `
The budget (--target-tokens N, or --rate R as the kept fraction) is counted
in --tokenizer: o200k_base (default) or cl100k_base (built in), or a
tokenizer or model path (tokenizer.json, HF folder, tokenizer.model, GGUF,
lmc-mini). For text input the budget covers the text, not the question;
for messages it covers every message's content.

Never removed: the question (for messages the last user message), code
blocks, --keep strings and --keep-regex matches; numbers and named
entities are never altered and go last, and with --protect-strict are never
dropped. summarize and extract need a generator: --backend (an
OpenAI-compatible server) or --local-model (a model run here on the CPU);
memory uses one when given. prune scores tokens with --scorer-model (a
local model, e.g. lmc-mini: each token's surprise given the text kept so
far) or, without it, with a model-free unigram stand-in.`,
		Example: `  lmc prompt compress doc.txt --question "Who built it?" --methods query --rate 0.33
  lmc prompt compress chat.json --methods memory,query --target-tokens 2000 --tokenizer cl100k_base
  cat page.md | lmc prompt compress --methods template,dedup --json
  lmc prompt compress doc.txt --methods summarize --rate 0.2 --backend http://127.0.0.1:8080/v1
  lmc prompt compress doc.txt --methods prune --rate 0.5 --scorer-model lmc-mini
  lmc prompt compress doc.txt --question "Who built it?" --methods rerank --rate 0.5 --local-model lmc-mini`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageError("compress takes at most one FILE, got %d\nUsage: %s", len(args), cmd.UseLine())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "-"
			if len(args) == 1 {
				path = args[0]
			}
			data, err := readInput(s.In, path)
			if err != nil {
				return err
			}
			if questionFile != "" {
				q, err := os.ReadFile(questionFile)
				if err != nil {
					return err
				}
				question = strings.TrimSpace(string(q))
			}
			var in prompt.Input
			switch format {
			case "text":
				in.Text = string(data)
			case "messages":
				if in.Messages, err = prompt.ParseMessages(data); err != nil {
					return fmt.Errorf("%s: %w", displayName(path), err)
				}
			case "auto":
				t := strings.TrimSpace(string(data))
				if strings.HasPrefix(t, "[") || strings.HasPrefix(t, "{") {
					if ms, err := prompt.ParseMessages(data); err == nil {
						in.Messages = ms
						break
					} else if looksLikeMessages(t) {
						return fmt.Errorf("%s: %w (use --format text to compress it as text)", displayName(path), err)
					}
				}
				in.Text = string(data)
			default:
				return usageError("--format %q: choose auto, text or messages", format)
			}
			if in.Messages != nil && question != "" {
				return usageError("--question is for text input; with messages the last user message is the question")
			}
			in.Question = question

			opts := prompt.Options{Target: target, Rate: rate, StrictProtect: strict, KeepTurns: keepTurns,
				DocumentOrder: docOrder, Keep: keep, Fallback: fallback == "original"}
			switch fallback {
			case "", "none", "original":
			default:
				return usageError("--fallback %q: choose original or none", fallback)
			}
			if methods != "" {
				opts.Methods = splitList(methods)
			} else {
				opts.Methods = defaultMethods(in, target > 0 || rate > 0)
			}
			if fields != "" {
				opts.Fields = splitList(fields)
			}
			if protect != "" {
				p, err := prompt.ParseProtect(protect)
				if err != nil {
					return usageError("--protect: %v", err)
				}
				if p == 0 {
					p = prompt.ProtectNone
				}
				opts.Protect = p
			}
			for _, r := range keepRegex {
				re, err := regexp.Compile(r)
				if err != nil {
					return usageError("--keep-regex %q: %v", r, err)
				}
				opts.KeepRegexp = append(opts.KeepRegexp, re)
			}
			if opts.Counter, err = tokens.Open(tokenizerName); err != nil {
				return usageError("--tokenizer: %v", err)
			}
			for _, n := range reportTokenizers {
				c, err := tokens.Open(n)
				if err != nil {
					return usageError("--report-tokenizer: %v", err)
				}
				opts.ReportCounters = append(opts.ReportCounters, c)
			}
			client, err := be.client()
			if err != nil {
				return err
			}
			if client != nil {
				opts.Generator = prompt.OpenAIGenerator(client, be.stream)
				if be.embedModel != "" {
					opts.Embedder = prompt.OpenAIEmbedder(client, be.embedModel)
				}
			}
			closeLocal, err := be.useLocal(&opts)
			if err != nil {
				return err
			}
			defer closeLocal()
			res, err := prompt.Compress(context.Background(), in, opts)
			if err != nil {
				if errors.Is(err, prompt.ErrMethod) {
					return usageError("%v", err)
				}
				return err
			}
			if asJSON {
				enc := json.NewEncoder(s.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			if res.Messages != nil {
				enc := json.NewEncoder(s.Out)
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false)
				if err := enc.Encode(res.Messages); err != nil {
					return err
				}
			} else {
				fmt.Fprintln(s.Out, res.Text)
			}
			if !quiet {
				printPromptReport(s.ErrOut, &res.Report)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&question, "question", "", "the question the context must answer (kept verbatim; steers query, rerank, embed)")
	f.StringVar(&questionFile, "question-file", "", "read the question from a file")
	f.StringVar(&format, "format", "auto", "input format: auto (messages JSON when it parses as such), text or messages")
	f.StringVar(&methods, "methods", "", "comma-separated methods in order (default: template,dedup, plus query or extractive when a budget is given, memory first for messages)")
	f.IntVar(&target, "target-tokens", 0, "budget in --tokenizer tokens")
	f.Float64Var(&rate, "rate", 0, "budget as the fraction of tokens kept, in (0, 1): 0.33 is 3x fewer tokens")
	f.StringVar(&tokenizerName, "tokenizer", "o200k_base", "tokenizer the budget is counted in: o200k_base, cl100k_base, bytes, words, or a tokenizer/model path")
	f.StringSliceVar(&reportTokenizers, "report-tokenizer", nil, "also count in these tokenizers in the report (repeatable)")
	f.StringArrayVar(&keep, "keep", nil, "a string never removed (repeatable)")
	f.StringArrayVar(&keepRegex, "keep-regex", nil, "a regular expression whose matches are never removed (repeatable)")
	f.StringVar(&protect, "protect", "", "protected span kinds: code,numbers,entities, all or none (default all)")
	f.BoolVar(&strict, "protect-strict", false, "never drop numbers and entities either (fails when they do not fit)")
	f.IntVar(&keepTurns, "keep-turns", 2, "memory: the most recent user turns kept verbatim")
	f.StringVar(&fields, "fields", "", "extract: comma-separated JSON fields (default: a list of facts)")
	f.BoolVar(&docOrder, "document-order", false, "rerank: keep the chunks in document order")
	f.StringVar(&fallback, "fallback", "none", "on failure after reading the input: original prints the input unchanged (exit 0, report says why)")
	f.BoolVar(&asJSON, "json", false, "print the result and report as JSON")
	f.BoolVarP(&quiet, "quiet", "q", false, "no report on standard error")
	be.add(cmd)
	return cmd
}

func methodList() string {
	var b strings.Builder
	for _, m := range prompt.Methods() {
		fmt.Fprintf(&b, "  %-16s %s\n", m[0], m[1])
	}
	return b.String()
}

func defaultMethods(in prompt.Input, budget bool) []string {
	ms := []string{"template", "dedup"}
	if !budget {
		return ms
	}
	switch {
	case in.Messages != nil:
		return append(ms, "memory", "query")
	case in.Question != "":
		return append(ms, "query")
	}
	return append(ms, "extractive")
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func looksLikeMessages(t string) bool {
	return strings.Contains(t, `"role"`) || strings.Contains(t, `"messages"`)
}

func displayName(path string) string {
	if path == "-" {
		return "standard input"
	}
	return path
}

// readInput reads FILE or standard input ("-"), at most MaxPromptInput
// bytes.
func readInput(stdin io.Reader, path string) ([]byte, error) {
	var r io.Reader = stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	if r == nil {
		return nil, usageError("no input: give FILE or pipe text to standard input")
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxPromptInput+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxPromptInput {
		return nil, fmt.Errorf("%s: larger than %d bytes", displayName(path), MaxPromptInput)
	}
	return data, nil
}

func printPromptReport(w io.Writer, r *prompt.Report) {
	if r.Fallback != "" {
		fmt.Fprintf(w, "lmc: compression failed, printed the input unchanged (--fallback original): %s\n", r.Fallback)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "methods\t%s\n", strings.Join(r.Methods, ", "))
	if r.Target > 0 {
		fmt.Fprintf(tw, "target\t%d %s tokens\n", r.Target, r.Tokenizer)
	}
	for _, t := range r.Tokens {
		fmt.Fprintf(tw, "tokens (%s)\t%d -> %d  (%.2fx fewer)\n", t.Tokenizer, t.Before, t.After, t.Ratio)
	}
	for _, st := range r.Steps {
		note := ""
		if st.Note != "" {
			note = "  (" + st.Note + ")"
		}
		fmt.Fprintf(tw, "  %s\t%d -> %d tokens in %.3fs%s\n", st.Method, st.Before, st.After, st.Seconds, note)
	}
	if r.Scorer != nil {
		fmt.Fprintf(tw, "scorer\t%s: %d tokens, %.0f tokens/s\n", r.Scorer.Name, r.Scorer.Tokens, r.Scorer.TokensPerSec)
	}
	if len(r.Protected) > 0 {
		var parts []string
		for _, k := range []string{"code", "keep", "number", "entity"} {
			if n := r.Protected[k]; n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", n, k))
			}
		}
		fmt.Fprintf(tw, "protected spans\t%s\n", strings.Join(parts, ", "))
	}
	fmt.Fprintf(tw, "time\t%.3fs\n", r.Seconds)
	tw.Flush()
	if len(r.Summary) > 0 {
		fmt.Fprintln(w, "removed:")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, s := range r.Summary {
			fmt.Fprintf(tw, "  %s\t%s\t%d pieces\t%d tokens\n", s.Method, s.Reason, s.Count, s.Tokens)
		}
		tw.Flush()
	}
}
