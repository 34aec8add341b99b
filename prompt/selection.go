package prompt

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/lmc-project/lmc/prompt/bm25"
	"github.com/lmc-project/lmc/prompt/segment"
)

// unitTerms returns each unit's terms (stop words dropped).
func unitTerms(d *doc) [][]segment.Term {
	out := make([][]segment.Term, len(d.units))
	for i, u := range d.units {
		out[i] = segment.AppendTerms(nil, u.Text(d.text), true)
	}
	return out
}

// extractive keeps the most central sentences (TextRank over TF-IDF
// cosine similarity), in document order. Ties go to earlier sentences.
func (j *job) extractive(text string, budget int) (string, error) {
	d := j.split(text, bySentence)
	scores := textRank(tfidf(unitTerms(d)))
	for i := range d.units {
		// a tiny lead bias breaks ties toward the start
		d.units[i].score = scores[i] + 1e-9*float64(len(d.units)-i)
	}
	return j.fit(d, budget, byScore(d), "low centrality", d.assemble)
}

func byScore(d *doc) []int {
	idx := make([]int, len(d.units))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return d.units[idx[a]].score > d.units[idx[b]].score })
	return idx
}

// chunkDoc groups the sentences of text into chunks: each paragraph, cut
// into runs of consecutive sentences of at most maxTokens tokens.
func (j *job) chunkDoc(text string, maxTokens int) (*doc, *doc, []int) {
	return j.chunkDocMax(text, maxTokens, 0)
}

// chunkDocMax is chunkDoc with sentences longer than maxUnit bytes cut
// into clauses (0: the segment package's default).
func (j *job) chunkDocMax(text string, maxTokens, maxUnit int) (*doc, *doc, []int) {
	s := j.splitMax(text, bySentence, maxUnit)
	c := &doc{text: text}
	of := make([]int, len(s.units)) // chunk of each sentence
	for i, u := range s.units {
		if len(c.units) > 0 {
			last := &c.units[len(c.units)-1]
			if last.para == u.para && last.tokens+u.tokens <= maxTokens {
				last.End = u.End
				last.tokens += u.tokens
				of[i] = len(c.units) - 1
				continue
			}
		}
		c.units = append(c.units, unit{Span: u.Span, para: u.para, tokens: u.tokens})
		of[i] = len(c.units) - 1
	}
	j.mark(c)
	return s, c, of
}

func normalize(xs []float64) {
	m := 0.0
	for _, x := range xs {
		m = math.Max(m, x)
	}
	if m > 0 {
		for i := range xs {
			xs[i] /= m
		}
	}
}

// needQuestion fails when there is no question.
func (j *job) needQuestion() error {
	if j.question == "" {
		return fmt.Errorf("%w: %s ranks by relevance to a question: give one (or use extractive)", ErrMethod, j.method)
	}
	return nil
}

// RerankChunkTokens is the largest chunk rerank and embed score as one
// unit, in the budget tokenizer's tokens; paragraphs longer than this are
// cut between sentences.
const RerankChunkTokens = 128

// rerank keeps the chunks most relevant to the question (BM25, plus
// embedding cosine similarity when an embedder is set), most relevant
// first unless DocumentOrder.
func (j *job) rerank(text string, budget int) (string, error) {
	if err := j.needQuestion(); err != nil {
		return "", err
	}
	_, c, _ := j.chunkDoc(text, RerankChunkTokens)
	texts := make([]string, len(c.units))
	for i, u := range c.units {
		texts[i] = u.Text(text)
	}
	scores := bm25.New(texts, nil).Scores(j.question)
	normalize(scores)
	if j.opts.Embedder != nil {
		sims, err := j.embedScores(texts)
		if err != nil {
			return "", err
		}
		for i := range scores {
			scores[i] = 0.5*scores[i] + 0.5*sims[i]
		}
	}
	for i := range c.units {
		c.units[i].score = scores[i]
	}
	order := byScore(c)
	if j.opts.DocumentOrder {
		return j.fit(c, budget, order, "low relevance to the question", c.assemble)
	}
	return j.fit(c, budget, order, "low relevance to the question", func(keep []bool) string {
		return c.assembleOrder(order, keep)
	})
}

// embedScores returns the cosine similarity of each text to the question.
func (j *job) embedScores(texts []string) ([]float64, error) {
	vs, err := j.opts.Embedder.Embed(j.ctx, append([]string{j.question}, texts...))
	if err != nil {
		return nil, backendErr("embedder", err)
	}
	if len(vs) != len(texts)+1 {
		return nil, backendErr("embedder", fmt.Errorf("%d vectors for %d texts", len(vs), len(texts)+1))
	}
	q := vs[0]
	out := make([]float64, len(texts))
	for i, v := range vs[1:] {
		if len(v) != len(q) {
			return nil, backendErr("embedder", fmt.Errorf("vector %d has %d dimensions, the question's %d", i+1, len(v), len(q)))
		}
		var dot, nq, nv float64
		for k := range v {
			dot += float64(q[k]) * float64(v[k])
			nq += float64(q[k]) * float64(q[k])
			nv += float64(v[k]) * float64(v[k])
		}
		if nq > 0 && nv > 0 {
			out[i] = dot / math.Sqrt(nq*nv)
		}
		if math.IsNaN(out[i]) {
			return nil, backendErr("embedder", fmt.Errorf("vector %d is not finite", i+1))
		}
	}
	return out, nil
}

// embed keeps the chunks whose embeddings are most similar to the
// question's, in document order.
func (j *job) embed(text string, budget int) (string, error) {
	if err := j.needQuestion(); err != nil {
		return "", err
	}
	if j.opts.Embedder == nil {
		return "", fmt.Errorf("%w: embed needs an embedder (an OpenAI-compatible /v1/embeddings backend)", ErrMethod)
	}
	_, c, _ := j.chunkDoc(text, RerankChunkTokens/2)
	texts := make([]string, len(c.units))
	for i, u := range c.units {
		texts[i] = u.Text(text)
	}
	sims, err := j.embedScores(texts)
	if err != nil {
		return "", err
	}
	for i := range c.units {
		c.units[i].score = sims[i] + 1e-9*float64(len(c.units)-i)
	}
	return j.fit(c, budget, byScore(c), "low embedding similarity to the question", c.assemble)
}

// queryParams are the weights of query-focused compression (tuned on the
// first half of the Natural Questions file; see docs/PROMPT.md).
type queryParams struct {
	chunkTokens int     // coarse chunk size
	coarse      float64 // coarse stage keeps chunks worth this many budgets
	chunkWeight float64 // weight of the chunk's relevance in a unit's score
	neighbor    float64 // weight of the neighbouring units' relevance
	lead        float64 // bonus of the text's first unit
	paraLead    float64 // bonus of a paragraph's first unit
	answerType  float64 // bonus of a unit holding the kind of answer the question asks for
	maxUnit     int     // units longer than this (bytes) are cut into clauses
	position    float64 // bonus of a unit at the start of the text, falling linearly to 0 at the end

	// word-level fine stage: a word's value is unit·(its unit's score,
	// scaled to [0, 1]) plus the value of its kind
	unit, ent, content, stop, punct, inQ float64
	answerWord                           float64 // bonus of a word of the kind of answer the question asks for
}

var qp = queryParams{
	chunkTokens: QueryChunkTokens, coarse: 3, chunkWeight: 0.3, neighbor: 0.3, lead: 1, paraLead: 0.1,
	answerType: 0.5, maxUnit: 100, position: 1,
	unit: 2, ent: 1, content: 0.5, stop: 0, punct: 0.1, inQ: 0.3, answerWord: 1,
}

// QueryChunkTokens is the size of query's coarse chunks, in the budget
// tokenizer's tokens.
const QueryChunkTokens = 256

// query is query-focused compression. Coarse: chunks (paragraphs, cut at
// QueryChunkTokens) are ranked by BM25 against the question and kept, most
// relevant first, up to three budgets' worth. Fine: the units (sentences,
// long ones cut into clauses) of the kept chunks are scored by their own
// BM25 relevance, their chunk's and their neighbours', a bonus for the
// text's first unit, and a bonus for holding the kind of answer the
// question asks for (a name for "who", a date for "when", a number for "how
// many"); the budget is filled with the best, kept in document order.
func (j *job) query(text string, budget int) (string, error) { return j.queryFine(text, budget, true) }

// querySentences is query with a sentence-level fine stage.
func (j *job) querySentences(text string, budget int) (string, error) {
	return j.queryFine(text, budget, false)
}

func (j *job) queryFine(text string, budget int, words bool) (string, error) {
	if err := j.needQuestion(); err != nil {
		return "", err
	}
	s, c, of := j.chunkDocMax(text, qp.chunkTokens, qp.maxUnit)
	qterms := segment.AppendTerms(nil, j.question, true)
	ctexts := make([]string, len(c.units))
	for i, u := range c.units {
		ctexts[i] = u.Text(text)
	}
	cs := bm25.New(ctexts, nil).ScoreTerms(qterms)
	normalize(cs)
	// coarse
	corder := bm25.Order(cs)
	kept := make([]bool, len(c.units))
	room := int(qp.coarse * float64(budget))
	used := 0
	for _, ci := range corder {
		if used == 0 || used+c.units[ci].tokens <= room || c.units[ci].forced {
			kept[ci] = true
			used += c.units[ci].tokens
		}
	}
	// fine
	sterms := unitTerms(s)
	ss := bm25.NewTerms(sterms, nil).ScoreTerms(qterms)
	normalize(ss)
	at := answerTypeOf(j.question)
	for i := range s.units {
		sc := ss[i] + qp.chunkWeight*cs[of[i]]
		nb := 0.0
		if i > 0 && of[i-1] == of[i] {
			nb = math.Max(nb, ss[i-1])
		}
		if i+1 < len(s.units) && of[i+1] == of[i] {
			nb = math.Max(nb, ss[i+1])
		}
		sc += qp.neighbor * nb
		if i == 0 {
			sc += qp.lead
		}
		sc += qp.position * (1 - float64(s.units[i].Start)/float64(len(text)))
		if i == 0 || s.units[i-1].para != s.units[i].para {
			sc += qp.paraLead
		}
		if at != answerNone && qp.answerType > 0 && hasAnswerType(s.units[i].Text(text), at, j.question) {
			sc += qp.answerType
		}
		s.units[i].score = sc + 1e-9*float64(len(s.units)-i)
	}
	for i := range s.units {
		if !kept[of[i]] {
			s.units[i].never = true
			s.units[i].reason = "chunk not relevant to the question (coarse stage)"
		}
	}
	if words {
		return j.queryWords(s, budget, at)
	}
	order := byScore(s)
	return j.fit(s, budget, order, "low relevance to the question", s.assemble)
}

// queryWords is query's word-level fine stage: every word of the kept
// chunks gets a value from its unit's relevance and its kind (part of a
// name or number, content word, stop word, punctuation, question word);
// the most valuable words fill the budget, in document order.
func (j *job) queryWords(s *doc, budget int, at answerType) (string, error) {
	text := s.text
	maxScore := 0.0
	for _, u := range s.units {
		maxScore = math.Max(maxScore, u.score)
	}
	prot := j.prot.spans(text)
	qset := map[segment.Term]bool{}
	for _, t := range segment.AppendTerms(nil, j.question, false) {
		qset[t] = true
	}
	var words []word
	pk := 0
	for _, u := range s.units {
		us := 0.0
		if maxScore > 0 {
			us = u.score / maxScore
		}
		ut := u.Text(text)
		for k, w := range segment.Words(ut) {
			ww := word{start: u.Start + w.Start, end: u.Start + w.End}
			if k == 0 {
				ww.lead = ww.start
			} else {
				ww.lead = words[len(words)-1].end
			}
			wt := text[ww.start:ww.end]
			ww.tokens = j.count(text[ww.lead:ww.end])
			kind := qp.content
			terms := segment.AppendTerms(nil, wt, false)
			switch {
			case len(terms) == 0:
				kind = qp.punct
			case segment.IsStopword(strings.Trim(wt, ".,;:!?\"'()[]")):
				kind = qp.stop
			case qset[terms[0]]:
				kind = qp.inQ
			}
			for pk < len(prot) && prot[pk].End <= ww.start {
				pk++
			}
			for m := pk; m < len(prot) && prot[m].Start < ww.end; m++ {
				ww.span = m + 1
				if prot[m].kind.hard() || (j.prot.strict) {
					ww.forced = true
				} else if kind != qp.inQ {
					kind = math.Max(kind, qp.ent)
					if at == answerEntity && prot[m].kind == kindEntity || at == answerNumber && prot[m].kind == kindNumber {
						kind += qp.answerWord
					}
				}
			}
			if at == answerTime && kind != qp.inQ && monthRe.MatchString(wt) {
				kind += qp.answerWord
			}
			if u.never {
				us = -10
			}
			ww.prio = qp.unit*us + kind
			words = append(words, ww)
		}
	}
	// a protected span's words share its best value, so they are chosen
	// together (fitWords keeps a span whole or not at all)
	for k := 0; k < len(words); {
		sp := words[k].span
		if sp == 0 {
			k++
			continue
		}
		m, best := k, math.Inf(-1)
		for ; m < len(words) && words[m].span == sp; m++ {
			best = math.Max(best, words[m].prio)
		}
		for ; k < m; k++ {
			words[k].prio = best
		}
	}
	var free []int
	for k, w := range words {
		if !w.forced {
			free = append(free, k)
		}
	}
	sort.SliceStable(free, func(a, b int) bool { return words[free[a]].prio > words[free[b]].prio })
	res, err := j.fitWords(text, s, words, free, budget)
	if err != nil {
		return "", err
	}
	j.reportDroppedWords(text, s, words)
	return res, nil
}

// reportDroppedWords reports the dropped words of each unit as one
// removal: whole units as "low relevance", partly kept units as "low-value
// words".
func (j *job) reportDroppedWords(text string, s *doc, words []word) {
	k := 0
	for _, u := range s.units {
		var dropped []string
		n, kept := 0, 0
		tokens := 0
		for k < len(words) && words[k].start < u.End {
			n++
			if words[k].keep {
				kept++
			} else {
				dropped = append(dropped, text[words[k].start:words[k].end])
				tokens += words[k].tokens
			}
			k++
		}
		switch {
		case len(dropped) == 0:
		case kept == 0:
			r := "low relevance to the question"
			if u.reason != "" {
				r = u.reason
			}
			j.remove(r, u.Text(text), tokens)
		default:
			j.remove("low-value words in a relevant unit", strings.Join(dropped, " "), tokens)
		}
	}
}
