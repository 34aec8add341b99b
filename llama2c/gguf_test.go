package llama2c

// testGGUF is a view of a GGUF file, read with lmc's gguf package, in the
// shape these tests compare against: metadata scalars as Go values, arrays
// as []any, tensor infos by name, and the file's bytes.

import (
	"math"
	"os"
	"testing"

	"github.com/lmc-project/lmc/gguf"
)

type testGGUF struct {
	kv      map[string]any
	tensors map[string]testGGUFTensor
	data    []byte // whole file
	dataOff int64  // start of the tensor data section
}

type testGGUFTensor struct {
	dims []uint64
	typ  uint32
	off  uint64
}

func readTestGGUF(t testing.TB, path string) *testGGUF {
	t.Helper()
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	g := &testGGUF{kv: map[string]any{}, tensors: map[string]testGGUFTensor{}, data: b, dataOff: f.DataOffset}
	for _, kv := range f.KVs {
		if a, ok := kv.Value.AsArray(); ok {
			arr := make([]any, a.Len())
			for i := range arr {
				arr[i] = a.At(i)
			}
			g.kv[kv.Key] = arr
			continue
		}
		g.kv[kv.Key] = kv.Value.V
	}
	for _, ti := range f.Tensors {
		g.tensors[ti.Name] = testGGUFTensor{dims: ti.Shape, typ: uint32(ti.Type), off: ti.Offset}
	}
	return g
}

func (g *testGGUF) strings(t testing.TB, key string) []string { return arrayOf[string](t, g, key) }

func (g *testGGUF) float32s(t testing.TB, key string) []float32 { return arrayOf[float32](t, g, key) }

func (g *testGGUF) int32s(t testing.TB, key string) []int32 { return arrayOf[int32](t, g, key) }

func arrayOf[T any](t testing.TB, g *testGGUF, key string) []T {
	t.Helper()
	arr, ok := g.kv[key].([]any)
	if !ok {
		t.Fatalf("gguf: no array %s", key)
	}
	out := make([]T, len(arr))
	for i, x := range arr {
		out[i] = x.(T)
	}
	return out
}

// id returns a uint32 token-id KV as an int (-1 for absent or 0xFFFFFFFF).
func (g *testGGUF) id(key string) int {
	x, ok := g.kv[key].(uint32)
	if !ok || x == math.MaxUint32 {
		return -1
	}
	return int(x)
}
