// Package eval measures prompt compression on question-answering data:
// for each method chain and rate, the compression ratio in a tokenizer and
// the answer retention (the gold answer or one of its aliases still present,
// normalized, in the compressed context), plus the answer accuracy of a
// model behind an OpenAI-compatible endpoint when one is given.
//
// # Data
//
// [Load] reads JSON lines in the formats of lmc's shared evaluation files:
//
//   - retrieval QA (llm-foundry natural_questions_*_rag): {"query":
//     "Context: …\n\nQuestion: …\nAnswer:", "answer", "aliases"};
//   - key-value retrieval (long_context__kv_pairs_*): {"context": "<instruction and
//     JSON object>\n\nKey: \"…\"\nCorresponding Value:", "answer"}: the
//     question is the Key line, the needle the answer's value;
//   - generic: {"context", "question", "answer", "aliases"}.
//
// [MemoryCases] builds the multi-turn memory case: conversations whose
// early turns state facts (a name, a city, an order number, a date …),
// followed by unrelated turns and a question about one early fact.
//
// Answers are normalized as in SQuAD: lower case, punctuation and the
// articles a, an, the removed, whitespace collapsed; an answer is retained
// when its normalized form appears, on word boundaries, in the normalized
// compressed context.
//
// Limits: a data file is read line by line, each line at most 16 MiB; at
// most [MaxExamples] examples.
package eval

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode"

	"github.com/lmc-project/lmc/prompt"
	"github.com/lmc-project/lmc/prompt/openai"
)

// MaxExamples is the most examples Load reads.
const MaxExamples = 1 << 20

// ErrData is wrapped by errors about a data file's contents.
var ErrData = errors.New("eval: bad data")

// Example is one evaluation item.
type Example struct {
	Context  string           `json:"context,omitempty"`
	Messages []prompt.Message `json:"messages,omitempty"` // a conversation instead of a context
	Question string           `json:"question"`
	Answers  []string         `json:"answers"` // the gold answer first, then aliases
	// Template renders the prompt sent to a model: %[1]s is the context,
	// %[2]s the question.
	Template string `json:"-"`
}

// Load reads a JSON-lines data file.
func Load(path string) ([]Example, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f, path)
}

// Read reads JSON-lines examples from r; name is used in errors.
func Read(r io.Reader, name string) ([]Example, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	var out []Example
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if len(out) >= MaxExamples {
			return nil, fmt.Errorf("%w: %s: more than %d examples", ErrData, name, MaxExamples)
		}
		var raw struct {
			Query    *string  `json:"query"`
			Context  *string  `json:"context"`
			Question string   `json:"question"`
			Answer   any      `json:"answer"`
			Aliases  []string `json:"aliases"`
		}
		if err := json.Unmarshal(b, &raw); err != nil {
			return nil, fmt.Errorf("%w: %s line %d: %v", ErrData, name, line, err)
		}
		var ex Example
		switch a := raw.Answer.(type) {
		case string:
			ex.Answers = append(ex.Answers, a)
		case float64:
			ex.Answers = append(ex.Answers, fmt.Sprint(a))
		default:
			return nil, fmt.Errorf("%w: %s line %d: no \"answer\" string", ErrData, name, line)
		}
		ex.Answers = append(ex.Answers, raw.Aliases...)
		switch {
		case raw.Query != nil:
			q := *raw.Query
			ci := strings.Index(q, "Context:")
			qi := strings.LastIndex(q, "Question:")
			if ci < 0 || qi < ci {
				return nil, fmt.Errorf("%w: %s line %d: query lacks \"Context:\" … \"Question:\"", ErrData, name, line)
			}
			ex.Context = strings.TrimSpace(q[ci+len("Context:") : qi])
			ex.Question = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(q[qi+len("Question:"):]), "Answer:"))
			ex.Template = "Context: %[1]s\n\nQuestion: %[2]s\nAnswer:"
		case raw.Context != nil && raw.Question != "":
			ex.Context, ex.Question = *raw.Context, raw.Question
			ex.Template = "%[1]s\n\nQuestion: %[2]s\nAnswer:"
		case raw.Context != nil:
			c := *raw.Context
			ki := strings.LastIndex(c, "\n\nKey:")
			if ki < 0 {
				return nil, fmt.Errorf("%w: %s line %d: context without a question or a \"Key:\" line", ErrData, name, line)
			}
			ex.Context = strings.TrimSpace(c[:ki])
			ex.Question = strings.TrimSpace(c[ki:])
			ex.Template = "%[1]s\n\n%[2]s"
		default:
			return nil, fmt.Errorf("%w: %s line %d: no \"query\" or \"context\"", ErrData, name, line)
		}
		out = append(out, ex)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrData, name, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s: no examples", ErrData, name)
	}
	return out, nil
}

// Normalize lower-cases s and removes punctuation and the articles a, an,
// the, collapsing whitespace (SQuAD's answer normalization).
func Normalize(s string) string {
	s = strings.ToLower(s)
	var b strings.Builder
	for _, r := range s {
		if unicode.IsPunct(r) || unicode.IsSymbol(r) {
			b.WriteByte(' ')
			continue
		}
		b.WriteRune(r)
	}
	var words []string
	for _, w := range strings.Fields(b.String()) {
		if w == "a" || w == "an" || w == "the" {
			continue
		}
		words = append(words, w)
	}
	return strings.Join(words, " ")
}

// Contains reports whether the normalized answer appears in the normalized
// text on word boundaries. An answer that normalizes to nothing never does.
func Contains(normText, answer string) bool {
	a := Normalize(answer)
	if a == "" {
		return false
	}
	return strings.Contains(" "+normText+" ", " "+a+" ")
}

// Retained reports whether any answer is in text.
func Retained(text string, answers []string) bool {
	n := Normalize(text)
	for _, a := range answers {
		if Contains(n, a) {
			return true
		}
	}
	return false
}

// Config is one evaluation run.
type Config struct {
	Chains [][]string // method chains; an empty chain is the uncompressed baseline
	Rates  []float64  // kept fractions
	// Targets are fixed budgets in Counter's tokens, each context's
	// (a RAG context budget): a context already within the budget is
	// sent as it is, the rest are compressed to it.
	Targets []int
	Counter prompt.Counter
	// Options is the template for each compression (Methods, Rate and
	// Counter are set per run; Fallback is always on so a failed example
	// counts with its original size).
	Options prompt.Options
	// Backend, when set, answers each compressed prompt (temperature 0);
	// accuracy is the share of answers containing a gold answer.
	Backend   *openai.Client
	MaxTokens int // answer length for Backend (default 32)
	Limit     int // use the first Limit examples (0: all)
	// Progress, when set, is called after each example of each run.
	Progress func(done, total int)
}

// Row is the result of one chain at one rate.
type Row struct {
	Method       string  `json:"method"`
	Rate         float64 `json:"rate"`                    // 0 for the uncompressed baseline and fixed budgets
	Target       int     `json:"target_tokens,omitempty"` // a fixed budget per context
	WithinBudget int     `json:"within_budget,omitempty"` // contexts already within Target, sent as they are
	Examples     int     `json:"examples"`
	Before       int     `json:"tokens_before"` // context tokens, summed
	After        int     `json:"tokens_after"`
	Ratio        float64 `json:"ratio"`        // Before/After
	PromptRatio  float64 `json:"prompt_ratio"` // the same for the whole prompt (context + question)
	Retention    float64 `json:"retention"`    // share of examples with an answer retained
	Accuracy     float64 `json:"accuracy,omitempty"`
	AccuracyN    int     `json:"accuracy_n,omitempty"`
	Fallbacks    int     `json:"fallbacks"` // examples left uncompressed after an error
	FirstError   string  `json:"first_error,omitempty"`
	MBPerSec     float64 `json:"mb_per_s"` // context bytes compressed per second
	Seconds      float64 `json:"seconds"`
	ScorerTokPS  float64 `json:"scorer_tokens_per_s,omitempty"`
	ScorerTokens int     `json:"scorer_tokens,omitempty"`
}

// Run evaluates every chain at every rate (the empty chain once, at rate
// 0) on exs.
func Run(ctx context.Context, exs []Example, cfg Config) ([]Row, error) {
	if cfg.Counter == nil {
		cfg.Counter = prompt.Bytes
	}
	if cfg.Limit > 0 && cfg.Limit < len(exs) {
		exs = exs[:cfg.Limit]
	}
	type run struct {
		chain  []string
		rate   float64
		target int
	}
	var runs []run
	for _, c := range cfg.Chains {
		if len(c) == 0 {
			runs = append(runs, run{nil, 0, 0})
			continue
		}
		for _, r := range cfg.Rates {
			runs = append(runs, run{c, r, 0})
		}
		for _, t := range cfg.Targets {
			if t <= 0 {
				return nil, fmt.Errorf("%w: target %d tokens: budgets must be positive", ErrData, t)
			}
			runs = append(runs, run{c, 0, t})
		}
	}
	total := len(runs) * len(exs)
	done := 0
	var rows []Row
	for _, rn := range runs {
		row := Row{Method: strings.Join(rn.chain, "+"), Rate: rn.rate, Target: rn.target, Examples: len(exs)}
		at := fmt.Sprintf("rate %v", rn.rate)
		if rn.target > 0 {
			at = fmt.Sprintf("%d tokens", rn.target)
		}
		if row.Method == "" {
			row.Method = "none"
		}
		retained, correct := 0, 0
		var bytesIn int
		var secs, scorerSecs float64
		promptBefore, promptAfter := 0, 0
		for _, ex := range exs {
			opts := cfg.Options
			opts.Methods = rn.chain
			opts.Rate = rn.rate
			opts.Target = rn.target
			opts.Counter = cfg.Counter
			opts.Fallback = true
			in := prompt.Input{Text: ex.Context, Question: ex.Question, Messages: ex.Messages}
			var ctxOut string
			var msgsOut []prompt.Message
			var before, after int
			t0 := time.Now()
			within := false
			if len(rn.chain) == 0 || rn.target > 0 {
				before = countInput(cfg.Counter, ex.Context, ex.Messages)
				within = len(rn.chain) == 0 || before <= rn.target
			}
			if within {
				ctxOut, msgsOut = ex.Context, ex.Messages
				after = before
				if len(rn.chain) > 0 {
					row.WithinBudget++
				}
			} else {
				res, err := prompt.Compress(ctx, in, opts)
				if err != nil {
					return nil, fmt.Errorf("%s at %s: %w", row.Method, at, err)
				}
				if res.Report.Fallback != "" {
					row.Fallbacks++
					if row.FirstError == "" {
						row.FirstError = res.Report.Fallback
					}
				}
				if res.Report.Scorer != nil {
					scorerSecs += res.Report.Scorer.Seconds
					row.ScorerTokens += res.Report.Scorer.Tokens
				}
				ctxOut, msgsOut = res.Text, res.Messages
				before, after = res.Report.Tokens[0].Before, res.Report.Tokens[0].After
			}
			secs += time.Since(t0).Seconds()
			bytesIn += len(ex.Context) + messagesLen(ex.Messages)
			row.Before += before
			row.After += after
			qt := cfg.Counter.Count(ex.Question)
			if ex.Messages != nil {
				qt = 0 // the question is one of the messages, already counted
			}
			promptBefore += before + qt
			promptAfter += after + qt
			text := ctxOut
			if msgsOut != nil {
				text = joinMessages(msgsOut, ex.Question)
			}
			if Retained(text, ex.Answers) {
				retained++
			}
			if cfg.Backend != nil {
				ans, err := ask(ctx, cfg, ex, ctxOut, msgsOut)
				if err != nil {
					return nil, fmt.Errorf("%s at %s: backend: %w", row.Method, at, err)
				}
				row.AccuracyN++
				if Retained(ans, ex.Answers) {
					correct++
				}
			}
			done++
			if cfg.Progress != nil {
				cfg.Progress(done, total)
			}
		}
		if row.After > 0 {
			row.Ratio = float64(row.Before) / float64(row.After)
		}
		if promptAfter > 0 {
			row.PromptRatio = float64(promptBefore) / float64(promptAfter)
		}
		row.Retention = float64(retained) / float64(len(exs))
		if row.AccuracyN > 0 {
			row.Accuracy = float64(correct) / float64(row.AccuracyN)
		}
		row.Seconds = secs
		if secs > 0 {
			row.MBPerSec = float64(bytesIn) / 1e6 / secs
		}
		if scorerSecs > 0 {
			row.ScorerTokPS = float64(row.ScorerTokens) / scorerSecs
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func countInput(c prompt.Counter, text string, ms []prompt.Message) int {
	if ms == nil {
		return c.Count(text)
	}
	n := 0
	for _, m := range ms {
		n += c.Count(m.Content)
	}
	return n
}

func messagesLen(ms []prompt.Message) int {
	n := 0
	for _, m := range ms {
		n += len(m.Content)
	}
	return n
}

// joinMessages is the text of every message but the final question, where
// retention is looked for.
func joinMessages(ms []prompt.Message, question string) string {
	var b strings.Builder
	for i, m := range ms {
		if i == len(ms)-1 && m.Content == question {
			break
		}
		b.WriteString(m.Content)
		b.WriteString("\n")
	}
	return b.String()
}

func ask(ctx context.Context, cfg Config, ex Example, ctxOut string, msgs []prompt.Message) (string, error) {
	n := cfg.MaxTokens
	if n <= 0 {
		n = 32
	}
	zero := 0.0
	req := openai.ChatRequest{MaxTokens: n, Temperature: &zero}
	if msgs != nil {
		for _, m := range msgs {
			req.Messages = append(req.Messages, openai.Message{Role: m.Role, Content: m.Content})
		}
	} else {
		req.Messages = []openai.Message{
			{Role: "system", Content: "Answer the question with a short phrase taken from the context. No explanation."},
			{Role: "user", Content: fmt.Sprintf(ex.Template, ctxOut, ex.Question)},
		}
	}
	resp, err := cfg.Backend.Chat(ctx, req)
	if err != nil {
		return "", err
	}
	return resp.Content(), nil
}
