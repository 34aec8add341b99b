package fp

import (
	"fmt"

	"github.com/lmc-project/lmc/tensor"
)

// ggml NVFP4 block geometry (ggml's block_nvfp4: u8 d[4]; u8 qs[32]): 64
// elements in four sub-blocks of 16, each with its own UE4M3 scale.
const (
	NVFP4BlockSize    = 64 // elements per ggml block
	NVFP4BlockBytes   = 36 // bytes per ggml block
	NVFP4SubBlockSize = 16 // elements per scale (ggml and NVIDIA alike)
)

// QuantizeRowNVFP4 quantizes src (a multiple of 64 values) into ggml NVFP4
// blocks in dst (len(src)/64·36 bytes), bit for bit as ggml's
// quantize_row_nvfp4_ref: per sub-block s of 16, d[s] =
// [F32ToUE4M3](amax/6), then each element takes the nearest of
// KValuesMXFP4·[UE4M3ToF32Half](d[s]) (first index on ties). Sub-block s
// uses qs[8s..8s+7]: its element j in the low nibble of qs[8s+j] and
// element j+8 in the high nibble. ggml's NVFP4 has no per-tensor scale in
// the block (llama.cpp keeps NVIDIA's second-level scale in a separate
// ".scale" tensor); this quantizer uses none. It panics on wrong lengths and
// returns a *ValueError for a NaN or ±Inf input.
func QuantizeRowNVFP4(dst []byte, src []float32) error {
	checkBlocks("QuantizeRowNVFP4", len(src), NVFP4BlockSize, len(dst), NVFP4BlockBytes)
	if err := checkFinite("NVFP4", src); err != nil {
		return err
	}
	for b := 0; b < len(src)/NVFP4BlockSize; b++ {
		y := dst[b*NVFP4BlockBytes : (b+1)*NVFP4BlockBytes]
		for s := 0; s < 4; s++ {
			x := src[b*NVFP4BlockSize+s*16 : b*NVFP4BlockSize+s*16+16]
			var amax float32
			for _, v := range x {
				if a := abs32(v); amax < a {
					amax = a
				}
			}
			ue := F32ToUE4M3(amax / 6)
			y[s] = ue
			d := UE4M3ToF32Half(ue)
			for j := 0; j < 8; j++ {
				y[4+s*8+j] = bestIndexMXFP4(x[j], d) | bestIndexMXFP4(x[j+8], d)<<4
			}
		}
	}
	return nil
}

// DequantizeRowNVFP4 decodes ggml NVFP4 blocks (ggml's
// dequantize_row_nvfp4): y = KValuesMXFP4[nibble] · UE4M3ToF32Half(d[s]).
// Every byte pattern decodes; it panics on wrong lengths.
func DequantizeRowNVFP4(dst []float32, src []byte) {
	checkBlocks("DequantizeRowNVFP4", len(dst), NVFP4BlockSize, len(src), NVFP4BlockBytes)
	for b := 0; b < len(dst)/NVFP4BlockSize; b++ {
		x := src[b*NVFP4BlockBytes : (b+1)*NVFP4BlockBytes]
		for s := 0; s < 4; s++ {
			d := UE4M3ToF32Half(x[s])
			y := dst[b*NVFP4BlockSize+s*16:]
			for j := 0; j < 8; j++ {
				q := x[4+s*8+j]
				y[j] = float32(KValuesMXFP4[q&0xf]) * d
				y[j+8] = float32(KValuesMXFP4[q>>4]) * d
			}
		}
	}
}

// DotNVFP4Q8_0 is the dot product of n values of ggml NVFP4 blocks w with
// Q8_0 blocks x (two Q8_0 blocks per NVFP4 block), computed as llama.cpp's
// x86 CPU backend does (ggml_vec_dot_nvfp4_q8_0, AVX2 path): eight float32
// lanes, lane k of each Q8_0 block holding the integer sum of its
// elements 4k…4k+3, scaled by UE4M3ToF32Half(d[s])·fp16(d_x) of its
// sub-block with a fused multiply-add, summed at the end as hsum_float_8.
// The result is bit-identical to llama.cpp's on amd64.
func DotNVFP4Q8_0(n int, w, x []byte) float32 {
	var acc [8]float32
	for b := 0; b < n/NVFP4BlockSize; b++ {
		wb := w[b*NVFP4BlockBytes : (b+1)*NVFP4BlockBytes]
		for h := 0; h < 2; h++ {
			xb := x[(2*b+h)*34:]
			dy := tensor.F16ToF32(uint16(xb[0]) | uint16(xb[1])<<8)
			scale := [2]float32{float32(UE4M3ToF32Half(wb[2*h]) * dy), float32(UE4M3ToF32Half(wb[2*h+1]) * dy)}
			for k := 0; k < 8; k++ {
				s := 2*h + k/4 // sub-block of lane k
				var p int32
				for e := 4 * k; e < 4*k+4; e++ {
					j := e % 16 // element within the sub-block
					q := wb[4+s*8+j%8]
					var v int8
					if j < 8 {
						v = KValuesMXFP4[q&0xf]
					} else {
						v = KValuesMXFP4[q>>4]
					}
					p += int32(v) * int32(int8(xb[2+e]))
				}
				acc[k] = fma32(scale[k/4], float32(p), acc[k])
			}
		}
	}
	return hsum8(&acc)
}

// dotNVFP4Q8_0Generic is ggml's ggml_vec_dot_nvfp4_q8_0_generic (scalar
// summation order), kept as a test reference.
func dotNVFP4Q8_0Generic(n int, w, x []byte) float32 {
	var sum float32
	for b := 0; b < n/NVFP4BlockSize; b++ {
		wb := w[b*NVFP4BlockBytes : (b+1)*NVFP4BlockBytes]
		for s := 0; s < 4; s++ {
			d := UE4M3ToF32Half(wb[s])
			xb := x[(2*b+s/2)*34:]
			dy := tensor.F16ToF32(uint16(xb[0]) | uint16(xb[1])<<8)
			off := 2 + (s%2)*16
			var lo, hi int32
			for j := 0; j < 8; j++ {
				q := wb[4+s*8+j]
				lo += int32(int8(xb[off+j])) * int32(KValuesMXFP4[q&0xf])
				hi += int32(int8(xb[off+8+j])) * int32(KValuesMXFP4[q>>4])
			}
			sum += float32(float32(dy*d) * float32(lo+hi))
		}
	}
	return sum
}

// NVFP4 is a weight matrix in NVIDIA's NVFP4 format as compressed-tensors
// stores it (format "nvfp4-pack-quantized"): E2M1 values in groups of 16
// along each row, one FP8 E4M3 scale per group, and one float32 global
// scale per tensor. The value of element (r, c) is
//
//	E2M1[code] · F8E4M3(Scales[r·Cols/16 + c/16]) / GlobalScale
//
// Tensors in the file: weight_packed (U8 [Rows, Cols/2], Packed),
// weight_scale (F8_E4M3 [Rows, Cols/16], Scales) and weight_global_scale
// (F32 [1], GlobalScale). vLLM's weight_scale_2 is 1/GlobalScale.
type NVFP4 struct {
	Rows, Cols int
	// Packed holds two codes per byte, row-major: element 2i in the low
	// nibble of byte i, element 2i+1 in the high nibble
	// (compressed-tensors' pack_fp4_to_uint8).
	Packed []uint8
	// Scales are the FP8 E4M3 bit patterns of the group scales, already
	// multiplied by GlobalScale.
	Scales []uint8
	// GlobalScale is 448·6/amax of the whole tensor (compressed-tensors'
	// generate_gparam), so that the largest group scale lands on E4M3's
	// largest value 448.
	GlobalScale float32
}

// QuantizeNVFP4 quantizes a rows × cols matrix (cols a multiple of 16) to
// NVIDIA's NVFP4 the way compressed-tensors does (calculate_qparams with a
// global scale, then quantize): GlobalScale = 448·6/amax (amax clamped to
// the smallest normal float32); for each group of 16, scale =
// F8E4M3(GlobalScale·amax_g/6) (saturating, and 0 replaced by 0.125, the
// FP8 epsilon compressed-tensors uses); each element is x / (scale /
// GlobalScale), rounded to the nearest E2M1 value (ties to even, after
// rounding to BF16 as compressed-tensors' cast_to_fp4 does). It returns a
// *ValueError for a NaN or ±Inf input.
func QuantizeNVFP4(w []float32, rows, cols int) (*NVFP4, error) {
	if rows <= 0 || cols <= 0 || cols%NVFP4SubBlockSize != 0 || len(w) != rows*cols {
		return nil, fmt.Errorf("fp: NVFP4: shape [%d, %d] with %d values: want positive sizes, cols a multiple of 16 and rows×cols values", rows, cols, len(w))
	}
	if err := checkFinite("NVFP4", w); err != nil {
		return nil, err
	}
	var amax float32
	for _, v := range w {
		amax = max(amax, abs32(v))
	}
	amax = max(amax, 0x1p-126)
	q := &NVFP4{Rows: rows, Cols: cols, Packed: make([]uint8, rows*cols/2), Scales: make([]uint8, rows*cols/16)}
	q.GlobalScale = float32(448 * 6 / amax)
	for g := range q.Scales {
		x := w[g*16 : g*16+16]
		var ga float32
		for _, v := range x {
			ga = max(ga, abs32(v))
		}
		s := tensor.F32ToF8E4M3Sat(float32(q.GlobalScale * float32(ga/6)))
		if s&0x7f == 0 {
			s = 0x20 // 0.125
		}
		q.Scales[g] = s
		eff := tensor.F8E4M3ToF32(s) / q.GlobalScale
		for j := 0; j < 16; j += 2 {
			lo := roundE2M1(x[j] / eff)
			hi := roundE2M1(x[j+1] / eff)
			q.Packed[(g*16+j)/2] = lo | hi<<4
		}
	}
	return q, nil
}

// Dequantize writes the Rows × Cols values into dst, computed as
// compressed-tensors' dequantize does: E2M1 value × (scale / GlobalScale)
// in float32.
func (q *NVFP4) Dequantize(dst []float32) {
	if len(dst) < q.Rows*q.Cols {
		panic("fp: NVFP4.Dequantize: dst too short")
	}
	for g, s := range q.Scales {
		eff := tensor.F8E4M3ToF32(s) / q.GlobalScale
		for j := 0; j < 16; j += 2 {
			b := q.Packed[(g*16+j)/2]
			dst[g*16+j] = E2M1[b&0xf] * eff
			dst[g*16+j+1] = E2M1[b>>4] * eff
		}
	}
}
