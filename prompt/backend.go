package prompt

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/lmc-project/lmc/prompt/bm25"
	"github.com/lmc-project/lmc/prompt/openai"
	"github.com/lmc-project/lmc/prompt/segment"
)

// GenerateRequest asks a [Generator] for text. LLM backends send System and
// Prompt; the structured fields let deterministic generators (extractive,
// test fakes) do the task without parsing the prompt.
type GenerateRequest struct {
	System    string
	Prompt    string
	MaxTokens int  // a cap on the answer, in the budget tokenizer's tokens (0: none)
	JSON      bool // the answer must be a JSON object

	Task     string   // "summarize", "extract" or "memory"
	Source   string   // the text to summarize or extract from
	Question string   // what the answer must keep (may be empty)
	Fields   []string // extract: the JSON fields asked for
}

// Generator produces text: a summary, extracted facts or fields. The answer
// is the generated text alone.
type Generator interface {
	Generate(ctx context.Context, req GenerateRequest) (string, error)
}

// GeneratorFunc adapts a function to a [Generator].
type GeneratorFunc func(ctx context.Context, req GenerateRequest) (string, error)

// Generate calls f.
func (f GeneratorFunc) Generate(ctx context.Context, req GenerateRequest) (string, error) {
	return f(ctx, req)
}

// Embedder maps texts to vectors; similar texts have a high cosine
// similarity. Every vector must have the same length.
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

// TokenScore is one token of a [Scorer] and its self-information.
type TokenScore struct {
	Text     string
	SelfInfo float64 // −ln p(token | prefix, tokens before it), in nats
}

// Scorer gives the self-information of each token of a text under a
// language model, for token-level pruning. lmc's engine provides one over
// a small local model; [UnigramScorer] is a model-free stand-in.
type Scorer interface {
	Name() string
	// Score splits text into the model's tokens (their texts concatenate to
	// text) and returns each one's self-information given prefix (the
	// already compressed text before it) and the tokens before it.
	Score(ctx context.Context, prefix, text string) ([]TokenScore, error)
}

// OpenAIGenerator is a [Generator] over an OpenAI-compatible chat
// completions endpoint (streamed when stream is set), at temperature 0.
func OpenAIGenerator(c *openai.Client, stream bool) Generator {
	return GeneratorFunc(func(ctx context.Context, req GenerateRequest) (string, error) {
		var ms []openai.Message
		if req.System != "" {
			ms = append(ms, openai.Message{Role: "system", Content: req.System})
		}
		ms = append(ms, openai.Message{Role: "user", Content: req.Prompt})
		zero := 0.0
		cr := openai.ChatRequest{Messages: ms, MaxTokens: req.MaxTokens, Temperature: &zero}
		if req.JSON {
			cr.ResponseFormat = &openai.ResponseFormat{Type: "json_object"}
		}
		var resp *openai.ChatResponse
		var err error
		if stream {
			resp, err = c.ChatStream(ctx, cr, nil)
		} else {
			resp, err = c.Chat(ctx, cr)
		}
		if err != nil {
			return "", err
		}
		return resp.Content(), nil
	})
}

// OpenAIEmbedder is an [Embedder] over an OpenAI-compatible /v1/embeddings
// endpoint.
func OpenAIEmbedder(c *openai.Client, model string) Embedder {
	return embedFunc(func(ctx context.Context, texts []string) ([][]float32, error) {
		return c.Embed(ctx, model, texts)
	})
}

type embedFunc func(ctx context.Context, texts []string) ([][]float32, error)

func (f embedFunc) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	return f(ctx, texts)
}

// ExtractiveGenerator is a deterministic [Generator] without a model: it
// answers with the sentences of the request's Source that best match its
// Question (BM25, ties and question-less requests by position), in
// document order, up to MaxTokens of Counter (nil: [Bytes]). Every
// sentence it returns is copied verbatim, so facts survive exactly; it
// writes nothing new. It does summarize and memory tasks; extract fails.
type ExtractiveGenerator struct {
	Counter Counter
}

// Generate implements [Generator].
func (g ExtractiveGenerator) Generate(ctx context.Context, req GenerateRequest) (string, error) {
	if req.Task == "extract" {
		return "", fmt.Errorf("the extractive generator cannot extract fields; give a generator backend")
	}
	c := g.Counter
	if c == nil {
		c = Bytes
	}
	src := req.Source
	sents := segment.Sentences(src, nil)
	if len(sents) == 0 {
		return "", nil
	}
	texts := make([]string, len(sents))
	for i, s := range sents {
		texts[i] = s.Text(src)
	}
	scores := bm25.New(texts, nil).Scores(req.Question)
	for i := range scores {
		// facts (numbers, names) first among equals, then later turns
		scores[i] += 0.05*float64(len(appendNumbers(nil, texts[i]))+len(Entities(texts[i]))) + 1e-6*float64(i)
	}
	order := bm25.Order(scores)
	keep := make([]bool, len(sents))
	used := 0
	for _, i := range order {
		n := c.Count(texts[i]) + 1
		if req.MaxTokens > 0 && used+n > req.MaxTokens {
			continue
		}
		keep[i] = true
		used += n
	}
	var parts []string
	for i, k := range keep {
		if k {
			parts = append(parts, texts[i])
		}
	}
	if len(parts) == 0 {
		return "", fmt.Errorf("extractive generator: no sentence of the source fits in %d tokens", req.MaxTokens)
	}
	return strings.Join(parts, " "), nil
}

// UnigramScorer is a model-free [Scorer]: tokens are words with their
// leading whitespace, and a word's self-information is −ln p under a
// unigram model of the prefix and text themselves, smoothed toward a
// background where stop words are common (p = 0.02) and other words rare
// (p = 1e-5). Repeated and function words score low, rare content words
// high: a baseline for what a real language model does far better.
type UnigramScorer struct{}

// Name implements [Scorer].
func (UnigramScorer) Name() string { return "unigram" }

// Score implements [Scorer].
func (UnigramScorer) Score(ctx context.Context, prefix, text string) ([]TokenScore, error) {
	counts := map[segment.Term]int{}
	total := 0
	for _, t := range segment.AppendTerms(nil, prefix+" "+text, false) {
		counts[t]++
		total++
	}
	var out []TokenScore
	ws := segment.Words(text)
	start := 0
	for k, w := range ws {
		end := w.End
		if k == len(ws)-1 {
			end = len(text)
		}
		piece := text[start:end]
		word := text[w.Start:w.End]
		terms := segment.AppendTerms(nil, word, false)
		si := 0.0
		for _, t := range terms {
			bg := 1e-5
			if segment.IsStopword(strings.Trim(strings.ToLower(word), ".,;:!?\"'()[]")) {
				bg = 0.02
			}
			p := (float64(counts[t]) + 50*bg) / (float64(total) + 50)
			si += -math.Log(p)
		}
		if len(terms) == 0 {
			si = 0.5 // punctuation
		}
		out = append(out, TokenScore{Text: piece, SelfInfo: si})
		start = end
	}
	if len(ws) == 0 && text != "" {
		out = append(out, TokenScore{Text: text})
	}
	return out, ctx.Err()
}

// backendErr wraps a backend failure.
func backendErr(what string, err error) error {
	return fmt.Errorf("%w: %s: %v", ErrBackend, what, err)
}
