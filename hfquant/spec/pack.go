package spec

import (
	"encoding/binary"
	"math"

	"github.com/lmc-project/lmc/tensor"
)

// PackLSB packs codes (each below 2^bits) into 32-bit words, LSB first:
// code k of word w sits at bit shift k·bits. This is the packing of GPTQ's
// qweight and qzeros and of compressed-tensors' pack_to_int32. A short
// last word is padded with zero codes. dst needs ceil(len(codes)·bits/32)
// words; it panics otherwise.
func PackLSB(dst []uint32, codes []uint8, bits int) {
	per := 32 / bits
	if len(dst) != (len(codes)+per-1)/per {
		panic("hfquant: PackLSB: wrong destination length")
	}
	for w := range dst {
		var v uint32
		for k := 0; k < per; k++ {
			if i := w*per + k; i < len(codes) {
				v |= uint32(codes[i]) << (bits * k)
			}
		}
		dst[w] = v
	}
}

// UnpackLSB is the inverse of PackLSB: it fills dst (len(dst) codes) from
// the words, ignoring padding.
func UnpackLSB(dst []uint8, words []uint32, bits int) {
	per := 32 / bits
	mask := uint32(1)<<bits - 1
	for i := range dst {
		dst[i] = uint8(words[i/per] >> (bits * (i % per)) & mask)
	}
}

// le32 helpers: the files hold little-endian int32.
func putWords(b []byte, w []uint32) {
	for i, v := range w {
		binary.LittleEndian.PutUint32(b[4*i:], v)
	}
}

func getWords(w []uint32, b []byte) {
	for i := range w {
		w[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
}

// encodeScales stores scales in dtype d (F16, BF16 or F32), failing with
// the index of the first value the dtype cannot hold exactly.
func encodeScales(dst []byte, scales []float32, d tensor.DType) (bad int, ok bool) {
	for i, s := range scales {
		switch d {
		case tensor.F16:
			h := tensor.F32ToF16(s)
			if tensor.F16ToF32(h) != s {
				return i, false
			}
			binary.LittleEndian.PutUint16(dst[2*i:], h)
		case tensor.BF16:
			h := tensor.F32ToBF16(s)
			if tensor.BF16ToF32(h) != s {
				return i, false
			}
			binary.LittleEndian.PutUint16(dst[2*i:], h)
		default:
			binary.LittleEndian.PutUint32(dst[4*i:], math.Float32bits(s))
		}
	}
	return 0, true
}
