package lm

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/lmc-project/lmc/model"
	"github.com/lmc-project/lmc/model/sample"
	"github.com/lmc-project/lmc/prompt"
)

// DefaultMaxTokens caps a [Generator]'s answer when neither the request
// nor GenerateOptions does.
const DefaultMaxTokens = 256

// GenerateOptions tunes a [Generator]. The zero value is greedy decoding
// of at most the request's MaxTokens (DefaultMaxTokens when it has none).
type GenerateOptions struct {
	// MaxTokens, when positive, caps every answer (in the model's tokens)
	// below the request's own cap.
	MaxTokens int
	// Sampling, as model/sample: Temperature 0 is greedy decoding (the
	// other fields are then ignored); with a Temperature the same Seed
	// gives the same answer for the same request.
	Temperature float64
	TopK        int
	TopP        float64
	Seed        uint64
}

// Generator is a [prompt.Generator] over a local model. It continues the
// plain-text prompt [PromptText] builds from the request, token by token,
// until the end-of-sequence token, the token cap or the end of the
// context. The cap is the request's MaxTokens, counted in the model's
// tokens (not the budget tokenizer's; the prompt methods cut an answer
// that is over their budget). A prompt too long for the context loses its
// middle: its first tokens (the instruction) and its last ones are kept,
// leaving room for the answer (at most half the context).
//
// The model is what it is: a small base model (lmc-mini) continues the
// prompt in its own style and follows no instruction; summaries from it
// are for testing the machinery, and extract, which must return JSON or a
// list, usually fails with a backend error.
type Generator struct {
	m    *Model
	o    GenerateOptions
	sess *model.Session
}

// NewGenerator returns a Generator over m.
func NewGenerator(m *Model, o GenerateOptions) *Generator { return &Generator{m: m, o: o} }

// PromptText is the text a [Generator] continues: the system text, a
// blank line, the prompt, a blank line and "Answer:" (with "Answer (JSON):"
// when the request asks for JSON).
func PromptText(req prompt.GenerateRequest) string {
	var b strings.Builder
	if s := strings.TrimSpace(req.System); s != "" {
		b.WriteString(s)
		b.WriteString("\n\n")
	}
	b.WriteString(strings.TrimSpace(req.Prompt))
	if req.JSON {
		b.WriteString("\n\nAnswer (JSON):")
	} else {
		b.WriteString("\n\nAnswer:")
	}
	return b.String()
}

// Generate implements [prompt.Generator]. The answer has no leading or
// trailing whitespace. It returns ctx.Err() when ctx is done before the
// answer is complete.
func (g *Generator) Generate(ctx context.Context, req prompt.GenerateRequest) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	ids, err := g.generate(ctx, req)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(strings.ToValidUTF8(g.m.tok.Decode(ids), "")), nil
}

// generate returns the answer's token ids (EOS not included).
func (g *Generator) generate(ctx context.Context, req prompt.GenerateRequest) ([]int, error) {
	m := g.m
	n := req.MaxTokens
	if n <= 0 {
		n = DefaultMaxTokens
	}
	if g.o.MaxTokens > 0 {
		n = min(n, g.o.MaxTokens)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	sess, err := m.session(&g.sess)
	if err != nil {
		return nil, err
	}
	bos := m.bos()
	ids := append(append([]int(nil), bos...), m.encode(PromptText(req))...)
	ctxLen := sess.Context()
	answerRoom := min(n, ctxLen/2)
	if len(ids)+answerRoom > ctxLen {
		ids = cutMiddle(ids, len(bos), ctxLen-answerRoom)
	}
	n = min(n, ctxLen-len(ids))
	logits, err := sess.Prefill(ids)
	if err != nil {
		return nil, fmt.Errorf("local model %s: %w", m.name, err)
	}
	smp := sample.New(sample.Options{Temperature: g.o.Temperature, TopK: g.o.TopK, TopP: g.o.TopP, Seed: g.o.Seed})
	eos := m.tok.EOS()
	var gen []int
	for len(gen) < n {
		next := smp.Sample(logits)
		if next < 0 || next == eos {
			break
		}
		gen = append(gen, next)
		if len(gen) == n {
			break
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if logits, err = sess.Decode(next); err != nil {
			if errors.Is(err, model.ErrContextFull) {
				break
			}
			return nil, fmt.Errorf("local model %s: %w", m.name, err)
		}
	}
	return gen, nil
}

// cutMiddle keeps the first tokens of ids (a quarter of room, at most 64,
// and at least the bos leading ones) and its last ones, room tokens in all.
func cutMiddle(ids []int, bos, room int) []int {
	if len(ids) <= room {
		return ids
	}
	head := max(bos, min(room/4, 64))
	out := append([]int(nil), ids[:head]...)
	return append(out, ids[len(ids)-(room-head):]...)
}
