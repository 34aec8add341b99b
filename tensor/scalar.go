package tensor

import "math"

// Bit patterns of float32 thresholds used below (sign bit cleared).
const (
	f32Inf      = 0x7f800000
	f32AbsMask  = 0x7fffffff
	f32Half     = 0x3f000000 // 0.5: its ulp is 2^-24, F16's subnormal step
	f32Pow14    = 0x46800000 // 2^14: its ulp is 2^-9, F8_E4M3's subnormal step
	f32Pow7     = 0x43000000 // 2^7 = 128: its ulp is 2^-16, F8_E5M2's subnormal step
	f16MinNorm  = 0x38800000 // 2^-14, smallest normal F16 and F8_E5M2
	f16InfEdge  = 0x477ff000 // 65520 = 65504 + ulp/2: from here F16 rounds to Inf
	e4m3MinNorm = 0x3c800000 // 2^-6, smallest normal F8_E4M3
	e4m3Max     = 0x43e00000 // 448, largest finite F8_E4M3
	e4m3NaNEdge = 0x43f00000 // 480: from here PyTorch gives NaN without rounding
	e5m2InfEdge = 0x47800000 // 65536 = 2^16: from here F8_E5M2 is Inf without rounding
)

// F16ToF32 converts an IEEE 754 half-precision value to float32. The
// conversion is exact. A NaN keeps its sign and payload and comes out quiet
// (as VCVTPH2PS does).
func F16ToF32(h uint16) float32 {
	a := uint32(h&0x7fff) << 13 // exponent and mantissa in float32 position
	if a >= 0x7c00<<13 {
		a |= f32Inf // Inf, or NaN made quiet below
		if a > f32Inf {
			a |= 0x400000
		}
	} else {
		// As a float32, a is the value scaled by 2^-112 (a subnormal one for
		// F16 subnormals); the exact multiplication rescales it.
		a = math.Float32bits(math.Float32frombits(a) * 0x1p112)
	}
	return math.Float32frombits(uint32(h&0x8000)<<16 | a)
}

// F32ToF16 converts f to IEEE 754 half precision, rounding to nearest with
// ties to even. Values of magnitude 65520 or more become ±Inf, values below
// the smallest subnormal (2^-24) round to ±0 or to it, and a NaN becomes a
// quiet NaN with the same sign and the leading 9 bits of its payload (as
// VCVTPS2PH does).
func F32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	a := b & f32AbsMask
	var r uint32
	switch {
	case a < f16MinNorm:
		// Subnormal or zero result: adding 0.5 aligns F16's subnormal step
		// 2^-24 with float32's last mantissa bit, so the hardware's RNE does
		// the rounding; the result 0x400 (2^-14) is the smallest normal, as
		// it should be.
		r = math.Float32bits(math.Float32frombits(a)+0.5) - f32Half
	case a < f16InfEdge: // normal result: RNE on the 13 dropped bits
		r = (a + 0xfff + (a>>13)&1 - (127-15)<<23) >> 13
	case a > f32Inf: // NaN
		r = 0x7e00 | a>>13&0x3ff
	default: // rounds to Inf, or is Inf
		r = 0x7c00
	}
	return uint16(b>>16)&0x8000 | uint16(r)
}

// BF16ToF32 converts a bfloat16 value to float32. The conversion is exact
// and keeps every bit pattern, NaN payloads included.
func BF16ToF32(h uint16) float32 {
	return math.Float32frombits(uint32(h) << 16)
}

// F32ToBF16 converts f to bfloat16, rounding to nearest with ties to even;
// subnormals are rounded, not flushed, and values that round past the
// largest finite bfloat16 become ±Inf. A NaN becomes a quiet NaN with the
// same sign and the leading 6 bits of its payload.
func F32ToBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&f32AbsMask > f32Inf {
		return uint16(b>>16) | 0x40
	}
	return uint16((b + 0x7fff + (b>>16)&1) >> 16)
}

// F8E4M3ToF32 converts an OCP FP8 E4M3 ("e4m3fn") value to float32. The
// conversion is exact; 0x7F and 0xFF, the format's only NaNs, become quiet
// NaNs with their sign (bits 0x7FF00000, as PyTorch gives).
func F8E4M3ToF32(b uint8) float32 {
	a := uint32(b&0x7f) << 20 // exponent and mantissa in float32 position
	if a == 0x7f<<20 {
		a = 0x7ff00000
	} else {
		a = math.Float32bits(math.Float32frombits(a) * 0x1p120) // exact rescale, as in F16ToF32
	}
	return math.Float32frombits(uint32(b&0x80)<<24 | a)
}

// F32ToF8E4M3 converts f to OCP FP8 E4M3 ("e4m3fn"), rounding to nearest
// with ties to even, with the semantics of PyTorch's
// x.to(torch.float8_e4m3fn): the format has no infinity, so a value that
// rounds above the largest finite 448 (that is |f| > 464), ±Inf and NaN all
// become NaN (0x7F, or 0xFF when negative). 464 itself, a tie, rounds to
// 448. Use [F32ToF8E4M3Sat] to clamp instead.
func F32ToF8E4M3(f float32) uint8 {
	b := math.Float32bits(f)
	sign := uint8(b>>24) & 0x80
	b &= f32AbsMask
	switch {
	case b >= e4m3NaNEdge: // NaN, ±Inf, |f| ≥ 480
		return sign | 0x7f
	case b >= e4m3MinNorm: // normal result (or 0x7F when it rounds past 448)
		b += 0x7ffff + (b>>20)&1
		return sign | uint8((b-(127-7)<<23)>>20)
	}
	return sign | uint8(math.Float32bits(math.Float32frombits(b)+0x1p14)-f32Pow14)
}

// F32ToF8E4M3Sat is [F32ToF8E4M3] with saturation: finite values beyond the
// range and ±Inf become ±448 (0x7E, 0xFE); NaN still becomes NaN.
func F32ToF8E4M3Sat(f float32) uint8 {
	b := math.Float32bits(f)
	if a := b & f32AbsMask; a > e4m3Max && a <= f32Inf {
		return uint8(b>>24)&0x80 | 0x7e
	}
	return F32ToF8E4M3(f)
}

// F8E5M2ToF32 converts an OCP FP8 E5M2 value to float32. E5M2 is the upper
// byte of an IEEE half, so this is F16ToF32(uint16(b)<<8): exact, with
// ±Inf at 0x7C/0xFC and NaNs coming out quiet.
func F8E5M2ToF32(b uint8) float32 {
	return F16ToF32(uint16(b) << 8)
}

// F32ToF8E5M2 converts f to OCP FP8 E5M2, rounding to nearest with ties to
// even, like PyTorch's x.to(torch.float8_e5m2): values of magnitude 61440
// (57344 + ulp/2) or more become ±Inf (0x7C, 0xFC), and NaN becomes 0x7F
// (0xFF when negative).
func F32ToF8E5M2(f float32) uint8 {
	b := math.Float32bits(f)
	sign := uint8(b>>24) & 0x80
	b &= f32AbsMask
	switch {
	case b > f32Inf:
		return sign | 0x7f
	case b >= e5m2InfEdge:
		return sign | 0x7c
	case b >= f16MinNorm: // normal result (or Inf when it rounds past 57344)
		b += 0xfffff + (b>>21)&1
		return sign | uint8((b-(127-15)<<23)>>21)
	}
	return sign | uint8(math.Float32bits(math.Float32frombits(b)+128)-f32Pow7)
}

// f64ToF32Odd rounds x to float32 with round-to-odd: an inexact result is
// truncated toward zero and its last bit set. Rounding that result again to
// any format with at least two fewer mantissa bits (F16, BF16, FP8) with RNE
// gives the correctly rounded value of x, which float32(x) followed by RNE
// does not (it can round twice). NaN goes through float32(x).
func f64ToF32Odd(x float64) float32 {
	f := float32(x)
	if float64(f) == x || x != x {
		return f
	}
	b := math.Float32bits(f)
	if math.Abs(float64(f)) > math.Abs(x) { // rounded away from zero (maybe to Inf)
		b--
	}
	return math.Float32frombits(b | 1)
}
