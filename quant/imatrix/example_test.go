package imatrix_test

import (
	"bytes"
	"fmt"

	"github.com/lmc-project/lmc/quant/imatrix"
)

// An importance matrix goes through llama-imatrix's GGUF format and gives
// llama-quantize's weights: mean squared activations.
func ExampleMatrix_EncodeGGUF() {
	m := &imatrix.Matrix{Datasets: []string{"calibration.txt"}, ChunkCount: 2, ChunkSize: 512,
		Entries: map[string]*imatrix.Entry{
			"blk.0.ffn_down.weight": {Cols: 4, Sum2: []float32{1024, 2048, 0, 512}, Counts: []float32{1024}},
		}}
	var buf bytes.Buffer
	if err := m.EncodeGGUF(&buf); err != nil {
		fmt.Println(err)
		return
	}
	back, err := imatrix.Parse("imatrix.gguf", buf.Bytes(), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(back.Names(), back.ChunkCount, back.Datasets)
	fmt.Println(back.Weights("blk.0.ffn_down.weight"))
	// Output:
	// [blk.0.ffn_down.weight] 2 [calibration.txt]
	// [1 2 0 0.5]
}
