package gguf_test

import (
	"strings"
	"testing"

	parser "github.com/gpustack/gguf-parser-go"

	"github.com/lmc-project/lmc/gguf"
)

func TestTypeTable(t *testing.T) {
	// Block layouts from FORMATS.md (ggml-common.h), plus the plain types.
	tests := []struct {
		typ         gguf.Type
		name        string
		block, size int64
	}{
		{gguf.TypeF32, "f32", 1, 4},
		{gguf.TypeF16, "f16", 1, 2},
		{gguf.TypeBF16, "bf16", 1, 2},
		{gguf.TypeF64, "f64", 1, 8},
		{gguf.TypeI8, "i8", 1, 1},
		{gguf.TypeI32, "i32", 1, 4},
		{gguf.TypeQ4_0, "q4_0", 32, 18},
		{gguf.TypeQ4_1, "q4_1", 32, 20},
		{gguf.TypeQ5_0, "q5_0", 32, 22},
		{gguf.TypeQ5_1, "q5_1", 32, 24},
		{gguf.TypeQ8_0, "q8_0", 32, 34},
		{gguf.TypeQ2_K, "q2_K", 256, 84},
		{gguf.TypeQ3_K, "q3_K", 256, 110},
		{gguf.TypeQ4_K, "q4_K", 256, 144},
		{gguf.TypeQ5_K, "q5_K", 256, 176},
		{gguf.TypeQ6_K, "q6_K", 256, 210},
		{gguf.TypeQ8_K, "q8_K", 256, 292},
		{gguf.TypeIQ4_NL, "iq4_nl", 32, 18},
		{gguf.TypeIQ4_XS, "iq4_xs", 256, 136},
		{gguf.TypeMXFP4, "mxfp4", 32, 17},
		{gguf.TypeNVFP4, "nvfp4", 64, 36},
	}
	for _, tc := range tests {
		if tc.typ.String() != tc.name || tc.typ.BlockSize() != tc.block || tc.typ.TypeSize() != tc.size || !tc.typ.Known() {
			t.Errorf("type %d: got %s %d/%d known=%v, want %s %d/%d", uint32(tc.typ), tc.typ, tc.typ.BlockSize(),
				tc.typ.TypeSize(), tc.typ.Known(), tc.name, tc.block, tc.size)
		}
		if q := tc.typ.Quantized(); q != (tc.block > 1) {
			t.Errorf("%s: Quantized() = %v", tc.typ, q)
		}
	}
	if got := gguf.TypeQ4_K.UpperName(); got != "Q4_K" {
		t.Errorf("UpperName = %q", got)
	}
}

func TestTypeIDs(t *testing.T) {
	removed := map[uint32]bool{4: true, 5: true, 31: true, 32: true, 33: true, 36: true, 37: true, 38: true}
	known := 0
	for id := range uint32(64) {
		typ := gguf.Type(id)
		wantKnown := id <= 42 && !removed[id]
		if typ.Known() != wantKnown {
			t.Errorf("id %d: Known() = %v, want %v", id, typ.Known(), wantKnown)
		}
		if !wantKnown {
			if typ.BlockSize() != 0 || typ.TypeSize() != 0 || typ.String() != "type("+itoa(id)+")" {
				t.Errorf("unknown id %d: %s %d/%d", id, typ, typ.BlockSize(), typ.TypeSize())
			}
			if _, err := typ.RowSize(256); err == nil {
				t.Errorf("unknown id %d: RowSize succeeded", id)
			}
			continue
		}
		known++
		// Cross-check with gguf-parser-go's table (same ids, same sizes).
		tr, ok := parser.GGMLType(id).Trait()
		if !ok || uint64(typ.BlockSize()) != tr.BlockSize || uint64(typ.TypeSize()) != tr.TypeSize {
			t.Errorf("%s: ours %d/%d, gguf-parser-go %d/%d", typ, typ.BlockSize(), typ.TypeSize(), tr.BlockSize, tr.TypeSize)
		}
		if theirs := parser.GGMLType(id).String(); theirs != typ.UpperName() {
			t.Errorf("id %d: UpperName %q, gguf-parser-go %q", id, typ.UpperName(), theirs)
		}
		for _, s := range []string{typ.String(), typ.UpperName(), strings.ToLower(typ.String())} {
			if p, err := gguf.ParseType(s); err != nil || p != typ {
				t.Errorf("ParseType(%q) = %v, %v; want %v", s, p, err, typ)
			}
		}
	}
	if got := len(gguf.Types()); got != known || known != 35 {
		t.Errorf("Types() has %d, %d ids known; want 35", got, known)
	}
	for _, s := range []string{"", "q4_2", "Q4_0_4_4", "f8", "q4_K "} {
		if _, err := gguf.ParseType(s); err == nil {
			t.Errorf("ParseType(%q) succeeded", s)
		}
	}
}

func itoa(v uint32) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + v%10)}, b...)
		if v /= 10; v == 0 {
			return string(b)
		}
	}
}

func TestRowSize(t *testing.T) {
	tests := []struct {
		typ     gguf.Type
		ne0     int64
		want    int64
		wantErr string
	}{
		{gguf.TypeF32, 7, 28, ""},
		{gguf.TypeF32, 0, 0, ""},
		{gguf.TypeQ4_0, 64, 36, ""},
		{gguf.TypeQ4_K, 4096, 16 * 144, ""},
		{gguf.TypeQ6_K, 256, 210, ""},
		{gguf.TypeQ4_K, 100, 0, "not a multiple of the q4_K block size 256"},
		{gguf.TypeQ8_0, 33, 0, "not a multiple"},
		{gguf.TypeF32, -1, 0, "negative"},
		{gguf.TypeF64, 1 << 62, 0, "overflows"},
		{gguf.Type(4), 32, 0, "unknown ggml type id 4"},
	}
	for _, tc := range tests {
		got, err := tc.typ.RowSize(tc.ne0)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%v.RowSize(%d) = %d, %v; want error %q", tc.typ, tc.ne0, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%v.RowSize(%d) = %d, %v; want %d", tc.typ, tc.ne0, got, err, tc.want)
		}
	}
}

func TestValueAccessors(t *testing.T) {
	tests := []struct {
		v      gguf.Value
		u      uint64
		uOK    bool
		i      int64
		iOK    bool
		f      float64
		fOK    bool
		render string
	}{
		{gguf.Uint8(200), 200, true, 200, true, 0, false, "200"},
		{gguf.Int8(-3), 0, false, -3, true, 0, false, "-3"},
		{gguf.Int32(7), 7, true, 7, true, 0, false, "7"},
		{gguf.Uint64(1 << 63), 1 << 63, true, 0, false, 0, false, "9223372036854775808"},
		{gguf.Int64(-1), 0, false, -1, true, 0, false, "-1"},
		{gguf.Float32(0.5), 0, false, 0, false, 0.5, true, "0.5"},
		{gguf.Float64(2), 0, false, 0, false, 2, true, "2"},
		{gguf.String("x"), 0, false, 0, false, 0, false, `"x"`},
		{gguf.Bool(true), 0, false, 0, false, 0, false, "true"},
		{gguf.Strings([]string{"a", "b", "c", "d", "e"}), 0, false, 0, false, 0, false, `[str × 5: "a", "b", "c", "d", …]`},
		{gguf.Arrays(gguf.Int32s([]int32{1})), 0, false, 0, false, 0, false, "[arr × 1: [i32 × 1: 1]]"},
	}
	for _, tc := range tests {
		u, uOK := tc.v.AsUint()
		i, iOK := tc.v.AsInt()
		f, fOK := tc.v.AsFloat()
		if u != tc.u || uOK != tc.uOK || i != tc.i || iOK != tc.iOK || f != tc.f || fOK != tc.fOK {
			t.Errorf("%v: AsUint %d %v, AsInt %d %v, AsFloat %v %v", tc.v, u, uOK, i, iOK, f, fOK)
		}
		if s := tc.v.String(); s != tc.render {
			t.Errorf("String() = %q, want %q", s, tc.render)
		}
	}
	if s, ok := gguf.Strings([]string{"a"}).AsStrings(); !ok || len(s) != 1 {
		t.Errorf("AsStrings failed")
	}
	if _, ok := gguf.Int32s([]int32{1}).AsStrings(); ok {
		t.Errorf("AsStrings accepted an i32 array")
	}
	if n := gguf.Float32s(make([]float32, 9)).V.(gguf.Array).Len(); n != 9 {
		t.Errorf("Len = %d", n)
	}
	defer func() {
		if recover() == nil {
			t.Errorf("Arrays of a scalar did not panic")
		}
	}()
	gguf.Arrays(gguf.Uint8(1))
}
