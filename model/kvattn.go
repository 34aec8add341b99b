package model

import (
	"math"
	"sort"

	"github.com/lmc-project/lmc/kernels"
)

// attnScratch is one worker's buffers.
type attnScratch struct {
	sc, qp []float32
}

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n, n+n/4)
	}
	return b[:n]
}

// attend computes causal attention of the n queries in q (the tokens just
// Put, qdim floats each) over layer l into att, reading the stored rows
// directly, then lets the policy record scores and evict. Query t sees the
// slots its head held before the pass and new tokens 0…t.
func (c *Cache) attend(l int, q, att []float32, n, qdim, group int) {
	H, hd := c.L.heads, c.L.hd
	scale := float32(1 / math.Sqrt(float64(hd)))
	nb := (n + attnBlock - 1) / attnBlock
	policy := c.L.opt.Policy
	items := H * nb
	if policy != KVKeepAll {
		items = H // one worker per stream: the scores are per stream
	}
	kernels.Parallel(items, 1, func(lo, hi int) {
		ws, _ := c.scratch.Get().(*attnScratch)
		if ws == nil {
			ws = &attnScratch{}
		}
		defer c.scratch.Put(ws)
		for it := lo; it < hi; it++ {
			g, b0, b1 := it, 0, nb
			if policy == KVKeepAll {
				g, b0, b1 = it/nb, it%nb, it%nb+1
			}
			s := l*H + g
			st := &c.st[s]
			old := st.n - n
			for b := b0; b < b1; b++ {
				t0 := b * attnBlock
				t1 := min(t0+attnBlock, n)
				if t1-t0 == 1 {
					// One query token: every head of the group in one pass.
					t, np := t0, old+t0+1
					ws.sc = grow(ws.sc, group*np)
					c.scores(s, ws.sc, np, q[t*qdim+g*group*hd:], hd, group, np, ws)
					for j := 0; j < group; j++ {
						row := ws.sc[j*np : (j+1)*np]
						kernels.Softmax(row, scale)
						c.record(st, row, t, n, j, group)
						h := g*group + j
						c.values(s, row, att[t*qdim+h*hd:t*qdim+(h+1)*hd])
					}
					continue
				}
				np := old + t1
				ws.sc = grow(ws.sc, (t1-t0)*np)
				for j := 0; j < group; j++ {
					h := g*group + j
					c.scores(s, ws.sc, np, q[t0*qdim+h*hd:], qdim, t1-t0, np, ws)
					for t := t0; t < t1; t++ {
						row := ws.sc[(t-t0)*np : (t-t0)*np+old+t+1]
						kernels.Softmax(row, scale)
						c.record(st, row, t, n, j, group)
						c.values(s, row, att[t*qdim+h*hd:t*qdim+(h+1)*hd])
					}
				}
			}
		}
	})
	// The residual window is flushed when the pass is committed (SetLen),
	// not here: a pass cut short then leaves its new rows only in the
	// residual, where truncating drops them exactly.
	if policy != KVKeepAll {
		for g := 0; g < H; g++ {
			c.evict(l*H + g)
		}
	}
}

// scores sets dst[t*ld + j] = q_t · key_j for the first upto slots of
// stream s and nq queries at q (stride qStride). With a key basis, the
// queries are projected into ws.qp first, unless ws is nil (q is then
// already projected).
func (c *Cache) scores(s int, dst []float32, ld int, q []float32, qStride, nq, upto int, ws *attnScratch) {
	st := &c.st[s]
	hd := c.kd
	if c.basis != nil && ws != nil {
		ws.qp = grow(ws.qp, nq*hd)
		for t := 0; t < nq; t++ {
			c.basis.project(s, ws.qp[t*hd:(t+1)*hd], q[t*qStride:])
		}
		q, qStride = ws.qp, hd
	}
	paged := min(upto, st.nq)
	for lo := 0; lo < paged; lo += c.P {
		hi := min(lo+c.P, paged)
		data := c.pages[lo/c.P].data
		if !c.L.k.kivi() {
			kernels.RowDots(c.kc.row, dst[lo:], ld, data[c.kOff(s, lo):], c.kRB, hi-lo, q, qStride, nq, hd)
			continue
		}
		// KIVI: key_j[c] = code_j[c]·s[c] + m[c], s and m per group.
		for gs := lo; gs < hi; gs += c.G {
			kernels.RowDotsAffine(c.kc.row, dst[gs:], ld, data[c.kOff(s, gs):], c.kRB, min(c.G, hi-gs),
				data[c.parOff(s, gs):c.parOff(s, gs)+c.kParB], q, qStride, nq, hd)
		}
	}
	if upto > st.nq {
		kernels.Dots(dst[st.nq:], ld, st.resK, hd, upto-st.nq, q, qStride, nq, hd)
	}
}

// values sets dst (hd floats) = Σ_j p[j] · value_j over the first len(p)
// slots of stream s.
func (c *Cache) values(s int, p, dst []float32) {
	st := &c.st[s]
	np := len(p)
	paged := min(np, st.nq)
	for lo := 0; lo < paged; lo += c.P {
		hi := min(lo+c.P, paged)
		rows := c.pages[lo/c.P].data[c.vOff(s, lo):]
		if lo == 0 {
			kernels.RowWeightedSum(c.vc.row, dst, rows, c.vRB, p[lo:hi])
		} else {
			kernels.RowWeightedSumAdd(c.vc.row, dst, rows, c.vRB, p[lo:hi])
		}
	}
	if np > st.nq {
		res := f32bytes(st.resV)
		if paged == 0 {
			kernels.RowWeightedSum(kernels.RowF32, dst, res, 4*c.L.hd, p[st.nq:np])
		} else {
			kernels.RowWeightedSumAdd(kernels.RowF32, dst, res, 4*c.L.hd, p[st.nq:np])
		}
	}
	if np == 0 {
		clear(dst)
	}
}

// record lets the policy see one query's attention row (query t of a
// pass of n tokens, head j of group).
func (c *Cache) record(st *stream, row []float32, t, n, j, group int) {
	switch c.L.opt.Policy {
	case KVH2O, KVMerge:
		for i, p := range row {
			st.score[i] += p
		}
	case KVSnapKV:
		if t >= n-c.L.opt.Window {
			for i, p := range row {
				st.score[i] += p
			}
		}
	case KVTOVA:
		if t != n-1 {
			return
		}
		w := 1 / float32(group)
		if j == 0 {
			for i, p := range row {
				st.score[i] = p * w
			}
			return
		}
		for i, p := range row {
			st.score[i] += p * w
		}
	}
}

// evict brings stream s back to the budget, as its policy chooses.
func (c *Cache) evict(s int) {
	st := &c.st[s]
	B, o := c.L.budget, &c.L.opt
	if o.Policy == KVSnapKV && c.passN == 1 && st.n < B+o.Window {
		return // decoding: compress once a whole window has voted
	}
	over := st.n - B
	if over <= 0 {
		return
	}
	before := st.n
	drop := c.victims(st, over)
	if o.Policy == KVMerge {
		c.merge(s, drop)
	}
	c.removeSlots(s, drop, o.Policy == KVSnapKV)
	c.stats.Evicted += int64(before - st.n)
	if o.Policy == KVSnapKV {
		clear(st.score[:st.n])
	}
}

// victims marks the over slots the policy drops.
func (c *Cache) victims(st *stream, over int) []bool {
	n, o := st.n, &c.L.opt
	drop := make([]bool, n)
	var idx []int
	byPos := func(a, b int) bool { return st.pos[a] < st.pos[b] }
	switch o.Policy {
	case KVStreaming:
		// Oldest first, sinks excepted.
		idx = pickLowest(n, over, func(i int) bool { return int(st.pos[i]) >= o.Sinks }, byPos)
	case KVH2O, KVTOVA, KVMerge:
		// Lowest score first (older on ties); H2O protects its recent
		// window, which always holds the newest positions (they are never
		// dropped while in it).
		cut := int32(math.MaxInt32)
		if o.Policy != KVTOVA {
			newest := int32(0)
			for _, p := range st.pos[:n] {
				newest = max(newest, p)
			}
			cut = newest - int32(c.L.recent()) + 1
		}
		idx = pickLowest(n, over, func(i int) bool { return st.pos[i] < cut }, func(a, b int) bool {
			if st.score[a] != st.score[b] {
				return st.score[a] < st.score[b]
			}
			return st.pos[a] < st.pos[b]
		})
	case KVSnapKV:
		// The last Window slots (the newest positions: SnapKV keeps slot
		// order) are the observation window; the others are ranked by
		// their pooled votes.
		pre := n - min(o.Window, n)
		pooled := make([]float32, pre)
		r := o.Pool / 2
		for i := 0; i < pre; i++ {
			m := st.score[i]
			for d := max(0, i-r); d <= min(pre-1, i+r); d++ {
				m = max(m, st.score[d])
			}
			pooled[i] = m
		}
		idx = pickLowest(n, over, func(i int) bool { return i < pre }, func(a, b int) bool {
			if pooled[a] != pooled[b] {
				return pooled[a] < pooled[b]
			}
			return a < b
		})
	}
	for _, i := range idx {
		drop[i] = true
	}
	return drop
}

// pickLowest returns the (at most) k candidates i < n that come first in
// the order less: by insertion into a short list when k is small (a decode
// step drops one slot), by sorting otherwise.
func pickLowest(n, k int, cand func(i int) bool, less func(a, b int) bool) []int {
	if k > 16 {
		idx := make([]int, 0, n)
		for i := 0; i < n; i++ {
			if cand(i) {
				idx = append(idx, i)
			}
		}
		sort.Slice(idx, func(a, b int) bool { return less(idx[a], idx[b]) })
		return idx[:min(k, len(idx))]
	}
	best := make([]int, 0, k+1)
	for i := 0; i < n; i++ {
		if !cand(i) || (len(best) == k && !less(i, best[k-1])) {
			continue
		}
		j := len(best)
		best = append(best, i)
		for j > 0 && less(i, best[j-1]) {
			best[j] = best[j-1]
			j--
		}
		best[j] = i
		if len(best) > k {
			best = best[:k]
		}
	}
	return best
}

// removeSlots drops the marked slots of stream s: by compaction (keeping
// order) or by moving the last kept slots into the holes.
func (c *Cache) removeSlots(s int, drop []bool, keepOrder bool) {
	st := &c.st[s]
	n, k := st.n, 0
	for _, d := range drop[:n] {
		if !d {
			k++
		}
	}
	if keepOrder {
		j := 0
		for i := 0; i < n; i++ {
			if !drop[i] {
				if i != j {
					c.moveSlot(s, i, j)
				}
				j++
			}
		}
	} else {
		src := k
		for i := 0; i < k; i++ {
			if !drop[i] {
				continue
			}
			for drop[src] {
				src++
			}
			c.moveSlot(s, src, i)
			src++
		}
	}
	st.n, st.nq = k, k
	st.pos, st.score = st.pos[:k], st.score[:k]
	if st.norm != nil {
		st.norm = st.norm[:k]
	}
}

// merge folds each marked slot of stream s into the kept slot whose key is
// most similar (cosine), averaging keys and values weighted by their
// accumulated attention (a slot that absorbed others weighs their sum).
func (c *Cache) merge(s int, drop []bool) {
	st := &c.st[s]
	hd, kd := c.L.hd, c.kd
	kv, vv := make([]float32, kd), make([]float32, hd)
	kt, vt := make([]float32, kd), make([]float32, hd)
	sim := make([]float32, st.n)
	for i := 0; i < st.n; i++ {
		if !drop[i] {
			continue
		}
		c.decodeStored(s, i, kv, vv)
		c.scores(s, sim, st.n, kv, kd, 1, st.n, nil)
		best, bestCos := -1, float32(math.Inf(-1))
		for j := 0; j < st.n; j++ {
			if drop[j] {
				continue
			}
			if cos := sim[j] / (st.norm[i]*st.norm[j] + 1e-30); cos > bestCos {
				best, bestCos = j, cos
			}
		}
		if best < 0 {
			continue
		}
		c.decodeStored(s, best, kt, vt)
		wi, wj := st.score[i]+1e-6, st.score[best]+1e-6
		var nn float64
		for ch := range kt {
			kt[ch] = (wi*kv[ch] + wj*kt[ch]) / (wi + wj)
			nn += float64(kt[ch]) * float64(kt[ch])
		}
		for ch := range vt {
			vt[ch] = (wi*vv[ch] + wj*vt[ch]) / (wi + wj)
		}
		p := c.writablePage(best)
		c.kc.encode(p.data[c.kOff(s, best):c.kOff(s, best)+c.kRB], kt)
		c.vc.encode(p.data[c.vOff(s, best):c.vOff(s, best)+c.vRB], vt)
		st.score[best] += st.score[i]
		st.norm[best] = float32(math.Sqrt(nn))
		c.stats.Merged++
	}
}
