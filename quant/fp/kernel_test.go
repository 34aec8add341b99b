package fp_test

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/lmc-project/lmc/gguf"
	"github.com/lmc-project/lmc/internal/llamacpp"
	"github.com/lmc-project/lmc/internal/shared"
	"github.com/lmc-project/lmc/kernels"
	"github.com/lmc-project/lmc/kernels/kerneltest"
	"github.com/lmc-project/lmc/model"
	"github.com/lmc-project/lmc/modelfile"
	"github.com/lmc-project/lmc/quant/fp"
	"github.com/lmc-project/lmc/tensor"
)

type blockFormat struct {
	t          gguf.Type
	block, sz  int
	quantize   func([]byte, []float32) error
	dequantize func([]float32, []byte)
}

var blockFormats = []blockFormat{
	{gguf.TypeMXFP4, fp.MXFP4BlockSize, fp.MXFP4BlockBytes, fp.QuantizeRowMXFP4, fp.DequantizeRowMXFP4},
	{gguf.TypeNVFP4, fp.NVFP4BlockSize, fp.NVFP4BlockBytes, fp.QuantizeRowNVFP4, fp.DequantizeRowNVFP4},
}

// TestMatrix runs the shared kernel conformance suite on the registered
// MXFP4 and NVFP4 matrices: exact DequantizeRow, and MatMul within 1.5e-2
// of the float64 products (activations are rounded to Q8_0).
func TestMatrix(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, f := range blockFormats {
		t.Run(f.t.String(), func(t *testing.T) {
			rows, cols := 37, 4*64
			w := make([]float32, rows*cols)
			for i := range w {
				w[i] = float32(r.NormFloat64() * 0.05)
			}
			data := make([]byte, rows*cols/f.block*f.sz)
			if err := f.quantize(data, w); err != nil {
				t.Fatal(err)
			}
			m, err := kernels.New(f.t, data, rows, cols)
			if err != nil {
				t.Fatal(err)
			}
			ref := make([][]float32, rows)
			rb := cols / f.block * f.sz
			for i := range ref {
				ref[i] = make([]float32, cols)
				f.dequantize(ref[i], data[i*rb:(i+1)*rb])
			}
			kerneltest.CheckMatrix(t, m, ref, 1.5e-2)
		})
	}
}

// quantizedGGUF rewrites books5M's F32 GGUF with every weight matrix but
// the token embedding in format f (norms stay F32).
func quantizedGGUF(t *testing.T, f blockFormat) string { return quantizedGGUFOnly(t, f, nil) }

func quantizedGGUFOnly(t *testing.T, f blockFormat, only func(string) bool) string {
	t.Helper()
	src, err := gguf.Open(shared.Path(t, "models/books5M/books5M-f32.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var infos []gguf.TensorInfo
	datas := map[string][]byte{}
	for _, ti := range src.Tensors {
		raw, err := src.Data(ti.Name)
		if err != nil {
			t.Fatal(err)
		}
		out := gguf.TensorInfo{Name: ti.Name, Shape: ti.Shape, Type: ti.Type}
		if len(ti.Shape) == 2 && ti.Name != "token_embd.weight" && ti.Type == gguf.TypeF32 && (only == nil || only(ti.Name)) {
			x := make([]float32, len(raw)/4)
			if err := tensor.DecodeF32(x, raw, tensor.F32); err != nil {
				t.Fatal(err)
			}
			q := make([]byte, len(x)/f.block*f.sz)
			if err := f.quantize(q, x); err != nil {
				t.Fatal(err)
			}
			out.Type, raw = f.t, q
		}
		infos = append(infos, out)
		datas[ti.Name] = raw
	}
	var buf bytes.Buffer
	w, err := gguf.NewWriter(&buf, src.KVs, infos, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range infos {
		if err := w.WriteTensor(ti.Name, datas[ti.Name]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "books5M-"+f.t.String()+".gguf")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func softmax(logits []float32) []float64 {
	m := math.Inf(-1)
	for _, v := range logits {
		m = math.Max(m, float64(v))
	}
	p := make([]float64, len(logits))
	var s float64
	for i, v := range logits {
		p[i] = math.Exp(float64(v) - m)
		s += p[i]
	}
	for i := range p {
		p[i] /= s
	}
	return p
}

// TestAgainstLlamaCpp writes books5M with MXFP4 and NVFP4 weights (lmc's
// quantizers), runs it in llama.cpp (node-llama-cpp, the judge) and in
// lmc's engine (these kernels), and requires the same greedy tokens and
// next-token probabilities within 1e-2 for 6 steps. The block bytes and
// the dot products are bit-identical to ggml's (TestGGMLGolden,
// TestGGMLDot), but both engines quantize every matrix input to Q8_0, and
// lmc's float32 RMSNorm, SiLU and softmax differ from llama.cpp's in the
// last bit: where that flips the rounding of one Q8_0 activation, the
// probabilities move by a few 1e-3 (observed: MXFP4 1.4e-6 with no flip,
// NVFP4 2.9e-3). A wrong block layout or scale moves them by more than 0.1.
func TestAgainstLlamaCpp(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping llama.cpp comparison in -short mode")
	}
	tokens := []int{1, 359, 413, 286, 265, 329, 356, 373, 378, 419, 432}
	for _, f := range blockFormats {
		t.Run(f.t.String(), func(t *testing.T) {
			path := quantizedGGUF(t, f)
			ans := llamacpp.Run(t, llamacpp.Request{Model: path, Tokens: tokens, NPredict: 6, Probabilities: true, TopProbs: 20, IgnoreEOS: true}.Exact())
			if len(ans.Generated) == 0 || len(ans.Probs) != len(ans.Generated) {
				t.Fatalf("judge returned %d tokens and %d steps of probabilities", len(ans.Generated), len(ans.Probs))
			}
			mf, err := modelfile.Open(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer mf.Close()
			m, err := model.Load(mf, model.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if n := m.WeightTypes()[f.t]; n != 6*7+1 {
				t.Fatalf("%d %s weight matrices loaded, want 43", n, f.t)
			}
			s := m.NewSession(128)
			logits, err := s.Prefill(tokens)
			if err != nil {
				t.Fatal(err)
			}
			var worst float64
			for step, gen := range ans.Generated {
				p := softmax(logits)
				for _, ip := range ans.Probs[step] {
					d := math.Abs(p[int(ip[0])] - ip[1])
					worst = math.Max(worst, d)
					if d > 1e-2 {
						t.Errorf("step %d token %d: lmc p=%.6f, llama.cpp p=%.6f", step, int(ip[0]), p[int(ip[0])], ip[1])
					}
				}
				best := 0
				for i, v := range logits {
					if v > logits[best] {
						best = i
					}
				}
				if best != gen {
					t.Fatalf("step %d: lmc greedy token %d, llama.cpp %d", step, best, gen)
				}
				if logits, err = s.Decode(gen); err != nil {
					t.Fatal(err)
				}
			}
			t.Logf("%s: %d steps agree, max |Δp| = %.2g", f.t, len(ans.Generated), worst)
		})
	}
}
