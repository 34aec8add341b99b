package tokenizer

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lmc-project/lmc/internal/shared"
)

func TestReadHFTokenizerByteLevel(t *testing.T) {
	tests := []struct {
		dir       string
		pre       string
		nTokens   int
		nMerges   int
		specials  map[string]int           // token → id, all control tokens
		user      map[string]int           // user-defined tokens
		bos, eos  int                      // -1 when absent
		pad       int                      //
		addBOS    *bool                    // nil: not set
		templateH string                   // a substring of the chat template
		merge0    string                   // first merge
		extra     func(*testing.T, *Vocab) // further checks
	}{
		{
			dir: "tokenizers/llama3", pre: PreLlamaBPE, nTokens: 128256, nMerges: 280147,
			specials: map[string]int{"<|begin_of_text|>": 128000, "<|end_of_text|>": 128001, "<|eot_id|>": 128009, "<|reserved_special_token_250|>": 128255},
			bos:      128000, eos: 128001, pad: -1, templateH: "<|start_header_id|>", merge0: "Ġ Ġ",
		},
		{
			dir: "tokenizers/qwen3", pre: PreQwen2, nTokens: 151669, nMerges: 151387,
			specials: map[string]int{"<|endoftext|>": 151643, "<|im_start|>": 151644, "<|im_end|>": 151645},
			user:     map[string]int{"<think>": 151667, "</think>": 151668, "<tool_call>": 151657},
			bos:      -1, eos: 151645, pad: 151643, addBOS: new(false), templateH: "<|im_start|>", merge0: "Ġ Ġ",
		},
		{
			dir: "testdata/gpt2-hf-pairs", pre: PreDefault, nTokens: 8, nMerges: 3,
			specials: map[string]int{"<|bos|>": 5}, user: map[string]int{"<think>": 6},
			bos: 5, eos: 5, pad: -1, addBOS: new(true), merge0: "a b",
			extra: func(t *testing.T, v *Vocab) {
				// A space inside a pair half is written U+0120, as gguf-py does.
				if v.Merges[2] != "a\u0120b c" {
					t.Errorf("merge 2 = %q", v.Merges[2])
				}
				// config.json's vocab_size pads with unused tokens.
				if v.Tokens[7] != "[PAD7]" || v.Types[7] != TypeUnused {
					t.Errorf("token 7 = %q %v", v.Tokens[7], v.Types[7])
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.dir, func(t *testing.T) {
			dir := tc.dir
			if !strings.HasPrefix(dir, "testdata") {
				dir = filepath.Dir(shared.Path(t, tc.dir+"/tokenizer.json"))
			}
			v, err := ReadHFTokenizer(dir)
			if err != nil {
				t.Fatal(err)
			}
			if v.Model != ModelGPT2 || v.Pre != tc.pre {
				t.Errorf("model %q pre %q, want gpt2 %q", v.Model, v.Pre, tc.pre)
			}
			if len(v.Tokens) != tc.nTokens || len(v.Merges) != tc.nMerges {
				t.Errorf("%d tokens %d merges, want %d %d", len(v.Tokens), len(v.Merges), tc.nTokens, tc.nMerges)
			}
			if v.Scores != nil {
				t.Error("gpt2 vocab has scores")
			}
			for tok, id := range tc.specials {
				if v.Tokens[id] != tok || v.Types[id] != TypeControl {
					t.Errorf("token %d = %q %v, want %q control", id, v.Tokens[id], v.Types[id], tok)
				}
			}
			for tok, id := range tc.user {
				if v.Tokens[id] != tok || v.Types[id] != TypeUserDefined {
					t.Errorf("token %d = %q %v, want %q user-defined", id, v.Tokens[id], v.Types[id], tok)
				}
			}
			if v.BOS != tc.bos || v.EOS != tc.eos || v.PAD != tc.pad || v.UNK != -1 {
				t.Errorf("bos/eos/pad/unk = %d/%d/%d/%d, want %d/%d/%d/-1", v.BOS, v.EOS, v.PAD, v.UNK, tc.bos, tc.eos, tc.pad)
			}
			if (tc.addBOS == nil) == v.AddBOSSet || (tc.addBOS != nil && *tc.addBOS != v.AddBOS) {
				t.Errorf("AddBOS %v set %v, want %v", v.AddBOS, v.AddBOSSet, tc.addBOS)
			}
			if !strings.Contains(v.ChatTemplate, tc.templateH) {
				t.Errorf("chat template %.60q lacks %q", v.ChatTemplate, tc.templateH)
			}
			if v.Merges[0] != tc.merge0 {
				t.Errorf("merge 0 = %q, want %q", v.Merges[0], tc.merge0)
			}
			if tc.extra != nil {
				tc.extra(t, v)
			}
			// The writer's output reads back the same.
			out := t.TempDir()
			if err := WriteHFTokenizer(out, v); err != nil {
				t.Fatal(err)
			}
			v2, err := ReadHFTokenizer(out)
			if err != nil {
				t.Fatal(err)
			}
			if tc.dir == "testdata/gpt2-hf-pairs" {
				// tokenizer.json cannot say "unused".
				if v2.Types[7] != TypeNormal {
					t.Errorf("[PAD7] read back as %v", v2.Types[7])
				}
				v2.Types[7] = TypeUnused
			}
			if d := diffVocab(v, v2); d != "" {
				t.Fatal(d)
			}
		})
	}
}

// Llama 3's tokens are GPT-2's byte-level alphabet: every token of the
// original GPT-2 vocabulary that Llama 3 has must spell the same bytes.
func TestGPT2FilesMatchLlamaCpp(t *testing.T) {
	v, err := ReadGPT2Files(shared.Path(t, "tokenizers/gpt2"))
	if err != nil {
		t.Fatal(err)
	}
	g := readTestGGUF(t, shared.Path(t, "tokenizers/llamacpp_vocab/ggml-vocab-gpt-2.gguf"))
	checkAgainstGGUF(t, v, g, false)
	if len(v.Merges) != 50000 || v.Pre != PreGPT2 {
		t.Errorf("%d merges, pre %q", len(v.Merges), v.Pre)
	}
}

func TestReadHFTokenizerSentencePiece(t *testing.T) {
	dir := filepath.Dir(shared.Path(t, "models/books5M/hf/tokenizer.model"))
	v, err := ReadHFTokenizer(dir)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := ReadSentencePiece(shared.Path(t, "models/stories260K/tok512.model"))
	if err != nil {
		t.Fatal(err)
	}
	// tokenizer_config.json says add_bos_token true, add_eos_token false;
	// the rest is tok512.model.
	want := sp.clone()
	want.AddBOS, want.AddBOSSet, want.AddEOS, want.AddEOSSet = true, true, false, true
	if d := diffVocab(v, want); d != "" {
		t.Fatal(d)
	}
	// Written back like a Llama 2 checkpoint: the same tokenizer.model bytes.
	out := t.TempDir()
	if err := WriteHFTokenizer(out, v); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(out, "tokenizer.model"))
	orig, _ := os.ReadFile(filepath.Join(dir, "tokenizer.model"))
	if !bytes.Equal(got, orig) {
		t.Error("tokenizer.model not reproduced")
	}
	if _, err := os.Stat(filepath.Join(out, "tokenizer.json")); err == nil {
		t.Error("a llama vocabulary should not get a tokenizer.json")
	}
	v2, err := ReadHFTokenizer(out)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffVocab(v, v2); d != "" {
		t.Fatal(d)
	}
}

func TestReadHFTokenizerLlamaJSON(t *testing.T) {
	v, err := ReadHFTokenizer("testdata/llama-hf-json")
	if err != nil {
		t.Fatal(err)
	}
	want := NewVocab(ModelLlama)
	want.Tokens = []string{"<unk>", "<s>", "</s>", "<0x0A>", "<0x41>", "\u2581", "a", "b", "\u2581a", "<|user|>"}
	want.Types = []TokenType{TypeUnknown, TypeControl, TypeControl, TypeByte, TypeByte, 1, 1, 1, 1, TypeUserDefined}
	want.Scores = slices.Repeat([]float32{-1000}, 10) // as llama.cpp's LlamaHfVocab
	want.UNK, want.BOS, want.EOS, want.PAD = 0, 1, 2, 2
	want.AddBOS, want.AddBOSSet, want.AddEOSSet = true, true, true
	want.AddSpacePrefix = true
	want.ChatTemplate = "{{ x }}"
	if d := diffVocab(v, want); d != "" {
		t.Fatal(d)
	}
	// It can be written as SentencePiece and read back.
	out := t.TempDir()
	if err := WriteHFTokenizer(out, v); err != nil {
		t.Fatal(err)
	}
	v2, err := ReadHFTokenizer(out)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffVocab(v, v2); d != "" {
		t.Fatal(d)
	}
}

func TestReadHFTokenizerErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadHFTokenizer(dir); !os.IsNotExist(err) && !strings.Contains(err.Error(), "neither") {
		t.Errorf("empty dir: %v", err)
	}
	tests := []struct {
		name, json string
	}{
		{"syntax", `{"model": {"type": "BPE",`},
		{"wordpiece", `{"model": {"type": "WordPiece", "vocab": {"a": 0}}}`},
		{"negative id", `{"model": {"type": "BPE", "vocab": {"a": -1}, "merges": []}, "decoder": {"type": "ByteLevel"}}`},
		{"huge id", `{"model": {"type": "BPE", "vocab": {"a": 999999999}, "merges": []}, "decoder": {"type": "ByteLevel"}}`},
		{"bad merge", `{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [["a"]]}, "decoder": {"type": "ByteLevel"}}`},
		{"bad merge string", `{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["ab"]}, "decoder": {"type": "ByteLevel"}}`},
		{"duplicate id", `{"model": {"type": "BPE", "vocab": {"a": 0, "b": 0}, "merges": []}, "decoder": {"type": "ByteLevel"}}`},
		{"added gap", `{"added_tokens": [{"id": 5, "content": "<x>"}], "model": {"type": "BPE", "byte_fallback": true, "vocab": {"a": 0}}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := t.TempDir()
			if err := os.WriteFile(filepath.Join(d, "tokenizer.json"), []byte(tc.json), 0o644); err != nil {
				t.Fatal(err)
			}
			v, err := ReadHFTokenizer(d)
			if err == nil {
				t.Fatalf("accepted: %+v", v)
			}
			if !strings.Contains(err.Error(), "tokenizer.json") {
				t.Errorf("error %v does not name the file", err)
			}
		})
	}
}

func TestDetectPre(t *testing.T) {
	for _, tc := range []struct{ json, want string }{
		{`{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}`, PreGPT2},
		{`{"type": "ByteLevel", "add_prefix_space": false}`, PreGPT2},
		{`{"type": "ByteLevel", "use_regex": false}`, PreDefault},
		{`{"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "x"}}, {"type": "ByteLevel", "use_regex": false}]}`, PreDefault},
		{`null`, PreDefault},
	} {
		if got := detectPre([]byte(tc.json)); got != tc.want {
			t.Errorf("detectPre(%s) = %q, want %q", tc.json, got, tc.want)
		}
	}
	for re, pre := range preByRegex {
		j := `{"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": ` + jsonString(re) + `}}, {"type": "ByteLevel", "use_regex": false}]}`
		if got := detectPre([]byte(j)); got != pre {
			t.Errorf("regex for %s detected as %q", pre, got)
		}
	}
}

func TestLlamaJSONSpacePrefix(t *testing.T) {
	orig, err := os.ReadFile("testdata/llama-hf-json/tokenizer.json")
	if err != nil {
		t.Fatal(err)
	}
	const norm = `"normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"}, {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]},`
	if !bytes.Contains(orig, []byte(norm)) {
		t.Fatal("fixture changed")
	}
	for _, tc := range []struct {
		name, replace string
		want          bool
	}{
		{"prepend normalizer", norm, true},
		{"no normalizer", `"normalizer": null,`, false},
		{"metaspace first", `"normalizer": null, "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": false},`, true},
		{"metaspace never", `"normalizer": null, "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "never", "split": false},`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := bytes.Replace(orig, []byte(norm), []byte(tc.replace), 1)
			j = bytes.Replace(j, []byte(`"pre_tokenizer": null,`), nil, bytes.Count([]byte(tc.replace), []byte("pre_tokenizer")))
			d := t.TempDir()
			if err := os.WriteFile(filepath.Join(d, "tokenizer.json"), j, 0o644); err != nil {
				t.Fatal(err)
			}
			v, err := ReadHFTokenizer(d)
			if err != nil {
				t.Fatal(err)
			}
			if v.AddSpacePrefix != tc.want {
				t.Errorf("AddSpacePrefix = %v, want %v", v.AddSpacePrefix, tc.want)
			}
		})
	}
}
