package gptq

import (
	"encoding/binary"
	"fmt"
	"math"
	"sort"

	"github.com/lmc-project/lmc/gguf"
	"github.com/lmc-project/lmc/tensor"
)

// A blockGrid is the set of values one ggml block can hold once its scales
// are fixed: element e takes the values a_e·(q + o) + b_e for integer
// codes q in [qmin, qmax] (affine formats), or d_e·kvalues[q] (IQ4). GPTQ
// rounds each column onto its block's grid with the scales the ggml
// quantizer chose for the whole block, which keeps the block a valid
// block of its format; set writes a code into the block's bytes.
type blockGrid interface {
	// load reads the scales of the block b (its bytes, which set modifies).
	load(b []byte)
	// round returns the code of element e nearest to x and its value.
	round(e int, x float32) (code int, val float32)
	// set stores code as element e's code.
	set(e int, code int)
}

// gridFor returns the grid of format t, or an error for a type GPTQ cannot
// target.
func gridFor(t gguf.Type) (blockGrid, error) {
	switch t {
	case gguf.TypeQ8_0:
		return &q8_0Grid{}, nil
	case gguf.TypeQ4_0:
		return &q4Grid{}, nil
	case gguf.TypeQ4_1:
		return &q4Grid{withMin: true}, nil
	case gguf.TypeQ5_0:
		return &q5Grid{}, nil
	case gguf.TypeQ5_1:
		return &q5Grid{withMin: true}, nil
	case gguf.TypeQ2_K:
		return &q2KGrid{}, nil
	case gguf.TypeQ3_K:
		return &q3KGrid{}, nil
	case gguf.TypeQ4_K:
		return &q45KGrid{}, nil
	case gguf.TypeQ5_K:
		return &q45KGrid{five: true}, nil
	case gguf.TypeQ6_K:
		return &q6KGrid{}, nil
	case gguf.TypeIQ4_NL:
		return &iq4Grid{}, nil
	case gguf.TypeIQ4_XS:
		return &iq4Grid{xs: true}, nil
	}
	return nil, fmt.Errorf("gptq: no grid for %s", t)
}

func half(b []byte) float32 { return tensor.F16ToF32(binary.LittleEndian.Uint16(b)) }

// affine rounds x to a·q + c over integer q in [lo, hi].
func affine(a, c float32, lo, hi int, x float32) (int, float32) {
	if a == 0 {
		return lo + (hi-lo+1)/2, c
	}
	q := int(math.RoundToEven(float64((x - c) / a)))
	q = min(max(q, lo), hi)
	return q, a*float32(q) + c
}

// nibble helpers for the 32-element layouts (elements j and j+16 share
// byte j).
func setNibble(qs []byte, e, v int) {
	if e < 16 {
		qs[e] = qs[e]&0xF0 | byte(v&15)
	} else {
		qs[e-16] = qs[e-16]&0x0F | byte(v&15)<<4
	}
}

// Q8_0: half d; i8 qs[32]; x = d·q, q in [−127, 127].
type q8_0Grid struct {
	b []byte
	d float32
}

func (g *q8_0Grid) load(b []byte)                         { g.b, g.d = b, half(b) }
func (g *q8_0Grid) round(e int, x float32) (int, float32) { return affine(g.d, 0, -127, 127, x) }
func (g *q8_0Grid) set(e, q int)                          { g.b[2+e] = byte(int8(q)) }

// Q4_0: half d; qs[16]; x = d·(q − 8). Q4_1: half d, half m; x = d·q + m.
type q4Grid struct {
	withMin bool
	b       []byte
	d, m    float32
}

func (g *q4Grid) load(b []byte) {
	g.b, g.d = b, half(b)
	if g.withMin {
		g.m = half(b[2:])
	} else {
		g.m = -8 * g.d
	}
}

func (g *q4Grid) round(e int, x float32) (int, float32) { return affine(g.d, g.m, 0, 15, x) }

func (g *q4Grid) set(e, q int) {
	off := 2
	if g.withMin {
		off = 4
	}
	setNibble(g.b[off:], e, q)
}

// Q5_0: half d; u32 qh; qs[16]; x = d·(q − 16). Q5_1: half d, half m.
type q5Grid struct {
	withMin bool
	b       []byte
	d, m    float32
}

func (g *q5Grid) load(b []byte) {
	g.b, g.d = b, half(b)
	if g.withMin {
		g.m = half(b[2:])
	} else {
		g.m = -16 * g.d
	}
}

func (g *q5Grid) round(e int, x float32) (int, float32) { return affine(g.d, g.m, 0, 31, x) }

func (g *q5Grid) set(e, q int) {
	off := 2
	if g.withMin {
		off = 4
	}
	qh := binary.LittleEndian.Uint32(g.b[off:])
	qh = qh&^(1<<e) | uint32(q>>4&1)<<e
	binary.LittleEndian.PutUint32(g.b[off:], qh)
	setNibble(g.b[off+4:], e, q)
}

// Q2_K: scales[16]; qs[64]; half d, dmin. Element e = 128h + 32k + 16i + l
// has bits 2k..2k+1 of qs[32h+16i+l]; x = d·sc·q − dmin·mn.
type q2KGrid struct {
	b      []byte
	dl, ml [16]float32
}

func (g *q2KGrid) load(b []byte) {
	g.b = b
	d, dmin := half(b[80:]), half(b[82:])
	for s := 0; s < 16; s++ {
		g.dl[s] = d * float32(b[s]&15)
		g.ml[s] = dmin * float32(b[s]>>4)
	}
}

func (g *q2KGrid) round(e int, x float32) (int, float32) {
	s := e / 16
	return affine(g.dl[s], -g.ml[s], 0, 3, x)
}

func (g *q2KGrid) set(e, q int) {
	h, k, il := e/128, e%128/32, e%32
	i := 16 + 32*h + il
	sh := uint(2 * k)
	g.b[i] = g.b[i]&^(3<<sh) | byte(q&3)<<sh
}

// Q3_K: hmask[32]; qs[64]; scales[12]; half d. Low bits as Q2_K; the
// third bit is bit e/32 of hmask[e%32]; x = d·(sc − 32)·(q − 4) with the
// code q = low + 4·bit in [0, 7].
type q3KGrid struct {
	b  []byte
	dl [16]float32
}

func (g *q3KGrid) load(b []byte) {
	g.b = b
	d := half(b[108:])
	sc := b[96:108]
	for s := 0; s < 16; s++ {
		lo := sc[s%8]
		if s >= 8 {
			lo >>= 4
		}
		v := int(lo&15) | int(sc[8+s%4]>>(2*(s/4))&3)<<4
		g.dl[s] = d * float32(v-32)
	}
}

func (g *q3KGrid) round(e int, x float32) (int, float32) {
	a := g.dl[e/16]
	return affine(a, -4*a, 0, 7, x)
}

func (g *q3KGrid) set(e, q int) {
	h, k, il := e/128, e%128/32, e%32
	i := 32 + 32*h + il
	sh := uint(2 * k)
	g.b[i] = g.b[i]&^(3<<sh) | byte(q&3)<<sh
	bit := uint(e / 32)
	if q>>2&1 != 0 {
		g.b[e%32] |= 1 << bit
	} else {
		g.b[e%32] &^= 1 << bit
	}
}

// scaleMinK4 is ggml's get_scale_min_k4.
func scaleMinK4(j int, s []byte) (int, int) {
	if j < 4 {
		return int(s[j] & 63), int(s[j+4] & 63)
	}
	return int(s[j+4]&15) | int(s[j-4]>>6)<<4, int(s[j+4]>>4) | int(s[j]>>6)<<4
}

// Q4_K: half d, dmin; scales[12]; qs[128]. Chunk c (64 elements) uses
// qs[32c..]: low nibbles are sub-block 2c, high nibbles 2c+1; x = d·sc·q −
// dmin·mn. Q5_K adds qh[32] before qs: bit 2c (low half) or 2c+1 of qh[l].
type q45KGrid struct {
	five   bool
	b      []byte
	dl, ml [8]float32
}

func (g *q45KGrid) load(b []byte) {
	g.b = b
	d, dmin := half(b), half(b[2:])
	for j := 0; j < 8; j++ {
		sc, mn := scaleMinK4(j, b[4:16])
		g.dl[j] = d * float32(sc)
		g.ml[j] = dmin * float32(mn)
	}
}

func (g *q45KGrid) round(e int, x float32) (int, float32) {
	s := e / 32
	hi := 15
	if g.five {
		hi = 31
	}
	return affine(g.dl[s], -g.ml[s], 0, hi, x)
}

func (g *q45KGrid) set(e, q int) {
	c, l, upper := e/64, e%32, e%64 >= 32
	qs := 16
	if g.five {
		qs = 48
		bit := uint(2 * c)
		if upper {
			bit++
		}
		if q>>4&1 != 0 {
			g.b[16+l] |= 1 << bit
		} else {
			g.b[16+l] &^= 1 << bit
		}
	}
	i := qs + 32*c + l
	if upper {
		g.b[i] = g.b[i]&0x0F | byte(q&15)<<4
	} else {
		g.b[i] = g.b[i]&0xF0 | byte(q&15)
	}
}

// Q6_K: ql[128]; qh[64]; i8 scales[16]; half d. Element 128h + 32k + l
// takes the low (k < 2) or high nibble of ql[64h + l + 32(k%2)] and bits
// 2k..2k+1 of qh[32h + l]; x = d·scales[8h + l/16 + 2k]·(q − 32).
type q6KGrid struct {
	b  []byte
	dl [16]float32
}

func (g *q6KGrid) load(b []byte) {
	g.b = b
	d := half(b[208:])
	for s := 0; s < 16; s++ {
		g.dl[s] = d * float32(int8(b[192+s]))
	}
}

func (g *q6KGrid) scale(e int) float32 {
	h, k, l := e/128, e%128/32, e%32
	return g.dl[8*h+l/16+2*k]
}

func (g *q6KGrid) round(e int, x float32) (int, float32) {
	a := g.scale(e)
	return affine(a, -32*a, 0, 63, x)
}

func (g *q6KGrid) set(e, q int) {
	h, k, l := e/128, e%128/32, e%32
	i := 64*h + l + 32*(k%2)
	if k < 2 {
		g.b[i] = g.b[i]&0xF0 | byte(q&15)
	} else {
		g.b[i] = g.b[i]&0x0F | byte(q&15)<<4
	}
	j := 128 + 32*h + l
	sh := uint(2 * k)
	g.b[j] = g.b[j]&^(3<<sh) | byte(q>>4&3)<<sh
}

// kvaluesIQ4 is ggml's kvalues_iq4nl.
var kvaluesIQ4 = [16]int8{-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113}

// IQ4_NL: half d; qs[16]; x = d·kvalues[q]. IQ4_XS: half d; u16 scales_h;
// scales_l[4]; qs[128]; sub-block b as IQ4_NL with d·(ls − 32).
type iq4Grid struct {
	xs bool
	b  []byte
	dl [8]float32
}

func (g *iq4Grid) load(b []byte) {
	g.b = b
	d := half(b)
	if !g.xs {
		g.dl[0] = d
		return
	}
	sh := binary.LittleEndian.Uint16(b[2:])
	for s := 0; s < 8; s++ {
		ls := int(b[4+s/2]>>(4*(s%2))&15) | int(sh>>(2*s)&3)<<4
		g.dl[s] = d * float32(ls-32)
	}
}

func (g *iq4Grid) round(e int, x float32) (int, float32) {
	d := g.dl[0]
	if g.xs {
		d = g.dl[e/32]
	}
	if d == 0 {
		return 8, 0
	}
	// kvalues are increasing (d may be negative: search in code space).
	t := x / d
	i := sort.Search(16, func(i int) bool { return float32(kvaluesIQ4[i]) >= t })
	best := min(i, 15)
	if i > 0 && (i == 16 || t-float32(kvaluesIQ4[i-1]) <= float32(kvaluesIQ4[i])-t) {
		best = i - 1
	}
	return best, d * float32(kvaluesIQ4[best])
}

func (g *iq4Grid) set(e, q int) {
	if !g.xs {
		setNibble(g.b[2:], e, q)
		return
	}
	s := e / 32
	setNibble(g.b[8+16*s:], e%32, q)
}
