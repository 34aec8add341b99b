package quant

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/lmc-project/lmc/gguf"
	"github.com/lmc-project/lmc/internal/shared"
)

// TestRoundTrip requantizes dequantized llama.cpp blocks (layer 0 of each
// books5M-pure file). The legacy formats come back bit for bit; the
// searching quantizers may pick another scale for values already on a
// grid, so for them the test asks that most blocks come back the same.
func TestRoundTrip(t *testing.T) {
	minSame := map[gguf.Type]float64{
		gguf.TypeQ8_0: 1, gguf.TypeQ4_0: 1, gguf.TypeQ4_1: 1, gguf.TypeQ5_0: 1, gguf.TypeQ5_1: 1,
		gguf.TypeQ2_K: 0.97, gguf.TypeQ3_K: 0.5, gguf.TypeQ4_K: 0.99, gguf.TypeQ5_K: 0.85,
		gguf.TypeQ6_K: 0.99, gguf.TypeIQ4_NL: 0.99, gguf.TypeIQ4_XS: 0.9,
	}
	dir := filepath.Dir(shared.Path(t, "models/books5M/llamacpp/books5M-pure-q8_0.gguf"))
	for _, n := range []string{"q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q2_k", "q3_k", "q4_k", "q5_k", "q6_k", "iq4_nl", "iq4_xs"} {
		ref, err := gguf.Open(filepath.Join(dir, "books5M-pure-"+n+".gguf"))
		if err != nil {
			t.Fatal(err)
		}
		same, total := 0, 0
		var typ gguf.Type
		for _, ti := range ref.Tensors {
			f, ok := Lookup(ti.Type)
			if !ok || !strings.HasPrefix(ti.Name, "blk.0.") {
				continue
			}
			typ = f.Type
			b, err := ref.Data(ti.Name)
			if err != nil {
				t.Fatal(err)
			}
			y := make([]float32, len(b)/f.BlockBytes*f.BlockSize)
			f.Dequantize(y, b)
			q := make([]byte, len(b))
			if err := f.Quantize(q, y, nil); err != nil {
				t.Fatal(err)
			}
			y2 := make([]float32, len(y))
			f.Dequantize(y2, q)
			for blk := 0; blk < len(y)/f.BlockSize; blk++ {
				total++
				eq := true
				for j := blk * f.BlockSize; j < (blk+1)*f.BlockSize; j++ {
					eq = eq && y[j] == y2[j]
				}
				if eq {
					same++
				}
			}
		}
		ref.Close()
		if frac := float64(same) / float64(total); frac < minSame[typ] {
			t.Errorf("%s: %d of %d blocks come back unchanged, want ≥ %.0f%%", typ, same, total, 100*minSame[typ])
		}
	}
}
