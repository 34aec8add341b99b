package gguf

import (
	"errors"
	"strconv"
)

// ErrFormat is the sentinel every malformed-file error wraps: test with
// errors.Is(err, gguf.ErrFormat).
var ErrFormat = errors.New("gguf: invalid format")

// ErrClosed is returned by [File.Data] and [File.Section] after [File.Close].
var ErrClosed = errors.New("gguf: file already closed")

// FormatError reports a malformed GGUF file: which file, where, which field,
// and what is wrong. It unwraps to [ErrFormat] and, where there is one, to
// the underlying cause (io.ErrUnexpectedEOF for a truncated file).
type FormatError struct {
	File  string // name given to Open or Parse
	Off   int64  // byte offset in the file of the field at fault; -1 if none applies
	Field string // the field at fault, e.g. `magic`, `key "general.alignment"`, `tensor "output.weight" type`
	Msg   string // what is wrong with it
	Err   error  // underlying cause, or nil
}

func (e *FormatError) Error() string {
	s := "gguf: " + e.File + ": " + e.Field
	if e.Off >= 0 {
		s += " (offset " + strconv.FormatInt(e.Off, 10) + ")"
	}
	return s + ": " + e.Msg
}

// Unwrap returns ErrFormat and the underlying cause, if any.
func (e *FormatError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrFormat, e.Err}
	}
	return []error{ErrFormat}
}
