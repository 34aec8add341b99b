package prompt

import (
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// PruneSegmentTokens is the size of the segments token-level pruning scores
// one at a time, in the budget tokenizer's tokens.
const PruneSegmentTokens = 128

// pruneContext is how much of the compressed text before a segment the
// scorer sees, in bytes.
const pruneContext = 2048

// pruneProtectBonus is added to the self-information of words in number
// and entity spans: they go last, after every other word.
const pruneProtectBonus = 1000

// word is a word of the text for pruning: its leading whitespace and
// text, its self-information (the sum over its scorer tokens) and tokens.
type word struct {
	start, end int // the word, without its leading whitespace
	lead       int // start of its leading whitespace
	info       float64
	tokens     int
	forced     bool
	prio       float64
	keep       bool
	span       int // >0: part of protected span number span; kept whole or not at all
}

// prune is LLMLingua-style token-level pruning. The text is cut into
// segments of about PruneSegmentTokens; each segment is scored by the
// Scorer conditioned on the compressed text before it (iterative
// compression), its words get the summed self-information of their tokens,
// and the segment keeps its most informative words, in order, at the rate
// that spends the remaining budget evenly over the remaining segments
// (the budget controller). Words inside protected spans (numbers,
// entities, code, --keep) are always kept. A final pass counts the whole
// text and drops or restores the words closest to their segment's cut-off
// until it fits the budget exactly.
func (j *job) prune(text string, budget int) (string, error) {
	sc := j.opts.Scorer
	if sc == nil {
		sc = UnigramScorer{}
	}
	j.scorer.Name = sc.Name()
	_, c, _ := j.chunkDoc(text, PruneSegmentTokens)
	prot := j.prot.spans(text)
	total := 0
	for _, u := range c.units {
		total += u.tokens
	}
	var words []word
	pk := 0                 // first protected span not before the current word
	var out strings.Builder // compressed so far, for conditioning
	remainingBudget, remainingTokens := budget, total
	for _, seg := range c.units {
		segText := text[seg.Start:seg.End]
		prefix := out.String()
		if len(prefix) > pruneContext {
			prefix = prefix[len(prefix)-pruneContext:]
			for len(prefix) > 0 && !utf8.RuneStart(prefix[0]) {
				prefix = prefix[1:]
			}
		}
		t0 := time.Now()
		ts, err := sc.Score(j.ctx, prefix, segText)
		j.scorer.Seconds += time.Since(t0).Seconds()
		j.scorer.Tokens += len(ts)
		if err != nil {
			return "", backendErr("scorer "+sc.Name(), err)
		}
		ws, err := segWords(text, seg.Start, ts)
		if err != nil {
			return "", backendErr("scorer "+sc.Name(), err)
		}
		// protected words, token counts
		segTokens := 0
		for pk < len(prot) && prot[pk].End <= seg.Start {
			pk++
		}
		for k := range ws {
			w := &ws[k]
			w.tokens = j.count(text[w.lead:w.end])
			segTokens += w.tokens
			for pk < len(prot) && prot[pk].End <= w.start {
				pk++
			}
			for _, p := range prot[pk:] {
				if p.Start >= w.end {
					break
				}
				if p.Start < w.end && w.start < p.End {
					if p.kind.hard() || j.prot.strict {
						w.forced = true
					} else {
						w.info += pruneProtectBonus
					}
					break
				}
			}
		}
		// this segment's share of the budget
		rate := 1.0
		if remainingTokens > 0 {
			rate = float64(remainingBudget) / float64(remainingTokens)
		}
		want := int(rate*float64(segTokens) + 0.5)
		idx := make([]int, len(ws))
		for k := range idx {
			idx[k] = k
		}
		sort.SliceStable(idx, func(a, b int) bool { return ws[idx[a]].info > ws[idx[b]].info })
		used := 0
		for k := range ws {
			if ws[k].forced {
				ws[k].keep = true
				used += ws[k].tokens
			}
		}
		threshold := 0.0
		for _, k := range idx {
			if ws[k].keep {
				continue
			}
			if used+ws[k].tokens > want {
				if threshold == 0 {
					threshold = ws[k].info
				}
				continue
			}
			ws[k].keep = true
			used += ws[k].tokens
		}
		for k := range ws {
			ws[k].prio = ws[k].info - threshold
			if ws[k].keep && ws[k].prio < 0 {
				ws[k].prio = 0
			}
		}
		remainingBudget -= used
		remainingTokens -= segTokens
		if out.Len() > 0 {
			out.WriteString(" ")
		}
		out.WriteString(joinWords(text, ws))
		words = append(words, ws...)
	}
	// exact fit: keep forced words and the top-k others by priority, with
	// the largest k whose text fits.
	var free []int
	for k, w := range words {
		if !w.forced {
			free = append(free, k)
		}
	}
	sort.SliceStable(free, func(a, b int) bool {
		wa, wb := words[free[a]], words[free[b]]
		if wa.keep != wb.keep {
			return wa.keep
		}
		return wa.prio > wb.prio
	})
	res, err := j.fitWords(text, c, words, free, budget)
	if err != nil {
		return "", err
	}
	for _, w := range words {
		if !w.keep {
			j.remove("low self-information under "+sc.Name(), text[w.start:w.end], w.tokens)
		}
	}
	return res, nil
}

// segWords maps a segment's scored tokens (at offset base of text) onto
// its words: a word starts at a token that starts with, or follows,
// whitespace.
func segWords(text string, base int, ts []TokenScore) ([]word, error) {
	var ws []word
	pos := base
	prevSpace := true
	for i, t := range ts {
		if !strings.HasPrefix(text[pos:], t.Text) {
			return nil, fmt.Errorf("token %d %q does not continue the text at byte %d", i, truncate(t.Text, 20), pos-base)
		}
		tt := t.Text
		k := 0
		for k < len(tt) {
			r, n := utf8.DecodeRuneInString(tt[k:])
			if !unicode.IsSpace(r) {
				break
			}
			k += n
		}
		startsWord := prevSpace || k > 0
		if k == len(tt) {
			// an all-space token: it leads the next word
			pos += len(tt)
			prevSpace = true
			continue
		}
		if startsWord || len(ws) == 0 {
			lead := pos
			if len(ws) > 0 {
				lead = ws[len(ws)-1].end
			}
			ws = append(ws, word{lead: lead, start: pos + k, end: pos + len(tt), info: t.SelfInfo})
		} else {
			w := &ws[len(ws)-1]
			w.end = pos + len(tt)
			w.info += t.SelfInfo
		}
		pos += len(tt)
		last, _ := utf8.DecodeLastRuneInString(tt)
		prevSpace = unicode.IsSpace(last)
	}
	if len(ws) > 0 {
		ws[0].lead = ws[0].start
	}
	return ws, nil
}

// joinWords joins a segment's kept words.
func joinWords(text string, ws []word) string {
	var b strings.Builder
	appendWords(&b, text, ws)
	return b.String()
}

// appendWords writes a segment's kept words to b, each after its own
// leading whitespace, or after a blank line or newline when dropped words
// between two kept ones held one (a space when they held only spaces). It
// reports whether it wrote anything.
func appendWords(b *strings.Builder, text string, ws []word) bool {
	first := true
	var gapNL2, gapNL, gapAny bool
	for _, w := range ws {
		lead := text[w.lead:w.start]
		if !w.keep {
			if lead != "" {
				gapAny = true
				if strings.Contains(lead, "\n\n") {
					gapNL2 = true
				} else if strings.IndexByte(lead, '\n') >= 0 {
					gapNL = true
				}
			}
			continue
		}
		if !first {
			switch {
			case gapNL2 || strings.Contains(lead, "\n\n"):
				b.WriteString("\n\n")
			case gapNL || strings.IndexByte(lead, '\n') >= 0:
				b.WriteString("\n")
			case lead == "" && gapAny:
				b.WriteString(" ")
			default:
				b.WriteString(lead)
			}
		}
		b.WriteString(text[w.start:w.end])
		gapNL2, gapNL, gapAny = false, false, false
		first = false
	}
	return !first
}

// joinAll joins the kept words of every segment; segments are separated by
// what separated them in the text.
func joinAll(text string, c *doc, words []word) string {
	var b strings.Builder
	b.Grow(len(text) / 2)
	k := 0
	prevEnd := -1
	for _, seg := range c.units {
		k0 := k
		for k < len(words) && words[k].start < seg.End {
			k++
		}
		var sep string
		if prevEnd >= 0 {
			g := text[prevEnd:seg.Start]
			switch {
			case strings.Contains(g, "\n\n"):
				sep = "\n\n"
			case strings.IndexByte(g, '\n') >= 0:
				sep = "\n"
			default:
				sep = " "
			}
		}
		// write the separator only if the segment keeps a word
		any := false
		for _, w := range words[k0:k] {
			if w.keep {
				any = true
				break
			}
		}
		if !any {
			continue
		}
		b.WriteString(sep)
		appendWords(&b, text, words[k0:k])
		prevEnd = seg.End
	}
	return b.String()
}

// fitWords keeps the forced words and the longest prefix of free (words
// in priority order) whose joined text fits the budget, then tries the
// next few words that might still fit the slack. The prefix is found from
// the words' own token counts (nearly additive) and corrected with exact
// counts of the joined text, a handful of counts in all. It sets keep on
// words and returns the joined text.
func (j *job) fitWords(text string, segs *doc, words []word, free []int, budget int) (string, error) {
	build := func(k int) string {
		for i := range words {
			words[i].keep = words[i].forced
		}
		for _, i := range free[:k] {
			words[i].keep = true
		}
		wholeSpans(words)
		return joinAll(text, segs, words)
	}
	forced := 0
	for _, w := range words {
		if w.forced {
			forced += w.tokens
		}
	}
	prefix := make([]int, len(free)+1) // estimated tokens of build(k)
	prefix[0] = forced
	for k, i := range free {
		prefix[k+1] = prefix[k] + words[i].tokens
	}
	// largest k in [lo, hi] with prefix[k] <= limit
	largest := func(lo, hi, limit int) int {
		for lo < hi {
			mid := (lo + hi + 1) / 2
			if prefix[mid] <= limit {
				lo = mid
			} else {
				hi = mid - 1
			}
		}
		return lo
	}
	okK, okOut, okN := -1, "", 0 // the largest k known to fit
	failK := len(free) + 1       // the smallest k known not to fit
	k := largest(0, len(free), budget)
	for iter := 0; iter < 16 && k > okK && k < failK; iter++ {
		out := build(k)
		n := j.count(out)
		if n <= budget {
			okK, okOut, okN = k, out, n
			// grow by the slack
			next := largest(k, min(len(free), failK-1), prefix[k]+budget-n)
			if next == k && k+1 < failK && k < len(free) {
				next = k + 1
			}
			k = next
			continue
		}
		failK = k
		// shrink by the excess
		excess := n - budget
		k2 := k
		for k2 > 0 && prefix[k]-prefix[k2] < excess {
			k2--
		}
		if k2 == k {
			k2--
		}
		k = max(k2, okK+1)
		if k >= failK {
			break
		}
	}
	if okK < 0 {
		out := build(0)
		if n := j.count(out); n > budget {
			return "", fmt.Errorf("%w: protected words (code, --keep) need %d %s tokens, over the budget of %d", ErrBudget, n, j.counter.Name(), budget)
		}
		okK = 0
		okOut = out
		okN = j.count(out)
	}
	res, got := okOut, okN
	build(okK)
	tries := 0
	for _, i := range free[okK:] {
		if tries >= 8 || got >= budget {
			break
		}
		if words[i].tokens > budget-got || words[i].span > 0 {
			continue
		}
		tries++
		words[i].keep = true
		o := joinAll(text, segs, words)
		if n := j.count(o); n <= budget {
			res, got = o, n
		} else {
			words[i].keep = false
		}
	}
	return res, nil
}

// wholeSpans drops the kept words of a protected span that is not kept
// whole (a name or number cut in two is a wrong fact, not a shorter one).
// Forced words are never dropped.
func wholeSpans(words []word) {
	for k := 0; k < len(words); {
		sp := words[k].span
		if sp == 0 {
			k++
			continue
		}
		m, all := k, true
		for ; m < len(words) && words[m].span == sp; m++ {
			all = all && words[m].keep
		}
		if !all {
			for i := k; i < m; i++ {
				words[i].keep = words[i].forced
			}
		}
		k = m
	}
}
