package gguf

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"strconv"
)

// TensorInfo describes one tensor of a GGUF file.
type TensorInfo struct {
	Name   string
	Shape  []uint64 // ggml order: ne[0], the row length, first
	Type   Type
	Offset uint64 // from the start of the data section
}

// ne returns ne[j], which is 1 past the stored dimensions.
func (t TensorInfo) ne(j int) uint64 {
	if j < len(t.Shape) {
		return t.Shape[j]
	}
	return 1
}

// NumElements returns the product of the dimensions (1 for no dimensions).
func (t TensorInfo) NumElements() uint64 {
	n, _ := t.checkedElements()
	return n
}

// Size returns the number of bytes of the tensor's data: NumElements /
// BlockSize × TypeSize. It is 0 for an unknown type. For a TensorInfo from a
// parsed File it never overflows.
func (t TensorInfo) Size() uint64 {
	n, _ := t.checkedSize()
	return n
}

func (t TensorInfo) checkedElements() (uint64, bool) {
	n := uint64(1)
	for _, d := range t.Shape {
		hi, lo := bits.Mul64(n, d)
		if hi != 0 || lo > math.MaxInt64 {
			return 0, false
		}
		n = lo
	}
	return n, true
}

// checkedSize returns the size in bytes, and false if the type is unknown,
// ne[0] is not a multiple of the block size, or the row size or any larger
// stride (ggml's nb[1..3]) overflows int64.
func (t TensorInfo) checkedSize() (uint64, bool) {
	bs, ts := uint64(t.Type.BlockSize()), uint64(t.Type.TypeSize())
	if _, ok := t.checkedElements(); !ok || bs == 0 || t.ne(0)%bs != 0 {
		return 0, false
	}
	size := uint64(0)
	for j := range max(len(t.Shape), 1) {
		var hi uint64
		if j == 0 {
			hi, size = bits.Mul64(t.ne(0)/bs, ts)
		} else {
			hi, size = bits.Mul64(size, t.Shape[j])
		}
		if hi != 0 || size > math.MaxInt64 {
			return 0, false
		}
	}
	return size, true
}

// File is a parsed GGUF file: its metadata and tensor infos, in file order,
// and access to the tensor data.
type File struct {
	Path       string       // name given to Open or Parse
	Version    uint32       // 2 or 3
	KVs        []KV         // metadata in file order
	Tensors    []TensorInfo // tensor infos in file order
	Alignment  uint64       // of tensor data: general.alignment, or 32
	DataOffset int64        // absolute offset of the data section
	Size       int64        // size of the file in bytes

	kvIndex     map[string]int
	tensorIndex map[string]int

	data   []byte      // whole file when mmapped or from ParseBytes
	r      io.ReaderAt // when not in memory
	unmap  func() error
	osFile *os.File
	closed bool
}

// Open opens and parses the GGUF file at path. The file is mapped read-only
// into memory where the OS allows it (falling back to ReadAt), so that
// [File.Data] returns tensor data without copying. Call [File.Close] when
// done.
func Open(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, err
	}
	size := st.Size()
	var f *File
	if data, unmap, merr := mmapFile(fh, size); merr == nil {
		f, err = ParseBytes(path, data)
		if err != nil {
			unmap()
			fh.Close()
			return nil, err
		}
		f.unmap = unmap
	} else {
		f, err = Parse(path, fh, size)
		if err != nil {
			fh.Close()
			return nil, err
		}
	}
	f.osFile = fh
	return f, nil
}

// Close unmaps and closes the file. Slices returned by [File.Data] for a
// file from Open must not be used after Close. Metadata stays readable.
func (f *File) Close() error {
	if f.closed {
		return nil
	}
	f.closed = true
	var err error
	if f.unmap != nil {
		err = f.unmap()
		f.unmap = nil
	}
	f.data = nil
	if f.osFile != nil {
		if cerr := f.osFile.Close(); err == nil {
			err = cerr
		}
		f.osFile = nil
	}
	f.r = nil
	return err
}

// Get returns the value of the metadata key.
func (f *File) Get(key string) (Value, bool) {
	i, ok := f.kvIndex[key]
	if !ok {
		return Value{}, false
	}
	return f.KVs[i].Value, true
}

// String returns the string value of key; ok is false if the key is
// missing or not a string.
func (f *File) String(key string) (string, bool) {
	v, _ := f.Get(key)
	return v.AsString()
}

// Uint returns the value of key if it is an integer of any width or
// signedness and not negative.
func (f *File) Uint(key string) (uint64, bool) {
	v, _ := f.Get(key)
	return v.AsUint()
}

// Int returns the value of key if it is an integer that fits in an int64.
func (f *File) Int(key string) (int64, bool) {
	v, _ := f.Get(key)
	return v.AsInt()
}

// Float returns the value of key if it is a float32 or float64.
func (f *File) Float(key string) (float64, bool) {
	v, _ := f.Get(key)
	return v.AsFloat()
}

// Bool returns the value of key if it is a bool.
func (f *File) Bool(key string) (bool, bool) {
	v, _ := f.Get(key)
	return v.AsBool()
}

// Strings returns the value of key if it is an array of strings.
func (f *File) Strings(key string) ([]string, bool) {
	v, _ := f.Get(key)
	return v.AsStrings()
}

// Array returns the value of key if it is an array.
func (f *File) Array(key string) (Array, bool) {
	v, _ := f.Get(key)
	return v.AsArray()
}

// Arch returns general.architecture ("llama"), or "" if it is absent.
func (f *File) Arch() string {
	s, _ := f.String("general.architecture")
	return s
}

// Tensor returns the info of the named tensor.
func (f *File) Tensor(name string) (TensorInfo, bool) {
	i, ok := f.tensorIndex[name]
	if !ok {
		return TensorInfo{}, false
	}
	return f.Tensors[i], true
}

func (f *File) locate(name string) (TensorInfo, int64, error) {
	if f.closed {
		return TensorInfo{}, 0, ErrClosed
	}
	ti, ok := f.Tensor(name)
	if !ok {
		return TensorInfo{}, 0, fmt.Errorf("gguf: %s: no tensor %s", f.Path, strconv.Quote(name))
	}
	return ti, f.DataOffset + int64(ti.Offset), nil
}

// Data returns the bytes of the named tensor. For a file from [Open] (when
// mapped) or [ParseBytes] the slice aliases the file without copying; a
// mapped file is read-only, so the slice must not be written to, nor used
// after Close. For a file from [Parse] the data is read into a new slice.
func (f *File) Data(name string) ([]byte, error) {
	ti, off, err := f.locate(name)
	if err != nil {
		return nil, err
	}
	n := int64(ti.Size())
	if f.data != nil {
		return f.data[off : off+n : off+n], nil
	}
	b := make([]byte, n)
	if _, err := f.r.ReadAt(b, off); err != nil {
		return nil, fmt.Errorf("gguf: %s: reading tensor %q: %w", f.Path, name, err)
	}
	return b, nil
}

// Section returns a reader of the named tensor's bytes, for streaming a
// tensor without holding it in memory. Like the slices from Data, it must
// not be used after Close.
func (f *File) Section(name string) (*io.SectionReader, error) {
	ti, off, err := f.locate(name)
	if err != nil {
		return nil, err
	}
	r := f.r
	if f.data != nil {
		r = bytesReaderAt(f.data)
	}
	return io.NewSectionReader(r, off, int64(ti.Size())), nil
}

type bytesReaderAt []byte

func (b bytesReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("gguf: negative offset")
	}
	if off >= int64(len(b)) {
		return 0, io.EOF
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
