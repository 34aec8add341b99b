//go:build !amd64 || noasm || purego

package quant

var levelNames = [...]string{"go"}

// setArchKernels keeps the pure-Go kernels.
func setArchKernels() {}

// resetKernels restores the pure-Go kernels.
func resetKernels() {
	for _, f := range formats {
		f.dot = f.dotG
	}
	applyGGMLOrder()
}

func kernelLevels() []string { return []string{"go"} }

func setLevel(string) (restore func()) { return func() {} }

func quantizeRowQ8_0(dst []byte, x []float32) { quantizeRowQ8_0Go(dst, x) }

func quantizeRowQ8_1(dst []byte, x []float32) { quantizeRowQ8_1Go(dst, x) }

func kPairSteps(s *kSearch)   { kPairStepsGo(s) }
func qxPairSteps(s *qxSearch) { qxPairStepsGo(s) }
func requant(a *requantArgs)  { requantGo(a) }

func quantizeRowQ8K(dst []byte, x []float32) { quantizeQ8K(dst, x) }

func q3InitPair(x *float32, s *q3Init) { q3InitPairGo(x, s) }

func q3Pack(dst []byte, L []int8) { q3PackGo(dst, L) }

func q3Cand(x, w, wx *float32, L *int32, sumlx, suml2 float32, newL *int32) uint32 {
	return q3CandGo(x, w, wx, L, sumlx, suml2, newL)
}
