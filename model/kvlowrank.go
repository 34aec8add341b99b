package model

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// KeyBasis is a low-rank projection of cached keys: for each layer and KV
// head, Rank orthonormal directions of the head_dim key space (the top
// eigenvectors of the keys' second moment E[k·kᵀ] on calibration text).
// A cache with KVOptions.KeyBasis stores k' = Uᵀk (Rank numbers instead of
// head_dim) and scores q'·k' with q' = Uᵀq, which is q·(UUᵀk): the part of
// each key outside the basis is lost. Keys are cached after RoPE, so the
// basis mostly picks the rotary pairs (channel pairs) that carry the keys'
// energy. Values are not projected.
type KeyBasis struct {
	Layers, Heads, HeadDim, Rank int
	// U holds, per layer and head (layer*Heads + head), Rank rows of
	// HeadDim floats: the basis vectors.
	U [][]float32
	// Energy is, per layer and head, the share of E[|k|²] the basis
	// keeps.
	Energy []float64
}

// CalibrateKeyBasis runs m over tokens (chunks of ctx, each from an empty
// float32 cache; ctx 0: the model's context) and returns the rank-r basis
// of every layer's and head's keys.
func CalibrateKeyBasis(m *Model, tokens []int, ctx, rank int) (*KeyBasis, error) {
	c := &m.Config
	hd, H, Ls := c.HeadDim, c.HeadCountKV, c.BlockCount
	if rank <= 0 || rank > hd {
		return nil, fmt.Errorf("model: key rank %d outside [1, head_dim %d]", rank, hd)
	}
	if ctx <= 0 {
		ctx = c.ContextLength
	}
	if len(tokens) == 0 {
		return nil, errors.New("model: no calibration tokens")
	}
	s, err := m.NewSessionWith(SessionOptions{Context: ctx})
	if err != nil {
		return nil, err
	}
	cache := s.Cache().(*Cache)
	mom := make([][]float64, Ls*H)
	for i := range mom {
		mom[i] = make([]float64, hd*hd)
	}
	count := 0
	for lo := 0; lo < len(tokens); lo += ctx {
		chunk := tokens[lo:min(lo+ctx, len(tokens))]
		s.Reset()
		if _, err := s.Prefill(chunk); err != nil {
			return nil, err
		}
		for l := 0; l < Ls; l++ {
			for h := 0; h < H; h++ {
				_, keys, _ := cache.Head(l, h)
				M := mom[l*H+h]
				for _, k := range keys {
					for a := 0; a < hd; a++ {
						ka := float64(k[a])
						row := M[a*hd : (a+1)*hd]
						for b := a; b < hd; b++ {
							row[b] += ka * float64(k[b])
						}
					}
				}
			}
		}
		count += len(chunk)
	}
	kb := &KeyBasis{Layers: Ls, Heads: H, HeadDim: hd, Rank: rank, U: make([][]float32, Ls*H), Energy: make([]float64, Ls*H)}
	for i, M := range mom {
		for a := 0; a < hd; a++ {
			for b := 0; b < a; b++ {
				M[a*hd+b] = M[b*hd+a]
			}
		}
		vals, vecs := symEigen(M, hd)
		var total, kept float64
		for j, v := range vals {
			total += v
			if j < rank {
				kept += v
			}
		}
		kb.Energy[i] = kept / math.Max(total, 1e-300)
		U := make([]float32, rank*hd)
		for j := 0; j < rank; j++ {
			for a := 0; a < hd; a++ {
				U[j*hd+a] = float32(vecs[a*hd+j])
			}
		}
		kb.U[i] = U
	}
	return kb, nil
}

// check verifies the basis fits a cache of that shape.
func (kb *KeyBasis) check(layers, heads, hd int) error {
	if kb.Layers != layers || kb.Heads != heads || kb.HeadDim != hd || kb.Rank <= 0 || kb.Rank > hd || len(kb.U) != layers*heads {
		return fmt.Errorf("model: key basis of %d layers × %d heads × %d → %d does not fit the model's %d × %d × %d",
			kb.Layers, kb.Heads, kb.HeadDim, kb.Rank, layers, heads, hd)
	}
	for i, u := range kb.U {
		if len(u) != kb.Rank*hd {
			return fmt.Errorf("model: key basis %d holds %d floats, want %d", i, len(u), kb.Rank*hd)
		}
	}
	return nil
}

// project sets dst[j] = U_j · x for the basis of stream s.
func (kb *KeyBasis) project(s int, dst, x []float32) {
	U, hd := kb.U[s], kb.HeadDim
	for j := range dst[:kb.Rank] {
		u := U[j*hd : (j+1)*hd]
		var acc float32
		for a, v := range x[:hd] {
			acc += u[a] * v
		}
		dst[j] = acc
	}
}

// lift sets dst = Σ_j y[j]·U_j (back to head_dim).
func (kb *KeyBasis) lift(s int, dst, y []float32) {
	U, hd := kb.U[s], kb.HeadDim
	clear(dst[:hd])
	for j, c := range y[:kb.Rank] {
		u := U[j*hd : (j+1)*hd]
		for a := range dst[:hd] {
			dst[a] += c * u[a]
		}
	}
}

// symEigen returns the eigenvalues of the symmetric n×n matrix A
// (row-major; destroyed) in decreasing order and the matching
// eigenvectors as the columns of an n×n matrix, by cyclic Jacobi
// rotations.
func symEigen(A []float64, n int) ([]float64, []float64) {
	V := make([]float64, n*n)
	for i := 0; i < n; i++ {
		V[i*n+i] = 1
	}
	for sweep := 0; sweep < 100; sweep++ {
		var off, diag float64
		for p := 0; p < n; p++ {
			diag += A[p*n+p] * A[p*n+p]
			for q := p + 1; q < n; q++ {
				off += A[p*n+q] * A[p*n+q]
			}
		}
		if off <= 1e-22*diag || off == 0 {
			break
		}
		for p := 0; p < n; p++ {
			for q := p + 1; q < n; q++ {
				apq := A[p*n+q]
				if math.Abs(apq) < 1e-300 {
					continue
				}
				theta := (A[q*n+q] - A[p*n+p]) / (2 * apq)
				t := math.Copysign(1, theta) / (math.Abs(theta) + math.Sqrt(theta*theta+1))
				c := 1 / math.Sqrt(t*t+1)
				s := t * c
				for k := 0; k < n; k++ {
					akp, akq := A[k*n+p], A[k*n+q]
					A[k*n+p], A[k*n+q] = c*akp-s*akq, s*akp+c*akq
				}
				for k := 0; k < n; k++ {
					apk, aqk := A[p*n+k], A[q*n+k]
					A[p*n+k], A[q*n+k] = c*apk-s*aqk, s*apk+c*aqk
				}
				for k := 0; k < n; k++ {
					vkp, vkq := V[k*n+p], V[k*n+q]
					V[k*n+p], V[k*n+q] = c*vkp-s*vkq, s*vkp+c*vkq
				}
			}
		}
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return A[idx[a]*n+idx[a]] > A[idx[b]*n+idx[b]] })
	vals := make([]float64, n)
	vecs := make([]float64, n*n)
	for j, i := range idx {
		vals[j] = A[i*n+i]
		for k := 0; k < n; k++ {
			vecs[k*n+j] = V[k*n+i]
		}
	}
	return vals, vecs
}
