// Package openaitest runs an in-process OpenAI-compatible HTTP server for
// tests: POST /v1/chat/completions (a JSON completion, or server-sent
// events "data: {chunk}" ended by "data: [DONE]" when the request says
// "stream": true) and POST /v1/embeddings, speaking the wire format of
// package openai. Its behaviour is set by [Options]: the reply text, the
// embedding function, a delay, and misbehaviours (garbage bodies, broken
// streams, error statuses) to test a client's error paths.
package openaitest

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/lmc-project/lmc/prompt/openai"
)

// Fault makes the server misbehave.
type Fault int

// Faults.
const (
	None         Fault = iota
	Garbage            // 200 with a body that is not JSON
	NoChoices          // 200 with a completion that has no choices
	Status500          // 500 with an OpenAI error body
	CutStream          // a stream that ends without data: [DONE]
	WrongVectors       // embeddings: one vector fewer than inputs
)

// Options set the server's behaviour. Zero values mean: reply "ok", embed
// with [HashEmbed], no delay, no fault.
type Options struct {
	// Reply returns the assistant's reply to a chat request.
	Reply func(req openai.ChatRequest) string
	// Embed returns the embedding of one input.
	Embed func(input string) []float32
	// Delay is slept before answering (for timeout tests); the sleep ends
	// early when the client goes away.
	Delay time.Duration
	// ChunkSize is the number of bytes of content per streamed chunk
	// (default 4).
	ChunkSize int
	Fault     Fault
}

// Server is a running test server.
type Server struct {
	*httptest.Server
	opts Options

	mu       sync.Mutex
	requests []openai.ChatRequest
	embeds   []openai.EmbeddingRequest
}

// New starts a server; close it with Close.
func New(opts Options) *Server {
	s := &Server{opts: opts}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", s.chat)
	mux.HandleFunc("POST /v1/embeddings", s.embed)
	s.Server = httptest.NewServer(mux)
	return s
}

// BaseURL returns the URL to give openai.New (ends in /v1).
func (s *Server) BaseURL() string { return s.URL + "/v1" }

// Requests returns the chat requests received so far.
func (s *Server) Requests() []openai.ChatRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]openai.ChatRequest(nil), s.requests...)
}

// EmbeddingRequests returns the embedding requests received so far.
func (s *Server) EmbeddingRequests() []openai.EmbeddingRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]openai.EmbeddingRequest(nil), s.embeds...)
}

func (s *Server) wait(r *http.Request) bool {
	if s.opts.Delay <= 0 {
		return true
	}
	select {
	case <-time.After(s.opts.Delay):
		return true
	case <-r.Context().Done():
		return false
	}
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	var eb openai.ErrorBody
	eb.Error.Message = msg
	eb.Error.Type = "invalid_request_error"
	json.NewEncoder(w).Encode(eb)
}

func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	var req openai.ChatRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "request body is not JSON: "+err.Error())
		return
	}
	if len(req.Messages) == 0 {
		writeError(w, http.StatusBadRequest, "messages is empty")
		return
	}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.mu.Unlock()
	if !s.wait(r) {
		return
	}
	switch s.opts.Fault {
	case Garbage:
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html><body>502 Bad Gateway</body></html>")
		return
	case Status500:
		writeError(w, http.StatusInternalServerError, "the model crashed")
		return
	case NoChoices:
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":"x","object":"chat.completion","choices":[]}`)
		return
	}
	reply := "ok"
	if s.opts.Reply != nil {
		reply = s.opts.Reply(req)
	}
	model := req.Model
	if model == "" {
		model = "test-model"
	}
	stop := "stop"
	usage := &openai.Usage{PromptTokens: countWords(req.Messages), CompletionTokens: len(strings.Fields(reply))}
	usage.TotalTokens = usage.PromptTokens + usage.CompletionTokens
	if !req.Stream {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(openai.ChatResponse{
			ID: "chatcmpl-test", Object: "chat.completion", Created: 1700000000, Model: model,
			Choices: []openai.Choice{{Message: &openai.Message{Role: "assistant", Content: reply}, FinishReason: &stop}},
			Usage:   usage,
		})
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	fl, _ := w.(http.Flusher)
	send := func(ch openai.ChatResponse) {
		b, _ := json.Marshal(ch)
		fmt.Fprintf(w, "data: %s\n\n", b)
		if fl != nil {
			fl.Flush()
		}
	}
	chunk := func(d *openai.Message, fin *string) openai.ChatResponse {
		return openai.ChatResponse{ID: "chatcmpl-test", Object: "chat.completion.chunk", Created: 1700000000, Model: model,
			Choices: []openai.Choice{{Index: 0, Delta: d, FinishReason: fin}}}
	}
	send(chunk(&openai.Message{Role: "assistant"}, nil))
	n := s.opts.ChunkSize
	if n <= 0 {
		n = 4
	}
	rs := []rune(reply)
	for i := 0; i < len(rs); i += n {
		j := min(i+n, len(rs))
		send(chunk(&openai.Message{Content: string(rs[i:j])}, nil))
	}
	if s.opts.Fault == CutStream {
		return
	}
	last := chunk(&openai.Message{}, &stop)
	last.Usage = usage
	send(last)
	fmt.Fprint(w, "data: [DONE]\n\n")
}

func countWords(ms []openai.Message) int {
	n := 0
	for _, m := range ms {
		n += len(strings.Fields(m.Content))
	}
	return n
}

func (s *Server) embed(w http.ResponseWriter, r *http.Request) {
	var req openai.EmbeddingRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "request body is not JSON (input must be an array of strings): "+err.Error())
		return
	}
	s.mu.Lock()
	s.embeds = append(s.embeds, req)
	s.mu.Unlock()
	if !s.wait(r) {
		return
	}
	switch s.opts.Fault {
	case Garbage:
		fmt.Fprint(w, "not json")
		return
	case Status500:
		writeError(w, http.StatusInternalServerError, "the model crashed")
		return
	}
	embed := s.opts.Embed
	if embed == nil {
		embed = HashEmbed
	}
	resp := openai.EmbeddingResponse{Object: "list", Model: req.Model, Usage: &openai.Usage{}}
	for i, in := range req.Input {
		if s.opts.Fault == WrongVectors && i == len(req.Input)-1 {
			break
		}
		resp.Data = append(resp.Data, openai.Embedding{Object: "embedding", Index: i, Embedding: embed(in)})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(resp)
}

// HashEmbed is a deterministic bag-of-words embedding (64 dimensions, one
// hashed bucket per lower-cased word, L2-normalized): texts sharing words
// have a positive cosine similarity, so tests get meaningful rankings
// without a model.
func HashEmbed(text string) []float32 {
	v := make([]float32, 64)
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127)
	}) {
		h := uint32(2166136261)
		for i := 0; i < len(w); i++ {
			h = (h ^ uint32(w[i])) * 16777619
		}
		v[h%64]++
	}
	var n float32
	for _, x := range v {
		n += x * x
	}
	if n > 0 {
		n = float32(1 / math.Sqrt(float64(n)))
		for i := range v {
			v[i] *= n
		}
	}
	return v
}
