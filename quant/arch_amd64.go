//go:build amd64 && !noasm && !purego

package quant

//go:generate go run gen_amd64.go

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// f16Table holds the float32 value of every half-precision bit pattern;
// the assembly kernels convert block scales with it (as ggml-cpu does:
// a load is cheaper than VCVTPH2PS on a scalar).
var f16Table [1 << 16]float32

// Kernel levels: AVX2 needs FMA, F16C and BMI2 (PDEP) too; VNNI is AVX2
// plus AVX512_VNNI with AVX512VL (VPDPBUSD on YMM registers), used by the
// dot products of the 32-element formats. HasAVX2 and HasAVX512F are set
// only when the OS saves the registers; GODEBUG=cpu.avx512f=off selects
// the AVX2 level and cpu.avx2=off the Go kernels.
const (
	levelGo = iota
	levelAVX2
	levelVNNI
)

var levelNames = [...]string{levelGo: "go", levelAVX2: "avx2", levelVNNI: "vnni"}

func detectLevel() int {
	if !(cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasF16C && cpu.X86.HasBMI2) {
		return levelGo
	}
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512VNNI {
		return levelVNNI
	}
	return levelAVX2
}

// kernelLevels lists the implementations this CPU can run, for tests.
func kernelLevels() []string {
	names := []string{"go"}
	for l := levelAVX2; l <= detectLevel(); l++ {
		names = append(names, levelNames[l])
	}
	return names
}

// setLevel selects an implementation by name, for tests and benchmarks;
// it returns a function that restores the previous one.
func setLevel(name string) (restore func()) {
	old := curLevel
	for l, n := range levelNames {
		if n == name {
			useLevel(l)
		}
	}
	return func() { useLevel(old) }
}

var curLevel int

func setArchKernels() {
	for i := range f16Table {
		f16Table[i] = f16(uint16(i))
	}
	useLevel(detectLevel())
}

// blockDot adapts an assembly kernel over nb blocks of bs elements.
func blockDot(k func(x, y *byte, nb int) float32, bs int) func(n int, x, y []byte) float32 {
	return func(n int, x, y []byte) float32 {
		return k(unsafe.SliceData(x), unsafe.SliceData(y), n/bs)
	}
}

func useLevel(l int) {
	curLevel = l
	for _, f := range formats {
		f.dot, f.dequant, f.quant = f.dotG, f.dequantG, f.quantG
	}
	quantizeRowQ8_0Impl = quantizeRowQ8_0Go
	quantizeRowQ8_1Impl = quantizeRowQ8_1Go
	quantizeRowQ8KImpl = quantizeQ8K
	if l < levelAVX2 {
		applyGGMLOrder()
		return
	}
	Q8_0.quant = func(d []byte, x, _ []float32) { blockQuant(quantRefQ8_0AVX2)(d, x) }
	Q4_0.quant = withRef(blockQuant(quantRefQ4_0AVX2), quantizeQ4_0Impl)
	Q4_1.quant = withRef(blockQuant(quantRefQ4_1AVX2), quantizeQ4_1Impl)
	Q5_0.quant = withRef(blockQuant(quantRefQ5_0AVX2), quantizeQ5_0Impl)
	Q5_1.quant = withRef(blockQuant(quantRefQ5_1AVX2), quantizeQ5_1Impl)

	Q8_0.dot = blockDot(dotQ8_0AVX2, 32)
	Q4_0.dot = blockDot(dotQ4_0AVX2, 32)
	Q4_1.dot = blockDot(dotQ4_1AVX2, 32)
	Q5_0.dot = blockDot(dotQ5_0AVX2, 32)
	Q5_1.dot = blockDot(dotQ5_1AVX2, 32)
	IQ4_NL.dot = blockDot(dotIQ4NLAVX2, 32)
	if l >= levelVNNI {
		Q8_0.dot = blockDot(dotQ8_0VNNI, 32)
		Q4_0.dot = blockDot(dotQ4_0VNNI, 32)
		Q4_1.dot = blockDot(dotQ4_1VNNI, 32)
		Q5_0.dot = blockDot(dotQ5_0VNNI, 32)
		Q5_1.dot = blockDot(dotQ5_1VNNI, 32)
		IQ4_NL.dot = blockDot(dotIQ4NLVNNI, 32)
	}
	Q2_K.dot = blockDot(dotQ2KAVX2, 256)
	Q3_K.dot = blockDot(dotQ3KAVX2, 256)
	Q4_K.dot = blockDot(dotQ4KAVX2, 256)
	Q5_K.dot = blockDot(dotQ5KAVX2, 256)
	Q6_K.dot = blockDot(dotQ6KAVX2, 256)
	IQ4_XS.dot = blockDot(dotIQ4XSAVX2, 256)
	applyGGMLOrder()

	quantizeRowQ8_0Impl = func(dst []byte, x []float32) {
		if len(x) >= 32 {
			quantQ8_0AVX2(unsafe.SliceData(dst), unsafe.SliceData(x), len(x)/32)
		}
	}

	quantizeRowQ8KImpl = func(dst []byte, x []float32) {
		if len(x) >= 256 {
			quantQ8KAVX2(unsafe.SliceData(dst), unsafe.SliceData(x), len(x)/256)
		}
	}
	quantizeRowQ8_1Impl = func(dst []byte, x []float32) {
		if len(x) >= 32 {
			quantQ8_1AVX2(unsafe.SliceData(dst), unsafe.SliceData(x), len(x)/32)
		}
	}

	Q8_0.dequant = blockDequant(dequantQ8_0AVX2, 32)
	Q4_0.dequant = blockDequant(dequantQ4_0AVX2, 32)
	Q4_1.dequant = blockDequant(dequantQ4_1AVX2, 32)
	Q5_0.dequant = blockDequant(dequantQ5_0AVX2, 32)
	Q5_1.dequant = blockDequant(dequantQ5_1AVX2, 32)
	IQ4_NL.dequant = blockDequant(dequantIQ4NLAVX2, 32)
	Q2_K.dequant = blockDequant(dequantQ2KAVX2, 256)
	Q3_K.dequant = blockDequant(dequantQ3KAVX2, 256)
	Q4_K.dequant = blockDequant(dequantQ4KAVX2, 256)
	Q5_K.dequant = blockDequant(dequantQ5KAVX2, 256)
	Q6_K.dequant = blockDequant(dequantQ6KAVX2, 256)
	IQ4_XS.dequant = blockDequant(dequantIQ4XSAVX2, 256)
}

// blockQuant adapts an assembly quantizer of 32-element blocks.
func blockQuant(k func(dst *byte, x *float32, nb int)) func(dst []byte, x []float32) {
	return func(dst []byte, x []float32) {
		if len(x) >= 32 {
			k(unsafe.SliceData(dst), unsafe.SliceData(x), len(x)/32)
		}
	}
}

// blockDequant adapts an assembly dequantizer over whole blocks of bs
// elements.
func blockDequant(k func(y *float32, x *byte, nb int), bs int) func(y []float32, b []byte) {
	return func(y []float32, b []byte) {
		if len(y) >= bs {
			k(unsafe.SliceData(y), unsafe.SliceData(b), len(y)/bs)
		}
	}
}

var (
	quantizeRowQ8_0Impl = quantizeRowQ8_0Go
	quantizeRowQ8_1Impl = quantizeRowQ8_1Go
	quantizeRowQ8KImpl  = quantizeQ8K
)

func quantizeRowQ8_0(dst []byte, x []float32) { quantizeRowQ8_0Impl(dst, x) }
func quantizeRowQ8_1(dst []byte, x []float32) { quantizeRowQ8_1Impl(dst, x) }
func quantizeRowQ8K(dst []byte, x []float32)  { quantizeRowQ8KImpl(dst, x) }

//go:noescape
func dotQ8_0AVX2(x, y *byte, nb int) float32

//go:noescape
func dotQ4_0AVX2(x, y *byte, nb int) float32

//go:noescape
func dotQ4_1AVX2(x, y *byte, nb int) float32

//go:noescape
func dotQ5_0AVX2(x, y *byte, nb int) float32

//go:noescape
func dotQ5_1AVX2(x, y *byte, nb int) float32

//go:noescape
func dotIQ4NLAVX2(x, y *byte, nb int) float32

//go:noescape
func dotQ2KAVX2(x, y *byte, nb int) float32

//go:noescape
func dotQ3KAVX2(x, y *byte, nb int) float32

//go:noescape
func dotQ4KAVX2(x, y *byte, nb int) float32

//go:noescape
func dotQ5KAVX2(x, y *byte, nb int) float32

//go:noescape
func dotQ6KAVX2(x, y *byte, nb int) float32

//go:noescape
func dotIQ4XSAVX2(x, y *byte, nb int) float32

//go:noescape
func dequantQ8_0AVX2(y *float32, x *byte, nb int)

//go:noescape
func dequantQ4_0AVX2(y *float32, x *byte, nb int)

//go:noescape
func dequantQ4_1AVX2(y *float32, x *byte, nb int)

//go:noescape
func dequantQ5_0AVX2(y *float32, x *byte, nb int)

//go:noescape
func dequantQ5_1AVX2(y *float32, x *byte, nb int)

//go:noescape
func dequantIQ4NLAVX2(y *float32, x *byte, nb int)

//go:noescape
func dequantQ2KAVX2(y *float32, x *byte, nb int)

//go:noescape
func dequantQ3KAVX2(y *float32, x *byte, nb int)

//go:noescape
func dequantQ4KAVX2(y *float32, x *byte, nb int)

//go:noescape
func dequantQ5KAVX2(y *float32, x *byte, nb int)

//go:noescape
func dequantQ6KAVX2(y *float32, x *byte, nb int)

//go:noescape
func dequantIQ4XSAVX2(y *float32, x *byte, nb int)

//go:noescape
func quantQ8_0AVX2(dst *byte, x *float32, nb int)

//go:noescape
func quantQ8_1AVX2(dst *byte, x *float32, nb int)

//go:noescape
func quantRefQ8_0AVX2(dst *byte, x *float32, nb int)

//go:noescape
func quantRefQ4_0AVX2(dst *byte, x *float32, nb int)

//go:noescape
func quantRefQ4_1AVX2(dst *byte, x *float32, nb int)

//go:noescape
func quantRefQ5_0AVX2(dst *byte, x *float32, nb int)

//go:noescape
func quantRefQ5_1AVX2(dst *byte, x *float32, nb int)

//go:noescape
func kPairStepsAVX2(s *kSearch)

//go:noescape
func requantAVX2(a *requantArgs)

//go:noescape
func qxPairStepsAVX2(s *qxSearch)

// The search and requantization kernels are called directly (not through
// func values) so that their argument structs stay on the stack.

func kPairSteps(s *kSearch) {
	if curLevel >= levelAVX2 {
		kPairStepsAVX2(s)
		return
	}
	kPairStepsGo(s)
}

func qxPairSteps(s *qxSearch) {
	if curLevel >= levelAVX2 {
		qxPairStepsAVX2(s)
		return
	}
	qxPairStepsGo(s)
}

func requant(a *requantArgs) {
	if curLevel >= levelAVX2 {
		requantAVX2(a)
		return
	}
	requantGo(a)
}

//go:noescape
func quantQ8KAVX2(dst *byte, x *float32, nb int)

func q3InitPair(x *float32, s *q3Init) {
	if curLevel >= levelAVX2 {
		q3InitPairAVX2(x, s)
		return
	}
	q3InitPairGo(x, s)
}

//go:noescape
func q3InitPairAVX2(x *float32, s *q3Init)

func q3Pack(dst []byte, L []int8) {
	if curLevel >= levelAVX2 {
		q3PackAVX2(&dst[:q3KBytes][0], &L[:qkK][0])
		return
	}
	q3PackGo(dst, L)
}

//go:noescape
func q3PackAVX2(dst *byte, L *int8)

//go:noescape
func dotQ8_0VNNI(x, y *byte, nb int) float32

//go:noescape
func dotQ4_0VNNI(x, y *byte, nb int) float32

//go:noescape
func dotQ4_1VNNI(x, y *byte, nb int) float32

//go:noescape
func dotQ5_0VNNI(x, y *byte, nb int) float32

//go:noescape
func dotQ5_1VNNI(x, y *byte, nb int) float32

//go:noescape
func dotIQ4NLVNNI(x, y *byte, nb int) float32

func q3Cand(x, w, wx *float32, L *int32, sumlx, suml2 float32, newL *int32) uint32 {
	if curLevel >= levelAVX2 {
		return q3CandAVX2(x, w, wx, L, sumlx, suml2, newL)
	}
	return q3CandGo(x, w, wx, L, sumlx, suml2, newL)
}

//go:noescape
func q3CandAVX2(x, w, wx *float32, L *int32, sumlx, suml2 float32, newL *int32) uint32

// resetKernels reapplies the current kernel level.
func resetKernels() { useLevel(curLevel) }
