package tensor

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// forEachLevel runs f once per kernel implementation this machine can run
// ("go", and on amd64 "avx2", "avx512"), and once more as "portable": the
// Go loops with nativeLE cleared, which takes the byte-by-byte paths a
// big-endian machine takes.
func forEachLevel(t *testing.T, f func(t *testing.T)) {
	for _, name := range kernelLevels() {
		t.Run(name, func(t *testing.T) {
			defer setLevel(name)()
			f(t)
		})
	}
	t.Run("portable", func(t *testing.T) {
		defer setLevel("go")()
		defer func(old bool) { nativeLE = old }(nativeLE)
		nativeLE = false
		f(t)
	})
}

// testLengths covers 0..100 and the neighbourhoods of the vector widths
// and unroll factors (8, 16, 32, 64) and of Convert's chunk size.
func testLengths() []int {
	var ns []int
	for n := 0; n <= 100; n++ {
		ns = append(ns, n)
	}
	for _, c := range []int{128, 256, 512, chunkElems, 2 * chunkElems} {
		for d := -3; d <= 3; d++ {
			ns = append(ns, c+d)
		}
	}
	return append(ns, 1000, 4099)
}

// specialF16 returns 16-bit patterns worth testing for F16 and BF16
// sources: zeros, infinities, NaNs (quiet and signaling), subnormals,
// extremes of both formats.
func special16() []uint16 {
	return []uint16{
		0x0000, 0x8000, 0x0001, 0x8001, 0x03ff, 0x0400, 0x3c00, 0x7bff, 0xfbff,
		0x7c00, 0xfc00, 0x7c01, 0xfc01, 0x7dff, 0x7e00, 0xfe00, 0x7fff, 0xffff,
		0x007f, 0x0080, 0x3f80, 0x7f7f, 0x7f80, 0xff80, 0x7f81, 0x7fc0, 0xffc1,
	}
}

// fill16 returns n 16-bit patterns: the specials, then random bits.
func fill16(r *rand.Rand, n int) []uint16 {
	s := special16()
	v := make([]uint16, n)
	for i := range v {
		if i < len(s) {
			v[i] = s[(i*7)%len(s)]
		} else {
			v[i] = uint16(r.Uint32())
		}
	}
	return v
}

// fillF32 returns n float32s: specials, F16/BF16 boundary points, random
// bits and random values in F16's range, interleaved.
func fillF32(r *rand.Rand, n int) []float32 {
	s := specialF32()
	s = append(s, 65504, 65520, math.Nextafter32(65520, 0), 0x1p-25, 0x1.8p-24, 1+0x1p-11,
		math.Float32frombits(0x3f808000), math.Float32frombits(0x3f818000), math.Float32frombits(0x00018000))
	v := make([]float32, n)
	for i := range v {
		switch {
		case i < len(s):
			v[i] = s[(i*5)%len(s)]
		case i%2 == 0:
			v[i] = math.Float32frombits(r.Uint32())
		default:
			e := uint32(100 + r.IntN(50))
			v[i] = math.Float32frombits(r.Uint32()&0x807fffff | e<<23)
		}
	}
	return v
}

// guard is a byte buffer with a sentinel area on each side of the region
// a kernel may write, and an offset that misaligns the region.
type guard struct {
	buf      []byte
	off, len int
}

const guardLen = 64
const guardByte = 0xa5

func newGuard(n, misalign int) *guard {
	g := &guard{buf: make([]byte, n+2*guardLen+misalign), off: guardLen + misalign, len: n}
	for i := range g.buf {
		g.buf[i] = guardByte
	}
	return g
}

func (g *guard) data() []byte { return g.buf[g.off : g.off+g.len] }

func (g *guard) ptr() unsafe.Pointer {
	return unsafe.Pointer(unsafe.SliceData(g.buf[g.off:]))
}

func (g *guard) check(t *testing.T) {
	t.Helper()
	for i, b := range g.buf {
		if (i < g.off || i >= g.off+g.len) && b != guardByte {
			t.Fatalf("write outside dst at byte %d (region %d..%d)", i-g.off, 0, g.len)
		}
	}
}

// kernelCase is one pointer kernel with its scalar meaning.
type kernelCase struct {
	name         string
	k            func(dst, src unsafe.Pointer, n int)
	srcW, dstW   int
	src          func(r *rand.Rand, n int) []byte
	want         func(src []byte, i int) uint32 // expected output element i
	scalarOracle string
}

func le16(v []uint16) []byte {
	b := make([]byte, 2*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint16(b[2*i:], x)
	}
	return b
}

func leF32(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func srcF32(b []byte, i int) float32 {
	return math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
}

func src16(b []byte, i int) uint16 { return binary.LittleEndian.Uint16(b[2*i:]) }

var kernelCases = []kernelCase{
	{"F16ToF32", kF16ToF32, 2, 4, func(r *rand.Rand, n int) []byte { return le16(fill16(r, n)) },
		func(s []byte, i int) uint32 { return math.Float32bits(F16ToF32(src16(s, i))) }, "F16ToF32"},
	{"F32ToF16", kF32ToF16, 4, 2, func(r *rand.Rand, n int) []byte { return leF32(fillF32(r, n)) },
		func(s []byte, i int) uint32 { return uint32(F32ToF16(srcF32(s, i))) }, "F32ToF16"},
	{"BF16ToF32", kBF16ToF32, 2, 4, func(r *rand.Rand, n int) []byte { return le16(fill16(r, n)) },
		func(s []byte, i int) uint32 { return math.Float32bits(BF16ToF32(src16(s, i))) }, "BF16ToF32"},
	{"F32ToBF16", kF32ToBF16, 4, 2, func(r *rand.Rand, n int) []byte { return leF32(fillF32(r, n)) },
		func(s []byte, i int) uint32 { return uint32(F32ToBF16(srcF32(s, i))) }, "F32ToBF16"},
}

func getLE(b []byte, w, i int) uint32 {
	if w == 2 {
		return uint32(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return binary.LittleEndian.Uint32(b[4*i:])
}

// TestKernels checks every kernel at every level against the scalar
// functions, element by element, on many lengths and misalignments, with
// guard bytes around the destination.
func TestKernels(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		for _, kc := range kernelCases {
			t.Run(kc.name, func(t *testing.T) {
				r := rand.New(rand.NewPCG(2, 3))
				for _, n := range testLengths() {
					for _, mis := range []int{0, 1, 2} {
						src := newGuard(n*kc.srcW, mis)
						copy(src.data(), kc.src(r, n))
						srcCopy := bytes.Clone(src.data())
						dst := newGuard(n*kc.dstW, (mis*3)%4)
						kc.k(dst.ptr(), src.ptr(), n)
						dst.check(t)
						if !bytes.Equal(src.data(), srcCopy) {
							t.Fatalf("n=%d: kernel modified src", n)
						}
						for i := 0; i < n; i++ {
							if got, want := getLE(dst.data(), kc.dstW, i), kc.want(srcCopy, i); got != want {
								t.Fatalf("n=%d mis=%d: element %d: got %#x, want %s = %#x",
									n, mis, i, got, kc.scalarOracle, want)
							}
						}
					}
				}
			})
		}
	})
}

// TestKernelsRandomLarge runs each kernel on 1M random elements (all 65536
// patterns for the 16-bit sources) and compares with the scalar functions.
func TestKernelsLarge(t *testing.T) {
	n := 1 << 20
	if testing.Short() {
		n = 1 << 16
	}
	all16 := make([]uint16, 1<<16)
	for i := range all16 {
		all16[i] = uint16(i)
	}
	r := rand.New(rand.NewPCG(4, 5))
	f32 := fillF32(r, n)
	forEachLevel(t, func(t *testing.T) {
		h := make([]float32, len(all16))
		F16ToF32Slice(h, all16)
		b := make([]float32, len(all16))
		BF16ToF32Slice(b, all16)
		for i, x := range all16 {
			if math.Float32bits(h[i]) != math.Float32bits(F16ToF32(x)) {
				t.Fatalf("F16ToF32Slice(%#04x) = %#08x", x, math.Float32bits(h[i]))
			}
			if math.Float32bits(b[i]) != math.Float32bits(BF16ToF32(x)) {
				t.Fatalf("BF16ToF32Slice(%#04x) = %#08x", x, math.Float32bits(b[i]))
			}
		}
		o16 := make([]uint16, n)
		F32ToF16Slice(o16, f32)
		for i, x := range f32 {
			if o16[i] != F32ToF16(x) {
				t.Fatalf("F32ToF16Slice(%#08x) = %#04x, want %#04x", math.Float32bits(x), o16[i], F32ToF16(x))
			}
		}
		F32ToBF16Slice(o16, f32)
		for i, x := range f32 {
			if o16[i] != F32ToBF16(x) {
				t.Fatalf("F32ToBF16Slice(%#08x) = %#04x, want %#04x", math.Float32bits(x), o16[i], F32ToBF16(x))
			}
		}
	})
}

func TestSlices(t *testing.T) {
	in16 := []uint16{0x3c00, 0x7c01, 0xc000, 0x0001, 0x3f80, 0x7bff, 0xfc00, 0x0000, 0x8000, 0x4248, 0x7e00}
	inF := []float32{1, -2, 65520, 0x1p-25, float32(math.NaN()), 1e-10, 3.140625, -0.0, 65504, 7, 1e30}
	forEachLevel(t, func(t *testing.T) {
		// dst one longer than src: the extra element must stay untouched.
		f := make([]float32, len(in16)+1)
		f[len(in16)] = 42
		F16ToF32Slice(f, in16)
		for i, h := range in16 {
			if math.Float32bits(f[i]) != math.Float32bits(F16ToF32(h)) {
				t.Errorf("F16ToF32Slice[%d] = %g", i, f[i])
			}
		}
		BF16ToF32Slice(f, in16)
		for i, h := range in16 {
			if math.Float32bits(f[i]) != math.Float32bits(BF16ToF32(h)) {
				t.Errorf("BF16ToF32Slice[%d] = %g", i, f[i])
			}
		}
		if f[len(in16)] != 42 {
			t.Error("wrote past len(src)")
		}
		h := make([]uint16, len(inF)+1)
		h[len(inF)] = 42
		F32ToF16Slice(h, inF)
		for i, x := range inF {
			if h[i] != F32ToF16(x) {
				t.Errorf("F32ToF16Slice[%d] = %#x", i, h[i])
			}
		}
		F32ToBF16Slice(h, inF)
		for i, x := range inF {
			if h[i] != F32ToBF16(x) {
				t.Errorf("F32ToBF16Slice[%d] = %#x", i, h[i])
			}
		}
		if h[len(inF)] != 42 {
			t.Error("wrote past len(src)")
		}
		// Empty and nil slices are fine.
		F16ToF32Slice(nil, nil)
		F32ToF16Slice(nil, []float32{})
		BF16ToF32Slice([]float32{}, nil)
		F32ToBF16Slice(nil, nil)
	})
}

func TestSlicesPanicOnShortDst(t *testing.T) {
	tests := []struct {
		name string
		f    func()
	}{
		{"F16ToF32Slice", func() { F16ToF32Slice(make([]float32, 2), make([]uint16, 3)) }},
		{"F32ToF16Slice", func() { F32ToF16Slice(make([]uint16, 2), make([]float32, 3)) }},
		{"BF16ToF32Slice", func() { BF16ToF32Slice(nil, make([]uint16, 1)) }},
		{"F32ToBF16Slice", func() { F32ToBF16Slice(make([]uint16, 16), make([]float32, 17)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			tt.f()
		})
	}
}

var floatTypes = []DType{F32, F16, BF16, F64, F8E4M3, F8E5M2}

// randomOf returns n random elements of float dtype dt as little-endian
// bytes: special values first, then random bit patterns and random values
// of moderate magnitude.
func randomOf(r *rand.Rand, dt DType, n int) []byte {
	switch dt {
	case F32:
		return leF32(fillF32(r, n))
	case F16, BF16:
		return le16(fill16(r, n))
	case F64:
		s := []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(), -math.NaN(),
			1 + 0x1p-11 + 0x1p-40, 1 + 0x1p-8 + 0x1p-40, 464 + 0x1p-30, 61440 - 0x1p-30, 65520 - 0x1p-30,
			math.MaxFloat64, math.SmallestNonzeroFloat64, 0x1p-25 + 0x1p-60, 0x1p-134 + 0x1p-170}
		b := make([]byte, 8*n)
		for i := range n {
			var x float64
			switch {
			case i < len(s):
				x = s[i]
			case i%2 == 0:
				x = math.Float64frombits(r.Uint64())
			default:
				x = math.Ldexp(r.Float64()+1, r.IntN(60)-30)
				if r.IntN(2) == 0 {
					x = -x
				}
			}
			binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
		}
		return b
	default: // FP8
		b := make([]byte, n)
		for i := range b {
			b[i] = uint8(i*37 + r.IntN(3))
		}
		return b
	}
}

// elem is element i of a source decoded with the scalar functions: the
// float64 itself for F64, else the (exactly widened) float32 with its bits.
type elem struct {
	f32   float32
	f64   float64
	isF64 bool
}

func elemOf(src []byte, st DType, i int) elem {
	var f float32
	switch st {
	case F64:
		x := math.Float64frombits(binary.LittleEndian.Uint64(src[8*i:]))
		return elem{f32: float32(x), f64: x, isF64: true}
	case F32:
		f = srcF32(src, i)
	case F16:
		f = F16ToF32(src16(src, i))
	case BF16:
		f = BF16ToF32(src16(src, i))
	case F8E4M3:
		f = F8E4M3ToF32(src[i])
	case F8E5M2:
		f = F8E5M2ToF32(src[i])
	}
	return elem{f32: f, f64: float64(f)}
}

// want returns the expected encoding (as uint64 bits) of e in dtype dt.
// From F64 to a type narrower than F32 it is the reference rounding of the
// float64 itself (one rounding); otherwise the scalar function of the
// float32, which is exact for every other source.
func (e elem) want(dt DType) uint64 {
	narrow := map[DType]*refTable{F16: tabF16, BF16: tabBF16, F8E4M3: tabE4M3, F8E5M2: tabE5M2}
	if tab := narrow[dt]; tab != nil && e.isF64 && e.f64 == e.f64 {
		return uint64(tab.round(e.f64))
	}
	f := e.f32
	switch dt {
	case F32:
		return uint64(math.Float32bits(f))
	case F64:
		return math.Float64bits(e.f64)
	case F16:
		return uint64(F32ToF16(f))
	case BF16:
		return uint64(F32ToBF16(f))
	case F8E4M3:
		return uint64(F32ToF8E4M3(f))
	case F8E5M2:
		return uint64(F32ToF8E5M2(f))
	}
	panic(dt)
}

func getElem(b []byte, dt DType, i int) uint64 {
	switch dt.Size() {
	case 1:
		return uint64(b[i])
	case 2:
		return uint64(binary.LittleEndian.Uint16(b[2*i:]))
	case 4:
		return uint64(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return binary.LittleEndian.Uint64(b[8*i:])
}

// TestConvertAllPairs converts between every pair of float dtypes and
// checks every element against the scalar functions (and, from F64, the
// reference rounding), on lengths that cross Convert's chunk boundary.
func TestConvertAllPairs(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(6, 7))
		for _, st := range floatTypes {
			for _, dt := range floatTypes {
				t.Run(fmt.Sprintf("%v_to_%v", st, dt), func(t *testing.T) {
					for _, n := range []int{1, 17, chunkElems + 5, 3*chunkElems + 1} {
						src := randomOf(r, st, n)
						dst := newGuard(n*dt.Size(), 1)
						if err := Convert(dst.data(), dt, src, st); err != nil {
							t.Fatal(err)
						}
						dst.check(t)
						for i := range n {
							e := elemOf(src, st, i)
							got, want := getElem(dst.data(), dt, i), e.want(dt)
							if st == dt {
								want = getElem(src, st, i) // a copy, NaN payloads included
							} else if dt == F64 && e.f64 != e.f64 {
								// float64(NaN float32) is only required to be a NaN of the same sign.
								g := math.Float64frombits(got)
								if g == g || math.Signbit(g) != math.Signbit(e.f64) {
									t.Fatalf("n=%d [%d]: NaN -> %#x", n, i, got)
								}
								continue
							}
							if got != want {
								t.Fatalf("n=%d [%d]: %g -> %#x, want %#x", n, i, e.f64, got, want)
							}
						}
					}
				})
			}
		}
	})
}

// TestConvertF64RoundsOnce checks values where float32(x) followed by RNE
// would round twice and get the wrong answer.
func TestConvertF64RoundsOnce(t *testing.T) {
	tests := []struct {
		x    float64
		dt   DType
		want uint64
	}{
		{1 + 0x1p-11 + 0x1p-40, F16, 0x3c01},       // float32(x) is the tie 1+2^-11, which goes to 1
		{-(1 + 0x1p-11 + 0x1p-40), F16, 0xbc01},    // same, negative
		{1 + 0x1p-8 + 0x1p-40, BF16, 0x3f81},       // float32(x) is the tie, which goes to 1
		{1 + 0x1p-4 + 0x1p-40, F8E4M3, 0x39},       // 1.0625+: up to 1.125
		{1 + 0x1p-3 + 0x1p-40, F8E5M2, 0x3d},       // 1.125+: up to 1.25
		{65520 - 0x1p-30, F16, 0x7bff},             // float32(x) is 65520, which goes to Inf
		{464 + 0x1p-40, F8E4M3, 0x7f},              // past the 464 tie: NaN, as for float32 inputs
		{1 + 0x1p-11, F16, 0x3c00},                 // an exact tie still goes to even
		{0x1p-25 + 0x1p-60, F16, 0x0001},           // just above half the smallest subnormal
		{math.MaxFloat64, BF16, 0x7f80},            // overflow
		{math.SmallestNonzeroFloat64, F16, 0x0000}, // underflow
	}
	for _, tt := range tests {
		src := binary.LittleEndian.AppendUint64(nil, math.Float64bits(tt.x))
		dst := make([]byte, tt.dt.Size())
		if err := Convert(dst, tt.dt, src, F64); err != nil {
			t.Fatal(err)
		}
		if got := getElem(dst, tt.dt, 0); got != tt.want {
			t.Errorf("Convert(F64 %g -> %v) = %#x, want %#x", tt.x, tt.dt, got, tt.want)
		}
	}
}

func TestConvertErrors(t *testing.T) {
	tests := []struct {
		name    string
		dstLen  int
		dt      DType
		srcLen  int
		st      DType
		wantErr error
	}{
		{"int source", 8, F32, 2, I8, ErrUnsupported},
		{"int destination", 2, I16, 4, F32, ErrUnsupported},
		{"invalid", 0, Invalid, 0, F32, ErrUnsupported},
		{"bool", 1, Bool, 4, F32, ErrUnsupported},
		{"out of range dtype", 4, DType(200), 4, F32, ErrUnsupported},
		{"partial source element", 4, F32, 3, F16, ErrLength},
		{"short destination", 2, F16, 8, F32, ErrLength},
		{"long destination", 6, F16, 8, F32, ErrLength},
		{"long destination, empty source", 2, F16, 0, F32, ErrLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := bytes.Repeat([]byte{0xee}, tt.dstLen)
			src := make([]byte, tt.srcLen)
			err := Convert(dst, tt.dt, src, tt.st)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if !bytes.Equal(dst, bytes.Repeat([]byte{0xee}, tt.dstLen)) {
				t.Error("dst modified on error")
			}
		})
	}
	if err := Convert(nil, F16, nil, BF16); err != nil {
		t.Errorf("empty Convert: %v", err)
	}
}

func TestDecodeEncodeF32(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	forEachLevel(t, func(t *testing.T) {
		for _, dt := range floatTypes {
			t.Run(dt.String(), func(t *testing.T) {
				n := 1000
				src := randomOf(r, dt, n)
				got := make([]float32, n)
				if err := DecodeF32(got, src, dt); err != nil {
					t.Fatal(err)
				}
				for i := range n {
					want := elemOf(src, dt, i).f32
					if math.Float32bits(got[i]) != math.Float32bits(want) {
						t.Fatalf("DecodeF32 [%d] = %#x, want %#x", i, math.Float32bits(got[i]), math.Float32bits(want))
					}
				}
				fs := fillF32(r, n)
				enc := make([]byte, n*dt.Size())
				if err := EncodeF32(enc, dt, fs); err != nil {
					t.Fatal(err)
				}
				for i, x := range fs {
					if x != x && dt == F64 {
						continue // checked in TestConvertAllPairs
					}
					if got, want := getElem(enc, dt, i), (elem{f32: x, f64: float64(x)}).want(dt); got != want {
						t.Fatalf("EncodeF32 [%d] %g = %#x, want %#x", i, x, got, want)
					}
				}
				// Wrong lengths and types are errors.
				if err := DecodeF32(got[:n-1], src, dt); !errors.Is(err, ErrLength) {
					t.Errorf("DecodeF32 short dst: %v", err)
				}
				if err := EncodeF32(enc[:len(enc)-1], dt, fs); !errors.Is(err, ErrLength) {
					t.Errorf("EncodeF32 short dst: %v", err)
				}
			})
		}
	})
	if err := DecodeF32(make([]float32, 1), make([]byte, 4), U32); !errors.Is(err, ErrUnsupported) {
		t.Errorf("DecodeF32 U32: %v", err)
	}
	if err := EncodeF32(make([]byte, 4), I32, make([]float32, 1)); !errors.Is(err, ErrUnsupported) {
		t.Errorf("EncodeF32 I32: %v", err)
	}
}

// TestConvertNoAllocs checks that the chunked path keeps its staging
// buffer on the stack.
func TestConvertNoAllocs(t *testing.T) {
	n := 3 * chunkElems
	src := make([]byte, 2*n)
	dst := make([]byte, 2*n)
	f := make([]float32, n)
	tests := []struct {
		name string
		f    func()
	}{
		{"BF16->F16", func() { _ = Convert(dst, F16, src, BF16) }},
		{"F16->F8_E4M3", func() { _ = Convert(dst[:n], F8E4M3, src, F16) }},
		{"F8_E5M2->BF16", func() { _ = Convert(dst, BF16, src[:n], F8E5M2) }},
		{"DecodeF32 BF16", func() { _ = DecodeF32(f, src, BF16) }},
		{"EncodeF32 F16", func() { _ = EncodeF32(dst, F16, f) }},
	}
	for _, tt := range tests {
		if a := testing.AllocsPerRun(5, tt.f); a != 0 {
			t.Errorf("%s: %v allocations", tt.name, a)
		}
	}
}
