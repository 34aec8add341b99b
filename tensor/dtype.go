package tensor

import (
	"fmt"
	"strings"
)

// DType is the element type of a dense (unquantized) tensor.
type DType uint8

// The dtypes lmc reads and writes. Their names follow safetensors.
const (
	Invalid DType = iota
	F32
	F16
	BF16
	F64
	F8E4M3 // OCP FP8 E4M3 ("e4m3fn": no infinities, one NaN pattern per sign)
	F8E5M2 // OCP FP8 E5M2 (IEEE-like, with infinities)
	I8
	I16
	I32
	I64
	U8
	U16
	U32
	U64
	Bool
)

type dtypeInfo struct {
	name string // safetensors spelling
	size int    // bytes per element
}

var dtypes = [...]dtypeInfo{
	Invalid: {"INVALID", 0},
	F32:     {"F32", 4},
	F16:     {"F16", 2},
	BF16:    {"BF16", 2},
	F64:     {"F64", 8},
	F8E4M3:  {"F8_E4M3", 1},
	F8E5M2:  {"F8_E5M2", 1},
	I8:      {"I8", 1},
	I16:     {"I16", 2},
	I32:     {"I32", 4},
	I64:     {"I64", 8},
	U8:      {"U8", 1},
	U16:     {"U16", 2},
	U32:     {"U32", 4},
	U64:     {"U64", 8},
	Bool:    {"BOOL", 1},
}

// Size returns the number of bytes of one element, or 0 for Invalid.
func (d DType) Size() int {
	if int(d) >= len(dtypes) {
		return 0
	}
	return dtypes[d].size
}

// String returns the safetensors name of d ("F32", "BF16", "F8_E4M3", ...).
func (d DType) String() string {
	if int(d) >= len(dtypes) || d == Invalid {
		return fmt.Sprintf("DType(%d)", uint8(d))
	}
	return dtypes[d].name
}

// IsFloat reports whether d is a floating-point type.
func (d DType) IsFloat() bool {
	switch d {
	case F32, F16, BF16, F64, F8E4M3, F8E5M2:
		return true
	}
	return false
}

// ParseDType parses a dtype name. It accepts the safetensors spellings
// ("F32", "BF16", "F8_E4M3") and the lower-case short forms used on lmc's
// command line ("f32", "bf16", "fp8", "f8_e4m3", "e5m2").
func ParseDType(s string) (DType, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	switch u {
	case "FP32", "FLOAT32", "FLOAT":
		return F32, nil
	case "FP16", "FLOAT16", "HALF":
		return F16, nil
	case "BFLOAT16":
		return BF16, nil
	case "FP8", "F8", "E4M3", "FP8_E4M3", "F8E4M3", "F8_E4M3FN", "FLOAT8_E4M3FN":
		return F8E4M3, nil
	case "E5M2", "FP8_E5M2", "F8E5M2", "FLOAT8_E5M2":
		return F8E5M2, nil
	}
	for i, info := range dtypes {
		if i != int(Invalid) && info.name == u {
			return DType(i), nil
		}
	}
	return Invalid, fmt.Errorf("unknown dtype %q (known: F32, F16, BF16, F64, F8_E4M3, F8_E5M2, I8, I16, I32, I64, U8, U16, U32, U64, BOOL)", s)
}
