package plan

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/lmc-project/lmc/gguf"
	"github.com/lmc-project/lmc/internal/shared"
)

// TestSeedTable checks the seed's table exactly: parameters × bits ÷ 8 in
// decimal GB (7B = 14 / 7 / 3.5 GB … 405B = 810 / 405 / 202.5 GB).
func TestSeedTable(t *testing.T) {
	tab, err := SeedTable()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][3]string{
		"7B": {"14", "7", "3.5"}, "13B": {"26", "13", "6.5"}, "34B": {"68", "34", "17"},
		"70B": {"140", "70", "35"}, "405B": {"810", "405", "202.5"},
	}
	if len(tab.Rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(tab.Rows), len(want))
	}
	for _, r := range tab.Rows {
		w, ok := want[r.Label]
		if !ok {
			t.Errorf("unexpected row %s", r.Label)
			continue
		}
		for i := range w {
			if got := strconv.FormatFloat(r.Bits[i], 'f', -1, 64); got != w[i] {
				t.Errorf("%s at %d bits: %s GB, want %s GB", r.Label, TableBits[i], got, w[i])
			}
		}
		if len(r.Mixes) != len(TableFileTypes) {
			t.Errorf("%s: %d mixes, want %d", r.Label, len(r.Mixes), len(TableFileTypes))
		}
	}
	// The k-quant columns use the mixes' bits per weight on Llama-3.1-8B:
	// q4_k_m is 4.8944 bpw, so 70B takes 70e9 × 4.8944 / 8 = 42.8 GB.
	for i, f := range tab.BPW {
		if f.Format == "q4_k_m" {
			if got := tab.Rows[3].Mixes[i]; math.Abs(got-42.826) > 0.001 {
				t.Errorf("70B q4_k_m: %.3f GB, want 42.826", got)
			}
		}
	}
}

// TestKVLlama3 is the example: Llama-3-8B at 8k context in f16 is
// 32 layers × 8 KV heads × 128 × 2 (K and V) × 2 bytes × 8192 = 1 GiB.
func TestKVLlama3(t *testing.T) {
	a, err := Preset("Llama-3-8B")
	if err != nil {
		t.Fatal(err)
	}
	kv, _ := ParseKVType("f16")
	got, err := KVBytes(&a, kv, 8192, 1)
	if err != nil || got != 1<<30 {
		t.Errorf("KV bytes = %d, %v; want %d", got, err, 1<<30)
	}
	r, err := Estimate(FromArch(a), Options{Context: 8192})
	if err != nil {
		t.Fatal(err)
	}
	if r.KV.Bytes != 1<<30 || r.KV.BytesPerToken != 131072 {
		t.Errorf("Estimate: KV %d bytes, %g per token; want 1 GiB and 128 KiB", r.KV.Bytes, r.KV.BytesPerToken)
	}
	// Other types on the same model.
	for _, c := range []struct {
		kv   string
		want int64
	}{
		{"f32", 2 << 30}, {"bf16", 1 << 30}, {"fp8", 1 << 29},
		{"q8_0", 1 << 30 / 2 / 32 * 34}, // 34 bytes per 32 values
		{"q4_0", 1 << 30 / 2 / 32 * 18}, // 18 bytes per 32 values
	} {
		k, err := ParseKVType(c.kv)
		if err != nil {
			t.Fatal(err)
		}
		got, err := KVBytes(&a, k, 8192, 1)
		if err != nil || got != c.want {
			t.Errorf("%s: %d, %v; want %d", c.kv, got, err, c.want)
		}
	}
}

// TestKIVI checks the int4/int2 formula: bits/8 + 4 bytes (f16 scale and
// zero point) per group of 32 per element, last 128 tokens in f16.
func TestKIVI(t *testing.T) {
	a, _ := Preset("Llama-3-8B")
	for _, c := range []struct {
		kv   string
		bits float64
	}{{"int4", 4}, {"int2", 2}, {"int8", 8}} {
		k, err := ParseKVType(c.kv)
		if err != nil {
			t.Fatal(err)
		}
		got, err := KVBytes(&a, k, 8192, 1)
		if err != nil {
			t.Fatal(err)
		}
		elems := 2.0 * 32 * 8 * 128 // per token, all layers
		want := (8192-128)*elems*(c.bits/8+4.0/32) + 128*elems*2
		if float64(got) != math.Ceil(want) {
			t.Errorf("%s: %d bytes, want %.0f", c.kv, got, want)
		}
		if bpe := k.BitsPerElement(); bpe != c.bits+1 {
			t.Errorf("%s: %g bits per element, want %g", c.kv, bpe, c.bits+1)
		}
	}
}

func TestSlidingWindowAndMLA(t *testing.T) {
	f16, _ := ParseKVType("f16")
	mis, _ := Preset("Mistral-7B")
	got, _ := KVBytes(&mis, f16, 32768, 1)
	if want := int64(32 * 8 * 128 * 2 * 2 * 4096); got != want {
		t.Errorf("Mistral-7B at 32k: KV %d, want the 4096-token window: %d", got, want)
	}
	g, _ := Preset("Gemma-2-9B")
	got, _ = KVBytes(&g, f16, 8192, 1)
	perTok := int64(8 * 256 * 2 * 2) // one layer
	if want := 21*perTok*8192 + 21*perTok*4096; got != want {
		t.Errorf("Gemma-2-9B at 8k: KV %d, want 21 global layers at 8192 + 21 local at 4096 = %d", got, want)
	}
	ds, _ := Preset("DeepSeek-V3")
	r, err := Estimate(FromArch(ds), Options{Context: 4096, Weights: "q4_k_m"})
	if err != nil {
		t.Fatal(err)
	}
	if r.KV.BytesPerToken != 61*576*2 {
		t.Errorf("DeepSeek-V3 MLA: %g bytes per token, want 61 × (512 + 64) × 2 = %d", r.KV.BytesPerToken, 61*576*2)
	}
	if r.Params < 670e9 || r.Params > 672e9 {
		t.Errorf("DeepSeek-V3: %d parameters, want about 671B", r.Params)
	}
}

// TestPresetParams compares preset parameter counts with the published
// checkpoints' (Hugging Face safetensors metadata).
func TestPresetParams(t *testing.T) {
	for _, c := range []struct {
		name string
		want int64
	}{
		{"Llama-2-7B", 6738415616}, {"Llama-3.1-70B", 70553706496 + 64}, {"Llama-3.1-405B", 405853388800 + 64},
		{"Mistral-7B", 7241732096}, {"Mixtral-8x7B", 46702792704}, {"Qwen2.5-7B", 7615616512},
		{"Gemma-2-2B", 2614341888}, {"Phi-3-mini", 3821079552}, {"Qwen3-8B", 8190735360},
	} {
		a, err := Preset(c.name)
		if err != nil {
			t.Fatal(err)
		}
		if got := FromArch(a).Params(); got != c.want {
			t.Errorf("%s: %d parameters, want %d", c.name, got, c.want)
		}
	}
	for _, a := range Presets() {
		if err := a.Validate(); err != nil || a.Source == "" {
			t.Errorf("%s: %v (source %q)", a.Name, err, a.Source)
		}
	}
}

func TestUnknownPreset(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string
	}{{"llama-3.1-8", "Llama-3.1-8B"}, {"mistral-7", "Mistral-7B"}, {"qwen3-32", "Qwen3-32B"}, {"gemma-9b", "Gemma-2-9B"}} {
		_, err := Load(c.in)
		var ue *UnknownPresetError
		if !errors.As(err, &ue) || !errors.Is(err, ErrUnknownPreset) {
			t.Fatalf("Load(%q): %v, want an UnknownPresetError", c.in, err)
		}
		if len(ue.Nearest) == 0 || ue.Nearest[0] != c.want {
			t.Errorf("Load(%q): nearest %v, want %s first", c.in, ue.Nearest, c.want)
		}
	}
	if _, err := Load("completely-unrelated-name-xyz"); err == nil {
		t.Error("nonsense name loaded")
	}
	// Case and separators do not matter; aliases work.
	for _, n := range []string{"llama3.1-8b", "LLAMA_3.1_8B", "mixtral", "deepseek-r1"} {
		if _, err := Preset(n); err != nil {
			t.Errorf("Preset(%q): %v", n, err)
		}
	}
}

func TestContextLimit(t *testing.T) {
	m, _ := Load("Llama-2-7B")
	_, err := Estimate(m, Options{Context: 8192})
	var ce *ContextError
	if !errors.Is(err, ErrContext) || !errors.As(err, &ce) || ce.Max != 4096 {
		t.Fatalf("Llama-2-7B at 8192: %v, want a ContextError (limit 4096)", err)
	}
	if _, err := Estimate(m, Options{Context: 8192, RopeScaling: true}); err != nil {
		t.Errorf("with rope scaling: %v", err)
	}
	q, _ := Load("Qwen2.5-7B")
	_, err = Estimate(q, Options{Context: 65536})
	if !errors.As(err, &ce) || ce.ScaledContext != 131072 || !strings.Contains(err.Error(), "131072") {
		t.Errorf("Qwen2.5-7B at 64k: %v, want the YaRN limit named", err)
	}
	r, err := Estimate(q, Options{Context: 262144, RopeScaling: true})
	if err != nil || len(r.Warnings) == 0 {
		t.Errorf("Qwen2.5-7B at 256k with rope scaling: %v, warnings %v; want a warning", err, r.Warnings)
	}
}

// TestMoE checks that memory holds every expert and a decode step reads
// the active ones.
func TestMoE(t *testing.T) {
	m, _ := Load("Mixtral-8x7B")
	r, err := Estimate(m, Options{Weights: "q8_0", Context: 4096})
	if err != nil {
		t.Fatal(err)
	}
	if r.Weights.ExpertBytes <= 0 || float64(r.Weights.ExpertBytes) < 0.9*float64(r.Weights.Bytes) {
		t.Fatalf("Mixtral experts %d of %d bytes", r.Weights.ExpertBytes, r.Weights.Bytes)
	}
	// Batch 1 reads 2 of 8 experts.
	dense := float64(r.Weights.Bytes - r.Weights.ExpertBytes - r.Weights.EmbeddingBytes)
	want := dense + float64(r.Weights.ExpertBytes)*2/8 + float64(r.KV.SequenceBytes)
	if got := float64(r.ReadPerStep); math.Abs(got-want) > 1 {
		t.Errorf("read per step %.0f, want %.0f", got, want)
	}
	// --experts 4 reads more.
	r4, err := Estimate(m, Options{Weights: "q8_0", Context: 4096, ActiveExperts: 4})
	if err != nil || r4.ReadPerStep <= r.ReadPerStep || r4.Weights.Bytes != r.Weights.Bytes {
		t.Errorf("4 experts: read %d (2 experts %d), weights %d (%d): %v", r4.ReadPerStep, r.ReadPerStep, r4.Weights.Bytes, r.Weights.Bytes, err)
	}
	if _, err := Estimate(m, Options{ActiveExperts: 9}); err == nil {
		t.Error("9 of 8 experts accepted")
	}
	dense7, _ := Load("Mistral-7B")
	if _, err := Estimate(dense7, Options{ActiveExperts: 2}); err == nil {
		t.Error("--experts on a dense model accepted")
	}
}

// TestFitsAndTP checks the per-device arithmetic: weights and KV split by
// the tensor-parallel degree, plus the per-device constant.
func TestFitsAndTP(t *testing.T) {
	m, _ := Load("Llama-3.1-70B")
	hw := []Hardware{{Name: "big", Kind: "gpu", MemoryGiB: 80, BandwidthGBs: 2000, RuntimeOverheadGiB: 1, PricePerHour: 2}}
	r1, err := Estimate(m, Options{Weights: "f16", Context: 8192, Hardware: hw})
	if err != nil {
		t.Fatal(err)
	}
	f := r1.Fits[0]
	if f.Fits || f.MinDevices != 2 || f.MaxBatch != 0 || f.MaxContext != 0 {
		t.Errorf("70B f16 on one 80 GiB device: %+v; want no fit, 2 devices needed", f)
	}
	r4, err := Estimate(m, Options{Weights: "f16", Context: 8192, TP: 4, Hardware: hw})
	if err != nil {
		t.Fatal(err)
	}
	f = r4.Fits[0]
	kvDev := int64(80 * 2 * 128 * 2 * 2 * 8192) // 2 of 8 KV heads per device
	wantNeed := (r4.Weights.Bytes+3)/4 + kvDev + r4.Activations + 1<<30
	if !f.Fits || f.NeedBytes != wantNeed || f.PricePerHour != 8 || f.Devices != 4 {
		t.Errorf("tp 4: %+v; want fit, need %d, $8/h", f, wantNeed)
	}
	if f.MaxBatch < 1 || f.MaxContext != 131072 || !f.ModelLimited {
		t.Errorf("tp 4: max batch %d, max context %d (model limited %v)", f.MaxBatch, f.MaxContext, f.ModelLimited)
	}
	// The ceiling: bandwidth ÷ (weights read ÷ 4 + this device's KV share).
	perDev := float64(r4.Weights.Bytes-r4.Weights.EmbeddingBytes)/4 + float64(kvDev)
	if want := 2000e9 / perDev; math.Abs(f.TokensPerSecond-want) > 1e-9*want {
		t.Errorf("tok/s %g, want %g", f.TokensPerSecond, want)
	}
	if want := 8 / (f.AggregateTokensPerSecond * 3600) * 1e6; math.Abs(f.CostPerMillion-want) > 1e-9 {
		t.Errorf("cost %g, want %g", f.CostPerMillion, want)
	}
	if r4.Cheapest != "big" {
		t.Errorf("cheapest %q", r4.Cheapest)
	}
	// Max batch is consistent with need.
	r, _ := Estimate(m, Options{Weights: "q4_k_m", Context: 8192, Batch: f.MaxBatch, TP: 4, Hardware: hw})
	rOver, _ := Estimate(m, Options{Weights: "q4_k_m", Context: 8192, Batch: r.Fits[0].MaxBatch + 1, TP: 4, Hardware: hw})
	if !r.Fits[0].Fits || rOver.Fits[0].Fits {
		t.Errorf("max batch %d does not sit at the edge", r.Fits[0].MaxBatch)
	}
}

// TestGGUFWeightsExact checks that the planner's weights for the GGUF files
// in ../shared equal the files' tensor bytes.
func TestGGUFWeightsExact(t *testing.T) {
	for _, p := range sharedGGUFs(t) {
		m, err := Load(p)
		if err != nil {
			t.Fatal(err)
		}
		f, err := gguf.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		var want int64
		for _, ti := range f.Tensors {
			want += int64(ti.Size())
		}
		f.Close()
		r, err := Estimate(m, Options{Hardware: []Hardware{}})
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if r.Weights.Bytes != want {
			t.Errorf("%s: weights %d, file's tensors %d", filepath.Base(p), r.Weights.Bytes, want)
		}
	}
}

func sharedGGUFs(t *testing.T) []string {
	root := shared.Path(t, "models")
	var out []string
	for _, pat := range []string{"*/*.gguf", "*/*/*.gguf"} {
		ms, _ := filepath.Glob(filepath.Join(root, pat))
		out = append(out, ms...)
	}
	if len(out) < 20 {
		t.Fatalf("found only %d GGUF files under %s", len(out), root)
	}
	return out
}

func TestHardwareFile(t *testing.T) {
	hw := DefaultHardware()
	if len(hw) < 20 {
		t.Errorf("%d built-in devices", len(hw))
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "hw.json")
	os.WriteFile(p, []byte(`{"hardware": [{"name": "h100 sxm 80gb", "kind": "gpu", "memory_gib": 80, "bandwidth_gbs": 3000, "price_per_hour": 1.5},
		{"name": "my box", "kind": "cpu", "memory_gib": 64, "bandwidth_gbs": 50}]}`), 0o644)
	got, err := LoadHardware(p, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(hw)+1 || got[0].PricePerHour != 1.5 || got[len(got)-1].Name != "my box" {
		t.Errorf("merged list: %d entries, first %+v, last %+v", len(got), got[0], got[len(got)-1])
	}
	only, err := LoadHardware(p, true)
	if err != nil || len(only) != 2 {
		t.Errorf("replace: %d entries, %v", len(only), err)
	}
	for _, bad := range []string{`{"hardware": [{"name": "x", "memory_gib": -1, "bandwidth_gbs": 1}]}`,
		`{"hardware": [{"name": "x", "memory_gib": 1, "bandwidth_gbs": 1, "typo": 3}]}`, `[1,2]`} {
		os.WriteFile(p, []byte(bad), 0o644)
		if _, err := LoadHardware(p, false); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

func TestParseWeightFormat(t *testing.T) {
	for _, c := range []struct {
		in, want string
	}{
		{"", "file"}, {"Q4_K_M", "q4_k_m"}, {"q4_k", "q4_k_m"}, {"fp16", "f16"}, {"pure-q4_K", "pure-q4_K"},
		{"q4_0-pure", "pure-q4_0"}, {"q8_1", "pure-q8_1"}, {"4.5", "4.5bpw"}, {"3.2bpw", "3.2bpw"}, {"fp8", "8bpw"},
	} {
		f, err := ParseWeightFormat(c.in)
		if err != nil || f.String() != c.want {
			t.Errorf("ParseWeightFormat(%q) = %v, %v; want %s", c.in, f, err, c.want)
		}
	}
	for _, bad := range []string{"q9_k", "0bpw", "-3", "pure-xyz", "100bpw"} {
		if _, err := ParseWeightFormat(bad); err == nil {
			t.Errorf("ParseWeightFormat(%q) accepted", bad)
		}
	}
	m, _ := Load("Llama-2-7B")
	f, _ := ParseWeightFormat("4bpw")
	r, _ := PriceWeights(m, f)
	if r.Bytes != m.Params()/2 {
		t.Errorf("4 bpw: %d bytes for %d parameters", r.Bytes, m.Params())
	}
}

func TestEngineEstimate(t *testing.T) {
	m, err := Load(shared.Path(t, "models/books5M/books5M-f32.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	e := EngineEstimate(m, 512, EngineOptions{})
	if e.Weights != 19936256 { // 4,984,064 parameters × 4 bytes
		t.Errorf("weights %d", e.Weights)
	}
	if e.KV != 2*6*128*512*4 {
		t.Errorf("KV %d, want %d", e.KV, 2*6*128*512*4)
	}
	if e.Total != e.Weights+e.KV+e.Activations+e.Runtime || e.Activations <= 0 {
		t.Errorf("total %+v", e)
	}
	// The default is the Session's batch of 256 tokens; each more token
	// adds x, xb, q, att, k, v, gate, up and cos/sin: 2880 floats.
	if e256 := EngineEstimate(m, 512, EngineOptions{Tokens: 256}); e256.Activations != e.Activations {
		t.Errorf("default activations %d, 256 tokens %d", e.Activations, e256.Activations)
	}
	e1 := EngineEstimate(m, 512, EngineOptions{Tokens: 1})
	e8 := EngineEstimate(m, 512, EngineOptions{Tokens: 8})
	if d := e8.Activations - e1.Activations; d != 7*2880*4 {
		t.Errorf("8 tokens: activations %d, 1 token %d: %d bytes more, want 7 × 2880 floats", e8.Activations, e1.Activations, d)
	}
}

func TestChart(t *testing.T) {
	m, _ := Load("Llama-3.1-8B")
	for _, format := range []string{"svg", "png"} {
		var buf bytes.Buffer
		if err := Chart(&buf, format, m, Options{Context: 8192}, append([]string{"q4_k_m"}, ChartFormats...), DefaultHardware()); err != nil {
			t.Fatal(err)
		}
		magic := map[string]string{"svg": "<?xml", "png": "\x89PNG"}[format]
		if !bytes.HasPrefix(buf.Bytes(), []byte(magic)) {
			t.Errorf("%s chart starts %q", format, buf.Bytes()[:min(8, buf.Len())])
		}
		if format == "svg" && (!bytes.Contains(buf.Bytes(), []byte("A100 40GB")) || !bytes.Contains(buf.Bytes(), []byte("RTX 4090 24GB / RTX 3090 24GB"))) {
			t.Error("svg chart does not draw the A100 40GB and 24 GiB limits")
		}
	}
	cs, err := Curves(m, Options{Context: 8192}, []string{"f16", "q4_k_m"}, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].Contexts[4] != 131072 || cs[0].Bytes[4] <= cs[0].Bytes[0] || cs[1].Bytes[0] >= cs[0].Bytes[0] {
		t.Errorf("curves %+v", cs)
	}
}

// TestHFFolder prices books5M's Hugging Face folder: its real tensors
// priced as q4_k_m must equal llama.cpp's books5M-q4_k_m.gguf tensor bytes
// (the converter stores norms in F32, llama-quantize picks the rest), and
// config.json alone must derive the same parameter count.
func TestHFFolder(t *testing.T) {
	dir := shared.Path(t, "models/books5M/hf")
	m, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Source != "hf" || !m.Exact || m.Params() != 4984064 || m.Arch.Layers != 6 || m.Arch.KVHeads != 2 {
		t.Fatalf("books5M hf: %+v, %d params", m.Arch, m.Params())
	}
	f, _ := ParseWeightFormat("q4_k_m")
	r, err := PriceWeights(m, f)
	if err != nil {
		t.Fatal(err)
	}
	_, want := fileTypesOf(t, shared.Path(t, "models/books5M/llamacpp/books5M-q4_k_m.gguf"))
	if r.Bytes != want {
		t.Errorf("books5M hf as q4_k_m: %d bytes, llama.cpp's file %d", r.Bytes, want)
	}
	c, err := Load(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Source != "config" || c.Exact || c.Params() != 4984064 {
		t.Errorf("books5M config.json: source %s, %d params", c.Source, c.Params())
	}
	rc, err := PriceWeights(c, f)
	if err != nil || rc.Bytes != want {
		t.Errorf("books5M config.json as q4_k_m: %d bytes (%v), want %d", rc.Bytes, err, want)
	}
}

// TestConfigFamilies reads config.json of architectures lmc does not run.
func TestConfigFamilies(t *testing.T) {
	for _, c := range []struct {
		json   string
		family string
		params int64
	}{
		{`{"architectures": ["MixtralForCausalLM"], "model_type": "mixtral", "hidden_size": 4096, "intermediate_size": 14336,
		   "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 32000,
		   "max_position_embeddings": 32768, "num_local_experts": 8, "num_experts_per_tok": 2, "tie_word_embeddings": false}`, "llama", 46702792704},
		{`{"architectures": ["Gemma2ForCausalLM"], "model_type": "gemma2", "hidden_size": 2304, "intermediate_size": 9216,
		   "num_hidden_layers": 26, "num_attention_heads": 8, "num_key_value_heads": 4, "head_dim": 256, "vocab_size": 256000,
		   "max_position_embeddings": 8192, "sliding_window": 4096}`, "gemma2", 2614341888},
		{`{"architectures": ["Phi3ForCausalLM"], "model_type": "phi3", "hidden_size": 3072, "intermediate_size": 8192,
		   "num_hidden_layers": 32, "num_attention_heads": 32, "vocab_size": 32064, "max_position_embeddings": 4096,
		   "sliding_window": 2047, "tie_word_embeddings": false}`, "phi3", 3821079552},
	} {
		a, err := ArchFromConfigJSON([]byte(c.json))
		if err != nil {
			t.Fatal(err)
		}
		if a.Family != c.family || FromArch(a).Params() != c.params {
			t.Errorf("%s: family %s, %d params; want %s, %d", c.family, a.Family, FromArch(a).Params(), c.family, c.params)
		}
	}
	if _, err := ArchFromConfigJSON([]byte(`{"model_type": "bert", "hidden_size": 8}`)); err == nil {
		t.Error("bert config accepted")
	}
	if _, err := ArchFromConfigJSON([]byte(`{"model_type": "mixtral", "num_hidden_layers": 100000, "hidden_size": 64, "num_attention_heads": 4, "intermediate_size": 8, "vocab_size": 10}`)); err == nil {
		t.Error("100000 layers accepted")
	}
}
