package model

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// testCache builds a one-layer, one-head cache of head_dim 32.
func testCache(t *testing.T, typ KVType, ctx, batch int, o KVOptions) *Cache {
	t.Helper()
	L, err := resolveKV(1, 1, 32, ctx, batch, typ, o)
	if err != nil {
		t.Fatal(err)
	}
	return newCache(L)
}

// axis returns a 32-float vector a·e0 (+ b·e1).
func axis(a, b float32) []float32 {
	v := make([]float32, 32)
	v[0], v[1] = a, b
	return v
}

// feed evaluates tokens whose keys are a[i]·e0 (values e1 scaled by the
// position) against queries e0, n tokens per pass, and returns the last
// pass's attention outputs.
func feed(c *Cache, a []float32, n int) []float32 {
	var att []float32
	for i := 0; i < len(a); i += n {
		m := min(n, len(a)-i)
		var k, v, q []float32
		for j := i; j < i+m; j++ {
			k = append(k, axis(a[j]*10, 0)...)
			v = append(v, axis(0, float32(j))...)
			q = append(q, axis(1, 0)...)
		}
		att = make([]float32, 32*m)
		c.Put(0, c.Len(), k, v)
		c.attend(0, q, att, m, 32, 1)
		c.SetLen(c.Len() + m)
	}
	return att
}

func kept(c *Cache) []int {
	p := c.Slots(0, 0)
	slices.Sort(p)
	return p
}

// TestPolicies pins which positions each policy keeps on tiny inputs with
// a known attention pattern: keys are multiples of e0 and every query is
// e0, so a position's attention grows with its key.
func TestPolicies(t *testing.T) {
	for _, c := range []struct {
		name  string
		o     KVOptions
		keys  []float32
		batch int
		want  []int
	}{
		// StreamingLLM: 2 sinks + the 4 newest.
		{"streaming", KVOptions{Policy: KVStreaming, Budget: 6, Sinks: 2}, make([]float32, 10), 1, []int{0, 1, 6, 7, 8, 9}},
		// H2O, budget 4 = 2 recent + 2 heavy hitters (positions 1 and 3).
		// Position 2 goes first: it has been attended by fewer queries
		// than position 0 (H2O's bias to early tokens).
		{"h2o", KVOptions{Policy: KVH2O, Budget: 4}, []float32{0, 5, 0, 5, 0, 0, 0, 0}, 1, []int{1, 3, 6, 7}},
		// TOVA, budget 3: the newest query drops the least attended (the
		// older on ties: 1, then 3, then the new position 5 itself).
		{"tova", KVOptions{Policy: KVTOVA, Budget: 3}, []float32{3, 0, 2, 0, 1, 0}, 1, []int{0, 2, 4}},
		// SnapKV, budget 6, window 2, no pooling: the window votes for 1,
		// 4, 7, and the newest of the equal others.
		{"snapkv", KVOptions{Policy: KVSnapKV, Budget: 6, Window: 2, Pool: 1}, []float32{0, 4, 0, 0, 3, 0, 0, 2, 0, 0, 0, 0}, 12, []int{1, 4, 7, 9, 10, 11}},
		// With a max-pool of 3 the neighbours of 1 tie with it and win.
		{"snapkv-pool", KVOptions{Policy: KVSnapKV, Budget: 6, Window: 2, Pool: 3}, []float32{0, 4, 0, 0, 3, 0, 0, 2, 0, 0, 0, 0}, 12, []int{0, 1, 2, 5, 10, 11}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cache := testCache(t, KVF32, 64, c.batch, c.o)
			feed(cache, c.keys, c.batch)
			if got := kept(cache); !slices.Equal(got, c.want) {
				t.Errorf("kept %v, want %v", got, c.want)
			}
			if ev := cache.Stats().Evicted; ev != int64(len(c.keys)-len(c.want)) {
				t.Errorf("Evicted = %d, want %d", ev, len(c.keys)-len(c.want))
			}
		})
	}
}

// TestSnapKVDecode: while decoding, SnapKV lets the cache grow by a window
// and then compresses back to the budget.
func TestSnapKVDecode(t *testing.T) {
	c := testCache(t, KVF32, 64, 1, KVOptions{Policy: KVSnapKV, Budget: 6, Window: 3})
	for i := 0; i < 20; i++ {
		feed(c, []float32{float32(i % 3)}, 1)
		if n := len(c.Slots(0, 0)); n > 6+3-1 {
			t.Fatalf("after %d tokens the cache holds %d slots, want at most 8", i+1, n)
		}
	}
}

// TestAttentionUsesKeptSet checks that attention after evictions is exactly
// softmax attention over the positions the cache kept (H2O on random keys:
// not a window) and the new one.
func TestAttentionUsesKeptSet(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	c := testCache(t, KVF32, 64, 1, KVOptions{Policy: KVH2O, Budget: 5})
	type kv struct{ k, v []float32 }
	all := map[int]kv{}
	var att, q []float32
	var keep []int
	for i := 0; i < 12; i++ {
		k, v := make([]float32, 32), make([]float32, 32)
		q = make([]float32, 32)
		for j := range k {
			k[j], v[j], q[j] = float32(rng.NormFloat64()), float32(rng.NormFloat64()), float32(rng.NormFloat64())
		}
		all[i] = kv{k, v}
		keep = append(c.Slots(0, 0), i)
		att = make([]float32, 32)
		c.Put(0, c.Len(), k, v)
		c.attend(0, q, att, 1, 32, 1)
		c.SetLen(c.Len() + 1)
	}
	if len(keep) != 6 || slices.Equal(keep, []int{6, 7, 8, 9, 10, 11}) {
		t.Fatalf("the last query saw %v: want the budget of 5 and itself, not a plain window", keep)
	}
	var w []float64
	var z float64
	for _, p := range keep {
		var s float64
		for j := range q {
			s += float64(q[j]) * float64(all[p].k[j])
		}
		e := math.Exp(s / math.Sqrt(32))
		w = append(w, e)
		z += e
	}
	for j := 0; j < 32; j++ {
		var want float64
		for i, p := range keep {
			want += w[i] / z * float64(all[p].v[j])
		}
		if math.Abs(want-float64(att[j])) > 1e-5 {
			t.Fatalf("output %d = %g, want %g from positions %v", j, att[j], want, keep)
		}
	}
}

// TestKIVIRoundTrip bounds the KIVI error: keys quantized per channel over
// groups of G positions, values per position in blocks of 32 (ggml Q4_1),
// both within half a quantization step (plus f16 rounding of the scale and
// minimum), and the residual window exact.
func TestKIVIRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, typ := range []KVType{KVInt4, KVInt2} {
		const G, R, n = 8, 5, 37
		c := testCache(t, typ, 64, 4, KVOptions{Group: G, Residual: R, PageSize: 16})
		var ks, vs [][]float32
		for i := 0; i < n; i++ {
			k, v := make([]float32, 32), make([]float32, 32)
			for j := range k {
				k[j] = float32(rng.NormFloat64()*(1+float64(j%4))) + float32(j%3) // channels of different scales
				v[j] = float32(rng.NormFloat64())
			}
			ks, vs = append(ks, k), append(vs, v)
			c.Put(0, i, k, v)
			c.SetLen(i + 1)
		}
		st := &c.st[0]
		// Groups of 8 are quantized once more than R+G−1 wait: 37 − 32 = 5 left.
		if st.nq != 32 || st.n != n {
			t.Fatalf("%v: %d quantized, %d kept; want 32, %d", typ, st.nq, st.n, n)
		}
		levels := float64(int(1)<<typ.bits() - 1)
		_, kd, vd := c.Head(0, 0)
		for i := 0; i < n; i++ {
			for ch := 0; ch < 32; ch++ {
				if i >= st.nq {
					if kd[i][ch] != ks[i][ch] || vd[i][ch] != vs[i][ch] {
						t.Fatalf("%v: residual position %d channel %d changed", typ, i, ch)
					}
					continue
				}
				g := i / G * G
				lo, hi := math.Inf(1), math.Inf(-1)
				for j := g; j < g+G; j++ {
					lo, hi = math.Min(lo, float64(ks[j][ch])), math.Max(hi, float64(ks[j][ch]))
				}
				bound := 0.5*(hi-lo)/levels + 2e-3*(math.Abs(lo)+hi-lo)
				if e := math.Abs(float64(kd[i][ch] - ks[i][ch])); e > bound {
					t.Fatalf("%v: key %d channel %d error %g > %g", typ, i, ch, e, bound)
				}
				vlo, vhi := math.Inf(1), math.Inf(-1)
				for _, x := range vs[i] {
					vlo, vhi = math.Min(vlo, float64(x)), math.Max(vhi, float64(x))
				}
				vb := 0.5*(vhi-vlo)/levels + 2e-3*(math.Abs(vlo)+vhi-vlo)
				if e := math.Abs(float64(vd[i][ch] - vs[i][ch])); e > vb {
					t.Fatalf("%v: value %d channel %d error %g > %g", typ, i, ch, e, vb)
				}
			}
		}
		// Truncating inside a group moves its kept positions back to the
		// residual window.
		c.SetLen(21)
		if st.nq != 16 || st.n != 21 {
			t.Errorf("%v: after SetLen(21): %d quantized, %d kept; want 16, 21", typ, st.nq, st.n)
		}
	}
}

// TestMerge: with uniform attention (queries orthogonal to every key), the
// merge policy picks H2O's victim, the least attended position outside
// the recent window (1), and folds it into the most similar kept key
// (position 0, not the orthogonal 2), weighting by accumulated attention:
// position 0 got 1 + 1/2 + 1/3, position 1 got 1/2 + 1/3.
func TestMerge(t *testing.T) {
	c := testCache(t, KVF32, 16, 1, KVOptions{Policy: KVMerge, Budget: 2})
	keys := [][]float32{axis(1, 0), axis(1, 0.1), make([]float32, 32)}
	keys[2][2] = 1
	for i, k := range keys {
		v := axis(float32(i), 1)
		q := make([]float32, 32)
		q[5] = 1
		c.Put(0, i, k, v)
		c.attend(0, q, make([]float32, 32), 1, 32, 1)
		c.SetLen(i + 1)
	}
	pos, k, v := c.Head(0, 0)
	if !slices.Equal(pos, []int{0, 2}) || c.Stats().Merged != 1 || c.Stats().Evicted != 1 {
		t.Fatalf("kept %v, merged %d, evicted %d; want [0 2], 1, 1", pos, c.Stats().Merged, c.Stats().Evicted)
	}
	w0, w1 := 1+1.0/2+1.0/3, 1.0/2+1.0/3
	wantK1 := (w1 * 0.1) / (w0 + w1)
	wantV0 := (w1 * 1) / (w0 + w1)
	if math.Abs(float64(k[0][0])-1) > 1e-6 || math.Abs(float64(k[0][1])-wantK1) > 1e-6 || math.Abs(float64(v[0][0])-wantV0) > 1e-6 || v[0][1] != 1 {
		t.Errorf("merged key %v…, value %v…; want [1 %.4f], [%.4f 1]", k[0][:2], v[0][:2], wantK1, wantV0)
	}
}
