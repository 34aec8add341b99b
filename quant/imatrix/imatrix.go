package imatrix

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
)

// ErrFormat is the sentinel every malformed-file error wraps.
var ErrFormat = errors.New("imatrix: invalid format")

// ErrMismatch is wrapped by [Matrix.Check]'s errors: the matrix was
// computed for another model (names or sizes do not match).
var ErrMismatch = errors.New("importance matrix does not match the model")

// FormatError reports a defect in an importance-matrix file. It unwraps to
// ErrFormat and, where there is one, to the cause.
type FormatError struct {
	File  string // path or name given to Read or Parse
	Entry string // weight name at fault; "" for the header
	Field string // "n_entries", "nval", "in_sum2", "imatrix.chunk_size", …
	Msg   string
	Err   error
}

func (e *FormatError) Error() string {
	var b strings.Builder
	b.WriteString("imatrix: ")
	b.WriteString(e.File)
	if e.Entry != "" {
		b.WriteString(": entry ")
		b.WriteString(e.Entry)
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

// Unwrap returns ErrFormat and the cause, if any.
func (e *FormatError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrFormat, e.Err}
	}
	return []error{ErrFormat}
}

// Entry is the activation statistics of one weight: for each of its
// matrices (1, or the experts of a stacked MoE weight), Cols sums of
// squares and the number of activation rows summed.
type Entry struct {
	Cols int
	// Sum2 holds Mats()×Cols sums of squared activations (in_sum2).
	Sum2 []float32
	// Sum holds the plain sums (in_sum), or nil when not recorded.
	Sum []float32
	// Counts holds the number of activation rows per matrix.
	Counts []float32
}

// Mats is the number of matrices (experts) of the entry.
func (e *Entry) Mats() int { return len(e.Counts) }

// Weights returns the mean squared activation of every column (Mats()×Cols
// values), llama-quantize's importance weights: Sum2/Counts, or 1 for a
// matrix whose count is 0.
func (e *Entry) Weights() []float32 {
	w := make([]float32, len(e.Sum2))
	for m, c := range e.Counts {
		row := w[m*e.Cols : (m+1)*e.Cols]
		if c > 0 {
			for j := range row {
				row[j] = e.Sum2[m*e.Cols+j] / c
			}
		} else {
			for j := range row {
				row[j] = 1
			}
		}
	}
	return w
}

// Matrix is an importance matrix: statistics per weight tensor (GGUF names,
// "blk.0.attn_q.weight") and what they were computed on.
type Matrix struct {
	// Datasets lists the calibration files, oldest first.
	Datasets []string
	// ChunkCount is the number of chunks of text seen and ChunkSize their
	// length in tokens.
	ChunkCount int
	ChunkSize  int
	Entries    map[string]*Entry
}

// Names returns the entry names, sorted.
func (m *Matrix) Names() []string {
	names := make([]string, 0, len(m.Entries))
	for n := range m.Entries {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Weights returns the importance weights of the named tensor (see
// [Entry.Weights]), or nil when the matrix has no entry for it.
func (m *Matrix) Weights(name string) []float32 {
	if m == nil {
		return nil
	}
	e, ok := m.Entries[name]
	if !ok {
		return nil
	}
	return e.Weights()
}

// Tensor describes a model weight for [Matrix.Check]: its name, the length
// of its rows (input columns) and its number of stacked matrices (experts;
// 1 for a dense weight).
type Tensor struct {
	Name string
	Cols int
	Mats int
}

// Check verifies that m belongs to a model with these weights: every
// entry must name one of them and have exactly Cols×Mats values (an entry
// of a single matrix is accepted for a stacked weight only if llama.cpp
// would accept it, i.e. never). Weights without an entry are fine
// (llama-imatrix skips the output matrix and the embeddings). The error
// wraps ErrMismatch and names the first entries at fault.
func (m *Matrix) Check(ts []Tensor) error {
	byName := make(map[string]Tensor, len(ts))
	for _, t := range ts {
		byName[t.Name] = t
	}
	var unknown, wrong []string
	for _, name := range m.Names() {
		e := m.Entries[name]
		t, ok := byName[name]
		if !ok {
			unknown = append(unknown, name)
			continue
		}
		mats := max(t.Mats, 1)
		if e.Cols != t.Cols || e.Mats() != mats {
			wrong = append(wrong, fmt.Sprintf("%s has %d×%d values, the model's rows are %d long (%d matrices)", name, e.Mats(), e.Cols, t.Cols, mats))
		}
	}
	switch {
	case len(unknown) > 0 && len(unknown) == len(m.Entries):
		return fmt.Errorf("%w: none of its %d entries is a weight of the model (first: %s)", ErrMismatch, len(unknown), unknown[0])
	case len(unknown) > 0:
		return fmt.Errorf("%w: %d entries name no weight of the model: %s", ErrMismatch, len(unknown), clipList(unknown))
	case len(wrong) > 0:
		return fmt.Errorf("%w: %s", ErrMismatch, clipList(wrong))
	}
	return nil
}

func clipList(s []string) string {
	if len(s) > 3 {
		return strings.Join(s[:3], "; ") + fmt.Sprintf("; … (%d more)", len(s)-3)
	}
	return strings.Join(s, "; ")
}

// validate checks an entry's internal consistency (sizes, finite
// non-negative sums of squares and counts).
func (e *Entry) validate(file, name string) error {
	fail := func(field, msg string) error { return &FormatError{File: file, Entry: name, Field: field, Msg: msg} }
	switch {
	case e.Cols <= 0:
		return fail("in_sum2", "no values")
	case len(e.Counts) == 0:
		return fail("counts", "no counts")
	case len(e.Sum2) != e.Cols*len(e.Counts):
		return fail("in_sum2", fmt.Sprintf("%d values for %d matrices of %d columns", len(e.Sum2), len(e.Counts), e.Cols))
	case e.Sum != nil && len(e.Sum) != len(e.Sum2):
		return fail("in_sum", fmt.Sprintf("%d values, in_sum2 has %d", len(e.Sum), len(e.Sum2)))
	}
	for i, v := range e.Sum2 {
		if !(v >= 0) || math.IsInf(float64(v), 1) {
			return fail("in_sum2", fmt.Sprintf("value %d is %v (sums of squares are finite and non-negative)", i, v))
		}
	}
	for i, v := range e.Sum {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fail("in_sum", fmt.Sprintf("value %d is %v", i, v))
		}
	}
	for i, c := range e.Counts {
		if !(c >= 0) || math.IsInf(float64(c), 1) {
			return fail("counts", fmt.Sprintf("count %d is %v", i, c))
		}
	}
	return nil
}
