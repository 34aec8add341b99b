package openai_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lmc-project/lmc/prompt/openai"
	"github.com/lmc-project/lmc/prompt/openai/openaitest"
)

func client(t *testing.T, s *openaitest.Server) *openai.Client {
	t.Helper()
	c, err := openai.New(s.URL) // no path: /v1 is added
	if err != nil {
		t.Fatal(err)
	}
	c.Model = "m1"
	return c
}

func TestChat(t *testing.T) {
	s := openaitest.New(openaitest.Options{Reply: func(r openai.ChatRequest) string {
		return "echo: " + r.Messages[len(r.Messages)-1].Content
	}})
	defer s.Close()
	c := client(t, s)
	resp, err := c.Chat(context.Background(), openai.ChatRequest{Messages: []openai.Message{{Role: "user", Content: "héllo"}}, MaxTokens: 7})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Content() != "echo: héllo" || resp.Usage == nil || resp.Usage.CompletionTokens != 2 {
		t.Errorf("response %+v", resp)
	}
	reqs := s.Requests()
	if len(reqs) != 1 || reqs[0].Model != "m1" || reqs[0].MaxTokens != 7 || reqs[0].Stream {
		t.Errorf("server saw %+v", reqs)
	}
}

func TestChatStream(t *testing.T) {
	reply := "Streaming ünïcode text, in several chunks."
	s := openaitest.New(openaitest.Options{Reply: func(openai.ChatRequest) string { return reply }, ChunkSize: 3})
	defer s.Close()
	c := client(t, s)
	var deltas []string
	resp, err := c.ChatStream(context.Background(), openai.ChatRequest{Messages: []openai.Message{{Role: "user", Content: "x"}}},
		func(d string) error { deltas = append(deltas, d); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if resp.Content() != reply {
		t.Errorf("content %q", resp.Content())
	}
	if len(deltas) < 10 || strings.Join(deltas, "") != reply {
		t.Errorf("%d deltas %q", len(deltas), deltas)
	}
	if r := s.Requests(); !r[0].Stream {
		t.Error("request was not a stream")
	}
	if resp.Choices[0].FinishReason == nil || *resp.Choices[0].FinishReason != "stop" || resp.Usage == nil {
		t.Errorf("finish reason / usage lost: %+v", resp)
	}
}

func TestEmbed(t *testing.T) {
	s := openaitest.New(openaitest.Options{})
	defer s.Close()
	c := client(t, s)
	vs, err := c.Embed(context.Background(), "emb", []string{"red apples", "green apples", "tax law"})
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 3 || len(vs[0]) != 64 {
		t.Fatalf("got %d vectors", len(vs))
	}
	dot := func(a, b []float32) (s float32) {
		for i := range a {
			s += a[i] * b[i]
		}
		return
	}
	if dot(vs[0], vs[1]) <= dot(vs[0], vs[2]) {
		t.Error("similar texts not closer")
	}
	if r := s.EmbeddingRequests(); r[0].Model != "emb" || len(r[0].Input) != 3 {
		t.Errorf("server saw %+v", r)
	}
}

func TestErrors(t *testing.T) {
	msgs := []openai.Message{{Role: "user", Content: "x"}}
	tests := []struct {
		name   string
		opts   openaitest.Options
		stream bool
		embed  bool
		check  func(error) bool
	}{
		{"garbage", openaitest.Options{Fault: openaitest.Garbage}, false, false, isBad},
		{"garbage stream", openaitest.Options{Fault: openaitest.Garbage}, true, false, isBad},
		{"no choices", openaitest.Options{Fault: openaitest.NoChoices}, false, false, isBad},
		{"cut stream", openaitest.Options{Fault: openaitest.CutStream}, true, false, isBad},
		{"500", openaitest.Options{Fault: openaitest.Status500}, false, false, isAPI(500)},
		{"500 stream", openaitest.Options{Fault: openaitest.Status500}, true, false, isAPI(500)},
		{"timeout", openaitest.Options{Delay: 2 * time.Second}, false, false, isTimeout},
		{"timeout stream", openaitest.Options{Delay: 2 * time.Second}, true, false, isTimeout},
		{"embed garbage", openaitest.Options{Fault: openaitest.Garbage}, false, true, isBad},
		{"embed count", openaitest.Options{Fault: openaitest.WrongVectors}, false, true, isBad},
		{"embed timeout", openaitest.Options{Delay: 2 * time.Second}, false, true, isTimeout},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openaitest.New(tc.opts)
			defer s.Close()
			c := client(t, s)
			c.Timeout = 100 * time.Millisecond
			var err error
			switch {
			case tc.embed:
				_, err = c.Embed(context.Background(), "", []string{"a", "b"})
			case tc.stream:
				_, err = c.ChatStream(context.Background(), openai.ChatRequest{Messages: msgs}, nil)
			default:
				_, err = c.Chat(context.Background(), openai.ChatRequest{Messages: msgs})
			}
			if err == nil || !tc.check(err) {
				t.Errorf("error %v", err)
			}
		})
	}
}

func isBad(err error) bool { return errors.Is(err, openai.ErrBadResponse) }
func isTimeout(err error) bool {
	return errors.Is(err, openai.ErrTimeout) && errors.Is(err, context.DeadlineExceeded)
}
func isAPI(code int) func(error) bool {
	return func(err error) bool {
		var e *openai.APIError
		return errors.As(err, &e) && e.StatusCode == code && e.Message == "the model crashed"
	}
}

// Bad SSE lines and an error object inside a stream.
func TestStreamFormat(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		check      func(error) bool
	}{
		{"not sse", "hello\n\n", isBad},
		{"bad json", "data: {oops\n\n", isBad},
		{"error in stream", `data: {"error":{"message":"overloaded"}}` + "\n\n", func(err error) bool {
			var e *openai.APIError
			return errors.As(err, &e) && e.Message == "overloaded"
		}},
		{"done only", "data: [DONE]\n\n", isBad},
		{"comments ok", ": ping\n\nevent: x\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\ndata: [DONE]\n\n", func(err error) bool { return err == nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			c, _ := openai.New(srv.URL + "/v1")
			_, err := c.ChatStream(context.Background(), openai.ChatRequest{Messages: []openai.Message{{Role: "user", Content: "x"}}}, nil)
			if !tc.check(err) {
				t.Errorf("error %v", err)
			}
		})
	}
}

func TestNewURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://h:1":           "http://h:1/v1",
		"http://h:1/":          "http://h:1/v1",
		"https://h/api/v2/":    "https://h/api/v2",
		"http://127.0.0.1/v1/": "http://127.0.0.1/v1",
	} {
		c, err := openai.New(in)
		if err != nil || c.BaseURL != want {
			t.Errorf("New(%q) = %v, %v; want %s", in, c, err, want)
		}
	}
	for _, bad := range []string{"", "h:1", "ftp://h", "http://"} {
		if _, err := openai.New(bad); err == nil {
			t.Errorf("New(%q) accepted", bad)
		}
	}
}
