package hf

import "fmt"

// The Q/K permutation. HF Llama checkpoints apply RoPE with rotate_half,
// pairing dimension i with i+d/2 inside each head; Meta's weights and
// llama.cpp's "llama" architecture pair 2i with 2i+1. HF's conversion script
// reorders rows so both compute the same function: Meta row 2i+c of a head
// becomes HF row c*(d/2)+i. llama.cpp's convert_hf_to_gguf.py applies the
// inverse, reshape(n_head, 2, d/2, …).swapaxes(1, 2).

// PermuteRows reorders the rows of a row-major [nHead*headDim, rowBytes]
// matrix (rowBytes is the byte length of one row, so any element type works)
// from HF order to GGUF/Meta order: GGUF row h*d + 2i + c = HF row
// h*d + c*d/2 + i.
func PermuteRows(dst, src []byte, nHead, rows, rowBytes int) error {
	return permute(dst, src, nHead, rows, rowBytes, false)
}

// UnpermuteRows is the inverse of PermuteRows: GGUF/Meta order to HF order.
func UnpermuteRows(dst, src []byte, nHead, rows, rowBytes int) error {
	return permute(dst, src, nHead, rows, rowBytes, true)
}

func permute(dst, src []byte, nHead, rows, rowBytes int, inverse bool) error {
	if nHead <= 0 || rows%nHead != 0 || (rows/nHead)%2 != 0 {
		return fmt.Errorf("q/k permutation: %d rows do not split into %d heads of even size", rows, nHead)
	}
	if len(src) != rows*rowBytes || len(dst) != len(src) {
		return fmt.Errorf("q/k permutation: %d bytes for %d rows of %d bytes", len(src), rows, rowBytes)
	}
	d := rows / nHead
	half := d / 2
	for h := 0; h < nHead; h++ {
		for i := 0; i < half; i++ {
			for c := 0; c < 2; c++ {
				g := h*d + 2*i + c     // GGUF / Meta row
				hr := h*d + c*half + i // HF row
				from, to := hr, g
				if inverse {
					from, to = g, hr
				}
				copy(dst[to*rowBytes:(to+1)*rowBytes], src[from*rowBytes:(from+1)*rowBytes])
			}
		}
	}
	return nil
}
