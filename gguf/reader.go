package gguf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits enforced by the parser (and by the writer, so that what it writes
// reads back).
const (
	// Magic is the first four bytes of every GGUF file.
	Magic = "GGUF"
	// Version is the version the writer produces; the reader accepts 2 and 3.
	Version = 3
	// MaxKeyLen is the longest metadata key, in bytes.
	MaxKeyLen = 65535
	// MaxNameLen is the longest tensor name, in bytes: ggml's GGML_MAX_NAME
	// (64) counts the terminating NUL, so gguf.cpp refuses names of 64 bytes
	// or more.
	MaxNameLen = 63
	// MaxDims is the most dimensions a tensor may have (GGML_MAX_DIMS).
	MaxDims = 4
	// MaxArrayDepth is how deeply arrays may nest: an array of scalars is
	// depth 1, an array of such arrays depth 2.
	MaxArrayDepth = 8
	// DefaultAlignment is the alignment of tensor data when the file has no
	// general.alignment key.
	DefaultAlignment = 32
	// KeyAlignment is the metadata key that sets the alignment (a u32).
	KeyAlignment = "general.alignment"
)

// Minimum encoded sizes, used to bound counts read from a file before
// anything is allocated from them.
const (
	minKVSize     = 8 + 4 + 1     // empty key, value type, one-byte value
	minTensorSize = 8 + 4 + 4 + 8 // empty name, n_dims=0, type, offset
	windowSize    = 64 << 10      // read-ahead of the ReaderAt decoder
)

// decoder is a bounds-checked little-endian cursor over a file. When the
// whole file is in memory (mmap or ParseBytes) buf is the file and r is nil;
// otherwise buf is a window refilled from r.
type decoder struct {
	name string
	r    io.ReaderAt
	size int64
	buf  []byte
	base int64 // file offset of buf[0]
	pos  int   // cursor within buf
}

// ioError marks an error from the underlying ReaderAt, which is passed to
// the caller as it is rather than as a FormatError.
type ioError struct{ err error }

func (e *ioError) Error() string { return e.err.Error() }

// shortError is an internal error: the file ends before a field does.
type shortError struct {
	need, left int64
}

func (e *shortError) Error() string {
	return "file truncated: need " + strconv.FormatInt(e.need, 10) + " bytes, " +
		strconv.FormatInt(e.left, 10) + " left"
}

func (d *decoder) off() int64  { return d.base + int64(d.pos) }
func (d *decoder) left() int64 { return d.size - d.off() }

// next returns the next n bytes and advances past them. The slice is valid
// until the next call. n is checked against the bytes left in the file
// before anything is read or allocated.
func (d *decoder) next(n int64) ([]byte, error) {
	if n < 0 || n > d.left() {
		return nil, &shortError{n, d.left()}
	}
	if int64(len(d.buf)-d.pos) < n {
		if d.r == nil { // cannot happen: buf is the whole file
			return nil, &shortError{n, int64(len(d.buf) - d.pos)}
		}
		if err := d.fill(n); err != nil {
			return nil, err
		}
	}
	b := d.buf[d.pos : d.pos+int(n)]
	d.pos += int(n)
	return b, nil
}

// fill refills the window so that it holds at least n bytes from the
// cursor; n has been checked against the file size.
func (d *decoder) fill(n int64) error {
	off := d.off()
	want := max(n, min(windowSize, d.left()))
	if int64(cap(d.buf)) < want {
		d.buf = make([]byte, want)
	}
	d.buf = d.buf[:want]
	m, err := d.r.ReadAt(d.buf, off)
	if int64(m) < want {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return &ioError{fmt.Errorf("gguf: %s: read at offset %d: %w", d.name, off, err)}
	}
	d.base, d.pos = off, 0
	return nil
}

func (d *decoder) u32() (uint32, error) {
	b, err := d.next(4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (d *decoder) u64() (uint64, error) {
	b, err := d.next(8)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

// str reads a string of at most maxLen bytes (and never more than the file
// holds) that must be valid UTF-8.
func (d *decoder) str(maxLen int64) (string, error) {
	n, err := d.u64()
	if err != nil {
		return "", err
	}
	if n > uint64(maxLen) {
		return "", fmt.Errorf("string length %d exceeds the limit of %d bytes", n, maxLen)
	}
	if n > uint64(d.left()) {
		return "", fmt.Errorf("string length %d exceeds the %d bytes left in the file", n, d.left())
	}
	b, err := d.next(int64(n))
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", errors.New("string is not valid UTF-8")
	}
	return string(b), nil
}

// Parse reads the header, metadata and tensor infos of the GGUF file held by
// r, of size bytes, and validates them (see the package documentation for
// every check). name is used in error messages and as File.Path. Tensor
// data is not read: [File.Data] reads it from r on demand, so r must stay
// usable while the File is. Errors from malformed input are *[FormatError].
func Parse(name string, r io.ReaderAt, size int64) (*File, error) {
	if size < 0 {
		return nil, fmt.Errorf("gguf: %s: negative size %d", name, size)
	}
	d := &decoder{name: name, r: r, size: size}
	f, err := parse(d)
	if err != nil {
		return nil, err
	}
	f.r = r
	return f, nil
}

// ParseBytes is like [Parse] for a file held in memory; [File.Data] returns
// sub-slices of b without copying.
func ParseBytes(name string, b []byte) (*File, error) {
	d := &decoder{name: name, buf: b, size: int64(len(b))}
	f, err := parse(d)
	if err != nil {
		return nil, err
	}
	f.data = b
	return f, nil
}

// formatErr builds a *FormatError; a *shortError becomes a truncation
// error wrapping io.ErrUnexpectedEOF. I/O errors pass through unchanged.
func (d *decoder) formatErr(off int64, field string, err error) error {
	var se *shortError
	var ie *ioError
	switch {
	case errors.As(err, &ie):
		return ie.err
	case errors.As(err, &se):
		return &FormatError{File: d.name, Off: off, Field: field, Msg: err.Error(), Err: io.ErrUnexpectedEOF}
	}
	return &FormatError{File: d.name, Off: off, Field: field, Msg: err.Error()}
}

func (d *decoder) fail(off int64, field, format string, args ...any) error {
	return &FormatError{File: d.name, Off: off, Field: field, Msg: fmt.Sprintf(format, args...)}
}

func parse(d *decoder) (*File, error) {
	f := &File{Path: d.name, Size: d.size}

	// Header.
	b, err := d.next(4)
	if err != nil {
		return nil, d.formatErr(0, "magic", err)
	}
	if string(b) != Magic {
		return nil, d.fail(0, "magic", "got %q, want %q: not a GGUF file", b, Magic)
	}
	if f.Version, err = d.u32(); err != nil {
		return nil, d.formatErr(4, "version", err)
	}
	switch v := f.Version; {
	case v == 1:
		return nil, d.fail(4, "version", "GGUF v1 (32-bit counts and lengths, 2023) is not supported; "+
			"re-convert the model with a current llama.cpp to get v3")
	case v == 2 || v == 3:
	case bits.ReverseBytes32(v) == 2 || bits.ReverseBytes32(v) == 3:
		return nil, d.fail(4, "version", "%#x looks like a big-endian GGUF v%d file, which is not supported",
			v, bits.ReverseBytes32(v))
	default:
		return nil, d.fail(4, "version", "unsupported version %d (want 2 or 3)", v)
	}
	nTensors, err := d.u64()
	if err != nil {
		return nil, d.formatErr(8, "tensor_count", err)
	}
	nKV, err := d.u64()
	if err != nil {
		return nil, d.formatErr(16, "metadata_kv_count", err)
	}
	left := uint64(d.left())
	if nTensors > left/minTensorSize {
		return nil, d.fail(8, "tensor_count", "%d tensor infos cannot fit in the %d bytes left in the file", nTensors, left)
	}
	if nKV > left/minKVSize || nKV*minKVSize+nTensors*minTensorSize > left {
		return nil, d.fail(16, "metadata_kv_count", "%d key-value pairs and %d tensor infos cannot fit in the %d bytes left in the file",
			nKV, nTensors, left)
	}

	// Metadata.
	f.KVs = make([]KV, 0, nKV)
	f.kvIndex = make(map[string]int, nKV)
	alignOff := int64(-1)
	for i := range nKV {
		off := d.off()
		key, err := d.str(MaxKeyLen)
		if err != nil {
			return nil, d.formatErr(off, fmt.Sprintf("key %d", i), err)
		}
		field := "key " + strconv.Quote(key)
		if key == "" {
			return nil, d.fail(off, fmt.Sprintf("key %d", i), "empty key")
		}
		if j, dup := f.kvIndex[key]; dup {
			return nil, d.fail(off, field, "duplicate key (also key %d)", j)
		}
		voff := d.off()
		vt, err := d.u32()
		if err != nil {
			return nil, d.formatErr(voff, field+" value type", err)
		}
		v, err := d.value(ValueType(vt), 0)
		if err != nil {
			return nil, d.formatErr(voff, field+" value", err)
		}
		if key == KeyAlignment {
			alignOff = voff
		}
		f.kvIndex[key] = len(f.KVs)
		f.KVs = append(f.KVs, KV{key, v})
	}

	// Alignment.
	f.Alignment = DefaultAlignment
	if i, ok := f.kvIndex[KeyAlignment]; ok {
		v := f.KVs[i].Value
		a, isU32 := v.V.(uint32)
		if !isU32 {
			return nil, d.fail(alignOff, "key "+strconv.Quote(KeyAlignment), "must be a u32, got a %v", v.Type)
		}
		if a == 0 || a&(a-1) != 0 {
			return nil, d.fail(alignOff, "key "+strconv.Quote(KeyAlignment), "alignment %d is not a power of two", a)
		}
		f.Alignment = uint64(a)
	}

	// Tensor infos.
	f.Tensors = make([]TensorInfo, 0, nTensors)
	f.tensorIndex = make(map[string]int, nTensors)
	for i := range nTensors {
		ti, err := d.tensorInfo(i, f)
		if err != nil {
			return nil, err
		}
		f.tensorIndex[ti.Name] = len(f.Tensors)
		f.Tensors = append(f.Tensors, ti)
	}

	// Data section: after padding to the alignment, as gguf.cpp does only
	// when there are tensors.
	infoEnd := d.off()
	f.DataOffset = infoEnd
	if nTensors > 0 {
		pad := padLen(uint64(infoEnd), f.Alignment)
		if pad > uint64(d.size-infoEnd) {
			return nil, d.fail(infoEnd, "data section", "padding to alignment %d runs past the end of the file (%d bytes)",
				f.Alignment, d.size)
		}
		f.DataOffset = infoEnd + int64(pad)
	}
	if err := checkLayout(d, f); err != nil {
		return nil, err
	}
	return f, nil
}

func padLen(off, align uint64) uint64 { return (align - off%align) % align }

func (d *decoder) tensorInfo(i uint64, f *File) (TensorInfo, error) {
	off := d.off()
	var ti TensorInfo
	name, err := d.str(MaxNameLen)
	if err != nil {
		return ti, d.formatErr(off, fmt.Sprintf("tensor %d name", i), err)
	}
	field := "tensor " + strconv.Quote(name)
	if j, dup := f.tensorIndex[name]; dup {
		return ti, d.fail(off, field, "duplicate tensor name (also tensor %d)", j)
	}
	ti.Name = name

	off = d.off()
	nd, err := d.u32()
	if err != nil {
		return ti, d.formatErr(off, field+" n_dims", err)
	}
	if nd > MaxDims {
		return ti, d.fail(off, field+" n_dims", "%d dimensions, more than the maximum of %d", nd, MaxDims)
	}
	ti.Shape = make([]uint64, nd)
	for j := range ti.Shape {
		off = d.off()
		if ti.Shape[j], err = d.u64(); err != nil {
			return ti, d.formatErr(off, fmt.Sprintf("%s ne[%d]", field, j), err)
		}
		if ti.Shape[j] > math.MaxInt64 {
			return ti, d.fail(off, fmt.Sprintf("%s ne[%d]", field, j), "dimension %d does not fit in an int64", ti.Shape[j])
		}
	}
	if _, ok := ti.checkedElements(); !ok {
		return ti, d.fail(off, field+" shape", "number of elements of shape %v overflows int64", ti.Shape)
	}

	off = d.off()
	typ, err := d.u32()
	if err != nil {
		return ti, d.formatErr(off, field+" type", err)
	}
	ti.Type = Type(typ)
	if !ti.Type.Known() {
		return ti, d.fail(off, field+" type", "unknown ggml type id %d", typ)
	}
	if bs := uint64(ti.Type.BlockSize()); ti.ne(0)%bs != 0 {
		return ti, d.fail(off, field+" type", "ne[0]=%d is not a multiple of the %v block size %d", ti.ne(0), ti.Type, bs)
	}
	if _, ok := ti.checkedSize(); !ok {
		return ti, d.fail(off, field+" shape", "size in bytes of %v %v overflows int64", ti.Type, ti.Shape)
	}

	off = d.off()
	if ti.Offset, err = d.u64(); err != nil {
		return ti, d.formatErr(off, field+" offset", err)
	}
	if ti.Offset%f.Alignment != 0 {
		return ti, d.fail(off, field+" offset", "data offset %d is not a multiple of the alignment %d", ti.Offset, f.Alignment)
	}
	return ti, nil
}

// checkLayout checks that every tensor's data lies inside the file and that
// no two tensors overlap.
func checkLayout(d *decoder, f *File) error {
	dataLen := uint64(d.size - f.DataOffset)
	order := make([]int, len(f.Tensors))
	for i := range order {
		order[i] = i
	}
	for _, ti := range f.Tensors {
		size := ti.Size()
		if ti.Offset > dataLen || size > dataLen-ti.Offset {
			return d.fail(f.DataOffset+int64(min(ti.Offset, dataLen)), "tensor "+strconv.Quote(ti.Name)+" data",
				"%d bytes at data offset %d run past the end of the file (data section is %d bytes)", size, ti.Offset, dataLen)
		}
	}
	sort.Slice(order, func(a, b int) bool {
		ta, tb := f.Tensors[order[a]], f.Tensors[order[b]]
		if ta.Offset != tb.Offset {
			return ta.Offset < tb.Offset
		}
		return ta.Size() < tb.Size()
	})
	for k := 1; k < len(order); k++ {
		prev, cur := f.Tensors[order[k-1]], f.Tensors[order[k]]
		if cur.Offset < prev.Offset+prev.Size() {
			return d.fail(f.DataOffset+int64(cur.Offset), "tensor "+strconv.Quote(cur.Name)+" data",
				"bytes [%d, %d) overlap tensor %q at [%d, %d)", cur.Offset, cur.Offset+cur.Size(),
				prev.Name, prev.Offset, prev.Offset+prev.Size())
		}
	}
	return nil
}

// value reads a value of type t; depth is the number of arrays enclosing it.
func (d *decoder) value(t ValueType, depth int) (Value, error) {
	if sz := t.size(); sz > 0 {
		b, err := d.next(int64(sz))
		if err != nil {
			return Value{}, err
		}
		v, err := scalar(t, b)
		return Value{t, v}, err
	}
	switch t {
	case ValueString:
		s, err := d.str(math.MaxInt64)
		return Value{t, s}, err
	case ValueArray:
		a, err := d.array(depth + 1)
		return Value{t, a}, err
	}
	return Value{}, fmt.Errorf("unknown value type %d", uint32(t))
}

func scalar(t ValueType, b []byte) (any, error) {
	le := binary.LittleEndian
	switch t {
	case ValueUint8:
		return b[0], nil
	case ValueInt8:
		return int8(b[0]), nil
	case ValueUint16:
		return le.Uint16(b), nil
	case ValueInt16:
		return int16(le.Uint16(b)), nil
	case ValueUint32:
		return le.Uint32(b), nil
	case ValueInt32:
		return int32(le.Uint32(b)), nil
	case ValueFloat32:
		return math.Float32frombits(le.Uint32(b)), nil
	case ValueBool:
		if b[0] > 1 {
			return nil, fmt.Errorf("bool byte is %d, not 0 or 1", b[0])
		}
		return b[0] == 1, nil
	case ValueUint64:
		return le.Uint64(b), nil
	case ValueInt64:
		return int64(le.Uint64(b)), nil
	case ValueFloat64:
		return math.Float64frombits(le.Uint64(b)), nil
	}
	panic("unreachable")
}

// array reads an array's element type, count and elements. The count is
// checked against the bytes left in the file before the slice is made.
func (d *decoder) array(depth int) (Array, error) {
	if depth > MaxArrayDepth {
		return Array{}, fmt.Errorf("arrays nested deeper than %d", MaxArrayDepth)
	}
	et, err := d.u32()
	if err != nil {
		return Array{}, err
	}
	elem := ValueType(et)
	if !elem.Valid() {
		return Array{}, fmt.Errorf("unknown array element type %d", et)
	}
	n, err := d.u64()
	if err != nil {
		return Array{}, err
	}
	if n > uint64(d.left())/uint64(elem.minSize()) {
		return Array{}, fmt.Errorf("array of %d %v elements cannot fit in the %d bytes left in the file", n, elem, d.left())
	}
	a := Array{Elem: elem}
	switch elem {
	case ValueString:
		a.V, err = d.strings(int(n))
	case ValueArray:
		as := make([]Array, n)
		for i := range as {
			if as[i], err = d.array(depth + 1); err != nil {
				return Array{}, fmt.Errorf("element %d: %w", i, err)
			}
		}
		a.V = as
	default:
		a.V, err = d.numbers(elem, int(n))
	}
	if err != nil {
		return Array{}, err
	}
	return a, nil
}

// strings reads n strings into one shared backing string.
func (d *decoder) strings(n int) ([]string, error) {
	ends := make([]int, n)
	var arena strings.Builder
	if d.r == nil {
		arena.Grow(d.stringsLen(n))
	}
	for i := range n {
		l, err := d.u64()
		if err != nil {
			return nil, err
		}
		if l > uint64(d.left()) {
			return nil, fmt.Errorf("element %d: string length %d exceeds the %d bytes left in the file", i, l, d.left())
		}
		b, err := d.next(int64(l))
		if err != nil {
			return nil, err
		}
		if !utf8.Valid(b) {
			return nil, fmt.Errorf("element %d: string is not valid UTF-8", i)
		}
		arena.Write(b)
		ends[i] = arena.Len()
	}
	all := arena.String()
	out := make([]string, n)
	start := 0
	for i, e := range ends {
		out[i] = all[start:e]
		start = e
	}
	return out, nil
}

// stringsLen returns the total length of the next n strings when the whole
// file is in memory, by walking their length fields; 0 if they run past the
// end (the caller then reports the error).
func (d *decoder) stringsLen(n int) int {
	p, total := d.pos, uint64(0)
	for range n {
		if len(d.buf)-p < 8 {
			return 0
		}
		l := binary.LittleEndian.Uint64(d.buf[p:])
		if l > uint64(len(d.buf)-p-8) {
			return 0
		}
		p += 8 + int(l)
		total += l
	}
	return int(total)
}

// numbers reads n fixed-size elements in chunks of at most one window.
func (d *decoder) numbers(t ValueType, n int) (any, error) {
	sz := t.size()
	chunk := windowSize / sz
	le := binary.LittleEndian
	switch t {
	case ValueUint8, ValueInt8, ValueBool:
		out := make([]uint8, n)
		for i := 0; i < n; i += chunk {
			k := min(chunk, n-i)
			b, err := d.next(int64(k))
			if err != nil {
				return nil, err
			}
			copy(out[i:], b)
		}
		switch t {
		case ValueInt8:
			s := make([]int8, n)
			for i, v := range out {
				s[i] = int8(v)
			}
			return s, nil
		case ValueBool:
			s := make([]bool, n)
			for i, v := range out {
				if v > 1 {
					return nil, fmt.Errorf("element %d: bool byte is %d, not 0 or 1", i, v)
				}
				s[i] = v == 1
			}
			return s, nil
		}
		return out, nil
	}
	var out any
	var put func(i int, b []byte)
	switch t {
	case ValueUint16:
		s := make([]uint16, n)
		out, put = s, func(i int, b []byte) { s[i] = le.Uint16(b) }
	case ValueInt16:
		s := make([]int16, n)
		out, put = s, func(i int, b []byte) { s[i] = int16(le.Uint16(b)) }
	case ValueUint32:
		s := make([]uint32, n)
		out, put = s, func(i int, b []byte) { s[i] = le.Uint32(b) }
	case ValueInt32:
		s := make([]int32, n)
		out, put = s, func(i int, b []byte) { s[i] = int32(le.Uint32(b)) }
	case ValueFloat32:
		s := make([]float32, n)
		out, put = s, func(i int, b []byte) { s[i] = math.Float32frombits(le.Uint32(b)) }
	case ValueUint64:
		s := make([]uint64, n)
		out, put = s, func(i int, b []byte) { s[i] = le.Uint64(b) }
	case ValueInt64:
		s := make([]int64, n)
		out, put = s, func(i int, b []byte) { s[i] = int64(le.Uint64(b)) }
	case ValueFloat64:
		s := make([]float64, n)
		out, put = s, func(i int, b []byte) { s[i] = math.Float64frombits(le.Uint64(b)) }
	default:
		panic("unreachable")
	}
	for i := 0; i < n; i += chunk {
		k := min(chunk, n-i)
		b, err := d.next(int64(k * sz))
		if err != nil {
			return nil, err
		}
		for j := range k {
			put(i+j, b[j*sz:])
		}
	}
	return out, nil
}
