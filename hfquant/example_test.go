package hfquant_test

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/lmc-project/lmc/hfquant"
	"github.com/lmc-project/lmc/modelfile"
	"github.com/lmc-project/lmc/quant/fp"
	"github.com/lmc-project/lmc/safetensors"
	"github.com/lmc-project/lmc/tensor"
)

func ExampleQuantizeRTN() {
	w := []float32{-1, -0.5, 0, 0.25, 0.5, 0.75, 1, 0.1}
	s := hfquant.Scheme{Bits: 4, GroupSize: 8, Sym: true, ScaleDType: tensor.F16}
	q, err := hfquant.QuantizeRTN(w, 1, 8, s)
	if err != nil {
		panic(err)
	}
	y := make([]float32, 8)
	q.Dequantize(y)
	fmt.Println("codes:", q.Codes, "zero:", q.Zeros[0])
	fmt.Printf("scale %.6f, back: %.3f\n", q.Scales[0], y)
	// Output:
	// codes: [0 4 8 10 12 14 15 9] zero: 8
	// scale 0.133301, back: [-1.066 -0.533 0.000 0.267 0.533 0.800 0.933 0.133]
}

// writeTiny writes a one-block Llama (hidden 64, F32) as an HF folder.
func writeTiny(dir string) {
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
	f, _ := os.Create(filepath.Join(dir, "model.safetensors"))
	defer f.Close()
	w, _ := safetensors.NewWriter(f, nil, infos)
	for _, ti := range w.Tensors() {
		b := make([]byte, 4*ti.NumElements())
		for i := range ti.NumElements() {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(float32(math.Sin(float64(i)))/8))
		}
		w.WriteTensor(ti.Name, b)
	}
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(tinyConfig), 0o644)
}

func ExampleExport() {
	tmp, _ := os.MkdirTemp("", "hfquant")
	defer os.RemoveAll(tmp)
	writeTiny(filepath.Join(tmp))
	m, err := modelfile.Open(tmp, nil)
	if err != nil {
		panic(err)
	}
	defer m.Close()
	out := filepath.Join(tmp, "gptq")
	err = hfquant.Export(m, out, hfquant.ExportOptions{
		Format: hfquant.FormatGPTQ,
		Scheme: &hfquant.Scheme{Bits: 4, GroupSize: 32, Sym: true},
	})
	if err != nil {
		panic(err)
	}
	st, _ := safetensors.OpenModel(out)
	defer st.Close()
	for _, t := range st.Tensors() {
		if len(t.Name) > 30 && t.Name[:30] == "model.layers.0.self_attn.q_pro" {
			fmt.Println(t.Name, t.DType, t.Shape)
		}
	}
	// Output:
	// model.layers.0.self_attn.q_proj.g_idx I32 [64]
	// model.layers.0.self_attn.q_proj.qweight I32 [8 64]
	// model.layers.0.self_attn.q_proj.qzeros I32 [2 8]
	// model.layers.0.self_attn.q_proj.scales F16 [2 64]
}

func ExampleLoadQuantized() {
	tmp, _ := os.MkdirTemp("", "hfquant")
	defer os.RemoveAll(tmp)
	writeTiny(tmp)
	m, _ := modelfile.Open(tmp, nil)
	defer m.Close()
	out := filepath.Join(tmp, "w4a16")
	if err := hfquant.Export(m, out, hfquant.ExportOptions{
		Format: hfquant.FormatCompressedTensors,
		Scheme: &hfquant.Scheme{Bits: 4, GroupSize: 32, Sym: true},
	}); err != nil {
		panic(err)
	}
	cp, err := hfquant.LoadQuantized(out)
	if err != nil {
		panic(err)
	}
	q := cp.Ints["blk.0.ffn_down.weight"]
	fmt.Println(cp.Method, cp.Format, len(cp.Ints), "layers;", "ffn_down", q.Rows, "x", q.Cols, "in", q.Groups(), "groups of", q.Scheme.GroupSize)
	// modelfile.Open presents the same folder dequantized, ready to run.
	d, _ := modelfile.Open(out, nil)
	defer d.Close()
	fmt.Println(d.Tensor("blk.0.ffn_down.weight").DType)
	// Output:
	// compressed-tensors pack-quantized 7 layers; ffn_down 64 x 128 in 4 groups of 32
	// F32
}

func ExampleQuantizeRTNWith() {
	// Act-order groups: columns 0, 2 form group 0 and columns 1, 3 group 1.
	w := []float32{1, -0.01, -1, 0.02}
	s := hfquant.Scheme{Bits: 4, GroupSize: 2, Sym: true, ScaleDType: tensor.F32}
	q, err := hfquant.QuantizeRTNWith(w, 1, 4, s, hfquant.RTNOptions{GIdx: []int32{0, 1, 0, 1}})
	if err != nil {
		panic(err)
	}
	fmt.Printf("scales %.5f, codes %v\n", q.Scales, q.Codes)
	// Output: scales [0.13333 0.00267], codes [15 4 1 15]
}

func ExampleWriteGPTQ() {
	tmp, _ := os.MkdirTemp("", "hfquant")
	defer os.RemoveAll(tmp)
	writeTiny(tmp)
	m, _ := modelfile.Open(tmp, nil)
	defer m.Close()
	// Quantize every linear layer (here with RTN; GPTQ or AWQ would fill
	// the same map), then write them.
	s := hfquant.Scheme{Bits: 8, GroupSize: -1, Sym: true, ScaleDType: tensor.F16}
	q := map[string]*hfquant.Quantized{}
	for _, name := range hfquant.Targets(m) {
		t := m.Tensor(name)
		raw, _ := t.Read()
		w := make([]float32, t.NumElements())
		tensor.DecodeF32(w, raw, t.DType)
		q[name], _ = hfquant.QuantizeRTN(w, int(t.Shape[0]), int(t.Shape[1]), s)
	}
	out := filepath.Join(tmp, "w8")
	if err := hfquant.WriteGPTQ(out, m, q, &hfquant.WriteOptions{DType: tensor.BF16}); err != nil {
		panic(err)
	}
	cfg, _ := os.ReadFile(filepath.Join(out, "config.json"))
	fmt.Println(len(q), "layers;", strings.Contains(string(cfg), `"bits": 8`), strings.Contains(string(cfg), `"group_size": -1`))
	// Output: 7 layers; true true
}

func ExampleWriteCompressedTensorsFP8() {
	tmp, _ := os.MkdirTemp("", "hfquant")
	defer os.RemoveAll(tmp)
	writeTiny(tmp)
	m, _ := modelfile.Open(tmp, nil)
	defer m.Close()
	q := map[string]*fp.FP8{}
	for _, name := range hfquant.Targets(m) {
		t := m.Tensor(name)
		raw, _ := t.Read()
		w := make([]float32, t.NumElements())
		tensor.DecodeF32(w, raw, t.DType)
		q[name], _ = fp.QuantizeFP8(w, int(t.Shape[0]), int(t.Shape[1]), fp.PerChannel)
	}
	out := filepath.Join(tmp, "fp8")
	if err := hfquant.WriteCompressedTensorsFP8(out, m, q, &hfquant.WriteOptions{FP8Dynamic: true}); err != nil {
		panic(err)
	}
	st, _ := safetensors.OpenModel(out)
	defer st.Close()
	w, _ := st.Tensor("model.layers.0.mlp.down_proj.weight")
	sc, _ := st.Tensor("model.layers.0.mlp.down_proj.weight_scale")
	fmt.Println(w.DType, w.Shape, sc.DType, sc.Shape)
	// Output: F8_E4M3 [64 128] F32 [64 1]
}

func ExampleIsLinear() {
	for _, n := range []string{"blk.3.attn_k.weight", "blk.3.ffn_down.weight", "blk.3.attn_norm.weight", "output.weight", "token_embd.weight"} {
		fmt.Println(n, hfquant.IsLinear(n))
	}
	// Output:
	// blk.3.attn_k.weight true
	// blk.3.ffn_down.weight true
	// blk.3.attn_norm.weight false
	// output.weight false
	// token_embd.weight false
}
