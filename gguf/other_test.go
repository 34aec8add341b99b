package gguf_test

import (
	"fmt"
	"reflect"
	"strings"

	parser "github.com/gpustack/gguf-parser-go"

	"github.com/lmc-project/lmc/gguf"
)

// parseOther parses path with gguf-parser-go, the independent reader the
// tests compare against.
func parseOther(path string) (*parser.GGUFFile, error) {
	return parser.ParseGGUFFile(path)
}

// normArray is the common form both readers' arrays are compared in.
type normArray struct {
	Elem  uint32
	Items []any
}

// normOther converts a gguf-parser-go metadata value to the common form.
func normOther(v any) any {
	a, ok := v.(parser.GGUFMetadataKVArrayValue)
	if !ok {
		return v
	}
	n := normArray{Elem: uint32(a.Type), Items: make([]any, len(a.Array))}
	for i, x := range a.Array {
		n.Items[i] = normOther(x)
	}
	return n
}

// normOurs converts one of our metadata values to the common form.
// gguf-parser-go returns strings with surrounding white space trimmed
// (bytes.TrimSpace in its ReadString), so ours are trimmed the same way for
// the comparison; the byte-identical rewrite test covers the exact bytes.
func normOurs(v any) any {
	if s, ok := v.(string); ok {
		return strings.TrimSpace(s)
	}
	a, ok := v.(gguf.Array)
	if !ok {
		return v
	}
	n := normArray{Elem: uint32(a.Elem), Items: []any{}}
	if a.V == nil {
		return n
	}
	rv := reflect.ValueOf(a.V)
	n.Items = make([]any, rv.Len())
	for i := range n.Items {
		n.Items[i] = normOurs(rv.Index(i).Interface())
	}
	return n
}

// firstDiff describes where two normalized values first differ.
func firstDiff(theirs, ours any) string {
	a, ok1 := theirs.(normArray)
	b, ok2 := ours.(normArray)
	if !ok1 || !ok2 {
		return fmt.Sprintf("theirs %#v, ours %#v", theirs, ours)
	}
	if a.Elem != b.Elem || len(a.Items) != len(b.Items) {
		return fmt.Sprintf("theirs %d × type %d, ours %d × type %d", len(a.Items), a.Elem, len(b.Items), b.Elem)
	}
	for i := range a.Items {
		if !reflect.DeepEqual(a.Items[i], b.Items[i]) {
			return fmt.Sprintf("element %d: %s", i, firstDiff(a.Items[i], b.Items[i]))
		}
	}
	return "no difference found"
}
