package quant

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/lmc-project/lmc/gguf"
	"github.com/lmc-project/lmc/internal/shared"
)

// decodeElement is an independent decoder written from the block layouts
// in ../shared/reference/FORMATS.md: it computes element i of one block
// directly from its bit positions, with ggml's order of float operations
// (which matters only where a product is inexact: Q6_K, IQ4_XS, Q8_K).
func decodeElement(t gguf.Type, b []byte, i int) float32 {
	h := func(off int) float32 { return f16(le16(b[off:])) }
	nib := func(qs []byte, j int) int { // element j of a 32-element nibble block
		if j < 16 {
			return int(qs[j] & 15)
		}
		return int(qs[j-16] >> 4)
	}
	switch t {
	case gguf.TypeQ4_0:
		return float32(nib(b[2:], i)-8) * h(0)
	case gguf.TypeQ4_1:
		return float32(float32(nib(b[4:], i))*h(0)) + h(2)
	case gguf.TypeQ5_0:
		q := nib(b[6:], i) | int(le32(b[2:])>>i&1)<<4
		return float32(q-16) * h(0)
	case gguf.TypeQ5_1:
		q := nib(b[8:], i) | int(le32(b[4:])>>i&1)<<4
		return float32(float32(q)*h(0)) + h(2)
	case gguf.TypeQ8_0:
		return float32(int8(b[2+i])) * h(0)
	case gguf.TypeQ8_1:
		return float32(int8(b[4+i])) * h(0)
	case gguf.TypeIQ4_NL:
		return h(0) * float32(kvaluesIQ4NL[nib(b[2:], i)])
	case gguf.TypeQ2_K:
		half, r := i/128, i%128
		q := int(b[16+32*half+16*(r%32/16)+r%16]>>(2*(r/32))) & 3
		sc := b[i/16]
		return float32(float32(h(80)*float32(sc&15))*float32(q)) - h(82)*float32(sc>>4)
	case gguf.TypeQ3_K:
		half, r := i/128, i%128
		q := int(b[32+32*half+16*(r%32/16)+r%16]>>(2*(r/32))) & 3
		if b[i%32]>>(i/32)&1 == 0 {
			q -= 4
		}
		j := i / 16 // 6-bit scale j: low 4 bits in byte j%8 (high nibble for j ≥ 8), high 2 bits in byte 8+j%4
		lo := int(b[96+j%8]>>(4*(j/8))) & 15
		hi := int(b[96+8+j%4]>>(2*(j/4))) & 3
		return float32(h(108)*float32(lo|hi<<4-32)) * float32(q)
	case gguf.TypeQ4_K, gguf.TypeQ5_K:
		c, r := i/64, i%64
		qs := 16
		if t == gguf.TypeQ5_K {
			qs = 48
		}
		q := int(b[qs+32*c+r%32]>>(4*(r/32))) & 15
		if t == gguf.TypeQ5_K {
			q |= int(b[16+r%32]>>(2*c+r/32)&1) << 4
		}
		j := 2*c + r/32
		s := b[4:16]
		var sc, m int
		if j < 4 {
			sc, m = int(s[j]&63), int(s[j+4]&63)
		} else {
			sc = int(s[j+4]&15) | int(s[j-4]>>6)<<4
			m = int(s[j+4]>>4) | int(s[j]>>6)<<4
		}
		return float32(float32(h(0)*float32(sc))*float32(q)) - h(2)*float32(m)
	case gguf.TypeQ6_K:
		half, r := i/128, i%128
		g, l := r/32, r%32
		lb := b[64*half+l+32*(g%2)]
		q := int(lb>>(4*(g/2)))&15 | int(b[128+32*half+l]>>(2*g)&3)<<4
		sc := int8(b[192+8*half+l/16+2*g])
		return float32(h(208)*float32(sc)) * float32(q-32)
	case gguf.TypeIQ4_XS:
		ib, j := i/32, i%32
		ls := int(b[4+ib/2]>>(4*(ib%2)))&15 | int(le16(b[2:])>>(2*ib)&3)<<4
		return float32(h(0)*float32(ls-32)) * float32(kvaluesIQ4NL[nib(b[8+16*ib:], j)])
	case gguf.TypeQ8_K:
		return math.Float32frombits(le32(b)) * float32(int8(b[4+i]))
	}
	panic("no decoder for " + t.String())
}

func sameBits(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || (a != a && b != b)
}

// checkDequantize compares Dequantize (dispatched and pure Go) of the
// blocks in src with decodeElement.
func checkDequantize(t *testing.T, f *Format, src []byte, what string) {
	t.Helper()
	got := make([]float32, len(src)/f.BlockBytes*f.BlockSize)
	gotGo := make([]float32, len(got))
	f.Dequantize(got, src)
	f.dequantG(gotGo, src)
	bad := 0
	for i := range got {
		blk := i / f.BlockSize
		want := decodeElement(f.Type, src[blk*f.BlockBytes:(blk+1)*f.BlockBytes], i%f.BlockSize)
		if (!sameBits(got[i], want) || !sameBits(gotGo[i], want)) && bad < 3 {
			bad++
			t.Errorf("%s %s: element %d (block %d): got %v (Go %v), want %v", f, what, i, blk, got[i], gotGo[i], want)
		}
	}
}

func TestDequantizeReferenceBlocks(t *testing.T) {
	dir := filepath.Dir(shared.Path(t, "models/books5M/llamacpp/books5M-pure-q8_0.gguf"))
	for _, n := range []string{"q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q2_k", "q3_k", "q4_k", "q5_k", "q6_k", "iq4_nl", "iq4_xs"} {
		ref, err := gguf.Open(filepath.Join(dir, "books5M-pure-"+n+".gguf"))
		if err != nil {
			t.Fatal(err)
		}
		for _, ti := range ref.Tensors {
			if f, ok := Lookup(ti.Type); ok {
				b, err := ref.Data(ti.Name)
				if err != nil {
					t.Fatal(err)
				}
				checkDequantize(t, f, b, ti.Name)
			}
		}
		ref.Close()
	}
}

// TestDequantizeRandomBlocks decodes random bytes: every code and scale
// pattern, NaN and Inf scales included.
func TestDequantizeRandomBlocks(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, f := range formats {
		src := make([]byte, 64*f.BlockBytes)
		for i := range src {
			src[i] = byte(r.Uint32())
		}
		checkDequantize(t, f, src, "random")
	}
}

// TestDequantizeBounds checks that the kernels write exactly their output:
// guard values before and after it survive.
func TestDequantizeBounds(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	const guard = 16
	withLevels(t, func(t *testing.T) {
		for _, f := range formats {
			for nb := 1; nb <= 3; nb++ {
				src := make([]byte, nb*f.BlockBytes)
				for i := range src {
					src[i] = byte(r.Uint32())
				}
				buf := make([]float32, nb*f.BlockSize+2*guard)
				for i := range buf {
					buf[i] = -12345
				}
				f.Dequantize(buf[guard:guard+nb*f.BlockSize], src)
				for i := range buf {
					if (i < guard || i >= guard+nb*f.BlockSize) && buf[i] != -12345 {
						t.Fatalf("%s nb=%d: wrote element %d outside the output", f, nb, i-guard)
					}
				}
			}
		}
	})
}
