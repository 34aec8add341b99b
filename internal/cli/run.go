package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/lmc-project/lmc/kernels"
	"github.com/lmc-project/lmc/model"
	"github.com/lmc-project/lmc/model/sample"
	"github.com/lmc-project/lmc/modelfile"
	"github.com/lmc-project/lmc/tokenizer"
)

// runOptions are the flags of `lmc run`.
type runOptions struct {
	Model, Prompt, Tokenizer, KV string
	N, TopK, Threads, Ctx        int
	Temp, TopP                   float64
	Seed                         int64
	Truncate, IgnoreEOS, Quiet   bool
	Echo                         bool
}

// maxDefaultCtx caps the default context (the model's context_length) so
// that a model trained for 128K positions does not allocate a KV cache for
// all of them unless asked with --ctx.
const maxDefaultCtx = 4096

func newRunCmd(s *IO) *cobra.Command {
	o := runOptions{}
	var kvf *kvFlags
	cmd := &cobra.Command{
		Use:   "run MODEL",
		Short: "Generate text from a prompt on the CPU",
		Long: `Run loads a model (GGUF, Hugging Face folder, llama2.c checkpoint or a
built-in model) and continues a prompt, streaming the text to stdout as it is
generated. Generation stops after -n tokens, at the end-of-sequence token
(unless --ignore-eos) or when the context is full. Timings go to stderr.

Sampling follows llama.cpp: top-k, then temperature, then top-p. --temp 0
is greedy decoding; with a given --seed the output is reproducible.

A prompt longer than the context is an error, unless --truncate, which
keeps its beginning-of-sequence token and its last tokens.`,
		Example: `  lmc run lmc-mini -p "Once upon a time" -n 64
  lmc run model.gguf -p "The capital of France is" --temp 0
  lmc run ./Llama-3.2-1B -p "Hello" --top-k 40 --top-p 0.9 --seed 7 -t 1`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Model = args[0]
			if o.N < 0 {
				return usageError("-n %d: want 0 or more tokens", o.N)
			}
			if o.Temp < 0 || o.TopK < 0 || o.TopP < 0 || o.TopP > 1 {
				return usageError("sampling options out of range: --temp ≥ 0, --top-k ≥ 0, 0 ≤ --top-p ≤ 1")
			}
			if o.Ctx < 0 || o.Threads < 0 {
				return usageError("--ctx and --threads must not be negative")
			}
			return runRun(s, &o, kvf)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.Prompt, "prompt", "p", "", "the text to continue")
	f.IntVarP(&o.N, "n-predict", "n", 128, "tokens to generate")
	f.Float64Var(&o.Temp, "temp", 0.8, "temperature (0: greedy)")
	f.IntVar(&o.TopK, "top-k", 40, "keep the k most likely tokens (0: all)")
	f.Float64Var(&o.TopP, "top-p", 0.95, "keep the most likely tokens up to this total probability (1: all)")
	f.Int64Var(&o.Seed, "seed", -1, "random seed (-1: pick one and print it to stderr)")
	f.IntVarP(&o.Threads, "threads", "t", 0, "threads (0: all cores)")
	f.IntVarP(&o.Ctx, "ctx", "c", 0, fmt.Sprintf("context length in tokens (0: the model's, at most %d)", maxDefaultCtx))
	f.BoolVar(&o.Truncate, "truncate", false, "drop the start of a prompt that does not fit the context")
	f.BoolVar(&o.IgnoreEOS, "ignore-eos", false, "keep generating after the end-of-sequence token")
	f.BoolVar(&o.Echo, "echo", true, "print the prompt before the generated text")
	f.StringVar(&o.KV, "kv", "f32", "KV cache type of keys and values: "+strings.Join(model.KVTypeNames(), ", ")+", or K/V (q8_0/f16)")
	kvf = addKVFlags(cmd)
	f.StringVar(&o.Tokenizer, "tokenizer", "", "tokenizer file for a llama2.c checkpoint (tok*.bin)")
	f.BoolVarP(&o.Quiet, "quiet", "q", false, "print no timings")
	return cmd
}

func runRun(s *IO, o *runOptions, kvf *kvFlags) error {
	kvType, err := model.ParseKVType(o.KV)
	if err != nil {
		return usageError("--kv %q: choose one of %s, or K/V", o.KV, strings.Join(model.KVTypeNames(), ", "))
	}
	so, err := kvf.sessionOptions(kvType)
	if err != nil {
		return err
	}
	if o.Threads > 0 {
		defer kernels.SetThreads(kernels.SetThreads(o.Threads))
	}
	mf, err := modelfile.Open(o.Model, &modelfile.OpenOptions{Tokenizer: o.Tokenizer})
	if err != nil {
		return err
	}
	defer mf.Close()
	if mf.Vocab == nil {
		return fmt.Errorf("%s carries no tokenizer; lmc run needs one to read the prompt", o.Model)
	}
	tok, err := tokenizer.New(mf.Vocab)
	if err != nil {
		return fmt.Errorf("%s: %w", o.Model, err)
	}
	m, err := model.Load(mf, model.Options{})
	if err != nil {
		return err
	}
	ctx := o.Ctx
	if ctx == 0 {
		ctx = min(m.Config.ContextLength, maxDefaultCtx)
		if ctx <= 0 {
			ctx = maxDefaultCtx
		}
	}
	ids := tok.Encode(o.Prompt, true)
	if len(ids) == 0 {
		if tok.BOS() < 0 {
			return usageError("the prompt is empty and the model has no beginning-of-sequence token to start from")
		}
		ids = []int{tok.BOS()}
	}
	echo := o.Prompt
	if len(ids) >= ctx {
		if !o.Truncate {
			return usageError("the prompt is %d tokens, the context %d: shorten it, raise --ctx, or pass --truncate to keep its last tokens", len(ids), ctx)
		}
		ids = truncatePrompt(ids, tok.BOS(), max(1, ctx-max(1, min(o.N, ctx/2))))
		echo = tok.Decode(ids)
	}
	so.Context = ctx
	sess, err := m.NewSessionWith(so)
	if err != nil {
		return err
	}
	defer sess.Close()
	seed := o.Seed
	if seed < 0 {
		seed = time.Now().UnixNano() & (1<<62 - 1)
	}
	smp := sample.New(sample.Options{Temperature: o.Temp, TopK: o.TopK, TopP: o.TopP, Seed: uint64(seed)})
	out := &utf8Stream{w: s.Out}
	if o.Echo {
		out.write(echo)
		out.flush()
	}
	t0 := time.Now()
	logits, err := sess.Prefill(ids)
	if err != nil {
		return err
	}
	tPrompt := time.Since(t0)
	t1 := time.Now()
	gen, stop := 0, ""
	for gen < o.N {
		next := smp.Sample(logits)
		if next == tok.EOS() && !o.IgnoreEOS {
			stop = "end of sequence"
			break
		}
		gen++
		if !tok.IsSpecial(next) {
			out.write(tok.Piece(next))
		}
		if gen == o.N {
			break
		}
		if sess.Pos() >= sess.Context() {
			stop = "context full"
			break
		}
		if logits, err = sess.Decode(next); err != nil {
			if errors.Is(err, model.ErrContextFull) {
				stop = "context full"
				break
			}
			return err
		}
	}
	out.flush()
	if out.err != nil {
		return out.err
	}
	if so.Prefix != nil {
		if err := so.Prefix.Flush(); err != nil {
			return err
		}
	}
	tGen := time.Since(t1)
	if o.Echo || gen > 0 {
		fmt.Fprintln(s.Out)
	}
	if !o.Quiet {
		fmt.Fprintf(s.ErrOut, "prompt: %d tokens in %.3f s (%.1f tok/s); generated: %d tokens in %.3f s (%.1f tok/s); %d threads, %s kernels",
			len(ids), tPrompt.Seconds(), float64(len(ids))/tPrompt.Seconds(), gen, tGen.Seconds(), float64(gen)/max(tGen.Seconds(), 1e-9),
			kernels.Threads(), kernels.Implementation())
		if stop != "" {
			fmt.Fprintf(s.ErrOut, "; stopped: %s", stop)
		}
		if c, ok := sess.Cache().(*model.Cache); ok && (c.Type() != model.KVF32 || so.Policy != model.KVKeepAll || so.Prefix != nil) {
			fmt.Fprintf(s.ErrOut, "; KV %v, %.0f bytes/token", c.Type(), c.BytesPerToken())
			if so.Policy != model.KVKeepAll {
				fmt.Fprintf(s.ErrOut, ", %v keeps %d positions (%d evicted)", so.Policy, c.Budget(), c.Stats().Evicted)
			}
			if so.Prefix != nil {
				fmt.Fprintf(s.ErrOut, ", %d prompt tokens reused from %s", c.Stats().ReusedTokens, kvf.offload)
			}
		}
		if o.Temp > 0 {
			fmt.Fprintf(s.ErrOut, "; seed %d", seed)
		}
		fmt.Fprintln(s.ErrOut)
	}
	return nil
}

// truncatePrompt keeps a leading BOS (when present) and the last tokens of
// ids, keep tokens in all.
func truncatePrompt(ids []int, bos, keep int) []int {
	if len(ids) <= keep {
		return ids
	}
	if bos >= 0 && ids[0] == bos && keep > 1 {
		return append([]int{bos}, ids[len(ids)-(keep-1):]...)
	}
	return ids[len(ids)-keep:]
}

// utf8Stream writes text as it comes but holds back an incomplete UTF-8
// sequence at the end (a character split across byte tokens) until the
// rest arrives.
type utf8Stream struct {
	w   io.Writer
	buf []byte
	err error
}

func (u *utf8Stream) write(s string) {
	u.buf = append(u.buf, s...)
	n := len(u.buf)
	// Find where a trailing incomplete sequence starts, if any.
	cut := n
	for i := n - 1; i >= 0 && i >= n-utf8.UTFMax; i-- {
		if utf8.RuneStart(u.buf[i]) {
			if !utf8.FullRune(u.buf[i:]) {
				cut = i
			}
			break
		}
	}
	if cut > 0 && u.err == nil {
		_, u.err = u.w.Write(u.buf[:cut])
	}
	u.buf = append(u.buf[:0], u.buf[cut:]...)
}

// flush writes whatever is held back.
func (u *utf8Stream) flush() {
	if len(u.buf) > 0 && u.err == nil {
		_, u.err = u.w.Write(u.buf)
	}
	u.buf = u.buf[:0]
}
