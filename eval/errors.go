package eval

import (
	"errors"
	"strconv"
)

// ErrFormat is the sentinel every malformed base-logits file error wraps:
// test with errors.Is(err, eval.ErrFormat).
var ErrFormat = errors.New("eval: invalid base-logits file")

// ErrText is wrapped by the errors of [ReadText] and [Tokenize] for text
// that cannot be evaluated: empty, not UTF-8, or too short.
var ErrText = errors.New("eval: unusable evaluation text")

// FormatError reports a malformed base-logits file: which file, where,
// which field and what is wrong. It unwraps to [ErrFormat] and, where there
// is one, to the underlying cause (io.ErrUnexpectedEOF for a truncated
// file).
type FormatError struct {
	File  string // path given to OpenBase
	Off   int64  // byte offset of the field at fault; -1 if none applies
	Field string // the field at fault, e.g. "n_vocab", "tokens[17]"
	Msg   string // what is wrong with it
	Err   error  // underlying cause, or nil
}

func (e *FormatError) Error() string {
	s := "eval: " + e.File + ": " + e.Field
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
