package imatrix

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/lmc-project/lmc/gguf"
	"github.com/lmc-project/lmc/internal/atomicfile"
)

// GGUF keys of llama-imatrix's files.
const (
	KeyType       = "general.type"
	KeyDatasets   = "imatrix.datasets"
	KeyChunkCount = "imatrix.chunk_count"
	KeyChunkSize  = "imatrix.chunk_size"
)

// Tensor name suffixes of llama-imatrix's GGUF files.
const (
	SuffixSum2   = ".in_sum2"
	SuffixCounts = ".counts"
	SuffixSum    = ".in_sum"
)

// MaxFileBytes is the largest importance-matrix file Read accepts (4 GiB:
// a 1T-parameter MoE's file is about 1 GiB).
const MaxFileBytes = 4 << 30

// maxLegacyName is the longest entry name of a legacy file.
const maxLegacyName = 4096

// ReadOptions tunes Read and Parse.
type ReadOptions struct {
	// LegacyChunkSize is the chunk size assumed for legacy .dat files,
	// which do not store it (llama-imatrix assumes its -c, default 512).
	LegacyChunkSize int
}

// Read reads an importance matrix in llama.cpp's GGUF or legacy format
// (told apart by the GGUF magic). o may be nil.
func Read(path string, o *ReadOptions) (*Matrix, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > MaxFileBytes {
		return nil, &FormatError{File: path, Field: "size", Msg: fmt.Sprintf("%d bytes, more than the %d lmc reads", st.Size(), int64(MaxFileBytes))}
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	return Parse(path, b, o)
}

// Parse reads an importance matrix held in memory (see Read).
func Parse(name string, b []byte, o *ReadOptions) (*Matrix, error) {
	if bytes.HasPrefix(b, []byte(gguf.Magic)) {
		return parseGGUF(name, b)
	}
	cs := 512
	if o != nil && o.LegacyChunkSize > 0 {
		cs = o.LegacyChunkSize
	}
	return parseLegacy(name, b, cs)
}

func parseGGUF(name string, b []byte) (*Matrix, error) {
	f, err := gguf.ParseBytes(name, b)
	if err != nil {
		return nil, err
	}
	fail := func(entry, field, msg string) error {
		return &FormatError{File: name, Entry: entry, Field: field, Msg: msg}
	}
	m := &Matrix{Entries: map[string]*Entry{}}
	if t, ok := f.String(KeyType); ok && t != "imatrix" {
		return nil, fail("", KeyType, fmt.Sprintf("is %q, not \"imatrix\"", t))
	}
	if _, ok := f.Get(KeyDatasets); ok {
		ds, ok := f.Strings(KeyDatasets)
		if !ok {
			return nil, fail("", KeyDatasets, "not an array of strings")
		}
		m.Datasets = ds
	}
	for _, k := range []struct {
		key string
		dst *int
	}{{KeyChunkCount, &m.ChunkCount}, {KeyChunkSize, &m.ChunkSize}} {
		v, ok := f.Get(k.key)
		if !ok {
			return nil, fail("", k.key, "missing (llama-quantize requires it)")
		}
		u, ok := v.AsUint()
		if !ok || u > math.MaxInt32 {
			return nil, fail("", k.key, fmt.Sprintf("%v is not a u32", v))
		}
		*k.dst = int(u)
	}
	type parts struct{ sum2, counts, sum *gguf.TensorInfo }
	byEntry := map[string]*parts{}
	for i := range f.Tensors {
		ti := &f.Tensors[i]
		var slot func(p *parts) **gguf.TensorInfo
		base := ti.Name
		switch {
		case strings.HasSuffix(base, SuffixSum2):
			base = strings.TrimSuffix(base, SuffixSum2)
			slot = func(p *parts) **gguf.TensorInfo { return &p.sum2 }
		case strings.HasSuffix(base, SuffixCounts):
			base = strings.TrimSuffix(base, SuffixCounts)
			slot = func(p *parts) **gguf.TensorInfo { return &p.counts }
		case strings.HasSuffix(base, SuffixSum):
			base = strings.TrimSuffix(base, SuffixSum)
			slot = func(p *parts) **gguf.TensorInfo { return &p.sum }
		default:
			continue // llama.cpp ignores other tensors
		}
		if ti.Type != gguf.TypeF32 {
			return nil, fail(base, ti.Name, fmt.Sprintf("type %s, want f32", ti.Type))
		}
		p := byEntry[base]
		if p == nil {
			p = &parts{}
			byEntry[base] = p
		}
		*slot(p) = ti
	}
	if len(byEntry) == 0 {
		return nil, fail("", "tensors", "no in_sum2/counts tensors: not an importance matrix")
	}
	for base, p := range byEntry {
		if p.sum2 == nil || p.counts == nil {
			return nil, fail(base, "tensors", "in_sum2 and counts must come in pairs")
		}
		cols, mats := dims2(*p.sum2)
		if cols <= 0 || mats <= 0 {
			return nil, fail(base, "in_sum2", fmt.Sprintf("shape %v", p.sum2.Shape))
		}
		if int(p.counts.NumElements()) != mats {
			return nil, fail(base, "counts", fmt.Sprintf("%d values for %d matrices", p.counts.NumElements(), mats))
		}
		e := &Entry{Cols: cols}
		if e.Sum2, err = f32s(f, p.sum2.Name); err != nil {
			return nil, err
		}
		if e.Counts, err = f32s(f, p.counts.Name); err != nil {
			return nil, err
		}
		if p.sum != nil {
			if p.sum.NumElements() != p.sum2.NumElements() {
				return nil, fail(base, "in_sum", fmt.Sprintf("%d values, in_sum2 has %d", p.sum.NumElements(), p.sum2.NumElements()))
			}
			if e.Sum, err = f32s(f, p.sum.Name); err != nil {
				return nil, err
			}
		}
		if err := e.validate(name, base); err != nil {
			return nil, err
		}
		m.Entries[base] = e
	}
	return m, nil
}

// dims2 returns ne[0] and the product of the other dimensions.
func dims2(t gguf.TensorInfo) (int, int) {
	if len(t.Shape) == 0 {
		return 0, 0
	}
	n := t.NumElements()
	if t.Shape[0] == 0 || n > math.MaxInt32 {
		return 0, 0
	}
	return int(t.Shape[0]), int(n / t.Shape[0])
}

func f32s(f *gguf.File, name string) ([]float32, error) {
	b, err := f.Data(name)
	if err != nil {
		return nil, err
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v, nil
}

// legacyReader is a cursor over a legacy file.
type legacyReader struct {
	name string
	b    []byte
	off  int
}

func (r *legacyReader) i32(entry, field string) (int32, error) {
	if len(r.b)-r.off < 4 {
		return 0, &FormatError{File: r.name, Entry: entry, Field: field, Msg: fmt.Sprintf("truncated at offset %d", r.off), Err: io.ErrUnexpectedEOF}
	}
	v := int32(binary.LittleEndian.Uint32(r.b[r.off:]))
	r.off += 4
	return v, nil
}

func (r *legacyReader) bytes(n int, entry, field string) ([]byte, error) {
	if n < 0 || len(r.b)-r.off < n {
		return nil, &FormatError{File: r.name, Entry: entry, Field: field, Msg: fmt.Sprintf("%d bytes at offset %d run past the end of the file (%d bytes)", n, r.off, len(r.b)), Err: io.ErrUnexpectedEOF}
	}
	s := r.b[r.off : r.off+n]
	r.off += n
	return s, nil
}

func parseLegacy(name string, b []byte, chunkSize int) (*Matrix, error) {
	r := &legacyReader{name: name, b: b}
	n, err := r.i32("", "n_entries")
	if err != nil {
		return nil, err
	}
	// An entry takes at least 16 bytes (len, one name byte, ncall, nval,
	// one float... 4+1+4+4+4 = 17).
	if n < 1 || int64(n) > int64(len(b))/16 {
		return nil, &FormatError{File: name, Field: "n_entries", Msg: fmt.Sprintf("%d entries cannot fit in %d bytes", n, len(b))}
	}
	m := &Matrix{Entries: make(map[string]*Entry, n), ChunkSize: chunkSize}
	maxCalls := int32(0)
	for i := 0; i < int(n); i++ {
		field := fmt.Sprintf("entry %d", i)
		ln, err := r.i32("", field+" name length")
		if err != nil {
			return nil, err
		}
		if ln < 1 || ln > maxLegacyName {
			return nil, &FormatError{File: name, Field: field + " name length", Msg: fmt.Sprintf("%d (want 1…%d)", ln, maxLegacyName)}
		}
		nb, err := r.bytes(int(ln), "", field+" name")
		if err != nil {
			return nil, err
		}
		if !utf8.Valid(nb) {
			return nil, &FormatError{File: name, Field: field + " name", Msg: "not UTF-8"}
		}
		en := string(nb)
		if _, dup := m.Entries[en]; dup {
			return nil, &FormatError{File: name, Entry: en, Field: "name", Msg: "appears twice"}
		}
		ncall, err := r.i32(en, "ncall")
		if err != nil {
			return nil, err
		}
		nval, err := r.i32(en, "nval")
		if err != nil {
			return nil, err
		}
		if ncall < 0 {
			return nil, &FormatError{File: name, Entry: en, Field: "ncall", Msg: fmt.Sprintf("%d is negative", ncall)}
		}
		if nval < 1 || int64(nval)*4 > int64(len(b)-r.off) {
			return nil, &FormatError{File: name, Entry: en, Field: "nval", Msg: fmt.Sprintf("%d values do not fit in the %d bytes left", nval, len(b)-r.off)}
		}
		raw, _ := r.bytes(int(nval)*4, en, "values")
		calls := ncall
		if calls == 0 { // llama-quantize uses the values as they are
			calls = 1
		}
		e := &Entry{Cols: int(nval), Sum2: make([]float32, nval), Counts: []float32{float32(int64(calls) * int64(chunkSize))}}
		for j := range e.Sum2 {
			v := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
			e.Sum2[j] = v / float32(calls) * e.Counts[0]
		}
		if err := e.validate(name, en); err != nil {
			return nil, err
		}
		m.Entries[en] = e
		maxCalls = max(maxCalls, ncall)
	}
	m.ChunkCount = int(maxCalls)
	if r.off == len(b) {
		return m, nil
	}
	// Trailer: the chunk count and the dataset name.
	last, err := r.i32("", "last_chunk")
	if err != nil {
		return nil, err
	}
	dl, err := r.i32("", "dataset length")
	if err != nil {
		return nil, err
	}
	ds, err := r.bytes(int(dl), "", "dataset")
	if err != nil {
		return nil, err
	}
	if !utf8.Valid(ds) {
		return nil, &FormatError{File: name, Field: "dataset", Msg: "not UTF-8"}
	}
	if last >= 0 {
		m.ChunkCount = int(last)
	}
	m.Datasets = []string{string(ds)}
	if r.off != len(b) {
		return nil, &FormatError{File: name, Field: "trailer", Msg: fmt.Sprintf("%d stray bytes after the dataset name", len(b)-r.off)}
	}
	return m, nil
}

// shape2 returns the GGUF shape (ne) of a cols × mats tensor with trailing
// 1s dropped, as ggml_n_dims does when gguf writes a tensor.
func shape2(cols, mats int) []uint64 {
	if mats == 1 {
		return []uint64{uint64(cols)}
	}
	return []uint64{uint64(cols), uint64(mats)}
}

func f32Bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// EncodeGGUF writes m in llama-imatrix's GGUF format to w: the keys
// general.type, imatrix.datasets, imatrix.chunk_count and
// imatrix.chunk_size, then per entry (sorted by name) in_sum2, counts and,
// when recorded, in_sum.
func (m *Matrix) EncodeGGUF(w io.Writer) error {
	ds := m.Datasets
	if ds == nil {
		ds = []string{}
	}
	kvs := []gguf.KV{
		{Key: KeyType, Value: gguf.String("imatrix")},
		{Key: KeyDatasets, Value: gguf.Strings(ds)},
		{Key: KeyChunkCount, Value: gguf.Uint32(uint32(m.ChunkCount))},
		{Key: KeyChunkSize, Value: gguf.Uint32(uint32(m.ChunkSize))},
	}
	var infos []gguf.TensorInfo
	var data [][]byte
	for _, name := range m.Names() {
		e := m.Entries[name]
		if err := e.validate("(writing)", name); err != nil {
			return err
		}
		infos = append(infos, gguf.TensorInfo{Name: name + SuffixSum2, Shape: shape2(e.Cols, e.Mats()), Type: gguf.TypeF32},
			gguf.TensorInfo{Name: name + SuffixCounts, Shape: shape2(1, e.Mats()), Type: gguf.TypeF32})
		data = append(data, f32Bytes(e.Sum2), f32Bytes(e.Counts))
		if e.Sum != nil {
			infos = append(infos, gguf.TensorInfo{Name: name + SuffixSum, Shape: shape2(e.Cols, e.Mats()), Type: gguf.TypeF32})
			data = append(data, f32Bytes(e.Sum))
		}
	}
	gw, err := gguf.NewWriter(w, kvs, infos, 0)
	if err != nil {
		return err
	}
	for i, ti := range infos {
		if err := gw.WriteTensor(ti.Name, data[i]); err != nil {
			return err
		}
	}
	return gw.Close()
}

// EncodeLegacy writes m in the legacy .dat format: entries whose counts
// are all 0 are left out (as llama-imatrix does); ncall is the largest
// count divided by the chunk size, rounded up, and values are mean squares
// times ncall (a matrix with count 0 stores 1s).
func (m *Matrix) EncodeLegacy(w io.Writer) error {
	cs := m.ChunkSize
	if cs <= 0 {
		return errors.New("imatrix: the legacy format needs a positive chunk size")
	}
	var body bytes.Buffer
	put := func(v int32) { binary.Write(&body, binary.LittleEndian, v) }
	n := int32(0)
	for _, name := range m.Names() {
		e := m.Entries[name]
		if err := e.validate("(writing)", name); err != nil {
			return err
		}
		maxc := float32(0)
		for _, c := range e.Counts {
			maxc = max(maxc, c)
		}
		if maxc == 0 {
			continue
		}
		n++
		put(int32(len(name)))
		body.WriteString(name)
		ncall := int32((int64(maxc) + int64(cs) - 1) / int64(cs))
		put(ncall)
		put(int32(len(e.Sum2)))
		vals := make([]float32, len(e.Sum2))
		for i, s := range e.Sum2 {
			c := e.Counts[i/e.Cols]
			if c == 0 {
				s, c = 1, 1
			}
			vals[i] = s / c * float32(ncall)
		}
		body.Write(f32Bytes(vals))
	}
	put(int32(m.ChunkCount))
	ds := ""
	if len(m.Datasets) > 0 {
		ds = m.Datasets[len(m.Datasets)-1]
	}
	put(int32(len(ds)))
	body.WriteString(ds)
	var hdr [4]byte
	binary.LittleEndian.PutUint32(hdr[:], uint32(n))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := w.Write(body.Bytes())
	return err
}

// WriteGGUF writes m to path in the GGUF format, atomically.
func (m *Matrix) WriteGGUF(path string) error { return m.write(path, m.EncodeGGUF) }

// WriteLegacy writes m to path in the legacy .dat format, atomically.
func (m *Matrix) WriteLegacy(path string) error { return m.write(path, m.EncodeLegacy) }

func (m *Matrix) write(path string, enc func(io.Writer) error) error {
	f, err := atomicfile.Create(path)
	if err != nil {
		return err
	}
	defer f.Abort()
	if err := enc(f); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Commit()
}
