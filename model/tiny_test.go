package model_test

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/lmc-project/lmc/gguf"
	"github.com/lmc-project/lmc/model"
	"github.com/lmc-project/lmc/modelfile"
	"github.com/lmc-project/lmc/tensor"
)

// tiny describes a small random model written to a GGUF file, to test
// the architecture variants no shared model covers, against a float64
// reference forward pass written from the published definitions.
type tiny struct {
	arch                       string
	dim, layers, heads, kv, hd int
	ff, vocab                  int
	tied, bias, qknorm         bool
	wtype                      gguf.Type // storage of the matrices
	scaling                    string    // "", "linear", "llama3"
	factor                     float64
	theta                      float64
}

type tinyModel struct {
	cfg     tiny
	path    string
	w       map[string][]float64 // exact stored values
	shape   map[string][]int
	invFreq []float64
}

func (c tiny) name() string {
	return fmt.Sprintf("%s-%s-tied%v-bias%v-qknorm%v-%s", c.arch, c.wtype.UpperName(), c.tied, c.bias, c.qknorm, c.scaling)
}

func writeTiny(t testing.TB, c tiny) *tinyModel {
	t.Helper()
	rng := rand.New(rand.NewPCG(uint64(c.dim), uint64(len(c.arch))))
	tm := &tinyModel{cfg: c, w: map[string][]float64{}, shape: map[string][]int{}}
	var infos []gguf.TensorInfo
	var datas [][]byte
	add := func(name string, typ gguf.Type, scale float64, shape ...int) {
		n := 1
		for _, d := range shape {
			n *= d
		}
		vals := make([]float64, n)
		var data []byte
		for i := range vals {
			v := float32(rng.NormFloat64() * scale)
			if len(shape) == 1 && scale < 0 {
				v = float32(1 + 0.1*rng.NormFloat64()) // norms near 1
			}
			switch typ {
			case gguf.TypeF16:
				h := tensor.F32ToF16(v)
				data = binary.LittleEndian.AppendUint16(data, h)
				v = tensor.F16ToF32(h)
			case gguf.TypeBF16:
				h := tensor.F32ToBF16(v)
				data = binary.LittleEndian.AppendUint16(data, h)
				v = tensor.BF16ToF32(h)
			default:
				data = binary.LittleEndian.AppendUint32(data, math.Float32bits(v))
			}
			vals[i] = float64(v)
		}
		tm.w[name], tm.shape[name] = vals, shape
		ggShape := make([]uint64, len(shape))
		for i, d := range shape {
			ggShape[len(shape)-1-i] = uint64(d)
		}
		infos = append(infos, gguf.TensorInfo{Name: name, Shape: ggShape, Type: typ})
		datas = append(datas, data)
	}
	mat := func(name string, rows, cols int) { add(name, c.wtype, 1/math.Sqrt(float64(cols)), rows, cols) }
	add("token_embd.weight", c.wtype, 1, c.vocab, c.dim)
	half := c.hd / 2
	if c.scaling == "llama3" {
		add("rope_freqs.weight", gguf.TypeF32, 0, half)
		for i := range tm.w["rope_freqs.weight"] {
			tm.w["rope_freqs.weight"][i] = float64(1 + i%3)
			binary.LittleEndian.PutUint32(datas[len(datas)-1][4*i:], math.Float32bits(float32(1+i%3)))
		}
	}
	for l := 0; l < c.layers; l++ {
		p := fmt.Sprintf("blk.%d.", l)
		add(p+"attn_norm.weight", gguf.TypeF32, -1, c.dim)
		mat(p+"attn_q.weight", c.heads*c.hd, c.dim)
		mat(p+"attn_k.weight", c.kv*c.hd, c.dim)
		mat(p+"attn_v.weight", c.kv*c.hd, c.dim)
		if c.bias {
			add(p+"attn_q.bias", gguf.TypeF32, 0.1, c.heads*c.hd)
			add(p+"attn_k.bias", gguf.TypeF32, 0.1, c.kv*c.hd)
			add(p+"attn_v.bias", gguf.TypeF32, 0.1, c.kv*c.hd)
		}
		if c.qknorm {
			add(p+"attn_q_norm.weight", gguf.TypeF32, -1, c.hd)
			add(p+"attn_k_norm.weight", gguf.TypeF32, -1, c.hd)
		}
		mat(p+"attn_output.weight", c.dim, c.heads*c.hd)
		add(p+"ffn_norm.weight", gguf.TypeF32, -1, c.dim)
		mat(p+"ffn_gate.weight", c.ff, c.dim)
		mat(p+"ffn_up.weight", c.ff, c.dim)
		mat(p+"ffn_down.weight", c.dim, c.ff)
	}
	add("output_norm.weight", gguf.TypeF32, -1, c.dim)
	if !c.tied {
		mat("output.weight", c.vocab, c.dim)
	}
	a := c.arch
	kvs := []gguf.KV{
		{Key: "general.architecture", Value: gguf.String(a)},
		{Key: a + ".context_length", Value: gguf.Uint32(64)},
		{Key: a + ".embedding_length", Value: gguf.Uint32(uint32(c.dim))},
		{Key: a + ".block_count", Value: gguf.Uint32(uint32(c.layers))},
		{Key: a + ".feed_forward_length", Value: gguf.Uint32(uint32(c.ff))},
		{Key: a + ".attention.head_count", Value: gguf.Uint32(uint32(c.heads))},
		{Key: a + ".attention.head_count_kv", Value: gguf.Uint32(uint32(c.kv))},
		{Key: a + ".attention.key_length", Value: gguf.Uint32(uint32(c.hd))},
		{Key: a + ".attention.value_length", Value: gguf.Uint32(uint32(c.hd))},
		{Key: a + ".attention.layer_norm_rms_epsilon", Value: gguf.Float32(1e-6)},
		{Key: a + ".rope.freq_base", Value: gguf.Float32(float32(c.theta))},
		{Key: a + ".vocab_size", Value: gguf.Uint32(uint32(c.vocab))},
	}
	if c.scaling == "linear" {
		kvs = append(kvs, gguf.KV{Key: a + ".rope.scaling.type", Value: gguf.String("linear")},
			gguf.KV{Key: a + ".rope.scaling.factor", Value: gguf.Float32(float32(c.factor))})
	}
	tm.path = filepath.Join(t.TempDir(), c.name()+".gguf")
	f, err := os.Create(tm.path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := gguf.NewWriter(f, kvs, infos, 32)
	if err != nil {
		t.Fatal(err)
	}
	for i, ti := range infos {
		if err := w.WriteTensor(ti.Name, datas[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	tm.invFreq = make([]float64, half)
	for i := range tm.invFreq {
		f := math.Pow(float64(float32(c.theta)), -float64(2*i)/float64(c.hd))
		switch c.scaling {
		case "linear":
			f /= c.factor
		case "llama3":
			f /= tm.w["rope_freqs.weight"][i]
		}
		tm.invFreq[i] = f
	}
	return tm
}

// forward is the float64 reference: it returns the logits of every
// position of tokens.
func (tm *tinyModel) forward(tokens []int) [][]float64 {
	c := tm.cfg
	w := tm.w
	n := len(tokens)
	const eps = 1e-6
	matvec := func(name string, x []float64) []float64 {
		sh := tm.shape[name]
		out := make([]float64, sh[0])
		for r := range out {
			for i, v := range x {
				out[r] += w[name][r*sh[1]+i] * v
			}
		}
		return out
	}
	norm := func(x []float64, name string) []float64 {
		var ss float64
		for _, v := range x {
			ss += v * v
		}
		s := 1 / math.Sqrt(ss/float64(len(x))+eps)
		out := make([]float64, len(x))
		for i, v := range x {
			out[i] = v * s * w[name][i]
		}
		return out
	}
	rope := func(x []float64, pos int) {
		half := c.hd / 2
		for i := 0; i < half; i++ {
			a := float64(pos) * tm.invFreq[i]
			i0, i1 := 2*i, 2*i+1 // GGUF llama: adjacent pairs
			if c.arch != "llama" {
				i0, i1 = i, i+half // rotate-half
			}
			x0, x1 := x[i0], x[i1]
			x[i0] = x0*math.Cos(a) - x1*math.Sin(a)
			x[i1] = x0*math.Sin(a) + x1*math.Cos(a)
		}
	}
	xs := make([][]float64, n)
	for t, id := range tokens {
		xs[t] = append([]float64(nil), w["token_embd.weight"][id*c.dim:(id+1)*c.dim]...)
	}
	for l := 0; l < c.layers; l++ {
		p := fmt.Sprintf("blk.%d.", l)
		qs, ks, vs := make([][]float64, n), make([][]float64, n), make([][]float64, n)
		for t := range xs {
			h := norm(xs[t], p+"attn_norm.weight")
			qs[t], ks[t], vs[t] = matvec(p+"attn_q.weight", h), matvec(p+"attn_k.weight", h), matvec(p+"attn_v.weight", h)
			if c.bias {
				for i := range qs[t] {
					qs[t][i] += w[p+"attn_q.bias"][i]
				}
				for i := range ks[t] {
					ks[t][i] += w[p+"attn_k.bias"][i]
					vs[t][i] += w[p+"attn_v.bias"][i]
				}
			}
			for hh := 0; hh < c.heads; hh++ {
				seg := qs[t][hh*c.hd : (hh+1)*c.hd]
				if c.qknorm {
					copy(seg, norm(seg, p+"attn_q_norm.weight"))
				}
				rope(seg, t)
			}
			for hh := 0; hh < c.kv; hh++ {
				seg := ks[t][hh*c.hd : (hh+1)*c.hd]
				if c.qknorm {
					copy(seg, norm(seg, p+"attn_k_norm.weight"))
				}
				rope(seg, t)
			}
		}
		for t := range xs {
			att := make([]float64, c.heads*c.hd)
			for hh := 0; hh < c.heads; hh++ {
				g := hh / (c.heads / c.kv)
				sc := make([]float64, t+1)
				m := math.Inf(-1)
				for j := 0; j <= t; j++ {
					for i := 0; i < c.hd; i++ {
						sc[j] += qs[t][hh*c.hd+i] * ks[j][g*c.hd+i]
					}
					sc[j] /= math.Sqrt(float64(c.hd))
					m = math.Max(m, sc[j])
				}
				var sum float64
				for j := range sc {
					sc[j] = math.Exp(sc[j] - m)
					sum += sc[j]
				}
				for j := range sc {
					for i := 0; i < c.hd; i++ {
						att[hh*c.hd+i] += sc[j] / sum * vs[j][g*c.hd+i]
					}
				}
			}
			o := matvec(p+"attn_output.weight", att)
			for i := range o {
				xs[t][i] += o[i]
			}
			h := norm(xs[t], p+"ffn_norm.weight")
			gt, up := matvec(p+"ffn_gate.weight", h), matvec(p+"ffn_up.weight", h)
			for i := range gt {
				gt[i] = gt[i] / (1 + math.Exp(-gt[i])) * up[i]
			}
			d := matvec(p+"ffn_down.weight", gt)
			for i := range d {
				xs[t][i] += d[i]
			}
		}
	}
	out := make([][]float64, n)
	head := "output.weight"
	if c.tied {
		head = "token_embd.weight"
		tm.shape[head] = []int{c.vocab, c.dim}
	}
	for t := range xs {
		out[t] = matvec(head, norm(xs[t], "output_norm.weight"))
	}
	return out
}

var tinyCases = []tiny{
	{arch: "llama", dim: 32, layers: 2, heads: 4, kv: 2, hd: 8, ff: 48, vocab: 40, wtype: gguf.TypeF32, theta: 10000},
	{arch: "llama", dim: 32, layers: 2, heads: 4, kv: 1, hd: 8, ff: 40, vocab: 40, tied: true, wtype: gguf.TypeF16, theta: 500000, scaling: "llama3"},
	{arch: "llama", dim: 48, layers: 1, heads: 3, kv: 3, hd: 16, ff: 64, vocab: 33, wtype: gguf.TypeBF16, theta: 10000, scaling: "linear", factor: 4},
	{arch: "qwen2", dim: 32, layers: 2, heads: 4, kv: 2, hd: 8, ff: 48, vocab: 40, tied: true, bias: true, wtype: gguf.TypeF32, theta: 1e6},
	{arch: "qwen3", dim: 32, layers: 2, heads: 4, kv: 2, hd: 16, ff: 48, vocab: 40, qknorm: true, wtype: gguf.TypeBF16, theta: 1e6},
}

func openTiny(t testing.TB, tm *tinyModel) *model.Model {
	t.Helper()
	mf, err := modelfile.Open(tm.path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mf.Close() })
	m, err := model.Load(mf, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestArchitectures compares every architecture variant with the float64
// reference: batched prefill of all positions, then token-by-token decoding
// in a fresh session. Tolerance 1e-4 absolute on logits of magnitude ~1-5
// (float32 activations vs float64).
func TestArchitectures(t *testing.T) {
	tokens := []int{1, 7, 30, 2, 2, 9, 17, 25, 3, 31, 0, 11, 5, 39 % 33, 12, 20, 8, 6}
	for _, c := range tinyCases {
		t.Run(c.name(), func(t *testing.T) {
			tm := writeTiny(t, c)
			m := openTiny(t, tm)
			want := tm.forward(tokens)
			s := m.NewSession(0)
			all, err := s.PrefillAll(tokens)
			if err != nil {
				t.Fatal(err)
			}
			var worst float64
			for i := range tokens {
				for j, v := range want[i] {
					worst = math.Max(worst, math.Abs(float64(all[i*c.vocab+j])-v))
				}
			}
			if worst > 1e-4 {
				t.Fatalf("prefill: max |Δlogit| = %.3g > 1e-4", worst)
			}
			s2 := m.NewSession(0)
			var worstDec float64
			for i, tok := range tokens {
				lg, err := s2.Decode(tok)
				if err != nil {
					t.Fatal(err)
				}
				for j, v := range want[i] {
					worstDec = math.Max(worstDec, math.Abs(float64(lg[j])-v))
				}
			}
			if worstDec > 1e-4 {
				t.Fatalf("decode: max |Δlogit| = %.3g > 1e-4", worstDec)
			}
			t.Logf("max |Δlogit| prefill %.2g, decode %.2g", worst, worstDec)
		})
	}
}
