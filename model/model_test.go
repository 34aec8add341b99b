package model_test

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/lmc-project/lmc/internal/shared"
	"github.com/lmc-project/lmc/model"
	"github.com/lmc-project/lmc/model/sample"
	"github.com/lmc-project/lmc/modelfile"
	"github.com/lmc-project/lmc/tokenizer"
)

type fixtures struct {
	Prompts []struct {
		Prompt     string      `json:"prompt"`
		IDs        []int       `json:"ids"`
		LastLogits []float32   `json:"last_logits"`
		AllLogits  [][]float32 `json:"all_logits"`
		GreedyIDs  []int       `json:"greedy_ids"`
	} `json:"prompts"`
}

func readFixtures(t *testing.T) *fixtures {
	t.Helper()
	p := shared.Path(t, "models/books5M/fixtures/fixtures.json")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var f fixtures
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Prompts) != 3 {
		t.Fatalf("fixtures have %d prompts, want 3", len(f.Prompts))
	}
	return &f
}

func load(t testing.TB, rel string) *model.Model {
	t.Helper()
	p := shared.Path(t, rel)
	mf, err := modelfile.Open(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mf.Close() })
	m, err := model.Load(mf, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func maxAbsDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var d float64
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i])-float64(b[i])))
	}
	return d
}

func argmax(x []float32) int { return sample.Greedy(x) }

// TestBooks5MFixtures compares lmc's logits with PyTorch's on the F32
// model in both its sources (the HF folder, whose rotate-half q/k rows
// modelfile permutes to GGUF layout, and llama.cpp's GGUF), and its greedy
// continuations. Tolerance: 1e-4 absolute on logits of magnitude ~20
// (float32 sums in a different order than PyTorch's).
func TestBooks5MFixtures(t *testing.T) {
	fx := readFixtures(t)
	for _, src := range []string{"models/books5M/hf", "models/books5M/books5M-f32.gguf"} {
		t.Run(src, func(t *testing.T) {
			m := load(t, src)
			var worst float64
			for i, p := range fx.Prompts {
				s := m.NewSession(0)
				if i == 0 {
					all, err := s.PrefillAll(p.IDs)
					if err != nil {
						t.Fatal(err)
					}
					if len(p.AllLogits) != len(p.IDs) {
						t.Fatalf("fixture all_logits has %d rows", len(p.AllLogits))
					}
					for j, row := range p.AllLogits {
						d := maxAbsDiff(all[j*512:(j+1)*512], row)
						worst = math.Max(worst, d)
						if d > 1e-4 {
							t.Errorf("prompt %d position %d: max |Δlogit| = %.3g > 1e-4", i, j, d)
						}
					}
					s.Reset()
				}
				logits, err := s.Prefill(p.IDs)
				if err != nil {
					t.Fatal(err)
				}
				d := maxAbsDiff(logits, p.LastLogits)
				worst = math.Max(worst, d)
				if d > 1e-4 {
					t.Errorf("prompt %d (%q): max |Δlogit| = %.3g > 1e-4", i, p.Prompt, d)
				}
				var got []int
				for len(got) < len(p.GreedyIDs) {
					tok := argmax(logits)
					got = append(got, tok)
					if logits, err = s.Decode(tok); err != nil {
						t.Fatal(err)
					}
				}
				for j := range got {
					if got[j] != p.GreedyIDs[j] {
						t.Fatalf("prompt %d: greedy ids %v, PyTorch %v (first difference at %d)", i, got, p.GreedyIDs, j)
					}
				}
			}
			t.Logf("%s: max |Δlogit| vs PyTorch = %.3g", src, worst)
		})
	}
}

func loadWithVocab(t testing.TB, rel string) (*model.Model, *tokenizer.Vocab) {
	t.Helper()
	p := shared.Path(t, rel)
	mf, err := modelfile.Open(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mf.Close() })
	m, err := model.Load(mf, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if mf.Vocab == nil {
		t.Fatalf("%s has no vocabulary", rel)
	}
	return m, mf.Vocab
}
