package tensor

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"testing"

	"github.com/lmc-project/lmc/internal/shared"
)

// stTensors reads a safetensors file just far enough for this test: the
// dtype and data bytes of each tensor. (The real reader lives in the
// safetensors package; this one trusts its input, which is a fixed test
// file.)
func stTensors(t *testing.T, path string) map[string]struct {
	dtype string
	data  []byte
} {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(b)
	var hdr map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+n], &hdr); err != nil {
		t.Fatalf("%s: header: %v", path, err)
	}
	data := b[8+n:]
	out := map[string]struct {
		dtype string
		data  []byte
	}{}
	for name, raw := range hdr {
		if name == "__metadata__" {
			continue
		}
		var e struct {
			DType   string   `json:"dtype"`
			Offsets [2]int64 `json:"data_offsets"`
		}
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Fatalf("%s: %s: %v", path, name, err)
		}
		out[name] = struct {
			dtype string
			data  []byte
		}{e.DType, data[e.Offsets[0]:e.Offsets[1]]}
	}
	return out
}

// TestBooks5MBF16 checks Convert against PyTorch: books5M's BF16 checkpoint
// was made from its F32 checkpoint with PyTorch's round-to-nearest-even,
// so converting every F32 tensor must give the BF16 file's bytes exactly,
// and converting those back must give the BF16 values widened.
func TestBooks5MBF16(t *testing.T) {
	f32 := stTensors(t, shared.Path(t, "models/books5M/hf/model.safetensors"))
	bf16 := stTensors(t, shared.Path(t, "models/books5M/hf-bf16/model.safetensors"))
	if len(f32) == 0 || len(f32) != len(bf16) {
		t.Fatalf("%d F32 tensors, %d BF16 tensors", len(f32), len(bf16))
	}
	forEachLevel(t, func(t *testing.T) {
		elems, changed := 0, 0
		for name, a := range f32 {
			b, ok := bf16[name]
			if !ok || a.dtype != "F32" || b.dtype != "BF16" {
				t.Fatalf("%s: dtypes %q, %q", name, a.dtype, b.dtype)
			}
			got := make([]byte, len(a.data)/2)
			if err := Convert(got, BF16, a.data, F32); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !bytes.Equal(got, b.data) {
				for i := 0; i < len(got); i += 2 {
					if got[i] != b.data[i] || got[i+1] != b.data[i+1] {
						t.Fatalf("%s: element %d: F32 %#08x -> %#04x, PyTorch %#04x", name, i/2,
							binary.LittleEndian.Uint32(a.data[2*i:]), binary.LittleEndian.Uint16(got[i:]),
							binary.LittleEndian.Uint16(b.data[i:]))
					}
				}
			}
			back := make([]byte, len(a.data))
			if err := Convert(back, F32, b.data, BF16); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < len(back); i += 4 {
				w := binary.LittleEndian.Uint32(a.data[i:])
				if binary.LittleEndian.Uint32(back[i:]) != uint32(binary.LittleEndian.Uint16(b.data[i/2:]))<<16 {
					t.Fatalf("%s: BF16 -> F32 element %d wrong", name, i/4)
				}
				if w&0xffff != 0 {
					changed++
				}
			}
			elems += len(a.data) / 4
		}
		// Honesty check: the rounding must actually have mattered.
		if changed < elems/2 {
			t.Fatalf("only %d of %d F32 values had low bits set", changed, elems)
		}
		t.Logf("%d tensors, %d elements match PyTorch", len(f32), elems)
	})
}
