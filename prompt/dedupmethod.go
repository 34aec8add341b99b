package prompt

import (
	"fmt"
	"strings"

	"github.com/lmc-project/lmc/prompt/dedup"
)

// dedup removes paragraphs that duplicate an earlier paragraph exactly or
// nearly (package dedup, [Options.Dedup]), then sentences of four or more
// words that repeat an earlier sentence (exactly, or nearly for sentences
// of eight or more words). Units holding hard-protected spans stay.
func (j *job) dedup(text string, _ int) (string, error) {
	for _, level := range []int{byParagraph, bySentence} {
		d := j.splitOnly(text, level)
		if len(d.units) < 2 {
			continue
		}
		chunks := make([]string, len(d.units))
		for i, u := range d.units {
			chunks[i] = u.Text(text)
		}
		o := dedup.Options{}
		if j.opts.Dedup != nil {
			o = *j.opts.Dedup
		}
		if level == bySentence {
			o.MinWords = max(o.MinWords, 8)
		}
		ms := dedup.Find(chunks, &o)
		keep := make([]bool, len(d.units))
		changed := false
		what := "paragraph"
		if level == bySentence {
			what = "sentence"
		}
		for i, m := range ms {
			keep[i] = true
			if m.Kind == dedup.Unique || d.units[i].forced {
				continue
			}
			if level == bySentence && len(strings.Fields(chunks[i])) < 4 {
				continue
			}
			keep[i] = false
			changed = true
			reason := "exact duplicate " + what
			detail := fmt.Sprintf("of %s %d", what, m.Of+1)
			if m.Kind == dedup.Near {
				reason = "near-duplicate " + what
				detail = fmt.Sprintf("of %s %d, similarity %.2f", what, m.Of+1, m.Similarity)
			}
			j.removeDetail(reason, detail, chunks[i], j.count(chunks[i]))
		}
		if changed {
			text = d.assemble(keep)
		}
	}
	return text, nil
}
