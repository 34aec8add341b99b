package prompt

import (
	"fmt"
	"sort"
	"strings"

	"github.com/lmc-project/lmc/prompt/segment"
)

// unit is one selectable piece of a text: a sentence, clause or chunk.
type unit struct {
	segment.Span
	para   int // paragraph index
	tokens int
	score  float64
	forced bool   // holds a hard-protected span: never dropped
	why    string // the protected kind that forces it
	never  bool   // never kept unless forced (dropped by an earlier stage)
	reason string // why it is removed, when not the default
}

// doc is a text split into units.
type doc struct {
	text  string
	units []unit
}

// granularity of units.
const (
	bySentence = iota
	byParagraph
)

// split cuts text into units (sentences or paragraphs), counts their
// tokens and marks the forced ones.
func (j *job) split(text string, level int) *doc {
	return j.splitMax(text, level, 0)
}

// splitMax is split with sentences longer than maxUnit bytes cut into
// clauses (0: the segment package's default).
func (j *job) splitMax(text string, level, maxUnit int) *doc {
	d := j.splitOnlyMax(text, level, maxUnit)
	for i := range d.units {
		d.units[i].tokens = j.count(d.units[i].Text(text))
	}
	return d
}

// splitOnly is split without counting tokens.
func (j *job) splitOnly(text string, level int) *doc { return j.splitOnlyMax(text, level, 0) }

func (j *job) splitOnlyMax(text string, level, maxUnit int) *doc {
	d := &doc{text: text}
	paras := segment.Paragraphs(text)
	for p, ps := range paras {
		if level == byParagraph {
			d.units = append(d.units, unit{Span: ps, para: p})
			continue
		}
		for _, s := range segment.Sentences(text[ps.Start:ps.End], &segment.Options{MaxSentence: maxUnit}) {
			d.units = append(d.units, unit{Span: segment.Span{Start: ps.Start + s.Start, End: ps.Start + s.End}, para: p})
		}
	}
	j.mark(d)
	return d
}

// mark sets forced on the units that hold a hard-protected span (any
// protected span when strict).
func (j *job) mark(d *doc) {
	spans := j.prot.spans(d.text)
	k := 0
	for i := range d.units {
		u := &d.units[i]
		for k < len(spans) && spans[k].End <= u.Start {
			k++
		}
		for m := k; m < len(spans) && spans[m].Start < u.End; m++ {
			if spans[m].kind.hard() || j.prot.strict {
				u.forced = true
				u.why = spans[m].kind.String()
				break
			}
		}
	}
}

// assemble joins the kept units in document order. Adjacent units keep the
// original text between them; across a gap the separator is a blank line
// when a paragraph break was skipped, a newline when a line break was, and
// otherwise the whitespace that followed the earlier unit.
func (d *doc) assemble(keep []bool) string {
	var b strings.Builder
	prev := -1
	for i, u := range d.units {
		if !keep[i] {
			continue
		}
		if prev >= 0 {
			b.WriteString(d.gap(prev, i))
		}
		b.WriteString(d.text[u.Start:u.End])
		prev = i
	}
	return b.String()
}

func (d *doc) gap(a, b int) string {
	if b == a+1 {
		return d.text[d.units[a].End:d.units[b].Start]
	}
	skipped := d.text[d.units[a].End:d.units[b].Start]
	if strings.Contains(skipped, "\n\n") || d.units[a].para != d.units[b].para {
		return "\n\n"
	}
	next := d.text[d.units[a].End:d.units[a+1].Start]
	if strings.Contains(skipped, "\n") {
		return "\n"
	}
	if next == "" {
		return " "
	}
	return next
}

// assembleOrder joins the kept units in the given order, separated by
// blank lines.
func (d *doc) assembleOrder(order []int, keep []bool) string {
	var parts []string
	for _, i := range order {
		if keep[i] {
			parts = append(parts, d.text[d.units[i].Start:d.units[i].End])
		}
	}
	return strings.Join(parts, "\n\n")
}

// fit keeps the forced units, then units in the priority order while they
// fit the budget, and checks the assembled text with the counter: units
// whose tokens do not add up exactly (separators, merges across unit
// boundaries) are dropped from the end of the priority order until the
// text fits, then any slack is refilled. assembleFn joins the kept units.
// The removed units are reported with reason.
func (j *job) fit(d *doc, budget int, priority []int, reason string, assembleFn func(keep []bool) string) (string, error) {
	n := len(d.units)
	keep := make([]bool, n)
	used := 0
	forced := 0
	for i, u := range d.units {
		if u.forced {
			keep[i] = true
			used += u.tokens
			forced += u.tokens
		}
	}
	if forced > budget {
		return "", fmt.Errorf("%w: protected content needs %d %s tokens, over the budget of %d (protected units hold code or --keep matches)", ErrBudget, forced, j.counter.Name(), budget)
	}
	rank := make([]int, n) // position of each unit in priority
	for r, i := range priority {
		rank[i] = r
	}
	var added []int // non-forced kept units, in the order added
	for _, i := range priority {
		if keep[i] || d.units[i].never {
			continue
		}
		if used+d.units[i].tokens <= budget {
			keep[i] = true
			used += d.units[i].tokens
			added = append(added, i)
		}
	}
	out := assembleFn(keep)
	got := j.count(out)
	for got > budget && len(added) > 0 {
		// drop the lowest-priority kept units worth the excess
		excess := got - budget
		sort.Slice(added, func(a, b int) bool { return rank[added[a]] < rank[added[b]] })
		for excess > 0 && len(added) > 0 {
			last := added[len(added)-1]
			added = added[:len(added)-1]
			keep[last] = false
			excess -= max(1, d.units[last].tokens)
		}
		out = assembleFn(keep)
		got = j.count(out)
	}
	if got > budget {
		return "", fmt.Errorf("%w: protected content takes %d %s tokens once joined, over the budget of %d", ErrBudget, got, j.counter.Name(), budget)
	}
	// refill the slack with the best units that still fit (a few tries)
	tries := 0
	for _, i := range priority {
		if keep[i] || d.units[i].never || tries >= 16 {
			continue
		}
		if d.units[i].tokens > budget-got {
			continue
		}
		tries++
		keep[i] = true
		o := assembleFn(keep)
		if c := j.count(o); c <= budget {
			out, got = o, c
		} else {
			keep[i] = false
		}
	}
	if strings.TrimSpace(out) == "" && len(d.units) > 0 && !j.inMessage {
		smallest := d.units[0].tokens
		for _, u := range d.units {
			smallest = min(smallest, u.tokens)
		}
		return "", fmt.Errorf("%w: %s keeps whole units and none fits the budget of %d %s tokens (the smallest takes %d); give a larger budget or a finer method (query cuts inside sentences)", ErrBudget, j.method, budget, j.counter.Name(), smallest)
	}
	for i, u := range d.units {
		if !keep[i] {
			r := reason
			if u.reason != "" {
				r = u.reason
			}
			j.remove(r, d.text[u.Start:u.End], u.tokens)
		}
	}
	return out, nil
}
