package lm_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	_ "github.com/lmc-project/lmc/models/lmcmini" // makes "lmc-mini" openable
	"github.com/lmc-project/lmc/prompt"
	"github.com/lmc-project/lmc/prompt/lm"
)

// Token-level pruning with the built-in model as the scorer.
func Example() {
	m, err := lm.Load("lmc-mini", lm.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	sc := lm.NewScorer(m)

	ts, err := sc.Score(context.Background(), "It was the best of times,", " it was the worst of times.")
	if err != nil {
		log.Fatal(err)
	}
	var texts []string
	for _, t := range ts {
		texts = append(texts, t.Text)
	}
	fmt.Println(strings.Join(texts, "|"))

	doc := "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness."
	res, err := prompt.Compress(context.Background(), prompt.Input{Text: doc},
		prompt.Options{Methods: []string{"prune"}, Rate: 0.5, Counter: prompt.Words, Scorer: sc})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(prompt.Words.Count(res.Text) <= prompt.Words.Count(doc)/2, res.Report.Scorer.Name)
	// Output:
	//  it| was| the| wor|st| of| times|.
	// true lm:lmc-mini
}
