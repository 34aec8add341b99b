package prompt_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/lmc-project/lmc/internal/shared"
	"github.com/lmc-project/lmc/prompt"
	"github.com/lmc-project/lmc/prompt/tokens"
)

// benchText returns about 1 MB of real prose (WikiText-2's test split),
// or of the test paragraphs repeated where the shared data is absent.
func benchText(b *testing.B) string {
	if root := shared.Root(); root != "" {
		if data, err := os.ReadFile(root + "/text/wikitext2/wiki.test.lf.txt"); err == nil {
			if len(data) > 1<<20 {
				data = data[:1<<20]
			}
			return string(data)
		}
	}
	var s strings.Builder
	for s.Len() < 1<<20 {
		s.WriteString(eiffel + "\n\n" + rivers + "\n\n")
	}
	return s.String()
}

// BenchmarkCompress measures each method on 1 MB of text. With the bytes
// counter it is the method alone; with o200k_base, tokenizer counting is
// included.
func BenchmarkCompress(b *testing.B) {
	text := benchText(b)
	o200, err := tokens.Open("o200k_base")
	if err != nil {
		b.Fatal(err)
	}
	for _, m := range []string{"dedup", "template", "extractive", "rerank", "query-sentences", "query", "prune"} {
		for _, c := range []prompt.Counter{prompt.Bytes, o200} {
			b.Run(m+"/"+c.Name(), func(b *testing.B) {
				o := prompt.Options{Methods: []string{m}, Counter: c}
				if m != "dedup" && m != "template" {
					o.Rate = 0.25
				}
				b.SetBytes(int64(len(text)))
				for i := 0; i < b.N; i++ {
					if _, err := prompt.Compress(context.Background(), prompt.Input{Text: text, Question: "Who built the railway station in the city?"}, o); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
