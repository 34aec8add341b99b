package quant

// The scale searches of ggml's k-quants (ggml-quants.c: make_qx_quants,
// make_q3_quants, make_qkx2_quants, make_qkx3_quants, make_qp_quants).
// They repeat ggml's float32 operations in the same order so that the
// chosen codes are the same.

const groupMaxEps = 1e-15 // GROUP_MAX_EPS: a group below this is all zero

// ggml's quantizers were built without floating-point contraction: every
// a*b+c is a rounded product followed by a rounded sum (the tests in
// exact_test.go confirm this bit for bit against llama.cpp's files; fused
// variants lose up to 30% of the blocks). Go is allowed to fuse x*y+z (it
// does with GOAMD64=v3), so these helpers round each product explicitly.

// ni is nearest_int(a*b).
func ni(a, b float32) int32 { return nearestInt(float32(a * b)) }

// acc is s += a*b.
func acc(s, a, b float32) float32 { return s + float32(a*b) }

// mad is a*b + c.
func mad(a, b, c float32) float32 { return float32(a*b) + c }

// det is a*b - c*d.
func det(a, b, c, d float32) float32 { return float32(a*b) - float32(c*d) }

func clampInt(v, lo, hi int32) int32 { return max(lo, min(hi, v)) }

// makeQxQuants finds a scale for symmetric codes in [-nmax, nmax-1]
// (stored in L as 0..2·nmax-1) minimizing Σw(x - scale·l)², where w is qw
// or, without qw, x² (rmseType 1). It returns the scale.
func makeQxQuants(n, nmax int, x []float32, L []int8, rmseType int, qw []float32) float32 {
	x, L = x[:n], L[:n]
	var max, amax float32
	for _, v := range x {
		if ax := abs32(v); ax > amax {
			amax, max = ax, v
		}
	}
	if amax < groupMaxEps {
		clear(L)
		return 0
	}
	fn := float32(nmax)
	lo, hi := int32(-nmax), int32(nmax-1)
	iscale := -fn / max
	if rmseType == 0 {
		for i, v := range x {
			L[i] = int8(int32(nmax) + clampInt(ni(iscale, v), lo, hi))
		}
		return 1 / iscale
	}
	weight := func(i int) float32 {
		if qw != nil {
			return qw[i]
		}
		switch rmseType {
		case 1:
			return x[i] * x[i]
		case 2:
			return 1
		case 3:
			return abs32(x[i])
		}
		return sqrt32(abs32(x[i]))
	}
	var sumlx, suml2 float32
	for i, v := range x {
		l := clampInt(ni(iscale, v), lo, hi)
		L[i] = int8(l + int32(nmax))
		w := weight(i)
		fl := float32(l)
		sumlx = acc(sumlx, float32(w*v), fl)
		suml2 = acc(suml2, float32(w*fl), fl)
	}
	var scale float32
	if suml2 != 0 {
		scale = sumlx / suml2
	}
	best := scale * sumlx
	for is := -9; is <= 9; is++ {
		if is == 0 {
			continue
		}
		iscale = -mad(0.1, float32(is), fn) / max
		sumlx, suml2 = 0, 0
		for i, v := range x {
			l := clampInt(ni(iscale, v), lo, hi)
			w := weight(i)
			fl := float32(l)
			sumlx = acc(sumlx, float32(w*v), fl)
			suml2 = acc(suml2, float32(w*fl), fl)
		}
		if suml2 > 0 && float32(sumlx*sumlx) > float32(best*suml2) {
			for i, v := range x {
				L[i] = int8(int32(nmax) + clampInt(ni(iscale, v), lo, hi))
			}
			scale = sumlx / suml2
			best = scale * sumlx
		}
	}
	return scale
}

// makeQ3Quants is make_qx_quants's variant for Q3_K (rmse with weights x²
// and coordinate-descent refinement of single codes). Codes are stored as
// 0..2·nmax-1.
func makeQ3Quants(n, nmax int, x []float32, L []int8) float32 {
	x, L = x[:n], L[:n]
	var max, amax float32
	for _, v := range x {
		if ax := abs32(v); ax > amax {
			amax, max = ax, v
		}
	}
	if amax < groupMaxEps {
		clear(L)
		return 0
	}
	lo, hi := int32(-nmax), int32(nmax-1)
	iscale := -float32(nmax) / max
	var sumlx, suml2 float32
	for i, v := range x {
		l := clampInt(ni(iscale, v), lo, hi)
		L[i] = int8(l)
		w := float32(v * v)
		fl := float32(l)
		sumlx = acc(sumlx, float32(w*v), fl)
		suml2 = acc(suml2, float32(w*fl), fl)
	}
	for itry := 0; itry < 5; itry++ {
		changed := 0
		for i, v := range x {
			w := float32(v * v)
			wx := float32(w * v)
			li := float32(L[i])
			slx := mad(-wx, li, sumlx)
			if slx > 0 {
				sl2 := mad(-float32(w*li), li, suml2)
				newL := clampInt(nearestInt(float32(v*sl2)/slx), lo, hi)
				if newL != int32(L[i]) {
					fl := float32(newL)
					slx = acc(slx, wx, fl)
					sl2 = acc(sl2, float32(w*fl), fl)
					if sl2 > 0 && float32(float32(slx*slx)*suml2) > float32(float32(sumlx*sumlx)*sl2) {
						L[i] = int8(newL)
						sumlx, suml2 = slx, sl2
						changed++
					}
				}
			}
		}
		if changed == 0 {
			break
		}
	}
	for i := range L {
		L[i] += int8(nmax)
	}
	if suml2 > 0 {
		return sumlx / suml2
	}
	return 0
}

// makeQkx2Quants finds a scale and a min for codes 0..nmax minimizing the
// weighted error (absolute when useMad, else squared) over nstep+1 trial
// scales. It returns the scale and the negated min (the_min).
func makeQkx2Quants(n, nmax int, x, weights []float32, L, Laux []uint8, rmin, rdelta float32, nstep int, useMad bool) (float32, float32) {
	x, weights, L, Laux = x[:n], weights[:n], L[:n], Laux[:n]
	min, max := x[0], x[0]
	sumW := weights[0]
	sumX := float32(sumW * x[0])
	for i := 1; i < n; i++ {
		if x[i] < min {
			min = x[i]
		}
		if x[i] > max {
			max = x[i]
		}
		w := weights[i]
		sumW += w
		sumX = acc(sumX, w, x[i])
	}
	if min > 0 {
		min = 0
	}
	if max == min {
		clear(L)
		return 0, -min
	}
	fn := float32(nmax)
	iscale := fn / (max - min)
	scale := 1 / iscale
	var bestErr float32
	for i, v := range x {
		l := clampInt(ni(iscale, v-min), 0, int32(nmax))
		L[i] = uint8(l)
		diff := mad(scale, float32(l), min) - v
		if useMad {
			diff = abs32(diff)
		} else {
			diff = float32(diff * diff)
		}
		bestErr = acc(bestErr, weights[i], diff)
	}
	if nstep < 1 {
		return scale, -min
	}
	for is := 0; is <= nstep; is++ {
		iscale = (mad(rdelta, float32(is), rmin) + fn) / (max - min)
		var sumL, sumL2, sumXL float32
		for i, v := range x {
			l := clampInt(ni(iscale, v-min), 0, int32(nmax))
			Laux[i] = uint8(l)
			fl := float32(l)
			wl := float32(weights[i] * fl)
			sumL += wl
			sumL2 = acc(sumL2, wl, fl)
			sumXL = acc(sumXL, wl, v)
		}
		D := det(sumW, sumL2, sumL, sumL)
		if D > 0 {
			thisScale := det(sumW, sumXL, sumX, sumL) / D
			thisMin := det(sumL2, sumX, sumL, sumXL) / D
			if thisMin > 0 {
				thisMin = 0
				thisScale = sumXL / sumL2
			}
			var curErr float32
			for i, v := range x {
				diff := mad(thisScale, float32(Laux[i]), thisMin) - v
				if useMad {
					diff = abs32(diff)
				} else {
					diff = float32(diff * diff)
				}
				curErr = acc(curErr, weights[i], diff)
			}
			if curErr < bestErr {
				copy(L, Laux)
				bestErr = curErr
				scale = thisScale
				min = thisMin
			}
		}
	}
	return scale, -min
}

// makeQkx3Quants is makeQkx2Quants as the importance-weighted quantizers
// use it: weights default to x², a group with max <= min is all zero, and
// the trial codes are computed with min from the best fit so far.
func makeQkx3Quants(n, nmax int, x, weights []float32, L, Laux []uint8, rmin, rdelta float32, nstep int, useMad bool) (float32, float32) {
	x, L, Laux = x[:n], L[:n], Laux[:n]
	wt := func(i int) float32 {
		if weights != nil {
			return weights[i]
		}
		return float32(x[i] * x[i])
	}
	min, max := x[0], x[0]
	sumW := wt(0)
	sumX := float32(sumW * x[0])
	for i := 1; i < n; i++ {
		if x[i] < min {
			min = x[i]
		}
		if x[i] > max {
			max = x[i]
		}
		w := wt(i)
		sumW += w
		sumX = acc(sumX, w, x[i])
	}
	if min > 0 {
		min = 0
	}
	if max <= min {
		clear(L)
		return 0, -min
	}
	fn := float32(nmax)
	iscale := fn / (max - min)
	scale := 1 / iscale
	var bestMad float32
	for i, v := range x {
		l := clampInt(ni(iscale, v-min), 0, int32(nmax))
		L[i] = uint8(l)
		diff := mad(scale, float32(l), min) - v
		if useMad {
			diff = abs32(diff)
		} else {
			diff = float32(diff * diff)
		}
		bestMad = acc(bestMad, wt(i), diff)
	}
	if nstep < 1 {
		return scale, -min
	}
	for is := 0; is <= nstep; is++ {
		iscale = (mad(rdelta, float32(is), rmin) + fn) / (max - min)
		var sumL, sumL2, sumXL float32
		for i, v := range x {
			l := clampInt(ni(iscale, v-min), 0, int32(nmax))
			Laux[i] = uint8(l)
			fl := float32(l)
			wl := float32(wt(i) * fl)
			sumL += wl
			sumL2 = acc(sumL2, wl, fl)
			sumXL = acc(sumXL, wl, v)
		}
		D := det(sumW, sumL2, sumL, sumL)
		if D > 0 {
			thisScale := det(sumW, sumXL, sumX, sumL) / D
			thisMin := det(sumL2, sumX, sumL, sumXL) / D
			if thisMin > 0 {
				thisMin = 0
				thisScale = sumXL / sumL2
			}
			var mad_ float32
			for i, v := range x {
				diff := mad(thisScale, float32(Laux[i]), thisMin) - v
				if useMad {
					diff = abs32(diff)
				} else {
					diff = float32(diff * diff)
				}
				mad_ = acc(mad_, wt(i), diff)
			}
			if mad_ < bestMad {
				copy(L, Laux)
				bestMad = mad_
				scale = thisScale
				min = thisMin
			}
		}
	}
	return scale, -min
}

// makeQpQuants quantizes the positive values x (sub-block scales or mins)
// to codes 0..nmax with weights qw and returns the scale.
func makeQpQuants(n, nmax int, x []float32, L []uint8, qw []float32) float32 {
	x, L, qw = x[:n], L[:n], qw[:n]
	var max float32
	for _, v := range x {
		max = maxC(max, v)
	}
	if max < groupMaxEps {
		clear(L)
		return 0
	}
	fn := float32(nmax)
	iscale := fn / max
	for i, v := range x {
		L[i] = uint8(ni(iscale, v))
	}
	scale := 1 / iscale
	var bestMse float32
	for i, v := range x {
		diff := mad(-scale, float32(L[i]), v)
		bestMse = acc(bestMse, float32(qw[i]*diff), diff)
	}
	for is := -4; is <= 4; is++ {
		if is == 0 {
			continue
		}
		iscaleIs := mad(0.1, float32(is), fn) / max
		scaleIs := 1 / iscaleIs
		var mse float32
		for i, v := range x {
			l := min(int32(nmax), ni(iscaleIs, v))
			diff := mad(-scaleIs, float32(l), v)
			mse = acc(mse, float32(qw[i]*diff), diff)
		}
		if mse < bestMse {
			bestMse = mse
			iscale = iscaleIs
		}
	}
	var sumlx, suml2 float32
	for i, v := range x {
		l := min(int32(nmax), ni(iscale, v))
		L[i] = uint8(l)
		w := qw[i]
		fl := float32(l)
		sumlx = acc(sumlx, float32(w*v), fl)
		suml2 = acc(suml2, float32(w*fl), fl)
	}
	for itry := 0; itry < 5; itry++ {
		changed := 0
		for i, v := range x {
			w := qw[i]
			wx := float32(w * v)
			li := float32(L[i])
			slx := mad(-wx, li, sumlx)
			sl2 := mad(-float32(w*li), li, suml2)
			if slx > 0 && sl2 > 0 {
				newL := min(int32(nmax), nearestInt(float32(v*sl2)/slx))
				if newL != int32(L[i]) {
					fl := float32(newL)
					slx = acc(slx, wx, fl)
					sl2 = acc(sl2, float32(w*fl), fl)
					if float32(float32(slx*slx)*suml2) > float32(float32(sumlx*sumlx)*sl2) {
						L[i] = uint8(newL)
						sumlx, suml2 = slx, sl2
						changed++
					}
				}
			}
		}
		if changed == 0 {
			break
		}
	}
	if suml2 > 0 {
		return sumlx / suml2
	}
	return 0
}

// maxC is C's MAX(a, b) macro: ((a) > (b) ? (a) : (b)).
func maxC(a, b float32) float32 {
	if a > b {
		return a
	}
	return b
}
