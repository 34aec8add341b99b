package llama2c

// A minimal, test-only GGUF reader (KVs and tensor infos), so these tests
// can compare with llama.cpp's files without depending on lmc's gguf
// package, which is written concurrently. Replace with that package once it
// lands.

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"testing"
)

type testGGUF struct {
	kv      map[string]any // scalars as Go values; arrays as []any
	tensors map[string]testGGUFTensor
	order   []string
	data    []byte // whole file
	dataOff int64  // start of the tensor data section
}

type testGGUFTensor struct {
	dims []uint64
	typ  uint32
	off  uint64
}

type ggufCursor struct {
	b   []byte
	pos int
	err error
}

func (c *ggufCursor) take(n int) []byte {
	if c.err != nil {
		return nil
	}
	if n < 0 || len(c.b)-c.pos < n {
		c.err = fmt.Errorf("gguf: truncated at %d", c.pos)
		return nil
	}
	p := c.b[c.pos : c.pos+n]
	c.pos += n
	return p
}

func (c *ggufCursor) u32() uint32 {
	p := c.take(4)
	if p == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(p)
}

func (c *ggufCursor) u64() uint64 {
	p := c.take(8)
	if p == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(p)
}

func (c *ggufCursor) str() string {
	n := c.u64()
	if n > uint64(len(c.b)) {
		c.err = fmt.Errorf("gguf: string length %d", n)
		return ""
	}
	return string(c.take(int(n)))
}

func (c *ggufCursor) value(t uint32) any {
	switch t {
	case 0:
		return uint8(c.take(1)[0])
	case 1:
		return int8(c.take(1)[0])
	case 2:
		return binary.LittleEndian.Uint16(c.take(2))
	case 3:
		return int16(binary.LittleEndian.Uint16(c.take(2)))
	case 4:
		return c.u32()
	case 5:
		return int32(c.u32())
	case 6:
		return math.Float32frombits(c.u32())
	case 7:
		return c.take(1)[0] != 0
	case 8:
		return c.str()
	case 9:
		et := c.u32()
		n := c.u64()
		if n > uint64(len(c.b)) {
			c.err = fmt.Errorf("gguf: array length %d", n)
			return nil
		}
		out := make([]any, 0, n)
		for i := uint64(0); i < n && c.err == nil; i++ {
			out = append(out, c.value(et))
		}
		return out
	case 10:
		return c.u64()
	case 11:
		return int64(c.u64())
	case 12:
		return math.Float64frombits(c.u64())
	}
	c.err = fmt.Errorf("gguf: value type %d", t)
	return nil
}

func readTestGGUF(t testing.TB, path string) *testGGUF {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c := &ggufCursor{b: b}
	if string(c.take(4)) != "GGUF" {
		t.Fatalf("%s: not GGUF", path)
	}
	if v := c.u32(); v != 3 {
		t.Fatalf("%s: GGUF version %d", path, v)
	}
	nt, nkv := c.u64(), c.u64()
	g := &testGGUF{kv: map[string]any{}, tensors: map[string]testGGUFTensor{}, data: b}
	for i := uint64(0); i < nkv && c.err == nil; i++ {
		k := c.str()
		g.kv[k] = c.value(c.u32())
	}
	for i := uint64(0); i < nt && c.err == nil; i++ {
		name := c.str()
		nd := c.u32()
		dims := make([]uint64, 0, 4)
		for j := uint32(0); j < nd && j < 8; j++ {
			dims = append(dims, c.u64())
		}
		g.tensors[name] = testGGUFTensor{dims: dims, typ: c.u32(), off: c.u64()}
		g.order = append(g.order, name)
	}
	if c.err != nil {
		t.Fatalf("%s: %v", path, c.err)
	}
	align := int64(32)
	if a, ok := g.kv["general.alignment"].(uint32); ok {
		align = int64(a)
	}
	g.dataOff = (int64(c.pos) + align - 1) / align * align
	return g
}

func (g *testGGUF) strings(t testing.TB, key string) []string {
	t.Helper()
	arr, ok := g.kv[key].([]any)
	if !ok {
		t.Fatalf("gguf: no array %s", key)
	}
	out := make([]string, len(arr))
	for i, x := range arr {
		out[i] = x.(string)
	}
	return out
}

func (g *testGGUF) float32s(t testing.TB, key string) []float32 {
	t.Helper()
	arr, ok := g.kv[key].([]any)
	if !ok {
		t.Fatalf("gguf: no array %s", key)
	}
	out := make([]float32, len(arr))
	for i, x := range arr {
		out[i] = x.(float32)
	}
	return out
}

func (g *testGGUF) int32s(t testing.TB, key string) []int32 {
	t.Helper()
	arr, ok := g.kv[key].([]any)
	if !ok {
		t.Fatalf("gguf: no array %s", key)
	}
	out := make([]int32, len(arr))
	for i, x := range arr {
		out[i] = x.(int32)
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
