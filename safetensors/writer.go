package safetensors

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Writer writes a safetensors file as a stream: the tensor list (names,
// dtypes, shapes) is known up front, the header is written at once, and the
// tensors' bytes follow one by one, so a whole model never needs to be in
// memory.
type Writer struct {
	w       io.Writer
	tensors []TensorInfo
	next    int
	size    int64
	err     error // sticky write error
}

// NewWriter checks the tensor list, assigns data offsets in the given order
// (Begin and End of the input are ignored) and writes the 8-byte header
// length and the header to w. The header is compact JSON with __metadata__
// first (written when metadata is non-nil, keys sorted), then the tensors in
// the given order, padded with spaces to a multiple of 8 bytes: the style of
// the Rust reference writer, so that a file whose tensors are given sorted by
// name (or in the Rust writer's order) comes out byte-identical.
//
// Tensor names must be unique, valid UTF-8 and not "__metadata__"; dtypes
// must be valid; shapes non-negative and not overflowing int64.
func NewWriter(w io.Writer, metadata map[string]string, tensors []TensorInfo) (*Writer, error) {
	laid, dataLen, err := layout(tensors)
	if err != nil {
		return nil, err
	}
	hdr, err := encodeHeader(metadata, laid)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, 8, 8+len(hdr))
	binary.LittleEndian.PutUint64(buf, uint64(len(hdr)))
	buf = append(buf, hdr...)
	sw := &Writer{w: w, tensors: laid, size: int64(len(buf)) + dataLen}
	if _, err := w.Write(buf); err != nil {
		sw.err = err
		return nil, fmt.Errorf("safetensors: writing header: %w", err)
	}
	return sw, nil
}

// Tensors returns the tensors with their assigned data offsets, in file
// order. The slice must not be modified.
func (w *Writer) Tensors() []TensorInfo { return w.tensors }

// Size returns the total size of the file being written, in bytes.
func (w *Writer) Size() int64 { return w.size }

// WriteTensor writes the bytes of the next tensor. Tensors must be written in
// the order given to NewWriter, and len(data) must equal the tensor's byte
// size. After an error from the underlying writer every call fails.
func (w *Writer) WriteTensor(name string, data []byte) error {
	if w.err != nil {
		return w.err
	}
	if w.next >= len(w.tensors) {
		return fmt.Errorf("safetensors: WriteTensor(%q): all %d tensors already written", name, len(w.tensors))
	}
	t := w.tensors[w.next]
	if name != t.Name {
		return fmt.Errorf("safetensors: WriteTensor(%q): out of order, expected tensor %q", name, t.Name)
	}
	if int64(len(data)) != t.End-t.Begin {
		return fmt.Errorf("safetensors: WriteTensor(%q): got %d bytes, shape %v of %s needs %d",
			name, len(data), t.Shape, t.DType, t.End-t.Begin)
	}
	if _, err := w.w.Write(data); err != nil {
		w.err = fmt.Errorf("safetensors: writing tensor %q: %w", name, err)
		return w.err
	}
	w.next++
	return nil
}

// remaining returns the number of tensors not yet written.
func (w *Writer) remaining() int { return len(w.tensors) - w.next }

// errIncomplete is wrapped by Close when tensors are missing.
var errIncomplete = errors.New("safetensors: not all tensors written")

// Close checks that every tensor has been written. It does not close the
// underlying io.Writer.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	if r := w.remaining(); r > 0 {
		return fmt.Errorf("%w: %d of %d missing, next is %q", errIncomplete, r, len(w.tensors), w.tensors[w.next].Name)
	}
	return nil
}
