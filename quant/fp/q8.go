package fp

import (
	"math"

	"github.com/lmc-project/lmc/tensor"
)

// QuantizeRowQ8_0 quantizes activations to ggml Q8_0 blocks (half d; i8
// qs[32]) the way llama.cpp's x86 CPU backend does before an MXFP4 or
// NVFP4 dot product (quantize_row_q8_0, AVX2 path): d = amax/127 stored
// as fp16, codes = round-half-even(x · (127/amax)). len(src) must be a
// multiple of 32 and len(dst) = len(src)/32·34; it panics otherwise. It is
// the same computation as quant.QuantizeRowQ8_0, repeated here so that
// this package depends only on the format tables.
func QuantizeRowQ8_0(dst []byte, src []float32) {
	checkBlocks("QuantizeRowQ8_0", len(src), 32, len(dst), 34)
	for ; len(src) >= 32; src, dst = src[32:], dst[34:] {
		var amax float32
		for _, v := range src[:32] {
			amax = max(amax, abs32(v))
		}
		h := tensor.F32ToF16(amax / 127)
		dst[0], dst[1] = byte(h), byte(h>>8)
		var id float32
		if amax != 0 {
			id = 127 / amax
		}
		for j, v := range src[:32] {
			dst[2+j] = byte(int8(math.RoundToEven(float64(float32(v * id)))))
		}
	}
}
