package eval

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"testing"
)

// tinyLlama returns a valid llama.cpp base file: ctx 4, vocab 3, 1 chunk
// (one scored position).
func tinyLlama() []byte {
	le := binary.LittleEndian
	b := []byte(magicLlamaCpp)
	b = le.AppendUint32(b, 4)
	b = le.AppendUint32(b, 3)
	b = le.AppendUint32(b, 1)
	for _, t := range []uint32{1, 2, 0, 2} {
		b = le.AppendUint32(b, t)
	}
	row := make([]byte, rowBytesFor(FormatLlamaCpp, 3, 0))
	encodeQ16(row, []float32{0.5, -1, 2}, 2)
	return append(b, row...)
}

// tinyTopK returns a valid lmc top-k file: ctx 4, vocab 3, 1 chunk, k 2.
func tinyTopK() []byte {
	le := binary.LittleEndian
	b := []byte(magicTopK)
	for _, v := range []uint32{1, 4, 3, 1, 2} {
		b = le.AppendUint32(b, v)
	}
	for _, t := range []uint32{1, 2, 0, 2} {
		b = le.AppendUint32(b, t)
	}
	row := make([]byte, rowBytesFor(FormatTopK, 3, 2))
	var scratch []topEntry
	encodeTopK(row, []float32{0.5, -1, 2}, 2, 2, &scratch)
	return append(b, row...)
}

func parseBytes(b []byte) (*BaseLogits, error) {
	return parseBase("test.kld", bytes.NewReader(b), int64(len(b)))
}

func TestParseBaseValid(t *testing.T) {
	for name, b := range map[string][]byte{"llama.cpp": tinyLlama(), "topk": tinyTopK()} {
		bl, err := parseBytes(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if bl.Context != 4 || bl.Vocab != 3 || bl.Chunks != 1 || len(bl.Tokens) != 4 || bl.Tokens[1] != 2 {
			t.Errorf("%s: %+v", name, bl)
		}
		rows := make([]byte, bl.chunkBytes())
		if err := bl.readChunk(0, rows); err != nil {
			t.Errorf("%s: chunk 0: %v", name, err)
		}
	}
}

// TestParseBaseHostile checks every header field and row check: the error
// unwraps to ErrFormat and names the field.
func TestParseBaseHostile(t *testing.T) {
	le := binary.LittleEndian
	set := func(b []byte, off int, v uint32) []byte {
		c := bytes.Clone(b)
		le.PutUint32(c[off:], v)
		return c
	}
	ll, tk := tinyLlama(), tinyTopK()
	llRow := 20 + 16 // first row of tinyLlama
	tkRow := 28 + 16
	for _, c := range []struct {
		name, field string
		b           []byte
		eof         bool
	}{
		{"empty", "magic", nil, true},
		{"bad magic", "magic", []byte("GGUF\x03\x00\x00\x00rest of it"), false},
		{"header cut", "header", ll[:12], true},
		{"ctx too small", "n_ctx", set(ll, 8, 2), false},
		{"ctx huge", "n_ctx", set(ll, 8, 1<<30), false},
		{"vocab zero", "n_vocab", set(ll, 12, 0), false},
		{"chunks zero", "n_chunk", set(ll, 16, 0), false},
		{"chunks negative", "n_chunk", set(ll, 16, 0xffffffff), false},
		{"chunks beyond the file", "n_chunk", set(ll, 16, 1<<30), true},
		{"trailing byte", "end of file", append(bytes.Clone(ll), 0), false},
		{"token outside vocab", "tokens[2]", set(ll, 28, 3), false},
		{"topk version", "version", set(tk, 8, 2), false},
		{"topk k zero", "k", set(tk, 24, 0), false},
		{"topk k above vocab", "k", set(tk, 24, 4), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseBytes(c.b)
			var fe *FormatError
			if !errors.As(err, &fe) || !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v is not a *FormatError wrapping ErrFormat", err)
			}
			if fe.Field != c.field {
				t.Errorf("field %q, want %q (%v)", fe.Field, c.field, err)
			}
			if c.eof != errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("errors.Is(io.ErrUnexpectedEOF) = %v, want %v", !c.eof, c.eof)
			}
		})
	}
	// Rows are checked when read.
	for _, c := range []struct {
		name string
		b    []byte
	}{
		{"NaN scale", set(ll, llRow, math.Float32bits(float32(math.NaN())))},
		{"positive min log-prob", set(ll, llRow+4, math.Float32bits(3))},
		{"topk target NaN", set(tk, tkRow, math.Float32bits(float32(math.NaN())))},
		{"topk rest positive", set(tk, tkRow+4, math.Float32bits(1))},
		{"topk token outside vocab", set(tk, tkRow+8, 7)},
		{"topk not descending", set(tk, tkRow+12, math.Float32bits(-50))},
	} {
		t.Run(c.name, func(t *testing.T) {
			bl, err := parseBytes(c.b)
			if err != nil {
				t.Fatal(err)
			}
			err = bl.readChunk(0, make([]byte, bl.chunkBytes()))
			var fe *FormatError
			if !errors.As(err, &fe) || fe.Field != "chunk 0 position 2" {
				t.Errorf("row check: %v", err)
			}
		})
	}
}

func FuzzParseBase(f *testing.F) {
	f.Add(tinyLlama())
	f.Add(tinyTopK())
	f.Fuzz(func(t *testing.T, b []byte) {
		bl, err := parseBytes(b)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		if len(bl.Tokens) != bl.Context*bl.Chunks {
			t.Fatalf("%d tokens for %d × %d", len(bl.Tokens), bl.Context, bl.Chunks)
		}
		rows := make([]byte, bl.chunkBytes())
		for i := 0; i < bl.Chunks; i++ {
			if err := bl.readChunk(i, rows); err != nil && !errors.Is(err, ErrFormat) {
				t.Fatalf("chunk %d: %v", i, err)
			}
		}
	})
}

// TestEncodeQ16 checks llama-perplexity's row encoding on cases with known
// answers.
func TestEncodeQ16(t *testing.T) {
	le := binary.LittleEndian
	decode := func(row []byte, i int) float64 {
		scale := math.Float32frombits(le.Uint32(row))
		minLP := math.Float32frombits(le.Uint32(row[4:]))
		return float64(scale*float32(le.Uint16(row[8+2*i:])) + minLP)
	}
	for _, c := range []struct {
		name   string
		logits []float32
	}{
		{"spread", []float32{3, 1, -2, 0.25, 2.9}},
		{"equal", []float32{1, 1, 1, 1}},
		{"beyond 16 nats", []float32{10, -20, 9, 9.5, -6.5}},
	} {
		t.Run(c.name, func(t *testing.T) {
			row := make([]byte, rowBytesFor(FormatLlamaCpp, len(c.logits), 0))
			nll := encodeQ16(row, c.logits, 1)
			var sum float64
			mx := math.Inf(-1)
			for _, v := range c.logits {
				mx = max(mx, float64(v))
			}
			for _, v := range c.logits {
				sum += math.Exp(float64(v) - mx)
			}
			lse := mx + math.Log(sum)
			if want := lse - float64(c.logits[1]); math.Abs(nll-want) > 1e-6 {
				t.Errorf("nll %v, want %v", nll, want)
			}
			for i, v := range c.logits {
				want := float64(v) - lse
				got := decode(row, i)
				if float64(v) < mx-16 {
					// Below the 16-nat window: stored at the window's floor.
					want = mx - 16 - lse
				}
				// One step of the uint16 grid is at most 16/65535 nats.
				if math.Abs(got-want) > 0.5*16/65535+1e-5 {
					t.Errorf("token %d: log p %v decodes to %v", i, want, got)
				}
			}
			if len(c.logits)%2 == 1 && le.Uint16(row[len(row)-2:]) != 0 {
				t.Error("padding not zero")
			}
		})
	}
}

// TestTopKLowerBound checks the coarse-grained divergence of a top-k row:
// exact when k covers the vocabulary, never above the full divergence.
func TestTopKLowerBound(t *testing.T) {
	p := []float32{2, 1.5, 0.3, -1, -0.5, 0.9, -3, 1.1}
	q := []float32{1.7, 1.6, 0.1, -0.2, -0.9, 1.0, -2, 1.3}
	exact := 0.0
	lp, lq := logSoftmax64(p), logSoftmax64(q)
	for i := range p {
		exact += math.Exp(lp[i]) * (lp[i] - lq[i])
	}
	var scratch []topEntry
	prevKLD := -1.0
	for k := 1; k <= len(p); k++ {
		row := make([]byte, rowBytesFor(FormatTopK, len(p), k))
		encodeTopK(row, p, 3, k, &scratch)
		if msg := checkRow(FormatTopK, row, len(p), k); msg != "" {
			t.Fatalf("k %d: %s", k, msg)
		}
		var a kldAcc
		kld, _ := a.addTopK(q, row, 3, k)
		if kld > exact+1e-6 || kld < prevKLD-1e-6 {
			t.Errorf("k %d: KLD %v; exact %v, k−1 gave %v (want a lower bound growing with k)", k, kld, exact, prevKLD)
		}
		prevKLD = kld
		if k == len(p) && math.Abs(kld-exact) > 1e-6 {
			t.Errorf("k = vocabulary: KLD %v, exact %v", kld, exact)
		}
		if got := math.Float32frombits(binary.LittleEndian.Uint32(row)); math.Abs(float64(got)-lp[3]) > 1e-6 {
			t.Errorf("target log-prob %v, want %v", got, lp[3])
		}
	}
	// The uint16 row of the same distribution gives the exact value
	// within its rounding.
	row := make([]byte, rowBytesFor(FormatLlamaCpp, len(p), 0))
	encodeQ16(row, p, 3)
	var a kldAcc
	if kld, _ := a.addQ16(q, row, 3); math.Abs(kld-exact) > 1e-4 {
		t.Errorf("uint16 row: KLD %v, exact %v", kld, exact)
	}
}

func logSoftmax64(x []float32) []float64 {
	mx := math.Inf(-1)
	for _, v := range x {
		mx = max(mx, float64(v))
	}
	var s float64
	for _, v := range x {
		s += math.Exp(float64(v) - mx)
	}
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v) - mx - math.Log(s)
	}
	return out
}

func TestQuantiles(t *testing.T) {
	v := []float32{5, 1, 4, 2, 3}
	q := quantiles(v)
	if q.Min != 1 || q.Max != 5 || q.Median != 3 || q.P90 != 4.6 || math.Abs(q.P10-1.4) > 1e-12 {
		t.Errorf("odd: %+v", q)
	}
	q = quantiles([]float32{4, 1, 3, 2})
	if q.Median != 2.5 || q.P25 != 1.75 {
		t.Errorf("even: %+v", q)
	}
	if (quantiles(nil) != Quantiles{}) {
		t.Error("empty input")
	}
}

func TestMeanUnc(t *testing.T) {
	// llama.cpp reports no uncertainty for 10 values or fewer.
	if e := meanUnc(10, 30, 5); e.Value != 2 || e.Err != 0 {
		t.Errorf("%+v", e)
	}
	vals := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	var s, s2 float64
	for _, v := range vals {
		s += v
		s2 += v * v
	}
	e := meanUnc(s, s2, len(vals))
	// population variance 143/12 over n−1
	if want := math.Sqrt(143.0 / 12 / 11); e.Value != 6.5 || math.Abs(e.Err-want) > 1e-12 {
		t.Errorf("%+v, want 6.5 ± %v", e, want)
	}
}
