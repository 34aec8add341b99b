package fp

import (
	"fmt"
	"math"
	"sort"
	"sync"
)

// NF4Code is bitsandbytes' NF4 ("4-bit NormalFloat") code table, exactly
// the float32 values of bitsandbytes/backends/utils.py _NF4_QUANT_TABLE
// (also hard-coded in its CUDA kernels): quantiles of N(0, 1) scaled to
// [−1, 1], with an exact zero at index 7.
var NF4Code = [16]float32{
	-1.0,
	-0.6961928009986877,
	-0.5250730514526367,
	-0.39491748809814453,
	-0.28444138169288635,
	-0.18477343022823334,
	-0.09105003625154495,
	0.0,
	0.07958029955625534,
	0.16093020141124725,
	0.24611230194568634,
	0.33791524171829224,
	0.44070982933044434,
	0.5626170039176941,
	0.7229568362236023,
	1.0,
}

// NF4 defaults, as bitsandbytes uses them for transformers'
// BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
// bnb_4bit_use_double_quant=True).
const (
	NF4BlockSize    = 64  // values per absmax
	NF4NestedBlock  = 256 // absmax values per second-level scale (fixed in bitsandbytes)
	nf4MaxBlockSize = 4096
)

// NF4Options tunes QuantizeNF4. The zero value means block size 64 without
// double quantization.
type NF4Options struct {
	BlockSize int // 0 means 64; bitsandbytes allows 32 … 4096, powers of two
	// DoubleQuant quantizes the absmax values too (bitsandbytes'
	// compress_statistics): their mean is subtracted, and the rest is
	// quantized in blocks of 256 to 8 bits with bitsandbytes' signed
	// dynamic code ([DynamicMap]) and one float32 absmax per block.
	DoubleQuant bool
}

// NF4 is a tensor quantized to NF4 the way bitsandbytes' quantize_4bit
// does. The tensor is seen as N values in row-major order, cut into blocks
// of BlockSize (the last one may be short). Value i is
//
//	NF4Code[code_i] · absmax[i / BlockSize]
//
// where absmax is Absmax, or with double quantization
// Code2[QAbsmax[b]] · Absmax2[b / 256] + Offset (float32 operations in that
// order, as bitsandbytes' dequantize_blockwise and dequantize_4bit).
type NF4 struct {
	N         int
	BlockSize int
	// Packed holds two codes per byte: value 2i in the high nibble of byte
	// i and value 2i+1 in the low nibble (bitsandbytes' order); an odd N
	// leaves the low nibble of the last byte as the code of 0.0 (7).
	Packed []uint8
	// Absmax is the float32 absmax of every block (nil with double
	// quantization).
	Absmax []float32
	// Double quantization of the absmax values.
	QAbsmax []uint8       // 8-bit code of absmax[b] − Offset
	Absmax2 []float32     // absmax of each block of 256 centred absmax values
	Offset  float32       // mean of the absmax values
	Code2   *[256]float32 // the code QAbsmax indexes ([DynamicMap])
}

// QuantizeNF4 quantizes x to NF4 (see [NF4]): for each block, absmax =
// max|x|, each value is scaled by 1/absmax (a float32 reciprocal and
// product, clamped to [−1, 1]) and takes the nearest entry of NF4Code (the
// first on ties, like torch.argmin). An all-zero block gets code 0 (−1.0,
// times absmax 0), which is what bitsandbytes' kernels produce from
// 0·(1/0) = NaN. With DoubleQuant the absmax values are then quantized as
// described in [NF4Options]; the mean is computed in float64 and rounded
// to float32 (torch's float32 mean may differ in the last bit). It returns
// a *ValueError for a NaN or ±Inf input.
func QuantizeNF4(x []float32, opts NF4Options) (*NF4, error) {
	bs := opts.BlockSize
	if bs == 0 {
		bs = NF4BlockSize
	}
	if bs < 32 || bs > nf4MaxBlockSize || bs&(bs-1) != 0 {
		return nil, fmt.Errorf("fp: NF4: block size %d: want a power of two from 32 to 4096", bs)
	}
	if len(x) == 0 {
		return nil, fmt.Errorf("fp: NF4: no values to quantize")
	}
	if err := checkFinite("NF4", x); err != nil {
		return nil, err
	}
	n := len(x)
	nb := (n + bs - 1) / bs
	q := &NF4{N: n, BlockSize: bs, Packed: make([]uint8, (n+1)/2)}
	absmax := make([]float32, nb)
	codes := make([]uint8, n+1)
	codes[n] = 7 // padding value 0.0
	for b := range absmax {
		blk := x[b*bs : min(n, (b+1)*bs)]
		var a float32
		for _, v := range blk {
			a = max(a, abs32(v))
		}
		absmax[b] = a
		inv := 1 / a
		for j, v := range blk {
			if a == 0 {
				codes[b*bs+j] = 0
				continue
			}
			codes[b*bs+j] = nearestCode(NF4Code[:], clamp1(v*inv))
		}
	}
	for i := range q.Packed {
		q.Packed[i] = codes[2*i]<<4 | codes[2*i+1]
	}
	if !opts.DoubleQuant {
		q.Absmax = absmax
		return q, nil
	}
	var sum float64
	for _, a := range absmax {
		sum += float64(a)
	}
	q.Offset = float32(sum / float64(nb))
	centred := make([]float32, nb)
	for i, a := range absmax {
		centred[i] = a - q.Offset
	}
	q.Code2 = DynamicMap()
	q.QAbsmax, q.Absmax2 = quantizeBlockwise(centred, q.Code2[:], NF4NestedBlock)
	return q, nil
}

func clamp1(v float32) float32 {
	return min(max(v, -1), 1)
}

// nearestCode returns the index of the entry of code nearest to v, the
// first one on ties (torch.argmin of |v − code|).
func nearestCode(code []float32, v float32) uint8 {
	best, bestErr := 0, abs32(v-code[0])
	for i := 1; i < len(code); i++ {
		if e := abs32(v - code[i]); e < bestErr {
			best, bestErr = i, e
		}
	}
	return uint8(best)
}

// quantizeBlockwise is bitsandbytes' quantize_blockwise (default backend):
// per block, absmax = max|x|, codes = argmin |clamp(x·(1/absmax)) − code|.
// An all-zero block gets the code of 0.
func quantizeBlockwise(x []float32, code []float32, bs int) ([]uint8, []float32) {
	n := len(x)
	nb := (n + bs - 1) / bs
	q := make([]uint8, n)
	absmax := make([]float32, nb)
	zero := nearestCode(code, 0)
	for b := range absmax {
		blk := x[b*bs : min(n, (b+1)*bs)]
		var a float32
		for _, v := range blk {
			a = max(a, abs32(v))
		}
		absmax[b] = a
		inv := 1 / a
		for j, v := range blk {
			if a == 0 {
				q[b*bs+j] = zero
				continue
			}
			q[b*bs+j] = nearestCode(code, clamp1(v*inv))
		}
	}
	return q, absmax
}

// BlockAbsmax returns the absmax that scales block b: Absmax[b], or the
// dequantized double-quantized value.
func (q *NF4) BlockAbsmax(b int) float32 {
	if q.Code2 == nil {
		return q.Absmax[b]
	}
	return float32(q.Code2[q.QAbsmax[b]]*q.Absmax2[b/NF4NestedBlock]) + q.Offset
}

// Code returns the 4-bit code of value i.
func (q *NF4) Code(i int) uint8 {
	b := q.Packed[i/2]
	if i%2 == 0 {
		return b >> 4
	}
	return b & 0xf
}

// Dequantize writes the N values into dst.
func (q *NF4) Dequantize(dst []float32) {
	if len(dst) < q.N {
		panic("fp: NF4.Dequantize: dst too short")
	}
	for b := 0; b*q.BlockSize < q.N; b++ {
		a := q.BlockAbsmax(b)
		for i := b * q.BlockSize; i < min(q.N, (b+1)*q.BlockSize); i++ {
			dst[i] = NF4Code[q.Code(i)] * a
		}
	}
}

// Bytes is the storage size: packed codes plus scales (float32 absmax, or
// one byte per block plus a float32 per 256 blocks, the offset and the
// 256-entry code).
func (q *NF4) Bytes() int {
	n := len(q.Packed)
	if q.Code2 == nil {
		return n + 4*len(q.Absmax)
	}
	return n + len(q.QAbsmax) + 4*len(q.Absmax2) + 4 + 4*256
}

var (
	dynOnce sync.Once
	dynMap  [256]float32
)

// DynamicMap returns bitsandbytes' create_dynamic_map(signed=True,
// max_exponent_bits=7, total_bits=8), the 8-bit code quantize_blockwise
// uses by default (and so the code of NF4's double quantization): for
// i = 0 … 6, the 2^i midpoints of linspace(0.1, 1, 2^i + 1) times
// 10^(i−6), with both signs, plus 0 and 1, sorted. The computation repeats
// PyTorch's float32 arithmetic (linspace's scalar path: start + i·step in
// the first half, end − (n−1−i)·step in the second; float32 midpoints and
// products); torch's vectorized linspace kernel may round a few entries one
// ulp differently, which is why [NF4] carries the code it used.
func DynamicMap() *[256]float32 {
	dynOnce.Do(func() {
		var data []float32
		for i := 0; i < 7; i++ {
			n := 1<<i + 1
			b := linspace32(0.1, 1, n)
			scale := float32(math.Pow(10, float64(i-6)))
			for j := 0; j+1 < n; j++ {
				m := (b[j] + b[j+1]) / 2
				data = append(data, scale*m)
			}
			for j := 0; j+1 < n; j++ {
				m := (b[j] + b[j+1]) / 2
				data = append(data, -scale*m)
			}
		}
		data = append(data, 0, 1)
		sort.Slice(data, func(a, b int) bool { return data[a] < data[b] })
		copy(dynMap[:], data)
	})
	m := dynMap
	return &m
}

// linspace32 is torch.linspace(start, end, n) in float32 (CPU scalar path).
func linspace32(start, end float32, n int) []float32 {
	out := make([]float32, n)
	if n == 1 {
		out[0] = start
		return out
	}
	step := (end - start) / float32(n-1)
	half := n / 2
	for i := range out {
		if i < half {
			out[i] = start + float32(step*float32(i))
		} else {
			out[i] = end - float32(step*float32(n-1-i))
		}
	}
	return out
}
