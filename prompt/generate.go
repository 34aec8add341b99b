package prompt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/lmc-project/lmc/prompt/segment"
)

const summarizeSystem = "You compress documents for another language model. Answer with the compressed text only: no preamble, no commentary."

func (j *job) generator(what string) (Generator, error) {
	if j.opts.Generator == nil {
		return nil, fmt.Errorf("%w: %s needs a generator backend (an OpenAI-compatible chat completions endpoint)", ErrMethod, what)
	}
	return j.opts.Generator, nil
}

// summarize replaces the text with the generator's summary. The summary is
// cut at a sentence boundary when it is over the budget, and code blocks
// and --keep matches the summary dropped are appended verbatim.
func (j *job) summarize(text string, budget int) (string, error) {
	g, err := j.generator("summarize")
	if err != nil {
		return "", err
	}
	var p strings.Builder
	fmt.Fprintf(&p, "Summarize the document below in at most %d tokens. Keep every name, number, date and code snippet that matters", budget)
	if j.question != "" {
		fmt.Fprintf(&p, ", and everything needed to answer this question: %s", j.question)
	}
	fmt.Fprintf(&p, ".\n\nDocument:\n%s", text)
	out, err := g.Generate(j.ctx, GenerateRequest{System: summarizeSystem, Prompt: p.String(), MaxTokens: budget,
		Task: "summarize", Source: text, Question: j.question})
	if err != nil {
		return "", backendErr("generator", err)
	}
	out = strings.TrimSpace(out)
	if out == "" {
		return "", backendErr("generator", fmt.Errorf("empty summary"))
	}
	out, err = j.restoreHard(text, out, budget)
	if err != nil {
		return "", err
	}
	j.remove("replaced by a summary", text, j.count(text))
	return out, nil
}

// restoreHard appends the hard-protected spans of src (code, --keep) that
// out lacks, and cuts out to the budget at sentence boundaries.
func (j *job) restoreHard(src, out string, budget int) (string, error) {
	var missing []string
	for _, s := range j.prot.spans(src) {
		if s.kind.hard() && !strings.Contains(out, src[s.Start:s.End]) {
			missing = append(missing, src[s.Start:s.End])
		}
	}
	tail := strings.Join(missing, "\n\n")
	need := 0
	if tail != "" {
		need = j.count(tail) + 1
		j.note = fmt.Sprintf("%d protected spans restored after generation", len(missing))
	}
	if need > budget {
		return "", fmt.Errorf("%w: protected content needs %d tokens, over the budget of %d", ErrBudget, need, budget)
	}
	join := func(s string) string {
		if tail == "" {
			return s
		}
		if s == "" {
			return tail
		}
		return s + "\n\n" + tail
	}
	if j.count(join(out)) <= budget {
		return join(out), nil
	}
	// cut at sentences, keeping the first ones
	d := &doc{text: out}
	for _, s := range segment.Sentences(out, nil) {
		d.units = append(d.units, unit{Span: s})
	}
	keep := make([]bool, len(d.units))
	lo, hi := 0, len(d.units)
	build := func(k int) string {
		for i := range keep {
			keep[i] = i < k
		}
		return join(d.assemble(keep))
	}
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if j.count(build(mid)) <= budget {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	res := build(lo)
	for i := lo; i < len(d.units); i++ {
		s := d.units[i].Text(out)
		j.remove("generated text over the budget", s, j.count(s))
	}
	if strings.TrimSpace(res) == "" {
		return "", backendErr("generator", fmt.Errorf("the answer's first sentence alone is over the budget of %d tokens", budget))
	}
	return res, nil
}

// extract asks the generator for the Fields as a JSON object (null where
// absent), or, without fields, for a list of facts, one per line.
func (j *job) extract(text string, budget int) (string, error) {
	g, err := j.generator("extract")
	if err != nil {
		return "", err
	}
	fields := j.opts.Fields
	var p strings.Builder
	req := GenerateRequest{System: summarizeSystem, MaxTokens: budget, Task: "extract", Source: text, Question: j.question, Fields: fields}
	if len(fields) > 0 {
		q, _ := json.Marshal(fields)
		fmt.Fprintf(&p, "Extract these fields from the document as one JSON object with exactly these keys: %s. Use null for a field the document does not give. Answer with the JSON object only.\n\nDocument:\n%s", q, text)
		req.JSON = true
	} else {
		fmt.Fprintf(&p, "List the facts of the document below as short sentences, one per line, each starting with \"- \"; at most %d tokens in all", budget)
		if j.question != "" {
			fmt.Fprintf(&p, "; include every fact needed to answer: %s", j.question)
		}
		fmt.Fprintf(&p, ".\n\nDocument:\n%s", text)
	}
	req.Prompt = p.String()
	out, err := g.Generate(j.ctx, req)
	if err != nil {
		return "", backendErr("generator", err)
	}
	out = strings.TrimSpace(out)
	if len(fields) > 0 {
		obj, err := parseObject(out)
		if err != nil {
			return "", backendErr("generator", err)
		}
		var b bytes.Buffer
		b.WriteByte('{')
		for i, f := range fields {
			if i > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(f)
			b.Write(k)
			b.WriteByte(':')
			v, ok := obj[f]
			if !ok {
				v = json.RawMessage("null")
			}
			var c bytes.Buffer
			if json.Compact(&c, v) != nil {
				c.Reset()
				c.Write(v)
			}
			b.Write(c.Bytes())
		}
		b.WriteByte('}')
		res := b.String()
		if n := j.count(res); n > budget {
			return "", fmt.Errorf("%w: the extracted fields take %d tokens, over the budget of %d", ErrBudget, n, budget)
		}
		j.remove("replaced by extracted fields", text, j.count(text))
		return res, nil
	}
	var facts []string
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if !strings.HasPrefix(l, "- ") {
			l = "- " + strings.TrimLeft(l, "-*• ")
		}
		facts = append(facts, l)
	}
	if len(facts) == 0 {
		return "", backendErr("generator", fmt.Errorf("no facts in the answer"))
	}
	// keep the first facts that fit
	res := ""
	for k, f := range facts {
		next := f
		if res != "" {
			next = res + "\n" + f
		}
		if j.count(next) > budget {
			for _, r := range facts[k:] {
				j.remove("generated text over the budget", r, j.count(r))
			}
			break
		}
		res = next
	}
	if res == "" {
		return "", fmt.Errorf("%w: the first extracted fact alone is over the budget of %d tokens", ErrBudget, budget)
	}
	j.remove("replaced by extracted facts", text, j.count(text))
	return res, nil
}

// parseObject parses a JSON object, allowing a ```json fence around it.
func parseObject(s string) (map[string]json.RawMessage, error) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "```") {
		t = strings.TrimPrefix(t, "```json")
		t = strings.TrimPrefix(t, "```")
		t = strings.TrimSuffix(strings.TrimSpace(t), "```")
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(t), &obj); err != nil || obj == nil {
		return nil, fmt.Errorf("answer is not a JSON object: %q", truncate(s, 80))
	}
	return obj, nil
}

// MemoryPrefix starts the message memory puts in place of older turns.
const MemoryPrefix = "Summary of the earlier conversation:\n"

// memory keeps the system messages and the last KeepTurns user turns
// (each user message and everything after it) verbatim, and replaces the
// older turns with one system message holding their summary, written by
// the generator (the built-in ExtractiveGenerator when none is set) with
// the current question in view. With a budget, the summary gets what the
// kept messages leave.
func (j *job) memory(ms []Message, budget int) ([]Message, error) {
	n := j.opts.KeepTurns
	if n <= 0 {
		n = 2
	}
	var users []int
	for i, m := range ms {
		if m.Role == "user" {
			users = append(users, i)
		}
	}
	if len(users) <= n {
		j.note = fmt.Sprintf("%d user turns, no older turns to summarize", len(users))
		return ms, nil
	}
	cut := users[len(users)-n]
	var older []int
	for i := 0; i < cut; i++ {
		if ms[i].Role != "system" && ms[i].Role != "developer" {
			older = append(older, i)
		}
	}
	if len(older) == 0 {
		return ms, nil
	}
	var tr strings.Builder
	for _, i := range older {
		fmt.Fprintf(&tr, "%s: %s\n", ms[i].Role, strings.TrimSpace(ms[i].Content))
	}
	transcript := tr.String()
	fixed := 0
	for i, m := range ms {
		if i >= cut || m.Role == "system" || m.Role == "developer" {
			fixed += j.count(m.Content)
		}
	}
	avail := 0
	if budget > 0 {
		avail = budget - fixed - j.count(MemoryPrefix)
		if avail <= 0 {
			return nil, fmt.Errorf("%w: the system messages and the last %d turns take %d tokens, leaving nothing of the target %d for the summary; lower --keep-turns", ErrBudget, n, fixed, budget)
		}
	}
	g := j.opts.Generator
	if g == nil {
		g = ExtractiveGenerator{Counter: j.counter}
		j.note = "summary by the built-in extractive generator"
	}
	var p strings.Builder
	p.WriteString("Summarize this conversation so far for the assistant that continues it. Keep every fact, name, number, preference and decision")
	if j.question != "" {
		fmt.Fprintf(&p, ", above all what is needed to answer the user's next message: %s", j.question)
	}
	if avail > 0 {
		fmt.Fprintf(&p, ". At most %d tokens", avail)
	}
	fmt.Fprintf(&p, ".\n\nConversation:\n%s", transcript)
	sum, err := g.Generate(j.ctx, GenerateRequest{System: summarizeSystem, Prompt: p.String(), MaxTokens: avail,
		Task: "memory", Source: transcript, Question: j.question})
	if err != nil {
		return nil, backendErr("generator", err)
	}
	sum = strings.TrimSpace(sum)
	if sum == "" {
		return nil, backendErr("generator", fmt.Errorf("empty summary"))
	}
	limit := avail
	if limit <= 0 {
		limit = math.MaxInt32
	}
	if sum, err = j.restoreHard(transcript, sum, limit); err != nil {
		return nil, err
	}
	for _, i := range older {
		j.remove("older turn summarized", ms[i].Role+": "+ms[i].Content, j.count(ms[i].Content))
	}
	var out []Message
	placed := false
	for i, m := range ms {
		if i < cut && m.Role != "system" && m.Role != "developer" {
			continue
		}
		if !placed && m.Role != "system" && m.Role != "developer" {
			out = append(out, Message{Role: "system", Content: MemoryPrefix + sum})
			placed = true
		}
		out = append(out, m)
	}
	return out, nil
}
