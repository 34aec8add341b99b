package fp

import (
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/lmc-project/lmc/tensor"
)

func gauss(r *rand.Rand, n int, sigma float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64() * sigma)
	}
	return x
}

// TestCodeTables checks every code table against its published decimal
// spelling (bitsandbytes' _NF4_QUANT_TABLE, OCP E2M1, ggml kvalues_mxfp4).
func TestCodeTables(t *testing.T) {
	nf4 := []string{"-1.0", "-0.6961928009986877", "-0.5250730514526367", "-0.39491748809814453",
		"-0.28444138169288635", "-0.18477343022823334", "-0.09105003625154495", "0.0",
		"0.07958029955625534", "0.16093020141124725", "0.24611230194568634", "0.33791524171829224",
		"0.44070982933044434", "0.5626170039176941", "0.7229568362236023", "1.0"}
	for i, s := range nf4 {
		v, err := strconv.ParseFloat(s, 32)
		if err != nil {
			t.Fatal(err)
		}
		if math.Float32bits(float32(v)) != math.Float32bits(NF4Code[i]) {
			t.Errorf("NF4Code[%d] = %v, want %s", i, NF4Code[i], s)
		}
		if i > 0 && !(NF4Code[i] > NF4Code[i-1]) {
			t.Errorf("NF4Code not increasing at %d", i)
		}
	}
	e2m1 := [8]float32{0, 0.5, 1, 1.5, 2, 3, 4, 6}
	for i := range 16 {
		want := e2m1[i&7]
		if i&8 != 0 {
			want = -want
		}
		if E2M1[i] != want || math.Signbit(float64(E2M1[i])) != (i&8 != 0) {
			t.Errorf("E2M1[%d] = %v, want %v", i, E2M1[i], want)
		}
		if float32(KValuesMXFP4[i]) != 2*E2M1[i] {
			t.Errorf("KValuesMXFP4[%d] = %d, want 2·E2M1 = %v", i, KValuesMXFP4[i], 2*E2M1[i])
		}
	}
}

// TestE8M0Half checks ggml's halved E8M0 decoding against 2^(e−128).
func TestE8M0Half(t *testing.T) {
	for e := range 256 {
		want := float32(math.Ldexp(1, e-128))
		if got := E8M0ToF32Half(uint8(e)); got != want {
			t.Errorf("E8M0ToF32Half(%d) = %v, want %v", e, got, want)
		}
	}
}

// TestUE4M3 checks the NVFP4 scale codec: decoding against the formula,
// encoding of every decoded value back to its code, and ggml's round-half-
// up and saturation rules.
func TestUE4M3(t *testing.T) {
	for c := 1; c < 0x7f; c++ {
		if c >= 0x78 { // exponent 15: ggml's encoder never produces it and saturates to 0x7E
			continue
		}
		exp, man := c>>3, c&7
		var want float64
		if exp == 0 {
			want = float64(man) * math.Ldexp(1, -9)
		} else {
			want = (1 + float64(man)/8) * math.Ldexp(1, exp-7)
		}
		got := UE4M3ToF32Half(uint8(c))
		if float64(got) != want/2 {
			t.Fatalf("UE4M3ToF32Half(%#x) = %v, want %v", c, got, want/2)
		}
		if back := F32ToUE4M3(2 * got); back != uint8(c) {
			t.Errorf("F32ToUE4M3(%v) = %#x, want %#x", 2*got, back, c)
		}
	}
	cases := []struct {
		x    float32
		want uint8
	}{
		{0, 0}, {-1, 0}, {float32(math.NaN()), 0}, {1e9, 0x7e}, {448, 0x7e}, {256, 0x7e}, {240, 0x77},
		{1.0625, 0x39}, // halfway between 1 (0x38) and 1.125 (0x39): rounds up
		{1.03, 0x38},
		{0.5 * 0x1p-9, 0x01}, // halfway to the first subnormal: rounds up
		{0.4 * 0x1p-9, 0x00},
		{7.9 * 0x1p-9, 0x07}, // subnormal path rounds to 8/512 but ggml caps it at 7/512
	}
	for _, c := range cases {
		if got := F32ToUE4M3(c.x); got != c.want {
			t.Errorf("F32ToUE4M3(%v) = %#x, want %#x", c.x, got, c.want)
		}
	}
	if UE4M3ToF32Half(0x7f) != 0 || UE4M3ToF32Half(0) != 0 {
		t.Error("0x00 and 0x7F must decode to 0")
	}
}

// TestRoundE2M1 checks compressed-tensors' FP4 rounding (ties to even).
func TestRoundE2M1(t *testing.T) {
	cases := []struct {
		x    float32
		want uint8
	}{
		{0, 0}, {0.25, 0}, {0.26, 1}, {0.75, 2}, {1.25, 2}, {1.27, 3}, {1.75, 4}, {2.5, 4},
		{2.52, 5}, {3.5, 6}, {5, 6}, {5.05, 7}, {100, 7}, {-0.1, 8}, {-3.5, 14}, {-7, 15},
		{0.2501, 0}, {5.01, 6}, // BF16 first: 0.2501 → 0.25 and 5.01 → 5, both ties
	}
	for _, c := range cases {
		if got := roundE2M1(c.x); got != c.want {
			t.Errorf("roundE2M1(%v) = %d, want %d", c.x, got, c.want)
		}
	}
}

// TestMXFP4ErrorBound: in a block whose largest magnitude is in
// [2^k, 2^(k+1)), the grid step is at most 2^(k−1) (between 4·2^(k−2) and
// 6·2^(k−2)) and values above 1.5·2^k clip to it, so every error is at
// most 2^(k−1); values exactly on the grid come back unchanged.
func TestMXFP4ErrorBound(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	x := gauss(r, 32*512, 1)
	for b := range 512 {
		s := float32(math.Pow(10, r.Float64()*8-4))
		for j := range 32 {
			x[b*32+j] *= s
		}
	}
	q := make([]byte, len(x)/32*17)
	if err := QuantizeRowMXFP4(q, x); err != nil {
		t.Fatal(err)
	}
	y := make([]float32, len(x))
	DequantizeRowMXFP4(y, q)
	var se, sx float64
	for b := range 512 {
		var amax float32
		for _, v := range x[b*32 : b*32+32] {
			amax = max(amax, abs32(v))
		}
		k := math.Floor(math.Log2(float64(amax)))
		bound := math.Ldexp(1, int(k)-1)
		for j := b * 32; j < b*32+32; j++ {
			e := math.Abs(float64(x[j] - y[j]))
			if e > bound {
				t.Fatalf("block %d element %d: |%v − %v| = %g > %g", b, j, x[j], y[j], e, bound)
			}
			se += e * e / float64(amax*amax)
			sx += float64(x[j]*x[j]) / float64(amax*amax)
		}
	}
	t.Logf("MXFP4: relative RMS error %.4f", math.Sqrt(se/sx))
	// Grid values survive a round trip.
	grid := make([]float32, 32)
	for j := range grid {
		grid[j] = E2M1[j%16] * 0.25
	}
	grid[7] = 1.5 // 6·0.25 is the block maximum: exponent for 2^0
	if err := QuantizeRowMXFP4(q[:17], grid); err != nil {
		t.Fatal(err)
	}
	DequantizeRowMXFP4(y[:32], q[:17])
	for j := range grid {
		if y[j] != grid[j] {
			t.Errorf("grid value %v came back as %v", grid[j], y[j])
		}
	}
}

// TestNVFP4GGMLErrorBound: with d = UE4M3(amax/6) ≥ amax/6·(1 − 2^−4), each
// error is at most half the largest grid step (d) plus the clipping of
// values above 6d.
func TestNVFP4GGMLErrorBound(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	x := gauss(r, 64*256, 0.05)
	q := make([]byte, len(x)/64*36)
	if err := QuantizeRowNVFP4(q, x); err != nil {
		t.Fatal(err)
	}
	y := make([]float32, len(x))
	DequantizeRowNVFP4(y, q)
	for s := 0; s < len(x)/16; s++ {
		var amax float32
		for _, v := range x[s*16 : s*16+16] {
			amax = max(amax, abs32(v))
		}
		d := float64(UE4M3ToF32Half(q[s/4*36+s%4])) * 2
		bound := d + math.Max(0, float64(amax)-6*d)
		for j := s * 16; j < s*16+16; j++ {
			if e := math.Abs(float64(x[j] - y[j])); e > bound*(1+1e-6) {
				t.Fatalf("sub-block %d element %d: error %g > %g", s, j, e, bound)
			}
		}
	}
}

// TestNVFP4Tensor checks NVIDIA's two-level NVFP4 as compressed-tensors
// writes it: the global scale, the FP8 group scales, the nibble order, and
// the error bound (half a grid step of the effective scale, plus FP8
// rounding of the scale).
func TestNVFP4Tensor(t *testing.T) {
	// A hand-made 1 × 16 row: amax 6 → global 448·6/6 = 448, group scale
	// F8(448·6/6 = 448) = 448, effective 1: values on the E2M1 grid stay.
	row := []float32{0, 0.5, 1, 1.5, 2, 3, 4, 6, -0.5, -1, -1.5, -2, -3, -4, -6, 0.25}
	q, err := QuantizeNVFP4(row, 1, 16)
	if err != nil {
		t.Fatal(err)
	}
	if q.GlobalScale != 448 || q.Scales[0] != 0x7e {
		t.Fatalf("global %v, scale %#x; want 448 and 0x7e (448)", q.GlobalScale, q.Scales[0])
	}
	wantPacked := []uint8{0x10, 0x32, 0x54, 0x76, 0xa9, 0xcb, 0xed, 0x0f}
	for i, b := range wantPacked {
		if q.Packed[i] != b {
			t.Errorf("Packed[%d] = %#02x, want %#02x (low nibble = even element)", i, q.Packed[i], b)
		}
	}
	y := make([]float32, 16)
	q.Dequantize(y)
	for i := range 15 {
		if y[i] != row[i] {
			t.Errorf("element %d: %v came back as %v", i, row[i], y[i])
		}
	}
	if y[15] != 0 { // 0.25 is a tie between 0 and 0.5: even mantissa 0
		t.Errorf("0.25 came back as %v, want 0", y[15])
	}

	r := rand.New(rand.NewPCG(5, 6))
	rows, cols := 64, 256
	w := gauss(r, rows*cols, 0.02)
	q, err = QuantizeNVFP4(w, rows, cols)
	if err != nil {
		t.Fatal(err)
	}
	y = make([]float32, rows*cols)
	q.Dequantize(y)
	var se, sx float64
	for g := range q.Scales {
		eff := float64(tensor.F8E4M3ToF32(q.Scales[g]) / q.GlobalScale)
		var amax float64
		for _, v := range w[g*16 : g*16+16] {
			amax = math.Max(amax, math.Abs(float64(v)))
		}
		// Half the widest step (2·eff between 4 and 6), widened by the BF16
		// rounding of x/eff (≤ 6·2^−9 of eff), plus clipping above 6·eff.
		bound := eff*(1+0x1p-5) + math.Max(0, amax-6*eff) + 1e-9
		for j := g * 16; j < g*16+16; j++ {
			e := math.Abs(float64(w[j] - y[j]))
			if e > bound {
				t.Fatalf("group %d element %d: error %g > %g", g, j, e, bound)
			}
			se += e * e
			sx += float64(w[j] * w[j])
		}
	}
	t.Logf("NVFP4 (NVIDIA): relative RMS error %.4f", math.Sqrt(se/sx))
}

// TestFP8 checks the FP8 scale choice (amax maps to 448 exactly), the
// per-element bound (E4M3 has 3 mantissa bits: relative error ≤ 2^−4 for
// normal values, absolute ≤ scale·2^−10 for subnormal ones) and both
// granularities.
func TestFP8(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	rows, cols := 32, 128
	w := gauss(r, rows*cols, 0.03)
	for i := range cols {
		w[5*cols+i] *= 20 // one loud row
	}
	for _, g := range []Granularity{PerTensor, PerChannel} {
		q, err := QuantizeFP8(w, rows, cols, g)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[Granularity]int{PerTensor: 1, PerChannel: rows}[g]; len(q.Scales) != want {
			t.Fatalf("%v: %d scales, want %d", g, len(q.Scales), want)
		}
		y := make([]float32, rows*cols)
		q.Dequantize(y)
		var se, sx float64
		for rr := range rows {
			s := q.scale(rr)
			var amaxCode uint8
			for c := range cols {
				i := rr*cols + c
				e := math.Abs(float64(w[i] - y[i]))
				bound := math.Max(math.Abs(float64(w[i]))*0x1p-4, float64(s)*0x1p-10) * (1 + 1e-6)
				if e > bound {
					t.Fatalf("%v: element (%d,%d): |%v − %v| > %g", g, rr, c, w[i], y[i], bound)
				}
				amaxCode = max(amaxCode, q.Data[i]&0x7f)
				se += e * e
				sx += float64(w[i] * w[i])
			}
			if g == PerChannel && amaxCode != 0x7e {
				t.Errorf("row %d: largest code %#x, want 0x7e (448)", rr, amaxCode)
			}
		}
		t.Logf("FP8 %v: relative RMS error %.4f", g, math.Sqrt(se/sx))
	}
	// Hand example, scale 0.5: 1.0 → 2 (0x40); −300 → −600 clamps to −448
	// (0xfe); 0.001 → 0.002 rounds to the smallest subnormal 2^−9 (0x01);
	// 0.0004 → 0.0008 is below half of it and gives 0.
	q, err := QuantizeFP8Scaled([]float32{1, -300, 0.001, 0.0004}, 1, 4, []float32{0.5})
	if err != nil {
		t.Fatal(err)
	}
	if q.Data[0] != 0x40 || q.Data[1] != 0xfe || q.Data[2] != 0x01 || q.Data[3] != 0x00 {
		t.Errorf("codes % x, want 40 fe 01 00", q.Data)
	}
}

// TestNF4 checks bitsandbytes' packing order (first value in the high
// nibble), the code choice, the per-block error bound (half the widest gap
// of the table, (1 − 0.7229568)/2, times absmax) and double quantization.
func TestNF4(t *testing.T) {
	x := make([]float32, 64)
	for i := range x {
		x[i] = NF4Code[i%16] * 2
	}
	x[63] = 1.9 // nearest to 1.0·2, absmax stays 2
	q, err := QuantizeNF4(x, NF4Options{})
	if err != nil {
		t.Fatal(err)
	}
	if q.Absmax[0] != 2 {
		t.Fatalf("absmax %v, want 2", q.Absmax[0])
	}
	if q.Packed[0] != 0x01 || q.Packed[1] != 0x23 || q.Packed[31] != 0xef {
		t.Errorf("packed % x…, want 01 23 … ef", q.Packed[:2])
	}
	y := make([]float32, 64)
	q.Dequantize(y)
	for i := range 63 {
		if y[i] != x[i] {
			t.Errorf("grid value %v came back as %v", x[i], y[i])
		}
	}

	r := rand.New(rand.NewPCG(9, 10))
	n := 64*1000 + 37 // a short last block and an odd count
	w := gauss(r, n, 0.02)
	for _, dq := range []bool{false, true} {
		q, err := QuantizeNF4(w, NF4Options{DoubleQuant: dq})
		if err != nil {
			t.Fatal(err)
		}
		if len(q.Packed) != (n+1)/2 || q.Packed[len(q.Packed)-1]&0xf != 7 {
			t.Fatalf("packed length %d, last low nibble %d; want %d and 7 (padding 0.0)", len(q.Packed), q.Packed[len(q.Packed)-1]&0xf, (n+1)/2)
		}
		y := make([]float32, n)
		q.Dequantize(y)
		const halfGap = (1 - 0.6961928009986877) / 2 // the widest gap: −1 … −0.696
		var se, sx, worstScale float64
		for b := 0; b*64 < n; b++ {
			var amax float64
			for _, v := range w[b*64 : min(n, b*64+64)] {
				amax = math.Max(amax, math.Abs(float64(v)))
			}
			eff := float64(q.BlockAbsmax(b))
			worstScale = math.Max(worstScale, math.Abs(eff-amax)/amax)
			// The code was chosen with the true absmax; the dequantized
			// absmax differs by |eff − amax|, moving each value by at most
			// that much.
			bound := halfGap*amax + math.Abs(eff-amax) + 1e-9
			for i := b * 64; i < min(n, b*64+64); i++ {
				e := math.Abs(float64(w[i] - y[i]))
				if e > bound {
					t.Fatalf("double=%v block %d element %d: error %g > %g", dq, b, i, e, bound)
				}
				se += e * e
				sx += float64(w[i] * w[i])
			}
		}
		t.Logf("NF4 double=%v: relative RMS error %.4f, worst absmax error %.2g, %.3f bits/value",
			dq, math.Sqrt(se/sx), worstScale, float64(8*q.Bytes())/float64(n))
		if dq && worstScale > 0.02 {
			t.Errorf("double-quantized absmax off by %.3g relative; bitsandbytes' 8-bit dynamic code keeps it near 1%%", worstScale)
		}
	}
}

// TestDynamicMap checks the structure of bitsandbytes' signed dynamic map:
// 256 sorted values from −0.99296875 to 1 with 0 and 1 present, and 127
// negative values mirroring the 127 positive ones below 1.
func TestDynamicMap(t *testing.T) {
	m := DynamicMap()
	if m[0] != -0.99296875 || m[255] != 1 {
		t.Errorf("ends %v … %v, want -0.99296875 … 1", m[0], m[255])
	}
	zero := -1
	for i := 1; i < 256; i++ {
		if m[i] < m[i-1] {
			t.Fatalf("not sorted at %d", i)
		}
		if m[i] == 0 {
			zero = i
		}
	}
	if zero != 127 {
		t.Fatalf("0 at index %d, want 127", zero)
	}
	for i := range 127 {
		if m[i] != -m[254-i] {
			t.Errorf("m[%d] = %v is not −m[%d] = %v", i, m[i], 254-i, -m[254-i])
		}
	}
	if want := float32(1e-6) * float32(0.55); m[128] != want { // 10^−6 · midpoint of linspace(0.1, 1, 2)
		t.Errorf("smallest positive value %v, want %v", m[128], want)
	}
}

// TestNonFinite: every quantizer refuses NaN and ±Inf with a *ValueError.
func TestNonFinite(t *testing.T) {
	x := make([]float32, 64)
	x[17] = float32(math.Inf(-1))
	var ve *ValueError
	check := func(name string, err error) {
		t.Helper()
		if !errors.Is(err, ErrNonFinite) || !errors.As(err, &ve) || ve.Index != 17 {
			t.Errorf("%s: err = %v, want a *ValueError at index 17", name, err)
		}
	}
	check("MXFP4", QuantizeRowMXFP4(make([]byte, 34), x))
	check("NVFP4 ggml", QuantizeRowNVFP4(make([]byte, 36), x))
	_, err := QuantizeNVFP4(x, 4, 16)
	check("NVFP4", err)
	_, err = QuantizeFP8(x, 4, 16, PerChannel)
	check("FP8", err)
	x[17] = float32(math.NaN())
	_, err = QuantizeNF4(x, NF4Options{})
	check("NF4", err)
}

// TestBestIndexHalfScan checks that scanning only the codes of x's sign
// picks what ggml's full scan picks, on random values, ±0 and exact ties.
func TestBestIndexHalfScan(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for range 200000 {
		e := float32(math.Ldexp(1, r.IntN(40)-20))
		var x float32
		switch r.IntN(3) {
		case 0:
			x = float32(r.NormFloat64()) * e * 4
		case 1: // ties between neighbours
			i := r.IntN(7)
			x = float32(KValuesMXFP4[i]+KValuesMXFP4[i+1]) / 2 * e
		default:
			x = float32(KValuesMXFP4[r.IntN(16)]) * e
		}
		if r.IntN(2) == 0 {
			x = -x
		}
		if a, b := bestIndexMXFP4(x, e), bestIndexMXFP4Ref(x, e); a != b {
			t.Fatalf("x=%v e=%v: half scan %d, full scan %d", x, e, a, b)
		}
	}
	for _, x := range []float32{0, negZero} {
		if a, b := bestIndexMXFP4(x, 1), bestIndexMXFP4Ref(x, 1); a != b || a != 0 {
			t.Errorf("x=%v: %d, %d; want 0", x, a, b)
		}
	}
}
