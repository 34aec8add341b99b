package imatrix

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/lmc-project/lmc/model"
)

// ErrText is wrapped by the errors for a calibration text too short for
// the requested context.
var ErrText = errors.New("calibration text too short")

// minRows is llama-imatrix's smallest batch: it ignores matrix
// multiplications of fewer than 16 activation rows.
const minRows = 16

// Collector accumulates activation statistics from
// model.Hooks.OnLinearInput. Its Observe method is the hook; it is safe
// for concurrent use.
type Collector struct {
	// Output also collects the output projection (llama-imatrix
	// --process-output); by default only "blk.*" weights are kept.
	Output bool
	// Sums also records Σx (the in_sum tensors of newer llama-imatrix).
	Sums bool

	mu    sync.Mutex
	stats map[string]*acc
}

type acc struct {
	cols  int
	sum2  []float64
	sum   []float64
	count int64
}

// Observe adds n activation rows of cols values (row-major) that entered
// weight name. Calls with fewer than 16 rows are ignored, as llama-imatrix
// ignores small batches. It panics if x holds fewer than n·cols values.
func (c *Collector) Observe(layer int, name string, x []float32, n, cols int) {
	if n < minRows || cols <= 0 {
		return
	}
	if !(strings.HasPrefix(name, "blk.") || (c.Output && name == "output.weight")) {
		return
	}
	x = x[:n*cols]
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stats == nil {
		c.stats = map[string]*acc{}
	}
	a := c.stats[name]
	if a == nil {
		a = &acc{cols: cols, sum2: make([]float64, cols)}
		if c.Sums {
			a.sum = make([]float64, cols)
		}
		c.stats[name] = a
	}
	if a.cols != cols {
		panic(fmt.Sprintf("imatrix: %s seen with rows of %d and of %d", name, a.cols, cols))
	}
	for t := 0; t < n; t++ {
		row := x[t*cols : (t+1)*cols]
		for j, v := range row {
			a.sum2[j] += float64(v) * float64(v)
		}
		if a.sum != nil {
			for j, v := range row {
				a.sum[j] += float64(v)
			}
		}
	}
	a.count += int64(n)
}

// Matrix returns the statistics gathered so far as an importance matrix
// (dense weights: one matrix each).
func (c *Collector) Matrix(datasets []string, chunks, chunkSize int) *Matrix {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := &Matrix{Datasets: datasets, ChunkCount: chunks, ChunkSize: chunkSize, Entries: map[string]*Entry{}}
	for name, a := range c.stats {
		e := &Entry{Cols: a.cols, Sum2: make([]float32, a.cols), Counts: []float32{float32(a.count)}}
		for j, v := range a.sum2 {
			e.Sum2[j] = float32(v)
		}
		if a.sum != nil {
			e.Sum = make([]float32, a.cols)
			for j, v := range a.sum {
				e.Sum[j] = float32(v)
			}
		}
		m.Entries[name] = e
	}
	return m
}

// Options configure Collect.
type Options struct {
	// Context is the chunk length in tokens (llama-imatrix -c; default
	// 512). The text must hold at least two chunks.
	Context int
	// Chunks limits the number of chunks (0: all).
	Chunks int
	// BOS replaces the first token of every chunk (the model's
	// beginning-of-sequence token; -1: none).
	BOS int
	// Output also collects the output projection (--process-output).
	Output bool
	// Sums also records Σx per column (in_sum).
	Sums bool
	// Dataset names the calibration text in the file (imatrix.datasets).
	Dataset string
	// Progress, when set, is called after every chunk.
	Progress func(done, total int, elapsed time.Duration)
}

// Collect runs m over tokens the way llama-imatrix does — chunks of
// Context tokens, each from an empty cache with its first token replaced
// by BOS, all of a chunk in one batch — and returns the mean squared
// input activation of every linear layer. It installs its hook on m for
// the duration of the call (m must not be used concurrently). The error
// wraps ErrText when tokens hold fewer than two chunks.
func Collect(ctx context.Context, m *model.Model, tokens []int, o Options) (*Matrix, error) {
	if o.Context == 0 {
		o.Context = 512
	}
	if o.Context < minRows {
		return nil, fmt.Errorf("imatrix: context %d: chunks shorter than %d tokens are ignored by llama-imatrix", o.Context, minRows)
	}
	if len(tokens) < 2*o.Context {
		return nil, fmt.Errorf("%w: %d tokens; a context of %d needs at least %d (two chunks)", ErrText, len(tokens), o.Context, 2*o.Context)
	}
	chunks := len(tokens) / o.Context
	if o.Chunks > 0 {
		chunks = min(chunks, o.Chunks)
	}
	c := &Collector{Output: o.Output, Sums: o.Sums}
	old := m.Hooks
	m.Hooks.OnLinearInput = c.Observe
	defer func() { m.Hooks = old }()
	s, err := m.NewSessionWith(model.SessionOptions{Context: o.Context, Batch: o.Context})
	if err != nil {
		return nil, err
	}
	buf := make([]int, o.Context)
	start := time.Now()
	for i := 0; i < chunks; i++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		copy(buf, tokens[i*o.Context:(i+1)*o.Context])
		if o.BOS >= 0 {
			buf[0] = o.BOS
		}
		s.Reset()
		if o.Output {
			_, err = s.PrefillAll(buf)
		} else {
			_, err = s.Prefill(buf)
		}
		if err != nil {
			return nil, err
		}
		if o.Progress != nil {
			o.Progress(i+1, chunks, time.Since(start))
		}
	}
	var ds []string
	if o.Dataset != "" {
		ds = []string{o.Dataset}
	}
	mx := c.Matrix(ds, chunks, o.Context)
	for name, e := range mx.Entries {
		for j, v := range e.Sum2 {
			if math.IsInf(float64(v), 0) || math.IsNaN(float64(v)) {
				return nil, fmt.Errorf("imatrix: %s: column %d: the activations overflow float32 (%v)", name, j, v)
			}
		}
	}
	return mx, nil
}
