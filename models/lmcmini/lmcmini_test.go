package lmcmini_test

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"os"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lmc-project/lmc/models/lmcmini"
	"github.com/lmc-project/lmc/tokenizer/bpetrain"
)

const (
	dim, layers, heads, kvHeads, headDim, ffn, vocab = 256, 6, 4, 2, 64, 768, 2048
	bos                                              = 2047
)

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := fs.ReadFile(lmcmini.FS, name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func TestConfig(t *testing.T) {
	var c map[string]any
	readJSON(t, "config.json", &c)
	want := map[string]any{
		"hidden_size": dim, "num_hidden_layers": layers, "num_attention_heads": heads, "num_key_value_heads": kvHeads,
		"head_dim": headDim, "intermediate_size": ffn, "vocab_size": vocab, "max_position_embeddings": 512,
		"rms_norm_eps": 1e-5, "rope_theta": 10000, "bos_token_id": bos, "eos_token_id": bos,
	}
	for k, v := range want {
		got, ok := c[k].(float64)
		if !ok || got != float64(toF(v)) {
			t.Errorf("config %s = %v, want %v", k, c[k], v)
		}
	}
	if c["tie_word_embeddings"] != false || c["torch_dtype"] != "bfloat16" || c["model_type"] != "llama" {
		t.Errorf("config tie/dtype/type: %v %v %v", c["tie_word_embeddings"], c["torch_dtype"], c["model_type"])
	}
	var tc map[string]any
	readJSON(t, "tokenizer_config.json", &tc)
	if tc["add_bos_token"] != true || tc["bos_token"] != "<|endoftext|>" {
		t.Errorf("tokenizer_config add_bos_token %v bos %v", tc["add_bos_token"], tc["bos_token"])
	}
}

func toF(v any) float64 {
	switch x := v.(type) {
	case int:
		return float64(x)
	case float64:
		return x
	}
	return math.NaN()
}

// TestSafetensors checks the file layout by hand: header length, padding,
// names, dtypes, shapes, and contiguous in-bounds offsets.
func TestSafetensors(t *testing.T) {
	b, err := fs.ReadFile(lmcmini.FS, "model.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(b)
	if n%8 != 0 || 8+n > uint64(len(b)) {
		t.Fatalf("header length %d (file %d)", n, len(b))
	}
	var h map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+n], &h); err != nil {
		t.Fatal(err)
	}
	if string(h["__metadata__"]) != `{"format":"pt"}` {
		t.Errorf("metadata %s", h["__metadata__"])
	}
	delete(h, "__metadata__")
	want := map[string][]int{"model.embed_tokens.weight": {vocab, dim}, "model.norm.weight": {dim}, "lm_head.weight": {vocab, dim}}
	for l := 0; l < layers; l++ {
		p := fmt.Sprintf("model.layers.%d.", l)
		want[p+"self_attn.q_proj.weight"] = []int{heads * headDim, dim}
		want[p+"self_attn.k_proj.weight"] = []int{kvHeads * headDim, dim}
		want[p+"self_attn.v_proj.weight"] = []int{kvHeads * headDim, dim}
		want[p+"self_attn.o_proj.weight"] = []int{dim, heads * headDim}
		want[p+"mlp.gate_proj.weight"] = []int{ffn, dim}
		want[p+"mlp.up_proj.weight"] = []int{ffn, dim}
		want[p+"mlp.down_proj.weight"] = []int{dim, ffn}
		want[p+"input_layernorm.weight"] = []int{dim}
		want[p+"post_attention_layernorm.weight"] = []int{dim}
	}
	if len(h) != len(want) {
		t.Errorf("%d tensors, want %d", len(h), len(want))
	}
	type span struct {
		name       string
		start, end int
	}
	var spans []span
	params := 0
	for name, raw := range h {
		var ti struct {
			Dtype       string `json:"dtype"`
			Shape       []int  `json:"shape"`
			DataOffsets [2]int `json:"data_offsets"`
		}
		if err := json.Unmarshal(raw, &ti); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ws, ok := want[name]
		if !ok || ti.Dtype != "BF16" || fmt.Sprint(ti.Shape) != fmt.Sprint(ws) {
			t.Errorf("%s: %s %v, want BF16 %v", name, ti.Dtype, ti.Shape, ws)
			continue
		}
		elems := 1
		for _, d := range ti.Shape {
			elems *= d
		}
		params += elems
		if ti.DataOffsets[1]-ti.DataOffsets[0] != 2*elems {
			t.Errorf("%s: %d bytes for %d elements", name, ti.DataOffsets[1]-ti.DataOffsets[0], elems)
		}
		spans = append(spans, span{name, ti.DataOffsets[0], ti.DataOffsets[1]})
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	off := 0
	for i, s := range spans {
		if s.start != off {
			t.Fatalf("%s starts at %d, want %d", s.name, s.start, off)
		}
		if i > 0 && spans[i-1].name > s.name {
			t.Errorf("tensors not in name order: %s before %s", spans[i-1].name, s.name)
		}
		off = s.end
	}
	if uint64(off)+8+n != uint64(len(b)) {
		t.Errorf("data ends at %d, file has %d", uint64(off)+8+n, len(b))
	}
	if params != 5770496 {
		t.Errorf("%d parameters", params)
	}
}

type fixtures struct {
	BOS     int `json:"bos_id"`
	Prompts []struct {
		Text       string    `json:"text"`
		IDs        []int     `json:"ids"`
		LastLogits []float32 `json:"last_logits"`
		GreedyIDs  []int     `json:"greedy_ids"`
		GreedyText string    `json:"greedy_text"`
	} `json:"prompts"`
}

// TestTokenizerAndFixtures loads the embedded tokenizer.json with bpetrain
// and checks it against fixtures.json (written by export.py from the ids
// prepare/main.go produced): prompt ids, greedy text, and argmax of the logits.
func TestTokenizerAndFixtures(t *testing.T) {
	b, err := fs.ReadFile(lmcmini.FS, "tokenizer.json")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := bpetrain.ParseHF(b)
	if err != nil {
		t.Fatal(err)
	}
	if tok.VocabSize() != vocab {
		t.Fatalf("vocab %d", tok.VocabSize())
	}
	if id, ok := tok.ID("<|endoftext|>"); !ok || id != bos || !tok.IsSpecial(id) {
		t.Fatalf("<|endoftext|> = %d %v", id, ok)
	}
	var fx fixtures
	raw, err := os.ReadFile("fixtures.json") // beside the package, not embedded
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
	if len(fx.Prompts) < 2 || fx.BOS != bos {
		t.Fatalf("%d fixture prompts, bos %d", len(fx.Prompts), fx.BOS)
	}
	for _, p := range fx.Prompts {
		ids := append([]int{bos}, tok.Encode(p.Text)...)
		if fmt.Sprint(ids) != fmt.Sprint(p.IDs) {
			t.Errorf("%q: ids %v, fixture %v", p.Text, ids, p.IDs)
		}
		if len(p.LastLogits) != vocab || len(p.GreedyIDs) != 32 {
			t.Fatalf("%q: %d logits, %d greedy ids", p.Text, len(p.LastLogits), len(p.GreedyIDs))
		}
		best := 0
		for i, v := range p.LastLogits {
			if v > p.LastLogits[best] {
				best = i
			}
		}
		if best != p.GreedyIDs[0] {
			t.Errorf("%q: argmax %d, first greedy id %d", p.Text, best, p.GreedyIDs[0])
		}
		text := tok.DecodeString(p.GreedyIDs)
		if utf8.ValidString(text) && text != p.GreedyText {
			t.Errorf("%q: greedy text %q, fixture %q", p.Text, text, p.GreedyText)
		}
	}
}

func TestFilesPresent(t *testing.T) {
	var names []string
	if err := fs.WalkDir(lmcmini.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, p)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(names, " ")
	if got != "config.json generation_config.json model.safetensors special_tokens_map.json tokenizer.json tokenizer_config.json" {
		t.Errorf("embedded files: %s", got)
	}
}

func Example() {
	cfg, err := fs.ReadFile(lmcmini.FS, "config.json")
	if err != nil {
		panic(err)
	}
	var c struct {
		Hidden int `json:"hidden_size"`
		Layers int `json:"num_hidden_layers"`
		Vocab  int `json:"vocab_size"`
	}
	if err := json.Unmarshal(cfg, &c); err != nil {
		panic(err)
	}
	fmt.Println(lmcmini.Name, c.Hidden, c.Layers, c.Vocab)
	// Output: lmc-mini 256 6 2048
}
