package hfquant_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/lmc-project/lmc/hfquant"
	"github.com/lmc-project/lmc/hfquant/spec"
	"github.com/lmc-project/lmc/internal/shared"
	"github.com/lmc-project/lmc/model"
	"github.com/lmc-project/lmc/model/sample"
	"github.com/lmc-project/lmc/modelfile"
	"github.com/lmc-project/lmc/quant/fp"
	"github.com/lmc-project/lmc/safetensors"
	"github.com/lmc-project/lmc/tensor"
)

var prompt = []int{1, 359, 413, 286, 265, 329, 356, 373, 378, 419, 432}

func openBooks5M(t *testing.T) *modelfile.Model { return openBooks5MB(t) }

func openBooks5MB(t testing.TB) *modelfile.Model {
	t.Helper()
	m, err := modelfile.Open(shared.Path(t, "models/books5M/hf"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func f32Of(t *testing.T, tt *modelfile.Tensor) []float32 {
	t.Helper()
	raw, err := tt.Read()
	if err != nil {
		t.Fatal(err)
	}
	w := make([]float32, tt.NumElements())
	if err := tensor.DecodeF32(w, raw, tt.DType); err != nil {
		t.Fatal(err)
	}
	return w
}

// roundTrip describes one export of books5M and the in-memory model it
// must equal.
type roundTrip struct {
	name string
	opts hfquant.ExportOptions
	// reference quantizes one canonical weight in memory, as the export
	// should have, and returns its dequantized values.
	reference func(t *testing.T, w []float32, rows, cols int) (deq []float32, q any)
	// minAgree is the smallest teacher-forced top-1 agreement with the
	// unquantized model accepted.
	minAgree float64
}

func intRef(s hfquant.Scheme, minZero int) func(*testing.T, []float32, int, int) ([]float32, any) {
	return func(t *testing.T, w []float32, rows, cols int) ([]float32, any) {
		q, err := hfquant.QuantizeRTNWith(w, rows, cols, s, hfquant.RTNOptions{MinZero: minZero})
		if err != nil {
			t.Fatal(err)
		}
		d := make([]float32, len(w))
		q.Dequantize(d)
		return d, q
	}
}

func fp8Ref(g fp.Granularity) func(*testing.T, []float32, int, int) ([]float32, any) {
	return func(t *testing.T, w []float32, rows, cols int) ([]float32, any) {
		q, err := fp.QuantizeFP8(w, rows, cols, g)
		if err != nil {
			t.Fatal(err)
		}
		d := make([]float32, len(w))
		q.Dequantize(d)
		return d, q
	}
}

func exportOpts(format string, s hfquant.Scheme, w hfquant.WriteOptions) hfquant.ExportOptions {
	return hfquant.ExportOptions{Format: format, Scheme: &s, WriteOptions: w}
}

// TestRoundTripBooks5M exports books5M as GPTQ and compressed-tensors
// (4- and 8-bit integers, symmetric and asymmetric, FP8 per tensor and per
// channel), then checks that
//
//   - LoadQuantized gives back exactly the codes, scales and zero points
//     of the in-memory RTN quantization (FP8: codes and scales);
//   - modelfile.Open presents every quantized layer as F32 weights
//     bit-identical to the in-memory dequantized ones, and every other
//     tensor unchanged;
//   - the engine's logits on the reopened folder equal, bit for bit, those
//     of the original model with the dequantized weights swapped in
//     (model.ReplaceWeightF32);
//   - the quantized model's greedy tokens agree with the original's.
//
// Unquantized tensors are written in F32 so that the comparison is exact.
func TestRoundTripBooks5M(t *testing.T) {
	f32 := hfquant.WriteOptions{DType: tensor.F32}
	v2 := f32
	v2.CheckpointFormat = spec.GPTQv2
	s4 := hfquant.Scheme{Bits: 4, GroupSize: 128, Sym: true, ScaleDType: tensor.F16}
	cases := []roundTrip{
		{"gptq-w4g128", exportOpts(hfquant.FormatGPTQ, s4, f32), intRef(s4, 0), 0.7},
		{"gptq-w8-channel-asym-v1", exportOpts(hfquant.FormatGPTQ, hfquant.Scheme{Bits: 8, GroupSize: -1}, f32),
			intRef(hfquant.Scheme{Bits: 8, GroupSize: -1, ScaleDType: tensor.F16}, 1), 0.9},
		{"gptq-w4g64-asym-v2", exportOpts(hfquant.FormatGPTQ, hfquant.Scheme{Bits: 4, GroupSize: 64}, v2),
			intRef(hfquant.Scheme{Bits: 4, GroupSize: 64, ScaleDType: tensor.F16}, 0), 0.7},
		{"ct-w4a16-g128", exportOpts(hfquant.FormatCompressedTensors, hfquant.Scheme{Bits: 4, GroupSize: 128, Sym: true, ScaleDType: tensor.BF16}, f32),
			intRef(hfquant.Scheme{Bits: 4, GroupSize: 128, Sym: true, ScaleDType: tensor.BF16}, 0), 0.7},
		{"ct-w8a16-g64-asym", exportOpts(hfquant.FormatCompressedTensors, hfquant.Scheme{Bits: 8, GroupSize: 64, ScaleDType: tensor.F32}, f32),
			intRef(hfquant.Scheme{Bits: 8, GroupSize: 64, ScaleDType: tensor.F32}, 0), 0.9},
		{"ct-fp8-channel", hfquant.ExportOptions{Format: hfquant.FormatCompressedTensors, FP8: true, FP8Granularity: fp.PerChannel, WriteOptions: f32},
			fp8Ref(fp.PerChannel), 0.9},
		{"ct-fp8-tensor", hfquant.ExportOptions{Format: hfquant.FormatCompressedTensors, FP8: true, WriteOptions: f32},
			fp8Ref(fp.PerTensor), 0.9},
	}
	src := openBooks5M(t)
	orig, err := model.Load(src, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The original model's greedy continuation, for the agreement check.
	s := orig.NewSession(256)
	logits, err := s.Prefill(prompt)
	if err != nil {
		t.Fatal(err)
	}
	seq := append([]int(nil), prompt...)
	for range 48 {
		tok := sample.Greedy(logits)
		seq = append(seq, tok)
		if logits, err = s.Decode(tok); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), c.name)
			if err := hfquant.Export(src, dir, c.opts); err != nil {
				t.Fatal(err)
			}
			ref, err := model.Load(src, model.Options{})
			if err != nil {
				t.Fatal(err)
			}
			cp, err := hfquant.LoadQuantized(dir)
			if err != nil {
				t.Fatal(err)
			}
			reopened, err := modelfile.Open(dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer reopened.Close()
			for _, tt := range src.Tensors {
				got := reopened.Tensor(tt.Name)
				if got == nil {
					t.Fatalf("tensor %s missing from the reopened folder", tt.Name)
				}
				w := f32Of(t, tt)
				if !hfquant.IsLinear(tt.Name) {
					if !reflect.DeepEqual(f32Of(t, got), w) {
						t.Fatalf("unquantized tensor %s changed", tt.Name)
					}
					continue
				}
				rows, cols := int(tt.Shape[0]), int(tt.Shape[1])
				deq, q := c.reference(t, w, rows, cols)
				switch q := q.(type) {
				case *hfquant.Quantized:
					if !reflect.DeepEqual(cp.Ints[tt.Name], q) {
						t.Fatalf("%s: LoadQuantized differs from the in-memory quantization", tt.Name)
					}
				case *fp.FP8:
					if !reflect.DeepEqual(cp.FP8[tt.Name], q) {
						t.Fatalf("%s: LoadQuantized FP8 differs from the in-memory quantization", tt.Name)
					}
				}
				if got.DType != tensor.F32 || !reflect.DeepEqual(got.Shape, tt.Shape) {
					t.Fatalf("%s reopens as %s %v", tt.Name, got.DType, got.Shape)
				}
				back := f32Of(t, got)
				for i := range deq {
					if math.Float32bits(back[i]) != math.Float32bits(deq[i]) {
						t.Fatalf("%s element %d: file gives %v, in-memory %v", tt.Name, i, back[i], deq[i])
					}
				}
				if err := ref.ReplaceWeightF32(tt.Name, deq); err != nil {
					t.Fatal(err)
				}
			}
			qm, err := model.Load(reopened, model.Options{})
			if err != nil {
				t.Fatal(err)
			}
			a, err := qm.NewSession(256).PrefillAll(seq)
			if err != nil {
				t.Fatal(err)
			}
			b, err := ref.NewSession(256).PrefillAll(seq)
			if err != nil {
				t.Fatal(err)
			}
			var worst float64
			for i := range a {
				worst = math.Max(worst, math.Abs(float64(a[i]-b[i])))
			}
			if worst > 1e-6 {
				t.Errorf("logits of the reopened folder differ from the in-memory model by %g", worst)
			}
			vocab := qm.Config.VocabSize
			agree := 0
			for i := len(prompt) - 1; i < len(seq)-1; i++ {
				if sample.Greedy(a[i*vocab:(i+1)*vocab]) == seq[i+1] {
					agree++
				}
			}
			frac := float64(agree) / float64(len(seq)-len(prompt))
			t.Logf("%s: max |Δlogit| vs in-memory %g; greedy agreement with the original %d/%d (%.0f%%)", c.name, worst, agree, len(seq)-len(prompt), 100*frac)
			if frac < c.minAgree {
				t.Errorf("greedy agreement %.2f below %.2f", frac, c.minAgree)
			}
		})
	}
}

// TestExportLayoutBooks5M checks the names, dtypes and shapes of every
// tensor of the default exports (GPTQ: F16, 4 bits, g128; compressed-
// tensors: BF16) against the conventions, and the config fields transformers
// and vLLM read.
func TestExportLayoutBooks5M(t *testing.T) {
	src := openBooks5M(t)
	type want struct {
		dtype tensor.DType
		shape []int64
	}
	linear := map[string][2]int64{ // HF module → [out, in]
		"self_attn.q_proj": {256, 256}, "self_attn.k_proj": {128, 256}, "self_attn.v_proj": {128, 256},
		"self_attn.o_proj": {256, 256}, "mlp.gate_proj": {768, 256}, "mlp.up_proj": {768, 256}, "mlp.down_proj": {256, 768},
	}
	cases := []struct {
		name   string
		opts   hfquant.ExportOptions
		parts  func(out, in int64) map[string]want
		dense  tensor.DType
		config map[string]any
	}{
		{"gptq", hfquant.ExportOptions{Format: hfquant.FormatGPTQ},
			func(o, i int64) map[string]want {
				return map[string]want{"qweight": {tensor.I32, []int64{i / 8, o}}, "qzeros": {tensor.I32, []int64{i / 128, o / 8}},
					"scales": {tensor.F16, []int64{i / 128, o}}, "g_idx": {tensor.I32, []int64{i}}}
			}, tensor.F16,
			map[string]any{"quant_method": "gptq", "bits": 4.0, "group_size": 128.0, "desc_act": false, "sym": true, "lm_head": false, "checkpoint_format": "gptq"}},
		{"compressed-tensors", hfquant.ExportOptions{Format: hfquant.FormatCompressedTensors},
			func(o, i int64) map[string]want {
				return map[string]want{"weight_packed": {tensor.I32, []int64{o, i / 8}}, "weight_scale": {tensor.BF16, []int64{o, i / 128}},
					"weight_shape": {tensor.I64, []int64{2}}}
			}, tensor.BF16,
			map[string]any{"quant_method": "compressed-tensors", "format": "pack-quantized", "quantization_status": "compressed"}},
		{"fp8", hfquant.ExportOptions{Format: hfquant.FormatCompressedTensors, FP8: true, FP8Granularity: fp.PerChannel},
			func(o, i int64) map[string]want {
				return map[string]want{"weight": {tensor.F8E4M3, []int64{o, i}}, "weight_scale": {tensor.F32, []int64{o, 1}}}
			}, tensor.BF16,
			map[string]any{"quant_method": "compressed-tensors", "format": "float-quantized"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			var calls int
			var last int64
			c.opts.Progress = func(_ string, done, total int64) { calls, last = calls+1, total-done }
			if err := hfquant.Export(src, dir, c.opts); err != nil {
				t.Fatal(err)
			}
			if calls == 0 || last != 0 {
				t.Errorf("progress called %d times, ending %d bytes short", calls, last)
			}
			st, err := safetensors.OpenModel(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			expect := map[string]want{
				"model.embed_tokens.weight": {c.dense, []int64{512, 256}}, "lm_head.weight": {c.dense, []int64{512, 256}},
				"model.norm.weight": {c.dense, []int64{256}},
			}
			for l := range 6 {
				p := "model.layers." + string(rune('0'+l)) + "."
				expect[p+"input_layernorm.weight"] = want{c.dense, []int64{256}}
				expect[p+"post_attention_layernorm.weight"] = want{c.dense, []int64{256}}
				for mod, oi := range linear {
					for suffix, w := range c.parts(oi[0], oi[1]) {
						expect[p+mod+"."+suffix] = w
					}
				}
			}
			got := map[string]want{}
			for _, ti := range st.Tensors() {
				got[ti.Name] = want{ti.DType, ti.Shape}
			}
			if !reflect.DeepEqual(got, expect) {
				for n, w := range expect {
					if g, ok := got[n]; !ok || !reflect.DeepEqual(g, w) {
						t.Errorf("%s: got %v (present %v), want %v", n, g, ok, w)
					}
				}
				for n := range got {
					if _, ok := expect[n]; !ok {
						t.Errorf("unexpected tensor %s", n)
					}
				}
			}
			raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
			if err != nil {
				t.Fatal(err)
			}
			var cfg struct {
				QC         map[string]any `json:"quantization_config"`
				TorchDtype string         `json:"torch_dtype"`
			}
			if err := json.Unmarshal(raw, &cfg); err != nil {
				t.Fatal(err)
			}
			for k, v := range c.config {
				if !reflect.DeepEqual(cfg.QC[k], v) {
					t.Errorf("quantization_config.%s = %v, want %v", k, cfg.QC[k], v)
				}
			}
			if want := map[tensor.DType]string{tensor.F16: "float16", tensor.BF16: "bfloat16"}[c.dense]; cfg.TorchDtype != want {
				t.Errorf("torch_dtype %q, want %q", cfg.TorchDtype, want)
			}
			for _, f := range []string{"generation_config.json", "tokenizer.model"} {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Errorf("%s missing: %v", f, err)
				}
			}
		})
	}
}

// TestActOrderBooks5M writes GPTQ and compressed-tensors checkpoints whose
// layers use act-order groups (g_idx a permutation, as GPTQ with desc_act
// produces), given through ExportOptions.Quantized, and checks that
// desc_act / actorder are declared, g_idx is stored, and everything reads
// back exactly.
func TestActOrderBooks5M(t *testing.T) {
	src := openBooks5M(t)
	s := hfquant.Scheme{Bits: 4, GroupSize: 128, Sym: true, ScaleDType: tensor.F16}
	r := rand.New(rand.NewPCG(1, 2))
	given := map[string]*hfquant.Quantized{}
	for _, n := range hfquant.Targets(src) {
		tt := src.Tensor(n)
		rows, cols := int(tt.Shape[0]), int(tt.Shape[1])
		perm := r.Perm(cols)
		gidx := make([]int32, cols)
		for pos, c := range perm {
			gidx[c] = int32(pos / s.GroupSize)
		}
		q, err := hfquant.QuantizeRTNWith(f32Of(t, tt), rows, cols, s, hfquant.RTNOptions{GIdx: gidx})
		if err != nil {
			t.Fatal(err)
		}
		given[n] = q
	}
	for _, format := range []string{hfquant.FormatGPTQ, hfquant.FormatCompressedTensors} {
		t.Run(format, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			var err error
			if format == hfquant.FormatGPTQ {
				err = hfquant.WriteGPTQ(dir, src, given, &hfquant.WriteOptions{DType: tensor.F32})
			} else {
				err = hfquant.WriteCompressedTensors(dir, src, given, &hfquant.WriteOptions{DType: tensor.F32})
			}
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := os.ReadFile(filepath.Join(dir, "config.json"))
			var cfg struct {
				QC struct {
					DescAct      bool `json:"desc_act"`
					ConfigGroups map[string]struct {
						Weights struct {
							Actorder any `json:"actorder"`
						} `json:"weights"`
					} `json:"config_groups"`
				} `json:"quantization_config"`
			}
			if err := json.Unmarshal(raw, &cfg); err != nil {
				t.Fatal(err)
			}
			if format == hfquant.FormatGPTQ && !cfg.QC.DescAct || format != hfquant.FormatGPTQ && cfg.QC.ConfigGroups["group_0"].Weights.Actorder != "group" {
				t.Errorf("act-order not declared: %s", raw)
			}
			cp, err := hfquant.LoadQuantized(dir)
			if err != nil {
				t.Fatal(err)
			}
			for n, q := range given {
				if !reflect.DeepEqual(cp.Ints[n], q) {
					t.Fatalf("%s reads back differently", n)
				}
			}
			reopened, err := modelfile.Open(dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer reopened.Close()
			for n, q := range given {
				want := make([]float32, q.Rows*q.Cols)
				q.Dequantize(want)
				if got := f32Of(t, reopened.Tensor(n)); !reflect.DeepEqual(got, want) {
					t.Fatalf("%s dequantizes differently", n)
				}
			}
		})
	}
}

// TestHFRowOrderBooks5M checks the Hugging Face orientation of a written
// q_proj against the original checkpoint read without lmc's q/k
// permutation: RTN of the original HF rows must equal what the GPTQ file
// holds (a per-row quantizer commutes with the row order, so any
// permutation mistake shows).
func TestHFRowOrderBooks5M(t *testing.T) {
	src := openBooks5M(t)
	dir := filepath.Join(t.TempDir(), "out")
	s := hfquant.Scheme{Bits: 4, GroupSize: 128, Sym: true, ScaleDType: tensor.F16}
	if err := hfquant.Export(src, dir, hfquant.ExportOptions{Format: hfquant.FormatGPTQ, Scheme: &s}); err != nil {
		t.Fatal(err)
	}
	orig, err := safetensors.OpenModel(shared.Path(t, "models/books5M/hf"))
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	out, err := safetensors.OpenModel(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		QC json.RawMessage `json:"quantization_config"`
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	v, err := spec.NewView("config.json", out, cfg.QC)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"model.layers.0.self_attn.q_proj.weight", "model.layers.3.self_attn.k_proj.weight", "model.layers.5.mlp.down_proj.weight"} {
		ti, _ := orig.Tensor(name)
		b, err := orig.Data(name)
		if err != nil {
			t.Fatal(err)
		}
		w := make([]float32, ti.NumElements())
		if err := tensor.DecodeF32(w, b, ti.DType); err != nil {
			t.Fatal(err)
		}
		want, err := hfquant.QuantizeRTN(w, int(ti.Shape[0]), int(ti.Shape[1]), s)
		if err != nil {
			t.Fatal(err)
		}
		got, err := v.Int(name)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: the file's rows are not the original HF rows", name)
		}
	}
}

// TestGGUFSourceBooks5M exports books5M from llama.cpp's F32 GGUF (q/k
// rows interleaved) and from the HF folder (rotate-half rows, permuted by
// modelfile): the weights files must be byte-identical, and the GGUF
// export must carry the tokenizer and reopen.
func TestGGUFSourceBooks5M(t *testing.T) {
	g, err := modelfile.Open(shared.Path(t, "models/books5M/books5M-f32.gguf"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	h := openBooks5M(t)
	d := t.TempDir()
	for _, c := range []struct {
		m   *modelfile.Model
		out string
	}{{g, "from-gguf"}, {h, "from-hf"}} {
		if err := hfquant.Export(c.m, filepath.Join(d, c.out), hfquant.ExportOptions{Format: hfquant.FormatCompressedTensors}); err != nil {
			t.Fatal(err)
		}
	}
	a, err := os.ReadFile(filepath.Join(d, "from-gguf", "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(d, "from-hf", "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Error("exports of the GGUF and HF sources differ")
	}
	for _, f := range []string{"tokenizer.model", "tokenizer_config.json"} {
		if _, err := os.Stat(filepath.Join(d, "from-gguf", f)); err != nil {
			t.Errorf("GGUF-source export lacks %s", f)
		}
	}
	r, err := modelfile.Open(filepath.Join(d, "from-gguf"), nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
}
