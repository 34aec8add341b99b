package prompt

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/lmc-project/lmc/prompt/bm25"
	"github.com/lmc-project/lmc/prompt/dedup"
)

// Errors. Every error [Compress] returns wraps one of them.
var (
	// ErrEmpty: the input (text or every message) is empty or only
	// whitespace.
	ErrEmpty = errors.New("prompt: empty input")
	// ErrBudget: the budget cannot be used: not positive, not smaller than
	// the input, smaller than the protected content, or not reachable by
	// the chosen methods.
	ErrBudget = errors.New("prompt: budget")
	// ErrMessages: the messages JSON is malformed.
	ErrMessages = errors.New("prompt: malformed messages")
	// ErrMethod: an unknown method, or a method missing what it needs (a
	// question, a generator, an embedder, a scorer).
	ErrMethod = errors.New("prompt: method")
	// ErrBackend: a generator, embedder or scorer failed (timeout, error
	// status, garbage response).
	ErrBackend = errors.New("prompt: backend")
)

// Input is what to compress: Text (with an optional Question), or
// Messages. The question, or the last user message, is never compressed
// and steers the query-aware methods.
type Input struct {
	Text     string    `json:"text,omitempty"`
	Question string    `json:"question,omitempty"`
	Messages []Message `json:"messages,omitempty"`
}

// Options choose the methods and the budget.
type Options struct {
	// Methods are applied in order (see [Methods] for the names). Empty
	// means "template,dedup".
	Methods []string
	// Target is the budget in Counter's tokens: of Text for text input (the
	// question is not counted), of all message contents for messages. 0
	// means Rate.
	Target int
	// Rate is the budget as a fraction of the input's tokens, in (0, 1):
	// 0.25 keeps a quarter (4× fewer tokens). Used when Target is 0.
	Rate float64
	// Counter is the tokenizer budgets are counted in. Nil means [Bytes].
	Counter Counter
	// ReportCounters are more tokenizers the report counts in.
	ReportCounters []Counter

	// Protect chooses the kinds of protected spans; zero means
	// DefaultProtect, [ProtectNone] means none.
	Protect Protect
	// StrictProtect makes unit selection keep every unit that holds any
	// protected span (numbers and entities too); by default only code and
	// Keep/KeepRegexp matches force their unit to stay (see the package
	// doc).
	StrictProtect bool
	// Keep and KeepRegexp are user-protected strings and patterns.
	Keep       []string
	KeepRegexp []*regexp.Regexp

	// Generator backs summarize, extract and memory (memory falls back to
	// [ExtractiveGenerator] when nil).
	Generator Generator
	// Embedder backs embed, and adds an embedding score to rerank when set.
	Embedder Embedder
	// Scorer backs prune (nil: [UnigramScorer]).
	Scorer Scorer

	// KeepTurns is the number of most recent user turns memory keeps
	// verbatim (0 means 2).
	KeepTurns int
	// Fields are the JSON fields extract asks for; none means a list of
	// facts.
	Fields []string
	// DocumentOrder makes rerank keep the original order of the chunks it
	// keeps instead of putting the most relevant first.
	DocumentOrder bool
	// Dedup tunes near-duplicate detection.
	Dedup *dedup.Options
	// Fallback returns the original input, with the error in
	// Report.Fallback, when compression fails after the input was read.
	Fallback bool
}

// ProtectNone disables every protected-span kind (Keep, KeepRegexp and the
// question stay protected).
const ProtectNone Protect = 1 << 7

// Result is the compressed input and its report.
type Result struct {
	Text     string    `json:"text,omitempty"`
	Question string    `json:"question,omitempty"`
	Messages []Message `json:"messages,omitempty"`
	Report   Report    `json:"report"`
}

// Prompt returns the compressed prompt as one string: the text, a blank
// line and the question (or the text alone), or the messages as
// "role: content" lines.
func (r *Result) Prompt() string {
	if r.Messages != nil {
		var b strings.Builder
		for i, m := range r.Messages {
			if i > 0 {
				b.WriteString("\n\n")
			}
			b.WriteString(m.Role + ": " + m.Content)
		}
		return b.String()
	}
	if r.Question == "" {
		return r.Text
	}
	return r.Text + "\n\n" + r.Question
}

// TokenCount is a before/after count in one tokenizer.
type TokenCount struct {
	Tokenizer string  `json:"tokenizer"`
	Before    int     `json:"before"`
	After     int     `json:"after"`
	Ratio     float64 `json:"ratio"` // Before/After (0 when After is 0)
}

// Removal is one piece of text a method removed, and why.
type Removal struct {
	Method string `json:"method"`
	Reason string `json:"reason"`
	Detail string `json:"detail,omitempty"`
	Text   string `json:"text"` // at most 160 bytes, "…" marks a cut
	Tokens int    `json:"tokens"`
}

// RemovalSummary adds up the removals of one method and reason.
type RemovalSummary struct {
	Method string `json:"method"`
	Reason string `json:"reason"`
	Count  int    `json:"count"`
	Tokens int    `json:"tokens"`
}

// Step reports one method's effect.
type Step struct {
	Method  string  `json:"method"`
	Before  int     `json:"tokens_before"`
	After   int     `json:"tokens_after"`
	Target  int     `json:"target,omitempty"`
	Seconds float64 `json:"seconds"`
	Note    string  `json:"note,omitempty"`
}

// ScorerStats reports the token-level scorer's work.
type ScorerStats struct {
	Name         string  `json:"name"`
	Tokens       int     `json:"tokens"`
	Seconds      float64 `json:"seconds"`
	TokensPerSec float64 `json:"tokens_per_s"`
}

// MaxRemovals is the most removals a report lists one by one (the summary
// counts all).
const MaxRemovals = 1000

// Report says what compression did.
type Report struct {
	Methods   []string         `json:"methods"`
	Tokenizer string           `json:"tokenizer"`
	Target    int              `json:"target,omitempty"`
	Tokens    []TokenCount     `json:"tokens"`
	Ratio     float64          `json:"ratio"`
	Steps     []Step           `json:"steps"`
	Protected map[string]int   `json:"protected,omitempty"`
	Summary   []RemovalSummary `json:"removed_summary,omitempty"`
	Removed   []Removal        `json:"removed,omitempty"`
	More      int              `json:"removed_more,omitempty"` // removals past MaxRemovals
	Scorer    *ScorerStats     `json:"scorer,omitempty"`
	Seconds   float64          `json:"seconds"`
	Fallback  string           `json:"fallback,omitempty"`
}

// methodInfo describes a method.
type methodInfo struct {
	name     string
	budgeted bool // uses the budget
	optional bool // runs without a budget too
	doc      string
	text     func(j *job, text string, budget int) (string, error) // per text
	msgs     func(j *job, ms []Message, budget int) ([]Message, error)
}

var methods []methodInfo

func init() {
	methods = []methodInfo{
		{name: "template", doc: "whitespace, repeated instructions and boilerplate phrases", text: (*job).template},
		{name: "dedup", doc: "exact and near-duplicate paragraphs and sentences (MinHash or SimHash over word shingles)", text: (*job).dedup},
		{name: "extractive", budgeted: true, doc: "sentences ranked by centrality (TextRank over TF-IDF cosine), kept in order", text: (*job).extractive},
		{name: "rerank", budgeted: true, doc: "chunks ranked by BM25 against the question (plus embeddings when an embedder is set), most relevant first", text: (*job).rerank},
		{name: "query", budgeted: true, doc: "query-focused: coarse chunk selection by relevance, then sentences and words inside kept chunks, in document order", text: (*job).query},
		{name: "query-sentences", budgeted: true, doc: "query with whole sentences as the finest unit (readable output, less kept per token)", text: (*job).querySentences},
		{name: "embed", budgeted: true, doc: "chunks filtered by embedding similarity to the question", text: (*job).embed},
		{name: "prune", budgeted: true, doc: "token-level pruning of the least informative words under a small LM (LLMLingua-style)", text: (*job).prune},
		{name: "summarize", budgeted: true, doc: "an abstractive summary by the generator backend", text: (*job).summarize},
		{name: "extract", budgeted: true, doc: "facts or JSON fields extracted by the generator backend", text: (*job).extract},
		{name: "memory", budgeted: true, optional: true, doc: "conversation memory: the last turns verbatim, older turns summarized", msgs: (*job).memory},
	}
}

// Methods returns the method names, in the order listed in the package
// doc, with one-line descriptions.
func Methods() [][2]string {
	out := make([][2]string, len(methods))
	for i, m := range methods {
		out[i] = [2]string{m.name, m.doc}
	}
	return out
}

func lookup(name string) (*methodInfo, bool) {
	for i := range methods {
		if methods[i].name == name {
			return &methods[i], true
		}
	}
	return nil, false
}

// job is one Compress call's state.
type job struct {
	ctx      context.Context
	opts     *Options
	counter  Counter
	prot     protector
	question string
	method   string
	removed  []Removal
	more     int
	summary  map[[2]string]*RemovalSummary
	sumOrder [][2]string
	scorer   ScorerStats
	seen     map[uint64]bool // template: sentences seen (across messages)
	note     string
	// inMessage: compressing one message of several, which may end up
	// empty (its share of the budget went to more relevant messages)
	inMessage bool
}

func (j *job) remove(reason, text string, tokens int) { j.removeDetail(reason, "", text, tokens) }

func (j *job) removeDetail(reason, detail, text string, tokens int) {
	key := [2]string{j.method, reason}
	s := j.summary[key]
	if s == nil {
		s = &RemovalSummary{Method: j.method, Reason: reason}
		j.summary[key] = s
		j.sumOrder = append(j.sumOrder, key)
	}
	s.Count++
	s.Tokens += tokens
	if len(j.removed) >= MaxRemovals {
		j.more++
		return
	}
	j.removed = append(j.removed, Removal{Method: j.method, Reason: reason, Detail: detail, Text: truncate(text, 160), Tokens: tokens})
}

func (j *job) count(s string) int { return j.counter.Count(s) }

// Compress compresses in with opts. The error wraps one of the package's
// sentinel errors; with opts.Fallback, errors after the input was
// validated give the original input back instead (Report.Fallback says
// why).
func Compress(ctx context.Context, in Input, opts Options) (*Result, error) {
	start := time.Now()
	if ctx == nil {
		ctx = context.Background()
	}
	if opts.Counter == nil {
		opts.Counter = Bytes
	}
	names := opts.Methods
	if len(names) == 0 {
		names = []string{"template", "dedup"}
	}
	var infos []*methodInfo
	budgeted, required := 0, 0
	for _, n := range names {
		m, ok := lookup(strings.TrimSpace(strings.ToLower(n)))
		if !ok {
			return nil, fmt.Errorf("%w: unknown method %q (methods: %s)", ErrMethod, n, methodNames())
		}
		if m.msgs != nil && in.Messages == nil {
			return nil, fmt.Errorf("%w: %s works on chat messages, not plain text", ErrMethod, m.name)
		}
		if m.budgeted {
			budgeted++
			if !m.optional {
				required++
			}
		}
		infos = append(infos, m)
	}
	// validate the input
	if in.Messages != nil {
		if len(in.Messages) == 0 {
			return nil, fmt.Errorf("%w: no messages", ErrEmpty)
		}
		empty := true
		for _, m := range in.Messages {
			if strings.TrimSpace(m.Content) != "" {
				empty = false
			}
		}
		if empty {
			return nil, fmt.Errorf("%w: every message is empty", ErrEmpty)
		}
		if strings.TrimSpace(in.Text) != "" {
			return nil, fmt.Errorf("%w: both text and messages given", ErrMethod)
		}
	} else if strings.TrimSpace(in.Text) == "" {
		return nil, fmt.Errorf("%w: no text to compress", ErrEmpty)
	}
	if opts.Target < 0 {
		return nil, fmt.Errorf("%w: target %d tokens: must be positive", ErrBudget, opts.Target)
	}
	if opts.Target == 0 && opts.Rate != 0 && !(opts.Rate > 0 && opts.Rate < 1) {
		return nil, fmt.Errorf("%w: rate %v: must be in (0, 1), the fraction of tokens kept", ErrBudget, opts.Rate)
	}

	j := &job{ctx: ctx, opts: &opts, counter: opts.Counter, summary: map[[2]string]*RemovalSummary{}, seen: map[uint64]bool{}}
	j.prot = protector{kinds: opts.Protect, strict: opts.StrictProtect, keep: opts.Keep, keepRe: opts.KeepRegexp}
	if opts.Protect == 0 {
		j.prot.kinds = DefaultProtect
	} else if opts.Protect&ProtectNone != 0 {
		j.prot.kinds = 0
	}
	res := &Result{}
	rep := &res.Report
	for _, m := range infos {
		rep.Methods = append(rep.Methods, m.name)
	}
	rep.Tokenizer = opts.Counter.Name()

	msgs := slices.Clone(in.Messages)
	text := in.Text
	question := in.Question
	qi := -1 // index of the question message
	if msgs != nil {
		for i := len(msgs) - 1; i >= 0; i-- {
			if msgs[i].Role == "user" {
				qi = i
				break
			}
		}
		if qi >= 0 {
			question = msgs[qi].Content
		}
	}
	j.question = question
	before := j.totalTokens(text, msgs)

	target := opts.Target
	if target == 0 && opts.Rate > 0 {
		target = int(math.Round(opts.Rate * float64(before)))
		if target < 1 {
			target = 1
		}
	}
	rep.Target = target
	fail := func(err error) (*Result, error) {
		if !opts.Fallback {
			return nil, err
		}
		out := &Result{Text: in.Text, Question: in.Question, Messages: in.Messages}
		out.Report = Report{Methods: rep.Methods, Tokenizer: rep.Tokenizer, Target: target, Fallback: err.Error(),
			Seconds: time.Since(start).Seconds(), Ratio: 1}
		for _, c := range j.counters() {
			n := j.totalTokensIn(c, in.Text, in.Messages)
			out.Report.Tokens = append(out.Report.Tokens, TokenCount{Tokenizer: c.Name(), Before: n, After: n, Ratio: 1})
		}
		return out, nil
	}
	if target > 0 && budgeted == 0 {
		return fail(fmt.Errorf("%w: none of the methods %s uses a budget (budgeted methods: %s)", ErrBudget, strings.Join(rep.Methods, ","), budgetedNames()))
	}
	if required > 0 && target == 0 {
		return nil, fmt.Errorf("%w: %s needs a budget (a target in tokens or a rate)", ErrBudget, strings.Join(rep.Methods, ","))
	}
	if target > 0 && target >= before {
		return fail(fmt.Errorf("%w: target %d %s tokens is not smaller than the input's %d: nothing to compress", ErrBudget, target, opts.Counter.Name(), before))
	}

	// the protected spans, for the report
	rep.Protected = map[string]int{}
	for _, t := range j.compressibleTexts(text, msgs, qi) {
		for _, s := range j.prot.spans(t) {
			rep.Protected[s.kind.String()]++
		}
	}

	k := 0
	cur := before
	for _, m := range infos {
		t0 := time.Now()
		j.method = m.name
		j.note = ""
		stepTarget := 0
		if m.budgeted && target > 0 {
			k++
			// geometric steps from the input size down to the target
			stepTarget = int(math.Round(float64(before) * math.Pow(float64(target)/float64(before), float64(k)/float64(budgeted))))
			if k == budgeted {
				stepTarget = target
			}
			if stepTarget >= cur {
				rep.Steps = append(rep.Steps, Step{Method: m.name, Before: cur, After: cur, Target: stepTarget, Note: "already within its target"})
				continue
			}
		}
		var err error
		if m.msgs != nil {
			msgs, err = m.msgs(j, msgs, stepTarget)
			if err == nil {
				qi = lastUser(msgs)
			}
		} else if msgs != nil {
			msgs, err = j.eachMessage(m, msgs, qi, stepTarget, cur)
		} else {
			text, err = m.text(j, text, stepTarget)
		}
		if err != nil {
			return fail(err)
		}
		if err := ctx.Err(); err != nil {
			return fail(fmt.Errorf("%w: %v", ErrBackend, err))
		}
		after := j.totalTokens(text, msgs)
		rep.Steps = append(rep.Steps, Step{Method: m.name, Before: cur, After: after, Target: stepTarget, Seconds: time.Since(t0).Seconds(), Note: j.note})
		cur = after
	}
	if target > 0 && cur > target {
		return fail(fmt.Errorf("%w: the methods reached %d %s tokens, over the target %d", ErrBudget, cur, opts.Counter.Name(), target))
	}
	if msgs != nil {
		res.Messages = msgs
	} else {
		res.Text = text
		res.Question = in.Question
	}
	for _, c := range j.counters() {
		b := before
		a := cur
		if c != opts.Counter {
			b = j.totalTokensIn(c, in.Text, in.Messages)
			a = j.totalTokensIn(c, text, msgs)
		}
		tc := TokenCount{Tokenizer: c.Name(), Before: b, After: a}
		if a > 0 {
			tc.Ratio = float64(b) / float64(a)
		}
		rep.Tokens = append(rep.Tokens, tc)
	}
	rep.Ratio = rep.Tokens[0].Ratio
	rep.Removed = j.removed
	rep.More = j.more
	for _, k := range j.sumOrder {
		rep.Summary = append(rep.Summary, *j.summary[k])
	}
	if j.scorer.Name != "" {
		s := j.scorer
		if s.Seconds > 0 {
			s.TokensPerSec = float64(s.Tokens) / s.Seconds
		}
		rep.Scorer = &s
	}
	rep.Seconds = time.Since(start).Seconds()
	return res, nil
}

func methodNames() string {
	var n []string
	for _, m := range methods {
		n = append(n, m.name)
	}
	return strings.Join(n, ", ")
}

func budgetedNames() string {
	var n []string
	for _, m := range methods {
		if m.budgeted {
			n = append(n, m.name)
		}
	}
	return strings.Join(n, ", ")
}

func lastUser(ms []Message) int {
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Role == "user" {
			return i
		}
	}
	return -1
}

func (j *job) counters() []Counter {
	out := []Counter{j.opts.Counter}
	for _, c := range j.opts.ReportCounters {
		if c != nil && c.Name() != j.opts.Counter.Name() {
			out = append(out, c)
		}
	}
	return out
}

func (j *job) totalTokens(text string, msgs []Message) int {
	return j.totalTokensIn(j.counter, text, msgs)
}

func (j *job) totalTokensIn(c Counter, text string, msgs []Message) int {
	if msgs == nil {
		return c.Count(text)
	}
	n := 0
	for _, m := range msgs {
		n += c.Count(m.Content)
	}
	return n
}

// compressible reports whether message i may be compressed by a text
// method: not the question, not a system or developer message (except the
// summary memory wrote).
func compressible(ms []Message, i, qi int) bool {
	if i == qi || strings.TrimSpace(ms[i].Content) == "" {
		return false
	}
	if ms[i].Role == "system" || ms[i].Role == "developer" {
		return strings.HasPrefix(ms[i].Content, MemoryPrefix) // memory's summary
	}
	return true
}

func (j *job) compressibleTexts(text string, msgs []Message, qi int) []string {
	if msgs == nil {
		return []string{text}
	}
	var out []string
	for i, m := range msgs {
		if compressible(msgs, i, qi) {
			out = append(out, m.Content)
		}
	}
	return out
}

// eachMessage runs a text method over the messages: template and dedup
// over every message but the question, budgeted methods over the
// compressible ones, each getting a share of the budget proportional to
// its size times its relevance to the question (BM25 scaled to [0, 1],
// plus 0.25); what a message leaves unused goes to the next.
func (j *job) eachMessage(m *methodInfo, msgs []Message, qi, target, cur int) ([]Message, error) {
	out := slices.Clone(msgs)
	if !m.budgeted {
		for i := range out {
			if i == qi {
				continue
			}
			t, err := m.text(j, out[i].Content, 0)
			if err != nil {
				return nil, err
			}
			out[i].Content = t
		}
		return out, nil
	}
	fixed := 0
	var idx []int
	sizes := map[int]int{}
	total := 0
	for i := range out {
		n := j.count(out[i].Content)
		if compressible(out, i, qi) {
			idx = append(idx, i)
			sizes[i] = n
			total += n
		} else {
			fixed += n
		}
	}
	avail := target - fixed
	if len(idx) == 0 || avail <= 0 {
		return nil, fmt.Errorf("%w: the messages that are not compressed (system prompts and the last user message) take %d tokens of the target %d", ErrBudget, fixed, target)
	}
	// weights: size times relevance to the question (BM25, scaled to
	// [0, 1], plus 0.25), so relevant messages get a larger share
	weight := make(map[int]float64, len(idx))
	wsum := 0.0
	rel := make([]float64, len(idx))
	if j.question != "" {
		texts := make([]string, len(idx))
		for k, i := range idx {
			texts[k] = out[i].Content
		}
		rel = bm25.New(texts, nil).Scores(j.question)
		normalize(rel)
	}
	for k, i := range idx {
		weight[i] = float64(sizes[i]) * (0.25 + rel[k])
		wsum += weight[i]
	}
	// largest remainder shares, so they add up to avail
	shares := make(map[int]int, len(idx))
	type rem struct {
		i int
		r float64
	}
	var rems []rem
	given := 0
	for _, i := range idx {
		x := float64(avail) * weight[i] / wsum
		shares[i] = int(x)
		given += int(x)
		rems = append(rems, rem{i, x - math.Floor(x)})
	}
	sort.SliceStable(rems, func(a, b int) bool { return rems[a].r > rems[b].r })
	for k := 0; given < avail && k < len(rems); k++ {
		shares[rems[k].i]++
		given++
	}
	// shares over a message's size are given to the others
	for pass := 0; pass < 4; pass++ {
		extra, open := 0, 0.0
		for _, i := range idx {
			if shares[i] > sizes[i] {
				extra += shares[i] - sizes[i]
				shares[i] = sizes[i]
			} else if shares[i] < sizes[i] {
				open += weight[i]
			}
		}
		if extra == 0 || open == 0 {
			break
		}
		for _, i := range idx {
			if shares[i] < sizes[i] {
				shares[i] += int(float64(extra) * weight[i] / open)
			}
		}
	}
	carry := 0 // tokens a message left unused go to the next ones
	for _, i := range idx {
		b := shares[i] + carry
		if b >= sizes[i] {
			carry = b - sizes[i]
			continue
		}
		j.inMessage = true
		t, err := m.text(j, out[i].Content, b)
		j.inMessage = false
		if err != nil {
			return nil, fmt.Errorf("messages[%d]: %w", i, err)
		}
		out[i].Content = t
		carry = max(0, b-j.count(t))
	}
	return out, nil
}
