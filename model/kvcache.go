package model

import (
	"fmt"

	"github.com/lmc-project/lmc/tensor"
)

// KVCache stores the keys and values of past positions for every layer.
// Positions are 0..Len()-1; a Session writes new positions with Put (every
// layer), then commits them with SetLen. Implementations decide the storage
// (F32, F16, quantized) and may evict or compress, as long as Keys and
// Values return float32 rows for positions [0, n).
type KVCache interface {
	// Layers is the number of layers, Dim the floats per position and
	// layer (n_kv_heads × head_dim), Cap the most positions it holds.
	Layers() int
	Dim() int
	Cap() int
	// Len is the number of committed positions.
	Len() int
	// Put stores keys k and values v (each n × Dim floats) of layer for
	// positions pos .. pos+n-1 (pos+n ≤ Cap).
	Put(layer, pos int, k, v []float32)
	// Keys and Values return n × Dim floats, the rows of positions [0, n)
	// of layer (n ≤ the highest position stored + 1). The slice may alias
	// the cache or a scratch buffer that the next call of the same method
	// reuses; callers only read it.
	Keys(layer, n int) []float32
	Values(layer, n int) []float32
	// SetLen sets the number of committed positions: forward after Put,
	// or back to truncate (0 resets). Truncating (n ≤ Len()) also drops
	// whatever a pass that never committed Put beyond n (a forward pass
	// cut short), so that SetLen(Len()) restores the committed state.
	SetLen(n int)
}

// NewKVCache returns a simple random-access cache of type f32 or f16 for
// layers × capacity positions of dim floats, for callers that implement
// their own attention. Sessions build their cache (a [*Cache], which
// supports every type) from SessionOptions.
func NewKVCache(t KVType, layers, dim, capacity int) (KVCache, error) {
	if layers <= 0 || dim <= 0 || capacity <= 0 {
		return nil, fmt.Errorf("model: KV cache shape layers %d, dim %d, capacity %d is not positive", layers, dim, capacity)
	}
	if int64(layers)*int64(dim)*int64(capacity) > 1<<34 {
		return nil, fmt.Errorf("model: KV cache of %d layers × %d positions × %d floats is too large", layers, capacity, dim)
	}
	base := kvBase{layers: layers, dim: dim, capacity: capacity}
	switch t {
	case KVF32:
		c := &kvF32{kvBase: base, k: make([][]float32, layers), v: make([][]float32, layers)}
		for l := range c.k {
			c.k[l] = make([]float32, capacity*dim)
			c.v[l] = make([]float32, capacity*dim)
		}
		return c, nil
	case KVF16:
		c := &kvF16{kvBase: base, k: make([][]uint16, layers), v: make([][]uint16, layers)}
		for l := range c.k {
			c.k[l] = make([]uint16, capacity*dim)
			c.v[l] = make([]uint16, capacity*dim)
		}
		return c, nil
	}
	return nil, fmt.Errorf("model: NewKVCache supports f32 and f16, not %v (sessions take any type through SessionOptions.KV)", t)
}

type kvBase struct {
	layers, dim, capacity, n int
}

func (c *kvBase) Layers() int { return c.layers }
func (c *kvBase) Dim() int    { return c.dim }
func (c *kvBase) Cap() int    { return c.capacity }
func (c *kvBase) Len() int    { return c.n }

func (c *kvBase) SetLen(n int) {
	if n < 0 || n > c.capacity {
		panic(fmt.Sprintf("model: KV cache SetLen(%d) outside [0, %d]", n, c.capacity))
	}
	c.n = n
}

func (c *kvBase) check(layer, pos, nk, nv int) int {
	if nk != nv || nk%c.dim != 0 {
		panic(fmt.Sprintf("model: KV cache Put with %d keys and %d values, not equal multiples of dim %d", nk, nv, c.dim))
	}
	n := nk / c.dim
	if layer < 0 || layer >= c.layers || pos < 0 || pos+n > c.capacity {
		panic(fmt.Sprintf("model: KV cache Put layer %d positions [%d, %d) outside %d layers × %d", layer, pos, pos+n, c.layers, c.capacity))
	}
	return n
}

type kvF32 struct {
	kvBase
	k, v [][]float32
}

func (c *kvF32) Put(layer, pos int, k, v []float32) {
	c.check(layer, pos, len(k), len(v))
	copy(c.k[layer][pos*c.dim:], k)
	copy(c.v[layer][pos*c.dim:], v)
}

func (c *kvF32) Keys(layer, n int) []float32   { return c.k[layer][:n*c.dim] }
func (c *kvF32) Values(layer, n int) []float32 { return c.v[layer][:n*c.dim] }

type kvF16 struct {
	kvBase
	k, v       [][]uint16
	kbuf, vbuf []float32
}

func (c *kvF16) Put(layer, pos int, k, v []float32) {
	c.check(layer, pos, len(k), len(v))
	tensor.F32ToF16Slice(c.k[layer][pos*c.dim:pos*c.dim+len(k)], k)
	tensor.F32ToF16Slice(c.v[layer][pos*c.dim:pos*c.dim+len(v)], v)
}

func (c *kvF16) Keys(layer, n int) []float32 {
	c.kbuf = widen(c.kbuf, c.k[layer][:n*c.dim])
	return c.kbuf
}

func (c *kvF16) Values(layer, n int) []float32 {
	c.vbuf = widen(c.vbuf, c.v[layer][:n*c.dim])
	return c.vbuf
}

func widen(buf []float32, src []uint16) []float32 {
	if cap(buf) < len(src) {
		buf = make([]float32, len(src), max(len(src), 2*cap(buf)))
	}
	buf = buf[:len(src)]
	tensor.F16ToF32Slice(buf, src)
	return buf
}
