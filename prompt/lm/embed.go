package lm

import (
	"context"
	"fmt"
	"math"

	"github.com/lmc-project/lmc/model"
)

// Embedder is a [prompt.Embedder] over a local model: a text's vector is
// the mean, over its tokens, of the model's final hidden state after the
// final RMSNorm (the input of the output projection), L2-normalized. BOS
// is fed first when the tokenizer adds one but is not part of the mean. A
// text longer than the context is read in windows of a context each, every
// one starting afresh, and all its tokens are averaged; an empty text gets
// the (normalized) state of BOS alone, or of a single space without BOS.
//
// A causal language model's mean-pooled states are not a trained sentence
// embedding: they separate topics and styles, and unrelated texts still
// have a high cosine (0.8 and more is common for a small model), so compare
// similarities with each other rather than with a fixed threshold.
type Embedder struct {
	m    *Model
	sess *model.Session
}

// NewEmbedder returns an Embedder over m.
func NewEmbedder(m *Model) *Embedder { return &Embedder{m: m} }

// Dim is the length of every vector (the model's hidden size).
func (e *Embedder) Dim() int { return e.m.net.Config.EmbeddingLength }

// Embed implements [prompt.Embedder]. It returns ctx.Err() when ctx is done
// before or between passes.
func (e *Embedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		v, err := e.embed(ctx, t)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (e *Embedder) embed(ctx context.Context, text string) ([]float32, error) {
	m := e.m
	m.mu.Lock()
	defer m.mu.Unlock()
	sess, err := m.session(&e.sess)
	if err != nil {
		return nil, err
	}
	defer func() { m.capture = nil }()
	dim := m.net.Config.EmbeddingLength
	sum := make([]float64, dim)
	bos := m.bos()
	ids := m.encode(text)
	skip := len(bos) // rows of the current window not averaged
	if len(ids) == 0 {
		if len(bos) == 0 {
			ids = m.encode(" ")
		}
		skip = 0
	}
	count := 0
	row := 0
	m.capture = func(x []float32, n, cols int) {
		for r := 0; r < n; r++ {
			if row >= skip {
				for j, v := range x[r*cols : (r+1)*cols] {
					sum[j] += float64(v)
				}
				count++
			}
			row++
		}
	}
	room := sess.Context() - len(bos)
	for start := 0; start < len(ids) || (start == 0 && len(ids) == 0); start += room {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		sess.Reset()
		row = 0
		win := append(append([]int(nil), bos...), ids[start:min(start+room, len(ids))]...)
		if err := sess.PrefillFunc(win, func(int, []float32) {}); err != nil {
			return nil, fmt.Errorf("local model %s: %w", m.name, err)
		}
		if len(ids) == 0 {
			break
		}
	}
	if count == 0 {
		return nil, fmt.Errorf("local model %s: no hidden state captured (the model's output projection has no hook)", m.name)
	}
	norm := 0.0
	for _, v := range sum {
		norm += v * v
	}
	norm = math.Sqrt(norm)
	v := make([]float32, dim)
	if norm == 0 {
		return v, nil
	}
	for j, s := range sum {
		v[j] = float32(s / norm)
	}
	return v, nil
}
