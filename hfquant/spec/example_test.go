package spec_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lmc-project/lmc/hfquant/spec"
	"github.com/lmc-project/lmc/safetensors"
	"github.com/lmc-project/lmc/tensor"
)

func ExamplePackLSB() {
	words := make([]uint32, 1)
	spec.PackLSB(words, []uint8{1, 2, 3, 4, 5, 6, 7, 8}, 4)
	fmt.Printf("%#x\n", words[0])
	// Output: 0x87654321
}

func ExampleEncodeGPTQ() {
	// 8 outputs × 8 inputs, one group, symmetric: zero 8 is stored as 7.
	q := &spec.Quantized{Rows: 8, Cols: 8, Scheme: spec.Scheme{Bits: 4, GroupSize: 8, Sym: true, ScaleDType: tensor.F16},
		Codes: make([]uint8, 64), Scales: make([]float32, 8), Zeros: make([]uint8, 8)}
	for r := 0; r < 8; r++ {
		for c := 0; c < 8; c++ {
			q.Codes[r*8+c] = uint8(r + c)
		}
		q.Scales[r], q.Zeros[r] = 0.5, 8
	}
	g, err := spec.EncodeGPTQ(q, false)
	if err != nil {
		panic(err)
	}
	fmt.Printf("qweight[0][0] = %#x, qweight[0][1] = %#x, qzeros[0][0] = %#x\n",
		binary.LittleEndian.Uint32(g.QWeight), binary.LittleEndian.Uint32(g.QWeight[4:]), binary.LittleEndian.Uint32(g.QZeros))
	// Output: qweight[0][0] = 0x76543210, qweight[0][1] = 0x87654321, qzeros[0][0] = 0x77777777
}

func ExampleEncodePacked() {
	q := &spec.Quantized{Rows: 1, Cols: 8, Scheme: spec.Scheme{Bits: 4, GroupSize: -1, Sym: false, ScaleDType: tensor.BF16},
		Codes: []uint8{0, 1, 2, 3, 12, 13, 14, 15}, Scales: []float32{0.25}, Zeros: []uint8{3}}
	p, err := spec.EncodePacked(q)
	if err != nil {
		panic(err)
	}
	fmt.Printf("weight_packed %#x, weight_zero_point %#x, weight_scale %#04x\n",
		binary.LittleEndian.Uint32(p.Packed), binary.LittleEndian.Uint32(p.ZeroPoint), binary.LittleEndian.Uint16(p.Scale))
	// Output: weight_packed 0xfedc3210, weight_zero_point 0x3, weight_scale 0x3e80
}

func ExampleParseGPTQConfig() {
	c, err := spec.ParseGPTQConfig("config.json", []byte(`{"quant_method":"gptq","bits":4,"group_size":128,"desc_act":false}`))
	if err != nil {
		panic(err)
	}
	fmt.Printf("%+v v2=%v\n", c.Scheme(), c.V2())
	// Output: {Bits:4 GroupSize:128 Sym:true ScaleDType:F16} v2=false
}

func ExampleNewView() {
	// A folder holding one GPTQ layer, and its quantization_config.
	q := &spec.Quantized{Rows: 8, Cols: 8, Scheme: spec.Scheme{Bits: 4, GroupSize: -1, Sym: true, ScaleDType: tensor.F16},
		Codes: make([]uint8, 64), Scales: make([]float32, 8), Zeros: make([]uint8, 8)}
	for i := range q.Codes {
		q.Codes[i] = uint8(i % 16)
	}
	for r := range 8 {
		q.Scales[r], q.Zeros[r] = 0.25, 8
	}
	g, _ := spec.EncodeGPTQ(q, false)
	qw, qz, sc, gi := spec.GPTQShapes(8, 8, q.Scheme)
	infos := []safetensors.TensorInfo{
		{Name: "layer.g_idx", DType: tensor.I32, Shape: gi}, {Name: "layer.qweight", DType: tensor.I32, Shape: qw},
		{Name: "layer.qzeros", DType: tensor.I32, Shape: qz}, {Name: "layer.scales", DType: tensor.F16, Shape: sc},
	}
	var buf bytes.Buffer
	w, _ := safetensors.NewWriter(&buf, nil, infos)
	for i, d := range [][]byte{g.GIdx, g.QWeight, g.QZeros, g.Scales} {
		w.WriteTensor(infos[i].Name, d)
	}
	dir, _ := os.MkdirTemp("", "spec")
	defer os.RemoveAll(dir)
	os.WriteFile(filepath.Join(dir, "model.safetensors"), buf.Bytes(), 0o644)
	st, err := safetensors.OpenModel(dir)
	if err != nil {
		panic(err)
	}
	defer st.Close()
	v, err := spec.NewView("config.json", st, []byte(`{"quant_method":"gptq","bits":4,"group_size":-1,"sym":true}`))
	if err != nil {
		panic(err)
	}
	for _, t := range v.Tensors() {
		fmt.Println(t.Name, t.DType, t.Shape)
	}
	row, _ := v.Dequantize("layer.weight")
	fmt.Println(row[:8])
	// Output:
	// layer.weight F32 [8 8]
	// [-2 -1.75 -1.5 -1.25 -1 -0.75 -0.5 -0.25]
}
