package llama2c

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"strconv"
	"strings"
	"sync"
)

// HeaderSize is the size of the legacy (v0) header: seven int32.
const HeaderSize = 28

// Magic is the first uint32 of llama2.c's versioned (v1, v2) checkpoints,
// "ak42" read as a little-endian uint32.
const Magic = 0x616b3432

// Limits on header values. They only keep the size arithmetic far from
// overflow; the file size then bounds everything.
const (
	MaxDim    = 1 << 20 // dim, hidden_dim, |vocab_size|, seq_len
	MaxLayers = 1 << 12 // n_layers
)

// ErrFormat is the sentinel that every *FormatError unwraps to.
var ErrFormat = errors.New("llama2c: invalid checkpoint")

// FormatError reports a malformed checkpoint: the file, the byte offset
// where meaningful (-1 otherwise), and the header field or tensor at fault.
type FormatError struct {
	File  string
	Off   int64
	Field string
	Msg   string
}

func (e *FormatError) Error() string {
	var b strings.Builder
	b.WriteString("llama2c: ")
	if e.File != "" {
		b.WriteString(e.File + ": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	if e.Off >= 0 {
		fmt.Fprintf(&b, " (at byte %d)", e.Off)
	}
	return b.String()
}

// Unwrap returns ErrFormat.
func (e *FormatError) Unwrap() error { return ErrFormat }

// Config is a checkpoint's header.
type Config struct {
	Dim, HiddenDim, NLayers, NHeads, NKVHeads int
	VocabSize                                 int // always positive here; the file's sign is SharedClassifier
	SeqLen                                    int
	// SharedClassifier is true when the output matrix is the token
	// embedding (a positive vocab_size in the file).
	SharedClassifier bool
}

// HeadSize returns Dim / NHeads.
func (c Config) HeadSize() int { return c.Dim / c.NHeads }

// KVDim returns Dim * NKVHeads / NHeads, the rows of wk and wv.
func (c Config) KVDim() int { return c.Dim * c.NKVHeads / c.NHeads }

// Tensor is one weight of a checkpoint, under its Meta (llama, llama2.c
// model.py) name.
type Tensor struct {
	Name   string  // e.g. "layers.3.attention.wq.weight"
	Shape  []int64 // PyTorch order, [out, in] for matrices
	Offset int64   // byte offset of the little-endian float32 data in the file
}

// Size returns the tensor's size in bytes.
func (t Tensor) Size() int64 {
	n := int64(4)
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Checkpoint is an open llama2.c legacy (v0) checkpoint.
type Checkpoint struct {
	Config Config

	path    string
	size    int64
	tensors []Tensor
	byName  map[string]int

	r      io.ReaderAt // when the file is not mapped
	data   []byte      // the mapped file, or nil
	closer func() error
	mu     sync.Mutex
	closed bool
}

// Open opens and validates a llama2.c legacy (version 0, run.c) checkpoint:
// the header must be sane (positive dimensions within [MaxDim] and
// [MaxLayers], n_heads dividing dim, n_kv_heads dividing n_heads, an even
// head size) and the file exactly as long as that header implies. llama2.c's
// versioned formats (v1 float32, v2 int8; magic "ak42") are recognized and
// refused. The file is memory-mapped where the OS allows, so [Checkpoint.Data]
// does not copy.
func Open(path string) (*Checkpoint, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	c, err := newCheckpoint(f, st.Size(), path)
	if err != nil {
		f.Close()
		return nil, err
	}
	if data, unmap, err := mmapFile(f, st.Size()); err == nil {
		f.Close()
		c.data, c.closer = data, unmap
	} else {
		c.r, c.closer = f, f.Close
	}
	return c, nil
}

// NewReader reads a checkpoint of size bytes from r; name is used in
// errors. [Checkpoint.Data] then copies from r. Close does not close r.
func NewReader(r io.ReaderAt, size int64, name string) (*Checkpoint, error) {
	c, err := newCheckpoint(r, size, name)
	if err != nil {
		return nil, err
	}
	c.r = r
	return c, nil
}

func newCheckpoint(r io.ReaderAt, size int64, name string) (*Checkpoint, error) {
	var hdr [HeaderSize]byte
	n, err := r.ReadAt(hdr[:], 0)
	if n < len(hdr) {
		if n >= 8 && binary.LittleEndian.Uint32(hdr[:]) == Magic {
			return nil, versionError(name, hdr[:n])
		}
		if err == nil || errors.Is(err, io.EOF) {
			return nil, &FormatError{File: name, Off: 0, Field: "header", Msg: fmt.Sprintf("file has %d bytes, fewer than the %d-byte header", max(size, int64(n)), HeaderSize)}
		}
		return nil, fmt.Errorf("llama2c: reading %s: %w", name, err)
	}
	cfg, tensors, err := parseHeader(hdr[:], size, name)
	if err != nil {
		return nil, err
	}
	c := &Checkpoint{Config: cfg, path: name, size: size, tensors: tensors, byName: make(map[string]int, len(tensors))}
	for i, t := range tensors {
		c.byName[t.Name] = i
	}
	return c, nil
}

func versionError(name string, hdr []byte) error {
	msg := `a llama2.c versioned checkpoint (magic "ak42"`
	if len(hdr) >= 8 {
		msg += fmt.Sprintf(", version %d", int32(binary.LittleEndian.Uint32(hdr[4:])))
	}
	msg += "); only the legacy version 0 format (export.py --version 0) is supported"
	return &FormatError{File: name, Off: 0, Field: "magic", Msg: msg}
}

// ParseHeader validates a legacy header (at least HeaderSize bytes) against
// the size of the whole file and returns the config and the tensors it
// implies. It is what [Open] does before mapping the file.
func ParseHeader(hdr []byte, fileSize int64) (Config, []Tensor, error) {
	return parseHeader(hdr, fileSize, "")
}

var headerFields = [7]string{"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"}

func parseHeader(hdr []byte, fileSize int64, name string) (Config, []Tensor, error) {
	if len(hdr) >= 8 && binary.LittleEndian.Uint32(hdr) == Magic {
		return Config{}, nil, versionError(name, hdr)
	}
	if len(hdr) < HeaderSize {
		return Config{}, nil, &FormatError{File: name, Off: 0, Field: "header", Msg: fmt.Sprintf("%d bytes, fewer than the %d-byte header", len(hdr), HeaderSize)}
	}
	var h [7]int64
	for i := range h {
		h[i] = int64(int32(binary.LittleEndian.Uint32(hdr[4*i:])))
	}
	bad := func(i int, format string, args ...any) (Config, []Tensor, error) {
		return Config{}, nil, &FormatError{File: name, Off: int64(4 * i), Field: headerFields[i], Msg: fmt.Sprintf(format, args...)}
	}
	for i, v := range h {
		limit := int64(MaxDim)
		if i == 2 {
			limit = MaxLayers
		}
		if i == 5 { // vocab_size: the sign is the classifier flag
			v = abs64(v)
		}
		if v <= 0 || v > limit {
			return bad(i, "%d is not in [1, %d] (is this a llama2.c checkpoint?)", h[i], limit)
		}
	}
	cfg := Config{Dim: int(h[0]), HiddenDim: int(h[1]), NLayers: int(h[2]), NHeads: int(h[3]), NKVHeads: int(h[4]),
		VocabSize: int(abs64(h[5])), SeqLen: int(h[6]), SharedClassifier: h[5] > 0}
	if cfg.NHeads > cfg.Dim || cfg.Dim%cfg.NHeads != 0 {
		return bad(3, "%d does not divide dim %d", cfg.NHeads, cfg.Dim)
	}
	if cfg.NKVHeads > cfg.NHeads || cfg.NHeads%cfg.NKVHeads != 0 {
		return bad(4, "%d does not divide n_heads %d", cfg.NKVHeads, cfg.NHeads)
	}
	if cfg.HeadSize()%2 != 0 {
		return bad(3, "head size %d (dim %d / n_heads %d) is odd; RoPE needs pairs", cfg.HeadSize(), cfg.Dim, cfg.NHeads)
	}
	_, end := layout(cfg, false) // the size first: allocate nothing for a file that does not match
	if end != fileSize {
		other := cfg
		other.SharedClassifier = !cfg.SharedClassifier
		_, otherEnd := layout(other, false)
		kind := map[bool]string{true: "shared classifier, vocab_size > 0", false: "separate classifier, vocab_size < 0"}
		msg := fmt.Sprintf("file has %d bytes, a llama2.c v0 checkpoint with this header needs %d (%s)", fileSize, end, kind[cfg.SharedClassifier])
		switch {
		case otherEnd == fileSize:
			msg += fmt.Sprintf("; %d is the size with a %s: is the sign of vocab_size wrong?", otherEnd, kind[other.SharedClassifier])
		case fileSize < end:
			msg += ": the file is truncated"
		default:
			msg += fmt.Sprintf(": %d bytes too many (a llama2.c v1/v2 checkpoint starts with magic %#x \"ak42\"; this one does not)", fileSize-end, Magic)
		}
		return Config{}, nil, &FormatError{File: name, Off: -1, Field: "size", Msg: msg}
	}
	tensors, _ := layout(cfg, true)
	return cfg, tensors, nil
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// mul multiplies non-negative int64s; the header limits keep every product
// of this package below 2^62, and it panics otherwise (a bug, not bad input).
func mul(xs ...int64) int64 {
	p := uint64(1)
	for _, x := range xs {
		hi, lo := bits.Mul64(p, uint64(x))
		if hi != 0 || lo > math.MaxInt64/4 {
			panic("llama2c: size overflow")
		}
		p = lo
	}
	return int64(p)
}

// layout returns the file size cfg implies and, when build is set, its
// tensors in llama2.c's file order.
func layout(cfg Config, build bool) ([]Tensor, int64) {
	D, H, L := int64(cfg.Dim), int64(cfg.HiddenDim), int64(cfg.NLayers)
	V, S, KV := int64(cfg.VocabSize), int64(cfg.SeqLen), int64(cfg.KVDim())
	hs := int64(cfg.HeadSize())
	off := int64(HeaderSize)
	var out []Tensor
	// stacked adds one [L, rows, cols] array as L tensors (or one tensor
	// when perLayer is "").
	stacked := func(name string, perLayer bool, shape ...int64) {
		n := mul(append([]int64{4}, shape...)...)
		if !perLayer {
			if build {
				out = append(out, Tensor{Name: name, Shape: shape, Offset: off})
			}
			off += n
			return
		}
		if !build {
			off += mul(L, n)
			return
		}
		for l := int64(0); l < L; l++ {
			out = append(out, Tensor{Name: "layers." + strconv.FormatInt(l, 10) + "." + name, Shape: shape, Offset: off})
			off += n
		}
	}
	stacked("tok_embeddings.weight", false, V, D)
	stacked("attention_norm.weight", true, D)
	stacked("attention.wq.weight", true, D, D)
	stacked("attention.wk.weight", true, KV, D)
	stacked("attention.wv.weight", true, KV, D)
	stacked("attention.wo.weight", true, D, D)
	stacked("ffn_norm.weight", true, D)
	stacked("feed_forward.w1.weight", true, H, D)
	stacked("feed_forward.w2.weight", true, D, H)
	stacked("feed_forward.w3.weight", true, H, D)
	stacked("norm.weight", false, D)
	off += 2 * mul(4, S, hs/2) // freq_cis_real, freq_cis_imag: unused (RoPE is recomputed)
	if cfg.SharedClassifier {
		if build {
			out = append(out, Tensor{Name: "output.weight", Shape: []int64{V, D}, Offset: out[0].Offset})
		}
	} else {
		stacked("output.weight", false, V, D)
	}
	return out, off
}

// Tensors returns the checkpoint's tensors: tok_embeddings.weight, then per
// layer attention_norm, attention.wq/wk/wv/wo, ffn_norm and
// feed_forward.w1/w2/w3 (each ".weight", "layers.N." prefixed), then
// norm.weight and output.weight, which is the embedding's data when the
// classifier is shared. The RoPE tables (freq_cis_real/imag) are not
// listed. The slice is a copy.
func (c *Checkpoint) Tensors() []Tensor {
	out := make([]Tensor, len(c.tensors))
	for i, t := range c.tensors {
		t.Shape = append([]int64(nil), t.Shape...)
		out[i] = t
	}
	return out
}

// Tensor returns the named tensor.
func (c *Checkpoint) Tensor(name string) (Tensor, bool) {
	i, ok := c.byName[name]
	if !ok {
		return Tensor{}, false
	}
	t := c.tensors[i]
	t.Shape = append([]int64(nil), t.Shape...)
	return t, true
}

// ErrClosed is returned by Data after Close.
var ErrClosed = errors.New("llama2c: checkpoint is closed")

// Data returns the raw little-endian float32 bytes of the named tensor. For
// a memory-mapped file (see [Open]) it is a read-only view of the mapping,
// valid until Close; otherwise a fresh copy.
func (c *Checkpoint) Data(name string) ([]byte, error) {
	i, ok := c.byName[name]
	if !ok {
		return nil, fmt.Errorf("llama2c: %s: no tensor %q", c.path, name)
	}
	t := c.tensors[i]
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	if c.data != nil {
		return c.data[t.Offset : t.Offset+t.Size() : t.Offset+t.Size()], nil
	}
	buf := make([]byte, t.Size())
	if _, err := c.r.ReadAt(buf, t.Offset); err != nil {
		return nil, fmt.Errorf("llama2c: %s: reading %s: %w", c.path, name, err)
	}
	return buf, nil
}

// Close releases the file (unmapping it: slices from Data become invalid).
// Closing twice is a no-op.
func (c *Checkpoint) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	c.data = nil
	if c.closer != nil {
		return c.closer()
	}
	return nil
}
