package segment_test

import (
	"fmt"

	"github.com/lmc-project/lmc/prompt/segment"
)

func ExampleSentences() {
	text := "Dr. Watson arrived at 10 p.m. on Tuesday. Holmes was out.\n\nA new paragraph."
	for _, s := range segment.Sentences(text, nil) {
		fmt.Printf("%q\n", s.Text(text))
	}
	// Output:
	// "Dr. Watson arrived at 10 p.m. on Tuesday."
	// "Holmes was out."
	// "A new paragraph."
}

func ExampleParagraphs() {
	text := "First paragraph,\nstill first.\n\nSecond."
	fmt.Println(len(segment.Paragraphs(text)))
	// Output: 2
}

func ExampleAppendTerms() {
	a := segment.AppendTerms(nil, "The cats", true)
	b := segment.AppendTerms(nil, "a cat", true)
	fmt.Println(len(a), a[0] == b[0])
	// Output: 1 true
}
