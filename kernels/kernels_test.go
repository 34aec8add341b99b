package kernels

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/lmc-project/lmc/gguf"
	"github.com/lmc-project/lmc/tensor"
)

// encode stores w (rows×cols) as kind at byte offset off of a fresh buffer,
// so tests can shift the alignment of the rows; it returns the stored bytes
// and the exact float32 values they decode to.
func encode(kind int, w []float32, off int) ([]byte, []float32) {
	eb := 4
	if kind != kindF32 {
		eb = 2
	}
	buf := make([]byte, off+eb*len(w))
	b := buf[off:]
	exact := make([]float32, len(w))
	for i, v := range w {
		switch kind {
		case kindF32:
			*(*float32)(unsafe.Pointer(&b[4*i])) = v
			exact[i] = v
		case kindF16:
			h := tensor.F32ToF16(v)
			*(*uint16)(unsafe.Pointer(&b[2*i])) = h
			exact[i] = tensor.F16ToF32(h)
		case kindBF16:
			h := tensor.F32ToBF16(v)
			*(*uint16)(unsafe.Pointer(&b[2*i])) = h
			exact[i] = tensor.BF16ToF32(h)
		}
	}
	return b, exact
}

func randVec(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

// checkClose compares got against float64 dot products of w (rows×cols)
// and x (n×cols). The bound is relative to Σ|w·x|: float32 sums of up to a
// few hundred terms in 16 lanes stay far inside 1e-5 of it.
func checkClose(t *testing.T, what string, got, w, x []float32, rows, cols, n int) {
	t.Helper()
	const tol = 1e-5
	for tk := 0; tk < n; tk++ {
		for r := 0; r < rows; r++ {
			var want, mag float64
			for c := 0; c < cols; c++ {
				p := float64(w[r*cols+c]) * float64(x[tk*cols+c])
				want += p
				mag += math.Abs(p)
			}
			g := float64(got[tk*rows+r])
			if d := math.Abs(g - want); !(d <= tol*mag+1e-30) {
				t.Fatalf("%s: token %d row %d = %g, want %g (diff %.3g, bound %.3g)", what, tk, r, g, want, d, tol*mag)
			}
		}
	}
}

// TestMatMulAllImpls runs every implementation on every dense kind over
// shapes around the vector widths (8, 16) and tile sizes (4 rows, 1-4
// tokens), with the rows and x shifted off alignment, and sentinels after
// dst.
func TestMatMulAllImpls(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	rowsList := []int{1, 3, 4, 5, 8, 13, 36}
	colsList := []int{1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 48, 63, 64, 65, 100, 172, 256}
	nList := []int{1, 2, 3, 4, 5, 7, 9}
	for _, im := range impls() {
		for kind := range kindNames {
			for _, rows := range rowsList {
				for _, cols := range colsList {
					w := randVec(rng, rows*cols)
					data, exact := encode(kind, w, 1+rng.IntN(3))
					m := newDense(kind, data, rows, cols)
					for _, n := range nList {
						name := fmt.Sprintf("%s/%s/%dx%d/n=%d", im.name, kindNames[kind], rows, cols, n)
						xbuf := randVec(rng, n*cols+1)
						x := xbuf[1:] // 4 bytes off the allocation's alignment
						const sentinel = float32(-1.5e30)
						dst := make([]float32, n*rows+5)
						for i := range dst {
							dst[i] = sentinel
						}
						restore := setImpl(im.name)
						m.MatMul(dst, x, n)
						restore()
						for i := n * rows; i < len(dst); i++ {
							if dst[i] != sentinel {
								t.Fatalf("%s: wrote dst[%d] past n×rows = %d", name, i, n*rows)
							}
						}
						checkClose(t, name, dst, exact, x, rows, cols, n)
					}
				}
			}
		}
	}
}

// TestAsmMatchesGo checks each assembly level against the Go kernels on
// model-like shapes, where all columns go through the assembly.
func TestAsmMatchesGo(t *testing.T) {
	if len(impls()) == 1 {
		t.Skip("no assembly kernels on this CPU or build")
	}
	rng := rand.New(rand.NewPCG(3, 9))
	for _, sh := range []struct{ rows, cols, n int }{{256, 256, 1}, {64, 768, 6}, {40, 128, 13}} {
		for kind := range kindNames {
			w := randVec(rng, sh.rows*sh.cols)
			data, _ := encode(kind, w, 0)
			m := newDense(kind, data, sh.rows, sh.cols)
			x := randVec(rng, sh.n*sh.cols)
			want := make([]float32, sh.n*sh.rows)
			restore := setImpl("go")
			m.MatMul(want, x, sh.n)
			restore()
			for _, im := range impls()[1:] {
				got := make([]float32, len(want))
				restore := setImpl(im.name)
				m.MatMul(got, x, sh.n)
				restore()
				for i := range got {
					scale := math.Max(1, math.Abs(float64(want[i])))
					if d := math.Abs(float64(got[i] - want[i])); d > 2e-5*scale*math.Sqrt(float64(sh.cols)) {
						t.Fatalf("%s %s %v: [%d] = %g, go %g", im.name, kindNames[kind], sh, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// TestThreadsDeterministic checks that the thread count does not change a
// single bit of the result.
func TestThreadsDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	rows, cols := 203, 96
	data, _ := encode(kindF16, randVec(rng, rows*cols), 0)
	m := newDense(kindF16, data, rows, cols)
	for _, n := range []int{1, 6} {
		x := randVec(rng, n*cols)
		var outs [][]float32
		for _, th := range []int{1, 2, 3, 7} {
			prev := SetThreads(th)
			d := make([]float32, n*rows)
			m.MatMul(d, x, n)
			SetThreads(prev)
			outs = append(outs, d)
		}
		for i := 1; i < len(outs); i++ {
			for j := range outs[0] {
				if math.Float32bits(outs[i][j]) != math.Float32bits(outs[0][j]) {
					t.Fatalf("n=%d: thread setting %d differs at %d: %g vs %g", n, i, j, outs[i][j], outs[0][j])
				}
			}
		}
	}
}

func TestDots(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, im := range impls() {
		for _, c := range []struct{ m, n, k, aStride, bStride, dStride int }{
			{1, 1, 1, 1, 1, 1}, {5, 3, 64, 128, 256, 9}, {37, 16, 64, 64, 512, 40}, {4, 4, 17, 20, 18, 4}, {9, 2, 8, 8, 8, 9},
		} {
			a := randVec(rng, (c.m-1)*c.aStride+c.k)
			b := randVec(rng, (c.n-1)*c.bStride+c.k)
			dst := make([]float32, (c.n-1)*c.dStride+c.m)
			restore := setImpl(im.name)
			Dots(dst, c.dStride, a, c.aStride, c.m, b, c.bStride, c.n, c.k)
			restore()
			for tk := 0; tk < c.n; tk++ {
				for r := 0; r < c.m; r++ {
					var want, mag float64
					for i := 0; i < c.k; i++ {
						p := float64(a[r*c.aStride+i]) * float64(b[tk*c.bStride+i])
						want += p
						mag += math.Abs(p)
					}
					if d := math.Abs(float64(dst[tk*c.dStride+r]) - want); d > 1e-5*mag+1e-30 {
						t.Fatalf("%s %+v: [%d,%d] = %g, want %g", im.name, c, tk, r, dst[tk*c.dStride+r], want)
					}
				}
			}
		}
	}
}

func TestWeightedSum(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 2))
	for _, im := range impls() {
		for _, c := range []struct{ d, np, stride int }{
			{1, 1, 1}, {8, 0, 8}, {16, 1, 16}, {64, 5, 128}, {64, 64, 64}, {100, 7, 130}, {24, 3, 24}, {128, 33, 256}, {8, 9, 512},
		} {
			v := randVec(rng, max(0, (c.np-1)*c.stride+c.d))
			p := randVec(rng, c.np)
			dst := make([]float32, c.d+2)
			dst[c.d], dst[c.d+1] = 3, 4
			restore := setImpl(im.name)
			WeightedSum(dst[:c.d], v, c.stride, p)
			restore()
			if dst[c.d] != 3 || dst[c.d+1] != 4 {
				t.Fatalf("%s %+v wrote past dst", im.name, c)
			}
			for i := 0; i < c.d; i++ {
				var want, mag float64
				for j := 0; j < c.np; j++ {
					q := float64(p[j]) * float64(v[j*c.stride+i])
					want += q
					mag += math.Abs(q)
				}
				if d := math.Abs(float64(dst[i]) - want); d > 1e-5*mag+1e-30 {
					t.Fatalf("%s %+v: [%d] = %g, want %g", im.name, c, i, dst[i], want)
				}
			}
		}
	}
}

func TestNewErrors(t *testing.T) {
	f32 := make([]byte, 4*6)
	for _, c := range []struct {
		name       string
		typ        gguf.Type
		data       []byte
		rows, cols int
		want       string
	}{
		{"ok", gguf.TypeF32, f32, 2, 3, ""},
		{"short", gguf.TypeF32, f32[:20], 2, 3, "needs 24 bytes, got 20"},
		{"long", gguf.TypeF16, f32, 2, 3, "needs 12 bytes, got 24"},
		{"zero rows", gguf.TypeF32, nil, 0, 3, "not positive"},
		{"negative cols", gguf.TypeF32, nil, 2, -1, "not positive"},
		{"unregistered", gguf.Type(4242), f32, 2, 3, "no matrix kernel for type TYPE(4242)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := New(c.typ, c.data, c.rows, c.cols)
			if c.want == "" {
				if err != nil || m.Rows() != c.rows || m.Cols() != c.cols || m.Type() != c.typ {
					t.Fatalf("New = %v, %v", m, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("New error = %v, want it to mention %q", err, c.want)
			}
		})
	}
}

func TestRegisterDuplicatePanics(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "twice") {
			t.Fatalf("recover() = %v, want a duplicate-registration panic", r)
		}
	}()
	Register(gguf.TypeF32, func([]byte, int, int) (Matrix, error) { return nil, errors.New("unused") })
}

func TestMatMulPanicsOnShortSlices(t *testing.T) {
	m, _ := NewF32(make([]float32, 6), 2, 3)
	for _, c := range []struct {
		name   string
		dst, x []float32
		n      int
	}{
		{"short x", make([]float32, 4), make([]float32, 5), 2},
		{"short dst", make([]float32, 3), make([]float32, 6), 2},
		{"negative n", make([]float32, 4), make([]float32, 6), -1},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			m.MatMul(c.dst, c.x, c.n)
		})
	}
}

func TestParallel(t *testing.T) {
	defer SetThreads(SetThreads(3))
	for _, c := range []struct{ n, grain int }{{0, 1}, {1, 1}, {10, 1}, {10, 4}, {1000, 7}, {5, 16}, {64, 0}} {
		hits := make([]atomic.Int32, c.n)
		var bad atomic.Bool
		g := max(c.grain, 1)
		Parallel(c.n, c.grain, func(lo, hi int) {
			if lo%g != 0 || (hi != c.n && hi%g != 0) || lo >= hi {
				bad.Store(true)
			}
			for i := lo; i < hi; i++ {
				hits[i].Add(1)
			}
		})
		if bad.Load() {
			t.Fatalf("%+v: a chunk boundary is not a multiple of grain", c)
		}
		for i := range hits {
			if hits[i].Load() != 1 {
				t.Fatalf("%+v: item %d visited %d times", c, i, hits[i].Load())
			}
		}
	}
	// Nested calls from every worker must finish.
	var total atomic.Int64
	Parallel(8, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			Parallel(100, 1, func(lo, hi int) { total.Add(int64(hi - lo)) })
		}
	})
	if total.Load() != 800 {
		t.Fatalf("nested Parallel covered %d items, want 800", total.Load())
	}
}

func TestSetThreads(t *testing.T) {
	prev := SetThreads(5)
	if Threads() != 5 {
		t.Fatalf("Threads() = %d after SetThreads(5)", Threads())
	}
	if p := SetThreads(prev); p != 5 {
		t.Fatalf("SetThreads returned %d, want 5", p)
	}
	SetThreads(0)
	if Threads() < 1 {
		t.Fatalf("default Threads() = %d", Threads())
	}
	SetThreads(prev)
}

func TestDequantizeRow(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	for kind := range kindNames {
		w := randVec(rng, 3*37)
		data, exact := encode(kind, w, 0)
		m := newDense(kind, data, 3, 37)
		row := make([]float32, 37)
		for r := 0; r < 3; r++ {
			m.DequantizeRow(row, r)
			for c := range row {
				if row[c] != exact[r*37+c] {
					t.Fatalf("%s row %d col %d = %g, want %g", kindNames[kind], r, c, row[c], exact[r*37+c])
				}
			}
		}
	}
}
