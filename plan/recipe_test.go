package plan

import (
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lmc-project/lmc/gguf"
	"github.com/lmc-project/lmc/internal/shared"
)

// fileTypesOf returns the stored type of every tensor of a GGUF file.
func fileTypesOf(t *testing.T, path string) (map[string]gguf.Type, int64) {
	t.Helper()
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	types := map[string]gguf.Type{}
	var bytes int64
	for _, ti := range f.Tensors {
		types[ti.Name] = ti.Type
		bytes += int64(ti.Size())
	}
	return types, bytes
}

// checkRecipe prices src (an unquantized GGUF) with file type ft and checks
// every tensor's type and the total bytes against llama.cpp's file want.
func checkRecipe(t *testing.T, src *Model, ft string, pure bool, want string) {
	t.Helper()
	wantTypes, wantBytes := fileTypesOf(t, want)
	f, err := ParseFileType(ft)
	if err != nil {
		t.Fatal(err)
	}
	qm := src.Arch.QuantModel(src.HasOutput())
	qm.Pure = pure
	for _, ten := range src.Tensors {
		got, err := TensorType(f, ten.Name, ten.Shape, ten.Type, qm)
		if err != nil {
			t.Errorf("%s %s: %v", filepath.Base(want), ten.Name, err)
			continue
		}
		if w, ok := wantTypes[ten.Name]; !ok {
			t.Errorf("%s: no tensor %s", want, ten.Name)
		} else if got != w {
			t.Errorf("%s %s %v: chose %s, llama.cpp stored %s", filepath.Base(want), ten.Name, ten.Shape, got, w)
		}
	}
	spec := ft
	if pure {
		def, _ := f.DefaultType()
		spec = "pure-" + def.String()
	}
	wf, err := ParseWeightFormat(spec)
	if err != nil {
		t.Fatal(err)
	}
	r, err := PriceWeights(src, wf)
	if err != nil {
		t.Fatal(err)
	}
	if r.Bytes != wantBytes {
		t.Errorf("%s: priced %d bytes, file's tensors hold %d", filepath.Base(want), r.Bytes, wantBytes)
	}
}

// TestTensorTypeBooks5M checks the chooser against every llama.cpp
// quantization of books5M: each tensor's type and the total tensor bytes.
func TestTensorTypeBooks5M(t *testing.T) {
	src, err := Load(shared.Path(t, "models/books5M/books5M-f32.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	dir := shared.Path(t, "models/books5M/llamacpp")
	for _, ft := range []string{"q4_k_m", "q4_k_s", "q5_k_m", "q5_k_s", "q3_k_s", "q3_k_m", "q3_k_l",
		"q2_k", "q6_k", "q8_0", "q4_0", "iq4_xs"} {
		t.Run(ft, func(t *testing.T) {
			checkRecipe(t, src, ft, false, shared.Path(t, "models/books5M/llamacpp/books5M-"+ft+".gguf"))
		})
	}
	for _, ft := range []string{"q2_k", "q3_k", "q4_0", "q4_1", "q4_k", "q5_0", "q5_1", "q5_k", "q6_k", "q8_0", "iq4_nl", "iq4_xs"} {
		t.Run("pure-"+ft, func(t *testing.T) {
			f := ft
			switch ft { // the pure files are named after the ggml type
			case "q3_k":
				f = "q3_k_s"
			case "q4_k":
				f = "q4_k_s"
			case "q5_k":
				f = "q5_k_s"
			}
			checkRecipe(t, src, f, true, filepath.Join(dir, "books5M-pure-"+ft+".gguf"))
		})
	}
}

// TestTensorTypeStories260K checks the fallbacks: stories260K's FFN is 172
// wide, so ffn_down rows (172) fit no block type and no k-quant fits its
// rows of 64.
func TestTensorTypeStories260K(t *testing.T) {
	src, err := Load(shared.Path(t, "models/stories260K/stories260K.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	// llama.cpp's own q4_k_m of the unpadded model: every tensor falls back.
	checkRecipe(t, src, "q4_k_m", false, shared.Path(t, "models/stories260K-llamacpp/stories260K-q4_k_m.gguf"))
	wf, _ := ParseWeightFormat("q4_k_m")
	r, err := PriceWeights(src, wf)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Fallbacks) == 0 || !strings.Contains(strings.Join(r.Fallbacks, " "), "blk.0.ffn_down.weight q4_K→f16") {
		t.Errorf("q4_k_m on stories260K: fallbacks %v, want ffn_down q4_K→f16 flagged", r.Fallbacks)
	}

	// Q4_0 and Q8_0 have no fallback: llama.cpp refuses, so does the planner.
	for _, ft := range []string{"q4_0", "q8_0"} {
		f, _ := ParseWeightFormat(ft)
		_, err := PriceWeights(src, f)
		var re *RowError
		if !errors.Is(err, ErrIncompatible) || !errors.As(err, &re) || re.Row != 172 || !strings.Contains(re.Tensor, "ffn_down") {
			t.Errorf("%s on stories260K: err %v, want a RowError for ffn_down rows of 172", ft, err)
		}
	}
	// A pure k-quant cannot store rows of 64.
	f, _ := ParseWeightFormat("pure-q4_K")
	if _, err := PriceWeights(src, f); !errors.Is(err, ErrIncompatible) {
		t.Errorf("pure q4_K on stories260K: err %v, want ErrIncompatible", err)
	}

	// The FFN-padded copy (172 → 192): the mixes llama.cpp made of it.
	pad, err := Load(shared.Path(t, "models/stories260K-llamacpp/stories260K-ff192-f32.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ft := range []string{"q4_k_m", "q4_0", "q8_0"} {
		checkRecipe(t, pad, ft, false, shared.Path(t, "models/stories260K-llamacpp/stories260K-ff192-"+ft+".gguf"))
	}
	checkRecipe(t, pad, "q4_0", true, shared.Path(t, "models/stories260K-llamacpp/stories260K-ff192-q4_0-pure.gguf"))
}

// TestLlama31BitsPerWeight prices llama-quantize's mixes on Llama-3.1-8B's
// shapes and compares with the bits per weight of llama.cpp's quantize
// README (../shared/reference/ANCHORS.md).
func TestLlama31BitsPerWeight(t *testing.T) {
	a, err := Preset("Llama-3.1-8B")
	if err != nil {
		t.Fatal(err)
	}
	m := FromArch(a)
	if got := m.Params(); got != 8030261312 {
		t.Errorf("Llama-3.1-8B: %d parameters, want 8030261312 (8,030,261,248 + rope_freqs)", got)
	}
	for _, c := range []struct {
		ft  string
		bpw float64
	}{
		{"q8_0", 8.5008}, {"q6_k", 6.5633}, {"q5_k_m", 5.7036}, {"q4_k_m", 4.8944}, {"q4_k_s", 4.6672},
		{"iq4_nl", 4.6818}, {"iq4_xs", 4.4597}, {"q3_k_l", 4.2979}, {"q3_k_s", 3.6429}, {"q2_k", 3.1593},
		{"iq2_xxs", 2.3824}, {"iq1_s", 2.0042}, {"f16", 16.0005},
	} {
		f, err := ParseWeightFormat(c.ft)
		if err != nil {
			t.Fatal(err)
		}
		r, err := PriceWeights(m, f)
		if err != nil {
			t.Fatal(err)
		}
		// The README prints 4 decimals: agree to the last one.
		if d := math.Abs(r.BitsPerWeight - c.bpw); d > 0.0001 {
			t.Errorf("%s: %.4f bits per weight, llama.cpp's README says %.4f", c.ft, r.BitsPerWeight, c.bpw)
		} else {
			t.Logf("%-7s %.4f bpw (README %.4f)", c.ft, r.BitsPerWeight, c.bpw)
		}
	}
}

func TestParseFileType(t *testing.T) {
	for _, c := range []struct {
		in   string
		want FileType
		err  bool
	}{
		{"q4_k_m", FileTypeQ4_K_M, false}, {"Q4_K_M", FileTypeQ4_K_M, false}, {"q4_k", FileTypeQ4_K_M, false},
		{"Q5_K", FileTypeQ5_K_M, false}, {"q3_k", FileTypeQ3_K_M, false}, {"iq4_xs", FileTypeIQ4_XS, false},
		{"f16", FileTypeF16, false}, {"bf16", FileTypeBF16, false}, {"q4_k_x", 0, true}, {"", 0, true},
	} {
		got, err := ParseFileType(c.in)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("ParseFileType(%q) = %v, %v; want %v (error %v)", c.in, got, err, c.want, c.err)
		}
	}
	for _, ft := range FileTypes() {
		back, err := ParseFileType(ft.String())
		if err != nil || back != ft {
			t.Errorf("%v does not round-trip: %v, %v", ft, back, err)
		}
	}
}

// TestUseMoreBits checks the rule on a 32-layer model: the first and last
// eighths, and every third layer in between.
func TestUseMoreBits(t *testing.T) {
	var got []int
	for i := 0; i < 32; i++ {
		if useMoreBits(i, 32) {
			got = append(got, i)
		}
	}
	want := []int{0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31}
	if len(got) != len(want) {
		t.Fatalf("useMoreBits over 32 layers: %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("useMoreBits over 32 layers: %v, want %v", got, want)
		}
	}
}

// TestTensorTypeRules spot-checks rules the small reference files cannot
// reach: GQA ≥ 4, 70B models, 8 experts, tied embeddings, falcon.
func TestTensorTypeRules(t *testing.T) {
	sq := []int64{4096, 4096}
	for _, c := range []struct {
		name string
		ft   FileType
		ten  string
		m    QuantModel
		want gguf.Type
	}{
		{"q2_k attn_v gqa 4", FileTypeQ2_K, "blk.5.attn_v.weight", QuantModel{Layers: 32, GQA: 4, HasOutput: true}, gguf.TypeQ4_K},
		{"q2_k attn_v gqa 1", FileTypeQ2_K, "blk.5.attn_v.weight", QuantModel{Layers: 32, GQA: 1, HasOutput: true}, gguf.TypeQ3_K},
		{"70B q4_k_m attn_v", FileTypeQ4_K_M, "blk.11.attn_v.weight", QuantModel{Layers: 80, GQA: 8, Type70B: true, HasOutput: true}, gguf.TypeQ5_K},
		{"70B q4_k_m attn_v bumped", FileTypeQ4_K_M, "blk.0.attn_v.weight", QuantModel{Layers: 80, GQA: 8, Type70B: true, HasOutput: true}, gguf.TypeQ6_K},
		{"mixtral attn_v", FileTypeQ4_K_M, "blk.4.attn_v.weight", QuantModel{Layers: 32, GQA: 4, Experts: 8, HasOutput: true}, gguf.TypeQ8_0},
		{"mixtral attn_k", FileTypeQ4_K_M, "blk.4.attn_k.weight", QuantModel{Layers: 32, GQA: 4, Experts: 8, HasOutput: true}, gguf.TypeQ8_0},
		{"mixtral attn_output", FileTypeQ4_K_M, "blk.4.attn_output.weight", QuantModel{Layers: 32, GQA: 4, Experts: 8, HasOutput: true}, gguf.TypeQ5_K},
		{"tied embeddings", FileTypeQ4_K_M, "token_embd.weight", QuantModel{Layers: 28, GQA: 2}, gguf.TypeQ6_K},
		{"untied embeddings", FileTypeQ4_K_M, "token_embd.weight", QuantModel{Layers: 28, GQA: 2, HasOutput: true}, gguf.TypeQ4_K},
		{"q8_0 output", FileTypeQ8_0, "output.weight", QuantModel{Layers: 28, HasOutput: true}, gguf.TypeQ8_0},
		{"iq2_xxs output", FileTypeIQ2_XXS, "output.weight", QuantModel{Layers: 28, HasOutput: true}, gguf.TypeQ5_K},
		{"iq2_xxs token_embd", FileTypeIQ2_XXS, "token_embd.weight", QuantModel{Layers: 28, HasOutput: true}, gguf.TypeQ2_K},
		{"falcon q4_k_m ffn_down first", FileTypeQ4_K_M, "blk.0.ffn_down.weight", QuantModel{Arch: "falcon", Layers: 32, HasOutput: true}, gguf.TypeQ6_K},
		{"falcon output", FileTypeQ4_K_M, "output.weight", QuantModel{Arch: "falcon", Layers: 32, HasOutput: true}, gguf.TypeQ8_0},
		{"phi3 qkv q4_k_m", FileTypeQ4_K_M, "blk.3.attn_qkv.weight", QuantModel{Layers: 32, HasOutput: true}, gguf.TypeQ5_K},
		{"norm kept", FileTypeQ4_K_M, "blk.3.attn_norm.weight", QuantModel{Layers: 32, HasOutput: true}, gguf.TypeF32},
		{"router kept", FileTypeQ4_K_M, "blk.3.ffn_gate_inp.weight", QuantModel{Layers: 32, Experts: 8, HasOutput: true}, gguf.TypeF32},
	} {
		shape := sq
		if strings.HasSuffix(c.ten, "norm.weight") {
			shape = []int64{4096}
		}
		got, err := TensorType(c.ft, c.ten, shape, gguf.TypeF32, c.m)
		if err != nil || got != c.want {
			t.Errorf("%s: %s, %v; want %s", c.name, got, err, c.want)
		}
	}
	// A 896-wide model (Qwen2.5-0.5B): k-quants fall back to q5_0 / q8_0.
	m := QuantModel{Layers: 24, GQA: 7}
	c, err := ChooseTensorType(FileTypeQ4_K_M, "blk.1.attn_q.weight", []int64{896, 896}, gguf.TypeBF16, m)
	if err != nil || c.Type != gguf.TypeQ5_0 || !c.Fallback || c.Wanted != gguf.TypeQ4_K {
		t.Errorf("q4_k_m on rows of 896: %+v, %v; want q4_K falling back to q5_0", c, err)
	}
	c, err = ChooseTensorType(FileTypeQ4_K_M, "token_embd.weight", []int64{151936, 896}, gguf.TypeBF16, m)
	if err != nil || c.Type != gguf.TypeQ8_0 {
		t.Errorf("q4_k_m tied token_embd on rows of 896: %+v, %v; want q8_0", c, err)
	}
}
