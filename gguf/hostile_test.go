package gguf_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/lmc-project/lmc/gguf"
)

var update = flag.Bool("update", false, "rewrite testdata/hostile/ from the generator in hostile_test.go")

const hostileDir = "testdata/hostile"

// raw builds GGUF bytes field by field, including invalid ones.
type raw struct{ bytes.Buffer }

func (r *raw) u32(v uint32) *raw { r.Write(binary.LittleEndian.AppendUint32(nil, v)); return r }
func (r *raw) u64(v uint64) *raw { r.Write(binary.LittleEndian.AppendUint64(nil, v)); return r }
func (r *raw) str(s string) *raw { r.u64(uint64(len(s))); r.WriteString(s); return r }

func hdr(version uint32, nTensors, nKV uint64) *raw {
	r := &raw{}
	r.WriteString("GGUF")
	return r.u32(version).u64(nTensors).u64(nKV)
}

// kv writes a key, a value type and the given value bytes.
func (r *raw) kv(key string, vt gguf.ValueType, val func(*raw)) *raw {
	r.str(key).u32(uint32(vt))
	val(r)
	return r
}

func (r *raw) kvStr(key, v string) *raw {
	return r.kv(key, gguf.ValueString, func(r *raw) { r.str(v) })
}

func (r *raw) kvU32(key string, v uint32) *raw {
	return r.kv(key, gguf.ValueUint32, func(r *raw) { r.u32(v) })
}

func (r *raw) tensor(name string, dims []uint64, typ gguf.Type, off uint64) *raw {
	r.str(name).u32(uint32(len(dims)))
	for _, d := range dims {
		r.u64(d)
	}
	return r.u32(uint32(typ)).u64(off)
}

// pad zero-pads to a multiple of 32, then appends n data bytes.
func (r *raw) pad(n int) *raw {
	for r.Len()%32 != 0 {
		r.WriteByte(0)
	}
	r.Write(make([]byte, n))
	return r
}

func (r *raw) cut(n int) []byte { return r.Bytes()[:r.Len()-n] }

// valid is a correct file with one KV and one 64-byte F32 tensor "w".
func valid() *raw {
	return hdr(3, 1, 1).kvStr("general.architecture", "llama").tensor("w", []uint64{16}, gguf.TypeF32, 0).pad(64)
}

type hostileCase struct {
	name string   // file name without .gguf, naming the defect
	data []byte   // file contents
	want []string // substrings the error must contain (besides the file name)
}

// hostileCases generates the hostile corpus. Each file is valid except for
// the defect its name gives.
func hostileCases() []hostileCase {
	nested := func(depth int) func(*raw) {
		return func(r *raw) {
			for range depth - 1 {
				r.u32(uint32(gguf.ValueArray)).u64(1)
			}
			r.u32(uint32(gguf.ValueUint8)).u64(1)
			r.WriteByte(7)
		}
	}
	oneTensor := func(name string, dims []uint64, typ gguf.Type, off uint64, data int) []byte {
		return hdr(3, 1, 1).kvStr("general.architecture", "llama").tensor(name, dims, typ, off).pad(data).Bytes()
	}
	twoTensors := func(off2 uint64) []byte {
		return hdr(3, 2, 0).tensor("a", []uint64{16}, gguf.TypeF32, 0).
			tensor("b", []uint64{16}, gguf.TypeF32, off2).pad(128).Bytes()
	}
	withAlign := func(vt gguf.ValueType, val func(*raw)) []byte {
		return hdr(3, 1, 1).kv("general.alignment", vt, val).tensor("w", []uint64{16}, gguf.TypeF32, 0).pad(64).Bytes()
	}
	return []hostileCase{
		{"empty-file", nil, []string{"magic", "truncated"}},
		{"bad-magic", append([]byte("GGML"), valid().Bytes()[4:]...), []string{"magic", "not a GGUF file"}},
		{"version-1", hdr(1, 0, 0).Bytes(), []string{"version", "GGUF v1"}},
		{"version-4", hdr(4, 0, 0).Bytes(), []string{"version", "unsupported version 4"}},
		{"version-0", hdr(0, 0, 0).Bytes(), []string{"version", "unsupported version 0"}},
		{"big-endian", hdr(0x03000000, 0, 0).Bytes(), []string{"version", "big-endian"}},
		{"truncated-header", hdr(3, 0, 0).cut(4), []string{"metadata_kv_count", "truncated"}},
		{"truncated-kv", hdr(3, 0, 2).kvStr("general.architecture", "llama").kvStr("general.name", "books").cut(9),
			[]string{`key "general.name" value`, "truncated"}},
		{"truncated-tensor-info", hdr(3, 1, 0).tensor("w", []uint64{16, 4}, gguf.TypeF32, 0).cut(16),
			[]string{`tensor "w" ne[1]`, "truncated"}},
		{"kv-count-huge", hdr(3, 0, 1<<60).kvStr("a", "b").Bytes(), []string{"metadata_kv_count", "cannot fit"}},
		{"tensor-count-huge", hdr(3, 1<<60, 0).Bytes(), []string{"tensor_count", "cannot fit"}},
		{"key-too-long", hdr(3, 0, 1).u64(65536).u64(0).u64(0).Bytes(), []string{"key 0", "limit of 65535"}},
		{"key-len-huge", hdr(3, 0, 1).u64(1 << 62).u64(0).Bytes(), []string{"key 0", "string length"}},
		{"string-len-huge", hdr(3, 0, 1).kv("k", gguf.ValueString, func(r *raw) { r.u64(1 << 62) }).Bytes(),
			[]string{`key "k" value`, "string length 4611686018427387904 exceeds"}},
		{"empty-key", hdr(3, 0, 1).kvU32("", 1).Bytes(), []string{"key 0", "empty key"}},
		{"duplicate-key", hdr(3, 0, 2).kvU32("a.b", 1).kvU32("a.b", 2).Bytes(), []string{`key "a.b"`, "duplicate key"}},
		{"non-utf8-key", hdr(3, 0, 1).kvU32("a\xff\xfe", 1).Bytes(), []string{"key 0", "UTF-8"}},
		{"non-utf8-string", hdr(3, 0, 1).kvStr("k", "caf\xc3").Bytes(), []string{`key "k" value`, "UTF-8"}},
		{"non-utf8-array-string", hdr(3, 0, 1).kv("k", gguf.ValueArray, func(r *raw) {
			r.u32(uint32(gguf.ValueString)).u64(2).str("ok").str("\xe2\x82")
		}).Bytes(), []string{`key "k" value`, "element 1", "UTF-8"}},
		{"unknown-value-type", hdr(3, 0, 1).kv("k", 13, func(r *raw) { r.u32(0) }).Bytes(),
			[]string{`key "k" value`, "unknown value type 13"}},
		{"unknown-array-elem-type", hdr(3, 0, 1).kv("k", gguf.ValueArray, func(r *raw) { r.u32(99).u64(0) }).Bytes(),
			[]string{`key "k" value`, "unknown array element type 99"}},
		{"bool-not-0-or-1", hdr(3, 0, 1).kv("k", gguf.ValueBool, func(r *raw) { r.WriteByte(2) }).Bytes(),
			[]string{`key "k" value`, "bool byte is 2"}},
		{"array-count-huge", hdr(3, 0, 1).kv("k", gguf.ValueArray, func(r *raw) {
			r.u32(uint32(gguf.ValueUint8)).u64(1 << 60).Write(make([]byte, 1000))
		}).Bytes(), []string{`key "k" value`, "array of 1152921504606846976 u8 elements cannot fit"}},
		{"array-string-count-huge", hdr(3, 0, 1).kv("k", gguf.ValueArray, func(r *raw) {
			r.u32(uint32(gguf.ValueString)).u64(1 << 59).str("a")
		}).Bytes(), []string{`key "k" value`, "str elements cannot fit"}},
		{"nested-array-count-huge", hdr(3, 0, 1).kv("k", gguf.ValueArray, func(r *raw) {
			r.u32(uint32(gguf.ValueArray)).u64(1).u32(uint32(gguf.ValueArray)).u64(1 << 50)
		}).Bytes(), []string{`key "k" value`, "arr elements cannot fit"}},
		{"nesting-too-deep", hdr(3, 0, 1).kv("k", gguf.ValueArray, nested(gguf.MaxArrayDepth+1)).Bytes(),
			[]string{`key "k" value`, "nested deeper than 8"}},
		{"alignment-not-pow2", withAlign(gguf.ValueUint32, func(r *raw) { r.u32(48) }),
			[]string{`key "general.alignment"`, "alignment 48 is not a power of two"}},
		{"alignment-zero", withAlign(gguf.ValueUint32, func(r *raw) { r.u32(0) }),
			[]string{`key "general.alignment"`, "alignment 0 is not a power of two"}},
		{"alignment-wrong-type", withAlign(gguf.ValueUint64, func(r *raw) { r.u64(32) }),
			[]string{`key "general.alignment"`, "must be a u32, got a u64"}},
		{"name-too-long", oneTensor(strings.Repeat("n", 64), []uint64{16}, gguf.TypeF32, 0, 64),
			[]string{"tensor 0 name", "limit of 63"}},
		{"non-utf8-name", oneTensor("blk.\xff", []uint64{16}, gguf.TypeF32, 0, 64), []string{"tensor 0 name", "UTF-8"}},
		{"duplicate-tensor-name", hdr(3, 2, 0).tensor("w", []uint64{16}, gguf.TypeF32, 0).
			tensor("w", []uint64{16}, gguf.TypeF32, 64).pad(128).Bytes(), []string{`tensor "w"`, "duplicate tensor name"}},
		{"ndims-5", oneTensor("w", []uint64{1, 1, 1, 1, 16}, gguf.TypeF32, 0, 64),
			[]string{`tensor "w" n_dims`, "5 dimensions"}},
		{"dims-2^60", oneTensor("w", []uint64{1 << 60, 1 << 60}, gguf.TypeF32, 0, 64),
			[]string{`tensor "w" shape`, "overflows int64"}},
		{"dim-over-int64", oneTensor("w", []uint64{1 << 63}, gguf.TypeF32, 0, 64),
			[]string{`tensor "w" ne[0]`, "does not fit in an int64"}},
		{"size-overflow", oneTensor("w", []uint64{1 << 62}, gguf.TypeF32, 0, 64),
			[]string{`tensor "w" shape`, "size in bytes"}},
		{"unknown-type-id", oneTensor("w", []uint64{32}, 4, 0, 64), []string{`tensor "w" type`, "unknown ggml type id 4"}},
		{"unknown-type-id-large", oneTensor("w", []uint64{32}, 1000, 0, 64),
			[]string{`tensor "w" type`, "unknown ggml type id 1000"}},
		{"row-not-multiple", oneTensor("w", []uint64{33}, gguf.TypeQ4_0, 0, 64),
			[]string{`tensor "w" type`, "ne[0]=33 is not a multiple of the q4_0 block size 32"}},
		{"misaligned-offset", oneTensor("w", []uint64{16}, gguf.TypeF32, 8, 96),
			[]string{`tensor "w" offset`, "not a multiple of the alignment 32"}},
		{"offset-out-of-range", oneTensor("w", []uint64{16}, gguf.TypeF32, 1<<40, 64),
			[]string{`tensor "w" data`, "run past the end"}},
		{"data-truncated", oneTensor("w", []uint64{16}, gguf.TypeF32, 0, 32),
			[]string{`tensor "w" data`, "64 bytes at data offset 0 run past the end"}},
		{"padding-past-eof", hdr(3, 1, 0).tensor("w", []uint64{0}, gguf.TypeF32, 0).Bytes(),
			[]string{"data section", "padding"}},
		{"overlap", twoTensors(32), []string{`tensor "b" data`, `overlap tensor "a"`}},
	}
}

// TestHostileCorpus checks every file in testdata/hostile: each must be
// refused with a FormatError that wraps ErrFormat, names the file, and
// names the defect, through Open (mmap) and Parse (ReaderAt) alike.
func TestHostileCorpus(t *testing.T) {
	cases := hostileCases()
	if *update {
		if err := os.RemoveAll(hostileDir); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(hostileDir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			if err := os.WriteFile(filepath.Join(hostileDir, c.name+".gguf"), c.data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The committed corpus must be exactly what the generator makes.
	files, _ := filepath.Glob(filepath.Join(hostileDir, "*.gguf"))
	sort.Strings(files)
	if len(files) != len(cases) {
		t.Errorf("%s holds %d files, the generator makes %d: run go test -run TestHostileCorpus -update",
			hostileDir, len(files), len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(hostileDir, c.name+".gguf")
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if !bytes.Equal(b, c.data) {
				t.Fatalf("%s differs from the generator (run with -update)", path)
			}
			f, err := gguf.Open(path)
			if err == nil {
				f.Close()
				t.Fatalf("Open accepted %s", path)
			}
			checkHostileErr(t, err, c.name+".gguf", c.want)
			_, err2 := gguf.Parse(path, bytes.NewReader(b), int64(len(b)))
			if err2 == nil || err2.Error() != err.Error() {
				t.Errorf("Parse and Open disagree:\n%v\n%v", err2, err)
			}
		})
	}
}

func checkHostileErr(t *testing.T, err error, file string, want []string) {
	t.Helper()
	if !errors.Is(err, gguf.ErrFormat) {
		t.Errorf("error %v does not wrap ErrFormat", err)
	}
	var fe *gguf.FormatError
	if !errors.As(err, &fe) {
		t.Errorf("error %T is not a *FormatError", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, file) {
		t.Errorf("error %q does not name the file %s", msg, file)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not contain %q", msg, w)
		}
	}
	if fe != nil && strings.Contains(fe.Msg, "truncated") != errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("error %q: io.ErrUnexpectedEOF must be wrapped exactly when truncated", msg)
	}
}

// TestValidBase checks that the base of the hostile files is itself valid,
// so that each hostile file has exactly the defect it is named for.
func TestValidBase(t *testing.T) {
	f, err := gguf.ParseBytes("valid.gguf", valid().Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if f.Arch() != "llama" || len(f.Tensors) != 1 || f.Tensors[0].Size() != 64 {
		t.Errorf("unexpected parse of the base file: %+v", f)
	}
	for _, b := range [][]byte{
		hdr(3, 2, 0).tensor("a", []uint64{16}, gguf.TypeF32, 0).tensor("b", []uint64{16}, gguf.TypeF32, 64).pad(128).Bytes(),
		hdr(3, 1, 0).tensor("w", []uint64{0}, gguf.TypeF32, 0).pad(0).Bytes(),
		hdr(3, 0, 1).kv("k", gguf.ValueArray, func(r *raw) {
			r.u32(uint32(gguf.ValueString)).u64(2).str("ok").str("€")
		}).Bytes(),
	} {
		if _, err := gguf.ParseBytes("valid.gguf", b); err != nil {
			t.Errorf("valid variant refused: %v", err)
		}
	}
}

// TestTruncatedPrefixes parses every prefix of a valid file: each one that
// cuts off the header or tensor data must fail with ErrFormat.
func TestTruncatedPrefixes(t *testing.T) {
	b := writeSynth(t, 3)
	f, err := gguf.ParseBytes("synth.gguf", b)
	if err != nil {
		t.Fatal(err)
	}
	last := f.Tensors[len(f.Tensors)-1]
	end := f.DataOffset + int64(last.Offset+last.Size())
	for n := range int(end) {
		_, err := gguf.ParseBytes("prefix.gguf", b[:n])
		if !errors.Is(err, gguf.ErrFormat) {
			t.Fatalf("prefix of %d bytes: error %v, want ErrFormat", n, err)
		}
		var fe *gguf.FormatError
		if errors.As(err, &fe) && strings.Contains(fe.Msg, "truncated") != errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("prefix of %d bytes: %q: io.ErrUnexpectedEOF must be wrapped exactly when truncated", n, err)
		}
	}
	if _, err := gguf.ParseBytes("prefix.gguf", b[:end]); err != nil {
		t.Errorf("file cut after the last tensor's data: %v", err)
	}
}

// errReaderAt fails every read, to check that I/O errors pass through
// as they are rather than as format errors.
type errReaderAt struct{}

func (errReaderAt) ReadAt([]byte, int64) (int, error) { return 0, errors.New("device gone") }

func TestParseIOError(t *testing.T) {
	_, err := gguf.Parse("x.gguf", errReaderAt{}, 1000)
	if err == nil || errors.Is(err, gguf.ErrFormat) || !strings.Contains(err.Error(), "device gone") {
		t.Errorf("got %v, want the I/O error, not ErrFormat", err)
	}
}
