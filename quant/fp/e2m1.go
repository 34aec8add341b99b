package fp

import (
	"math"

	"github.com/lmc-project/lmc/tensor"
)

// E2M1 is the value of each 4-bit OCP FP4 (E2M1) code: bit 3 is the sign,
// bits 0–2 index the magnitudes 0, 0.5, 1, 1.5, 2, 3, 4, 6. Code 8 is −0.
var E2M1 = [16]float32{0, 0.5, 1, 1.5, 2, 3, 4, 6, negZero, -0.5, -1, -1.5, -2, -3, -4, -6}

var negZero = float32(math.Copysign(0, -1))

// KValuesMXFP4 is ggml's kvalues_mxfp4 (ggml-common.h): the E2M1 values
// doubled, so that they are integers. ggml's scales are halved to match
// ([E8M0ToF32Half], [UE4M3ToF32Half]).
var KValuesMXFP4 = [16]int8{0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12}

// E8M0ToF32Half is ggml's ggml_e8m0_to_fp32_half: 2^(e−128), half the
// value of the OCP E8M0 scale e (2^(e−127)). e = 0 and 1 give the float32
// subnormals 2^−128 and 2^−127; e = 255 (E8M0's NaN) gives 2^127, as in
// ggml, which does not treat it specially.
func E8M0ToF32Half(e uint8) float32 {
	if e < 2 {
		return math.Float32frombits(0x00200000 << e)
	}
	return math.Float32frombits(uint32(e-1) << 23)
}

// UE4M3ToF32Half is ggml's ggml_ue4m3_to_fp32: the unsigned E4M3 value of x
// (4 exponent bits with bias 7 in bits 3–6, 3 mantissa bits; bit 7 is
// ignored) times 0.5, to match the doubled [KValuesMXFP4]. 0x00 and 0x7F
// (the NaN pattern) give 0.
func UE4M3ToF32Half(x uint8) float32 {
	if x == 0 || x == 0x7f {
		return 0
	}
	exp := int(x>>3) & 0xf
	man := int(x & 7)
	var raw float32
	if exp == 0 {
		raw = float32(math.Ldexp(float64(man), -9))
	} else {
		raw = float32(math.Ldexp(1+float64(man)/8, exp-7))
	}
	return raw * 0.5
}

// F32ToUE4M3 is ggml's ggml_fp32_to_ue4m3, the NVFP4 sub-block scale
// encoder: values ≤ 0 and NaN give 0, values above 448 are clamped, the
// mantissa is rounded half up on the fourth mantissa bit (not to nearest
// even), and results that would need exponent 15 saturate to 0x7E (240).
func F32ToUE4M3(x float32) uint8 {
	if !(x > 0) {
		return 0
	}
	if x > 448 {
		x = 448
	}
	bits := math.Float32bits(x)
	fexp := int(bits>>23&0xff) - 127
	fman := int(bits>>20) & 7
	uexp := fexp + 7
	if uexp <= 0 { // subnormal
		man := int32(x*512 + 0.5)
		if man > 7 {
			man = 7
		}
		if man < 1 {
			return 0
		}
		return uint8(man)
	}
	if uexp >= 15 {
		return 0x7e
	}
	uman := fman + int(bits>>19&1)
	if uman > 7 {
		uman = 0
		uexp++
		if uexp >= 15 {
			return 0x7e
		}
	}
	return uint8(uexp<<3 | uman)
}

// bestIndexMXFP4 is ggml's best_index_mxfp4: the code whose doubled value
// times e is nearest to x, the first one on ties (so 0 beats −0). Only the
// codes of x's sign can win (the others are at least as far, and lose
// ties by coming later, except −0, which ties with 0 and loses too), so
// half the table is scanned, in ggml's order.
func bestIndexMXFP4(x, e float32) uint8 {
	best := 0
	bestErr := abs32(x) // code 0
	if math.Signbit(float64(x)) {
		for i := 9; i < 16; i++ {
			if err := abs32(float32(float32(KValuesMXFP4[i])*e) - x); err < bestErr {
				best, bestErr = i, err
			}
		}
		return uint8(best)
	}
	for i := 1; i < 8; i++ {
		if err := abs32(float32(float32(KValuesMXFP4[i])*e) - x); err < bestErr {
			best, bestErr = i, err
		}
	}
	return uint8(best)
}

// bestIndexMXFP4Ref scans all 16 codes, exactly as ggml does (test
// reference for bestIndexMXFP4).
func bestIndexMXFP4Ref(x, e float32) uint8 {
	best := 0
	bestErr := abs32(float32(float32(KValuesMXFP4[0])*e) - x)
	for i := 1; i < 16; i++ {
		err := abs32(float32(float32(KValuesMXFP4[i])*e) - x)
		if err < bestErr {
			best, bestErr = i, err
		}
	}
	return uint8(best)
}

// roundE2M1 rounds x to the nearest E2M1 code, ties to the even mantissa,
// after rounding x to BF16 first: compressed-tensors' cast_to_fp4 and
// vLLM's NVFP4 emulation (thresholds 0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5
// with > on the ties that go down and >= on those that go up). Values
// beyond ±6 saturate. The sign of x is kept, so −0.1 gives −0 (code 8).
func roundE2M1(x float32) uint8 {
	b := tensor.F32ToBF16(x)
	a := tensor.BF16ToF32(b &^ 0x8000)
	var m uint8
	switch {
	case a > 5:
		m = 7
	case a >= 3.5:
		m = 6
	case a > 2.5:
		m = 5
	case a >= 1.75:
		m = 4
	case a > 1.25:
		m = 3
	case a >= 0.75:
		m = 2
	case a > 0.25:
		m = 1
	}
	if b&0x8000 != 0 {
		m |= 8
	}
	return m
}
