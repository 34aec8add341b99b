package safetensors

import (
	"errors"
	"fmt"
	"strings"
)

// ErrFormat is the sentinel that every [*FormatError] unwraps to: the bytes
// are not a valid safetensors file (or index) as lmc reads it.
var ErrFormat = errors.New("safetensors: invalid format")

// ErrUnsupportedDType is wrapped, besides [ErrFormat], by the [*FormatError]
// returned for a dtype that the safetensors spec defines but lmc cannot
// represent (F4, F6_E2M3, F6_E3M2, F8_E8M0, F8_E4M3FNUZ, F8_E5M2FNUZ, C64).
// The file may be valid; lmc just has no element type for it.
var ErrUnsupportedDType = errors.New("dtype not supported by lmc")

// ErrNotFound is returned (wrapped) by Data and Section when no tensor has the
// requested name.
var ErrNotFound = errors.New("safetensors: tensor not found")

// ErrClosed is returned (wrapped) by accessors called after Close.
var ErrClosed = errors.New("safetensors: file already closed")

// A FormatError reports a defect in a safetensors file or index. It names the
// file, the byte offset where the defect was found when there is one, the
// tensor and the header field at fault.
type FormatError struct {
	File   string // file name as given to Open, FromBytes or OpenModel
	Off    int64  // byte offset in the file, or -1 when the defect has no single position
	Tensor string // tensor at fault; "" when the defect is not in one tensor entry
	Field  string // header field at fault: "header length", "dtype", "shape", "data_offsets", "__metadata__", ...
	Msg    string // what is wrong
	Err    error  // optional cause (ErrUnsupportedDType, a JSON syntax error, ...); may be nil
}

func (e *FormatError) Error() string {
	var b strings.Builder
	b.WriteString("safetensors: ")
	b.WriteString(e.File)
	if e.Off >= 0 {
		fmt.Fprintf(&b, ": offset %d", e.Off)
	}
	if e.Tensor != "" || e.Field == "name" {
		fmt.Fprintf(&b, ": tensor %q", e.Tensor)
	}
	if e.Field != "" {
		b.WriteString(": ")
		b.WriteString(e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns ErrFormat and, when set, the cause Err, so that both
// errors.Is(err, ErrFormat) and errors.Is(err, ErrUnsupportedDType) work.
func (e *FormatError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrFormat, e.Err}
	}
	return []error{ErrFormat}
}
