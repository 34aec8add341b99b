package model

import (
	"fmt"
	"math"
	"sync"
	"unsafe"

	"github.com/lmc-project/lmc/kernels"
	"github.com/lmc-project/lmc/tensor"
)

// Cache is the built-in KV cache of a Session: keys and values of every
// layer and KV head, stored in one of the [KVType]s, in pages of
// PageSize positions allocated as they fill, optionally trimmed to a
// budget by an eviction [KVPolicy], optionally with its most recent
// positions in float32 (the KIVI residual window), and optionally sharing
// pages with other sessions through a [PrefixCache].
//
// Attention reads the stored rows directly (kernels.RowDots and
// kernels.RowWeightedSum dequantize inside the dot products), never
// converting the cache to float32.
//
// # Positions and eviction
//
// Keys are cached after RoPE, at their absolute positions. An evicted
// position simply disappears from its head's cache: the kept ones keep
// their positions and rotation, so a query still sees each kept key at
// its true distance (no re-rotation, unlike StreamingLLM's reference
// code, which renumbers the positions inside the cache; with a window
// the distances to recent keys stay in the trained range, while the
// sinks drift further away). A Cache with a policy still limits positions
// to its context (Cap), so a session streaming text longer than the
// model's training context sets a large Context and a small budget.
//
// A Cache implements [KVCache]: Put appends (pos must be Len()), SetLen
// truncates, and Keys and Values decode the rows of a layer to float32
// as long as nothing was evicted from it.
type Cache struct {
	L        *kvLayout
	kc, vc   rowCodec
	kRB, vRB int // bytes per key and value row (one head)
	kParB    int // bytes of KIVI key parameters per group and head
	regionB  int // bytes of one stream in one page
	pageB    int
	P, G, R  int
	pages    []*kvPage
	npos     int
	st       []stream // layer*heads + head
	passN    int      // tokens in the current forward pass
	scratch  sync.Pool
	stats    KVStats
	resScale []float32 // scratch for KIVI keys
	prefix   *PrefixCache
	nshared  int       // leading pages registered with the prefix cache
	kd       int       // floats per stored key: head_dim, or the key basis rank
	basis    *KeyBasis // low-rank keys, or nil
	kproj    []float32 // scratch for Put
}

// stream is one (layer, KV head): its slots, in pages and in the
// residual window.
type stream struct {
	n, nq      int       // slots kept; slots in pages (the rest in the residual)
	resK, resV []float32 // residual rows, (n−nq) × kd and × hd, oldest first
	pos        []int32   // position of each slot (policies only)
	score      []float32 // policy score of each slot
	norm       []float32 // key norm of each slot (merging only)
}

// kvPage holds PageSize slots of every stream: per stream, the key rows,
// the KIVI key parameters, then the value rows.
type kvPage struct {
	data []byte
	node *prefixNode // not nil: shared through a prefix cache, read-only
}

// KVStats counts a Cache's activity.
type KVStats struct {
	Evicted      int64 // slots dropped by the policy (all layers and heads)
	Merged       int64 // of those, slots merged into a kept one (KVMerge)
	ReusedTokens int64 // positions taken from a prefix cache instead of computed
}

func newCache(L *kvLayout) *Cache {
	c := &Cache{L: L, kc: codecFor(L.k, true), vc: codecFor(L.v, false), P: L.opt.PageSize, G: L.opt.Group, R: L.opt.Residual}
	c.kd, c.basis = L.hd, L.opt.KeyBasis
	if c.basis != nil {
		c.kd = c.basis.Rank
		c.kproj = make([]float32, c.kd)
	}
	c.kRB = c.kc.row.RowBytes(c.kd)
	c.vRB = c.vc.row.RowBytes(L.hd)
	if L.k.kivi() {
		c.kParB = 4 * c.kd // f16 scale and f16 minimum per channel
		c.resScale = make([]float32, 2*c.kd)
	}
	c.regionB = c.P*(c.kRB+c.vRB) + c.P/c.G*c.kParB
	c.pageB = c.regionB * L.layers * L.heads
	c.st = make([]stream, L.layers*L.heads)
	if L.opt.Policy != KVKeepAll {
		for i := range c.st {
			c.st[i].pos = make([]int32, 0, L.slotCap)
			c.st[i].score = make([]float32, 0, L.slotCap)
			if L.opt.Policy == KVMerge {
				c.st[i].norm = make([]float32, 0, L.slotCap)
			}
		}
	}
	return c
}

// Type is the cache's element type.
func (c *Cache) Type() KVType { return KVPair(c.L.k, c.L.v) }

// Options returns the cache's options with their defaults filled in.
func (c *Cache) Options() KVOptions { return c.L.opt }

// Budget is the most positions a layer keeps (0: no policy).
func (c *Cache) Budget() int { return c.L.budget }

// Stats returns counters of the cache's activity.
func (c *Cache) Stats() KVStats { return c.stats }

// BytesPerToken is the storage of one position across all layers and
// heads, keys and values, in the cache's types (KIVI parameters spread
// over their group; the float32 residual window not counted).
func (c *Cache) BytesPerToken() float64 {
	per := float64(c.kRB+c.vRB) + float64(c.kParB)/float64(c.G)
	return per * float64(c.L.layers*c.L.heads)
}

// Bytes is the memory the cache holds now: its pages (shared ones
// included) and residual windows.
func (c *Cache) Bytes() int64 {
	b := int64(0)
	for _, p := range c.pages {
		if p != nil {
			b += int64(len(p.data))
		}
	}
	for i := range c.st {
		b += int64(4 * (cap(c.st[i].resK) + cap(c.st[i].resV) + cap(c.st[i].score) + cap(c.st[i].pos)))
	}
	return b
}

// SharedPages is the number of the cache's pages it shares through a
// prefix cache (read-only, held by reference).
func (c *Cache) SharedPages() int {
	k := 0
	for _, p := range c.pages {
		if p != nil && p.node != nil {
			k++
		}
	}
	return k
}

// Slots returns the positions a layer's KV head keeps, in slot order.
func (c *Cache) Slots(layer, head int) []int {
	st := &c.st[layer*c.L.heads+head]
	out := make([]int, st.n)
	for i := range out {
		if st.pos != nil {
			out[i] = int(st.pos[i])
		} else {
			out[i] = i
		}
	}
	return out
}

func (c *Cache) Layers() int { return c.L.layers }
func (c *Cache) Dim() int    { return c.L.heads * c.L.hd }
func (c *Cache) Cap() int    { return c.L.ctx }
func (c *Cache) Len() int    { return c.npos }

// page returns the page holding slot, allocating it (and any before it)
// as needed, and copying a shared page before it is written.
func (c *Cache) writablePage(slot int) *kvPage {
	i := slot / c.P
	for len(c.pages) <= i {
		c.pages = append(c.pages, nil)
	}
	p := c.pages[i]
	if p == nil {
		p = &kvPage{data: make([]byte, c.pageB)}
		c.pages[i] = p
	} else if p.node != nil {
		q := &kvPage{data: append([]byte(nil), p.data...)}
		c.releasePage(i)
		c.pages[i] = q
		p = q
	}
	return p
}

func (c *Cache) kOff(s, slot int) int { return s*c.regionB + (slot%c.P)*c.kRB }
func (c *Cache) parOff(s, slot int) int {
	return s*c.regionB + c.P*c.kRB + (slot%c.P)/c.G*c.kParB
}
func (c *Cache) vOff(s, slot int) int {
	return s*c.regionB + c.P*c.kRB + c.P/c.G*c.kParB + (slot%c.P)*c.vRB
}

// Put appends keys and values of layer for positions pos …: pos must be
// Len() (the cache appends) and pos+n at most Cap. Layers may be put in
// any order before SetLen commits the positions.
func (c *Cache) Put(layer, pos int, k, v []float32) {
	dim := c.Dim()
	if len(k) != len(v) || len(k)%dim != 0 {
		panic(fmt.Sprintf("model: KV cache Put with %d keys and %d values, not equal multiples of dim %d", len(k), len(v), dim))
	}
	n := len(k) / dim
	if layer < 0 || layer >= c.L.layers || pos != c.npos || pos+n > c.L.ctx {
		panic(fmt.Sprintf("model: KV cache Put layer %d positions [%d, %d): want layer < %d and positions from %d, at most %d",
			layer, pos, pos+n, c.L.layers, c.npos, c.L.ctx))
	}
	hd, H := c.L.hd, c.L.heads
	c.passN = n
	for h := 0; h < H; h++ {
		s := layer*H + h
		st := &c.st[s]
		if st.n+n > c.L.slotCap {
			panic(fmt.Sprintf("model: KV cache stream holds %d slots, %d more exceed its %d", st.n, n, c.L.slotCap))
		}
		for t := 0; t < n; t++ {
			kr := k[t*dim+h*hd : t*dim+(h+1)*hd]
			vr := v[t*dim+h*hd : t*dim+(h+1)*hd]
			if c.basis != nil {
				c.basis.project(s, c.kproj, kr)
				kr = c.kproj
			}
			if c.R > 0 {
				st.resK = append(st.resK, kr...)
				st.resV = append(st.resV, vr...)
			} else {
				p := c.writablePage(st.n)
				c.kc.encode(p.data[c.kOff(s, st.n):c.kOff(s, st.n)+c.kRB], kr)
				c.vc.encode(p.data[c.vOff(s, st.n):c.vOff(s, st.n)+c.vRB], vr)
				st.nq++
			}
			st.n++
			if st.pos != nil {
				st.pos = append(st.pos, int32(pos+t))
				st.score = append(st.score, 0)
			}
			if st.norm != nil {
				var nn float64
				for _, x := range kr {
					nn += float64(x) * float64(x)
				}
				st.norm = append(st.norm, float32(math.Sqrt(nn)))
			}
		}
	}
}

// flush quantizes the oldest residual positions of stream s, in units of
// flushUnit, while more than R remain in the window. It runs when a pass
// is committed (as in KIVI, a prompt attends in full precision and is
// quantized afterwards), so a pass of n tokens holds up to R+G−1+n.
func (c *Cache) flush(s int) {
	st := &c.st[s]
	hd, kd, u := c.L.hd, c.kd, c.L.flushUnit()
	for st.n-st.nq >= c.R+u {
		p := c.writablePage(st.nq)
		if c.L.k.kivi() {
			c.quantizeKeyGroup(p, s, st.nq, st.resK[:u*kd])
		}
		for t := 0; t < u; t++ {
			slot := st.nq + t
			if !c.L.k.kivi() {
				c.kc.encode(p.data[c.kOff(s, slot):c.kOff(s, slot)+c.kRB], st.resK[t*kd:(t+1)*kd])
			}
			c.vc.encode(p.data[c.vOff(s, slot):c.vOff(s, slot)+c.vRB], st.resV[t*hd:(t+1)*hd])
		}
		st.nq += u
		st.resK = append(st.resK[:0], st.resK[u*kd:]...)
		st.resV = append(st.resV[:0], st.resV[u*hd:]...)
	}
}

// quantizeKeyGroup stores the G key rows x (G × kd, positions slot…) as
// KIVI codes with one scale and minimum per channel (f16), codes
// round((x − m)/s) in [0, 2^bits − 1].
func (c *Cache) quantizeKeyGroup(p *kvPage, s, slot int, x []float32) {
	hd, G := c.kd, c.G
	levels := float32(int(1)<<c.L.k.bits() - 1)
	par := p.data[c.parOff(s, slot) : c.parOff(s, slot)+c.kParB]
	sc, mn := c.resScale[:hd], c.resScale[hd:]
	for ch := 0; ch < hd; ch++ {
		lo, hi := x[ch], x[ch]
		for t := 1; t < G; t++ {
			v := x[t*hd+ch]
			lo, hi = min(lo, v), max(hi, v)
		}
		if math.IsNaN(float64(lo)) || math.IsInf(float64(lo), 0) || math.IsNaN(float64(hi)) || math.IsInf(float64(hi), 0) {
			lo, hi = 0, 0
		}
		d := tensor.F32ToF16((hi - lo) / levels)
		m := tensor.F32ToF16(lo)
		put16(par[kiviScaleOff(ch):], d)
		put16(par[kiviScaleOff(ch)+64:], m)
		sc[ch], mn[ch] = tensor.F16ToF32(d), tensor.F16ToF32(m)
	}
	for t := 0; t < G; t++ {
		row := p.data[c.kOff(s, slot+t) : c.kOff(s, slot+t)+c.kRB]
		clear(row)
		for ch := 0; ch < hd; ch++ {
			var q int
			if sc[ch] > 0 {
				q = int(math.Round(float64((x[t*hd+ch] - mn[ch]) / sc[ch])))
				q = min(max(q, 0), int(levels))
			}
			setCode(row, c.L.k.bits(), ch, q)
		}
	}
}

// kiviScaleOff is the byte offset of channel ch's scale among a group's
// KIVI parameters: per block of 32 channels, 32 f16 scales then 32 f16
// minimums (kernels.RowDotsAffine's layout).
func kiviScaleOff(ch int) int { return 128*(ch/32) + 2*(ch%32) }

// setCode writes code q of element i into a U4 or U2 row.
func setCode(row []byte, bits, i, q int) {
	b, e := i/32, i%32
	if bits == 4 {
		if e < 16 {
			row[b*16+e] |= byte(q)
		} else {
			row[b*16+e-16] |= byte(q) << 4
		}
		return
	}
	row[b*8+e%8] |= byte(q) << (2 * (e / 8))
}

// SetLen commits positions after Put (n = the positions put) or truncates
// to n positions (n ≤ Len()). Truncating drops every slot of positions n
// and later, committed or only Put by a pass that never committed (a
// forward pass cut short): SetLen(Len()) discards such a pass. Truncating
// a cache that evicted positions drops the slots of positions n and
// later; truncating inside a KIVI key group moves the group's kept
// positions back to the residual window.
func (c *Cache) SetLen(n int) {
	if n < 0 || n > c.L.ctx {
		panic(fmt.Sprintf("model: KV cache SetLen(%d) outside [0, %d]", n, c.L.ctx))
	}
	if n > c.npos {
		c.npos = n
		if c.R > 0 {
			for s := range c.st {
				c.flush(s)
			}
		}
		return
	}
	c.npos = n
	if n == 0 {
		for i := range c.pages {
			c.releasePage(i)
		}
		c.pages = c.pages[:0]
		for i := range c.st {
			st := &c.st[i]
			st.n, st.nq = 0, 0
			st.resK, st.resV = st.resK[:0], st.resV[:0]
			if st.pos != nil {
				st.pos, st.score = st.pos[:0], st.score[:0]
			}
			if st.norm != nil {
				st.norm = st.norm[:0]
			}
		}
		return
	}
	maxSlots := 0
	for s := range c.st {
		c.truncateStream(s, n)
		maxSlots = max(maxSlots, c.st[s].n)
	}
	c.nshared = min(c.nshared, n/c.P)
	keep := (maxSlots + c.P - 1) / c.P
	for i := keep; i < len(c.pages); i++ {
		c.releasePage(i)
	}
	if len(c.pages) > keep {
		c.pages = c.pages[:keep]
	}
}

func (c *Cache) truncateStream(s, n int) {
	st := &c.st[s]
	hd := c.L.hd
	if st.pos != nil {
		// Drop slots of positions ≥ n, keeping the order.
		j := 0
		for i := 0; i < st.n; i++ {
			if int(st.pos[i]) < n {
				if i != j {
					c.moveSlot(s, i, j)
				}
				j++
			}
		}
		st.n, st.nq = j, j
		st.pos, st.score = st.pos[:j], st.score[:j]
		if st.norm != nil {
			st.norm = st.norm[:j]
		}
		return
	}
	if n >= st.nq {
		st.resK, st.resV = st.resK[:(n-st.nq)*c.kd], st.resV[:(n-st.nq)*hd]
		st.n = n
		return
	}
	// n falls among the paged slots: the residual empties; with KIVI
	// keys, the kept part of a cut group returns to the residual.
	st.resK, st.resV = st.resK[:0], st.resV[:0]
	nq := n
	if c.L.k.kivi() {
		nq = n - n%c.G
	}
	if c.R > 0 && c.L.flushUnit() == 1 {
		nq = n
	}
	for slot := nq; slot < n; slot++ {
		k, v := make([]float32, c.kd), make([]float32, hd)
		c.decodeStored(s, slot, k, v)
		st.resK = append(st.resK, k...)
		st.resV = append(st.resV, v...)
	}
	st.nq, st.n = nq, n
}

// moveSlot copies slot from's rows to slot to (same stream; private
// pages; no KIVI).
func (c *Cache) moveSlot(s, from, to int) {
	pf, pt := c.pages[from/c.P], c.writablePage(to)
	copy(pt.data[c.kOff(s, to):c.kOff(s, to)+c.kRB], pf.data[c.kOff(s, from):])
	copy(pt.data[c.vOff(s, to):c.vOff(s, to)+c.vRB], pf.data[c.vOff(s, from):])
	st := &c.st[s]
	if st.pos != nil {
		st.pos[to], st.score[to] = st.pos[from], st.score[from]
	}
	if st.norm != nil {
		st.norm[to] = st.norm[from]
	}
}

// decodeSlot converts the key and value of one slot to float32 (head_dim
// each; a low-rank key is lifted back).
func (c *Cache) decodeSlot(s, slot int, k, v []float32) {
	if c.basis == nil {
		c.decodeStored(s, slot, k, v)
		return
	}
	kp := make([]float32, c.kd)
	c.decodeStored(s, slot, kp, v)
	c.basis.lift(s, k, kp)
}

// decodeStored converts one slot to float32 as stored: k holds kd floats
// (the projected key with a key basis), v head_dim.
func (c *Cache) decodeStored(s, slot int, k, v []float32) {
	st := &c.st[s]
	hd, kd := c.L.hd, c.kd
	k = k[:kd]
	if slot >= st.nq {
		r := slot - st.nq
		copy(k, st.resK[r*kd:(r+1)*kd])
		copy(v, st.resV[r*hd:(r+1)*hd])
		return
	}
	p := c.pages[slot/c.P]
	kernels.DecodeRow(c.kc.row, k, p.data[c.kOff(s, slot):c.kOff(s, slot)+c.kRB])
	if c.L.k.kivi() {
		par := p.data[c.parOff(s, slot):]
		for ch := range k {
			o := kiviScaleOff(ch)
			k[ch] = k[ch]*tensor.F16ToF32(le16(par[o:])) + tensor.F16ToF32(le16(par[o+64:]))
		}
	}
	kernels.DecodeRow(c.vc.row, v, p.data[c.vOff(s, slot):c.vOff(s, slot)+c.vRB])
}

func le16(b []byte) uint16 { return uint16(b[0]) | uint16(b[1])<<8 }

// Keys returns the keys of positions [0, n) of layer as float32 (n ×
// Dim, heads side by side), decoded into a new slice. It panics if the
// layer evicted positions.
func (c *Cache) Keys(layer, n int) []float32 { k, _ := c.rows(layer, n, true); return k }

// Values is Keys for the values.
func (c *Cache) Values(layer, n int) []float32 { _, v := c.rows(layer, n, false); return v }

func (c *Cache) rows(layer, n int, keys bool) (k, v []float32) {
	H, hd := c.L.heads, c.L.hd
	dim := H * hd
	out := make([]float32, n*dim)
	kk, vv := make([]float32, hd), make([]float32, hd)
	for h := 0; h < H; h++ {
		s := layer*H + h
		st := &c.st[s]
		if n > st.n {
			panic(fmt.Sprintf("model: KV cache Keys/Values(%d, %d): layer holds %d positions", layer, n, st.n))
		}
		for i := 0; i < n; i++ {
			if st.pos != nil && int(st.pos[i]) != i {
				panic(fmt.Sprintf("model: KV cache layer %d evicted positions; Keys and Values need every position (see Slots)", layer))
			}
			c.decodeSlot(s, i, kk, vv)
			if keys {
				copy(out[i*dim+h*hd:], kk)
			} else {
				copy(out[i*dim+h*hd:], vv)
			}
		}
	}
	if keys {
		return out, nil
	}
	return nil, out
}

// Head returns the kept positions of one layer's KV head and their keys
// and values decoded to float32 (slot order), for tests and tools.
func (c *Cache) Head(layer, head int) (pos []int, k, v [][]float32) {
	s := layer*c.L.heads + head
	pos = c.Slots(layer, head)
	for i := range pos {
		kk, vv := make([]float32, c.L.hd), make([]float32, c.L.hd)
		c.decodeSlot(s, i, kk, vv)
		k, v = append(k, kk), append(v, vv)
	}
	return pos, k, v
}

// f32bytes views float32s as bytes.
func f32bytes(x []float32) []byte {
	if len(x) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&x[0])), 4*len(x))
}
