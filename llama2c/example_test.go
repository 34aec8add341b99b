package llama2c_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/lmc-project/lmc/llama2c"
)

// checkpoint returns a tiny legacy checkpoint: dim 4, hidden 6, 1 layer,
// 2 heads, 1 KV head, vocab 3 (negative: separate classifier), seq_len 2.
func checkpoint() []byte {
	var b []byte
	for _, v := range []int32{4, 6, 1, 2, 1, -3, 2} {
		b = binary.LittleEndian.AppendUint32(b, uint32(v))
	}
	n := 3*4 + 4 + 16 + 8 + 8 + 16 + 4 + 24 + 24 + 24 + 4 + 2*2 + 3*4
	for i := 0; i < n; i++ {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(i)))
	}
	return b
}

func ExampleOpen() {
	path := filepath.Join(os.TempDir(), "lmc-example-llama2c.bin")
	defer os.Remove(path)
	if err := os.WriteFile(path, checkpoint(), 0o644); err != nil {
		panic(err)
	}
	c, err := llama2c.Open(path)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	fmt.Printf("%+v\n", c.Config)
	for _, t := range c.Tensors() {
		fmt.Println(t.Name, t.Shape, t.Offset)
	}
	// Output:
	// {Dim:4 HiddenDim:6 NLayers:1 NHeads:2 NKVHeads:1 VocabSize:3 SeqLen:2 SharedClassifier:false}
	// tok_embeddings.weight [3 4] 28
	// layers.0.attention_norm.weight [4] 76
	// layers.0.attention.wq.weight [4 4] 92
	// layers.0.attention.wk.weight [2 4] 156
	// layers.0.attention.wv.weight [2 4] 188
	// layers.0.attention.wo.weight [4 4] 220
	// layers.0.ffn_norm.weight [4] 284
	// layers.0.feed_forward.w1.weight [6 4] 300
	// layers.0.feed_forward.w2.weight [4 6] 396
	// layers.0.feed_forward.w3.weight [6 4] 492
	// norm.weight [4] 588
	// output.weight [3 4] 620
}

func ExampleCheckpoint_Data() {
	b := checkpoint()
	c, err := llama2c.NewReader(bytes.NewReader(b), int64(len(b)), "mem")
	if err != nil {
		panic(err)
	}
	data, err := c.Data("norm.weight")
	if err != nil {
		panic(err)
	}
	for i := 0; i < len(data); i += 4 {
		fmt.Print(math.Float32frombits(binary.LittleEndian.Uint32(data[i:])), " ")
	}
	fmt.Println()
	// Output: 140 141 142 143
}

func ExampleNewReader() {
	b := checkpoint()
	_, err := llama2c.NewReader(bytes.NewReader(b[:100]), 100, "short.bin")
	fmt.Println(err)
	// Output: llama2c: short.bin: size: file has 100 bytes, a llama2.c v0 checkpoint with this header needs 668 (separate classifier, vocab_size < 0): the file is truncated
}

func ExampleParseHeader() {
	hdr := []byte("24ka\x01\x00\x00\x00")
	_, _, err := llama2c.ParseHeader(hdr, 1000)
	fmt.Println(err)
	// Output: llama2c: magic: a llama2.c versioned checkpoint (magic "ak42", version 1); only the legacy version 0 format (export.py --version 0) is supported (at byte 0)
}
