package lm

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/lmc-project/lmc/model"
	"github.com/lmc-project/lmc/prompt"
	"github.com/lmc-project/lmc/tokenizer"
)

// Scorer is a [prompt.Scorer] over a local model: the self-information
// −ln p(token | BOS, prefix, tokens before it) of every token of a text,
// in nats, from one batched forward pass (more when the text is longer
// than the context; see the package documentation).
type Scorer struct {
	m    *Model
	sess *model.Session
}

// NewScorer returns a Scorer over m.
func NewScorer(m *Model) *Scorer { return &Scorer{m: m} }

// Name implements [prompt.Scorer]: "lm:" and the model's name.
func (s *Scorer) Name() string { return "lm:" + s.m.name }

// Score implements [prompt.Scorer]. Prefix and text are tokenized
// separately; the returned texts concatenate to text. When BOS, prefix and
// text exceed the context, only the last tokens of prefix are seen. It
// returns ctx.Err() when ctx is done before or between passes.
func (s *Scorer) Score(ctx context.Context, prefix, text string) ([]prompt.TokenScore, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if text == "" {
		return nil, nil
	}
	pids, tids := s.m.encode(prefix), s.m.encode(text)
	if len(tids) == 0 {
		return []prompt.TokenScore{{Text: text}}, nil
	}
	info, err := s.selfInfo(ctx, pids, tids)
	if err != nil {
		return nil, err
	}
	return alignScores(s.m.tok, tids, info, text), nil
}

// ConditionalPerplexity is the mean self-information (nats per token) of
// the question's tokens after the document and a blank line: lower means
// the document makes the question more predictable, which LongLLMLingua
// uses to rank documents by relevance before pruning tokens. Only the end
// of a document longer than the context is seen.
func (s *Scorer) ConditionalPerplexity(ctx context.Context, doc, question string) (float64, error) {
	if strings.TrimSpace(question) == "" {
		return 0, fmt.Errorf("lm: conditional perplexity needs a question")
	}
	prefix := doc
	if prefix != "" {
		prefix = strings.TrimRight(prefix, " \t\n") + "\n\n"
	}
	ts, err := s.Score(ctx, prefix, question)
	if err != nil {
		return 0, err
	}
	sum := 0.0
	for _, t := range ts {
		sum += t.SelfInfo
	}
	return sum / float64(len(ts)), nil
}

// selfInfo scores tids after pids: windows of the context, each holding
// BOS, as many tokens before its first target as fit (at least half a
// context's worth when there are that many) and its targets.
func (s *Scorer) selfInfo(ctx context.Context, pids, tids []int) ([]float64, error) {
	m := s.m
	m.mu.Lock()
	defer m.mu.Unlock()
	sess, err := m.session(&s.sess)
	if err != nil {
		return nil, err
	}
	bos := m.bos()
	body := make([]int, 0, len(pids)+len(tids))
	body = append(append(body, pids...), tids...)
	room := sess.Context() - len(bos)
	keep := room / 2
	vocab := m.net.Config.VocabSize
	batch := 256
	out := make([]float64, 0, len(tids))
	for pos := len(pids); pos < len(body); {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		newN := min(len(body)-pos, room-min(pos, keep))
		ctxN := min(pos, room-newN)
		sess.Reset()
		head := append(append([]int(nil), bos...), body[pos-ctxN:pos]...)
		if len(head) > 0 {
			logits, err := sess.Prefill(head)
			if err != nil {
				return nil, fmt.Errorf("local model %s: %w", m.name, err)
			}
			out = append(out, selfInfo(logits, body[pos]))
		} else {
			out = append(out, math.Log(float64(vocab))) // nothing to predict from: uniform
		}
		feed := body[pos : pos+newN-1] // the last target's logits are not needed
		for c := 0; c < len(feed); c += batch {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			part := feed[c:min(c+batch, len(feed))]
			base := pos + c + 1
			err := sess.PrefillFunc(part, func(i int, logits []float32) {
				out = append(out, selfInfo(logits, body[base+i]))
			})
			if err != nil {
				return nil, fmt.Errorf("local model %s: %w", m.name, err)
			}
		}
		pos += newN
	}
	return out, nil
}

// alignScores gives each token its text: its bytes where they continue
// text (without a SentencePiece dummy-prefix space the text does not
// have). A token that does not continue the text adds its
// self-information to the next one that does; text left over goes to the
// last token.
func alignScores(tok *tokenizer.Tokenizer, ids []int, info []float64, text string) []prompt.TokenScore {
	out := make([]prompt.TokenScore, 0, len(ids))
	cur := 0
	pending := 0.0
	for i, id := range ids {
		p := ""
		if !tok.IsSpecial(id) {
			p = tok.Piece(id)
		}
		rest := text[cur:]
		switch {
		case p != "" && strings.HasPrefix(rest, p):
		case len(p) > 1 && p[0] == ' ' && strings.HasPrefix(rest, p[1:]):
			p = p[1:]
		default:
			pending += info[i]
			continue
		}
		out = append(out, prompt.TokenScore{Text: p, SelfInfo: info[i] + pending})
		pending = 0
		cur += len(p)
	}
	if len(out) == 0 {
		return []prompt.TokenScore{{Text: text, SelfInfo: pending}}
	}
	last := &out[len(out)-1]
	last.Text += text[cur:]
	last.SelfInfo += pending
	return out
}
