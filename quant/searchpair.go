package quant

import "math/bits"

// The step loop of make_qkx2_quants for two groups at once. The loop is
// a chain of dependent float32 sums; the assembly version (AVX2) computes
// the codes and products of both groups with vector instructions and runs
// the two groups' sums side by side, which hides their latency. Every
// float32 operation is ggml's, in ggml's order, so the results are the
// single-group function's bit for bit. kPairStepsGo is the reference.

// kGroup is one group's state: inputs, the best fit so far, and scratch.
// Its layout is read by the assembly (offsets checked by a test).
type kGroup struct {
	x, w      *float32 // n values and weights
	aux, best *int32   // n codes: the current trial, the best so far
	min, max  float32  // min ≤ 0 is the best fit's (negated) min
	sumW      float32  // Σw
	sumX      float32  // Σw·x
	scale     float32  // best fit's scale
	err       float32  // best fit's error
	ts, tm    float32  // scratch: the trial's scale and min
	ok        int32    // scratch: the trial has a solution (D > 0)
	_         int32
}

// kSearch holds two groups and the search parameters.
type kSearch struct {
	g             [2]kGroup
	n, nstep      int
	nmax          int32
	nmaxF         float32
	rmin, rdelta  float32
	useMad        int32 // 1: absolute error, 0: squared
	_             int32
	p1, p2, p3, e [2][32]float32 // scratch: products and errors
}

// kPairStepsGo is the step loop of makeQkx2Quants, applied to each group.
func kPairStepsGo(s *kSearch) {
	n := s.n
	for gi := range s.g {
		g := &s.g[gi]
		x := unsafeSlice(g.x, n)
		w := unsafeSlice(g.w, n)
		aux := unsafeSlice(g.aux, n)
		best := unsafeSlice(g.best, n)
		for is := 0; is <= s.nstep; is++ {
			iscale := (mad(s.rdelta, float32(is), s.rmin) + s.nmaxF) / (g.max - g.min)
			var sumL, sumL2, sumXL float32
			for i, v := range x {
				l := clampInt(ni(iscale, v-g.min), 0, s.nmax)
				aux[i] = l
				fl := float32(l)
				wl := float32(w[i] * fl)
				sumL += wl
				sumL2 = acc(sumL2, wl, fl)
				sumXL = acc(sumXL, wl, v)
			}
			D := det(g.sumW, sumL2, sumL, sumL)
			if !(D > 0) {
				continue
			}
			thisScale := det(g.sumW, sumXL, g.sumX, sumL) / D
			thisMin := det(sumL2, g.sumX, sumL, sumXL) / D
			if thisMin > 0 {
				thisMin = 0
				thisScale = sumXL / sumL2
			}
			var cur float32
			for i, v := range x {
				diff := mad(thisScale, float32(aux[i]), thisMin) - v
				if s.useMad != 0 {
					diff = abs32(diff)
				} else {
					diff = float32(diff * diff)
				}
				cur = acc(cur, w[i], diff)
			}
			if cur < g.err {
				copy(best, aux)
				g.err, g.scale, g.min = cur, thisScale, thisMin
			}
		}
	}
}

// kGroupInit runs the part of make_qkx2_quants before the trial scales on
// one group: min, max, Σw, Σw·x and the first fit, with codes in best. It
// returns ok = false when the group is constant (max == min), which ggml
// quantizes to zero. (It returns values rather than filling a kGroup so
// that nothing it is given escapes to the heap.)
func kGroupInit(x, w []float32, best []int32, nmax int, useMad bool) (g kGroup, ok bool) {
	n := len(x)
	min, max := x[0], x[0]
	sumW := w[0]
	sumX := float32(sumW * x[0])
	for i := 1; i < n; i++ {
		if x[i] < min {
			min = x[i]
		}
		if x[i] > max {
			max = x[i]
		}
		sumW += w[i]
		sumX = acc(sumX, w[i], x[i])
	}
	if min > 0 {
		min = 0
	}
	if max == min {
		return g, false
	}
	iscale := float32(nmax) / (max - min)
	scale := 1 / iscale
	var bestErr float32
	for i, v := range x {
		l := clampInt(ni(iscale, v-min), 0, int32(nmax))
		best[i] = l
		diff := mad(scale, float32(l), min) - v
		if useMad {
			diff = abs32(diff)
		} else {
			diff = float32(diff * diff)
		}
		bestErr = acc(bestErr, w[i], diff)
	}
	return kGroup{min: min, max: max, sumW: sumW, sumX: sumX, scale: scale, err: bestErr}, true
}

// makeQkx2Pair is makeQkx2Quants on the groups xa and xb (n ≤ 32 each,
// nstep ≥ 1), with the trial scales searched in pairs.
func makeQkx2Pair(n, nmax int, xa, xb, wa, wb []float32, La, Lb []uint8,
	rmin, rdelta float32, nstep int, useMad bool) (scaleA, minA, scaleB, minB float32) {
	var s kSearch
	var aux, best [2][32]int32
	var okA, okB bool
	s.g[0], okA = kGroupInit(xa[:n], wa[:n], best[0][:n], nmax, useMad)
	s.g[1], okB = kGroupInit(xb[:n], wb[:n], best[1][:n], nmax, useMad)
	if !okA || !okB {
		// A constant group: ggml's early return; run the groups alone.
		var Laux [32]uint8
		scaleA, minA = makeQkx2Quants(n, nmax, xa, wa, La, Laux[:], rmin, rdelta, nstep, useMad)
		scaleB, minB = makeQkx2Quants(n, nmax, xb, wb, Lb, Laux[:], rmin, rdelta, nstep, useMad)
		return scaleA, minA, scaleB, minB
	}
	s.g[0].x, s.g[0].w, s.g[0].aux, s.g[0].best = &xa[0], &wa[0], &aux[0][0], &best[0][0]
	s.g[1].x, s.g[1].w, s.g[1].aux, s.g[1].best = &xb[0], &wb[0], &aux[1][0], &best[1][0]
	s.n, s.nstep = n, nstep
	s.nmax, s.nmaxF = int32(nmax), float32(nmax)
	s.rmin, s.rdelta = rmin, rdelta
	if useMad {
		s.useMad = 1
	}
	kPairSteps(&s)
	for i := 0; i < n; i++ {
		La[i], Lb[i] = uint8(best[0][i]), uint8(best[1][i])
	}
	return s.g[0].scale, -s.g[0].min, s.g[1].scale, -s.g[1].min
}

// The step loop of make_qx_quants (rmse_type 1, explicit weights) for two
// groups at once, like kPairSteps. qxPairStepsGo is the reference.

// qxGroup is one group's state; its layout is read by the assembly.
type qxGroup struct {
	x, w      *float32 // n values and weights
	aux, best *int32   // codes −nmax..nmax−1: current trial, best so far
	max       float32  // the element of largest magnitude
	scale     float32  // best scale
	best_     float32  // scale·Σwxl of the best trial
	_         float32
}

type qxSearch struct {
	g      [2]qxGroup
	n      int
	nmax   int32
	nmaxF  float32
	p1, p2 [2][32]float32 // scratch: products
}

func qxPairStepsGo(s *qxSearch) {
	n := s.n
	lo, hi := -s.nmax, s.nmax-1
	for gi := range s.g {
		g := &s.g[gi]
		x, w := unsafeSlice(g.x, n), unsafeSlice(g.w, n)
		aux, best := unsafeSlice(g.aux, n), unsafeSlice(g.best, n)
		for is := -9; is <= 9; is++ {
			if is == 0 {
				continue
			}
			iscale := -mad(0.1, float32(is), s.nmaxF) / g.max
			var sumlx, suml2 float32
			for i, v := range x {
				l := clampInt(ni(iscale, v), lo, hi)
				aux[i] = l
				fl := float32(l)
				sumlx = acc(sumlx, float32(w[i]*v), fl)
				suml2 = acc(suml2, float32(w[i]*fl), fl)
			}
			if suml2 > 0 && float32(sumlx*sumlx) > float32(g.best_*suml2) {
				copy(best, aux)
				g.scale = sumlx / suml2
				g.best_ = g.scale * sumlx
			}
		}
	}
}

// qxGroupInit is make_qx_quants up to the trial scales (rmse_type 1,
// weights w), with codes −nmax..nmax−1 in best: it returns ok = false for
// an all-zero group.
func qxGroupInit(x, w []float32, best []int32, nmax int) (g qxGroup, ok bool) {
	max, amax := absMaxSigned(x)
	if amax < groupMaxEps {
		return g, false
	}
	iscale := -float32(nmax) / max
	lo, hi := int32(-nmax), int32(nmax-1)
	var sumlx, suml2 float32
	for i, v := range x {
		l := clampInt(ni(iscale, v), lo, hi)
		best[i] = l
		fl := float32(l)
		sumlx = acc(sumlx, float32(w[i]*v), fl)
		suml2 = acc(suml2, float32(w[i]*fl), fl)
	}
	var scale float32
	if suml2 != 0 {
		scale = sumlx / suml2
	}
	return qxGroup{max: max, scale: scale, best_: scale * sumlx}, true
}

// makeQxPair is makeQxQuants(n, nmax, x, L, 1, w) on the groups xa and xb
// (n ≤ 32 each) with the trial scales searched in pairs.
func makeQxPair(n, nmax int, xa, xb, wa, wb []float32, La, Lb []int8) (scaleA, scaleB float32) {
	var s qxSearch
	var aux, best [2][32]int32
	var okA, okB bool
	s.g[0], okA = qxGroupInit(xa[:n], wa[:n], best[0][:n], nmax)
	s.g[1], okB = qxGroupInit(xb[:n], wb[:n], best[1][:n], nmax)
	if !okA || !okB {
		return makeQxQuants(n, nmax, xa, La, 1, wa), makeQxQuants(n, nmax, xb, Lb, 1, wb)
	}
	s.g[0].x, s.g[0].w, s.g[0].aux, s.g[0].best = &xa[0], &wa[0], &aux[0][0], &best[0][0]
	s.g[1].x, s.g[1].w, s.g[1].aux, s.g[1].best = &xb[0], &wb[0], &aux[1][0], &best[1][0]
	s.n, s.nmax, s.nmaxF = n, int32(nmax), float32(nmax)
	qxPairSteps(&s)
	for i := 0; i < n; i++ {
		La[i], Lb[i] = int8(best[0][i]+int32(nmax)), int8(best[1][i]+int32(nmax))
	}
	return s.g[0].scale, s.g[1].scale
}

// make_q3_quants (Q3_K) for two groups of 16. The first pass (the largest
// magnitude, the first codes and their sums) is done for both groups at
// once by q3InitPair (assembly on AVX2, reference q3InitPairGo); the
// refinement, a sequence of dependent single-code changes, stays in Go.

// q3Init is the first pass's output; its layout is read by the assembly.
type q3Init struct {
	w, wx        [32]float32 // x², x³
	p1, p2       [32]float32 // scratch: products
	L            [32]int32   // codes −4..3
	sumlx, suml2 [2]float32
	max, amax    [2]float32 // the element of largest magnitude, its magnitude
}

// q3InitPairGo is the first pass of makeQ3Quants on x[0:16] and x[16:32].
func q3InitPairGo(x *float32, s *q3Init) {
	xs := unsafeSlice(x, 32)
	for g := 0; g < 2; g++ {
		xg := xs[16*g : 16*g+16]
		max, amax := absMaxSigned(xg)
		s.max[g], s.amax[g] = max, amax
		iscale := -4 / max
		var sumlx, suml2 float32
		for i, v := range xg {
			l := clampInt(ni(iscale, v), -4, 3)
			s.L[16*g+i] = l
			w := float32(v * v)
			s.w[16*g+i], s.wx[16*g+i] = w, float32(w*v)
			fl := float32(l)
			sumlx = acc(sumlx, float32(w*v), fl)
			suml2 = acc(suml2, float32(w*fl), fl)
		}
		s.sumlx[g], s.suml2[g] = sumlx, suml2
	}
}

// q3Refine is makeQ3Quants's refinement of one group's codes L (−4..3),
// given x, x², x³ and the sums; it stores the codes + 4 in out and returns
// the scale. ggml visits the 16 elements in order, computing a candidate
// code for each from the current sums and keeping it if it lowers the
// error. The candidates are computed for the whole group at once (q3Cand)
// and only the elements whose candidate differs are visited; after a
// change the sums differ, so the candidates of the later elements are
// computed again.
func q3Refine(x, w, wx []float32, L []int32, sumlx, suml2 float32, out []int8) float32 {
	x, w, wx, L, out = x[:16], w[:16], wx[:16], L[:16], out[:16]
	var cand [16]int32
	for itry := 0; itry < 5; itry++ {
		changed := 0
		for start := 0; start < 16; {
			mask := q3Cand(&x[0], &w[0], &wx[0], &L[0], sumlx, suml2, &cand[0]) &^ (1<<start - 1)
			start = 16
			for ; mask != 0; mask &= mask - 1 {
				i := bits.TrailingZeros32(mask)
				li := float32(L[i])
				slx := mad(-wx[i], li, sumlx)
				sl2 := mad(-float32(w[i]*li), li, suml2)
				fl := float32(cand[i])
				slx = acc(slx, wx[i], fl)
				sl2 = acc(sl2, float32(w[i]*fl), fl)
				if sl2 > 0 && float32(float32(slx*slx)*suml2) > float32(float32(sumlx*sumlx)*sl2) {
					L[i] = cand[i]
					sumlx, suml2 = slx, sl2
					changed++
					start = i + 1
					break
				}
			}
		}
		if changed == 0 {
			break
		}
	}
	for i, l := range L {
		out[i] = int8(l + 4)
	}
	if suml2 > 0 {
		return sumlx / suml2
	}
	return 0
}

// q3CandGo computes, for the 16 elements of a group, ggml's candidate code
// new_l = clamp(nearest_int(x·sl2/slx), −4, 3) with slx = Σlx − x³·l and
// sl2 = Σl2 − (x²·l)·l into newL, and returns a mask of the elements with
// slx > 0 whose candidate differs from their code.
func q3CandGo(x, w, wx *float32, L *int32, sumlx, suml2 float32, newL *int32) uint32 {
	xs, ws, wxs := unsafeSlice(x, 16), unsafeSlice(w, 16), unsafeSlice(wx, 16)
	Ls, nl := unsafeSlice(L, 16), unsafeSlice(newL, 16)
	var mask uint32
	for i, v := range xs {
		li := float32(Ls[i])
		slx := mad(-wxs[i], li, sumlx)
		sl2 := mad(-float32(ws[i]*li), li, suml2)
		nl[i] = clampInt(nearestInt(float32(v*sl2)/slx), -4, 3)
		if slx > 0 && nl[i] != Ls[i] {
			mask |= 1 << i
		}
	}
	return mask
}

// makeQ3Pair is makeQ3Quants(16, 4, …) on x[0:16] and x[16:32], codes in
// L[0:32].
func makeQ3Pair(x []float32, L []int8) (sa, sb float32) {
	var s q3Init
	q3InitPair(&x[:32][0], &s)
	var sc [2]float32
	for g := 0; g < 2; g++ {
		if s.amax[g] < groupMaxEps {
			clear(L[16*g : 16*g+16])
			continue
		}
		sc[g] = q3Refine(x[16*g:], s.w[16*g:], s.wx[16*g:], s.L[16*g:], s.sumlx[g], s.suml2[g], L[16*g:])
	}
	return sc[0], sc[1]
}
