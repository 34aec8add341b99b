package gguf

// This file is lmc's one table of ggml tensor types. It imports nothing but
// the standard library so that every package (parsers, kernels, the CLI) can
// depend on it without pulling in the rest of the gguf reader.

import (
	"errors"
	"strconv"
	"strings"
)

// Type is a ggml tensor type (enum ggml_type in ggml.h), as stored in the
// type field of a GGUF tensor info.
type Type uint32

// The ggml tensor types. Ids 4, 5 (Q4_2, Q4_3), 31–33 (Q4_0_4_4, Q4_0_4_8,
// Q4_0_8_8) and 36–38 (IQ4_NL_4_4, IQ4_NL_4_8, IQ4_NL_8_8) were removed from
// ggml and are unknown here: [Type.Known] reports false for them.
const (
	TypeF32     Type = 0
	TypeF16     Type = 1
	TypeQ4_0    Type = 2
	TypeQ4_1    Type = 3
	TypeQ5_0    Type = 6
	TypeQ5_1    Type = 7
	TypeQ8_0    Type = 8
	TypeQ8_1    Type = 9
	TypeQ2_K    Type = 10
	TypeQ3_K    Type = 11
	TypeQ4_K    Type = 12
	TypeQ5_K    Type = 13
	TypeQ6_K    Type = 14
	TypeQ8_K    Type = 15
	TypeIQ2_XXS Type = 16
	TypeIQ2_XS  Type = 17
	TypeIQ3_XXS Type = 18
	TypeIQ1_S   Type = 19
	TypeIQ4_NL  Type = 20
	TypeIQ3_S   Type = 21
	TypeIQ2_S   Type = 22
	TypeIQ4_XS  Type = 23
	TypeI8      Type = 24
	TypeI16     Type = 25
	TypeI32     Type = 26
	TypeI64     Type = 27
	TypeF64     Type = 28
	TypeIQ1_M   Type = 29
	TypeBF16    Type = 30
	TypeTQ1_0   Type = 34
	TypeTQ2_0   Type = 35
	TypeMXFP4   Type = 39
	TypeNVFP4   Type = 40
	TypeQ1_0    Type = 41
	TypeQ2_0    Type = 42
)

type typeInfo struct {
	name  string // ggml_type_name spelling ("q4_K")
	block int64  // elements per block (ggml blck_size)
	size  int64  // bytes per block (ggml type_size)
}

// typeTable is indexed by Type. An entry with block == 0 is a removed or
// unassigned id. Sizes are from ggml.c type_traits and ggml-common.h.
var typeTable = [...]typeInfo{
	TypeF32:     {"f32", 1, 4},
	TypeF16:     {"f16", 1, 2},
	TypeQ4_0:    {"q4_0", 32, 18},
	TypeQ4_1:    {"q4_1", 32, 20},
	TypeQ5_0:    {"q5_0", 32, 22},
	TypeQ5_1:    {"q5_1", 32, 24},
	TypeQ8_0:    {"q8_0", 32, 34},
	TypeQ8_1:    {"q8_1", 32, 36},
	TypeQ2_K:    {"q2_K", 256, 84},
	TypeQ3_K:    {"q3_K", 256, 110},
	TypeQ4_K:    {"q4_K", 256, 144},
	TypeQ5_K:    {"q5_K", 256, 176},
	TypeQ6_K:    {"q6_K", 256, 210},
	TypeQ8_K:    {"q8_K", 256, 292},
	TypeIQ2_XXS: {"iq2_xxs", 256, 66},
	TypeIQ2_XS:  {"iq2_xs", 256, 74},
	TypeIQ3_XXS: {"iq3_xxs", 256, 98},
	TypeIQ1_S:   {"iq1_s", 256, 50},
	TypeIQ4_NL:  {"iq4_nl", 32, 18},
	TypeIQ3_S:   {"iq3_s", 256, 110},
	TypeIQ2_S:   {"iq2_s", 256, 82},
	TypeIQ4_XS:  {"iq4_xs", 256, 136},
	TypeI8:      {"i8", 1, 1},
	TypeI16:     {"i16", 1, 2},
	TypeI32:     {"i32", 1, 4},
	TypeI64:     {"i64", 1, 8},
	TypeF64:     {"f64", 1, 8},
	TypeIQ1_M:   {"iq1_m", 256, 56},
	TypeBF16:    {"bf16", 1, 2},
	TypeTQ1_0:   {"tq1_0", 256, 54},
	TypeTQ2_0:   {"tq2_0", 256, 66},
	TypeMXFP4:   {"mxfp4", 32, 17},
	TypeNVFP4:   {"nvfp4", 64, 36},
	TypeQ1_0:    {"q1_0", 128, 18},
	TypeQ2_0:    {"q2_0", 64, 18},
}

func (t Type) info() typeInfo {
	if uint64(t) < uint64(len(typeTable)) {
		return typeTable[t]
	}
	return typeInfo{}
}

// Known reports whether t is a ggml type in lmc's table (whether or not lmc
// can dequantize it). Removed ids (4, 5, 31–33, 36–38) and ids past the end
// of the table are unknown.
func (t Type) Known() bool { return t.info().block != 0 }

// String returns the name ggml_type_name prints ("f32", "q4_K", "iq4_xs",
// "bf16"), or "type(N)" for an unknown id.
func (t Type) String() string {
	if in := t.info(); in.block != 0 {
		return in.name
	}
	return "type(" + strconv.FormatUint(uint64(t), 10) + ")"
}

// UpperName returns the upper-case name used by gguf-py and llama-quantize
// ("F32", "Q4_K", "IQ4_XS", "BF16"), or "TYPE(N)" for an unknown id.
func (t Type) UpperName() string { return strings.ToUpper(t.String()) }

// BlockSize returns the number of elements in one block (1 for plain types
// such as F32), or 0 for an unknown type.
func (t Type) BlockSize() int64 { return t.info().block }

// TypeSize returns the number of bytes in one block, or 0 for an unknown
// type.
func (t Type) TypeSize() int64 { return t.info().size }

// Quantized reports whether t stores elements in blocks of more than one
// element.
func (t Type) Quantized() bool { return t.info().block > 1 }

// RowSize returns the number of bytes of a row of ne0 elements. It fails if
// t is unknown, ne0 is negative, ne0 is not a multiple of the block size, or
// the size overflows int64.
func (t Type) RowSize(ne0 int64) (int64, error) {
	in := t.info()
	if in.block == 0 {
		return 0, errors.New("gguf: unknown ggml type id " + strconv.FormatUint(uint64(t), 10))
	}
	if ne0 < 0 {
		return 0, errors.New("gguf: negative row length " + strconv.FormatInt(ne0, 10))
	}
	if ne0%in.block != 0 {
		return 0, errors.New("gguf: row length " + strconv.FormatInt(ne0, 10) + " is not a multiple of the " +
			in.name + " block size " + strconv.FormatInt(in.block, 10))
	}
	nb := ne0 / in.block
	if nb > (1<<63-1)/in.size {
		return 0, errors.New("gguf: row of " + strconv.FormatInt(ne0, 10) + " " + in.name + " elements overflows int64")
	}
	return nb * in.size, nil
}

// Types returns every known type in id order.
func Types() []Type {
	var ts []Type
	for i, in := range typeTable {
		if in.block != 0 {
			ts = append(ts, Type(i))
		}
	}
	return ts
}

// ParseType returns the type named s, matched case-insensitively against
// the ggml names ("q4_K", "Q4_K" and "q4_k" all give TypeQ4_K).
func ParseType(s string) (Type, error) {
	for i, in := range typeTable {
		if in.block != 0 && strings.EqualFold(in.name, s) {
			return Type(i), nil
		}
	}
	return 0, errors.New("gguf: unknown ggml type name " + strconv.Quote(s))
}
