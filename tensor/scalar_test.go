package tensor

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

// format describes a small binary float format for the reference
// decoder and rounder below, which work from the definition (math.Ldexp,
// a sorted table of values, exact float64 midpoints) and share no code
// with the bit manipulation under test.
type format struct {
	name         string
	ebits, mbits int
	fn           bool // "finite" variant (e4m3fn): no Inf, only mantissa all-ones is NaN at the top exponent
}

var (
	fmtF16  = format{"F16", 5, 10, false}
	fmtBF16 = format{"BF16", 8, 7, false}
	fmtE4M3 = format{"F8_E4M3", 4, 3, true}
	fmtE5M2 = format{"F8_E5M2", 5, 2, false}
)

func (f format) width() int      { return 1 + f.ebits + f.mbits }
func (f format) signBit() uint32 { return 1 << (f.ebits + f.mbits) }

// refDecode returns the value of the bit pattern b, or nan=true.
func (f format) refDecode(b uint32) (v float64, nan bool) {
	e := int(b>>f.mbits) & (1<<f.ebits - 1)
	m := b & (1<<f.mbits - 1)
	bias := 1<<(f.ebits-1) - 1
	top := 1<<f.ebits - 1
	switch {
	case !f.fn && e == top && m != 0, f.fn && e == top && m == 1<<f.mbits-1:
		return math.NaN(), true
	case !f.fn && e == top:
		v = math.Inf(1)
	case e == 0:
		v = math.Ldexp(float64(m), 1-bias-f.mbits)
	default:
		v = math.Ldexp(float64(m)+math.Ldexp(1, f.mbits), e-bias-f.mbits)
	}
	if b&f.signBit() != 0 {
		v = -v
	}
	return v, false
}

// refTable holds the non-negative finite values of a format in increasing
// order with their bit patterns, plus one virtual entry past the largest
// finite value (the value the next encoding would have with an unbounded
// exponent) standing for overflow: Inf for IEEE-like formats, NaN (0x7F)
// for e4m3fn.
type refTable struct {
	f    format
	vals []float64
	bits []uint32
}

func (f format) table() *refTable {
	t := &refTable{f: f}
	for b := uint32(0); b < f.signBit(); b++ {
		v, nan := f.refDecode(b)
		if nan || math.IsInf(v, 0) {
			continue
		}
		t.vals = append(t.vals, v)
		t.bits = append(t.bits, b)
	}
	n := len(t.vals)
	t.vals = append(t.vals, 2*t.vals[n-1]-t.vals[n-2])
	t.bits = append(t.bits, t.bits[n-1]+1)
	return t
}

// round returns the RNE encoding of x (not NaN): the nearest table value,
// the one with an even bit pattern on a tie, and the overflow pattern from
// the virtual entry on.
func (t *refTable) round(x float64) uint32 {
	var sign uint32
	if math.Signbit(x) {
		sign = t.f.signBit()
	}
	a := math.Abs(x)
	last := len(t.vals) - 1
	if a >= t.vals[last] {
		return sign | t.bits[last]
	}
	i := sort.SearchFloat64s(t.vals, a)
	if t.vals[i] == a {
		return sign | t.bits[i]
	}
	lo, hi := i-1, i
	mid := (t.vals[lo] + t.vals[hi]) / 2 // exact: both have few significant bits
	switch {
	case a < mid:
		return sign | t.bits[lo]
	case a > mid:
		return sign | t.bits[hi]
	case t.bits[lo]&1 == 0:
		return sign | t.bits[lo]
	}
	return sign | t.bits[hi]
}

var (
	tabF16  = fmtF16.table()
	tabBF16 = fmtBF16.table()
	tabE4M3 = fmtE4M3.table()
	tabE5M2 = fmtE5M2.table()
)

// encoder is one scalar narrowing conversion with its reference.
type encoder struct {
	name string
	enc  func(float32) uint32
	want func(x float64) uint32 // x is not NaN
	nan  func(b uint32) uint32  // expected output for float32 NaN bits b
	tab  *refTable
}

var encoders = []encoder{
	{
		name: "F16", tab: tabF16,
		enc:  func(f float32) uint32 { return uint32(F32ToF16(f)) },
		want: tabF16.round,
		nan:  func(b uint32) uint32 { return b>>16&0x8000 | 0x7e00 | b>>13&0x3ff },
	},
	{
		name: "BF16", tab: tabBF16,
		enc:  func(f float32) uint32 { return uint32(F32ToBF16(f)) },
		want: tabBF16.round,
		nan:  func(b uint32) uint32 { return b>>16 | 0x40 },
	},
	{
		name: "F8_E4M3", tab: tabE4M3,
		enc:  func(f float32) uint32 { return uint32(F32ToF8E4M3(f)) },
		want: tabE4M3.round,
		nan:  func(b uint32) uint32 { return b>>24&0x80 | 0x7f },
	},
	{
		name: "F8_E4M3Sat", tab: tabE4M3,
		enc: func(f float32) uint32 { return uint32(F32ToF8E4M3Sat(f)) },
		want: func(x float64) uint32 {
			if math.Abs(x) > 448 {
				return tabE4M3.round(math.Copysign(448, x))
			}
			return tabE4M3.round(x)
		},
		nan: func(b uint32) uint32 { return b>>24&0x80 | 0x7f },
	},
	{
		name: "F8_E5M2", tab: tabE5M2,
		enc:  func(f float32) uint32 { return uint32(F32ToF8E5M2(f)) },
		want: tabE5M2.round,
		nan:  func(b uint32) uint32 { return b>>24&0x80 | 0x7f },
	},
}

// checkEnc compares one encoder with its reference on x.
func (e *encoder) check(t *testing.T, x float32) bool {
	t.Helper()
	got := e.enc(x)
	var want uint32
	if x != x {
		want = e.nan(math.Float32bits(x))
	} else {
		want = e.want(float64(x))
	}
	if got != want {
		t.Errorf("%s(%g = %#08x) = %#x, want %#x", e.name, x, math.Float32bits(x), got, want)
		return false
	}
	return true
}

// boundaryInputs returns, for every non-negative entry of the table and
// every midpoint between neighbours, the float32s at, just below and just
// above it, with both signs, plus float32 special values.
func boundaryInputs(tab *refTable) []float32 {
	var xs []float32
	add := func(v float64) {
		f := float32(v)
		if float64(f) != v {
			return // not representable: its float32 neighbours come from other points
		}
		for _, g := range []float32{f, math.Nextafter32(f, 0), math.Nextafter32(f, float32(math.Inf(1)))} {
			xs = append(xs, g, -g)
		}
	}
	for i, v := range tab.vals {
		add(v)
		if i > 0 {
			add((tab.vals[i-1] + v) / 2)
		}
	}
	return append(xs, specialF32()...)
}

// specialF32 returns float32 special values: zeros, infinities, NaNs with
// various payloads, subnormals, extremes.
func specialF32() []float32 {
	bits := []uint32{
		0x00000000, 0x80000000, 0x7f800000, 0xff800000, // ±0, ±Inf
		0x7fc00000, 0xffc00000, 0x7f800001, 0xff800001, // quiet and signaling NaN
		0x7fffffff, 0xffffffff, 0x7fa00000, 0x7f802000, 0x7f801fff, 0x7fbfffff, 0x7fc00001,
		0x00000001, 0x80000001, 0x007fffff, 0x807fffff, 0x00800000, // subnormals, min normal
		0x7f7fffff, 0xff7fffff, 0x3f800000, 0xbf800000, 0x3f7fffff, // max, ±1
	}
	xs := make([]float32, len(bits))
	for i, b := range bits {
		xs[i] = math.Float32frombits(b)
	}
	return xs
}

// randomF32 returns n float32s: half with uniformly random bits, half with
// the exponent near the range of tab's format.
func randomF32(r *rand.Rand, n int, tab *refTable) []float32 {
	_, lo := math.Frexp(tab.vals[1])
	_, hi := math.Frexp(tab.vals[len(tab.vals)-1])
	xs := make([]float32, n)
	for i := range xs {
		b := r.Uint32()
		if i%2 == 1 {
			e := lo - 4 + r.IntN(hi-lo+8) + 126
			b = b&0x807fffff | uint32(e)<<23
		}
		xs[i] = math.Float32frombits(b)
	}
	return xs
}

func TestEncodeBoundaries(t *testing.T) {
	for _, e := range encoders {
		t.Run(e.name, func(t *testing.T) {
			xs := boundaryInputs(e.tab)
			if len(xs) < 100 {
				t.Fatalf("only %d inputs", len(xs))
			}
			bad := 0
			for _, x := range xs {
				if !e.check(t, x) {
					if bad++; bad > 20 {
						t.Fatal("too many errors")
					}
				}
			}
		})
	}
}

func TestEncodeRandom(t *testing.T) {
	n := 1 << 22
	if testing.Short() {
		n = 1 << 16
	}
	for i, e := range encoders {
		t.Run(e.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(i)))
			bad := 0
			for _, x := range randomF32(r, n, e.tab) {
				if !e.check(t, x) {
					if bad++; bad > 20 {
						t.Fatal("too many errors")
					}
				}
			}
		})
	}
}

// decoder is one scalar widening conversion with its expected NaN output.
type decoder struct {
	name string
	f    format
	dec  func(uint32) float32
	nan  func(b uint32) uint32 // expected float32 bits for NaN pattern b
}

var decoders = []decoder{
	{"F16", fmtF16, func(b uint32) float32 { return F16ToF32(uint16(b)) },
		func(b uint32) uint32 { return b&0x8000<<16 | 0x7fc00000 | b&0x3ff<<13 }},
	{"BF16", fmtBF16, func(b uint32) float32 { return BF16ToF32(uint16(b)) },
		func(b uint32) uint32 { return b << 16 }},
	{"F8_E4M3", fmtE4M3, func(b uint32) float32 { return F8E4M3ToF32(uint8(b)) },
		func(b uint32) uint32 { return b&0x80<<24 | 0x7ff00000 }},
	{"F8_E5M2", fmtE5M2, func(b uint32) float32 { return F8E5M2ToF32(uint8(b)) },
		func(b uint32) uint32 { return b&0x80<<24 | 0x7fc00000 | b&3<<21 }},
}

func TestDecodeExhaustive(t *testing.T) {
	for _, d := range decoders {
		t.Run(d.name, func(t *testing.T) {
			nans := 0
			for b := uint32(0); b < 1<<d.f.width(); b++ {
				got := d.dec(b)
				want, nan := d.f.refDecode(b)
				if nan {
					nans++
					if gb, wb := math.Float32bits(got), d.nan(b); gb != wb {
						t.Errorf("%s(%#x) = %#08x, want NaN %#08x", d.name, b, gb, wb)
					}
					continue
				}
				if float64(got) != want || math.Signbit(float64(got)) != math.Signbit(want) {
					t.Errorf("%s(%#x) = %g, want %g", d.name, b, got, want)
				}
			}
			if nans == 0 {
				t.Error("no NaN pattern seen")
			}
		})
	}
}

// TestRoundTripExhaustive checks that every bit pattern survives the trip
// through float32, except signaling NaNs, which come back quiet, and FP8
// E5M2 NaNs, which all become 0x7F (PyTorch's single NaN).
func TestRoundTripExhaustive(t *testing.T) {
	tests := []struct {
		name  string
		bits  int
		trip  func(uint32) uint32
		wantf func(uint32) uint32
	}{
		{"F16", 16, func(b uint32) uint32 { return uint32(F32ToF16(F16ToF32(uint16(b)))) },
			func(b uint32) uint32 {
				if b&0x7c00 == 0x7c00 && b&0x3ff != 0 {
					return b | 0x200
				}
				return b
			}},
		{"BF16", 16, func(b uint32) uint32 { return uint32(F32ToBF16(BF16ToF32(uint16(b)))) },
			func(b uint32) uint32 {
				if b&0x7f80 == 0x7f80 && b&0x7f != 0 {
					return b | 0x40
				}
				return b
			}},
		{"F8_E4M3", 8, func(b uint32) uint32 { return uint32(F32ToF8E4M3(F8E4M3ToF32(uint8(b)))) },
			func(b uint32) uint32 { return b }},
		{"F8_E4M3Sat", 8, func(b uint32) uint32 { return uint32(F32ToF8E4M3Sat(F8E4M3ToF32(uint8(b)))) },
			func(b uint32) uint32 { return b }},
		{"F8_E5M2", 8, func(b uint32) uint32 { return uint32(F32ToF8E5M2(F8E5M2ToF32(uint8(b)))) },
			func(b uint32) uint32 {
				if b&0x7f > 0x7c {
					return b | 0x7f
				}
				return b
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			changed := 0
			for b := uint32(0); b < 1<<tt.bits; b++ {
				got, want := tt.trip(b), tt.wantf(b)
				if got != want {
					t.Errorf("%#x -> %#x, want %#x", b, got, want)
				}
				if want != b {
					changed++
				}
			}
			t.Logf("%d patterns change (NaN canonicalisation)", changed)
		})
	}
}

func TestSpecialValues(t *testing.T) {
	f := func(b uint32) float32 { return math.Float32frombits(b) }
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	tests := []struct {
		name string
		got  uint32
		want uint32
	}{
		{"F16 1", uint32(F32ToF16(1)), 0x3c00},
		{"F16 -0", uint32(F32ToF16(float32(math.Copysign(0, -1)))), 0x8000},
		{"F16 max", uint32(F32ToF16(65504)), 0x7bff},
		{"F16 below Inf edge", uint32(F32ToF16(math.Nextafter32(65520, 0))), 0x7bff},
		{"F16 tie to Inf", uint32(F32ToF16(65520)), 0x7c00},
		{"F16 +Inf", uint32(F32ToF16(inf)), 0x7c00},
		{"F16 -Inf", uint32(F32ToF16(-inf)), 0xfc00},
		{"F16 NaN", uint32(F32ToF16(nan)), 0x7e00},
		{"F16 sNaN quieted", uint32(F32ToF16(f(0x7f800001))), 0x7e00},
		{"F16 -NaN payload", uint32(F32ToF16(f(0xffc02000))), 0xfe01},
		{"F16 min subnormal", uint32(F32ToF16(0x1p-24)), 0x0001},
		{"F16 half min subnormal ties to 0", uint32(F32ToF16(0x1p-25)), 0x0000},
		{"F16 above half min subnormal", uint32(F32ToF16(math.Nextafter32(0x1p-25, 1))), 0x0001},
		{"F16 1.5 min subnormal ties to 2", uint32(F32ToF16(0x1.8p-24)), 0x0002},
		{"F16 subnormal rounds up to min normal", uint32(F32ToF16(math.Nextafter32(0x1p-14, 0))), 0x0400},
		{"F16 f32 subnormal", uint32(F32ToF16(f(1))), 0x0000},
		{"F16 1+ulp/2 ties to 1", uint32(F32ToF16(1 + 0x1p-11)), 0x3c00},
		{"F16 1+3ulp/2 ties to 1+2ulp", uint32(F32ToF16(1 + 0x1.8p-10)), 0x3c02},
		{"BF16 1", uint32(F32ToBF16(1)), 0x3f80},
		{"BF16 tie to even down", uint32(F32ToBF16(f(0x3f808000))), 0x3f80},
		{"BF16 tie to even up", uint32(F32ToBF16(f(0x3f818000))), 0x3f82},
		{"BF16 above tie", uint32(F32ToBF16(f(0x3f808001))), 0x3f81},
		{"BF16 max f32 to Inf", uint32(F32ToBF16(math.MaxFloat32)), 0x7f80},
		{"BF16 -Inf", uint32(F32ToBF16(-inf)), 0xff80},
		{"BF16 NaN", uint32(F32ToBF16(nan)), 0x7fc0},
		{"BF16 NaN low payload stays NaN", uint32(F32ToBF16(f(0x7f800001))), 0x7fc0},
		{"BF16 -NaN", uint32(F32ToBF16(f(0xffffffff))), 0xffff},
		{"BF16 subnormal rounds", uint32(F32ToBF16(f(0x00018000))), 0x0002},
		{"BF16 min subnormal f32 to 0", uint32(F32ToBF16(f(1))), 0x0000},
		{"E4M3 1", uint32(F32ToF8E4M3(1)), 0x38},
		{"E4M3 max", uint32(F32ToF8E4M3(448)), 0x7e},
		{"E4M3 464 ties to 448", uint32(F32ToF8E4M3(464)), 0x7e},
		{"E4M3 above 464 is NaN", uint32(F32ToF8E4M3(math.Nextafter32(464, 500))), 0x7f},
		{"E4M3 480 is NaN", uint32(F32ToF8E4M3(480)), 0x7f},
		{"E4M3 -1e6 is -NaN", uint32(F32ToF8E4M3(-1e6)), 0xff},
		{"E4M3 +Inf is NaN", uint32(F32ToF8E4M3(inf)), 0x7f},
		{"E4M3 NaN", uint32(F32ToF8E4M3(nan)), 0x7f},
		{"E4M3 min subnormal", uint32(F32ToF8E4M3(0x1p-9)), 0x01},
		{"E4M3 half min subnormal ties to 0", uint32(F32ToF8E4M3(0x1p-10)), 0x00},
		{"E4M3 -0", uint32(F32ToF8E4M3(float32(math.Copysign(0, -1)))), 0x80},
		{"E4M3Sat 1e6", uint32(F32ToF8E4M3Sat(1e6)), 0x7e},
		{"E4M3Sat -Inf", uint32(F32ToF8E4M3Sat(-inf)), 0xfe},
		{"E4M3Sat 470", uint32(F32ToF8E4M3Sat(470)), 0x7e},
		{"E4M3Sat NaN", uint32(F32ToF8E4M3Sat(nan)), 0x7f},
		{"E4M3Sat 1.0625 ties to 1", uint32(F32ToF8E4M3Sat(1.0625)), 0x38},
		{"E5M2 1", uint32(F32ToF8E5M2(1)), 0x3c},
		{"E5M2 max", uint32(F32ToF8E5M2(57344)), 0x7b},
		{"E5M2 below Inf edge", uint32(F32ToF8E5M2(math.Nextafter32(61440, 0))), 0x7b},
		{"E5M2 tie to Inf", uint32(F32ToF8E5M2(61440)), 0x7c},
		{"E5M2 -Inf", uint32(F32ToF8E5M2(-inf)), 0xfc},
		{"E5M2 NaN", uint32(F32ToF8E5M2(nan)), 0x7f},
		{"E5M2 min subnormal", uint32(F32ToF8E5M2(0x1p-16)), 0x01},
		{"E5M2 0.75 min subnormal", uint32(F32ToF8E5M2(0x1.8p-17)), 0x01},
		{"E5M2 half min subnormal ties to 0", uint32(F32ToF8E5M2(0x1p-17)), 0x00},
		{"F16->F32 min subnormal", math.Float32bits(F16ToF32(0x0001)), math.Float32bits(0x1p-24)},
		{"F16->F32 -Inf", math.Float32bits(F16ToF32(0xfc00)), 0xff800000},
		{"F16->F32 sNaN quieted", math.Float32bits(F16ToF32(0x7c01)), 0x7fc02000},
		{"BF16->F32 sNaN kept", math.Float32bits(BF16ToF32(0x7f81)), 0x7f810000},
		{"E4M3->F32 max", math.Float32bits(F8E4M3ToF32(0x7e)), math.Float32bits(448)},
		{"E4M3->F32 NaN", math.Float32bits(F8E4M3ToF32(0xff)), 0xfff00000},
		{"E4M3->F32 min subnormal", math.Float32bits(F8E4M3ToF32(0x01)), math.Float32bits(0x1p-9)},
		{"E5M2->F32 Inf", math.Float32bits(F8E5M2ToF32(0x7c)), 0x7f800000},
		{"E5M2->F32 max", math.Float32bits(F8E5M2ToF32(0x7b)), math.Float32bits(57344)},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %#x, want %#x", tt.name, tt.got, tt.want)
		}
	}
}

func TestRefTables(t *testing.T) {
	// The reference itself: sorted, right sizes, right extremes.
	tests := []struct {
		tab      *refTable
		n        int
		max, ovf float64
		ovfBits  uint32
	}{
		{tabF16, 0x7c00, 65504, 65536, 0x7c00},
		{tabBF16, 0x7f80, math.Float64frombits(0x47efe00000000000), 0x1p128, 0x7f80},
		{tabE4M3, 0x7f, 448, 480, 0x7f},
		{tabE5M2, 0x7c, 57344, 65536, 0x7c},
	}
	for _, tt := range tests {
		v := tt.tab.vals
		if !sort.Float64sAreSorted(v) || len(v) != tt.n+1 {
			t.Errorf("%s: %d values, sorted %v", tt.tab.f.name, len(v), sort.Float64sAreSorted(v))
			continue
		}
		if v[tt.n-1] != tt.max || v[tt.n] != tt.ovf || tt.tab.bits[tt.n] != tt.ovfBits {
			t.Errorf("%s: max %g overflow %g (%#x)", tt.tab.f.name, v[tt.n-1], v[tt.n], tt.tab.bits[tt.n])
		}
	}
}

func TestF64ToF32Odd(t *testing.T) {
	tests := []struct {
		x    float64
		want uint32
	}{
		{1, 0x3f800000},
		{1 + 0x1p-30, 0x3f800001},                              // inexact: truncate, set lsb
		{1 + 0x1p-23 + 0x1p-30, 0x3f800001},                    // truncated lsb already 1
		{1 + 0x1p-22 - 0x1p-30, 0x3f800001},                    // RNE would round up to 0x3f800002
		{-(1 + 0x1p-30), 0xbf800001},                           // sign
		{math.MaxFloat64, 0x7f7fffff},                          // overflow stays finite and odd
		{math.Inf(-1), 0xff800000},                             // exact
		{0x1p-160, 0x00000001},                                 // underflow to the odd subnormal
		{math.Copysign(0, -1), 0x80000000},                     // exact -0
		{math.Float64frombits(0x3ff0000010000000), 0x3f800001}, // below f32 midpoint
	}
	for _, tt := range tests {
		if got := math.Float32bits(f64ToF32Odd(tt.x)); got != tt.want {
			t.Errorf("f64ToF32Odd(%g) = %#08x, want %#08x", tt.x, got, tt.want)
		}
	}
	if got := f64ToF32Odd(math.NaN()); got == got {
		t.Errorf("f64ToF32Odd(NaN) = %g", got)
	}
}
