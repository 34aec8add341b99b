package fp

import (
	"math"

	"github.com/lmc-project/lmc/tensor"
)

// MXFP4 block geometry (ggml's block_mxfp4: u8 e; u8 qs[16]).
const (
	MXFP4BlockSize  = 32 // elements per block
	MXFP4BlockBytes = 17 // bytes per block
)

func checkBlocks(name string, nElems, blockSize, nBytes, blockBytes int) {
	if nElems%blockSize != 0 || nBytes != nElems/blockSize*blockBytes {
		panic("fp: " + name + ": want len(src) a multiple of the block size and len(dst) = blocks × block bytes")
	}
}

// MXFP4Exponent is the shared E8M0 exponent ggml's quantize_row_mxfp4_ref
// picks for a block whose largest magnitude is amax: floor(log2(amax)) − 2
// + 127 (the OCP MX rule: the largest E2M1 magnitude, 6 = 1.5·2², lands
// on amax's power of two), or 0 when amax is 0. As in ggml (and the
// x86 conversion it compiles to), a result below 0, for amax < 2^−125,
// wraps around modulo 256.
func MXFP4Exponent(amax float32) uint8 {
	if !(amax > 0) {
		return 0
	}
	l := float32(math.Log2(float64(amax))) // log2f
	return uint8(int32(float32(math.Floor(float64(l))) - 2 + 127))
}

// QuantizeRowMXFP4 quantizes src (a multiple of 32 values) into ggml MXFP4
// blocks in dst (len(src)/32·17 bytes), bit for bit as ggml's
// quantize_row_mxfp4_ref: per block of 32, e = [MXFP4Exponent](amax), then
// every element takes the nearest of the 16 values KValuesMXFP4·2^(e−128)
// (first index on ties). Element j goes in the low nibble of qs[j], element
// j+16 in the high nibble. It panics on wrong lengths and returns a
// *ValueError for a NaN or ±Inf input (dst is then unspecified).
func QuantizeRowMXFP4(dst []byte, src []float32) error {
	checkBlocks("QuantizeRowMXFP4", len(src), MXFP4BlockSize, len(dst), MXFP4BlockBytes)
	if err := checkFinite("MXFP4", src); err != nil {
		return err
	}
	for b := 0; b < len(src)/MXFP4BlockSize; b++ {
		x := src[b*MXFP4BlockSize : (b+1)*MXFP4BlockSize]
		y := dst[b*MXFP4BlockBytes : (b+1)*MXFP4BlockBytes]
		var amax float32
		for _, v := range x {
			if a := abs32(v); amax < a {
				amax = a
			}
		}
		e := MXFP4Exponent(amax)
		d := E8M0ToF32Half(e)
		y[0] = e
		for j := 0; j < 16; j++ {
			y[1+j] = bestIndexMXFP4(x[j], d) | bestIndexMXFP4(x[j+16], d)<<4
		}
	}
	return nil
}

// DequantizeRowMXFP4 decodes ggml MXFP4 blocks (ggml's
// dequantize_row_mxfp4): y = KValuesMXFP4[nibble] · 2^(e−128). Every byte
// pattern decodes; it panics on wrong lengths.
func DequantizeRowMXFP4(dst []float32, src []byte) {
	checkBlocks("DequantizeRowMXFP4", len(dst), MXFP4BlockSize, len(src), MXFP4BlockBytes)
	for b := 0; b < len(dst)/MXFP4BlockSize; b++ {
		x := src[b*MXFP4BlockBytes : (b+1)*MXFP4BlockBytes]
		y := dst[b*MXFP4BlockSize : (b+1)*MXFP4BlockSize]
		d := E8M0ToF32Half(x[0])
		for j := 0; j < 16; j++ {
			q := x[1+j]
			y[j] = float32(KValuesMXFP4[q&0xf]) * d
			y[j+16] = float32(KValuesMXFP4[q>>4]) * d
		}
	}
}

// DotMXFP4Q8_0 is the dot product of n values of MXFP4 blocks w with Q8_0
// blocks x (activations quantized by [QuantizeRowQ8_0]), accumulated the
// way llama.cpp's CPU backend does for MXFP4 weights on x86, where they
// are repacked into 8-row tiles (ggml_gemv/gemm_mxfp4_8x8_q8_0): per
// block, the exact integer sum of the 32 products, then one fused
// multiply-add by fp16(d_x)·2^(e−128) into a float32 accumulator. lmc's
// engine then agrees with llama.cpp on MXFP4 models to about 1e-6 in
// probabilities (TestAgainstLlamaCpp).
func DotMXFP4Q8_0(n int, w, x []byte) float32 {
	var sum float32
	for b := 0; b < n/MXFP4BlockSize; b++ {
		wb := w[b*MXFP4BlockBytes : (b+1)*MXFP4BlockBytes]
		xb := x[b*34 : (b+1)*34]
		var s int32
		for j := 0; j < 16; j++ {
			q := wb[1+j]
			s += int32(int8(xb[2+j]))*int32(KValuesMXFP4[q&0xf]) + int32(int8(xb[2+16+j]))*int32(KValuesMXFP4[q>>4])
		}
		d := float32(tensor.F16ToF32(uint16(xb[0])|uint16(xb[1])<<8) * E8M0ToF32Half(wb[0]))
		sum = fma32(d, float32(s), sum)
	}
	return sum
}

// dotMXFP4Q8_0AVX2 is ggml_vec_dot_mxfp4_q8_0 as its AVX2 build computes
// it (the non-repacked path): blocks in pairs into two accumulators of
// eight float32 lanes, lane k holding the integer sum of elements 4k…4k+3
// scaled with a fused multiply-add; lanes summed as hsum_float_8; an odd
// last block added with one more FMA. Kept to check, bit for bit against
// ggml (TestGGMLDot), that lmc reads the block layout as ggml does.
func dotMXFP4Q8_0AVX2(n int, w, x []byte) float32 {
	nb := n / MXFP4BlockSize
	var acc1, acc2 [8]float32
	b := 0
	for ; b+1 < nb; b += 2 {
		mxfp4Lanes(&acc1, w[b*MXFP4BlockBytes:], x[b*34:])
		mxfp4Lanes(&acc2, w[(b+1)*MXFP4BlockBytes:], x[(b+1)*34:])
	}
	for i := range acc1 {
		acc1[i] += acc2[i]
	}
	sum := hsum8(&acc1)
	for ; b < nb; b++ {
		wb, xb := w[b*MXFP4BlockBytes:], x[b*34:]
		d := float32(tensor.F16ToF32(uint16(xb[0])|uint16(xb[1])<<8) * E8M0ToF32Half(wb[0]))
		var s int32
		for j := 0; j < 16; j++ {
			q := wb[1+j]
			s += int32(int8(xb[2+j]))*int32(KValuesMXFP4[q&0xf]) + int32(int8(xb[2+16+j]))*int32(KValuesMXFP4[q>>4])
		}
		sum = fma32(d, float32(s), sum)
	}
	return sum
}

// mxfp4Lanes adds one block's eight lane sums to acc (AVX2: mul_add_epi8,
// madd_epi16 with ones, cvtepi32_ps, fmadd_ps).
func mxfp4Lanes(acc *[8]float32, wb, xb []byte) {
	d := float32(tensor.F16ToF32(uint16(xb[0])|uint16(xb[1])<<8) * E8M0ToF32Half(wb[0]))
	q8 := xb[2:34]
	for k := 0; k < 8; k++ {
		var p int32
		for e := 4 * k; e < 4*k+4; e++ {
			var v int8
			if e < 16 {
				v = KValuesMXFP4[wb[1+e]&0xf]
			} else {
				v = KValuesMXFP4[wb[1+e-16]>>4]
			}
			p += int32(v) * int32(int8(q8[e]))
		}
		acc[k] = fma32(d, float32(p), acc[k])
	}
}

// dotMXFP4Q8_0Generic is ggml's ggml_vec_dot_mxfp4_q8_0_generic (scalar
// summation order), kept as a test reference.
func dotMXFP4Q8_0Generic(n int, w, x []byte) float32 {
	var sum float32
	for b := 0; b < n/MXFP4BlockSize; b++ {
		wb := w[b*MXFP4BlockBytes : (b+1)*MXFP4BlockBytes]
		xb := x[b*34 : (b+1)*34]
		d := float32(tensor.F16ToF32(uint16(xb[0])|uint16(xb[1])<<8) * E8M0ToF32Half(wb[0]))
		var s1, s2 int32
		for j := 0; j < 16; j++ {
			q := wb[1+j]
			s1 += int32(int8(xb[2+j])) * int32(KValuesMXFP4[q&0xf])
			s2 += int32(int8(xb[2+16+j])) * int32(KValuesMXFP4[q>>4])
		}
		sum += float32(d * float32(s1+s2))
	}
	return sum
}
