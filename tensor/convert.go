package tensor

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"unsafe"
)

// Errors returned by [Convert], [DecodeF32] and [EncodeF32]; test for them
// with errors.Is.
var (
	// ErrUnsupported means a dtype is not one of the float types
	// F32, F16, BF16, F64, F8_E4M3 and F8_E5M2.
	ErrUnsupported = errors.New("tensor: unsupported dtype for float conversion")
	// ErrLength means a buffer does not hold a whole number of elements,
	// or dst and src hold different numbers of elements.
	ErrLength = errors.New("tensor: buffer length mismatch")
)

// chunkElems is the number of float32s Convert stages on the stack when
// neither side is F32 (8 KiB: stays in L1).
const chunkElems = 2048

// nativeLE reports whether this machine is little-endian, so that a
// []float32 or []uint16 has the same bytes as its little-endian encoding.
var nativeLE = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// bytesAt returns the n bytes at p+off as a slice.
func bytesAt(p unsafe.Pointer, off, n int) []byte {
	return unsafe.Slice((*byte)(unsafe.Add(p, off)), n)
}

// F16ToF32Slice sets dst[i] = F16ToF32(src[i]) for every i in src. It panics
// if dst is shorter than src.
func F16ToF32Slice(dst []float32, src []uint16) {
	if len(dst) < len(src) {
		panic("tensor: F16ToF32Slice: len(dst) < len(src)")
	}
	if len(src) == 0 {
		return
	}
	if !nativeLE {
		f16ToF32Go(dst, src)
		return
	}
	kF16ToF32(unsafe.Pointer(&dst[0]), unsafe.Pointer(&src[0]), len(src))
}

// F32ToF16Slice sets dst[i] = F32ToF16(src[i]) for every i in src. It panics
// if dst is shorter than src.
func F32ToF16Slice(dst []uint16, src []float32) {
	if len(dst) < len(src) {
		panic("tensor: F32ToF16Slice: len(dst) < len(src)")
	}
	if len(src) == 0 {
		return
	}
	if !nativeLE {
		f32ToF16Go(dst, src)
		return
	}
	kF32ToF16(unsafe.Pointer(&dst[0]), unsafe.Pointer(&src[0]), len(src))
}

// BF16ToF32Slice sets dst[i] = BF16ToF32(src[i]) for every i in src. It
// panics if dst is shorter than src.
func BF16ToF32Slice(dst []float32, src []uint16) {
	if len(dst) < len(src) {
		panic("tensor: BF16ToF32Slice: len(dst) < len(src)")
	}
	if len(src) == 0 {
		return
	}
	if !nativeLE {
		bf16ToF32Go(dst, src)
		return
	}
	kBF16ToF32(unsafe.Pointer(&dst[0]), unsafe.Pointer(&src[0]), len(src))
}

// F32ToBF16Slice sets dst[i] = F32ToBF16(src[i]) for every i in src. It
// panics if dst is shorter than src.
func F32ToBF16Slice(dst []uint16, src []float32) {
	if len(dst) < len(src) {
		panic("tensor: F32ToBF16Slice: len(dst) < len(src)")
	}
	if len(src) == 0 {
		return
	}
	if !nativeLE {
		f32ToBF16Go(dst, src)
		return
	}
	kF32ToBF16(unsafe.Pointer(&dst[0]), unsafe.Pointer(&src[0]), len(src))
}

// checkSizes validates a conversion of src (dtype st) into dst (dtype dt)
// and returns the element count.
func checkSizes(op string, dstLen int, dt DType, srcLen int, st DType) (int, error) {
	if !st.IsFloat() || !dt.IsFloat() {
		return 0, fmt.Errorf("tensor: %s %v to %v: %w", op, st, dt, ErrUnsupported)
	}
	if srcLen%st.Size() != 0 {
		return 0, fmt.Errorf("tensor: %s %v to %v: source of %d bytes is not a whole number of %d-byte elements: %w",
			op, st, dt, srcLen, st.Size(), ErrLength)
	}
	n := srcLen / st.Size()
	if dstLen != n*dt.Size() {
		return 0, fmt.Errorf("tensor: %s %v to %v: destination has %d bytes, want %d for %d elements: %w",
			op, st, dt, dstLen, n*dt.Size(), n, ErrLength)
	}
	return n, nil
}

// Convert converts the little-endian elements of src, of dtype st, into
// dst as dtype dt. Both must be float dtypes (F32, F16, BF16, F64, F8_E4M3,
// F8_E5M2); len(src) must be a multiple of st.Size() and len(dst) must be
// exactly len(src)/st.Size()*dt.Size(). Each element is converted as by the
// scalar functions (see the package documentation for rounding and special
// values); narrowing from F64 rounds once. dst and src must not overlap
// unless st == dt. The error wraps [ErrUnsupported] or [ErrLength]; dst is
// untouched when there is an error.
func Convert(dst []byte, dt DType, src []byte, st DType) error {
	n, err := checkSizes("convert", len(dst), dt, len(src), st)
	if err != nil || n == 0 {
		return err
	}
	switch {
	case st == dt:
		copy(dst, src)
	case st == F32:
		encodeLE(dst, dt, src)
	case dt == F32:
		decodeLE(dst, src, st, false)
	default:
		// Stage through float32 (little-endian bytes) a chunk at a time,
		// in a 4-byte-aligned buffer so the Go loops can use typed views.
		var words [chunkElems]uint32
		buf := bytesAt(unsafe.Pointer(&words), 0, 4*chunkElems)
		ss, ds := st.Size(), dt.Size()
		for i := 0; i < n; i += chunkElems {
			m := min(chunkElems, n-i)
			decodeLE(buf[:4*m], src[i*ss:(i+m)*ss], st, true)
			encodeLE(dst[i*ds:(i+m)*ds], dt, buf[:4*m])
		}
	}
	return nil
}

// DecodeF32 converts the little-endian elements of src, of float dtype st,
// to float32: len(src) must be len(dst)*st.Size(). F64 values are rounded
// to nearest even (float32(x)); every other type widens exactly. The error
// wraps [ErrUnsupported] or [ErrLength].
func DecodeF32(dst []float32, src []byte, st DType) error {
	n, err := checkSizes("decode", 4*len(dst), F32, len(src), st)
	if err != nil || n == 0 {
		return err
	}
	if nativeLE {
		decodeLE(bytesAt(unsafe.Pointer(&dst[0]), 0, 4*n), src, st, false)
		return nil
	}
	var words [chunkElems]uint32
	buf := bytesAt(unsafe.Pointer(&words), 0, 4*chunkElems)
	for i := 0; i < n; i += chunkElems {
		m := min(chunkElems, n-i)
		decodeLE(buf[:4*m], src[i*st.Size():(i+m)*st.Size()], st, false)
		for j := range m {
			dst[i+j] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*j:]))
		}
	}
	return nil
}

// EncodeF32 converts src to float dtype dt, writing little-endian elements
// to dst: len(dst) must be len(src)*dt.Size(). The error wraps
// [ErrUnsupported] or [ErrLength].
func EncodeF32(dst []byte, dt DType, src []float32) error {
	n, err := checkSizes("encode", len(dst), dt, 4*len(src), F32)
	if err != nil || n == 0 {
		return err
	}
	if nativeLE {
		encodeLE(dst, dt, bytesAt(unsafe.Pointer(&src[0]), 0, 4*n))
		return nil
	}
	var words [chunkElems]uint32
	buf := bytesAt(unsafe.Pointer(&words), 0, 4*chunkElems)
	for i := 0; i < n; i += chunkElems {
		m := min(chunkElems, n-i)
		for j := range m {
			binary.LittleEndian.PutUint32(buf[4*j:], math.Float32bits(src[i+j]))
		}
		encodeLE(dst[i*dt.Size():(i+m)*dt.Size()], dt, buf[:4*m])
	}
	return nil
}

// decodeLE converts src (dtype st) to little-endian float32s in dst, which
// has room for exactly as many elements. With odd set, F64 is rounded to
// odd for a second rounding (see f64ToF32Odd).
func decodeLE(dst, src []byte, st DType, odd bool) {
	n := len(dst) / 4
	switch st {
	case F32:
		copy(dst, src)
	case F16:
		kF16ToF32(unsafe.Pointer(&dst[0]), unsafe.Pointer(&src[0]), n)
	case BF16:
		kBF16ToF32(unsafe.Pointer(&dst[0]), unsafe.Pointer(&src[0]), n)
	case F64:
		f64ToF32LE(dst, src, odd)
	case F8E4M3:
		f8ToF32LE(dst, src, &f8e4m3Bits)
	case F8E5M2:
		f8ToF32LE(dst, src, &f8e5m2Bits)
	default:
		panic("tensor: decodeLE: " + st.String())
	}
}

// encodeLE converts little-endian float32s in src to dtype dt in dst, which
// has room for exactly as many elements.
func encodeLE(dst []byte, dt DType, src []byte) {
	n := len(src) / 4
	switch dt {
	case F32:
		copy(dst, src)
	case F16:
		kF32ToF16(unsafe.Pointer(&dst[0]), unsafe.Pointer(&src[0]), n)
	case BF16:
		kF32ToBF16(unsafe.Pointer(&dst[0]), unsafe.Pointer(&src[0]), n)
	case F64:
		f32ToF64LE(dst, src)
	case F8E4M3:
		f32ToF8E4M3LE(dst, src)
	case F8E5M2:
		f32ToF8E5M2LE(dst, src)
	default:
		panic("tensor: encodeLE: " + dt.String())
	}
}
