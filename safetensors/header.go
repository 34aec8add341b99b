package safetensors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/lmc-project/lmc/tensor"
)

// MaxHeaderSize is the largest JSON header accepted, in bytes: 100,000,000,
// the limit of the reference Rust implementation.
const MaxHeaderSize = 100_000_000

// metadataKey is the reserved header key holding the free-form string map.
const metadataKey = "__metadata__"

// TensorInfo describes one tensor of a safetensors file.
type TensorInfo struct {
	Name  string
	DType tensor.DType
	Shape []int64 // row-major, outermost first; empty for a scalar
	// Begin and End are the tensor's data_offsets: its bytes are [Begin, End)
	// of the data section, which starts right after the header.
	Begin, End int64
}

// NumElements returns the product of the dimensions (1 for a scalar). For a
// TensorInfo returned by this package it is exact; the parsers reject shapes
// whose product overflows an int64.
func (t TensorInfo) NumElements() int64 {
	n := int64(1)
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// NumBytes returns NumElements × the dtype size. For a parsed TensorInfo it
// equals End − Begin.
func (t TensorInfo) NumBytes() int64 {
	return t.NumElements() * int64(t.DType.Size())
}

// unsupportedDTypes are the dtypes of the safetensors spec that lmc has no
// element type for (see doc.go).
var unsupportedDTypes = map[string]bool{
	"F4": true, "F6_E2M3": true, "F6_E3M2": true, "F8_E8M0": true,
	"F8_E4M3FNUZ": true, "F8_E5M2FNUZ": true, "C64": true,
}

// parseDType accepts exactly the safetensors spelling of an lmc dtype.
func parseDType(s string) (tensor.DType, bool) {
	d, err := tensor.ParseDType(s)
	if err != nil || d.Size() == 0 || d.String() != s {
		return tensor.Invalid, false
	}
	return d, true
}

// elemBytes returns the element count and byte size of shape×dtype, or an
// error message when either overflows an int64.
func elemBytes(shape []int64, d tensor.DType) (n, size int64, msg string) {
	n = 1
	for _, dim := range shape {
		if dim < 0 {
			return 0, 0, fmt.Sprintf("negative dimension %d", dim)
		}
		if dim != 0 && n > math.MaxInt64/dim {
			return 0, 0, fmt.Sprintf("shape %v: element count overflows int64", shape)
		}
		n *= dim
	}
	es := int64(d.Size())
	if es != 0 && n > math.MaxInt64/es {
		return 0, 0, fmt.Sprintf("shape %v × %d-byte %s overflows int64", shape, es, d)
	}
	return n, n * es, ""
}

// headerParser walks the header JSON token by token (encoding/json would keep
// the last of two duplicate keys silently).
type headerParser struct {
	file    string
	hdr     []byte
	base    int64 // file offset of hdr[0]
	dec     *json.Decoder
	badUTF8 int64 // index in hdr of the first invalid UTF-8 byte, or -1
	tensor  string
	field   string
}

func (p *headerParser) off() int64 { return p.base + p.dec.InputOffset() }

func (p *headerParser) fail(off int64, msg string, cause error) *FormatError {
	return &FormatError{File: p.file, Off: off, Tensor: p.tensor, Field: p.field, Msg: msg, Err: cause}
}

func (p *headerParser) failf(format string, args ...any) *FormatError {
	return p.fail(p.off(), fmt.Sprintf(format, args...), nil)
}

// token returns the next JSON token, turning syntax errors, a premature end
// and invalid UTF-8 into *FormatError.
func (p *headerParser) token() (json.Token, error) {
	start := p.off()
	tok, err := p.dec.Token()
	if err != nil {
		if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, p.fail(p.base+int64(len(p.hdr)), "header JSON ends early", nil)
		}
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, p.fail(p.base+se.Offset, "invalid JSON", err)
		}
		return nil, p.fail(start, "invalid JSON", err)
	}
	if p.badUTF8 >= 0 && p.dec.InputOffset() > p.badUTF8 {
		if s, ok := tok.(string); ok && p.field == "" && p.tensor == "" {
			p.tensor, p.field = s, "name" // the bad bytes are in a tensor name
		}
		return nil, p.fail(p.base+p.badUTF8, "invalid UTF-8 in header", nil)
	}
	return tok, nil
}

func (p *headerParser) expectDelim(d json.Delim, what string) error {
	tok, err := p.token()
	if err != nil {
		return err
	}
	if got, ok := tok.(json.Delim); !ok || got != d {
		return p.failf("%s, got %s", what, describe(tok))
	}
	return nil
}

// describe names a JSON token for an error message.
func describe(tok json.Token) string {
	switch v := tok.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean " + strconv.FormatBool(v)
	case json.Number:
		return "number " + string(v)
	case string:
		if len(v) > 40 {
			v = v[:40] + "..."
		}
		return fmt.Sprintf("string %q", v)
	case json.Delim:
		switch v {
		case '{':
			return "object"
		case '[':
			return "array"
		}
		return fmt.Sprintf("%q", string(v))
	}
	return fmt.Sprintf("%v", tok)
}

// skipValue consumes one JSON value of any shape, iteratively.
func (p *headerParser) skipValue() error {
	depth := 0
	for {
		tok, err := p.token()
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
		if depth == 0 {
			return nil
		}
	}
}

// nonNegInt reads one JSON integer in [0, MaxInt64].
func (p *headerParser) nonNegInt() (int64, error) {
	tok, err := p.token()
	if err != nil {
		return 0, err
	}
	num, ok := tok.(json.Number)
	if !ok {
		return 0, p.failf("expected a non-negative integer, got %s", describe(tok))
	}
	s := string(num)
	switch {
	case strings.HasPrefix(s, "-"):
		return 0, p.failf("negative value %s", s)
	case strings.ContainsAny(s, ".eE"):
		return 0, p.failf("%s is not an integer", s)
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, p.failf("%s overflows int64", s)
	}
	return v, nil
}

// parseHeader parses and validates a header against a data section of
// dataLen bytes. It returns the tensors sorted by data offset and the
// __metadata__ map (nil when absent or null).
func parseHeader(file string, hdr []byte, dataLen int64) ([]TensorInfo, map[string]string, error) {
	p := &headerParser{file: file, hdr: hdr, base: 8, badUTF8: -1}
	dataStart := 8 + int64(len(hdr))
	if len(hdr) == 0 || hdr[0] != '{' {
		p.field = "header"
		return nil, nil, p.fail(8, "JSON does not start with '{'", nil)
	}
	p.badUTF8 = firstInvalidUTF8(hdr)
	p.dec = json.NewDecoder(bytes.NewReader(hdr))
	p.dec.UseNumber()

	if err := p.expectDelim('{', "header is not a JSON object"); err != nil {
		return nil, nil, err
	}
	var (
		tensors  []TensorInfo
		meta     map[string]string
		seenMeta bool
		seen     = make(map[string]struct{})
	)
	for p.dec.More() {
		p.tensor, p.field = "", ""
		tok, err := p.token()
		if err != nil {
			return nil, nil, err
		}
		name := tok.(string) // object keys are always strings
		if name == metadataKey {
			p.field = metadataKey
			if seenMeta {
				return nil, nil, p.failf("duplicate %s key", metadataKey)
			}
			seenMeta = true
			if meta, err = p.parseMetadata(); err != nil {
				return nil, nil, err
			}
			continue
		}
		p.tensor = name
		if _, dup := seen[name]; dup {
			p.field = "name"
			return nil, nil, p.failf("duplicate tensor name")
		}
		seen[name] = struct{}{}
		t, err := p.parseEntry(name, dataLen)
		if err != nil {
			return nil, nil, err
		}
		tensors = append(tensors, t)
	}
	p.tensor, p.field = "", ""
	if err := p.expectDelim('}', "header object not closed"); err != nil {
		return nil, nil, err
	}
	if rest := hdr[p.dec.InputOffset():]; len(bytes.Trim(rest, " \t\r\n")) != 0 {
		p.field = "header"
		return nil, nil, p.failf("unexpected bytes after the JSON object (only whitespace padding is allowed)")
	}

	// The data section must be covered exactly: sorted by offset, each
	// tensor starts where the previous one ended, the last ends at EOF.
	sort.SliceStable(tensors, func(i, j int) bool {
		a, b := tensors[i], tensors[j]
		return a.Begin < b.Begin || a.Begin == b.Begin && a.End < b.End
	})
	var pos int64
	for i, t := range tensors {
		switch {
		case t.Begin > pos:
			return nil, nil, &FormatError{File: file, Off: dataStart + pos, Tensor: t.Name, Field: "data_offsets",
				Msg: fmt.Sprintf("hole: data bytes [%d, %d) belong to no tensor", pos, t.Begin)}
		case t.Begin < pos:
			return nil, nil, &FormatError{File: file, Off: dataStart + t.Begin, Tensor: t.Name, Field: "data_offsets",
				Msg: fmt.Sprintf("[%d, %d) overlaps tensor %q [%d, %d)", t.Begin, t.End,
					tensors[i-1].Name, tensors[i-1].Begin, tensors[i-1].End)}
		}
		pos = t.End
	}
	if pos != dataLen {
		return nil, nil, &FormatError{File: file, Off: dataStart + pos, Field: "data_offsets",
			Msg: fmt.Sprintf("trailing data: the tensors cover %d bytes of a %d-byte data section", pos, dataLen)}
	}
	return tensors, meta, nil
}

func (p *headerParser) parseMetadata() (map[string]string, error) {
	tok, err := p.token()
	if err != nil {
		return nil, err
	}
	if tok == nil {
		return nil, nil // null: treated as absent, like the Rust reader
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, p.failf("must be an object of strings, got %s", describe(tok))
	}
	meta := make(map[string]string)
	for p.dec.More() {
		tok, err := p.token()
		if err != nil {
			return nil, err
		}
		key := tok.(string)
		if _, dup := meta[key]; dup {
			return nil, p.failf("duplicate key %q", key)
		}
		tok, err = p.token()
		if err != nil {
			return nil, err
		}
		val, ok := tok.(string)
		if !ok {
			return nil, p.failf("value of key %q is not a string: got %s", key, describe(tok))
		}
		meta[key] = val
	}
	return meta, p.expectDelim('}', "object not closed")
}

func (p *headerParser) parseEntry(name string, dataLen int64) (TensorInfo, error) {
	t := TensorInfo{Name: name}
	if err := p.expectDelim('{', "tensor entry must be an object"); err != nil {
		return t, err
	}
	var haveDType, haveShape, haveOffsets bool
	var dtypeOff, shapeOff, offsetsOff int64
	for p.dec.More() {
		p.field = ""
		tok, err := p.token()
		if err != nil {
			return t, err
		}
		key := tok.(string)
		p.field = key
		dup := false
		switch key {
		case "dtype":
			dup, haveDType, dtypeOff = haveDType, true, p.off()
			if dup {
				break
			}
			tok, err := p.token()
			if err != nil {
				return t, err
			}
			s, ok := tok.(string)
			if !ok {
				return t, p.failf("must be a string, got %s", describe(tok))
			}
			d, ok := parseDType(s)
			if !ok {
				if unsupportedDTypes[s] {
					return t, p.fail(dtypeOff, fmt.Sprintf("%q is a safetensors dtype that lmc has no element type for", s), ErrUnsupportedDType)
				}
				return t, p.fail(dtypeOff, fmt.Sprintf("unknown dtype %q", s), nil)
			}
			t.DType = d
		case "shape":
			dup, haveShape, shapeOff = haveShape, true, p.off()
			if dup {
				break
			}
			if err := p.expectDelim('[', "must be an array"); err != nil {
				return t, err
			}
			t.Shape = []int64{}
			for p.dec.More() {
				v, err := p.nonNegInt()
				if err != nil {
					return t, err
				}
				t.Shape = append(t.Shape, v)
			}
			if err := p.expectDelim(']', "array not closed"); err != nil {
				return t, err
			}
		case "data_offsets":
			dup, haveOffsets, offsetsOff = haveOffsets, true, p.off()
			if dup {
				break
			}
			if err := p.expectDelim('[', "must be an array [begin, end]"); err != nil {
				return t, err
			}
			var offs [2]int64
			for i := range offs {
				if !p.dec.More() {
					return t, p.failf("must have exactly 2 elements, got %d", i)
				}
				v, err := p.nonNegInt()
				if err != nil {
					return t, err
				}
				offs[i] = v
			}
			if p.dec.More() {
				return t, p.failf("must have exactly 2 elements, got more")
			}
			if err := p.expectDelim(']', "array not closed"); err != nil {
				return t, err
			}
			t.Begin, t.End = offs[0], offs[1]
		default:
			// Unknown fields are ignored, as by the Rust reader.
			if err := p.skipValue(); err != nil {
				return t, err
			}
		}
		if dup {
			return t, p.failf("duplicate field")
		}
	}
	p.field = ""
	if err := p.expectDelim('}', "tensor entry not closed"); err != nil {
		return t, err
	}
	for _, m := range []struct {
		have bool
		name string
	}{{haveDType, "dtype"}, {haveShape, "shape"}, {haveOffsets, "data_offsets"}} {
		if !m.have {
			p.field = m.name
			return t, p.failf("missing field")
		}
	}
	p.field = "shape"
	_, size, msg := elemBytes(t.Shape, t.DType)
	if msg != "" {
		return t, p.fail(shapeOff, msg, nil)
	}
	p.field = "data_offsets"
	switch {
	case t.Begin > t.End:
		return t, p.fail(offsetsOff, fmt.Sprintf("begin %d > end %d", t.Begin, t.End), nil)
	case t.End > dataLen:
		return t, p.fail(offsetsOff, fmt.Sprintf("[%d, %d) out of range: the data section has %d bytes", t.Begin, t.End, dataLen), nil)
	case t.End-t.Begin != size:
		return t, p.fail(offsetsOff, fmt.Sprintf("[%d, %d) spans %d bytes but shape %v of %s needs %d", t.Begin, t.End, t.End-t.Begin, t.Shape, t.DType, size), nil)
	}
	return t, nil
}

// firstInvalidUTF8 returns the index of the first byte of b that is not
// valid UTF-8, or -1.
func firstInvalidUTF8(b []byte) int64 {
	if utf8.Valid(b) {
		return -1
	}
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return int64(i)
		}
		i += n
	}
	return -1
}

// layout checks a tensor list for writing and returns a copy with Begin/End
// assigned consecutively in the given order.
func layout(tensors []TensorInfo) ([]TensorInfo, int64, error) {
	out := make([]TensorInfo, len(tensors))
	seen := make(map[string]struct{}, len(tensors))
	var pos int64
	for i, t := range tensors {
		switch {
		case !utf8.ValidString(t.Name):
			return nil, 0, fmt.Errorf("safetensors: tensor %q: name is not valid UTF-8", t.Name)
		case t.Name == metadataKey:
			return nil, 0, fmt.Errorf("safetensors: tensor name %q is reserved", t.Name)
		case t.DType == tensor.Invalid || t.DType.Size() == 0:
			return nil, 0, fmt.Errorf("safetensors: tensor %q: invalid dtype %v", t.Name, t.DType)
		}
		if _, dup := seen[t.Name]; dup {
			return nil, 0, fmt.Errorf("safetensors: duplicate tensor name %q", t.Name)
		}
		seen[t.Name] = struct{}{}
		_, size, msg := elemBytes(t.Shape, t.DType)
		if msg != "" {
			return nil, 0, fmt.Errorf("safetensors: tensor %q: %s", t.Name, msg)
		}
		if pos > math.MaxInt64-size {
			return nil, 0, fmt.Errorf("safetensors: tensor %q: data section size overflows int64", t.Name)
		}
		out[i] = TensorInfo{Name: t.Name, DType: t.DType, Shape: slices.Clone(t.Shape), Begin: pos, End: pos + size}
		if out[i].Shape == nil {
			out[i].Shape = []int64{}
		}
		pos += size
	}
	return out, pos, nil
}

// encodeHeader returns the JSON header for tensors (whose Begin/End are
// final), in the canonical style of the Rust writer: compact JSON,
// __metadata__ first (when metadata is non-nil, keys sorted), tensors in the
// given order, each as {"dtype","shape","data_offsets"}, padded with spaces
// to a multiple of 8 bytes.
func encodeHeader(meta map[string]string, tensors []TensorInfo) ([]byte, error) {
	b := make([]byte, 0, 64+80*len(tensors))
	b = append(b, '{')
	if meta != nil {
		keys := make([]string, 0, len(meta))
		for k, v := range meta {
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				return nil, fmt.Errorf("safetensors: metadata %q: key and value must be valid UTF-8", k)
			}
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b = appendString(b, metadataKey)
		b = append(b, ":{"...)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			b = appendString(b, meta[k])
		}
		b = append(b, '}')
	}
	for i, t := range tensors {
		if i > 0 || meta != nil {
			b = append(b, ',')
		}
		b = appendString(b, t.Name)
		b = append(b, `:{"dtype":`...)
		b = appendString(b, t.DType.String())
		b = append(b, `,"shape":[`...)
		for j, d := range t.Shape {
			if j > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, d, 10)
		}
		b = append(b, `],"data_offsets":[`...)
		b = strconv.AppendInt(b, t.Begin, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, t.End, 10)
		b = append(b, "]}"...)
	}
	b = append(b, '}')
	for len(b)%8 != 0 {
		b = append(b, ' ')
	}
	if len(b) > MaxHeaderSize {
		return nil, fmt.Errorf("safetensors: header would be %d bytes, over the %d-byte limit", len(b), MaxHeaderSize)
	}
	return b, nil
}

// appendString appends s as a JSON string escaped like serde_json: only '"',
// '\\' and control characters are escaped; other bytes, non-ASCII included,
// are copied.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\b':
			b = append(b, '\\', 'b')
		case c == '\f':
			b = append(b, '\\', 'f')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
