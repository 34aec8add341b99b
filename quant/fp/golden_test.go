package fp

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func readF32(t *testing.T, name string) []float32 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

func readBytes(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestGGMLGolden checks quantization and dequantization against ggml's own
// quantize_row_*_ref and dequantize_row_* (vectors made by
// testdata/gen_ggml.py from llama.cpp's libggml-base.so): every block byte
// and every dequantized float32 bit must match.
func TestGGMLGolden(t *testing.T) {
	cases := []struct {
		name        string
		block, size int
		quant       func([]byte, []float32) error
		dequant     func([]float32, []byte)
	}{
		{"mxfp4", MXFP4BlockSize, MXFP4BlockBytes, QuantizeRowMXFP4, DequantizeRowMXFP4},
		{"nvfp4", NVFP4BlockSize, NVFP4BlockBytes, QuantizeRowNVFP4, DequantizeRowNVFP4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := readF32(t, c.name+"_in.f32")
			want := readBytes(t, c.name+"_q.bin")
			got := make([]byte, len(x)/c.block*c.size)
			if err := c.quant(got, x); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				bad := 0
				for b := 0; b < len(got)/c.size; b++ {
					if !bytes.Equal(got[b*c.size:(b+1)*c.size], want[b*c.size:(b+1)*c.size]) {
						if bad < 5 {
							t.Errorf("block %d: lmc % x\n ggml % x\n input %v", b, got[b*c.size:(b+1)*c.size], want[b*c.size:(b+1)*c.size], x[b*c.block:(b+1)*c.block])
						}
						bad++
					}
				}
				t.Fatalf("%d of %d blocks differ from ggml", bad, len(got)/c.size)
			}
			for _, pair := range [][2]string{{"_q.bin", "_deq.f32"}, {"_rand.bin", "_rand_deq.f32"}} {
				q := readBytes(t, c.name+pair[0])
				wantY := readF32(t, c.name+pair[1])
				y := make([]float32, len(wantY))
				c.dequant(y, q)
				for i := range y {
					if math.Float32bits(y[i]) != math.Float32bits(wantY[i]) {
						t.Fatalf("%s element %d: lmc %v, ggml %v", pair[0], i, y[i], wantY[i])
					}
				}
			}
			t.Logf("%d blocks identical to ggml", len(got)/c.size)
		})
	}
}

// TestGGMLQ8_0 checks the activation quantizer against llama.cpp's CPU
// backend (quantize_row_q8_0, AVX2 build), byte for byte.
func TestGGMLQ8_0(t *testing.T) {
	x := readF32(t, "q8_in.f32")
	want := readBytes(t, "q8_q.bin")
	got := make([]byte, len(want))
	QuantizeRowQ8_0(got, x)
	for b := 0; b < len(got)/34; b++ {
		if !bytes.Equal(got[b*34:(b+1)*34], want[b*34:(b+1)*34]) {
			t.Fatalf("block %d: lmc % x\n ggml % x", b, got[b*34:(b+1)*34], want[b*34:(b+1)*34])
		}
	}
}

// TestGGMLDot checks the dot products against llama.cpp's x86 kernels
// (ggml_vec_dot_mxfp4_q8_0 and ggml_vec_dot_nvfp4_q8_0, AVX2+FMA build)
// bit for bit, and the other summation orders (ggml's scalar reference,
// the repacked-MXFP4 order lmc's engine uses) within float32 rounding of
// the same sum.
func TestGGMLDot(t *testing.T) {
	cases := []struct {
		name        string
		block, size int
		dot, ref    func(int, []byte, []byte) float32
		engine      func(int, []byte, []byte) float32
	}{
		{"mxfp4", MXFP4BlockSize, MXFP4BlockBytes, dotMXFP4Q8_0AVX2, dotMXFP4Q8_0Generic, DotMXFP4Q8_0},
		{"nvfp4", NVFP4BlockSize, NVFP4BlockBytes, DotNVFP4Q8_0, dotNVFP4Q8_0Generic, DotNVFP4Q8_0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var lengths []int
			for _, f := range strings.Fields(string(readBytes(t, c.name+"_dot_n.txt"))) {
				n, err := strconv.Atoi(f)
				if err != nil {
					t.Fatal(err)
				}
				lengths = append(lengths, n)
			}
			w := readBytes(t, c.name+"_dot_w.bin")
			x := readBytes(t, c.name+"_dot_x.bin")
			want := readF32(t, c.name+"_dot.f32")
			i, wo, xo := 0, 0, 0
			for _, n := range lengths {
				for range 8 {
					wb := w[wo : wo+n/c.block*c.size]
					xb := x[xo : xo+n/32*34]
					got := c.dot(n, wb, xb)
					if math.Float32bits(got) != math.Float32bits(want[i]) {
						t.Errorf("row %d (n=%d): lmc %v, ggml %v", i, n, got, want[i])
					}
					for _, other := range []func(int, []byte, []byte) float32{c.ref, c.engine} {
						if d := math.Abs(float64(other(n, wb, xb) - got)); d > 1e-5*math.Abs(float64(got))+1e-6 {
							t.Errorf("row %d (n=%d): another summation order differs from AVX2's %v by %g", i, n, got, d)
						}
					}
					i, wo, xo = i+1, wo+len(wb), xo+len(xb)
				}
			}
		})
	}
}
