package modelfile

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/lmc-project/lmc/gguf"
)

// GGUF metadata that has no place in an HF folder (general.* keys, the key
// order, the tensor order, the alignment) is stored in the safetensors
// __metadata__ under these keys, so that GGUF → HF → GGUF gives back the
// same file. The tokenizer arrays are not stored: they are rebuilt from the
// tokenizer files.
const (
	stashKVs       = "lmc.gguf.kv"
	stashTensors   = "lmc.gguf.tensors"
	stashAlignment = "lmc.gguf.alignment"
)

// bulkKeys are rebuilt from the tokenizer files rather than stored.
var bulkKeys = map[string]bool{
	"tokenizer.ggml.tokens":     true,
	"tokenizer.ggml.scores":     true,
	"tokenizer.ggml.token_type": true,
	"tokenizer.ggml.merges":     true,
}

type jsonKV struct {
	Key  string          `json:"k"`
	Type string          `json:"t"`
	Elem string          `json:"e,omitempty"`
	V    json.RawMessage `json:"v,omitempty"`
}

var valueTypeNames = map[gguf.ValueType]string{
	gguf.ValueUint8: "u8", gguf.ValueInt8: "i8", gguf.ValueUint16: "u16", gguf.ValueInt16: "i16",
	gguf.ValueUint32: "u32", gguf.ValueInt32: "i32", gguf.ValueFloat32: "f32", gguf.ValueBool: "bool",
	gguf.ValueString: "str", gguf.ValueArray: "arr", gguf.ValueUint64: "u64", gguf.ValueInt64: "i64",
	gguf.ValueFloat64: "f64",
}

func valueTypeByName(s string) (gguf.ValueType, bool) {
	for t, n := range valueTypeNames {
		if n == s {
			return t, true
		}
	}
	return 0, false
}

// encodeStash encodes the KVs (bulk tokenizer arrays replaced by a marker)
// as JSON. Arrays of arrays are not stored (none exist in llama files).
func encodeStash(kvs []gguf.KV) (string, error) {
	out := make([]jsonKV, 0, len(kvs))
	for _, kv := range kvs {
		j := jsonKV{Key: kv.Key, Type: valueTypeNames[kv.Value.Type]}
		if bulkKeys[kv.Key] {
			j.Type = "bulk"
			out = append(out, j)
			continue
		}
		v := kv.Value.V
		if a, ok := kv.Value.AsArray(); ok {
			if a.Elem == gguf.ValueArray {
				continue
			}
			j.Elem = valueTypeNames[a.Elem]
			v = a.V
		}
		b, err := json.Marshal(v)
		if err != nil {
			return "", fmt.Errorf("metadata %s: %v", kv.Key, err)
		}
		j.V = b
		out = append(out, j)
	}
	b, err := json.Marshal(out)
	return string(b), err
}

// decodeStash reverses encodeStash; bulk keys are filled from bulk.
func decodeStash(s string, bulk []gguf.KV) ([]gguf.KV, error) {
	var in []jsonKV
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return nil, fmt.Errorf("%s: %v", stashKVs, err)
	}
	byKey := map[string]gguf.Value{}
	for _, kv := range bulk {
		byKey[kv.Key] = kv.Value
	}
	var out []gguf.KV
	for _, j := range in {
		if j.Type == "bulk" {
			if v, ok := byKey[j.Key]; ok {
				out = append(out, gguf.KV{Key: j.Key, Value: v})
			}
			continue
		}
		t, ok := valueTypeByName(j.Type)
		if !ok {
			return nil, fmt.Errorf("%s: key %s has unknown type %q", stashKVs, j.Key, j.Type)
		}
		if t == gguf.ValueArray {
			et, ok := valueTypeByName(j.Elem)
			if !ok {
				return nil, fmt.Errorf("%s: key %s has unknown element type %q", stashKVs, j.Key, j.Elem)
			}
			v, err := decodeArray(et, j.V)
			if err != nil {
				return nil, fmt.Errorf("%s: key %s: %v", stashKVs, j.Key, err)
			}
			out = append(out, gguf.KV{Key: j.Key, Value: v})
			continue
		}
		v, err := decodeScalar(t, j.V)
		if err != nil {
			return nil, fmt.Errorf("%s: key %s: %v", stashKVs, j.Key, err)
		}
		out = append(out, gguf.KV{Key: j.Key, Value: v})
	}
	return out, nil
}

func decodeScalar(t gguf.ValueType, raw json.RawMessage) (gguf.Value, error) {
	s := string(raw)
	switch t {
	case gguf.ValueString:
		var v string
		err := json.Unmarshal(raw, &v)
		return gguf.String(v), err
	case gguf.ValueBool:
		var v bool
		err := json.Unmarshal(raw, &v)
		return gguf.Bool(v), err
	case gguf.ValueFloat32:
		v, err := strconv.ParseFloat(s, 32)
		return gguf.Float32(float32(v)), err
	case gguf.ValueFloat64:
		v, err := strconv.ParseFloat(s, 64)
		return gguf.Float64(v), err
	case gguf.ValueUint8, gguf.ValueUint16, gguf.ValueUint32, gguf.ValueUint64:
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return gguf.Value{}, err
		}
		switch t {
		case gguf.ValueUint8:
			return gguf.Uint8(uint8(v)), nil
		case gguf.ValueUint16:
			return gguf.Uint16(uint16(v)), nil
		case gguf.ValueUint32:
			return gguf.Uint32(uint32(v)), nil
		}
		return gguf.Uint64(v), nil
	default:
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return gguf.Value{}, err
		}
		switch t {
		case gguf.ValueInt8:
			return gguf.Int8(int8(v)), nil
		case gguf.ValueInt16:
			return gguf.Int16(int16(v)), nil
		case gguf.ValueInt32:
			return gguf.Int32(int32(v)), nil
		}
		return gguf.Int64(v), nil
	}
}

func decodeArray(et gguf.ValueType, raw json.RawMessage) (gguf.Value, error) {
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return gguf.Value{}, err
	}
	vals := make([]gguf.Value, len(elems))
	for i, e := range elems {
		v, err := decodeScalar(et, e)
		if err != nil {
			return gguf.Value{}, err
		}
		vals[i] = v
	}
	switch et {
	case gguf.ValueString:
		return gguf.Strings(collect(vals, func(v gguf.Value) string { return v.V.(string) })), nil
	case gguf.ValueFloat32:
		return gguf.Float32s(collect(vals, func(v gguf.Value) float32 { return v.V.(float32) })), nil
	case gguf.ValueFloat64:
		return gguf.Float64s(collect(vals, func(v gguf.Value) float64 { return v.V.(float64) })), nil
	case gguf.ValueInt32:
		return gguf.Int32s(collect(vals, func(v gguf.Value) int32 { return v.V.(int32) })), nil
	case gguf.ValueUint32:
		return gguf.Uint32s(collect(vals, func(v gguf.Value) uint32 { return v.V.(uint32) })), nil
	case gguf.ValueInt64:
		return gguf.Int64s(collect(vals, func(v gguf.Value) int64 { return v.V.(int64) })), nil
	case gguf.ValueUint64:
		return gguf.Uint64s(collect(vals, func(v gguf.Value) uint64 { return v.V.(uint64) })), nil
	case gguf.ValueUint8:
		return gguf.Uint8s(collect(vals, func(v gguf.Value) uint8 { return v.V.(uint8) })), nil
	case gguf.ValueInt8:
		return gguf.Int8s(collect(vals, func(v gguf.Value) int8 { return v.V.(int8) })), nil
	case gguf.ValueUint16:
		return gguf.Uint16s(collect(vals, func(v gguf.Value) uint16 { return v.V.(uint16) })), nil
	case gguf.ValueInt16:
		return gguf.Int16s(collect(vals, func(v gguf.Value) int16 { return v.V.(int16) })), nil
	case gguf.ValueBool:
		return gguf.Bools(collect(vals, func(v gguf.Value) bool { return v.V.(bool) })), nil
	}
	return gguf.Value{}, fmt.Errorf("array of %v not supported", et)
}

func collect[T any](vals []gguf.Value, f func(gguf.Value) T) []T {
	out := make([]T, len(vals))
	for i, v := range vals {
		out[i] = f(v)
	}
	return out
}
