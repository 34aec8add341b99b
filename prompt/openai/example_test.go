package openai_test

import (
	"context"
	"fmt"

	"github.com/lmc-project/lmc/prompt/openai"
	"github.com/lmc-project/lmc/prompt/openai/openaitest"
)

func ExampleClient_ChatStream() {
	srv := openaitest.New(openaitest.Options{Reply: func(openai.ChatRequest) string { return "Hello there!" }})
	defer srv.Close()
	c, _ := openai.New(srv.BaseURL())
	resp, err := c.ChatStream(context.Background(), openai.ChatRequest{
		Messages: []openai.Message{{Role: "user", Content: "Hi"}},
	}, func(delta string) error { fmt.Printf("[%s]", delta); return nil })
	if err != nil {
		panic(err)
	}
	fmt.Println()
	fmt.Println(resp.Content())
	// Output:
	// [Hell][o th][ere!]
	// Hello there!
}
