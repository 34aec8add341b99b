// Package openai is a small client for OpenAI-compatible HTTP APIs (OpenAI,
// vLLM, llama.cpp's llama-server, ollama, LM Studio …): chat completions,
// non-streaming and streamed as server-sent events, and embeddings. It is
// what lmc's prompt compressor uses for its summarization, extraction and
// embedding backends.
//
// # Wire format
//
//	POST {base}/chat/completions  {"model","messages":[{"role","content"}],"max_tokens","temperature","stream","response_format"}
//	  → {"id","object":"chat.completion","model","choices":[{"index","message":{"role","content"},"finish_reason"}],"usage"}
//	  with "stream": true → "data: {chunk}\n\n" lines, each chunk
//	  {"object":"chat.completion.chunk","choices":[{"index","delta":{"content"},"finish_reason"}]},
//	  ended by "data: [DONE]"
//	POST {base}/embeddings  {"model","input":[...]} → {"data":[{"index","embedding":[...]}],"model","usage"}
//	errors: a non-2xx status with {"error":{"message","type","code"}}
//
// {base} is the URL given to [New]; a URL with no path gets "/v1".
//
// # Errors and limits
//
// A server that answers with an error status gives an *[APIError]. A
// response that is not the expected JSON, an SSE stream that breaks the
// format or ends without "data: [DONE]", a completion without choices, or
// embeddings of the wrong count or uneven dimensions give an error that
// unwraps to [ErrBadResponse]. A request that runs past [Client.Timeout] or
// its context's deadline gives an error that unwraps to [ErrTimeout] (and
// to context.DeadlineExceeded). Responses are read up to [MaxResponse]
// bytes (64 MiB) and SSE lines up to [MaxLine] bytes (4 MiB); more is
// ErrBadResponse.
package openai

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Limits on what the client reads.
const (
	MaxResponse = 64 << 20
	MaxLine     = 4 << 20
)

var (
	// ErrBadResponse is wrapped by every error about a response that does
	// not follow the wire format.
	ErrBadResponse = errors.New("openai: malformed response")
	// ErrTimeout is wrapped by errors of requests that ran out of time.
	ErrTimeout = errors.New("openai: request timed out")
)

// APIError is an error status from the server.
type APIError struct {
	StatusCode int
	Message    string
	Type       string
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.StatusCode)
	}
	return fmt.Sprintf("openai: server answered %d: %s", e.StatusCode, msg)
}

// Message is one chat message.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// ResponseFormat asks for JSON output ({"type":"json_object"}).
type ResponseFormat struct {
	Type string `json:"type"`
}

// ChatRequest is a chat completion request.
type ChatRequest struct {
	Model          string          `json:"model"`
	Messages       []Message       `json:"messages"`
	MaxTokens      int             `json:"max_tokens,omitempty"`
	Temperature    *float64        `json:"temperature,omitempty"`
	Stream         bool            `json:"stream,omitempty"`
	ResponseFormat *ResponseFormat `json:"response_format,omitempty"`
	Stop           []string        `json:"stop,omitempty"`
}

// Usage counts tokens as the server reports them.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// Choice is one completion.
type Choice struct {
	Index        int      `json:"index"`
	Message      *Message `json:"message,omitempty"`
	Delta        *Message `json:"delta,omitempty"`
	FinishReason *string  `json:"finish_reason"`
}

// ChatResponse is a chat completion (also one streamed chunk).
type ChatResponse struct {
	ID      string   `json:"id"`
	Object  string   `json:"object"`
	Created int64    `json:"created"`
	Model   string   `json:"model"`
	Choices []Choice `json:"choices"`
	Usage   *Usage   `json:"usage,omitempty"`
}

// Content returns the first choice's message content.
func (r *ChatResponse) Content() string {
	if len(r.Choices) == 0 || r.Choices[0].Message == nil {
		return ""
	}
	return r.Choices[0].Message.Content
}

// EmbeddingRequest is an embeddings request.
type EmbeddingRequest struct {
	Model string   `json:"model"`
	Input []string `json:"input"`
}

// Embedding is one vector of an embeddings response.
type Embedding struct {
	Object    string    `json:"object"`
	Index     int       `json:"index"`
	Embedding []float32 `json:"embedding"`
}

// EmbeddingResponse is an embeddings response.
type EmbeddingResponse struct {
	Object string      `json:"object"`
	Data   []Embedding `json:"data"`
	Model  string      `json:"model"`
	Usage  *Usage      `json:"usage,omitempty"`
}

// ErrorBody is the JSON body of an error response.
type ErrorBody struct {
	Error struct {
		Message string `json:"message"`
		Type    string `json:"type"`
		Code    any    `json:"code,omitempty"`
	} `json:"error"`
}

// Client calls one OpenAI-compatible server. Its zero value is not usable;
// make one with [New].
type Client struct {
	BaseURL string        // e.g. http://127.0.0.1:8080/v1
	APIKey  string        // sent as "Authorization: Bearer KEY" when set
	Model   string        // default model for requests that name none
	Timeout time.Duration // per request; 0 means none (the context still applies)
	HTTP    *http.Client
}

// New returns a client for the server at baseURL ("/v1" is appended to a
// URL without a path).
func New(baseURL string) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("openai: base URL %q: want http(s)://host[:port][/path]", baseURL)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/v1"
	}
	return &Client{BaseURL: strings.TrimRight(u.String(), "/"), HTTP: http.DefaultClient}, nil
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

type timeoutError struct{ err error }

func (e *timeoutError) Error() string { return "openai: request timed out: " + e.err.Error() }
func (e *timeoutError) Is(target error) bool {
	return target == ErrTimeout || target == context.DeadlineExceeded
}
func (e *timeoutError) Unwrap() error { return e.err }

func badResponse(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadResponse, fmt.Sprintf(format, args...))
}

// post sends body to path and returns the response, checking the status.
// The caller closes the body.
func (c *Client) post(ctx context.Context, path string, body any) (*http.Response, context.CancelFunc, error) {
	cancel := context.CancelFunc(func() {})
	if c.Timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
	}
	data, err := json.Marshal(body)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL+path, bytes.NewReader(data))
	if err != nil {
		cancel()
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.APIKey)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		cancel()
		return nil, nil, c.wrap(ctx, err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		defer cancel()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		e := &APIError{StatusCode: resp.StatusCode}
		var eb ErrorBody
		if json.Unmarshal(b, &eb) == nil && eb.Error.Message != "" {
			e.Message, e.Type = eb.Error.Message, eb.Error.Type
		} else {
			e.Message = strings.TrimSpace(string(b))
			if len(e.Message) > 200 {
				e.Message = e.Message[:200] + "…"
			}
		}
		return nil, nil, e
	}
	return resp, cancel, nil
}

func (c *Client) wrap(ctx context.Context, err error) error {
	if ctx.Err() == context.DeadlineExceeded || errors.Is(err, context.DeadlineExceeded) {
		return &timeoutError{err}
	}
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) && ne.Timeout() {
		return &timeoutError{err}
	}
	return fmt.Errorf("openai: %w", err)
}

func (c *Client) model(m string) string {
	if m == "" {
		return c.Model
	}
	return m
}

// Chat sends a non-streaming chat completion request. It fails with
// ErrBadResponse when the answer is not a completion with at least one
// choice holding a message.
func (c *Client) Chat(ctx context.Context, req ChatRequest) (*ChatResponse, error) {
	req.Model = c.model(req.Model)
	req.Stream = false
	resp, cancel, err := c.post(ctx, "/chat/completions", req)
	if err != nil {
		return nil, err
	}
	defer cancel()
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponse+1))
	if err != nil {
		return nil, c.wrap(ctx, err)
	}
	if len(data) > MaxResponse {
		return nil, badResponse("response larger than %d bytes", MaxResponse)
	}
	var out ChatResponse
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, badResponse("chat completion is not JSON (%v): %q", err, truncate(data, 120))
	}
	if len(out.Choices) == 0 || out.Choices[0].Message == nil {
		return nil, badResponse("chat completion has no choices[0].message: %q", truncate(data, 120))
	}
	return &out, nil
}

// ChatStream sends a streaming chat completion request, calls onDelta (if
// not nil) with each piece of content as it arrives, and returns the
// assembled completion. An error from onDelta stops the stream and is
// returned.
func (c *Client) ChatStream(ctx context.Context, req ChatRequest, onDelta func(string) error) (*ChatResponse, error) {
	req.Model = c.model(req.Model)
	req.Stream = true
	resp, cancel, err := c.post(ctx, "/chat/completions", req)
	if err != nil {
		return nil, err
	}
	defer cancel()
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLine)
	var content strings.Builder
	out := &ChatResponse{Object: "chat.completion"}
	var finish *string
	role := "assistant"
	done, chunks := false, 0
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 || line[0] == ':' {
			continue // event separator or SSE comment
		}
		if !bytes.HasPrefix(line, []byte("data:")) {
			if bytes.HasPrefix(line, []byte("event:")) || bytes.HasPrefix(line, []byte("id:")) || bytes.HasPrefix(line, []byte("retry:")) {
				continue
			}
			return nil, badResponse("stream line is not an SSE field: %q", truncate(line, 120))
		}
		payload := bytes.TrimSpace(line[len("data:"):])
		if string(payload) == "[DONE]" {
			done = true
			break
		}
		var ch struct {
			ChatResponse
			Error *struct {
				Message string `json:"message"`
				Type    string `json:"type"`
			} `json:"error"`
		}
		if err := json.Unmarshal(payload, &ch); err != nil {
			return nil, badResponse("stream chunk is not JSON (%v): %q", err, truncate(payload, 120))
		}
		if ch.Error != nil {
			// some servers report errors inside the stream
			return nil, &APIError{StatusCode: resp.StatusCode, Message: ch.Error.Message, Type: ch.Error.Type}
		}
		chunks++
		if out.ID == "" {
			out.ID, out.Model, out.Created = ch.ID, ch.Model, ch.Created
		}
		if ch.Usage != nil {
			out.Usage = ch.Usage
		}
		for _, cc := range ch.Choices {
			if cc.Index != 0 {
				continue
			}
			if cc.Delta != nil {
				if cc.Delta.Role != "" {
					role = cc.Delta.Role
				}
				if cc.Delta.Content != "" {
					content.WriteString(cc.Delta.Content)
					if onDelta != nil {
						if err := onDelta(cc.Delta.Content); err != nil {
							return nil, err
						}
					}
				}
			}
			if cc.FinishReason != nil {
				finish = cc.FinishReason
			}
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, badResponse("stream line longer than %d bytes", MaxLine)
		}
		return nil, c.wrap(resp.Request.Context(), err)
	}
	if !done {
		if err := resp.Request.Context().Err(); err != nil {
			return nil, c.wrap(resp.Request.Context(), err)
		}
		return nil, badResponse("stream ended after %d chunks without data: [DONE]", chunks)
	}
	if chunks == 0 {
		return nil, badResponse("stream had no chunks")
	}
	out.Choices = []Choice{{Message: &Message{Role: role, Content: content.String()}, FinishReason: finish}}
	return out, nil
}

// Embed returns one embedding per input, in input order. It fails with
// ErrBadResponse when the server returns a different count, an index out
// of range, or vectors of different lengths.
func (c *Client) Embed(ctx context.Context, model string, inputs []string) ([][]float32, error) {
	if len(inputs) == 0 {
		return nil, nil
	}
	resp, cancel, err := c.post(ctx, "/embeddings", EmbeddingRequest{Model: c.model(model), Input: inputs})
	if err != nil {
		return nil, err
	}
	defer cancel()
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponse+1))
	if err != nil {
		return nil, c.wrap(ctx, err)
	}
	if len(data) > MaxResponse {
		return nil, badResponse("response larger than %d bytes", MaxResponse)
	}
	var er EmbeddingResponse
	if err := json.Unmarshal(data, &er); err != nil {
		return nil, badResponse("embeddings response is not JSON (%v): %q", err, truncate(data, 120))
	}
	if len(er.Data) != len(inputs) {
		return nil, badResponse("%d embeddings for %d inputs", len(er.Data), len(inputs))
	}
	out := make([][]float32, len(inputs))
	for _, d := range er.Data {
		if d.Index < 0 || d.Index >= len(inputs) || out[d.Index] != nil {
			return nil, badResponse("embedding index %d out of range or repeated", d.Index)
		}
		if len(d.Embedding) == 0 || len(d.Embedding) != len(er.Data[0].Embedding) {
			return nil, badResponse("embedding %d has %d dimensions, embedding 0 has %d", d.Index, len(d.Embedding), len(er.Data[0].Embedding))
		}
		out[d.Index] = d.Embedding
	}
	return out, nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
