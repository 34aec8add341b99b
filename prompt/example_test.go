package prompt_test

import (
	"context"
	"fmt"

	"github.com/lmc-project/lmc/prompt"
)

func ExampleCompress() {
	doc := `The Eiffel Tower is a wrought-iron lattice tower in Paris. It was built from 1887 to 1889.

The tower is 330 metres tall. Its base is square, measuring 125 metres on each side.

The Statue of Liberty stands on Liberty Island in New York Harbor.`
	res, err := prompt.Compress(context.Background(),
		prompt.Input{Text: doc, Question: "How tall is the tower?"},
		prompt.Options{Methods: []string{"query-sentences"}, Rate: 0.5, Counter: prompt.Words})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Text)
	fmt.Printf("%d -> %d words\n", res.Report.Tokens[0].Before, res.Report.Tokens[0].After)
	// Output:
	// The Eiffel Tower is a wrought-iron lattice tower in Paris. It was built from 1887 to 1889.
	//
	// The tower is 330 metres tall.
	// 45 -> 23 words
}

func ExampleCompress_messages() {
	msgs, err := prompt.ParseMessages([]byte(`[
		{"role": "system", "content": "You are a helpful assistant."},
		{"role": "user", "content": "My name is Ada. I live in Turin."},
		{"role": "assistant", "content": "Nice to meet you, Ada."},
		{"role": "user", "content": "Recommend a book about rivers and the sea, please."},
		{"role": "assistant", "content": "Try The Old Man and the Sea by Ernest Hemingway, a short novel."},
		{"role": "user", "content": "Where do I live?"}
	]`))
	if err != nil {
		panic(err)
	}
	res, err := prompt.Compress(context.Background(), prompt.Input{Messages: msgs},
		prompt.Options{Methods: []string{"memory"}, KeepTurns: 1, Target: 20, Counter: prompt.Words})
	if err != nil {
		panic(err)
	}
	for _, m := range res.Messages {
		fmt.Printf("%s: %q\n", m.Role, m.Content)
	}
	// Output:
	// system: "You are a helpful assistant."
	// system: "Summary of the earlier conversation:\nI live in Turin."
	// user: "Where do I live?"
}

func ExampleParseMessages() {
	ms, err := prompt.ParseMessages([]byte(`{"model": "x", "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]}`))
	fmt.Println(ms, err)
	_, err = prompt.ParseMessages([]byte(`[{"role": "user", "content": "Hi"`))
	fmt.Println(err)
	// Output:
	// [{user Hi }] <nil>
	// prompt: malformed messages: line 1, column 34: unexpected end of JSON input
}

func ExampleEntities() {
	fmt.Printf("%q\n", prompt.Entities("Yesterday Ada Lovelace wrote to the Royal Society of London about the NASA of her day."))
	// Output: ["Ada Lovelace" "Royal Society of London" "NASA"]
}
