// Writes a GGUF with books5M's metadata and one 16384×4096 F32 tensor
// (256 MiB), to measure the peak RSS of lmc quantize on a large tensor.
package main

import (
	"bufio"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"

	"github.com/lmc-project/lmc/gguf"
)

func main() {
	src, err := gguf.Open("/work/shared/models/books5M/books5M-f32.gguf")
	if err != nil {
		panic(err)
	}
	const rows, cols = 16384, 4096
	f, _ := os.Create(os.Args[1])
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	w, err := gguf.NewWriter(bw, src.KVs, []gguf.TensorInfo{{Name: "blk.0.ffn_up.weight", Shape: []uint64{cols, rows}, Type: gguf.TypeF32}}, 0)
	if err != nil {
		panic(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	pr, pw, _ := os.Pipe()
	go func() {
		buf := make([]byte, 4*cols)
		for r := 0; r < rows; r++ {
			for c := 0; c < cols; c++ {
				binary.LittleEndian.PutUint32(buf[4*c:], math.Float32bits(float32(rng.NormFloat64())))
			}
			pw.Write(buf)
		}
		pw.Close()
	}()
	if err := w.WriteTensorFrom("blk.0.ffn_up.weight", pr); err != nil {
		panic(err)
	}
	w.Close()
	bw.Flush()
}
