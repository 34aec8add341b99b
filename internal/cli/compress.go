package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lmc-project/lmc/eval"
	"github.com/lmc-project/lmc/internal/heldout"
	"github.com/lmc-project/lmc/kernels"
	"github.com/lmc-project/lmc/model"
	"github.com/lmc-project/lmc/model/sample"
	"github.com/lmc-project/lmc/modelfile"
	"github.com/lmc-project/lmc/plan"
	"github.com/lmc-project/lmc/quant/imatrix"
	"github.com/lmc-project/lmc/quantize"
	"github.com/lmc-project/lmc/tokenizer"
)

// CompressRow is one quantized model of `lmc compress`.
type CompressRow struct {
	Type   string  `json:"type"`            // file type ("Q4_K_M"), or the file name for --also
	Method string  `json:"method"`          // rtn, imatrix, gptq, awq; "file" for --also
	File   string  `json:"file,omitempty"`  // kept or compared file
	Pure   bool    `json:"pure,omitempty"`  // --pure
	Bytes  int64   `json:"bytes"`           // file size
	BPW    float64 `json:"bits_per_weight"` // 8 × bytes / parameters
	PPL    float64 `json:"ppl"`
	PPLErr float64 `json:"ppl_err"`
	// PPLRatio is PPL(Q)/PPL(base).
	PPLRatio float64 `json:"ppl_ratio"`
	KLD      float64 `json:"kld"`
	KLD99    float64 `json:"kld_p99"`
	SameTop  float64 `json:"same_top"`
	// DecodeTPS is single-sequence generation speed (tokens/s).
	DecodeTPS       float64 `json:"decode_tokens_per_second"`
	QuantizeSeconds float64 `json:"quantize_seconds"`
	EvalSeconds     float64 `json:"eval_seconds"`
}

// CompressOutput is what `lmc compress --json` prints.
type CompressOutput struct {
	Model      string  `json:"model"`
	Params     int64   `json:"parameters"`
	Text       string  `json:"text"`
	TextTokens int     `json:"text_tokens"`
	Ctx        int     `json:"ctx"`
	Chunks     int     `json:"chunks"`
	AllChunks  int     `json:"text_chunks"`
	Calib      string  `json:"calibration,omitempty"`
	Threads    int     `json:"threads"`
	BaseBytes  int64   `json:"base_bytes"`
	BaseBPW    float64 `json:"base_bits_per_weight"`
	BasePPL    float64 `json:"base_ppl"`
	BasePPLErr float64 `json:"base_ppl_err"`
	BaseTPS    float64 `json:"base_decode_tokens_per_second"`
	// Sample is the original model's greedy continuation of SamplePrompt.
	SamplePrompt string        `json:"sample_prompt,omitempty"`
	Sample       string        `json:"sample,omitempty"`
	Rows         []CompressRow `json:"rows"`
	Seconds      float64       `json:"seconds"`
}

func newCompressCmd(s *IO) *cobra.Command {
	var (
		f                                       quantizeFlags
		types, methods, textPath, keep, jsonOut string
		gridList                                string
		also                                    []string
		ctxLen, chunks, gen                     int
		samplePrompt                            string
		asJSON, markdown, quiet                 bool
	)
	cmd := &cobra.Command{
		Use:   "compress MODEL",
		Short: "Quantize a model to several types and show size, bits per weight, perplexity, KL divergence and speed",
		Long: `Compress answers "how small can this model get, and what does it cost?": it
quantizes the model to each --types (llama.cpp's file types) with each
--methods (rtn: llama-quantize's rounding; imatrix: importance-weighted; gptq;
awq; the last three need --calib TEXT), and measures every result against the
original on a held-out text with llama-perplexity's protocol (chunks of --ctx
tokens, BOS first, second half scored): file size, bits per weight,
perplexity, KL divergence of the next-token distributions, how often the most
likely token stays the same, and decoding speed.

The default text is A Tale of Two Cities (pg98.txt, held out of the training
of books5M and lmc-mini) when the shared test data is found (LMC_SHARED, or a
folder "shared" beside the working directory or one of its parents);
otherwise a text embedded in lmc (its Apache-2.0 LICENSE), which no lmc model
was trained on. The output says which text was used. --also FILE adds other
GGUF files of the same model (llama.cpp's own quantizations) to the table.`,
		Example: `  lmc compress lmc-mini
  lmc compress books5M-f32.gguf --types q8_0,q6_k,q4_k_m,q3_k_m,q2_k --methods rtn,imatrix,gptq,awq \
      --calib pg1342.txt --calib-ctx 256 --text pg98.txt --ctx 256 --chunks 200
  lmc compress model.gguf --also model-q4_k_m.gguf --markdown`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			start := time.Now()
			ctx := cmdContext(cmd)
			var err error
			if ctxLen < 3 || chunks < 0 || gen < 0 {
				return usageError("--ctx must be at least 3, --chunks and --gen not negative")
			}
			f.method = "rtn"
			o, err := f.options()
			if err != nil {
				return err
			}
			var fts []plan.FileType
			for _, t := range splitCSV(types) {
				ft, err := plan.ParseFileType(t)
				if err != nil {
					return usageError("--types: %q: choose among %s", t, strings.ToLower(strings.Join(quantTypeNames(), ", ")))
				}
				fts = append(fts, ft)
			}
			var grids []namedGrid
			for _, g := range splitCSV(gridList) {
				ng, err := parseGrid(g)
				if err != nil {
					return usageError("--grids: %v", err)
				}
				grids = append(grids, ng)
			}
			ms := splitCSV(methods)
			for _, m := range ms {
				switch m {
				case "rtn":
				case "imatrix", "gptq", "awq":
					if f.calib == "" {
						return usageError("--methods %s needs calibration text: --calib FILE (not the evaluation text)", m)
					}
				default:
					return usageError("--methods: %q: choose among rtn, imatrix, gptq, awq", m)
				}
			}
			if f.threads > 0 {
				defer kernels.SetThreads(kernels.SetThreads(f.threads))
			}
			mf, err := modelfile.Open(args[0], &modelfile.OpenOptions{Tokenizer: f.tokenizer})
			if err != nil {
				return err
			}
			defer mf.Close()
			if mf.Vocab == nil {
				return fmt.Errorf("%s carries no tokenizer; compress needs one to read the evaluation text", args[0])
			}
			tok, err := tokenizer.New(mf.Vocab)
			if err != nil {
				return err
			}
			text, err := compressText(textPath, tok)
			if err != nil {
				return err
			}
			base, err := model.Load(mf, model.Options{})
			if err != nil {
				return err
			}
			tmp, err := os.MkdirTemp("", "lmc-compress-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(tmp)
			if keep != "" {
				if err := os.MkdirAll(keep, 0o755); err != nil {
					return err
				}
			}
			logf := func(format string, a ...any) {
				if !quiet && !asJSON {
					fmt.Fprintf(s.ErrOut, "lmc compress: "+format+"\n", a...)
				}
			}
			out := CompressOutput{Model: args[0], Params: mf.ParamCount(), Text: text.Name, TextTokens: len(text.Tokens), Ctx: ctxLen,
				AllChunks: len(text.Tokens) / ctxLen, Threads: kernels.Threads(), Calib: f.calib}
			out.Chunks = out.AllChunks
			if chunks > 0 {
				out.Chunks = min(chunks, out.AllChunks)
			}
			out.BaseBytes = compressModelBytes(mf)
			out.BaseBPW = 8 * float64(out.BaseBytes) / float64(max(out.Params, 1))
			logf("text %s: %d tokens, %d of %d chunks of %d", text.Name, len(text.Tokens), out.Chunks, out.AllChunks, ctxLen)
			eo := eval.Options{Context: ctxLen, Chunks: out.Chunks}
			basePath := filepath.Join(tmp, "base.kld")
			br, err := eval.SaveBase(ctx, base, text, basePath, 0, eo)
			if err != nil {
				return err
			}
			out.BasePPL, out.BasePPLErr = br.PPL, br.PPLErr
			bl, err := eval.OpenBase(basePath)
			if err != nil {
				return err
			}
			defer bl.Close()
			if gen > 0 {
				if out.BaseTPS, err = decodeSpeed(ctx, base, gen); err != nil {
					return err
				}
			}
			if samplePrompt != "" {
				out.SamplePrompt = samplePrompt
				if out.Sample, err = greedySample(base, tok, samplePrompt, 32); err != nil {
					return err
				}
				logf("sample: %s%s", samplePrompt, out.Sample)
			}
			// Calibration: one importance matrix for every type.
			var calibText *eval.Text
			var im *imatrix.Matrix
			if f.calib != "" {
				if calibText, err = eval.ReadText(f.calib, tok); err != nil {
					return err
				}
				if same(f.calib, text.Name) {
					logf("warning: the calibration text is the evaluation text; the numbers flatter the calibrated methods")
				}
				for _, m := range ms {
					if m == "imatrix" {
						logf("importance matrix from %s", f.calib)
						im, err = imatrix.Collect(ctx, base, calibText.Tokens, imatrix.Options{Context: f.calibCtx, Chunks: f.calibChunks, BOS: calibText.BOS, Dataset: f.calib})
						if err != nil {
							return err
						}
					}
				}
			}
			evalFile := func(row *CompressRow, path string) error {
				qf, err := modelfile.Open(path, nil)
				if err != nil {
					return err
				}
				defer qf.Close()
				qm, err := model.Load(qf, model.Options{})
				if err != nil {
					return err
				}
				t0 := time.Now()
				k, err := eval.KLD(ctx, qm, bl, text.BOS, eval.Options{Context: ctxLen, Chunks: out.Chunks})
				if err != nil {
					return err
				}
				row.EvalSeconds = time.Since(t0).Seconds()
				row.PPL, row.PPLErr, row.PPLRatio = k.PPL.Value, k.PPL.Err, k.PPL.Value/out.BasePPL
				row.KLD, row.KLD99, row.SameTop = k.KLD.Value, k.KLDQuantiles.P99, k.SameTop.Value
				if st, err := os.Stat(path); err == nil && row.Bytes == 0 && !st.IsDir() {
					row.Bytes = st.Size()
				}
				row.BPW = 8 * float64(row.Bytes) / float64(max(out.Params, 1))
				if gen > 0 {
					row.DecodeTPS, err = decodeSpeed(ctx, qm, gen)
				}
				return err
			}
			for _, ft := range fts {
				for _, m := range ms {
					row := CompressRow{Type: ft.String(), Method: m, Pure: f.pure}
					qo := o
					qo.FileType = ft
					qo.NoResume = true
					switch m {
					case "imatrix":
						qo.Imatrix = im
					case "gptq", "awq":
						qo.Method = quantize.Method(m)
						qo.Calib = &quantize.Calibration{Name: f.calib, Tokens: calibText.Tokens, BOS: calibText.BOS, Context: f.calibCtx, Chunks: f.calibChunks}
					}
					name := fmt.Sprintf("%s-%s.gguf", strings.ToLower(ft.String()), m)
					path := filepath.Join(tmp, name)
					if keep != "" {
						path = filepath.Join(keep, name)
						row.File = path
					}
					t0 := time.Now()
					qr, err := quantize.Run(ctx, mf, path, qo)
					if err != nil {
						return fmt.Errorf("%s %s: %w", ft, m, err)
					}
					row.Bytes = qr.Bytes
					row.QuantizeSeconds = time.Since(t0).Seconds()
					if err := evalFile(&row, path); err != nil {
						return fmt.Errorf("%s %s: %w", ft, m, err)
					}
					if keep == "" {
						os.Remove(path)
					}
					logf("%-7s %-7s %s  PPL %.4f  KLD %.6f", row.Type, row.Method, humanBytes(row.Bytes), row.PPL, row.KLD)
					out.Rows = append(out.Rows, row)
				}
			}
			for _, g := range grids {
				for _, m := range ms {
					if m == "imatrix" {
						continue // integer grids have no importance-weighted rounding
					}
					row := CompressRow{Type: g.name, Method: m}
					qo := o
					qo.Format, qo.Grid, qo.NoResume = quantize.FormatGPTQ, g.grid, true
					if m != "rtn" {
						qo.Method = quantize.Method(m)
						qo.Calib = &quantize.Calibration{Name: f.calib, Tokens: calibText.Tokens, BOS: calibText.BOS, Context: f.calibCtx, Chunks: f.calibChunks}
					}
					path := filepath.Join(tmp, g.name+"-"+m)
					if keep != "" {
						path = filepath.Join(keep, g.name+"-"+m)
						row.File = path
					}
					t0 := time.Now()
					qr, err := quantize.Run(ctx, mf, path, qo)
					if err != nil {
						return fmt.Errorf("%s %s: %w", g.name, m, err)
					}
					row.Bytes = qr.Bytes
					row.QuantizeSeconds = time.Since(t0).Seconds()
					if err := evalFile(&row, path); err != nil {
						return fmt.Errorf("%s %s: %w", g.name, m, err)
					}
					if keep == "" {
						os.RemoveAll(path)
					}
					logf("%-7s %-7s %s  PPL %.4f  KLD %.6f", row.Type, row.Method, humanBytes(row.Bytes), row.PPL, row.KLD)
					out.Rows = append(out.Rows, row)
				}
			}
			for _, a := range also {
				row := CompressRow{Type: filepath.Base(a), Method: "file", File: a}
				if err := evalFile(&row, a); err != nil {
					return fmt.Errorf("%s: %w", a, err)
				}
				logf("%s  PPL %.4f  KLD %.6f", row.Type, row.PPL, row.KLD)
				out.Rows = append(out.Rows, row)
			}
			out.Seconds = time.Since(start).Seconds()
			if jsonOut != "" {
				b, err := json.MarshalIndent(out, "", "  ")
				if err != nil {
					return err
				}
				if err := os.WriteFile(jsonOut, append(b, '\n'), 0o644); err != nil {
					return err
				}
			}
			switch {
			case asJSON:
				return writeJSON(s.Out, out)
			case markdown:
				printCompressMarkdown(s.Out, &out)
			default:
				printCompress(s.Out, &out)
			}
			return nil
		},
	}
	f.addCommon(cmd)
	fl := cmd.Flags()
	fl.StringVar(&types, "types", "q8_0,q6_k,q4_k_m,q3_k_m", "llama.cpp file types to try, comma-separated")
	fl.StringVar(&gridList, "grids", "", "integer grids to try as GPTQ-format folders, comma-separated: int4-g128, int4-g32-asym, int8-g128…")
	fl.StringVar(&methods, "methods", "rtn", "methods to try, comma-separated: rtn, imatrix, gptq, awq")
	fl.StringVarP(&textPath, "text", "f", "", "evaluation text (default: pg98.txt from the shared data, else an embedded text)")
	fl.IntVarP(&ctxLen, "ctx", "c", 256, "evaluation chunk length in tokens")
	fl.IntVar(&chunks, "chunks", 32, "evaluate the first N chunks of the text (0: all)")
	fl.IntVar(&gen, "gen", 64, "decode this many tokens to measure speed (0: skip)")
	fl.StringVar(&samplePrompt, "sample", "Once upon a time", "show the original model's greedy continuation of this prompt (\"\": none)")
	fl.StringArrayVar(&also, "also", nil, "another GGUF file of the same model to evaluate (repeatable), e.g. llama.cpp's quantizations")
	fl.StringVar(&keep, "keep", "", "keep the quantized files in this folder")
	fl.BoolVar(&asJSON, "json", false, "print the results as JSON")
	fl.BoolVar(&markdown, "markdown", false, "print the table as Markdown")
	fl.StringVar(&jsonOut, "json-out", "", "also write the results as JSON to FILE")
	fl.BoolVarP(&quiet, "quiet", "q", false, "no progress notes on stderr")
	return cmd
}

// namedGrid is an integer grid of --grids.
type namedGrid struct {
	name string
	grid quantize.Grid
}

// parseGrid parses intB-gG[-asym] (G may be "row" for one group per row).
func parseGrid(s string) (namedGrid, error) {
	var g quantize.Grid
	rest, ok := strings.CutPrefix(s, "int")
	if !ok {
		return namedGrid{}, fmt.Errorf("%q: want intB-gG[-asym], e.g. int4-g128", s)
	}
	parts := strings.Split(rest, "-")
	if len(parts) < 2 || len(parts) > 3 || !strings.HasPrefix(parts[1], "g") {
		return namedGrid{}, fmt.Errorf("%q: want intB-gG[-asym], e.g. int4-g128", s)
	}
	if _, err := fmt.Sscanf(parts[0], "%d", &g.Bits); err != nil || (g.Bits != 4 && g.Bits != 8) {
		return namedGrid{}, fmt.Errorf("%q: 4 or 8 bits", s)
	}
	if parts[1] == "grow" {
		g.GroupSize = -1
	} else if _, err := fmt.Sscanf(parts[1], "g%d", &g.GroupSize); err != nil || g.GroupSize <= 0 {
		return namedGrid{}, fmt.Errorf("%q: bad group size", s)
	}
	if len(parts) == 3 {
		if parts[2] != "asym" {
			return namedGrid{}, fmt.Errorf("%q: the suffix may only be -asym", s)
		}
		g.Asym = true
	}
	name := fmt.Sprintf("int%d-g%d-%s", g.Bits, g.GroupSize, map[bool]string{false: "sym", true: "asym"}[g.Asym])
	return namedGrid{name: name, grid: g}, nil
}

// compressText returns the evaluation text: the given file, pg98.txt from
// the shared data, or the embedded text.
func compressText(path string, tok *tokenizer.Tokenizer) (*eval.Text, error) {
	if path == "" {
		path = heldout.Find()
	}
	if path != "" {
		return eval.ReadText(path, tok)
	}
	return eval.Tokenize(heldout.EmbeddedName, heldout.Embedded(), tok)
}

// decodeSpeed returns generation tokens/s (one warm-up, one timed run).
func decodeSpeed(ctx context.Context, m *model.Model, n int) (float64, error) {
	r, err := eval.Bench(ctx, m, eval.BenchOptions{Gen: n, Reps: 1, BOS: -1})
	if err != nil || len(r.Tests) == 0 {
		return 0, err
	}
	return r.Tests[0].Mean, nil
}

// compressModelBytes is the size of the model's files.
func compressModelBytes(m *modelfile.Model) int64 {
	var n int64
	for _, p := range m.Inputs {
		if st, err := os.Stat(p); err == nil {
			n += st.Size()
		}
	}
	if n == 0 {
		n = m.TensorBytes()
	}
	return n
}

func splitCSV(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, strings.ToLower(p))
		}
	}
	return out
}

// greedySample continues prompt greedily for n tokens.
func greedySample(m *model.Model, tok *tokenizer.Tokenizer, prompt string, n int) (string, error) {
	ids := tok.Encode(prompt, true)
	s := m.NewSession(len(ids) + n)
	logits, err := s.Prefill(ids)
	if err != nil {
		return "", err
	}
	var out []int
	for len(out) < n {
		next := sample.Greedy(logits)
		if next == tok.EOS() {
			break
		}
		out = append(out, next)
		if len(out) == n {
			break
		}
		if logits, err = s.Decode(next); err != nil {
			return "", err
		}
	}
	return tok.Decode(out), nil
}

func printCompress(w io.Writer, o *CompressOutput) {
	fmt.Fprintf(w, "model %s (%s parameters): text %s, %d of %d chunks × %d tokens\n", o.Model, human(float64(o.Params)), o.Text, o.Chunks, o.AllChunks, o.Ctx)
	if o.Sample != "" {
		fmt.Fprintf(w, "sample (original, greedy): %q\n", o.SamplePrompt+o.Sample)
	}
	if o.Calib != "" {
		fmt.Fprintf(w, "calibration text: %s\n", o.Calib)
	}
	fmt.Fprintf(w, "%-22s %-8s %10s %6s %9s %8s %9s %9s %9s\n", "type", "method", "size", "bpw", "PPL", "ΔPPL", "KLD", "same top", "decode")
	fmt.Fprintf(w, "%-22s %-8s %10s %6.2f %9.4f %8s %9s %9s %9s\n", "original", "-", humanBytes(o.BaseBytes), o.BaseBPW, o.BasePPL, "-", "-", "-", tps(o.BaseTPS))
	for _, r := range o.Rows {
		fmt.Fprintf(w, "%-22s %-8s %10s %6.2f %9.4f %+7.2f%% %9.6f %8.2f%% %9s\n", r.Type, r.Method, humanBytes(r.Bytes), r.BPW, r.PPL,
			100*(r.PPLRatio-1), r.KLD, 100*r.SameTop, tps(r.DecodeTPS))
	}
	fmt.Fprintf(w, "%.1fs in all (%d threads)\n", o.Seconds, o.Threads)
}

func tps(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f t/s", v)
}

func printCompressMarkdown(w io.Writer, o *CompressOutput) {
	fmt.Fprintf(w, "Model %s, text %s: %d of %d chunks of %d tokens (%d scored tokens per chunk)", o.Model, o.Text, o.Chunks, o.AllChunks, o.Ctx, o.Ctx-1-o.Ctx/2)
	if o.Calib != "" {
		fmt.Fprintf(w, "; calibration text %s", o.Calib)
	}
	fmt.Fprintf(w, ".\n\n| type | method | bytes | bits/weight | PPL | PPL(Q)/PPL(base) | mean KLD | 99%% KLD | same top-1 %% |\n|---|---|---:|---:|---:|---:|---:|---:|---:|\n")
	fmt.Fprintf(w, "| original | - | %d | %.2f | %.4f | 1 | - | - | - |\n", o.BaseBytes, o.BaseBPW, o.BasePPL)
	for _, r := range o.Rows {
		fmt.Fprintf(w, "| %s | %s | %d | %.2f | %.4f | %.6f | %.6f | %.5f | %.3f |\n", r.Type, r.Method, r.Bytes, r.BPW, r.PPL, r.PPLRatio, r.KLD, r.KLD99, 100*r.SameTop)
	}
}
