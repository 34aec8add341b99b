package cli

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/lmc-project/lmc/eval"
	"github.com/lmc-project/lmc/gguf"
	"github.com/lmc-project/lmc/internal/provenance"
	"github.com/lmc-project/lmc/kernels"
	"github.com/lmc-project/lmc/modelfile"
	"github.com/lmc-project/lmc/plan"
	_ "github.com/lmc-project/lmc/quant" // kernels for block-quantized weights
	"github.com/lmc-project/lmc/quant/imatrix"
	"github.com/lmc-project/lmc/quantize"
	"github.com/lmc-project/lmc/tokenizer"
)

// QuantizeOutput is what `lmc quantize --json` prints.
type QuantizeOutput struct {
	*quantize.Report
	Manifest string `json:"manifest"`
}

// quantizeFlags are the flags of quantize (and the quantization part of
// compress).
type quantizeFlags struct {
	typ, imatrixPath, calib, method, format, tokenizer  string
	outputType, embType                                 string
	tensorTypes                                         []string
	pure, allowRequant, actOrder, onePass, noClip, asym bool
	calibCtx, calibChunks, bits, groupSize, threads     int
	damp                                                float64
}

func (f *quantizeFlags) addCommon(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.imatrixPath, "imatrix", "", "importance matrix (llama-imatrix's GGUF or .dat, or lmc imatrix's) to weight rounding errors")
	fl.StringVar(&f.calib, "calib", "", "calibration text (UTF-8): for --method gptq/awq, or to compute an importance matrix on the fly")
	fl.IntVar(&f.calibCtx, "calib-ctx", 512, "calibration chunk length in tokens")
	fl.IntVar(&f.calibChunks, "calib-chunks", 128, "most calibration chunks to use (0: all)")
	fl.StringVar(&f.tokenizer, "tokenizer", "", "tokenizer file for a llama2.c checkpoint (tok*.bin)")
	fl.IntVarP(&f.threads, "threads", "t", 0, "threads (0: all cores)")
	fl.BoolVar(&f.pure, "pure", false, "every quantizable tensor in the type's default ggml type (llama-quantize --pure)")
	fl.Float64Var(&f.damp, "damp", 0.01, "GPTQ: dampening, fraction of the mean Hessian diagonal")
	fl.BoolVar(&f.actOrder, "act-order", false, "GPTQ: quantize columns by decreasing activation energy (desc_act; integer grids)")
	fl.BoolVar(&f.onePass, "one-pass", false, "GPTQ: collect each block's inputs in one pass (faster, slightly worse)")
	fl.BoolVar(&f.noClip, "no-clip", false, "AWQ: skip the weight-clipping search")
}

func (f *quantizeFlags) add(cmd *cobra.Command) {
	f.addCommon(cmd)
	fl := cmd.Flags()
	fl.StringVar(&f.typ, "type", "q4_k_m", "llama.cpp file type: "+strings.ToLower(strings.Join(quantTypeNames(), ", ")))
	fl.StringVar(&f.method, "method", "rtn", "rtn (round to nearest; importance-weighted with --imatrix/--calib), gptq or awq")
	fl.StringVar(&f.format, "format", "", "output format: gguf (default for OUT.gguf), gptq or compressed-tensors (Hugging Face folders)")
	fl.StringArrayVar(&f.tensorTypes, "tensor-type", nil, "REGEX=TYPE: store tensors whose name matches in TYPE (repeatable; the last match wins)")
	fl.StringVar(&f.outputType, "output-tensor-type", "", "ggml type of output.weight")
	fl.StringVar(&f.embType, "token-embedding-type", "", "ggml type of token_embd.weight")
	fl.BoolVar(&f.allowRequant, "allow-requantize", false, "allow requantizing tensors that are already quantized (loses quality)")
	fl.IntVar(&f.bits, "bits", 4, "gptq/compressed-tensors formats: bits per weight (4 or 8)")
	fl.IntVar(&f.groupSize, "group-size", 128, "gptq/compressed-tensors formats: columns per scale (32, 64, 128; -1: per row)")
	fl.BoolVar(&f.asym, "asym", false, "gptq/compressed-tensors formats: asymmetric grid (a zero point per group)")
}

// quantTypeNames lists the file types lmc can write.
func quantTypeNames() []string {
	var out []string
	for _, ft := range plan.FileTypes() {
		def, _ := ft.DefaultType()
		if _, err := quantize.ParseType(def.String()); err == nil {
			out = append(out, ft.String())
		}
	}
	return out
}

// options turns the flags into quantize.Options (everything but the
// calibration text, which needs the model's tokenizer).
func (f *quantizeFlags) options() (quantize.Options, error) {
	var o quantize.Options
	if f.typ != "" {
		ft, err := plan.ParseFileType(f.typ)
		if err != nil {
			return o, usageError("--type %q: choose one of %s", f.typ, strings.ToLower(strings.Join(quantTypeNames(), ", ")))
		}
		o.FileType = ft
	}
	o.Pure, o.AllowRequantize, o.Threads = f.pure, f.allowRequant, f.threads
	switch f.method {
	case "rtn", "":
		o.Method = quantize.MethodRTN
	case "gptq":
		o.Method = quantize.MethodGPTQ
	case "awq":
		o.Method = quantize.MethodAWQ
	default:
		return o, usageError("--method %q: choose rtn, gptq or awq", f.method)
	}
	for _, r := range f.tensorTypes {
		rule, err := quantize.ParseTensorRule(r)
		if err != nil {
			return o, usageError("--tensor-type: %v", err)
		}
		o.TensorTypes = append(o.TensorTypes, rule)
	}
	for _, x := range []struct {
		flag, val string
		dst       **gguf.Type
	}{{"--output-tensor-type", f.outputType, &o.OutputType}, {"--token-embedding-type", f.embType, &o.EmbeddingType}} {
		if x.val == "" {
			continue
		}
		t, err := quantize.ParseType(x.val)
		if err != nil {
			return o, usageError("%s: %v", x.flag, err)
		}
		*x.dst = &t
	}
	o.Grid = quantize.Grid{Bits: f.bits, GroupSize: f.groupSize, Asym: f.asym}
	o.GPTQ = quantize.GPTQOptions{Damp: f.damp, ActOrder: f.actOrder, OnePass: f.onePass}
	o.AWQ = quantize.AWQOptions{NoClip: f.noClip}
	if f.imatrixPath != "" && f.calib != "" && o.Method == quantize.MethodRTN {
		return o, usageError("give --imatrix or --calib, not both")
	}
	if o.Method != quantize.MethodRTN && f.calib == "" {
		return o, usageError("--method %s needs calibration text: --calib FILE", f.method)
	}
	if f.calibCtx < 16 {
		return o, usageError("--calib-ctx %d: at least 16 tokens", f.calibCtx)
	}
	return o, nil
}

// load reads the importance matrix and tokenizes the calibration text.
func (f *quantizeFlags) load(m *modelfile.Model, o *quantize.Options) error {
	if f.imatrixPath != "" {
		im, err := imatrix.Read(f.imatrixPath, nil)
		if err != nil {
			return err
		}
		o.Imatrix, o.ImatrixFile = im, f.imatrixPath
	}
	if f.calib != "" {
		text, err := readModelText(m, f.calib)
		if err != nil {
			return err
		}
		o.Calib = &quantize.Calibration{Name: f.calib, Tokens: text.Tokens, BOS: text.BOS, Context: f.calibCtx, Chunks: f.calibChunks}
	}
	return nil
}

// readModelText tokenizes a text file with m's tokenizer.
func readModelText(m *modelfile.Model, path string) (*eval.Text, error) {
	if m.Vocab == nil {
		return nil, fmt.Errorf("%s carries no tokenizer; calibration needs one to read %s", m.Path, path)
	}
	tok, err := tokenizer.New(m.Vocab)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.Path, err)
	}
	return eval.ReadText(path, tok)
}

// quantizeProgress draws a progress bar with ETA on a terminal.
type quantizeProgress struct {
	bar *progressbar.ProgressBar
}

func newQuantizeProgress(s *IO, quiet bool, desc string) *quantizeProgress {
	p := &quantizeProgress{}
	if s.progress(quiet) {
		p.bar = progressbar.NewOptions(1000, progressbar.OptionSetWriter(s.ErrOut), progressbar.OptionSetDescription(desc),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionSetPredictTime(true),
			progressbar.OptionShowElapsedTimeOnFinish(), progressbar.OptionClearOnFinish(), progressbar.OptionSetWidth(30))
	}
	return p
}

func (p *quantizeProgress) update(pr quantize.Progress) {
	if p.bar == nil {
		return
	}
	desc := pr.Stage + " " + pr.Tensor
	if pr.Stage == "calibrate" {
		desc = fmt.Sprintf("calibrate+quantize block %d: %s", pr.Layer, pr.Tensor)
	}
	p.bar.Describe(desc)
	p.bar.Set(int(1000 * pr.Fraction))
}

func (p *quantizeProgress) finish() {
	if p.bar != nil {
		p.bar.Finish()
	}
}

func newQuantizeCmd(s *IO) *cobra.Command {
	var (
		f             quantizeFlags
		out           string
		noResume      bool
		asJSON, quiet bool
	)
	cmd := &cobra.Command{
		Use:   "quantize MODEL -o OUT",
		Short: "Quantize a model: llama.cpp's GGUF types (byte-identical to llama-quantize), importance matrix, GPTQ, AWQ",
		Long: `Quantize stores a model's weight matrices in fewer bits.

GGUF output (the default) uses llama.cpp's block types and its per-tensor
recipes (--type q4_k_m, q8_0, q6_k, q2_k, iq4_xs…): with round to nearest
(--method rtn, the default) lmc's files are byte-identical to llama-quantize's.
Where a tensor's rows do not divide into the type's blocks, lmc stores the
next type that fits (llama.cpp's fallback, or F16 where llama.cpp refuses)
and says so.

Calibration improves on plain rounding: --imatrix FILE (from lmc imatrix or
llama-imatrix) or --calib TEXT weights each column's rounding error by how
much signal reaches it; --method gptq rounds column by column and feeds each
error forward onto the columns not yet rounded (GPTQ); --method awq scales
salient input channels up before rounding and folds the inverse scales into
the preceding norm (AWQ). Both work on any ggml type: the result is an
ordinary GGUF file llama.cpp runs. Calibrated methods go block by block, so
memory stays near one block's statistics.

--format gptq or compressed-tensors writes a Hugging Face folder with integer
weights (--bits, --group-size, --asym) for vLLM and transformers.

The output appears only when complete. A run that is killed leaves OUT.partial
(the GGUF file in progress, or for the HF formats a folder of the finished
layers) and OUT.partial.json; running the same command again verifies what
was finished (sha256) and continues where it stopped, with the same result as
an uninterrupted run. A partial state from other inputs or another recipe is
discarded, with a note; --no-resume starts afresh. A provenance manifest
(inputs' sha256, recipe, per-tensor types and errors) is written beside the
output.`,
		Example: `  lmc quantize books5M-f32.gguf -o books5M-q4_k_m.gguf --type q4_k_m
  lmc quantize model.gguf -o model-q4_k_m.gguf --imatrix imatrix.gguf
  lmc quantize model.gguf -o model-gptq-q4_k_m.gguf --method gptq --calib wiki.train.raw
  lmc quantize model.gguf -o model-q3.gguf --type q3_k_m --tensor-type 'ffn_down=q4_k' --output-tensor-type q8_0
  lmc quantize lmc-mini -o lmc-mini-w4 --format gptq --method gptq --calib text.txt --group-size 128`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			start := time.Now()
			if out == "" {
				return usageError("-o OUT is required")
			}
			o, err := f.options()
			if err != nil {
				return err
			}
			switch f.format {
			case "":
				o.Format = quantize.FormatGGUF
			case "gguf", "gptq", "compressed-tensors":
				o.Format = quantize.Format(f.format)
			default:
				return usageError("--format %q: choose gguf, gptq or compressed-tensors", f.format)
			}
			if same(args[0], out) {
				return usageError("output %s is the input; lmc never overwrites its input", out)
			}
			o.NoResume = noResume
			m, err := modelfile.Open(args[0], &modelfile.OpenOptions{Tokenizer: f.tokenizer})
			if err != nil {
				return err
			}
			defer m.Close()
			if err := f.load(m, &o); err != nil {
				return err
			}
			if f.threads > 0 {
				defer kernels.SetThreads(kernels.SetThreads(f.threads))
			}
			pr := newQuantizeProgress(s, quiet || asJSON, "quantize")
			o.Progress = pr.update
			var notes []string
			o.Log = func(msg string) {
				notes = append(notes, msg)
				if !quiet && !asJSON && pr.bar == nil {
					fmt.Fprintln(s.ErrOut, "lmc quantize:", msg)
				}
			}
			rep, err := quantize.Run(cmdContext(cmd), m, out, o)
			pr.finish()
			if err != nil {
				return err
			}
			if pr.bar != nil && !quiet && !asJSON {
				for _, n := range notes {
					fmt.Fprintln(s.ErrOut, "lmc quantize:", n)
				}
			}
			manifest, err := writeQuantizeManifest(rep, &f, o, out, start)
			if err != nil {
				return err
			}
			res := QuantizeOutput{Report: rep, Manifest: manifest}
			if asJSON {
				return writeJSON(s.Out, res)
			}
			printQuantize(s.Out, &res)
			return nil
		},
	}
	f.add(cmd)
	cmd.Flags().StringVarP(&out, "output", "o", "", "output GGUF file (or folder for --format gptq/compressed-tensors)")
	cmd.Flags().BoolVar(&noResume, "no-resume", false, "start afresh even if OUT.partial from an interrupted run exists")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress bar or notes")
	return cmd
}

// writeQuantizeManifest writes OUT's provenance manifest.
func writeQuantizeManifest(rep *quantize.Report, f *quantizeFlags, o quantize.Options, out string, start time.Time) (string, error) {
	inputs := append([]provenance.FileHash(nil), rep.Inputs...)
	extra := []string{}
	if f.imatrixPath != "" {
		extra = append(extra, f.imatrixPath)
	}
	if f.calib != "" {
		extra = append(extra, f.calib)
	}
	if len(extra) > 0 {
		h, err := provenance.HashPaths(extra...)
		if err != nil {
			return "", err
		}
		inputs = append(inputs, h...)
	}
	outs, err := provenance.HashPaths(out)
	if err != nil {
		return "", err
	}
	type tensorRec struct {
		Name     string  `json:"name"`
		Type     string  `json:"type"`
		Method   string  `json:"method,omitempty"`
		RMSE     float64 `json:"rmse,omitempty"`
		RelRMSE  float64 `json:"rel_rmse,omitempty"`
		Weighted float64 `json:"weighted_rel_err,omitempty"`
		Output   float64 `json:"output_rel_err,omitempty"`
		Note     string  `json:"note,omitempty"`
	}
	var ts []tensorRec
	for _, t := range rep.Tensors {
		ts = append(ts, tensorRec{t.Name, t.Type, t.Method, t.RMSE, t.RelRMSE, t.WeightedRelErr, t.OutputRelErr, t.Note})
	}
	recipe := map[string]any{"operation": "quantize", "format": rep.Format, "file_type": rep.FileType, "method": rep.Method,
		"pure": o.Pure, "tensor_types": f.tensorTypes, "output_tensor_type": f.outputType, "token_embedding_type": f.embType,
		"imatrix": f.imatrixPath, "calibration": f.calib, "calibration_ctx": f.calibCtx, "calibration_chunks": f.calibChunks,
		"tensors": ts, "notes": rep.Notes, "bits_per_weight": rep.BPW}
	switch rep.Method {
	case quantize.MethodGPTQ:
		recipe["gptq"] = o.GPTQ
	case quantize.MethodAWQ:
		recipe["awq"] = o.AWQ
	}
	if rep.Format != quantize.FormatGGUF {
		recipe["grid"] = o.Grid
	}
	man := &provenance.Manifest{Tool: "lmc", Version: version(), Command: append([]string{"lmc"}, os.Args[1:]...),
		Created: time.Now().UTC(), Seconds: time.Since(start).Seconds(), Inputs: inputs, Outputs: outs, Recipe: recipe}
	path := provenance.PathFor(out)
	return path, provenance.Write(path, man)
}

func printQuantize(w io.Writer, r *QuantizeOutput) {
	var types []string
	for t, n := range r.Types {
		types = append(types, fmt.Sprintf("%s×%d", t, n))
	}
	sort.Strings(types)
	what := string(r.Method)
	if r.Imatrix != "" {
		what += " + imatrix " + r.Imatrix
	}
	if r.Calib != "" {
		what += ", calibrated on " + r.Calib
	}
	fmt.Fprintf(w, "wrote %s: %s %s (%s), %s, %.3f bits per weight\n", r.Output, r.Format, r.FileType, what, humanBytes(r.Bytes), r.BPW)
	fmt.Fprintf(w, "tensors: %s\n", strings.Join(types, ", "))
	if r.Resumed > 0 {
		fmt.Fprintf(w, "resumed: %d tensors taken from the interrupted run\n", r.Resumed)
	}
	worst, name := 0.0, ""
	for _, t := range r.Tensors {
		if t.RelRMSE > worst {
			worst, name = t.RelRMSE, t.Name
		}
	}
	if name != "" {
		fmt.Fprintf(w, "largest relative RMS error: %.4f (%s)\n", worst, name)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	calib := ""
	if r.CalibSeconds > 0 {
		calib = fmt.Sprintf(" (%.2fs running the model on calibration text)", r.CalibSeconds)
	}
	fmt.Fprintf(w, "time: %.2fs%s\nprovenance: %s\n", r.Seconds, calib, r.Manifest)
}
