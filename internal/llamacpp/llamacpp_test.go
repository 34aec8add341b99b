package llamacpp

import (
	"os"
	"strings"
	"testing"

	"github.com/lmc-project/lmc/internal/shared"
)

// TestJudgeStories260K checks the judge itself against the greedy text that
// llama.cpp's llama-cli recorded in ../shared for stories260K.
func TestJudgeStories260K(t *testing.T) {
	model := shared.Path(t, "models/stories260K/stories260K.gguf")
	refPath := shared.Path(t, "reference/llamacpp-stories260K/greedy_once_upon_a_time_f32.txt")
	ref, err := os.ReadFile(refPath)
	if err != nil {
		t.Fatal(err)
	}
	ans := Run(t, Request{Model: model, Prompt: "Once upon a time", NPredict: 24})
	if want := []int{1, 403, 407, 261, 378}; !equalInts(ans.PromptTokens, want) {
		t.Errorf("prompt tokens = %v, want %v", ans.PromptTokens, want)
	}
	got := "<s> Once upon a time" + ans.Text
	if !strings.HasPrefix(string(ref), got) {
		t.Errorf("greedy text %q is not a prefix of llama-cli's %q", got, string(ref[:min(len(ref), len(got)+20)]))
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
