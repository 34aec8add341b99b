package tokenizer_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/lmc-project/lmc/gguf"
	"github.com/lmc-project/lmc/internal/shared"
	"github.com/lmc-project/lmc/modelfile"
	"github.com/lmc-project/lmc/tokenizer"
)

// readVectors reads llama.cpp's test-tokenizer-0 files: NAME.inp holds the
// inputs, each followed by "\n__ggml_vocab_test__\n"; NAME.out one line of
// space-separated ids per input.
func readVectors(t testing.TB, base string) ([]string, [][]int) {
	t.Helper()
	inp, err := os.ReadFile(base + ".inp")
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(base + ".out")
	if err != nil {
		t.Fatal(err)
	}
	const sep = "\n__ggml_vocab_test__\n"
	var inputs []string
	for s := string(inp); s != ""; {
		i := strings.Index(s, sep)
		if i < 0 {
			inputs = append(inputs, s)
			break
		}
		inputs = append(inputs, s[:i])
		s = s[i+len(sep):]
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(inputs) {
		t.Fatalf("%s: %d inputs, %d outputs", base, len(inputs), len(lines))
	}
	ids := make([][]int, len(lines))
	for i, l := range lines {
		for _, f := range strings.Fields(l) {
			id, err := strconv.Atoi(f)
			if err != nil {
				t.Fatalf("%s.out line %d: %v", base, i+1, err)
			}
			ids[i] = append(ids[i], id)
		}
	}
	return inputs, ids
}

var (
	hfMu    sync.Mutex
	hfToken = map[string]*tokenizer.Tokenizer{} // dir -> tokenizer
)

// hfTokenizer loads (once) the tokenizer.json in shared/tokenizers/name.
func hfTokenizer(t testing.TB, name string) *tokenizer.Tokenizer {
	t.Helper()
	dir := filepath.Dir(shared.Path(t, "tokenizers/"+name+"/tokenizer.json"))
	hfMu.Lock()
	defer hfMu.Unlock()
	if tk := hfToken[dir]; tk != nil {
		return tk
	}
	v, err := tokenizer.ReadHFTokenizer(dir)
	if err != nil {
		t.Fatal(err)
	}
	tk, err := tokenizer.New(v)
	if err != nil {
		t.Fatal(err)
	}
	hfToken[dir] = tk
	return tk
}

// ggufTokenizer loads the vocabulary of a llama.cpp vocab-only GGUF.
func ggufTokenizer(t testing.TB, path string) (*tokenizer.Tokenizer, error) {
	t.Helper()
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v, err := modelfile.VocabFromGGUF(f)
	if err != nil {
		return nil, err
	}
	return tokenizer.New(v)
}

// vectorSources says where the vocabulary of each test set comes from when
// shared/ has no GGUF for it: the test sets were made with the same
// tokenizer (Llama 3 for llama-bpe; Qwen2's vocabulary, which Qwen3 and
// DeepSeek-R1-Distill-Qwen share, for qwen2 and deepseek-r1-qwen).
var vectorSources = map[string]string{
	"llama-bpe":        "llama3",
	"qwen2":            "qwen3",
	"deepseek-r1-qwen": "qwen3",
}

// skipReasons names what lmc lacks for the remaining test sets.
var skipReasons = map[string]string{
	"bert-bge":    "WPM (BERT WordPiece) tokenizer: tokenizer.Vocab carries only llama and gpt2 models",
	"chameleon":   "no vocabulary in shared/ (and the chameleon pre-tokenizer is not implemented)",
	"command-r":   "no vocabulary in shared/ (Command-R)",
	"roberta-bpe": "no vocabulary in shared/ (RoBERTa)",
}

// TestLlamaCppVectors runs llama.cpp's test-tokenizer-0 vectors: every
// input tokenized with add_special=false, parse_special=false must give
// exactly the expected ids, and decode back to the input.
func TestLlamaCppVectors(t *testing.T) {
	dir := filepath.Dir(shared.Path(t, "tokenizers/llamacpp_vocab/ggml-vocab-llama-spm.gguf"))
	inps, err := filepath.Glob(filepath.Join(dir, "*.gguf.inp"))
	if err != nil || len(inps) < 10 {
		t.Fatalf("found %d test sets in %s (%v)", len(inps), dir, err)
	}
	for _, inp := range inps {
		base := strings.TrimSuffix(inp, ".inp")
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(base), "ggml-vocab-"), ".gguf")
		t.Run(name, func(t *testing.T) {
			var tk *tokenizer.Tokenizer
			if _, err := os.Stat(base); err == nil {
				tk, err = ggufTokenizer(t, base)
				if err != nil {
					if r, ok := skipReasons[name]; ok {
						t.Skipf("skipping %s: %s (%v)", name, r, err)
					}
					t.Fatal(err)
				}
			} else if src, ok := vectorSources[name]; ok {
				tk = hfTokenizer(t, src)
			} else {
				t.Skipf("skipping %s: %s", name, skipReasons[name])
			}
			inputs, want := readVectors(t, base)
			for i, in := range inputs {
				got := tk.Encode(in, false)
				if !equalInts(got, want[i]) {
					t.Errorf("input %d %q:\n got %v\nwant %v", i, in, got, want[i])
					continue
				}
				if dec := tk.Decode(got); dec != in {
					t.Errorf("input %d %q: decodes to %q", i, in, dec)
				}
			}
		})
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
