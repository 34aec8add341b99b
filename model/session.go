package model

import (
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/lmc-project/lmc/kernels"
)

// ErrContextFull is returned (wrapped) when tokens would go past a
// Session's context length.
var ErrContextFull = errors.New("context window full")

// SessionOptions configures a Session. The zero value is a float32 cache
// for the model's context length.
type SessionOptions struct {
	// Context is the most positions the session holds; 0 means the
	// model's context_length. It may exceed the length the model was
	// trained for (quality then degrades, as in llama.cpp).
	Context int
	// KV is the built-in cache's element type for keys and values (see
	// [KVPair] for different ones); ignored when Cache is set.
	KV KVType
	// KVOptions tunes the built-in cache: eviction policy and budget,
	// KIVI and paging parameters, prefix sharing (see [Cache]).
	KVOptions
	// Cache, when not nil, is used instead of a built-in cache; its shape
	// must match the model (Layers, Dim) and its Cap sets the context.
	Cache KVCache
	// Batch is the most tokens one forward pass takes (longer prompts run
	// in several passes); 0 means 256.
	Batch int
}

// Session is one sequence being evaluated: its KV cache and scratch
// buffers. A Session is not safe for concurrent use; several Sessions may
// share a Model.
type Session struct {
	m     *Model
	cache KVCache
	ctx   int
	batch int
	pos   int

	x, xb, q, k, v, att, gate, up []float32
	cos, sin                      []float32
	logits, allBuf                []float32
	scratch                       sync.Pool // *[]float32 attention scores
	prefix                        *PrefixCache
	hist                          []int32 // tokens of every position (with a prefix cache)
}

// NewSession returns a Session with a float32 KV cache of ctxLen positions
// (ctxLen ≤ 0: the model's context_length). It panics only if the cache
// cannot be allocated; use NewSessionWith for errors.
func (m *Model) NewSession(ctxLen int) *Session {
	s, err := m.NewSessionWith(SessionOptions{Context: ctxLen})
	if err != nil {
		panic(err)
	}
	return s
}

// NewSessionWith returns a Session configured by o.
func (m *Model) NewSessionWith(o SessionOptions) (*Session, error) {
	c := &m.Config
	kvdim := c.HeadCountKV * c.HeadDim
	cache := o.Cache
	b := o.Batch
	if b <= 0 {
		b = 256
	}
	if cache == nil {
		ctx := o.Context
		if ctx <= 0 {
			ctx = c.ContextLength
		}
		if ctx <= 0 {
			ctx = 2048
		}
		L, err := resolveKV(c.BlockCount, c.HeadCountKV, c.HeadDim, ctx, min(b, ctx), o.KV, o.KVOptions)
		if err != nil {
			return nil, err
		}
		cc := newCache(L)
		if o.Prefix != nil {
			if err := o.Prefix.bind(m, cc); err != nil {
				return nil, err
			}
		}
		cache = cc
	} else if cache.Layers() != c.BlockCount || cache.Dim() != kvdim {
		return nil, fmt.Errorf("model: KV cache has %d layers × %d floats, model needs %d × %d", cache.Layers(), cache.Dim(), c.BlockCount, kvdim)
	}
	cache.SetLen(0)
	b = min(b, cache.Cap())
	qdim := c.HeadCount * c.HeadDim
	dim := c.EmbeddingLength
	s := &Session{m: m, cache: cache, ctx: cache.Cap(), batch: b}
	if o.Cache == nil {
		s.prefix = o.Prefix
	}
	s.x = make([]float32, b*dim)
	s.xb = make([]float32, b*dim)
	s.q = make([]float32, b*qdim)
	s.k = make([]float32, b*kvdim)
	s.v = make([]float32, b*kvdim)
	s.att = make([]float32, b*qdim)
	s.gate = make([]float32, b*c.FeedForwardLength)
	s.up = make([]float32, b*c.FeedForwardLength)
	s.cos = make([]float32, b*c.HeadDim/2)
	s.sin = make([]float32, b*c.HeadDim/2)
	s.logits = make([]float32, c.VocabSize)
	return s, nil
}

// Pos is the number of positions evaluated so far.
func (s *Session) Pos() int { return s.pos }

// Context is the most positions the session holds.
func (s *Session) Context() int { return s.ctx }

// Cache returns the session's KV cache.
func (s *Session) Cache() KVCache { return s.cache }

// Reset forgets every position (and releases the pages it shares through
// a prefix cache). It always leaves the session as NewSession made it,
// also after an evaluation that was cut short.
func (s *Session) Reset() { s.Truncate(0) }

// Close releases the session's hold on shared prefix-cache pages; the
// session must not be used afterwards. Sessions without a prefix cache
// need no Close.
func (s *Session) Close() { s.Truncate(0) }

// Truncate forgets positions n and later (n ≤ Pos), so that evaluation can
// continue from position n.
func (s *Session) Truncate(n int) {
	if n < 0 || n > s.pos {
		panic(fmt.Sprintf("model: Truncate(%d) outside [0, %d]", n, s.pos))
	}
	s.rollback(n)
}

// rollback returns the session to position n ≤ Pos: the cache drops every
// row of positions n and later, including those a forward pass that never
// finished stored (its layers Put their keys and values before the pass
// commits them with SetLen).
func (s *Session) rollback(n int) {
	s.pos = n
	s.cache.SetLen(n)
	if s.prefix != nil && len(s.hist) > n {
		s.hist = s.hist[:n]
	}
}

// guard is deferred by the evaluating methods: when one of them does not
// return normally (a hook or callback panicked, and the caller may
// recover), the session goes back to where the call started, so that
// neither Reset nor the next call sees half a pass. An eviction policy may
// already have dropped positions in the layers the pass reached; those
// stay dropped.
func (s *Session) guard(start int, done *bool) {
	if !*done {
		s.rollback(start)
	}
}

func (s *Session) check(tokens []int) error {
	if len(tokens) == 0 {
		return errors.New("model: no tokens to evaluate")
	}
	if s.pos+len(tokens) > s.ctx {
		return fmt.Errorf("model: %w: %d positions used, %d more tokens, context %d", ErrContextFull, s.pos, len(tokens), s.ctx)
	}
	v := s.m.Config.VocabSize
	for i, t := range tokens {
		if t < 0 || t >= v {
			return fmt.Errorf("model: token %d at index %d is outside the vocabulary [0, %d)", t, i, v)
		}
	}
	return nil
}

// Prefill evaluates tokens (in batches) after the positions already in the
// session and returns the logits that predict the next token. The slice is
// the session's and is overwritten by the next call.
//
// A call that does not return (a hook panicking, recovered by the
// caller) leaves the session at the position it started from.
//
// With a prefix cache (SessionOptions.Prefix), a prompt evaluated from
// position 0 first reuses the longest chain of cached pages that match
// all its tokens but the last, and computes only the rest.
func (s *Session) Prefill(tokens []int) ([]float32, error) {
	if err := s.check(tokens); err != nil {
		return nil, err
	}
	done := false
	defer s.guard(s.pos, &done)
	if s.prefix != nil && s.pos == 0 && len(tokens) > 1 {
		t32 := toInt32(tokens[:len(tokens)-1])
		if path := s.prefix.match(t32); len(path) > 0 {
			n := s.cache.(*Cache).attach(path)
			s.pos = n
			s.hist = append(s.hist[:0], t32[:n]...)
			tokens = tokens[n:]
		}
	}
	for i := 0; i < len(tokens); i += s.batch {
		chunk := tokens[i:min(i+s.batch, len(tokens))]
		var out []float32
		if i+len(chunk) == len(tokens) {
			out = s.logits
		}
		s.forward(chunk, out, false)
	}
	done = true
	return s.logits, nil
}

// PrefillAll is Prefill returning the logits of every position: row i
// (VocabSize floats, a new slice) predicts the token after tokens[i].
func (s *Session) PrefillAll(tokens []int) ([]float32, error) {
	if err := s.check(tokens); err != nil {
		return nil, err
	}
	done := false
	defer s.guard(s.pos, &done)
	vocab := s.m.Config.VocabSize
	all := make([]float32, len(tokens)*vocab)
	for i := 0; i < len(tokens); i += s.batch {
		chunk := tokens[i:min(i+s.batch, len(tokens))]
		s.forward(chunk, all[i*vocab:(i+len(chunk))*vocab], true)
	}
	done = true
	return all, nil
}

// PrefillFunc is PrefillAll without holding every row: it calls fn with the
// logits of each position in order (i indexes tokens; the slice is reused
// after fn returns), so that memory stays at one batch of logits however
// long tokens is.
func (s *Session) PrefillFunc(tokens []int, fn func(i int, logits []float32)) error {
	if err := s.check(tokens); err != nil {
		return err
	}
	done := false
	defer s.guard(s.pos, &done)
	vocab := s.m.Config.VocabSize
	if cap(s.allBuf) < s.batch*vocab {
		s.allBuf = make([]float32, s.batch*vocab)
	}
	for i := 0; i < len(tokens); i += s.batch {
		chunk := tokens[i:min(i+s.batch, len(tokens))]
		buf := s.allBuf[:len(chunk)*vocab]
		s.forward(chunk, buf, true)
		for j := range chunk {
			fn(i+j, buf[j*vocab:(j+1)*vocab])
		}
	}
	done = true
	return nil
}

// Decode evaluates one token and returns the logits for the next; the
// slice is the session's and is overwritten by the next call.
func (s *Session) Decode(token int) ([]float32, error) {
	return s.Prefill([]int{token})
}

// linear runs the hook, then dst = W·x for n rows.
func (s *Session) linear(layer int, name string, w kernels.Matrix, dst, x []float32, n int) {
	if h := s.m.Hooks.OnLinearInput; h != nil {
		h(layer, name, x[:n*w.Cols()], n, w.Cols())
	}
	w.MatMul(dst, x, n)
}

func addBias(x, b []float32, n int) {
	d := len(b)
	for t := 0; t < n; t++ {
		row := x[t*d : (t+1)*d]
		for i, v := range b {
			row[i] += v
		}
	}
}

// forward evaluates tokens at positions pos.., appends them to the cache
// and, when out is not nil, writes logits: of the last token, or of every
// token when all is set.
func (s *Session) forward(tokens []int, out []float32, all bool) {
	m := s.m
	c := &m.Config
	n := len(tokens)
	dim, hd, ff := c.EmbeddingLength, c.HeadDim, c.FeedForwardLength
	nh, nkv := c.HeadCount, c.HeadCountKV
	qdim, kvdim, half := nh*hd, nkv*hd, hd/2
	start := s.pos
	x, xb := s.x[:n*dim], s.xb[:n*dim]
	q, k, v := s.q[:n*qdim], s.k[:n*kvdim], s.v[:n*kvdim]
	for t, id := range tokens {
		m.tokEmbd.DequantizeRow(x[t*dim:(t+1)*dim], id)
	}
	for t := 0; t < n; t++ {
		ropeAngles(s.cos[t*half:(t+1)*half], s.sin[t*half:(t+1)*half], m.invFreq, start+t)
	}
	for l := range m.layers {
		L := &m.layers[l]
		for t := 0; t < n; t++ {
			rmsNorm(xb[t*dim:(t+1)*dim], x[t*dim:(t+1)*dim], L.attnNorm, m.eps)
		}
		s.linear(l, L.names[wQ], L.q, q, xb, n)
		s.linear(l, L.names[wK], L.k, k, xb, n)
		s.linear(l, L.names[wV], L.v, v, xb, n)
		if L.qBias != nil {
			addBias(q, L.qBias, n)
			addBias(k, L.kBias, n)
			addBias(v, L.vBias, n)
		}
		for t := 0; t < n; t++ {
			cs, sn := s.cos[t*half:(t+1)*half], s.sin[t*half:(t+1)*half]
			for h := 0; h < nh; h++ {
				qh := q[t*qdim+h*hd : t*qdim+(h+1)*hd]
				if L.qNorm != nil {
					rmsNorm(qh, qh, L.qNorm, m.eps)
				}
				rope(qh, cs, sn, m.neox)
			}
			for h := 0; h < nkv; h++ {
				kh := k[t*kvdim+h*hd : t*kvdim+(h+1)*hd]
				if L.kNorm != nil {
					rmsNorm(kh, kh, L.kNorm, m.eps)
				}
				rope(kh, cs, sn, m.neox)
			}
		}
		s.cache.Put(l, start, k, v)
		att := s.att[:n*qdim]
		s.attention(l, q, att, n, start)
		s.linear(l, L.names[wO], L.o, xb, att, n)
		for i, d := range xb {
			x[i] += d
		}
		for t := 0; t < n; t++ {
			rmsNorm(xb[t*dim:(t+1)*dim], x[t*dim:(t+1)*dim], L.ffnNorm, m.eps)
		}
		gate, up := s.gate[:n*ff], s.up[:n*ff]
		s.linear(l, L.names[wGate], L.gate, gate, xb, n)
		s.linear(l, L.names[wUp], L.up, up, xb, n)
		kernels.SwiGLU(gate, up)
		s.linear(l, L.names[wDown], L.down, xb, gate, n)
		for i, d := range xb {
			x[i] += d
		}
	}
	s.pos = start + n
	s.cache.SetLen(s.pos)
	if s.prefix != nil {
		for _, t := range tokens {
			s.hist = append(s.hist, int32(t))
		}
		s.cache.(*Cache).register(s.hist)
	}
	if out == nil {
		return
	}
	w, name := m.outputMatrix(), "output.weight"
	if m.output == nil {
		name = "token_embd.weight"
	}
	if all {
		for t := 0; t < n; t++ {
			rmsNorm(xb[t*dim:(t+1)*dim], x[t*dim:(t+1)*dim], m.outputNorm, m.eps)
		}
		s.linear(-1, name, w, out, xb, n)
		return
	}
	rmsNorm(xb[:dim], x[(n-1)*dim:], m.outputNorm, m.eps)
	s.linear(-1, name, w, out, xb, 1)
}

// attnBlock is how many query tokens share one pass over the keys.
const attnBlock = 16

// attention computes causal multi-head attention of the n queries in q
// (positions start..start+n-1) over the cached keys and values, into att
// (n × qdim). Work is split by KV head and by blocks of query tokens.
func (s *Session) attention(l int, q, att []float32, n, start int) {
	c := &s.m.Config
	hd, nh, nkv := c.HeadDim, c.HeadCount, c.HeadCountKV
	qdim, kvdim, group := nh*hd, nkv*hd, nh/nkv
	if kc, ok := s.cache.(*Cache); ok {
		kc.attend(l, q, att, n, qdim, group)
		return
	}
	total := start + n
	keys := s.cache.Keys(l, total)
	vals := s.cache.Values(l, total)
	scale := float32(1 / math.Sqrt(float64(hd)))
	nb := (n + attnBlock - 1) / attnBlock
	rowsMax := max(group, min(attnBlock, n))
	kernels.Parallel(nkv*nb, 1, func(lo, hi int) {
		bp, _ := s.scratch.Get().(*[]float32)
		if bp == nil || cap(*bp) < rowsMax*total {
			b := make([]float32, rowsMax*total)
			bp = &b
		}
		sc := (*bp)[:rowsMax*total]
		defer s.scratch.Put(bp)
		for it := lo; it < hi; it++ {
			g, b := it/nb, it%nb
			t0 := b * attnBlock
			t1 := min(t0+attnBlock, n)
			kg, vg := keys[g*hd:], vals[g*hd:]
			if t1-t0 == 1 {
				// One query token: every head of the group in one pass.
				t, np := t0, start+t0+1
				kernels.Dots(sc, np, kg, kvdim, np, q[t*qdim+g*group*hd:], hd, group, hd)
				for j := 0; j < group; j++ {
					row := sc[j*np : (j+1)*np]
					kernels.Softmax(row, scale)
					h := g*group + j
					kernels.WeightedSum(att[t*qdim+h*hd:t*qdim+(h+1)*hd], vg, kvdim, row)
				}
				continue
			}
			np := start + t1
			for j := 0; j < group; j++ {
				h := g*group + j
				kernels.Dots(sc, np, kg, kvdim, np, q[t0*qdim+h*hd:], qdim, t1-t0, hd)
				for t := t0; t < t1; t++ {
					row := sc[(t-t0)*np : (t-t0)*np+start+t+1]
					kernels.Softmax(row, scale)
					kernels.WeightedSum(att[t*qdim+h*hd:t*qdim+(h+1)*hd], vg, kvdim, row)
				}
			}
		}
	})
}
