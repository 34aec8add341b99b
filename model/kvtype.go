package model

import (
	"fmt"
	"math"
	"strings"
	"unsafe"

	"github.com/lmc-project/lmc/kernels"
	"github.com/lmc-project/lmc/quant"
	"github.com/lmc-project/lmc/tensor"
)

// KVType selects how the built-in cache stores keys and values. A single
// type applies to both; [KVPair] combines a key type and a value type
// (llama.cpp's -ctk/-ctv), written "K/V" ("q8_0/f16").
type KVType int

// The element types. The block types quantize each head of each position
// in blocks of 32 along the head dimension, with ggml's byte layouts, as
// llama.cpp's -ctk/-ctv do; they need head_dim to be a multiple of 32.
const (
	KVF32  KVType = iota // float32: exact
	KVF16                // IEEE half: half the memory, ~1e-3 relative rounding
	KVBF16               // bfloat16: float32's range, 8 significant bits
	KVFP8                // OCP FP8 E4M3 (e4m3fn), saturating at ±448, no scale
	KVQ8_0               // ggml Q8_0: 8.5 bits per element
	KVQ4_0               // ggml Q4_0: 4.5 bits per element
	KVInt4               // KIVI 4-bit: keys per channel in groups of tokens, values per token (ggml Q4_1 blocks)
	KVInt2               // KIVI 2-bit: as KVInt4 with 2-bit codes
	numKVTypes
)

var kvTypeNames = [numKVTypes]string{"f32", "f16", "bf16", "fp8", "q8_0", "q4_0", "int4", "int2"}

// KVPair returns the type that stores keys as k and values as v. Both
// must be single types.
func KVPair(k, v KVType) KVType {
	if k == v {
		return k
	}
	return k | (v+1)<<8
}

// K is the key type of t.
func (t KVType) K() KVType { return t & 0xff }

// V is the value type of t.
func (t KVType) V() KVType {
	if t>>8 == 0 {
		return t
	}
	return t>>8 - 1
}

func (t KVType) valid() bool {
	k, v := t.K(), t.V()
	return k >= 0 && k < numKVTypes && v >= 0 && v < numKVTypes && t>>16 == 0
}

func (t KVType) String() string {
	if !t.valid() {
		return fmt.Sprintf("KVType(%d)", int(t))
	}
	if t.K() == t.V() {
		return kvTypeNames[t.K()]
	}
	return kvTypeNames[t.K()] + "/" + kvTypeNames[t.V()]
}

// kivi reports whether the single type t is a KIVI type.
func (t KVType) kivi() bool { return t == KVInt4 || t == KVInt2 }

// bits is the code width of a KIVI type.
func (t KVType) bits() int {
	if t == KVInt2 {
		return 2
	}
	return 4
}

// KVTypeNames lists the names ParseKVType accepts for single types.
func KVTypeNames() []string { return append([]string(nil), kvTypeNames[:]...) }

// ParseKVType parses a KV cache type: one of f32, f16, bf16, fp8 (also
// e4m3), q8_0, q4_0, int4 (also kivi4), int2 (also kivi2), for keys and
// values alike, or "K/V" with a key type and a value type ("q8_0/f16").
// Case is ignored.
func ParseKVType(s string) (KVType, error) {
	if ks, vs, ok := strings.Cut(s, "/"); ok {
		k, err := parseKVType1(ks)
		if err != nil {
			return 0, err
		}
		v, err := parseKVType1(vs)
		if err != nil {
			return 0, err
		}
		return KVPair(k, v), nil
	}
	return parseKVType1(s)
}

func parseKVType1(s string) (KVType, error) {
	switch strings.ToLower(s) {
	case "e4m3", "fp8_e4m3", "f8_e4m3":
		return KVFP8, nil
	case "kivi4", "kivi-int4":
		return KVInt4, nil
	case "kivi2", "kivi-int2":
		return KVInt2, nil
	}
	for i, n := range kvTypeNames {
		if strings.EqualFold(s, n) {
			return KVType(i), nil
		}
	}
	return 0, fmt.Errorf("model: unknown KV cache type %q (want one of %s, or K/V such as q8_0/f16)", s, strings.Join(kvTypeNames[:], ", "))
}

// rowCodec stores rows of one head (hd floats) as one kernels.RowType.
type rowCodec struct {
	row    kernels.RowType
	encode func(dst []byte, src []float32)
}

// codecFor returns the per-position codec of a single type, used for
// keys (key = true) or values. KIVI keys are stored as code rows (U4, U2)
// beside per-channel parameters; KIVI values as Q4_1 or Q2_1 rows.
func codecFor(t KVType, key bool) rowCodec {
	switch t {
	case KVF32:
		return rowCodec{kernels.RowF32, func(dst []byte, src []float32) { copy(f32s(dst, len(src)), src) }}
	case KVF16:
		return rowCodec{kernels.RowF16, func(dst []byte, src []float32) { tensor.F32ToF16Slice(u16s(dst, len(src)), src) }}
	case KVBF16:
		return rowCodec{kernels.RowBF16, func(dst []byte, src []float32) { tensor.F32ToBF16Slice(u16s(dst, len(src)), src) }}
	case KVFP8:
		return rowCodec{kernels.RowE4M3, func(dst []byte, src []float32) {
			for i, v := range sanitize(src) {
				dst[i] = tensor.F32ToF8E4M3Sat(v)
			}
		}}
	case KVQ8_0:
		// llama.cpp copies F32 rows into a Q8_0 cache with the CPU
		// backend's quantize_row_q8_0 (round half to even).
		return rowCodec{kernels.RowQ8_0, func(dst []byte, src []float32) { quant.QuantizeRowQ8_0(dst, sanitize(src)) }}
	case KVQ4_0:
		return rowCodec{kernels.RowQ4_0, func(dst []byte, src []float32) { mustQuantize(quant.Q4_0, dst, src) }}
	case KVInt4:
		if key {
			return rowCodec{row: kernels.RowU4}
		}
		return rowCodec{kernels.RowQ4_1, func(dst []byte, src []float32) { mustQuantize(quant.Q4_1, dst, src) }}
	case KVInt2:
		if key {
			return rowCodec{row: kernels.RowU2}
		}
		return rowCodec{kernels.RowQ2_1, quantizeQ2_1}
	}
	panic(fmt.Sprintf("model: no codec for KV type %v", t))
}

// sanitize replaces NaN and ±Inf (which a broken model may produce) by 0
// so that quantizers do not fail mid-run; it returns src itself when it
// is finite.
func sanitize(src []float32) []float32 {
	for i, v := range src {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			c := append([]float32(nil), src...)
			for j := i; j < len(c); j++ {
				if math.IsNaN(float64(c[j])) || math.IsInf(float64(c[j]), 0) {
					c[j] = 0
				}
			}
			return c
		}
	}
	return src
}

func mustQuantize(f *quant.Format, dst []byte, src []float32) {
	if err := f.Quantize(dst, sanitize(src), nil); err != nil {
		panic(err) // lengths are checked at start-up
	}
}

// quantizeQ2_1 is Q4_1's recipe with 2-bit codes: per block of 32,
// d = (max−min)/3, m = min, c = min(3, int(((x−min)/d) + 0.5)).
func quantizeQ2_1(dst []byte, src []float32) {
	src = sanitize(src)
	for b := 0; b+32 <= len(src); b += 32 {
		x := src[b : b+32]
		o := dst[b/32*12 : b/32*12+12]
		lo, hi := x[0], x[0]
		for _, v := range x {
			lo, hi = min(lo, v), max(hi, v)
		}
		d := (hi - lo) / 3
		var id float32
		if d != 0 {
			id = 1 / d
		}
		put16(o, tensor.F32ToF16(d))
		put16(o[2:], tensor.F32ToF16(lo))
		clear(o[4:])
		for i, v := range x {
			c := min(3, int8((v-lo)*id+0.5))
			o[4+i%8] |= byte(c) << (2 * (i / 8))
		}
	}
}

func put16(b []byte, v uint16) { b[0], b[1] = byte(v), byte(v>>8) }

func f32s(b []byte, n int) []float32 { return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), n) }
func u16s(b []byte, n int) []uint16  { return unsafe.Slice((*uint16)(unsafe.Pointer(&b[0])), n) }
