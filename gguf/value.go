package gguf

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ValueType is the type of a GGUF metadata value (enum gguf_type).
type ValueType uint32

// The GGUF metadata value types.
const (
	ValueUint8   ValueType = 0
	ValueInt8    ValueType = 1
	ValueUint16  ValueType = 2
	ValueInt16   ValueType = 3
	ValueUint32  ValueType = 4
	ValueInt32   ValueType = 5
	ValueFloat32 ValueType = 6
	ValueBool    ValueType = 7 // one byte, 0 or 1
	ValueString  ValueType = 8
	ValueArray   ValueType = 9
	ValueUint64  ValueType = 10
	ValueInt64   ValueType = 11
	ValueFloat64 ValueType = 12
)

var valueTypeNames = [...]string{"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "str", "arr", "u64", "i64", "f64"}

// String returns the short name used in llama.cpp's gguf dumps ("u32", "str",
// "arr"), or "value_type(N)" for an unknown id.
func (t ValueType) String() string {
	if uint64(t) < uint64(len(valueTypeNames)) {
		return valueTypeNames[t]
	}
	return "value_type(" + strconv.FormatUint(uint64(t), 10) + ")"
}

// Valid reports whether t is one of the 13 GGUF value types.
func (t ValueType) Valid() bool { return t <= ValueFloat64 }

// size returns the encoded size of a fixed-size value type, or 0 for
// strings, arrays and unknown types.
func (t ValueType) size() int {
	switch t {
	case ValueUint8, ValueInt8, ValueBool:
		return 1
	case ValueUint16, ValueInt16:
		return 2
	case ValueUint32, ValueInt32, ValueFloat32:
		return 4
	case ValueUint64, ValueInt64, ValueFloat64:
		return 8
	}
	return 0
}

// minSize returns the smallest number of bytes one element of type t can
// occupy in a file: a string is at least its 8-byte length, an array at
// least its 4-byte element type and 8-byte count.
func (t ValueType) minSize() int64 {
	switch t {
	case ValueString:
		return 8
	case ValueArray:
		return 12
	}
	return int64(t.size())
}

// Value is one metadata value. V holds, according to Type: uint8, int8,
// uint16, int16, uint32, int32, float32, bool, string, uint64, int64,
// float64, or for ValueArray an [Array].
type Value struct {
	Type ValueType
	V    any
}

// Array is the value of a ValueArray metadata value. V is a typed slice
// according to Elem: []uint8, []int8, []uint16, []int16, []uint32, []int32,
// []float32, []bool, []string, []uint64, []int64, []float64, or []Array for
// an array of arrays (each inner Array carries its own Elem).
type Array struct {
	Elem ValueType
	V    any
}

// KV is one metadata key-value pair.
type KV struct {
	Key   string
	Value Value
}

// Scalar constructors.

func Uint8(v uint8) Value     { return Value{ValueUint8, v} }
func Int8(v int8) Value       { return Value{ValueInt8, v} }
func Uint16(v uint16) Value   { return Value{ValueUint16, v} }
func Int16(v int16) Value     { return Value{ValueInt16, v} }
func Uint32(v uint32) Value   { return Value{ValueUint32, v} }
func Int32(v int32) Value     { return Value{ValueInt32, v} }
func Float32(v float32) Value { return Value{ValueFloat32, v} }
func Bool(v bool) Value       { return Value{ValueBool, v} }
func String(v string) Value   { return Value{ValueString, v} }
func Uint64(v uint64) Value   { return Value{ValueUint64, v} }
func Int64(v int64) Value     { return Value{ValueInt64, v} }
func Float64(v float64) Value { return Value{ValueFloat64, v} }

// Array constructors. The slice is kept, not copied.

func Uint8s(v []uint8) Value     { return arr(ValueUint8, v) }
func Int8s(v []int8) Value       { return arr(ValueInt8, v) }
func Uint16s(v []uint16) Value   { return arr(ValueUint16, v) }
func Int16s(v []int16) Value     { return arr(ValueInt16, v) }
func Uint32s(v []uint32) Value   { return arr(ValueUint32, v) }
func Int32s(v []int32) Value     { return arr(ValueInt32, v) }
func Float32s(v []float32) Value { return arr(ValueFloat32, v) }
func Bools(v []bool) Value       { return arr(ValueBool, v) }
func Strings(v []string) Value   { return arr(ValueString, v) }
func Uint64s(v []uint64) Value   { return arr(ValueUint64, v) }
func Int64s(v []int64) Value     { return arr(ValueInt64, v) }
func Float64s(v []float64) Value { return arr(ValueFloat64, v) }

func arr(t ValueType, v any) Value { return Value{ValueArray, Array{t, v}} }

// Arrays returns an array of arrays. Each element must be an array value
// (as made by [Strings], [Uint32s], another Arrays, ...); it panics
// otherwise.
func Arrays(elems ...Value) Value {
	as := make([]Array, len(elems))
	for i, e := range elems {
		a, ok := e.V.(Array)
		if e.Type != ValueArray || !ok {
			panic(fmt.Sprintf("gguf.Arrays: element %d is a %v, not an array", i, e.Type))
		}
		as[i] = a
	}
	return arr(ValueArray, as)
}

// Len returns the number of elements of a, or 0 if V is not a slice of the
// kind Elem says.
func (a Array) Len() int {
	switch s := a.V.(type) {
	case []uint8:
		return len(s)
	case []int8:
		return len(s)
	case []uint16:
		return len(s)
	case []int16:
		return len(s)
	case []uint32:
		return len(s)
	case []int32:
		return len(s)
	case []float32:
		return len(s)
	case []bool:
		return len(s)
	case []string:
		return len(s)
	case []uint64:
		return len(s)
	case []int64:
		return len(s)
	case []float64:
		return len(s)
	case []Array:
		return len(s)
	}
	return 0
}

// AsUint returns an integer value of any width or signedness as a uint64;
// ok is false for other types and for negative values.
func (v Value) AsUint() (uint64, bool) {
	switch x := v.V.(type) {
	case uint8:
		return uint64(x), true
	case uint16:
		return uint64(x), true
	case uint32:
		return uint64(x), true
	case uint64:
		return x, true
	case int8, int16, int32, int64:
		i, _ := v.AsInt()
		if i < 0 {
			return 0, false
		}
		return uint64(i), true
	}
	return 0, false
}

// AsInt returns an integer value of any width or signedness as an int64; ok
// is false for other types and for a uint64 above math.MaxInt64.
func (v Value) AsInt() (int64, bool) {
	switch x := v.V.(type) {
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case uint8, uint16, uint32, uint64:
		u, _ := v.AsUint()
		if u > math.MaxInt64 {
			return 0, false
		}
		return int64(u), true
	}
	return 0, false
}

// AsFloat returns a float32 or float64 value as a float64.
func (v Value) AsFloat() (float64, bool) {
	switch x := v.V.(type) {
	case float32:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// AsBool returns a bool value.
func (v Value) AsBool() (bool, bool) { b, ok := v.V.(bool); return b, ok }

// AsString returns a string value.
func (v Value) AsString() (string, bool) { s, ok := v.V.(string); return s, ok }

// AsArray returns an array value.
func (v Value) AsArray() (Array, bool) { a, ok := v.V.(Array); return a, ok && v.Type == ValueArray }

// AsStrings returns the elements of an array of strings.
func (v Value) AsStrings() ([]string, bool) {
	a, ok := v.AsArray()
	if !ok {
		return nil, false
	}
	s, ok := a.V.([]string)
	return s, ok
}

// String formats v for display: scalars as Go would print them (strings
// quoted), arrays as their element type, length and first few elements.
func (v Value) String() string {
	if a, ok := v.AsArray(); ok {
		return a.String()
	}
	if s, ok := v.V.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprint(v.V)
}

// String formats a for display, e.g. `[str × 512: "<unk>", "<s>", "</s>", …]`.
func (a Array) String() string {
	const show = 4
	n := a.Len()
	var b strings.Builder
	fmt.Fprintf(&b, "[%v × %d", a.Elem, n)
	for i := 0; i < n && i < show; i++ {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString(", ")
		}
		switch s := a.V.(type) {
		case []string:
			b.WriteString(strconv.Quote(s[i]))
		case []Array:
			b.WriteString(s[i].String())
		default:
			fmt.Fprint(&b, indexAny(a.V, i))
		}
	}
	if n > show {
		b.WriteString(", …")
	}
	b.WriteString("]")
	return b.String()
}

// At returns element i of the array as a Go value (uint8 … float64, bool,
// string, or Array for nested arrays). It panics if i is out of range.
func (a Array) At(i int) any { return indexAny(a.V, i) }

func indexAny(s any, i int) any {
	switch s := s.(type) {
	case []string:
		return s[i]
	case []Array:
		return s[i]
	case []uint8:
		return s[i]
	case []int8:
		return s[i]
	case []uint16:
		return s[i]
	case []int16:
		return s[i]
	case []uint32:
		return s[i]
	case []int32:
		return s[i]
	case []float32:
		return s[i]
	case []bool:
		return s[i]
	case []uint64:
		return s[i]
	case []int64:
		return s[i]
	case []float64:
		return s[i]
	}
	return nil
}

// check reports whether v's Go value matches its Type, with strings valid
// UTF-8 and arrays nested at most MaxArrayDepth deep. It is what the writer
// accepts.
func (v Value) check(depth int) error {
	ok := false
	switch v.Type {
	case ValueUint8:
		_, ok = v.V.(uint8)
	case ValueInt8:
		_, ok = v.V.(int8)
	case ValueUint16:
		_, ok = v.V.(uint16)
	case ValueInt16:
		_, ok = v.V.(int16)
	case ValueUint32:
		_, ok = v.V.(uint32)
	case ValueInt32:
		_, ok = v.V.(int32)
	case ValueFloat32:
		_, ok = v.V.(float32)
	case ValueBool:
		_, ok = v.V.(bool)
	case ValueString:
		var s string
		if s, ok = v.V.(string); ok && !utf8.ValidString(s) {
			return fmt.Errorf("string is not valid UTF-8")
		}
	case ValueUint64:
		_, ok = v.V.(uint64)
	case ValueInt64:
		_, ok = v.V.(int64)
	case ValueFloat64:
		_, ok = v.V.(float64)
	case ValueArray:
		a, isArr := v.V.(Array)
		if !isArr {
			break
		}
		return a.check(depth + 1)
	default:
		return fmt.Errorf("unknown value type %d", uint32(v.Type))
	}
	if !ok {
		return fmt.Errorf("value type %v holds a Go %T", v.Type, v.V)
	}
	return nil
}

func (a Array) check(depth int) error {
	if depth > MaxArrayDepth {
		return fmt.Errorf("arrays nested deeper than %d", MaxArrayDepth)
	}
	ok := false
	switch a.Elem {
	case ValueUint8:
		_, ok = a.V.([]uint8)
	case ValueInt8:
		_, ok = a.V.([]int8)
	case ValueUint16:
		_, ok = a.V.([]uint16)
	case ValueInt16:
		_, ok = a.V.([]int16)
	case ValueUint32:
		_, ok = a.V.([]uint32)
	case ValueInt32:
		_, ok = a.V.([]int32)
	case ValueFloat32:
		_, ok = a.V.([]float32)
	case ValueBool:
		_, ok = a.V.([]bool)
	case ValueString:
		var ss []string
		if ss, ok = a.V.([]string); ok {
			for i, s := range ss {
				if !utf8.ValidString(s) {
					return fmt.Errorf("element %d: string is not valid UTF-8", i)
				}
			}
		}
	case ValueUint64:
		_, ok = a.V.([]uint64)
	case ValueInt64:
		_, ok = a.V.([]int64)
	case ValueFloat64:
		_, ok = a.V.([]float64)
	case ValueArray:
		var as []Array
		if as, ok = a.V.([]Array); ok {
			for i, e := range as {
				if err := e.check(depth + 1); err != nil {
					return fmt.Errorf("element %d: %w", i, err)
				}
			}
		}
	default:
		return fmt.Errorf("unknown array element type %d", uint32(a.Elem))
	}
	if !ok && a.V != nil {
		return fmt.Errorf("array of %v holds a Go %T", a.Elem, a.V)
	}
	return nil
}
