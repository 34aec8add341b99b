package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// File is an open safetensors file. Its exported fields are filled by Open or
// FromBytes and must not be modified. A File is safe for concurrent use by
// several goroutines until Close.
type File struct {
	// Path is the name given to Open or FromBytes, used in every error.
	Path string
	// Metadata is the header's __metadata__ map, nil when the header has none
	// (or has "__metadata__":null).
	Metadata map[string]string
	// Tensors lists the tensors sorted by data offset (Begin), which is the
	// order of the data section. Files written by the Rust reference writer
	// and by lmc's Writer list tensors in the header in that same order.
	Tensors []TensorInfo
	// DataOffset is the file offset of the data section: 8 + header length.
	DataOffset int64
	// Size is the file size in bytes.
	Size int64

	index  map[string]int
	data   []byte   // the whole file when mapped or in memory
	mapped bool     // data is an mmap to unmap on Close
	fh     *os.File // ReadAt fallback when mmap failed
	closed bool
}

// mmapHook maps a file read-only; tests replace it to exercise the fallback.
var mmapHook = mmapFile

// Open opens and validates the safetensors file at path. The file is mapped
// into memory read-only and lazily: Open reads only the header, and tensor
// bytes are paged in when Data's slices are touched. Where mmap is not
// available or fails, Open falls back to reading tensors with ReadAt.
//
// Every defect of the file is reported as a *FormatError (see doc.go for the
// checks). When the file is a PyTorch pickle checkpoint, the error is a
// *PickleError instead.
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
	if data, merr := mmapHook(fh, size); merr == nil {
		fh.Close()
		f, err = parse(path, data, nil, size)
		if err != nil {
			munmap(data)
		} else {
			f.mapped = true
		}
	} else {
		f, err = parse(path, nil, fh, size)
		if err != nil {
			fh.Close()
		}
	}
	if err != nil {
		var fe *FormatError
		if errors.As(err, &fe) {
			if perr := CheckNotPickle(path); errors.Is(perr, ErrPickle) {
				return nil, perr
			}
		}
		return nil, err
	}
	return f, nil
}

// FromBytes parses a safetensors file held in memory (for example embedded
// with go:embed). Data returns sub-slices of data, which must not be modified
// while the File is in use. name is used in errors.
func FromBytes(name string, data []byte) (*File, error) {
	f, err := parse(name, data, nil, int64(len(data)))
	if err != nil {
		var fe *FormatError
		if errors.As(err, &fe) {
			if kind, ok := detectPickle(bytes.NewReader(data), int64(len(data))); ok {
				return nil, newPickleError(name, kind)
			}
		}
		return nil, err
	}
	return f, nil
}

// parse reads the header either from data (the whole file) or through fh.
func parse(name string, data []byte, fh *os.File, size int64) (*File, error) {
	if size < 8 {
		return nil, &FormatError{File: name, Off: 0, Field: "header length",
			Msg: fmt.Sprintf("file is %d bytes, shorter than the 8-byte header length", size)}
	}
	var prefix [8]byte
	if data != nil {
		copy(prefix[:], data)
	} else if _, err := fh.ReadAt(prefix[:], 0); err != nil {
		return nil, fmt.Errorf("safetensors: %s: %w", name, err)
	}
	n := binary.LittleEndian.Uint64(prefix[:])
	switch {
	case n > MaxHeaderSize:
		return nil, &FormatError{File: name, Off: 0, Field: "header length",
			Msg: fmt.Sprintf("%d exceeds the %d-byte limit", n, MaxHeaderSize)}
	case n > uint64(size-8):
		return nil, &FormatError{File: name, Off: 0, Field: "header length",
			Msg: fmt.Sprintf("%d is larger than the %d bytes after it in the file", n, size-8)}
	}
	var hdr []byte
	if data != nil {
		hdr = data[8 : 8+n]
	} else {
		hdr = make([]byte, n) // n ≤ MaxHeaderSize and ≤ the file size
		if _, err := fh.ReadAt(hdr, 8); err != nil {
			return nil, fmt.Errorf("safetensors: %s: reading header: %w", name, err)
		}
	}
	dataOff := 8 + int64(n)
	tensors, meta, err := parseHeader(name, hdr, size-dataOff)
	if err != nil {
		return nil, err
	}
	f := &File{Path: name, Metadata: meta, Tensors: tensors, DataOffset: dataOff, Size: size,
		index: make(map[string]int, len(tensors)), data: data, fh: fh}
	for i, t := range tensors {
		f.index[t.Name] = i
	}
	return f, nil
}

// Tensor returns the description of the named tensor.
func (f *File) Tensor(name string) (TensorInfo, bool) {
	i, ok := f.index[name]
	if !ok {
		return TensorInfo{}, false
	}
	return f.Tensors[i], true
}

func (f *File) lookup(name string) (TensorInfo, error) {
	if f.closed {
		return TensorInfo{}, fmt.Errorf("%w: %s", ErrClosed, f.Path)
	}
	i, ok := f.index[name]
	if !ok {
		return TensorInfo{}, fmt.Errorf("%w: %q in %s", ErrNotFound, name, f.Path)
	}
	return f.Tensors[i], nil
}

// Data returns the bytes of the named tensor (little-endian, row-major).
// For a mapped or in-memory file it is a zero-copy, read-only view (writing
// to it faults for a mapped file) that stays valid until Close; its capacity
// is its length. In the ReadAt fallback each call reads a fresh copy.
func (f *File) Data(name string) ([]byte, error) {
	t, err := f.lookup(name)
	if err != nil {
		return nil, err
	}
	start, end := f.DataOffset+t.Begin, f.DataOffset+t.End
	if f.data != nil {
		return f.data[start:end:end], nil
	}
	if end-start > math.MaxInt {
		return nil, fmt.Errorf("safetensors: %s: tensor %q: %d bytes do not fit in memory", f.Path, name, end-start)
	}
	buf := make([]byte, end-start) // bounded by the validated file size
	if _, err := f.fh.ReadAt(buf, start); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF // the file shrank after Open
		}
		return nil, fmt.Errorf("safetensors: %s: tensor %q: %w", f.Path, name, err)
	}
	return buf, nil
}

// Section returns a reader of the named tensor's bytes, for streaming large
// tensors without holding them in memory (useful in the ReadAt fallback).
func (f *File) Section(name string) (*io.SectionReader, error) {
	t, err := f.lookup(name)
	if err != nil {
		return nil, err
	}
	var ra io.ReaderAt = f.fh
	if f.data != nil {
		ra = bytes.NewReader(f.data)
	}
	return io.NewSectionReader(ra, f.DataOffset+t.Begin, t.End-t.Begin), nil
}

// Mapped reports whether the file's bytes are memory-mapped (or in memory,
// for FromBytes), so that Data is zero-copy.
func (f *File) Mapped() bool { return f.data != nil }

// Close releases the mapping or the file descriptor. Slices returned by Data
// for a mapped file must not be used after Close. Close is idempotent.
func (f *File) Close() error {
	if f.closed {
		return nil
	}
	f.closed = true
	var err error
	if f.mapped {
		err = munmap(f.data)
	}
	if f.fh != nil {
		if cerr := f.fh.Close(); err == nil {
			err = cerr
		}
	}
	f.data, f.fh = nil, nil
	return err
}
