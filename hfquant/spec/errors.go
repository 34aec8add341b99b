package spec

import (
	"errors"
	"strings"
)

// ErrFormat is the sentinel every [*FormatError] unwraps to: a quantized
// checkpoint's config or tensors do not follow the convention they claim.
var ErrFormat = errors.New("hfquant: invalid quantized checkpoint")

// ErrUnsupported is wrapped by the errors for valid checkpoints lmc does
// not read (another quant_method, format or strategy).
var ErrUnsupported = errors.New("hfquant: unsupported quantization")

// FormatError reports a defect in a quantized checkpoint, naming the file
// (or folder), the tensor and the field at fault.
type FormatError struct {
	File   string // config.json or the model folder
	Tensor string // tensor or module at fault; "" for the config
	Field  string // "quantization_config.bits", "shape", "dtype", ...
	Msg    string
	Err    error // optional cause (ErrUnsupported, a JSON error)
}

func (e *FormatError) Error() string {
	var b strings.Builder
	b.WriteString("hfquant: ")
	b.WriteString(e.File)
	if e.Tensor != "" {
		b.WriteString(": tensor ")
		b.WriteString(e.Tensor)
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

// Unwrap returns ErrFormat and, when set, the cause.
func (e *FormatError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrFormat, e.Err}
	}
	return []error{ErrFormat}
}
