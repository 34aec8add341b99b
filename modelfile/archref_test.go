package modelfile

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lmc-project/lmc/hf"
	"github.com/lmc-project/lmc/internal/llamacpp"
)

// The archref models (testdata/archref, made by scripts/archref/make.py) are
// tiny random-weight Hugging Face folders, one per architecture variant,
// with PyTorch reference logits and greedy continuations written by an
// independent forward pass. Converting them to GGUF and running llama.cpp
// on the result checks the converter end to end: tensor names, the Q/K
// permutation, qwen2/qwen3 metadata, rope_freqs for llama3 scaling, tied
// embeddings.

var archrefVariants = []string{"llama", "llama-tied", "qwen2", "qwen3", "mistral", "llama3-rope"}

func archrefDir(variant string) string {
	return filepath.Join("..", "testdata", "archref", variant)
}

// archrefFixture is fixtures.json. Logits are kept as json.Number so that
// they are parsed straight to float32 (they were written as the shortest
// decimal of each float32).
type archrefFixture struct {
	Variant string         `json:"variant"`
	Config  map[string]any `json:"config"`
	Prompts []struct {
		IDs    []int           `json:"ids"`
		Greedy []int           `json:"greedy"`
		Logits [][]json.Number `json:"logits"`
	} `json:"prompts"`
}

func readArchrefFixture(t *testing.T, variant string) *archrefFixture {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(archrefDir(variant), "fixtures.json"))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var fx archrefFixture
	if err := dec.Decode(&fx); err != nil {
		t.Fatalf("%s fixtures.json: %v", variant, err)
	}
	if fx.Variant != variant || len(fx.Prompts) == 0 {
		t.Fatalf("%s fixtures.json: variant %q with %d prompts", variant, fx.Variant, len(fx.Prompts))
	}
	return &fx
}

func float32s(t *testing.T, row []json.Number) []float32 {
	t.Helper()
	out := make([]float32, len(row))
	for i, n := range row {
		v, err := strconv.ParseFloat(n.String(), 32)
		if err != nil {
			t.Fatalf("logit %q: %v", n, err)
		}
		out[i] = float32(v)
	}
	return out
}

func softmax64(logits []float32) []float64 {
	m := math.Inf(-1)
	for _, x := range logits {
		m = math.Max(m, float64(x))
	}
	p := make([]float64, len(logits))
	var s float64
	for i, x := range logits {
		p[i] = math.Exp(float64(x) - m)
		s += p[i]
	}
	for i := range p {
		p[i] /= s
	}
	return p
}

// TestArchrefConfig checks that Open reads each variant's architecture as
// the GGUF converter must write it.
func TestArchrefConfig(t *testing.T) {
	want := map[string]Config{
		"llama":       {Arch: "llama", HeadCount: 4, HeadCountKV: 2, HeadDim: 16},
		"llama-tied":  {Arch: "llama", HeadCount: 4, HeadCountKV: 1, HeadDim: 16, TiedEmbeddings: true},
		"qwen2":       {Arch: "qwen2", HeadCount: 4, HeadCountKV: 2, HeadDim: 16, TiedEmbeddings: true, QKVBias: true},
		"qwen3":       {Arch: "qwen3", HeadCount: 4, HeadCountKV: 2, HeadDim: 32, TiedEmbeddings: true, QKNorm: true},
		"mistral":     {Arch: "llama", HeadCount: 4, HeadCountKV: 2, HeadDim: 16},
		"llama3-rope": {Arch: "llama", HeadCount: 4, HeadCountKV: 2, HeadDim: 16, TiedEmbeddings: true, RopeScaling: "llama3"},
	}
	for _, v := range archrefVariants {
		t.Run(v, func(t *testing.T) {
			m, err := Open(archrefDir(v), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			c, w := m.Config, want[v]
			if c.Arch != w.Arch || c.HeadCount != w.HeadCount || c.HeadCountKV != w.HeadCountKV || c.HeadDim != w.HeadDim ||
				c.TiedEmbeddings != w.TiedEmbeddings || c.QKVBias != w.QKVBias || c.QKNorm != w.QKNorm || c.RopeScaling != w.RopeScaling {
				t.Errorf("config = %+v, want %+v", c, w)
			}
			if m.Vocab == nil || len(m.Vocab.Tokens) != c.VocabSize {
				t.Errorf("vocab missing or not %d tokens", c.VocabSize)
			}
			if hasOut := m.Tensor("output.weight") != nil; hasOut == c.TiedEmbeddings {
				t.Errorf("output.weight present = %v with tied embeddings = %v", hasOut, c.TiedEmbeddings)
			}
		})
	}
}

// archrefJudgeTol is how far llama.cpp's next-token probabilities may be
// from softmax(PyTorch logits). The judge runs llama.cpp with an F32 KV
// cache and flash attention off (Request.Exact), under which the measured
// difference on these models is 2.1e-6; llama.cpp's defaults (flash
// attention in F16 over an F16 cache) would move them by up to 2.5e-3. A
// converter mistake moves them by 0.06 or more (see
// TestArchrefLlamaCppCatchesMistakes and make.py's negative controls).
const archrefJudgeTol = 1e-5

// TestArchrefLlamaCpp converts each archref model to GGUF and checks that
// llama.cpp computes what the PyTorch reference computed: the same 16
// greedy tokens, and next-token probabilities within archrefJudgeTol of
// softmax(reference logits) for every token of the vocabulary. (make.py
// chose seeds whose greedy steps have a top-2 logit gap of at least 0.05,
// far above the rounding of either side.)
func TestArchrefLlamaCpp(t *testing.T) {
	if _, err := llamacpp.Available(); err != nil && os.Getenv("CI") == "" {
		t.Skipf("skipping: llama.cpp judge unavailable: %v", err)
	}
	for _, v := range archrefVariants {
		t.Run(v, func(t *testing.T) {
			fx := readArchrefFixture(t, v)
			path := archrefGGUF(t, v, nil)
			for pi, p := range fx.Prompts {
				ans := llamacpp.Run(t, llamacpp.Request{Model: path, Tokens: p.IDs, NPredict: len(p.Greedy),
					ContextSize: 64, Probabilities: true, IgnoreEOS: true}.Exact())
				if !slices.Equal(ans.Generated, p.Greedy) {
					t.Errorf("prompt %d: llama.cpp greedy %v, PyTorch %v", pi, ans.Generated, p.Greedy)
				}
				worst, at, got, want := archrefProbDiff(t, ans, p.Logits[len(p.Logits)-1])
				t.Logf("prompt %d (%d ids): max |p_llama.cpp - p_torch| = %.2g at token %d (%.4f vs %.4f)",
					pi, len(p.IDs), worst, at, got, want)
				if worst > archrefJudgeTol {
					t.Errorf("prompt %d: next-token probability of token %d: llama.cpp %.6f, PyTorch %.6f (|diff| %.2g > %g)",
						pi, at, got, want, worst, archrefJudgeTol)
				}
			}
		})
	}
}

// TestArchrefLlamaCppCatchesMistakes shows that the comparison above would
// catch converter bugs: a GGUF without rope_freqs for llama3 scaling, and
// one with Q/K rows left in Hugging Face's order, must each change the
// greedy tokens or move llama.cpp's probabilities far (10x) outside the
// tolerance. (Both do both today.)
func TestArchrefLlamaCppCatchesMistakes(t *testing.T) {
	if _, err := llamacpp.Available(); err != nil && os.Getenv("CI") == "" {
		t.Skipf("skipping: llama.cpp judge unavailable: %v", err)
	}
	cases := []struct {
		name, variant string
		spoil         func(t *testing.T, m *Model)
	}{
		{"no-rope-freqs", "llama3-rope", func(t *testing.T, m *Model) { m.Config.RopeScaling = "" }},
		{"unpermuted-qk", "llama", func(t *testing.T, m *Model) {
			n := 0
			for _, tt := range m.Tensors {
				nHead := 0
				switch {
				case strings.HasSuffix(tt.Name, ".attn_q.weight"):
					nHead = m.Config.HeadCount
				case strings.HasSuffix(tt.Name, ".attn_k.weight"):
					nHead = m.Config.HeadCountKV
				default:
					continue
				}
				read, rows := tt.read, int(tt.Shape[0])
				tt.read = func() ([]byte, error) {
					src, err := read()
					if err != nil {
						return nil, err
					}
					dst := make([]byte, len(src))
					return dst, hf.UnpermuteRows(dst, src, nHead, rows, len(src)/rows)
				}
				n++
			}
			if n != 2*m.Config.BlockCount {
				t.Fatalf("spoiled %d q/k tensors, want %d", n, 2*m.Config.BlockCount)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fx := readArchrefFixture(t, c.variant)
			p := fx.Prompts[len(fx.Prompts)-1]
			path := archrefGGUF(t, c.variant, c.spoil)
			ans := llamacpp.Run(t, llamacpp.Request{Model: path, Tokens: p.IDs, NPredict: len(p.Greedy),
				ContextSize: 64, Probabilities: true, IgnoreEOS: true}.Exact())
			worst, at, got, want := archrefProbDiff(t, ans, p.Logits[len(p.Logits)-1])
			same := slices.Equal(ans.Generated, p.Greedy)
			t.Logf("%s: max |p_llama.cpp - p_torch| = %.2g at token %d (%.4f vs %.4f); greedy %v, reference %v",
				c.name, worst, at, got, want, ans.Generated, p.Greedy)
			if same && worst < 1e-2 {
				t.Errorf("%s: same greedy tokens and probabilities within %.2g: TestArchrefLlamaCpp would not catch this mistake", c.name, worst)
			}
		})
	}
}

// archrefGGUF converts a variant to GGUF in a temporary folder, after
// spoil (when not nil) has changed the opened model.
func archrefGGUF(t *testing.T, variant string, spoil func(*testing.T, *Model)) string {
	t.Helper()
	m, err := Open(archrefDir(variant), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if spoil != nil {
		spoil(t, m)
	}
	path := filepath.Join(t.TempDir(), variant+".gguf")
	if err := WriteGGUF(m, path, nil); err != nil {
		t.Fatal(err)
	}
	return path
}

// archrefProbDiff compares llama.cpp's first next-token distribution with
// softmax(logits) over the whole vocabulary (a token llama.cpp does not
// list counts as probability 0). It returns the largest difference and
// where it is.
func archrefProbDiff(t *testing.T, ans *llamacpp.Answer, logits []json.Number) (worst float64, at int, got, want float64) {
	t.Helper()
	if len(ans.Probs) == 0 {
		t.Fatal("llama.cpp returned no probabilities")
	}
	ref := softmax64(float32s(t, logits))
	cpp := make([]float64, len(ref))
	for _, e := range ans.Probs[0] {
		id := int(e[0])
		if id < 0 || id >= len(cpp) {
			t.Fatalf("llama.cpp token id %d out of range [0, %d)", id, len(cpp))
		}
		cpp[id] = e[1]
	}
	for i := range ref {
		if d := math.Abs(cpp[i] - ref[i]); d > worst {
			worst, at = d, i
		}
	}
	return worst, at, cpp[at], ref[at]
}
