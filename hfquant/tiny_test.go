package hfquant_test

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/lmc-project/lmc/hfquant"
	"github.com/lmc-project/lmc/hfquant/spec"
	"github.com/lmc-project/lmc/modelfile"
	"github.com/lmc-project/lmc/safetensors"
	"github.com/lmc-project/lmc/tensor"
)

// tinyConfig is a one-block Llama: hidden 64, 2 heads of 32 (1 KV head),
// feed-forward 128, vocabulary 16.
const tinyConfig = `{"architectures":["LlamaForCausalLM"],"model_type":"llama","hidden_size":64,
"intermediate_size":128,"num_hidden_layers":1,"num_attention_heads":2,"num_key_value_heads":1,
"vocab_size":16,"max_position_embeddings":64,"rms_norm_eps":1e-5,"tie_word_embeddings":false,
"torch_dtype":"float32"}`

// tinyModel writes the tiny Llama as an HF folder with F32 weights
// w(i) = sin(i)/8 per tensor and returns it opened.
func tinyModel(t *testing.T, nan bool) *modelfile.Model {
	t.Helper()
	dir := t.TempDir()
	shapes := map[string][]int64{
		"model.embed_tokens.weight": {16, 64}, "lm_head.weight": {16, 64}, "model.norm.weight": {64},
		"model.layers.0.input_layernorm.weight": {64}, "model.layers.0.post_attention_layernorm.weight": {64},
		"model.layers.0.self_attn.q_proj.weight": {64, 64}, "model.layers.0.self_attn.k_proj.weight": {32, 64},
		"model.layers.0.self_attn.v_proj.weight": {32, 64}, "model.layers.0.self_attn.o_proj.weight": {64, 64},
		"model.layers.0.mlp.gate_proj.weight": {128, 64}, "model.layers.0.mlp.up_proj.weight": {128, 64},
		"model.layers.0.mlp.down_proj.weight": {64, 128},
	}
	var infos []safetensors.TensorInfo
	for n, s := range shapes {
		infos = append(infos, safetensors.TensorInfo{Name: n, DType: tensor.F32, Shape: s})
	}
	f, err := os.Create(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := safetensors.NewWriter(f, nil, infos)
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range w.Tensors() {
		b := make([]byte, 4*ti.NumElements())
		for i := range ti.NumElements() {
			v := float32(math.Sin(float64(i))) / 8
			if nan && ti.Name == "model.layers.0.mlp.up_proj.weight" && i == 77 {
				v = float32(math.NaN())
			}
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
		if err := w.WriteTensor(ti.Name, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(tinyConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := modelfile.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// handGiven quantizes every linear layer by hand: code (r, c) = (r + c)
// mod 16 in canonical (GGUF) row order, scale (r+1)/64, symmetric.
func handGiven(m *modelfile.Model) map[string]*hfquant.Quantized {
	s := hfquant.Scheme{Bits: 4, GroupSize: 32, Sym: true, ScaleDType: tensor.F16}
	out := map[string]*hfquant.Quantized{}
	for _, n := range hfquant.Targets(m) {
		t := m.Tensor(n)
		rows, cols := int(t.Shape[0]), int(t.Shape[1])
		g := cols / 32
		q := &hfquant.Quantized{Rows: rows, Cols: cols, Scheme: s, Codes: make([]uint8, rows*cols),
			Scales: make([]float32, rows*g), Zeros: make([]uint8, rows*g)}
		for r := range rows {
			for c := range cols {
				q.Codes[r*cols+c] = uint8((r + c) % 16)
			}
			for k := range g {
				q.Scales[r*g+k], q.Zeros[r*g+k] = float32(r+1)/64, 8
			}
		}
		out[n] = q
	}
	return out
}

func word(t *testing.T, st *safetensors.Model, name string, i int) uint32 {
	t.Helper()
	b, err := st.Data(name)
	if err != nil {
		t.Fatal(err)
	}
	return binary.LittleEndian.Uint32(b[4*i:])
}

// TestWriteGPTQHand writes hand-quantized layers and checks words of the
// file against values computed by hand: qweight[0][j] packs the codes of
// input features 0…7 of output j (LSB first), in Hugging Face's row order
// (q_proj's HF row 1 is GGUF row 2, HF row 16 is GGUF row 1: the rotate-
// half permutation of a 32-wide head), qzeros holds 8 − 1 in every
// nibble, scales are F16 and g_idx is c/32.
func TestWriteGPTQHand(t *testing.T) {
	m := tinyModel(t, false)
	dir := filepath.Join(t.TempDir(), "gptq")
	if err := hfquant.WriteGPTQ(dir, m, handGiven(m), nil); err != nil {
		t.Fatal(err)
	}
	st, err := safetensors.OpenModel(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	q := "model.layers.0.self_attn.q_proj."
	v := "model.layers.0.self_attn.v_proj."
	checks := []struct {
		name string
		i    int
		want uint32
	}{
		{v + "qweight", 0, 0x76543210},      // row 0: codes 0…7
		{v + "qweight", 1, 0x87654321},      // row 1: codes 1…8
		{v + "qweight", 32, 0xfedcba98},     // qweight[1][0]: row 0, inputs 8…15
		{q + "qweight", 1, 0x98765432},      // HF row 1 = GGUF row 2
		{q + "qweight", 16, 0x87654321},     // HF row 16 = GGUF row 1
		{q + "qweight", 64 + 1, 0x10fedcba}, // qweight[1][1]: GGUF row 2, inputs 8…15: codes 10…15, 0, 1
		{q + "qzeros", 0, 0x77777777},
		{q + "g_idx", 31, 0}, {q + "g_idx", 32, 1}, {q + "g_idx", 63, 1},
	}
	for _, c := range checks {
		if got := word(t, st, c.name, c.i); got != c.want {
			t.Errorf("%s word %d = %#08x, want %#08x", c.name, c.i, got, c.want)
		}
	}
	sc, _ := st.Data(q + "scales")
	for j, want := range map[int]float32{0: 1.0 / 64, 1: 3.0 / 64, 16: 2.0 / 64, 63: 64.0 / 64} {
		if got := tensor.F16ToF32(binary.LittleEndian.Uint16(sc[2*j:])); got != want {
			t.Errorf("scales[0][%d] = %v, want %v", j, got, want)
		}
	}
	for _, n := range []string{q + "qweight", q + "qzeros", q + "scales", q + "g_idx"} {
		ti, _ := st.Tensor(n)
		t.Logf("%s %s %v", n, ti.DType, ti.Shape)
	}
	// The reader undoes it all: codes and scales back in canonical order.
	cp, err := hfquant.LoadQuantized(dir)
	if err != nil {
		t.Fatal(err)
	}
	for n, want := range handGiven(m) {
		got := cp.Ints[n]
		if got == nil || string(got.Codes) != string(want.Codes) || len(got.Scales) != len(want.Scales) {
			t.Fatalf("%s reads back differently", n)
		}
		for i := range want.Scales {
			if got.Scales[i] != want.Scales[i] {
				t.Fatalf("%s scale %d: %v, want %v", n, i, got.Scales[i], want.Scales[i])
			}
		}
	}
}

// TestWriteCompressedTensorsHand: pack-quantized words by hand, weight_packed
// [out, in/8] packing along the input.
func TestWriteCompressedTensorsHand(t *testing.T) {
	m := tinyModel(t, false)
	given := handGiven(m)
	dir := filepath.Join(t.TempDir(), "ct")
	if err := hfquant.WriteCompressedTensors(dir, m, given, nil); err != nil {
		t.Fatal(err)
	}
	st, err := safetensors.OpenModel(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	q := "model.layers.0.self_attn.q_proj."
	for _, c := range []struct {
		name string
		i    int
		want uint32
	}{
		{q + "weight_packed", 0, 0x76543210},     // HF row 0 = GGUF row 0, inputs 0…7
		{q + "weight_packed", 1, 0xfedcba98},     // inputs 8…15
		{q + "weight_packed", 8 + 0, 0x98765432}, // HF row 1 = GGUF row 2
	} {
		if got := word(t, st, c.name, c.i); got != c.want {
			t.Errorf("%s word %d = %#08x, want %#08x", c.name, c.i, got, c.want)
		}
	}
	sh, _ := st.Data(q + "weight_shape")
	if binary.LittleEndian.Uint64(sh) != 64 || binary.LittleEndian.Uint64(sh[8:]) != 64 {
		t.Errorf("weight_shape % x", sh)
	}
	if _, ok := st.Tensor(q + "weight_zero_point"); ok {
		t.Error("symmetric layers wrote a zero point")
	}
}

// TestExportErrors: bad input gets a clear error and no output folder.
func TestExportErrors(t *testing.T) {
	m := tinyModel(t, false)
	cases := []struct {
		name string
		opts hfquant.ExportOptions
	}{
		{"group does not divide", hfquant.ExportOptions{Format: hfquant.FormatGPTQ, Scheme: &hfquant.Scheme{GroupSize: 48, Sym: true}}},
		{"3 bits", hfquant.ExportOptions{Format: hfquant.FormatGPTQ, Scheme: &hfquant.Scheme{Bits: 3, Sym: true}}},
		{"format", hfquant.ExportOptions{Format: "awq"}},
		{"fp8 gptq", hfquant.ExportOptions{Format: hfquant.FormatGPTQ, FP8: true}},
		{"checkpoint format", hfquant.ExportOptions{Format: hfquant.FormatGPTQ, WriteOptions: hfquant.WriteOptions{CheckpointFormat: "marlin"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			if err := hfquant.Export(m, dir, c.opts); err == nil {
				t.Fatal("no error")
			} else {
				t.Log(err)
			}
			if _, err := os.Stat(dir); err == nil {
				t.Error("a failed export left a folder")
			}
		})
	}
	nan := tinyModel(t, true)
	err := hfquant.Export(nan, filepath.Join(t.TempDir(), "out"), hfquant.ExportOptions{Format: hfquant.FormatCompressedTensors, Scheme: &hfquant.Scheme{GroupSize: 32, Sym: true}})
	if !errors.Is(err, hfquant.ErrNonFinite) {
		t.Errorf("NaN weight: %v, want ErrNonFinite", err)
	}
	// A missing layer in WriteGPTQ's map is named.
	given := handGiven(m)
	delete(given, "blk.0.ffn_up.weight")
	if err := hfquant.WriteGPTQ(filepath.Join(t.TempDir(), "out"), m, given, nil); err == nil {
		t.Error("WriteGPTQ accepted a missing layer")
	}
	if _, err := hfquant.LoadQuantized(t.TempDir()); err == nil {
		t.Error("LoadQuantized of an empty folder")
	}
	var fe *spec.FormatError
	if _, err := hfquant.LoadQuantized(m.Path); !errors.As(err, &fe) {
		t.Errorf("LoadQuantized of a dense folder: %v, want a *spec.FormatError", err)
	}
}
