// Package lm provides prompt compression backends over a local language
// model run by lmc's own CPU engine (package model): a [Scorer] of token
// self-information for token-level pruning (the prune method,
// LLMLingua-style) with a question-conditioned perplexity for coarse
// ranking (LongLLMLingua-style), an [Embedder] of mean-pooled final hidden
// states, and a [Generator] that continues a plain-text prompt. They
// implement prompt.Scorer, prompt.Embedder and prompt.Generator.
//
// [Load] opens any model lmc reads (a GGUF file, a Hugging Face folder, a
// llama2.c checkpoint) or a built-in model by name; "lmc-mini" is
// openable once package models/lmcmini is imported (cmd/lmc imports it):
//
//	m, err := lm.Load("lmc-mini", lm.Options{})
//	...
//	defer m.Close()
//	opts.Scorer = lm.NewScorer(m)
//
// Every backend of one [Model] runs its forward passes one at a time (a
// mutex of the Model), each in its own session, so the backends are safe
// for concurrent use but do not run in parallel; the kernels themselves
// use every core (kernels.Threads).
//
// Token texts: the Scorer tokenizes the prefix and the text separately and
// concatenates the ids (BOS first when the tokenizer adds one), so no
// token straddles the boundary and the token texts concatenate exactly to
// the text. A SentencePiece tokenizer's dummy-prefix space on the text's
// first token is left out of that token's text; a token whose bytes do not
// continue the text (a tokenizer that normalizes) passes its
// self-information on to the next token that does, and any text left over
// goes to the last token.
//
// Context: a pass holds at most the session's context (Options.Context;
// by default the model's context length, at most 4096 positions; lmc-mini
// has 512). When BOS, the prefix and the text do not fit, the beginning of
// the prefix is dropped; when the text alone does not fit, it is scored in
// windows, each seeing half a context of the tokens before it.
package lm

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"sync"

	"github.com/lmc-project/lmc/model"
	"github.com/lmc-project/lmc/modelfile"
	"github.com/lmc-project/lmc/tokenizer"
)

// DefaultMaxContext caps the default context (the model's context length)
// so that a model trained for 128K positions does not allocate a KV cache
// for all of them.
const DefaultMaxContext = 4096

// Options tunes [Load]. The zero value is fine.
type Options struct {
	// Context is the most positions one forward pass holds (0: the
	// model's context length, at most DefaultMaxContext).
	Context int
	// Tokenizer is the tokenizer file of a llama2.c checkpoint (tok*.bin).
	Tokenizer string
	// Threads, when positive, sets the kernels' thread count (process-
	// wide, as model.Options.Threads).
	Threads int
}

// Model is a loaded local model with its tokenizer, shared by the
// backends made from it. Close it when done.
type Model struct {
	name string
	file *modelfile.Model
	net  *model.Model
	tok  *tokenizer.Tokenizer
	ctx  int

	mu      sync.Mutex                     // one forward pass at a time (hooks, sessions)
	capture func(x []float32, n, cols int) // set by Embed while it holds mu
}

// Load opens the model at path (a file, a folder, or a built-in model's
// name) and its tokenizer. Errors name the path.
func Load(path string, o Options) (*Model, error) {
	mf, err := modelfile.Open(path, &modelfile.OpenOptions{Tokenizer: o.Tokenizer})
	if err != nil {
		return nil, fmt.Errorf("local model %s: %w", path, err)
	}
	if mf.Vocab == nil {
		mf.Close()
		return nil, fmt.Errorf("local model %s: it carries no tokenizer (for a llama2.c checkpoint, give its tok*.bin)", path)
	}
	tok, err := tokenizer.New(mf.Vocab)
	if err != nil {
		mf.Close()
		return nil, fmt.Errorf("local model %s: tokenizer: %w", path, err)
	}
	m := &Model{name: modelName(path), file: mf, tok: tok}
	hooks := model.Hooks{OnLinearInput: func(layer int, _ string, x []float32, n, cols int) {
		if layer == -1 && m.capture != nil {
			m.capture(x, n, cols)
		}
	}}
	net, err := model.Load(mf, model.Options{Threads: o.Threads, Hooks: hooks})
	if err != nil {
		mf.Close()
		return nil, fmt.Errorf("local model %s: %w", path, err)
	}
	m.net = net
	if tok.VocabSize() > net.Config.VocabSize {
		mf.Close()
		return nil, fmt.Errorf("local model %s: the tokenizer has %d tokens, the model %d", path, tok.VocabSize(), net.Config.VocabSize)
	}
	m.ctx = o.Context
	if m.ctx <= 0 {
		m.ctx = min(net.Config.ContextLength, DefaultMaxContext)
		if m.ctx <= 0 {
			m.ctx = DefaultMaxContext
		}
	}
	if m.ctx < 8 {
		mf.Close()
		return nil, fmt.Errorf("local model %s: a context of %d positions is too short", path, m.ctx)
	}
	return m, nil
}

// modelName is a short name for reports: a built-in name as given, else
// the file or folder name.
func modelName(path string) string {
	p := strings.TrimRight(path, `/\`)
	if p == "" {
		return path
	}
	return filepath.Base(p)
}

// Name is the model's short name (the built-in name, or the base name of
// its path).
func (m *Model) Name() string { return m.name }

// Context is the most positions one forward pass holds.
func (m *Model) Context() int { return m.ctx }

// Tokenizer returns the model's tokenizer.
func (m *Model) Tokenizer() *tokenizer.Tokenizer { return m.tok }

// Net returns the engine's model.
func (m *Model) Net() *model.Model { return m.net }

// Close releases the model file. The backends must not be used after.
func (m *Model) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.file == nil {
		return nil
	}
	err := m.file.Close()
	m.file = nil
	return err
}

// bos is the token every pass starts with: the tokenizer's BOS when it
// adds one (as the model was trained), else none.
func (m *Model) bos() []int {
	if m.tok.AddsBOS() && m.tok.BOS() >= 0 {
		return []int{m.tok.BOS()}
	}
	return nil
}

// encode returns the ids of text without BOS or EOS.
func (m *Model) encode(text string) []int {
	if text == "" {
		return nil
	}
	return m.tok.Encode(text, false)
}

var errClosed = errors.New("lm: the model is closed")

// session returns *s reset to position 0 (a session is consistent after
// Reset even when its last pass was cancelled), creating it on first use.
// Callers hold m.mu.
func (m *Model) session(s **model.Session) (*model.Session, error) {
	if m.file == nil {
		return nil, errClosed
	}
	if *s == nil {
		sess, err := m.net.NewSessionWith(model.SessionOptions{Context: m.ctx})
		if err != nil {
			return nil, fmt.Errorf("local model %s: %w", m.name, err)
		}
		*s = sess
	}
	(*s).Reset()
	return *s, nil
}

// selfInfo is −ln softmax(logits)[target] in nats, in float64.
func selfInfo(logits []float32, target int) float64 {
	mx := math.Inf(-1)
	for _, v := range logits {
		if float64(v) > mx {
			mx = float64(v)
		}
	}
	sum := 0.0
	for _, v := range logits {
		sum += math.Exp(float64(v) - mx)
	}
	return math.Log(sum) + mx - float64(logits[target])
}
