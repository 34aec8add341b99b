package plan

import (
	"fmt"
	"math"
	"strings"

	"github.com/lmc-project/lmc/gguf"
)

// KVType is a KV-cache storage format.
type KVType struct {
	Name string `json:"name"`
	// ggml is the llama.cpp cache type for plain and block types.
	ggml gguf.Type
	// bits > 0 marks a KIVI-style integer cache of that many bits with an
	// f16 scale and an f16 zero point per group of Group elements, and the
	// most recent Residual tokens of each sequence kept in f16.
	bits     int
	Group    int `json:"group,omitempty"`
	Residual int `json:"residual,omitempty"`
	fp8      bool
	// V is the value cache's type when it differs from the key cache's
	// (nil: the same); see ParseKVType's "K/V" form.
	V *KVType `json:"v,omitempty"`
}

// KIVI defaults (arXiv 2402.02750: group size 32, residual length 128).
const (
	DefaultKIVIGroup    = 32
	DefaultKIVIResidual = 128
)

// ParseKVType parses a KV-cache type: f32, f16, bf16, fp8 (e4m3/e5m2: one
// byte), the llama.cpp block types q8_0, q4_0, q4_1, q5_0, q5_1, iq4_nl, or
// int8/int4/int2 (KIVI-style, see [KVType]). "K/V" gives the key and value
// caches different types ("q8_0/f16", as llama.cpp's --cache-type-k and
// --cache-type-v).
func ParseKVType(s string) (KVType, error) {
	if ks, vs, ok := strings.Cut(s, "/"); ok {
		k, err := ParseKVType(ks)
		if err != nil {
			return k, err
		}
		v, err := ParseKVType(vs)
		if err != nil {
			return k, err
		}
		if k.Name != v.Name {
			k.V = &v
			k.Name += "/" + v.Name
		}
		return k, nil
	}
	t := strings.ToLower(strings.TrimSpace(s))
	k := KVType{Name: t}
	switch t {
	case "", "f16", "fp16":
		k.Name, k.ggml = "f16", gguf.TypeF16
	case "f32", "fp32":
		k.Name, k.ggml = "f32", gguf.TypeF32
	case "bf16":
		k.ggml = gguf.TypeBF16
	case "fp8", "f8", "e4m3", "e5m2", "fp8_e4m3", "fp8_e5m2":
		k.Name, k.fp8 = "fp8", true
	case "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "iq4_nl":
		k.ggml, _ = gguf.ParseType(t)
	case "int8", "int4", "int2", "kivi8", "kivi4", "kivi2":
		k.bits = int(t[len(t)-1] - '0')
		k.Name = fmt.Sprintf("int%d", k.bits)
		k.Group, k.Residual = DefaultKIVIGroup, DefaultKIVIResidual
	default:
		return k, fmt.Errorf("plan: unknown KV-cache type %q (f16, bf16, f32, fp8, q8_0, q4_0, q4_1, q5_0, q5_1, iq4_nl, int8, int4, int2)", s)
	}
	return k, nil
}

// rowBytes returns the bytes of n quantized elements (one token's K or V
// row of a layer), or an error when n does not fill whole blocks.
func (k KVType) rowBytes(n int64) (float64, error) {
	switch {
	case k.fp8:
		return float64(n), nil
	case k.bits > 0:
		g := int64(k.Group)
		groups := (n + g - 1) / g
		return float64(n*int64(k.bits))/8 + float64(groups*4), nil
	}
	b, err := k.ggml.RowSize(n)
	if err != nil {
		return 0, fmt.Errorf("KV cache %s: a row of %d elements: %v", k.Name, n, err)
	}
	return float64(b), nil
}

// BitsPerElement returns the average storage bits of one cached element
// (rows of 128 for block types).
func (k KVType) BitsPerElement() float64 {
	b, _ := k.rowBytes(int64(max(k.Group, 256)))
	return b * 8 / float64(max(k.Group, 256))
}

// KVLayout is what the cache stores per token, per layer and device.
type KVLayout struct {
	// RowElements is the elements of one token's K (and again of its V) in
	// one layer on one device: kv_heads × head_dim, or for MLA the latent
	// kv_lora_rank + qk_rope_head_dim (stored once: V is read from it).
	RowElements int64 `json:"row_elements"`
	// Rows is 2 (K and V) or 1 (MLA latent).
	Rows int `json:"rows"`
	// Layers is the number of layers with a cache; WindowLayers of them
	// keep only the last Window tokens.
	Layers       int `json:"layers"`
	WindowLayers int `json:"window_layers,omitempty"`
	Window       int `json:"window,omitempty"`
}

// Layout returns the cache layout of a on one of tp tensor-parallel devices.
// KV heads split across devices (rounded up: a device holds at least one
// head, as vLLM replicates heads when tp exceeds them); an MLA latent is
// replicated on every device. With fullSWA the windows are ignored (the
// cache holds every token, like llama.cpp's --swa-full).
func (a *Arch) Layout(tp int, fullSWA bool) KVLayout {
	tp = max(tp, 1)
	l := KVLayout{Layers: a.Layers, Rows: 2}
	if a.MLA() {
		l.Rows = 1
		l.RowElements = int64(a.KVLoRARank + a.QKRopeDim)
	} else {
		heads := (a.KVHeads + tp - 1) / tp
		l.RowElements = int64(heads) * int64(a.HeadDim)
	}
	if !fullSWA && a.SlidingWindow > 0 {
		for i := 0; i < a.Layers; i++ {
			if a.swaLayer(i) {
				l.WindowLayers++
			}
		}
		l.Window = a.SlidingWindow
	}
	return l
}

// value returns the value cache's type.
func (k KVType) value() KVType {
	if k.V != nil {
		return *k.V
	}
	return k
}

// BytesPerToken returns the cache bytes one token adds on one device, with
// no window cap (the slope of the cache until the windows fill).
func (l KVLayout) BytesPerToken(k KVType) (float64, error) {
	kb, err := k.rowBytes(l.RowElements)
	if err != nil {
		return 0, err
	}
	if l.Rows == 1 {
		return kb * float64(l.Layers), nil
	}
	vb, err := k.value().rowBytes(l.RowElements)
	if err != nil {
		return 0, err
	}
	return (kb + vb) * float64(l.Layers), nil
}

// SequenceBytes returns the cache bytes of one sequence of ctx tokens on one
// device: each layer holds ctx tokens (windowed layers at most Window);
// for a KIVI type the last Residual tokens are f16 and the rest quantized.
func (l KVLayout) SequenceBytes(k KVType, ctx int) (float64, error) {
	types := []KVType{k}
	if l.Rows == 2 {
		types = append(types, k.value())
	}
	total := 0.0
	for _, t := range types {
		rb, err := t.rowBytes(l.RowElements)
		if err != nil {
			return 0, err
		}
		perLayer := func(n int) float64 {
			if t.bits > 0 {
				res := min(n, t.Residual)
				return float64(n-res)*rb + float64(res)*float64(l.RowElements)*2
			}
			return float64(n) * rb
		}
		total += float64(l.Layers-l.WindowLayers) * perLayer(ctx)
		if l.WindowLayers > 0 {
			total += float64(l.WindowLayers) * perLayer(min(ctx, l.Window))
		}
	}
	return total, nil
}

// KVBytes is a convenience for the whole model on one device: the cache of
// batch sequences of ctx tokens in type kv, sliding windows applied.
func KVBytes(a *Arch, kv KVType, ctx, batch int) (int64, error) {
	b, err := a.Layout(1, false).SequenceBytes(kv, ctx)
	return int64(math.Ceil(b * float64(batch))), err
}
