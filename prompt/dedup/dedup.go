// Package dedup finds exact and near-duplicate chunks of text.
//
// A chunk is an exact duplicate of an earlier one when their word sequences
// (lower-cased runs of letters and digits, as package segment splits them)
// are equal: case, punctuation and spacing differences do not count. It is
// a near duplicate when the sets of their word shingles (runs of
// [Options.Shingle] consecutive words) are similar:
//
//   - MinHash (the default): 64 min-wise hashes per chunk estimate the
//     Jaccard similarity of the shingle sets; locality-sensitive hashing
//     (16 bands of 4 rows) finds candidate pairs, which are near duplicates
//     when the estimate is at least [Options.Threshold] (default 0.7).
//   - SimHash: a 64-bit Charikar fingerprint of the shingles; two chunks are
//     near duplicates when the fingerprints differ in at most
//     [Options.MaxHamming] bits (default 3). Candidates come from
//     MaxHamming+1 bands of the fingerprint: two fingerprints that close
//     agree on at least one band.
//
// The later chunk of a pair is the duplicate; the earliest chunk of a group
// is the one kept. Chunks with fewer than [Options.MinWords] words (default
// 1) are never near duplicates (exact ones still count).
//
// The package has no limits to enforce: it reads only the strings it is
// given; memory is proportional to the number of chunks.
package dedup

import (
	"math/bits"

	"github.com/lmc-project/lmc/prompt/segment"
)

// Kind says how a chunk duplicates an earlier one.
type Kind uint8

// Kinds of duplicates.
const (
	Unique Kind = iota
	Exact
	Near
)

func (a Algorithm) String() string {
	if a == SimHash {
		return "simhash"
	}
	return "minhash"
}

func (k Kind) String() string {
	switch k {
	case Exact:
		return "exact"
	case Near:
		return "near"
	}
	return "unique"
}

// Algorithm picks the near-duplicate detector.
type Algorithm uint8

// Near-duplicate detectors.
const (
	MinHash Algorithm = iota
	SimHash
)

// Options tune detection. The zero value means the defaults.
type Options struct {
	Algorithm  Algorithm
	Shingle    int     // words per shingle (default 3)
	Threshold  float64 // MinHash: least estimated Jaccard similarity (default 0.7)
	MaxHamming int     // SimHash: most differing bits (default 3)
	MinWords   int     // chunks shorter than this are never near duplicates (default 1)
	ExactOnly  bool    // skip near-duplicate detection
}

func (o *Options) get() Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.Shingle <= 0 {
		r.Shingle = 3
	}
	if r.Threshold <= 0 {
		r.Threshold = 0.7
	}
	if r.MaxHamming <= 0 {
		r.MaxHamming = 3
	}
	if r.MinWords <= 0 {
		r.MinWords = 1
	}
	return r
}

// Match tells whether chunk i duplicates an earlier chunk.
type Match struct {
	Kind       Kind    // Unique, Exact or Near
	Of         int     // the index of the kept chunk it duplicates; -1 when Unique
	Similarity float64 // 1 for exact duplicates; the estimate for near ones
}

const (
	numHashes = 64
	bands     = 16
	rows      = numHashes / bands
)

var seeds = func() (s [numHashes][2]uint64) {
	x := uint64(0x9e3779b97f4a7c15)
	for i := range s {
		x = splitmix(x)
		s[i][0] = x | 1
		x = splitmix(x)
		s[i][1] = x
	}
	return s
}()

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// Find returns one Match per chunk.
func Find(chunks []string, opts *Options) []Match {
	o := opts.get()
	out := make([]Match, len(chunks))
	exact := make(map[uint64]int, len(chunks))
	var terms []segment.Term
	var shingles []uint64
	var sigs [][numHashes]uint64
	var sims []uint64
	sigOf := make([]int32, len(chunks)) // chunk -> index in sigs/sims
	seen := make([]int32, len(chunks))  // chunk -> last chunk that compared it, +1
	var lsh [bands]map[uint64][]int
	if o.Algorithm == MinHash && !o.ExactOnly {
		for b := range lsh {
			lsh[b] = make(map[uint64][]int, len(chunks))
		}
	}
	// SimHash candidates: with MaxHamming+1 bands, two fingerprints within
	// MaxHamming bits agree on at least one band (pigeonhole).
	nb := min(o.MaxHamming+1, 64)
	simBands := make([]map[uint64][]int, nb)
	for b := range simBands {
		simBands[b] = map[uint64][]int{}
	}
	band := func(fp uint64, b int) uint64 {
		lo, hi := b*64/nb, (b+1)*64/nb
		return uint64(b)<<58 ^ (fp>>lo)&(1<<(hi-lo)-1)
	}
	for i, c := range chunks {
		out[i] = Match{Of: -1}
		terms = segment.AppendTerms(terms[:0], c, false)
		h := uint64(fnvOffset)
		for _, t := range terms {
			h = splitmix(h ^ uint64(t))
		}
		if j, ok := exact[h]; ok {
			out[i] = Match{Kind: Exact, Of: j, Similarity: 1}
			continue
		}
		exact[h] = i
		if o.ExactOnly || len(terms) < o.MinWords || len(terms) == 0 {
			continue
		}
		shingles = appendShingles(shingles[:0], terms, o.Shingle)
		switch o.Algorithm {
		case SimHash:
			fp := simhash(shingles)
			best, bestD := -1, 65
			for b := 0; b < nb; b++ {
				for _, j := range simBands[b][band(fp, b)] {
					if d := bits.OnesCount64(fp ^ sims[sigOf[j]]); d < bestD || (d == bestD && j < best) {
						best, bestD = j, d
					}
				}
			}
			if best >= 0 && bestD <= o.MaxHamming {
				out[i] = Match{Kind: Near, Of: best, Similarity: 1 - float64(bestD)/64}
				continue
			}
			sigOf[i] = int32(len(sims))
			sims = append(sims, fp)
			for b := 0; b < nb; b++ {
				k := band(fp, b)
				simBands[b][k] = append(simBands[b][k], i)
			}
		default:
			sig := minhash(shingles)
			best, bestS := -1, -1.0
			var keys [bands]uint64
			for b := 0; b < bands; b++ {
				k := uint64(b)
				for r := 0; r < rows; r++ {
					k = splitmix(k ^ sig[b*rows+r])
				}
				keys[b] = k
				for _, j := range lsh[b][k] {
					if seen[j] == int32(i+1) {
						continue
					}
					seen[j] = int32(i + 1)
					s := Jaccard(&sig, &sigs[sigOf[j]])
					if s > bestS || (s == bestS && j < best) {
						best, bestS = j, s
					}
				}
			}
			if best >= 0 && bestS >= o.Threshold {
				out[i] = Match{Kind: Near, Of: best, Similarity: bestS}
				continue
			}
			sigOf[i] = int32(len(sigs))
			sigs = append(sigs, sig)
			for b, k := range keys {
				lsh[b][k] = append(lsh[b][k], i)
			}
		}
	}
	return out
}

const fnvOffset = 14695981039346656037

// appendShingles appends the hashes of the k-word shingles of terms (one
// shingle of all terms when there are fewer than k).
func appendShingles(dst []uint64, terms []segment.Term, k int) []uint64 {
	if len(terms) < k {
		k = len(terms)
	}
	for i := 0; i+k <= len(terms); i++ {
		h := uint64(k)
		for _, t := range terms[i : i+k] {
			h = splitmix(h ^ uint64(t))
		}
		dst = append(dst, h)
	}
	return dst
}

// Signature is a MinHash signature.
type Signature = [numHashes]uint64

func minhash(shingles []uint64) (sig Signature) {
	for i := range sig {
		sig[i] = ^uint64(0)
	}
	for _, s := range shingles {
		for i := range sig {
			v := (s ^ seeds[i][1]) * seeds[i][0]
			v ^= v >> 29
			if v < sig[i] {
				sig[i] = v
			}
		}
	}
	return sig
}

// Jaccard estimates the Jaccard similarity of the shingle sets behind two
// MinHash signatures: the fraction of equal positions.
func Jaccard(a, b *Signature) float64 {
	n := 0
	for i := range a {
		if a[i] == b[i] {
			n++
		}
	}
	return float64(n) / numHashes
}

func simhash(shingles []uint64) uint64 {
	var v [64]int32
	for _, s := range shingles {
		for b := 0; b < 64; b++ {
			if s>>b&1 == 1 {
				v[b]++
			} else {
				v[b]--
			}
		}
	}
	var fp uint64
	for b := 0; b < 64; b++ {
		if v[b] > 0 {
			fp |= 1 << b
		}
	}
	return fp
}

// MinHashSignature returns the MinHash signature of text's k-word shingles
// (k ≤ 0 means 3).
func MinHashSignature(text string, k int) Signature {
	if k <= 0 {
		k = 3
	}
	return minhash(appendShingles(nil, segment.AppendTerms(nil, text, false), k))
}

// SimHashOf returns the 64-bit SimHash fingerprint of text's k-word
// shingles (k ≤ 0 means 3).
func SimHashOf(text string, k int) uint64 {
	if k <= 0 {
		k = 3
	}
	return simhash(appendShingles(nil, segment.AppendTerms(nil, text, false), k))
}
