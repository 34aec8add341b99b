package quantize

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lmc-project/lmc/model"
	"github.com/lmc-project/lmc/modelfile"
	"github.com/lmc-project/lmc/quant/gptq"
	"github.com/lmc-project/lmc/quant/imatrix"
)

// Calibration inputs of one block: the Hessians of the four distinct
// linear inputs (q, k and v share one; gate and up share one).
const (
	inAttn    = iota // attn_norm output: attn_q, attn_k, attn_v
	inAttnOut        // attention output: attn_output
	inFFN            // ffn_norm output: ffn_gate, ffn_up
	inDown           // SwiGLU output: ffn_down
	inOutput         // output_norm output: output.weight (layer -1)
	nInputs
)

// inputOf maps a weight's GGUF name to the input it reads.
func inputOf(name string) int {
	switch {
	case strings.HasSuffix(name, ".attn_q.weight"), strings.HasSuffix(name, ".attn_k.weight"), strings.HasSuffix(name, ".attn_v.weight"):
		return inAttn
	case strings.HasSuffix(name, ".attn_output.weight"):
		return inAttnOut
	case strings.HasSuffix(name, ".ffn_gate.weight"), strings.HasSuffix(name, ".ffn_up.weight"):
		return inFFN
	case strings.HasSuffix(name, ".ffn_down.weight"):
		return inDown
	case name == "output.weight":
		return inOutput
	}
	return -1
}

// calibRunner runs the engine over the calibration chunks.
type calibRunner struct {
	mm     *model.Model
	c      *Calibration
	chunks int
	s      *model.Session
	buf    []int
}

// stopPass unwinds a forward pass once the layer of interest is done.
type stopPass struct{}

func newCalibRunner(mm *model.Model, c *Calibration) (*calibRunner, error) {
	ctx := c.Context
	if ctx == 0 {
		ctx = 512
	}
	if ctx < 16 {
		return nil, fmt.Errorf("%w: calibration context %d is too short (at least 16 tokens)", ErrInput, ctx)
	}
	if len(c.Tokens) < 2*ctx {
		return nil, fmt.Errorf("%w: calibration text %s has %d tokens; a context of %d needs at least %d (two chunks)",
			ErrInput, c.Name, len(c.Tokens), ctx, 2*ctx)
	}
	n := len(c.Tokens) / ctx
	if c.Chunks > 0 {
		n = min(n, c.Chunks)
	}
	s, err := mm.NewSessionWith(model.SessionOptions{Context: ctx, Batch: ctx})
	if err != nil {
		return nil, err
	}
	cc := *c
	cc.Context = ctx
	return &calibRunner{mm: mm, c: &cc, chunks: n, s: s, buf: make([]int, ctx)}, nil
}

// firstOf is the first linear (in execution order) reading each input.
var firstOf = [nInputs]string{inAttn: "attn_q", inAttnOut: "attn_output", inFFN: "ffn_gate", inDown: "ffn_down", inOutput: "output"}

// pass runs every chunk; hook sees the inputs of the layer's linears
// (layer -1: the output projection, which needs every position's logits).
// After the first linear reading input upto, the pass stops early.
func (cr *calibRunner) pass(ctx context.Context, layer, upto int, hook func(name string, x []float32, n, cols int)) error {
	last := fmt.Sprintf("blk.%d.%s.weight", layer, firstOf[upto])
	old := cr.mm.Hooks
	defer func() { cr.mm.Hooks = old }()
	cr.mm.Hooks.OnLinearInput = func(l int, name string, x []float32, n, cols int) {
		if l != layer {
			return
		}
		hook(name, x, n, cols)
		if name == last {
			panic(stopPass{})
		}
	}
	ctxLen := cr.c.Context
	for i := 0; i < cr.chunks; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		copy(cr.buf, cr.c.Tokens[i*ctxLen:(i+1)*ctxLen])
		if cr.c.BOS >= 0 {
			cr.buf[0] = cr.c.BOS
		}
		if err := cr.run(layer < 0); err != nil {
			return err
		}
	}
	return nil
}

func (cr *calibRunner) run(all bool) (err error) {
	cr.s.Reset()
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(stopPass); !ok {
				panic(r)
			}
			// The pass was cut short inside the engine on purpose; the
			// session rolls itself back, so the next chunk reuses it.
			err = nil
		}
	}()
	if all {
		_, err = cr.s.PrefillAll(cr.buf)
	} else {
		_, err = cr.s.Prefill(cr.buf)
	}
	return err
}

// collect returns the Hessians of the layer's inputs from through upto
// (inAttn … inDown; inOutput with layer -1).
func (cr *calibRunner) collect(ctx context.Context, layer, from, upto int) ([nInputs]*gptq.Hessian, error) {
	var hs [nInputs]*gptq.Hessian
	err := cr.pass(ctx, layer, upto, func(name string, x []float32, n, cols int) {
		in := inputOf(name)
		// q, k and v (gate and up) see the same input: count it once.
		if in < from || in > upto || strings.HasSuffix(name, ".attn_k.weight") || strings.HasSuffix(name, ".attn_v.weight") || strings.HasSuffix(name, ".ffn_up.weight") {
			return
		}
		if hs[in] == nil {
			hs[in] = gptq.NewHessian(cols)
		}
		hs[in].Add(x, n)
	})
	return hs, err
}

// calibImatrix computes an importance matrix from the calibration text
// with the float model (llama-imatrix's protocol).
func calibImatrix(ctx context.Context, m *modelfile.Model, c *Calibration, log func(string)) (*imatrix.Matrix, error) {
	mm, err := model.Load(m, model.Options{})
	if err != nil {
		return nil, err
	}
	ctxLen := c.Context
	if ctxLen == 0 {
		ctxLen = 512
	}
	if log != nil {
		log(fmt.Sprintf("computing an importance matrix on %s (%d tokens, chunks of %d)", c.Name, len(c.Tokens), ctxLen))
	}
	im, err := imatrix.Collect(ctx, mm, c.Tokens, imatrix.Options{Context: ctxLen, Chunks: c.Chunks, BOS: c.BOS, Dataset: c.Name})
	if errors.Is(err, imatrix.ErrText) {
		return nil, fmt.Errorf("%w: calibration text %s: %w", ErrInput, c.Name, err)
	}
	return im, err
}

// since returns seconds elapsed.
func since(t time.Time) float64 { return time.Since(t).Seconds() }
