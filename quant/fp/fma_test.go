package fp

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// TestFMA32 compares fma32 with the exactly computed a·b + c rounded once
// (math/big), on random values and on constructed ties where a plain
// float64 FMA followed by a float32 conversion rounds twice.
func TestFMA32(t *testing.T) {
	exact := func(a, b, c float32) float32 {
		x := new(big.Float).SetPrec(200).SetFloat64(float64(a))
		x.Mul(x, new(big.Float).SetPrec(200).SetFloat64(float64(b)))
		x.Add(x, new(big.Float).SetPrec(200).SetFloat64(float64(c)))
		f, _ := x.Float32()
		return f
	}
	r := rand.New(rand.NewPCG(1, 1))
	check := func(a, b, c float32) {
		t.Helper()
		if got, want := fma32(a, b, c), exact(a, b, c); math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("fma32(%v, %v, %v) = %v, want %v", a, b, c, got, want)
		}
	}
	for range 200000 {
		a := float32(r.NormFloat64() * math.Pow(2, float64(r.IntN(40)-20)))
		b := float32(r.NormFloat64() * math.Pow(2, float64(r.IntN(40)-20)))
		c := float32(r.NormFloat64() * math.Pow(2, float64(r.IntN(60)-30)))
		check(a, b, c)
	}
	// Double-rounding traps: c = 1 + k·2^−23 with k odd and a·b =
	// 2^−24·(1 − 2^−46): the exact sum lies just below a float32 midpoint,
	// float64 rounding lands on the midpoint, and RNE would go up.
	twice := 0
	a := float32(1 + 0x1p-23)
	b := float32(0x1p-24 * (1 - 0x1p-23))
	for k := 1; k < 4000; k += 2 {
		c := float32(1 + float64(k)*0x1p-23)
		if float32(math.FMA(float64(a), float64(b), float64(c))) != exact(a, b, c) {
			twice++
		}
		check(a, b, c)
		check(-a, b, -c)
	}
	if twice == 0 {
		t.Fatal("the constructed cases do not exercise double rounding")
	}
	t.Logf("%d constructed cases where float64 FMA + float32 rounds twice; fma32 gets them right", twice)
}
