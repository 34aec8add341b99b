package gguf_test

import (
	"bytes"
	"fmt"
	"log"
	"os"

	"github.com/lmc-project/lmc/gguf"
)

// tinyModel writes a two-tensor GGUF file into memory.
func tinyModel() []byte {
	kvs := []gguf.KV{
		{Key: "general.architecture", Value: gguf.String("llama")},
		{Key: "llama.block_count", Value: gguf.Uint32(1)},
		{Key: "tokenizer.ggml.tokens", Value: gguf.Strings([]string{"<unk>", "<s>", "</s>"})},
	}
	tensors := []gguf.TensorInfo{
		{Name: "token_embd.weight", Shape: []uint64{4, 3}, Type: gguf.TypeF32},
		{Name: "output.weight", Shape: []uint64{32, 3}, Type: gguf.TypeQ8_0},
	}
	var buf bytes.Buffer
	w, err := gguf.NewWriter(&buf, kvs, tensors, 0)
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range w.Tensors() {
		if err := w.WriteTensor(t.Name, make([]byte, t.Size())); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
	return buf.Bytes()
}

func ExampleNewWriter() {
	var buf bytes.Buffer
	w, err := gguf.NewWriter(&buf,
		[]gguf.KV{{Key: "general.architecture", Value: gguf.String("llama")}},
		[]gguf.TensorInfo{{Name: "w", Shape: []uint64{256, 2}, Type: gguf.TypeQ4_K}},
		0)
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range w.Tensors() {
		fmt.Printf("%s: %v %v at offset %d, %d bytes\n", t.Name, t.Type, t.Shape, t.Offset, t.Size())
		if err := w.WriteTensor(t.Name, make([]byte, t.Size())); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Println(buf.Len(), "bytes")
	// Output:
	// w: q4_K [256 2] at offset 0, 288 bytes
	// 416 bytes
}

func ExampleOpen() {
	tmp, err := os.CreateTemp("", "example-*.gguf")
	if err != nil {
		log.Fatal(err)
	}
	path := tmp.Name()
	defer os.Remove(path)
	if _, err := tmp.Write(tinyModel()); err != nil {
		log.Fatal(err)
	}
	if err := tmp.Close(); err != nil {
		log.Fatal(err)
	}

	f, err := gguf.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	n, _ := f.Uint(f.Arch() + ".block_count")
	fmt.Println(f.Arch(), "v", f.Version, "blocks:", n)
	for _, t := range f.Tensors {
		data, err := f.Data(t.Name)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(t.Name, t.Type, t.Shape, len(data))
	}
	// Output:
	// llama v 3 blocks: 1
	// token_embd.weight f32 [4 3] 48
	// output.weight q8_0 [32 3] 102
}

func ExampleParse() {
	b := tinyModel()
	f, err := gguf.Parse("tiny.gguf", bytes.NewReader(b), int64(len(b)))
	if err != nil {
		log.Fatal(err)
	}
	for _, kv := range f.KVs {
		fmt.Printf("%s %v = %v\n", kv.Key, kv.Value.Type, kv.Value)
	}
	// Output:
	// general.architecture str = "llama"
	// llama.block_count u32 = 1
	// tokenizer.ggml.tokens arr = [str × 3: "<unk>", "<s>", "</s>"]
}

func ExampleParseBytes() {
	b := tinyModel()
	b[0] = 'X' // corrupt the magic
	_, err := gguf.ParseBytes("tiny.gguf", b)
	fmt.Println(err)
	// Output:
	// gguf: tiny.gguf: magic (offset 0): got "XGUF", want "GGUF": not a GGUF file
}

func ExampleFile_Strings() {
	f, err := gguf.ParseBytes("tiny.gguf", tinyModel())
	if err != nil {
		log.Fatal(err)
	}
	toks, ok := f.Strings("tokenizer.ggml.tokens")
	fmt.Println(toks, ok)
	_, ok = f.Strings("llama.block_count")
	fmt.Println(ok)
	// Output:
	// [<unk> <s> </s>] true
	// false
}

func ExampleParseType() {
	t, err := gguf.ParseType("Q4_K")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(t, t.UpperName(), uint32(t), t.BlockSize(), t.TypeSize())
	// Output: q4_K Q4_K 12 256 144
}

func ExampleType_RowSize() {
	n, err := gguf.TypeQ6_K.RowSize(4096)
	fmt.Println(n, err)
	_, err = gguf.TypeQ6_K.RowSize(4000)
	fmt.Println(err)
	// Output:
	// 3360 <nil>
	// gguf: row length 4000 is not a multiple of the q6_K block size 256
}
