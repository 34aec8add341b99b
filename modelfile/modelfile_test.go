package modelfile

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	parser "github.com/gpustack/gguf-parser-go"

	"github.com/lmc-project/lmc/gguf"
	"github.com/lmc-project/lmc/internal/llamacpp"
	"github.com/lmc-project/lmc/internal/shared"
	"github.com/lmc-project/lmc/safetensors"
	"github.com/lmc-project/lmc/tensor"
)

// sameTensors checks that every tensor of want is in got with the same
// type, shape and bytes.
func sameTensors(t *testing.T, got, want *gguf.File) {
	t.Helper()
	if len(got.Tensors) != len(want.Tensors) {
		t.Errorf("%d tensors, want %d", len(got.Tensors), len(want.Tensors))
	}
	for _, wt := range want.Tensors {
		gt, ok := got.Tensor(wt.Name)
		if !ok {
			t.Errorf("tensor %s missing", wt.Name)
			continue
		}
		if gt.Type != wt.Type || !reflect.DeepEqual(gt.Shape, wt.Shape) {
			t.Errorf("tensor %s: %v %v, want %v %v", wt.Name, gt.Type, gt.Shape, wt.Type, wt.Shape)
			continue
		}
		gb, _ := got.Data(wt.Name)
		wb, _ := want.Data(wt.Name)
		if !bytes.Equal(gb, wb) {
			t.Errorf("tensor %s: data differs", wt.Name)
		}
	}
}

// checkIndependentReader parses a GGUF lmc wrote with gpustack's
// gguf-parser-go and compares its view with lmc's.
func checkIndependentReader(t *testing.T, path string) {
	t.Helper()
	pf, err := parser.ParseGGUFFile(path)
	if err != nil {
		t.Fatalf("gguf-parser-go cannot read %s: %v", path, err)
	}
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if int(pf.Header.TensorCount) != len(f.Tensors) || int(pf.Header.MetadataKVCount) != len(f.KVs) {
		t.Fatalf("gguf-parser-go: %d tensors %d kvs; lmc: %d tensors %d kvs", pf.Header.TensorCount, pf.Header.MetadataKVCount, len(f.Tensors), len(f.KVs))
	}
	for i, ti := range pf.TensorInfos {
		lt := f.Tensors[i]
		if ti.Name != lt.Name || uint32(ti.Type) != uint32(lt.Type) || ti.Offset != lt.Offset || !reflect.DeepEqual(ti.Dimensions, lt.Shape) {
			t.Errorf("tensor %d: gguf-parser-go %s %v %v @%d; lmc %s %v %v @%d", i, ti.Name, ti.Type, ti.Dimensions, ti.Offset, lt.Name, lt.Type, lt.Shape, lt.Offset)
		}
	}
}

func TestBooks5MHFToGGUF(t *testing.T) {
	hfDir := shared.Path(t, "models/books5M/hf")
	refPath := shared.Path(t, "models/books5M/books5M-f32.gguf")
	m, err := Open(hfDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	out := filepath.Join(t.TempDir(), "books5M.gguf")
	if err := WriteGGUF(m, out, &WriteOptions{DType: tensor.F32}); err != nil {
		t.Fatal(err)
	}
	got, err := gguf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	ref, err := gguf.Open(refPath)
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	sameTensors(t, got, ref)
	// The metadata llama.cpp needs to run it.
	for _, key := range []string{"general.architecture", "llama.context_length", "llama.embedding_length",
		"llama.feed_forward_length", "llama.attention.head_count", "llama.attention.head_count_kv",
		"llama.block_count", "llama.rope.dimension_count", "llama.attention.layer_norm_rms_epsilon",
		"tokenizer.ggml.model", "tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type",
		"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.unknown_token_id"} {
		gv, ok1 := got.Get(key)
		rv, ok2 := ref.Get(key)
		if !ok1 || !ok2 || gv.String() != rv.String() {
			t.Errorf("metadata %s = %v, want %v", key, gv, rv)
		}
	}
	checkIndependentReader(t, out)

	// llama.cpp runs it and continues "Once upon a time" as recorded.
	var fx struct {
		Prompts []struct {
			Prompt    string `json:"prompt"`
			IDs       []int  `json:"ids"`
			GreedyIDs []int  `json:"greedy_ids"`
		} `json:"prompts"`
	}
	b, err := os.ReadFile(shared.Path(t, "models/books5M/fixtures/fixtures.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatal(err)
	}
	p := fx.Prompts[0]
	ans := llamacpp.Run(t, llamacpp.Request{Model: out, Prompt: p.Prompt, NPredict: len(p.GreedyIDs), IgnoreEOS: true})
	if !reflect.DeepEqual(ans.PromptTokens, p.IDs) {
		t.Errorf("llama.cpp tokenized %q as %v, want %v", p.Prompt, ans.PromptTokens, p.IDs)
	}
	if !reflect.DeepEqual(ans.Generated, p.GreedyIDs) {
		t.Errorf("llama.cpp greedy = %v\nwant %v", ans.Generated, p.GreedyIDs)
	}
}

func TestStories260KLlama2cToGGUF(t *testing.T) {
	bin := shared.Path(t, "models/stories260K/stories260K.bin")
	tok := shared.Path(t, "models/stories260K/tok512.bin")
	refPath := shared.Path(t, "models/stories260K/stories260K.gguf")
	m, err := Open(bin, &OpenOptions{Tokenizer: tok})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	out := filepath.Join(t.TempDir(), "s.gguf")
	if err := WriteGGUF(m, out, nil); err != nil {
		t.Fatal(err)
	}
	got, err := gguf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	ref, err := gguf.Open(refPath)
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	sameTensors(t, got, ref)
	for _, key := range []string{"tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type"} {
		gv, _ := got.Get(key)
		rv, _ := ref.Get(key)
		if gv.String() != rv.String() {
			t.Errorf("%s differs", key)
		}
	}
	checkIndependentReader(t, out)
}

// TestStories260KGGUFToHFToGGUF: GGUF → HF → GGUF gives back the same bytes.
func TestStories260KGGUFToHFToGGUF(t *testing.T) {
	src := shared.Path(t, "models/stories260K/stories260K.gguf")
	dir := t.TempDir()
	m, err := Open(src, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	hfDir := filepath.Join(dir, "hf")
	if err := WriteHF(m, hfDir, nil); err != nil {
		t.Fatal(err)
	}
	m2, err := Open(hfDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	out := filepath.Join(dir, "back.gguf")
	if err := WriteGGUF(m2, out, nil); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(src)
	b, _ := os.ReadFile(out)
	if !bytes.Equal(a, b) {
		t.Fatalf("GGUF → HF → GGUF changed the file (%d → %d bytes)", len(a), len(b))
	}
}

// TestSafetensorsRoundTrip: safetensors → GGUF → safetensors keeps every
// tensor bit for bit, for F32, F16 and BF16 models.
func TestSafetensorsRoundTrip(t *testing.T) {
	hfDir := shared.Path(t, "models/books5M/hf")
	for _, dt := range []tensor.DType{tensor.F32, tensor.F16, tensor.BF16} {
		t.Run(dt.String(), func(t *testing.T) {
			dir := t.TempDir()
			m, err := Open(hfDir, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			start := filepath.Join(dir, "start")
			if err := WriteHF(m, start, &WriteOptions{DType: dt}); err != nil {
				t.Fatal(err)
			}
			m1, err := Open(start, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer m1.Close()
			g := filepath.Join(dir, "m.gguf")
			if err := WriteGGUF(m1, g, nil); err != nil {
				t.Fatal(err)
			}
			checkIndependentReader(t, g)
			m2, err := Open(g, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer m2.Close()
			back := filepath.Join(dir, "back")
			if err := WriteHF(m2, back, nil); err != nil {
				t.Fatal(err)
			}
			a, err := safetensors.OpenModel(start)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			b, err := safetensors.OpenModel(back)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			at, bt := a.Tensors(), b.Tensors()
			if len(at) != len(bt) {
				t.Fatalf("%d tensors, want %d", len(bt), len(at))
			}
			for i := range at {
				if at[i].Name != bt[i].Name || at[i].DType != bt[i].DType || !reflect.DeepEqual(at[i].Shape, bt[i].Shape) {
					t.Fatalf("tensor %s %v %v, want %s %v %v", bt[i].Name, bt[i].DType, bt[i].Shape, at[i].Name, at[i].DType, at[i].Shape)
				}
				x, _ := a.Data(at[i].Name)
				y, _ := b.Data(bt[i].Name)
				if !bytes.Equal(x, y) {
					t.Errorf("tensor %s: data differs after the round trip", at[i].Name)
				}
			}
		})
	}
}

func TestShardedHF(t *testing.T) {
	hfDir := shared.Path(t, "models/books5M/hf")
	m, err := Open(hfDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	dir := filepath.Join(t.TempDir(), "sharded")
	if err := WriteHF(m, dir, &WriteOptions{MaxShardBytes: 4 << 20}); err != nil {
		t.Fatal(err)
	}
	shards, _ := filepath.Glob(filepath.Join(dir, "model-*-of-*.safetensors"))
	if len(shards) < 3 {
		t.Fatalf("expected several shards, got %v", shards)
	}
	m2, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	if len(m2.Tensors) != len(m.Tensors) {
		t.Fatalf("sharded model has %d tensors, want %d", len(m2.Tensors), len(m.Tensors))
	}
	for _, tt := range m.Tensors {
		a, _ := tt.Read()
		b, err := m2.Tensor(tt.Name).Read()
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("tensor %s differs in the sharded copy", tt.Name)
		}
	}
}

func TestPickleRefused(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "pytorch_model.bin")
	// A pickle protocol 2 stream: PROTO 2, then opcodes.
	os.WriteFile(p, []byte{0x80, 0x02, 'c', 'o', 's', '\n', 's', 'y', 's', 't', 'e', 'm', '\n', '.'}, 0o644)
	_, err := Open(p, nil)
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("pickle")) {
		t.Fatalf("Open(pickle) = %v, want a refusal that explains pickle", err)
	}
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"architectures":["LlamaForCausalLM"],"hidden_size":64,"intermediate_size":128,"num_hidden_layers":1,"num_attention_heads":4,"vocab_size":10,"max_position_embeddings":8}`), 0o644)
	if _, err := Open(dir, nil); err == nil || !bytes.Contains([]byte(err.Error()), []byte("pickle")) {
		t.Fatalf("Open(folder with pytorch_model.bin) = %v, want a pickle refusal", err)
	}
}

func TestMissingTensorNamed(t *testing.T) {
	hfDir := shared.Path(t, "models/books5M/hf")
	m, err := Open(hfDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var kept []*Tensor
	for _, tt := range m.Tensors {
		if tt.Name != "blk.2.ffn_up.weight" {
			kept = append(kept, tt)
		}
	}
	m.Tensors = kept
	err = m.CheckShapes()
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("blk.2.ffn_up.weight")) || !bytes.Contains([]byte(err.Error()), []byte("[768 256]")) {
		t.Fatalf("CheckShapes = %v, want the missing tensor and its shape named", err)
	}
}

func TestStashRoundTrip(t *testing.T) {
	kvs := []gguf.KV{
		{Key: "general.architecture", Value: gguf.String("llama")},
		{Key: "x.u8", Value: gguf.Uint8(7)}, {Key: "x.i64", Value: gguf.Int64(-1 << 40)},
		{Key: "x.u64", Value: gguf.Uint64(1<<64 - 1)}, {Key: "x.f32", Value: gguf.Float32(1e-5)},
		{Key: "x.f64", Value: gguf.Float64(0.1)}, {Key: "x.b", Value: gguf.Bool(true)},
		{Key: "x.arr", Value: gguf.Int32s([]int32{1, -2, 3})}, {Key: "x.strs", Value: gguf.Strings([]string{"a", "\"b\""})},
		{Key: "tokenizer.ggml.tokens", Value: gguf.Strings([]string{"t0", "t1"})},
	}
	s, err := encodeStash(kvs)
	if err != nil {
		t.Fatal(err)
	}
	back, err := decodeStash(s, []gguf.KV{{Key: "tokenizer.ggml.tokens", Value: gguf.Strings([]string{"t0", "t1"})}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, kvs) {
		t.Fatalf("stash round trip:\n got %v\nwant %v", back, kvs)
	}
}

// TestLmcMiniGGUFInLlamaCpp converts the built-in default model (its HF
// folder in the repo) to GGUF and checks that llama.cpp tokenizes and
// continues the prompts exactly as PyTorch did when the model was made.
func TestLmcMiniGGUFInLlamaCpp(t *testing.T) {
	m, err := Open(filepath.Join("..", "models", "lmcmini"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Vocab == nil || m.Vocab.Model != "gpt2" || m.Vocab.Pre != "gpt-2" || !m.Vocab.AddBOS {
		t.Fatalf("lmc-mini vocab = %+v, want gpt2 / gpt-2 / adds BOS", m.Vocab)
	}
	out := filepath.Join(t.TempDir(), "lmc-mini.gguf")
	if err := WriteGGUF(m, out, nil); err != nil {
		t.Fatal(err)
	}
	checkIndependentReader(t, out)
	f, err := gguf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range f.Tensors {
		if len(ti.Shape) == 1 && ti.Type != gguf.TypeF32 {
			t.Errorf("%s is %v: llama.cpp needs 1-D tensors in F32", ti.Name, ti.Type)
		}
	}
	f.Close()
	var fx struct {
		Prompts []struct {
			Text      string `json:"text"`
			IDs       []int  `json:"ids"`
			GreedyIDs []int  `json:"greedy_ids"`
		} `json:"prompts"`
	}
	b, err := os.ReadFile(filepath.Join("..", "models", "lmcmini", "fixtures.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatal(err)
	}
	for _, p := range fx.Prompts {
		ans := llamacpp.Run(t, llamacpp.Request{Model: out, Prompt: p.Text, NPredict: len(p.GreedyIDs), IgnoreEOS: true})
		if !reflect.DeepEqual(ans.PromptTokens, p.IDs) {
			t.Errorf("llama.cpp tokenized %q as %v, want %v", p.Text, ans.PromptTokens, p.IDs)
		}
		if !reflect.DeepEqual(ans.Generated, p.GreedyIDs) {
			t.Errorf("%q: llama.cpp greedy = %v\nwant (PyTorch) %v", p.Text, ans.Generated, p.GreedyIDs)
		}
	}
}
