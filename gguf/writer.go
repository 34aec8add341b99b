package gguf

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"unicode/utf8"
)

// Writer streams a GGUF v3 file: the metadata and tensor infos are known up
// front and written by [NewWriter]; the tensor data follows one tensor at a
// time, in the order of the infos, so the whole model is never in memory.
//
// The writer lays tensors out contiguously in the given order, each at the
// next multiple of the alignment, zero-padding after each tensor (the last
// included) as gguf.cpp and gguf-py do. It writes exactly the KVs it is
// given: general.alignment is written only if the caller includes it.
type Writer struct {
	w       *bufio.Writer
	tensors []TensorInfo
	align   uint64
	next    int   // index of the next tensor to write
	written int64 // bytes written so far
	err     error // sticky
	closed  bool
}

// NewWriter validates kvs and tensors, computes the tensor offsets (the
// Offset fields of tensors are ignored) and writes the header, metadata,
// tensor infos and padding to w.
//
// alignment 0 means the value of the general.alignment KV if present (it
// must then be a u32 power of two), else 32. A non-zero alignment must equal
// that KV's value, or be 32 when there is no such KV: the writer never adds
// the key itself, and readers assume 32 without it.
//
// The KVs and infos must pass the checks the reader makes: unique non-empty
// UTF-8 keys of at most MaxKeyLen bytes, values whose Go types match their
// ValueType, UTF-8 strings, arrays nested at most MaxArrayDepth deep;
// unique UTF-8 tensor names of at most MaxNameLen bytes, at most MaxDims
// dimensions, known types and row lengths that are multiples of the block
// size.
func NewWriter(w io.Writer, kvs []KV, tensors []TensorInfo, alignment int) (*Writer, error) {
	align, err := writerAlignment(kvs, alignment)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(kvs))
	for i, kv := range kvs {
		if err := checkKey(kv.Key); err != nil {
			return nil, fmt.Errorf("gguf: key %d %q: %v", i, kv.Key, err)
		}
		if seen[kv.Key] {
			return nil, fmt.Errorf("gguf: duplicate key %q", kv.Key)
		}
		seen[kv.Key] = true
		if err := kv.Value.check(0); err != nil {
			return nil, fmt.Errorf("gguf: key %q: %v", kv.Key, err)
		}
	}
	ts := make([]TensorInfo, len(tensors))
	names := make(map[string]bool, len(tensors))
	var off uint64
	for i, t := range tensors {
		if err := checkTensor(t); err != nil {
			return nil, fmt.Errorf("gguf: tensor %d %q: %v", i, t.Name, err)
		}
		if names[t.Name] {
			return nil, fmt.Errorf("gguf: duplicate tensor name %q", t.Name)
		}
		names[t.Name] = true
		t.Shape = append([]uint64(nil), t.Shape...)
		t.Offset = off
		size := t.Size()
		if size > math.MaxInt64-align || off > math.MaxInt64-align-size {
			return nil, fmt.Errorf("gguf: tensor %q: data section exceeds 2^63 bytes", t.Name)
		}
		off += size + padLen(size, align)
		ts[i] = t
	}

	wr := &Writer{w: bufio.NewWriterSize(w, 256<<10), tensors: ts, align: align}
	e := &encoder{w: wr.w}
	e.raw([]byte(Magic))
	e.u32(Version)
	e.u64(uint64(len(ts)))
	e.u64(uint64(len(kvs)))
	for _, kv := range kvs {
		e.str(kv.Key)
		e.u32(uint32(kv.Value.Type))
		e.value(kv.Value)
	}
	for _, t := range ts {
		e.str(t.Name)
		e.u32(uint32(len(t.Shape)))
		for _, d := range t.Shape {
			e.u64(d)
		}
		e.u32(uint32(t.Type))
		e.u64(t.Offset)
	}
	if len(ts) > 0 { // gguf.cpp reads the padding only when there are tensors
		e.zeros(padLen(e.n, align))
	}
	wr.written = int64(e.n)
	if e.err != nil {
		return nil, e.err
	}
	return wr, nil
}

func writerAlignment(kvs []KV, alignment int) (uint64, error) {
	var fromKV uint64
	for _, kv := range kvs {
		if kv.Key != KeyAlignment {
			continue
		}
		a, ok := kv.Value.V.(uint32)
		if kv.Value.Type != ValueUint32 || !ok {
			return 0, fmt.Errorf("gguf: %s must be a u32, got a %v", KeyAlignment, kv.Value.Type)
		}
		if a == 0 || a&(a-1) != 0 {
			return 0, fmt.Errorf("gguf: %s %d is not a power of two", KeyAlignment, a)
		}
		fromKV = uint64(a)
	}
	switch {
	case alignment < 0 || int64(alignment) > math.MaxUint32 || alignment&(alignment-1) != 0:
		return 0, fmt.Errorf("gguf: alignment %d is not a power of two", alignment)
	case alignment == 0 && fromKV != 0:
		return fromKV, nil
	case alignment == 0:
		return DefaultAlignment, nil
	case fromKV != 0 && fromKV != uint64(alignment):
		return 0, fmt.Errorf("gguf: alignment %d conflicts with %s = %d", alignment, KeyAlignment, fromKV)
	case fromKV == 0 && alignment != DefaultAlignment:
		return 0, fmt.Errorf("gguf: alignment %d needs a %s KV (u32), or readers will assume %d",
			alignment, KeyAlignment, DefaultAlignment)
	}
	return uint64(alignment), nil
}

func checkKey(k string) error {
	switch {
	case k == "":
		return errors.New("empty key")
	case len(k) > MaxKeyLen:
		return fmt.Errorf("key of %d bytes exceeds %d", len(k), MaxKeyLen)
	case !utf8.ValidString(k):
		return errors.New("key is not valid UTF-8")
	}
	return nil
}

func checkTensor(t TensorInfo) error {
	switch {
	case len(t.Name) > MaxNameLen:
		return fmt.Errorf("name of %d bytes exceeds %d", len(t.Name), MaxNameLen)
	case !utf8.ValidString(t.Name):
		return errors.New("name is not valid UTF-8")
	case len(t.Shape) > MaxDims:
		return fmt.Errorf("%d dimensions, more than %d", len(t.Shape), MaxDims)
	case !t.Type.Known():
		return fmt.Errorf("unknown ggml type id %d", uint32(t.Type))
	}
	if _, ok := t.checkedElements(); !ok {
		return fmt.Errorf("number of elements of shape %v overflows int64", t.Shape)
	}
	if _, err := t.Type.RowSize(int64(t.ne(0))); err != nil {
		return err
	}
	if _, ok := t.checkedSize(); !ok {
		return fmt.Errorf("size of %v %v overflows int64", t.Type, t.Shape)
	}
	return nil
}

// Tensors returns the tensor infos with the offsets the writer assigned.
func (w *Writer) Tensors() []TensorInfo { return w.tensors }

// Alignment returns the alignment the writer uses.
func (w *Writer) Alignment() uint64 { return w.align }

func (w *Writer) begin(name string) (TensorInfo, error) {
	if w.err != nil {
		return TensorInfo{}, w.err
	}
	if w.closed {
		return TensorInfo{}, errors.New("gguf: write after Close")
	}
	if w.next >= len(w.tensors) {
		return TensorInfo{}, fmt.Errorf("gguf: tensor %q: all %d tensors already written", name, len(w.tensors))
	}
	t := w.tensors[w.next]
	if t.Name != name {
		return TensorInfo{}, fmt.Errorf("gguf: tensor %q written out of order: next is %q", name, t.Name)
	}
	return t, nil
}

func (w *Writer) end(size uint64) error {
	pad := padLen(size, w.align)
	for k := pad; k > 0; {
		n := min(k, uint64(len(zeroPad)))
		if _, err := w.w.Write(zeroPad[:n]); err != nil {
			w.err = err
			return err
		}
		k -= n
	}
	w.written += int64(size + pad)
	w.next++
	return nil
}

// WriteTensor writes the data of the named tensor, which must be the next
// one in the order given to NewWriter, with exactly its Size bytes.
func (w *Writer) WriteTensor(name string, data []byte) error {
	t, err := w.begin(name)
	if err != nil {
		return err
	}
	if uint64(len(data)) != t.Size() {
		return fmt.Errorf("gguf: tensor %q: got %d bytes, want %d for %v %v", name, len(data), t.Size(), t.Type, t.Shape)
	}
	if _, err := w.w.Write(data); err != nil {
		w.err = err
		return err
	}
	return w.end(t.Size())
}

// WriteTensorFrom copies the data of the named tensor, which must be the next
// one, from r: exactly its Size bytes.
func (w *Writer) WriteTensorFrom(name string, r io.Reader) error {
	t, err := w.begin(name)
	if err != nil {
		return err
	}
	n, err := io.CopyN(w.w, r, int64(t.Size()))
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = fmt.Errorf("gguf: tensor %q: reader gave %d bytes, want %d", name, n, t.Size())
		}
		w.err = err
		return err
	}
	return w.end(t.Size())
}

// Close flushes the output. It fails if any tensor's data was not written.
// It does not close the underlying io.Writer.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.err != nil {
		return w.err
	}
	if w.next < len(w.tensors) {
		w.err = fmt.Errorf("gguf: Close with %d of %d tensors unwritten (next %q)",
			len(w.tensors)-w.next, len(w.tensors), w.tensors[w.next].Name)
		w.w.Flush()
		return w.err
	}
	w.err = w.w.Flush()
	return w.err
}

// encoder writes little-endian fields, remembering the first error.
type encoder struct {
	w   *bufio.Writer
	n   uint64
	err error
	b   [8]byte
}

func (e *encoder) raw(b []byte) {
	if e.err != nil {
		return
	}
	_, e.err = e.w.Write(b)
	e.n += uint64(len(b))
}

var zeroPad [4096]byte

func (e *encoder) zeros(n uint64) {
	for n > 0 {
		k := min(n, uint64(len(zeroPad)))
		e.raw(zeroPad[:k])
		n -= k
	}
}

func (e *encoder) u8(v uint8) { e.b[0] = v; e.raw(e.b[:1]) }
func (e *encoder) u16(v uint16) {
	binary.LittleEndian.PutUint16(e.b[:], v)
	e.raw(e.b[:2])
}
func (e *encoder) u32(v uint32) {
	binary.LittleEndian.PutUint32(e.b[:], v)
	e.raw(e.b[:4])
}
func (e *encoder) u64(v uint64) {
	binary.LittleEndian.PutUint64(e.b[:], v)
	e.raw(e.b[:8])
}

func (e *encoder) str(s string) {
	e.u64(uint64(len(s)))
	if e.err != nil {
		return
	}
	_, e.err = e.w.WriteString(s)
	e.n += uint64(len(s))
}

func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// value writes v's payload (not its type); v has passed check.
func (e *encoder) value(v Value) {
	switch x := v.V.(type) {
	case uint8:
		e.u8(x)
	case int8:
		e.u8(uint8(x))
	case uint16:
		e.u16(x)
	case int16:
		e.u16(uint16(x))
	case uint32:
		e.u32(x)
	case int32:
		e.u32(uint32(x))
	case float32:
		e.u32(math.Float32bits(x))
	case bool:
		e.u8(b2u(x))
	case string:
		e.str(x)
	case uint64:
		e.u64(x)
	case int64:
		e.u64(uint64(x))
	case float64:
		e.u64(math.Float64bits(x))
	case Array:
		e.array(x)
	default:
		panic("gguf: unchecked value " + strconv.Quote(fmt.Sprintf("%T", x)))
	}
}

func (e *encoder) array(a Array) {
	e.u32(uint32(a.Elem))
	e.u64(uint64(a.Len()))
	switch s := a.V.(type) {
	case []uint8:
		e.raw(s)
	case []int8:
		for _, x := range s {
			e.u8(uint8(x))
		}
	case []uint16:
		for _, x := range s {
			e.u16(x)
		}
	case []int16:
		for _, x := range s {
			e.u16(uint16(x))
		}
	case []uint32:
		for _, x := range s {
			e.u32(x)
		}
	case []int32:
		for _, x := range s {
			e.u32(uint32(x))
		}
	case []float32:
		for _, x := range s {
			e.u32(math.Float32bits(x))
		}
	case []bool:
		for _, x := range s {
			e.u8(b2u(x))
		}
	case []string:
		for _, x := range s {
			e.str(x)
		}
	case []uint64:
		for _, x := range s {
			e.u64(x)
		}
	case []int64:
		for _, x := range s {
			e.u64(uint64(x))
		}
	case []float64:
		for _, x := range s {
			e.u64(math.Float64bits(x))
		}
	case []Array:
		for _, x := range s {
			e.array(x)
		}
	}
}
