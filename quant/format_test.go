package quant

import (
	"errors"
	"math"
	"testing"

	"github.com/lmc-project/lmc/gguf"
)

func TestFormatsTable(t *testing.T) {
	for _, f := range Formats() {
		if int64(f.BlockSize) != f.Type.BlockSize() || int64(f.BlockBytes) != f.Type.TypeSize() {
			t.Errorf("%s: block %d/%d bytes, gguf says %d/%d", f, f.BlockSize, f.BlockBytes, f.Type.BlockSize(), f.Type.TypeSize())
		}
		if g, ok := Lookup(f.Type); !ok || g != f {
			t.Errorf("Lookup(%s) = %v, %v", f.Type, g, ok)
		}
	}
	if _, ok := Lookup(gguf.TypeIQ2_XXS); ok {
		t.Error("Lookup(iq2_xxs) succeeded")
	}
}

func TestQuantizeErrors(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(-1))
	row := func(n int, bad int, v float32) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(i%7) - 3
		}
		if bad >= 0 {
			x[bad] = v
		}
		return x
	}
	tests := []struct {
		name    string
		f       *Format
		src     []float32
		rowLen  int
		imatrix []float32
		want    error
		row     int
		col     int
	}{
		{name: "nan", f: Q4_0, src: row(96, 70, nan), rowLen: 32, want: ErrNonFinite, row: 2, col: 6},
		{name: "inf", f: Q4_K, src: row(512, 300, inf), rowLen: 256, want: ErrNonFinite, row: 1, col: 44},
		{name: "row not a block multiple", f: Q6_K, src: row(384, -1, 0), rowLen: 384, want: ErrRowLength},
		{name: "zero row length", f: Q8_0, src: nil, rowLen: 0, want: ErrRowLength},
		{name: "not whole rows", f: Q8_0, src: row(96, -1, 0), rowLen: 64, want: ErrRowLength},
		{name: "imatrix length", f: IQ4_XS, src: row(256, -1, 0), rowLen: 256, imatrix: make([]float32, 128), want: ErrImatrix},
		{name: "imatrix nan", f: Q5_1, src: row(64, -1, 0), rowLen: 64, imatrix: row(64, 3, nan), want: ErrImatrix},
		{name: "imatrix negative", f: Q3_K, src: row(256, -1, 0), rowLen: 256, imatrix: row(256, 3, -1), want: ErrImatrix},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var dst []byte
			if rb, err := tc.f.RowBytes(tc.rowLen); err == nil && len(tc.src)%tc.rowLen == 0 {
				dst = make([]byte, len(tc.src)/tc.rowLen*rb)
			}
			err := tc.f.QuantizeRows(dst, tc.src, tc.rowLen, tc.imatrix)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			var ve *ValueError
			if errors.As(err, &ve) && (ve.Row != tc.row || ve.Col != tc.col || ve.Type != tc.f.Type) {
				t.Errorf("error names %s row %d column %d, want %s row %d column %d", ve.Type, ve.Row, ve.Col, tc.f.Type, tc.row, tc.col)
			}
		})
	}
}

func TestPanics(t *testing.T) {
	mustPanic := func(name string, fn func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s did not panic", name)
			}
		}()
		fn()
	}
	mustPanic("short dst", func() { _ = Q4_0.Quantize(make([]byte, 17), make([]float32, 32), nil) })
	mustPanic("dequantize partial block", func() { Q4_0.Dequantize(make([]float32, 32), make([]byte, 17)) })
	mustPanic("dequantize dst size", func() { Q4_0.Dequantize(make([]float32, 31), make([]byte, 18)) })
	mustPanic("vecdot n", func() { Q4_K.VecDot(128, make([]byte, 72), make([]byte, 146)) })
	mustPanic("vecdot sizes", func() { Q8_0.VecDot(32, make([]byte, 34), make([]byte, 33)) })
	mustPanic("q8_K dot", func() { Q8_K.VecDot(256, make([]byte, 292), make([]byte, 292)) })
	mustPanic("QuantizeRowQ8_K size", func() { QuantizeRowQ8_K(make([]byte, 292), make([]float32, 128)) })
}

// TestImatrix checks the importance-weighted quantizers: per row they
// depend on the row (QuantizeRows equals row-by-row Quantize), and they
// lower the weighted error Σ w·(x − x̂)² against the unweighted ones.
// Q8_0, Q8_1 and Q8_K ignore the weights, as in ggml.
func TestImatrix(t *testing.T) {
	const rowLen, rows = 512, 16
	r := newRand(3)
	x := randomFloats(r, rowLen*rows, 0.02)
	qw := make([]float32, rowLen)
	for i := range qw {
		v := r.ExpFloat64()
		qw[i] = float32(v * v * v)
	}
	for _, f := range formats {
		rb, _ := f.RowBytes(rowLen)
		plain := make([]byte, rb*rows)
		weighted := make([]byte, rb*rows)
		if err := f.QuantizeRows(plain, x, rowLen, nil); err != nil {
			t.Fatal(err)
		}
		if err := f.QuantizeRows(weighted, x, rowLen, qw); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < rows; i++ {
			one := make([]byte, rb)
			if err := f.Quantize(one, x[i*rowLen:(i+1)*rowLen], qw); err != nil {
				t.Fatal(err)
			}
			if string(one) != string(weighted[i*rb:(i+1)*rb]) {
				t.Fatalf("%s: row %d differs between Quantize and QuantizeRows", f, i)
			}
		}
		errOf := func(q []byte) float64 {
			y := make([]float32, len(x))
			f.Dequantize(y, q)
			var e float64
			for i := range x {
				d := float64(x[i] - y[i])
				e += float64(qw[i%rowLen]) * d * d
			}
			return e
		}
		ep, ew := errOf(plain), errOf(weighted)
		if f == Q8_0 || f == Q8_1 || f == Q8_K {
			if string(plain) != string(weighted) {
				t.Errorf("%s: the importance matrix changed the result", f)
			}
			continue
		}
		if ew > 0.8*ep {
			t.Errorf("%s: weighted error %.4g with the importance matrix, %.4g without", f, ew, ep)
		}
	}
}
