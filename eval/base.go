package eval

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
)

// Base-logits file formats (see the package documentation).
const (
	// FormatLlamaCpp is llama-perplexity's --kl-divergence-base file:
	// every scored position's log-probabilities over the whole vocabulary,
	// quantized to uint16.
	FormatLlamaCpp = "llama.cpp"
	// FormatTopK is lmc's compact file: the K largest log-probabilities of
	// every scored position, the log of the remaining mass and the
	// log-probability of the token that came next.
	FormatTopK = "lmc-topk"
)

const (
	magicLlamaCpp = "_logits_"
	magicTopK     = "lmctopk1"
	// Limits enforced by OpenBase.
	maxBaseContext = 1 << 24
	maxBaseVocab   = 1 << 24
)

// BaseLogits is an open base-logits file: the tokens a reference model was
// run on and, for every scored position of every chunk, its next-token
// log-probabilities. Open it with [OpenBase]; write it with [SaveBase].
type BaseLogits struct {
	Path    string
	Format  string // FormatLlamaCpp or FormatTopK
	Context int    // chunk length (llama-perplexity -c)
	Vocab   int
	Chunks  int
	TopK    int // entries per position (FormatTopK only)
	// Tokens are the Context × Chunks tokens of the text as tokenized
	// (BOS first, not yet replaced at the start of each chunk).
	Tokens []int

	r        io.ReaderAt
	closer   io.Closer
	dataOff  int64
	rowBytes int
	l        layout
}

// rowBytesFor returns the bytes of one scored position.
func rowBytesFor(format string, vocab, k int) int {
	if format == FormatTopK {
		return 8 + 8*k
	}
	return 2 * (2*((vocab+1)/2) + 4)
}

// OpenBase opens a base-logits file written by [SaveBase] or by
// llama-perplexity --kl-divergence-base. The header is checked against the
// file size before anything is allocated; malformed files give a
// *[FormatError]. Rows are read chunk by chunk as [KLD] needs them.
func OpenBase(path string) (*BaseLogits, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("eval: %w", err)
	}
	b, err := parseBase(path, f, st.Size())
	if err != nil {
		f.Close()
		return nil, err
	}
	b.closer = f
	return b, nil
}

// Close closes the file.
func (b *BaseLogits) Close() error {
	if b.closer == nil {
		return nil
	}
	err := b.closer.Close()
	b.closer = nil
	return err
}

func parseBase(path string, r io.ReaderAt, size int64) (*BaseLogits, error) {
	ferr := func(off int64, field, format string, args ...any) error {
		return &FormatError{File: path, Off: off, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	var hdr [32]byte
	n, err := r.ReadAt(hdr[:], 0)
	if n < 8 {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, &FormatError{File: path, Off: 0, Field: "magic", Msg: "file too short", Err: err}
	}
	b := &BaseLogits{Path: path, r: r}
	var hdrLen int64
	var ctx, vocab, chunks, k uint32
	le := binary.LittleEndian
	switch string(hdr[:8]) {
	case magicLlamaCpp:
		hdrLen = 20
		if n < 20 {
			return nil, &FormatError{File: path, Off: int64(n), Field: "header", Msg: "file ends inside the header", Err: io.ErrUnexpectedEOF}
		}
		b.Format = FormatLlamaCpp
		ctx, vocab, chunks = le.Uint32(hdr[8:]), le.Uint32(hdr[12:]), le.Uint32(hdr[16:])
	case magicTopK:
		hdrLen = 28
		if n < 28 {
			return nil, &FormatError{File: path, Off: int64(n), Field: "header", Msg: "file ends inside the header", Err: io.ErrUnexpectedEOF}
		}
		b.Format = FormatTopK
		if v := le.Uint32(hdr[8:]); v != 1 {
			return nil, ferr(8, "version", "%d is not 1", v)
		}
		ctx, vocab, chunks, k = le.Uint32(hdr[12:]), le.Uint32(hdr[16:]), le.Uint32(hdr[20:]), le.Uint32(hdr[24:])
	default:
		return nil, ferr(0, "magic", "%q is neither %q (llama-perplexity) nor %q (lmc)", hdr[:8], magicLlamaCpp, magicTopK)
	}
	ctxOff := hdrLen - 12
	if ctx < 3 || ctx > maxBaseContext {
		return nil, ferr(ctxOff, "n_ctx", "%d is outside [3, %d]", int32(ctx), maxBaseContext)
	}
	if vocab < 1 || vocab > maxBaseVocab {
		return nil, ferr(ctxOff+4, "n_vocab", "%d is outside [1, %d]", int32(vocab), maxBaseVocab)
	}
	if chunks < 1 || chunks > math.MaxInt32 {
		return nil, ferr(ctxOff+8, "n_chunk", "%d is not a positive count", int32(chunks))
	}
	if b.Format == FormatTopK && (k < 1 || k > vocab) {
		return nil, ferr(24, "k", "%d is outside [1, n_vocab %d]", k, vocab)
	}
	b.Context, b.Vocab, b.Chunks, b.TopK = int(ctx), int(vocab), int(chunks), int(k)
	b.l = layout{ctx: b.Context, chunks: b.Chunks, first: b.Context / 2}
	b.l.scored = b.Context - 1 - b.l.first
	b.rowBytes = rowBytesFor(b.Format, b.Vocab, b.TopK)
	perChunk := int64(b.Context)*4 + int64(b.l.scored)*int64(b.rowBytes)
	if (size-hdrLen)/perChunk < int64(chunks) {
		return nil, &FormatError{File: path, Off: ctxOff + 8, Field: "n_chunk",
			Msg: fmt.Sprintf("%d chunks of %d tokens need %d bytes after the header; the file has %d", chunks, ctx, perChunk*int64(chunks), size-hdrLen),
			Err: io.ErrUnexpectedEOF}
	}
	want := hdrLen + perChunk*int64(chunks)
	if size != want {
		return nil, ferr(want, "end of file", "%d bytes of trailing data after %d chunks", size-want, chunks)
	}
	nt := b.Context * b.Chunks
	raw := make([]byte, 4*nt)
	if _, err := r.ReadAt(raw, hdrLen); err != nil {
		return nil, &FormatError{File: path, Off: hdrLen, Field: "tokens", Msg: "cannot read", Err: err}
	}
	b.Tokens = make([]int, nt)
	for i := range b.Tokens {
		t := int32(le.Uint32(raw[4*i:]))
		if t < 0 || int(t) >= b.Vocab {
			return nil, ferr(hdrLen+4*int64(i), fmt.Sprintf("tokens[%d]", i), "%d is outside the vocabulary [0, %d)", t, b.Vocab)
		}
		b.Tokens[i] = int(t)
	}
	b.dataOff = hdrLen + 4*int64(nt)
	return b, nil
}

// chunkBytes is the size of one chunk's rows.
func (b *BaseLogits) chunkBytes() int { return b.l.scored * b.rowBytes }

// readChunk reads the rows of chunk i into dst (chunkBytes long) and
// checks them.
func (b *BaseLogits) readChunk(i int, dst []byte) error {
	off := b.dataOff + int64(i)*int64(b.chunkBytes())
	if _, err := b.r.ReadAt(dst, off); err != nil {
		return &FormatError{File: b.Path, Off: off, Field: fmt.Sprintf("chunk %d", i), Msg: "cannot read", Err: err}
	}
	for j := 0; j < b.l.scored; j++ {
		row := dst[j*b.rowBytes : (j+1)*b.rowBytes]
		if msg := checkRow(b.Format, row, b.Vocab, b.TopK); msg != "" {
			return &FormatError{File: b.Path, Off: off + int64(j*b.rowBytes), Field: fmt.Sprintf("chunk %d position %d", i, b.l.first+j), Msg: msg}
		}
	}
	return nil
}

// checkRow returns what is wrong with an encoded row, or "".
func checkRow(format string, row []byte, vocab, k int) string {
	le := binary.LittleEndian
	f32 := func(off int) float32 { return math.Float32frombits(le.Uint32(row[off:])) }
	if format == FormatLlamaCpp {
		scale, minLP := f32(0), f32(4)
		if !(scale >= 0 && scale <= 1) || math.IsInf(float64(minLP), 0) || !(minLP <= 0) {
			return fmt.Sprintf("scale %g / min log-prob %g out of range", scale, minLP)
		}
		return ""
	}
	target, rest := f32(0), f32(4)
	if !(target <= logProbSlack) || math.IsInf(float64(target), -1) {
		return fmt.Sprintf("target log-prob %g is not a finite value ≤ 0", target)
	}
	if !(rest <= logProbSlack) {
		return fmt.Sprintf("rest log-mass %g is not ≤ 0", rest)
	}
	prev := float32(math.Inf(1))
	for e := 0; e < k; e++ {
		id, lp := le.Uint32(row[8+8*e:]), f32(12+8*e)
		if int64(id) >= int64(vocab) {
			return fmt.Sprintf("entry %d: token %d outside the vocabulary [0, %d)", e, id, vocab)
		}
		if !(lp <= prev) || math.IsInf(float64(lp), 0) || lp > logProbSlack {
			return fmt.Sprintf("entry %d: log-prob %g is not finite, ≤ 0 and in descending order", e, lp)
		}
		prev = lp
	}
	return ""
}

// logProbSlack tolerates log-probabilities a rounding error above 0.
const logProbSlack = 1e-3
