package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/hostile/ from the generator in hostile_test.go")

// st builds a file: u64 LE len(header), header padded with spaces to a
// multiple of 8, then data.
func st(header string, data []byte) []byte {
	h := []byte(header)
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	return stRaw(uint64(len(h)), h, data)
}

// stRaw builds a file with an arbitrary header length field.
func stRaw(n uint64, header []byte, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, n)
	b = append(b, header...)
	return append(b, data...)
}

type hostileCase struct {
	name        string // file name without extension: the defect
	data        []byte
	want        string // substring of the error
	unsupported bool   // errors.Is(err, ErrUnsupportedDType)
}

// hostileCases is the generator of testdata/hostile/: each file has exactly
// one defect, which its name says.
func hostileCases() []hostileCase {
	z8 := make([]byte, 8)
	z12 := make([]byte, 12)
	one := `{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`
	return []hostileCase{
		{"truncated", []byte{0x10, 0, 0}, "file is 3 bytes, shorter than the 8-byte header length", false},
		{"header-len-larger-than-file", stRaw(1000, []byte("{}      "), nil), "header length: 1000 is larger than the 8 bytes after it", false},
		{"header-len-over-100MB", stRaw(100_000_001, []byte("{}      "), nil), "header length: 100000001 exceeds the 100000000-byte limit", false},
		{"header-len-max-uint64", stRaw(^uint64(0), []byte("{}      "), nil), "exceeds the 100000000-byte limit", false},
		{"header-empty", stRaw(0, nil, nil), "header: JSON does not start with '{'", false},
		{"not-json", st("hello, world", nil), "header: JSON does not start with '{'", false},
		{"leading-space", st(" {}", nil), "header: JSON does not start with '{'", false},
		{"invalid-json", st(`{"a":{"dtype":"F32",}}`, nil), "invalid JSON", false},
		{"truncated-json", stRaw(13, []byte(`{"a":{"dtype"`), nil), "header JSON ends early", false},
		{"trailing-junk-after-json", st(`{}x`, nil), "header: unexpected bytes after the JSON object", false},
		{"second-json-object", st(`{}{}`, nil), "header: unexpected bytes after the JSON object", false},
		{"nul-padding", stRaw(8, []byte("{}\x00\x00\x00\x00\x00\x00"), nil), "header: unexpected bytes after the JSON object", false},
		{"entry-not-object", st(`{"a":[0,4]}`, nil), `tensor "a": tensor entry must be an object, got array`, false},
		{"duplicate-name", st(`{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"a":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}}`, z8), `tensor "a": name: duplicate tensor name`, false},
		{"duplicate-metadata", st(`{"__metadata__":{},"__metadata__":{}}`, nil), "duplicate __metadata__ key", false},
		{"duplicate-metadata-key", st(`{"__metadata__":{"k":"1","k":"2"}}`, nil), `__metadata__: duplicate key "k"`, false},
		{"duplicate-field", st(`{"a":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, z8[:4]), `tensor "a": dtype: duplicate field`, false},
		{"missing-dtype", st(`{"a":{"shape":[1],"data_offsets":[0,4]}}`, z8[:4]), `tensor "a": dtype: missing field`, false},
		{"missing-shape", st(`{"a":{"dtype":"F32","data_offsets":[0,4]}}`, z8[:4]), `tensor "a": shape: missing field`, false},
		{"missing-offsets", st(`{"a":{"dtype":"F32","shape":[1]}}`, z8[:4]), `tensor "a": data_offsets: missing field`, false},
		{"unknown-dtype", st(`{"a":{"dtype":"Q4_K","shape":[1],"data_offsets":[0,4]}}`, z8[:4]), `tensor "a": dtype: unknown dtype "Q4_K"`, false},
		{"lowercase-dtype", st(`{"a":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}}`, z8[:4]), `tensor "a": dtype: unknown dtype "f32"`, false},
		{"dtype-not-string", st(`{"a":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}`, z8[:4]), `tensor "a": dtype: must be a string, got number 4`, false},
		{"unsupported-dtype-F4", st(`{"w":{"dtype":"F4","shape":[2],"data_offsets":[0,1]}}`, z8[:1]), `tensor "w": dtype: "F4" is a safetensors dtype that lmc has no element type for`, true},
		{"unsupported-dtype-F8_E8M0", st(`{"s":{"dtype":"F8_E8M0","shape":[1],"data_offsets":[0,1]}}`, z8[:1]), `tensor "s": dtype: "F8_E8M0" is a safetensors dtype`, true},
		{"unsupported-dtype-C64", st(`{"c":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}`, z8), `tensor "c": dtype: "C64" is a safetensors dtype`, true},
		{"shape-not-array", st(`{"a":{"dtype":"F32","shape":1,"data_offsets":[0,4]}}`, z8[:4]), `tensor "a": shape: must be an array, got number 1`, false},
		{"negative-dim", st(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, z8[:4]), `tensor "a": shape: negative value -1`, false},
		{"fractional-dim", st(`{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}`, z8[:4]), `tensor "a": shape: 1.5 is not an integer`, false},
		{"dim-over-int64", st(`{"a":{"dtype":"U8","shape":[9223372036854775808],"data_offsets":[0,4]}}`, z8[:4]), `tensor "a": shape: 9223372036854775808 overflows int64`, false},
		{"shape-overflow-2^60", st(`{"a":{"dtype":"F32","shape":[1152921504606846976,16],"data_offsets":[0,4]}}`, z8[:4]), `tensor "a": shape: shape [1152921504606846976 16]: element count overflows int64`, false},
		{"shape-bytes-overflow-2^60", st(`{"a":{"dtype":"F64","shape":[1152921504606846976],"data_offsets":[0,8]}}`, z8), `tensor "a": shape: shape [1152921504606846976] × 8-byte F64 overflows int64`, false},
		{"shape-2^60-no-data", st(`{"a":{"dtype":"U8","shape":[1152921504606846976],"data_offsets":[0,4]}}`, z8[:4]), `needs 1152921504606846976`, false},
		{"offsets-not-array", st(`{"a":{"dtype":"F32","shape":[1],"data_offsets":"0,4"}}`, z8[:4]), `tensor "a": data_offsets: must be an array [begin, end]`, false},
		{"offsets-one-element", st(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}}`, z8[:4]), `data_offsets: must have exactly 2 elements, got 1`, false},
		{"offsets-three-elements", st(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`, z8), `data_offsets: must have exactly 2 elements, got more`, false},
		{"offsets-negative", st(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}`, z8[:4]), `data_offsets: negative value -4`, false},
		{"begin-after-end", st(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}`, z8), `tensor "a": data_offsets: begin 8 > end 4`, false},
		{"out-of-range", st(`{"a":{"dtype":"F32","shape":[250],"data_offsets":[0,1000]}}`, z8), `tensor "a": data_offsets: [0, 1000) out of range: the data section has 8 bytes`, false},
		{"size-mismatch", st(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, z8[:4]), `tensor "a": data_offsets: [0, 4) spans 4 bytes but shape [2] of F32 needs 8`, false},
		{"overlap", st(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, z12), `tensor "b": data_offsets: [4, 12) overlaps tensor "a" [0, 8)`, false},
		{"overlap-empty-tensor-inside", st(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}}`, z8), `tensor "e": data_offsets: [4, 4) overlaps tensor "a"`, false},
		{"hole", st(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, z12), `tensor "b": data_offsets: hole: data bytes [4, 8) belong to no tensor`, false},
		{"hole-at-start", st(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, z8), `tensor "a": data_offsets: hole: data bytes [0, 4) belong to no tensor`, false},
		{"trailing-garbage", st(one, z8), "trailing data: the tensors cover 4 bytes of a 8-byte data section", false},
		{"trailing-garbage-no-tensors", st(`{}`, z8[:1]), "trailing data: the tensors cover 0 bytes of a 1-byte data section", false},
		{"non-utf8-name", st("{\"a\xff\xfe\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", z8[:4]), "name: invalid UTF-8 in header", false},
		{"non-utf8-metadata", st("{\"__metadata__\":{\"k\":\"v\xc3\"}}", nil), "__metadata__: invalid UTF-8 in header", false},
		{"metadata-not-string", st(`{"__metadata__":{"format":1}}`, nil), `__metadata__: value of key "format" is not a string: got number 1`, false},
		{"metadata-nested-object", st(`{"__metadata__":{"cfg":{"a":"b"}}}`, nil), `__metadata__: value of key "cfg" is not a string: got object`, false},
		{"metadata-not-object", st(`{"__metadata__":["pt"]}`, nil), "__metadata__: must be an object of strings, got array", false},
	}
}

func TestHostileCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "hostile")
	cases := hostileCases()
	if *update {
		old, _ := filepath.Glob(filepath.Join(dir, "*.safetensors"))
		for _, p := range old {
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range cases {
			if err := os.WriteFile(filepath.Join(dir, c.name+".safetensors"), c.data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The committed corpus must be exactly what the generator makes.
	var names []string
	for _, c := range cases {
		names = append(names, c.name+".safetensors")
	}
	onDisk, _ := filepath.Glob(filepath.Join(dir, "*.safetensors"))
	for i := range onDisk {
		onDisk[i] = filepath.Base(onDisk[i])
	}
	slices.Sort(names)
	if !slices.Equal(names, onDisk) {
		t.Fatalf("testdata/hostile/ differs from hostileCases(); run go test -run TestHostileCorpus -update\nfiles:  %v\nwanted: %v", onDisk, names)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, c.name+".safetensors")
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, c.data) {
				t.Fatalf("%s differs from its generator; run go test -run TestHostileCorpus -update", path)
			}
			for _, mode := range []string{"Open", "FromBytes"} {
				var err error
				if mode == "Open" {
					_, err = Open(path)
				} else {
					_, err = FromBytes(path, c.data)
				}
				if err == nil {
					t.Fatalf("%s: no error", mode)
				}
				msg := err.Error()
				if !errors.Is(err, ErrFormat) {
					t.Errorf("%s: error does not wrap ErrFormat: %v", mode, err)
				}
				var fe *FormatError
				if !errors.As(err, &fe) || fe.File != path {
					t.Errorf("%s: want a *FormatError naming %s, got %#v", mode, path, err)
				}
				if !strings.Contains(msg, path) {
					t.Errorf("%s: error does not name the file: %s", mode, msg)
				}
				if !strings.Contains(msg, c.want) {
					t.Errorf("%s: error %q\ndoes not contain %q", mode, msg, c.want)
				}
				if got := errors.Is(err, ErrUnsupportedDType); got != c.unsupported {
					t.Errorf("%s: errors.Is(err, ErrUnsupportedDType) = %v, want %v", mode, got, c.unsupported)
				}
			}
		})
	}
}
