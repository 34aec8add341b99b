package safetensors_test

import (
	"bytes"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/lmc-project/lmc/safetensors"
	"github.com/lmc-project/lmc/tensor"
)

func ExampleNewWriter() {
	tensors := []safetensors.TensorInfo{
		{Name: "bias", DType: tensor.F32, Shape: []int64{2}},
		{Name: "weight", DType: tensor.BF16, Shape: []int64{2, 2}},
	}
	var buf bytes.Buffer
	w, err := safetensors.NewWriter(&buf, map[string]string{"format": "pt"}, tensors)
	if err != nil {
		log.Fatal(err)
	}
	w.WriteTensor("bias", make([]byte, 8))
	w.WriteTensor("weight", []byte{0x80, 0x3f, 0, 0x40, 0x40, 0x40, 0x80, 0x40}) // 1, 2, 3, 4
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d bytes, header %q\n", buf.Len(), buf.Bytes()[8:w.Size()-16])
	// Output:
	// 176 bytes, header "{\"__metadata__\":{\"format\":\"pt\"},\"bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"weight\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[8,16]}}  "
}

func ExampleFromBytes() {
	var buf bytes.Buffer
	w, _ := safetensors.NewWriter(&buf, nil, []safetensors.TensorInfo{{Name: "x", DType: tensor.U8, Shape: []int64{3}}})
	w.WriteTensor("x", []byte{1, 2, 3})

	f, err := safetensors.FromBytes("embedded.safetensors", buf.Bytes())
	if err != nil {
		log.Fatal(err)
	}
	x, _ := f.Data("x")
	fmt.Println(f.Tensors[0].Name, f.Tensors[0].DType, f.Tensors[0].Shape, x)

	// A defect is a *FormatError naming the file, the tensor and the field.
	_, err = safetensors.FromBytes("bad.safetensors", buf.Bytes()[:buf.Len()-1])
	fmt.Println(errors.Is(err, safetensors.ErrFormat))
	fmt.Println(err)
	// Output:
	// x U8 [3] [1 2 3]
	// true
	// safetensors: bad.safetensors: offset 53: tensor "x": data_offsets: [0, 3) out of range: the data section has 2 bytes
}

func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model.safetensors")
	fh, _ := os.Create(path)
	w, _ := safetensors.NewWriter(fh, nil, []safetensors.TensorInfo{{Name: "w", DType: tensor.I16, Shape: []int64{2, 1}}})
	w.WriteTensor("w", []byte{1, 0, 2, 0})
	fh.Close()

	f, err := safetensors.Open(path) // mapped read-only; only the header is read
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	for _, t := range f.Tensors {
		data, _ := f.Data(t.Name) // zero-copy view of the mapping
		fmt.Println(t.Name, t.DType, t.Shape, t.NumElements(), data)
	}
	// Output:
	// w I16 [2 1] 2 [1 0 2 0]
}

func ExampleNewShardedWriter() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	var tensors []safetensors.TensorInfo
	for i := range 4 {
		tensors = append(tensors, safetensors.TensorInfo{Name: fmt.Sprintf("layer.%d", i), DType: tensor.F32, Shape: []int64{256}})
	}
	sw, err := safetensors.NewShardedWriter(dir, map[string]string{"format": "pt"}, tensors, 2048) // 2 tensors per shard
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range tensors {
		sw.WriteTensor(t.Name, make([]byte, t.NumBytes()))
	}
	if err := sw.Close(); err != nil {
		log.Fatal(err)
	}

	m, err := safetensors.OpenModel(dir) // finds model.safetensors.index.json
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	for _, f := range m.Files() {
		fmt.Println(filepath.Base(f))
	}
	fmt.Println(len(m.Tensors()), "tensors, metadata", m.Metadata())
	// Output:
	// model-00001-of-00002.safetensors
	// model-00002-of-00002.safetensors
	// 4 tensors, metadata map[format:pt]
}

func ExampleCheckNotPickle() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "pytorch_model.bin")
	os.WriteFile(path, []byte("\x80\x02}q\x00."), 0o644) // a protocol-2 pickle

	err := safetensors.CheckNotPickle(path)
	var pe *safetensors.PickleError
	fmt.Println(errors.Is(err, safetensors.ErrPickle), errors.As(err, &pe) && pe.Kind == "Python pickle (protocol 2)")
	_, err = safetensors.Open(path) // Open refuses it the same way
	fmt.Println(errors.Is(err, safetensors.ErrPickle))
	// Output:
	// true true
	// true
}
