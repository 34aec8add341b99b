package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/lmc-project/lmc/internal/provenance"
	"github.com/lmc-project/lmc/modelfile"
	"github.com/lmc-project/lmc/tensor"
)

// ConvertResult is what `lmc convert --json` prints.
type ConvertResult struct {
	Input      string  `json:"input"`
	Output     string  `json:"output"`
	Format     string  `json:"format"`
	DType      string  `json:"dtype,omitempty"`
	Tensors    int     `json:"tensors"`
	Parameters int64   `json:"parameters"`
	Bytes      int64   `json:"bytes"`
	Seconds    float64 `json:"seconds"`
	MBPerSec   float64 `json:"mb_per_s"`
	// ConvertSeconds is the time spent reading, converting and writing
	// tensors; the rest of Seconds is the provenance hashing of inputs
	// and outputs.
	ConvertSeconds float64 `json:"convert_seconds"`
	HashSeconds    float64 `json:"hash_seconds"`
	Manifest       string  `json:"manifest"`
}

func newConvertCmd(s *IO) *cobra.Command {
	var (
		dtype, to, tokenizerPath string
		asJSON, quiet, force     bool
	)
	cmd := &cobra.Command{
		Use:   "convert IN OUT",
		Short: "Convert a model between GGUF, Hugging Face safetensors and llama2.c",
		Long: `Convert reads a model in any format lmc knows and writes it as GGUF (when OUT
ends in .gguf) or as a Hugging Face folder (config.json, model.safetensors,
tokenizer files). It streams one tensor at a time, so memory stays near the
size of the largest tensor; writes to a temporary file and renames it when
done, so an interrupted run leaves nothing half-written; never modifies IN;
and writes a provenance manifest (sha256 of every input and output, lmc
version, command line) beside the output.

Q/K weights are permuted between Hugging Face's rotate-half layout and the
interleaved layout llama.cpp's "llama" architecture expects, so the GGUF
runs in llama.cpp and ollama as is.`,
		Example: `  lmc convert lmc-mini lmc-mini.gguf
  lmc convert ./Llama-3.2-1B model-f16.gguf --dtype f16
  lmc convert model.gguf ./model-hf --dtype bf16
  lmc convert stories260K.bin stories260K.gguf --tokenizer tok512.bin`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, out := args[0], args[1]
			var dt tensor.DType
			if dtype != "" {
				d, err := tensor.ParseDType(dtype)
				if err != nil || (d != tensor.F32 && d != tensor.F16 && d != tensor.BF16) {
					return usageError("--dtype %q: choose f32, f16 or bf16", dtype)
				}
				dt = d
			}
			format := to
			if format == "" {
				if strings.HasSuffix(strings.ToLower(out), ".gguf") {
					format = "gguf"
				} else {
					format = "hf"
				}
			}
			if format != "gguf" && format != "hf" {
				return usageError("--to %q: choose gguf or hf", to)
			}
			if same(in, out) {
				return usageError("output %s is the input; lmc never overwrites its input", out)
			}
			start := time.Now()
			m, err := modelfile.Open(in, &modelfile.OpenOptions{Tokenizer: tokenizerPath})
			if err != nil {
				return err
			}
			defer m.Close()
			opts := &modelfile.WriteOptions{DType: dt, Force: force}
			var bar *progressbar.ProgressBar
			if s.progress(quiet || asJSON) {
				bar = progressbar.NewOptions64(m.TensorBytes(),
					progressbar.OptionSetWriter(s.ErrOut), progressbar.OptionShowBytes(true),
					progressbar.OptionSetDescription("converting"), progressbar.OptionThrottle(100*time.Millisecond),
					progressbar.OptionShowElapsedTimeOnFinish(), progressbar.OptionClearOnFinish())
				opts.Progress = func(name string, done, total int64) {
					bar.ChangeMax64(total)
					bar.Set64(done)
				}
			}
			if format == "gguf" {
				err = modelfile.WriteGGUF(m, out, opts)
			} else {
				err = modelfile.WriteHF(m, out, opts)
			}
			if bar != nil {
				bar.Finish()
			}
			if err != nil {
				return err
			}
			convertSecs := time.Since(start).Seconds()
			res := ConvertResult{Input: in, Output: out, Format: format, Tensors: len(m.Tensors),
				Parameters: m.ParamCount(), ConvertSeconds: convertSecs}
			if dt != tensor.Invalid {
				res.DType = dt.String()
			}
			man := &provenance.Manifest{Tool: "lmc", Version: version(), Command: append([]string{"lmc"}, os.Args[1:]...),
				Created: time.Now().UTC(), Seconds: convertSecs,
				Recipe: map[string]any{"operation": "convert", "format": format, "dtype": res.DType}}
			if man.Inputs, err = provenance.HashPaths(m.Inputs...); err != nil {
				return err
			}
			if len(opts.Written) > 0 {
				man.Outputs = opts.Written // hashed while writing
			} else if man.Outputs, err = provenance.HashPaths(out); err != nil {
				return err
			}
			for _, o := range man.Outputs {
				res.Bytes += o.Bytes
			}
			res.Seconds = time.Since(start).Seconds()
			res.HashSeconds = res.Seconds - convertSecs
			res.MBPerSec = float64(res.Bytes) / 1e6 / res.Seconds
			res.Manifest = provenance.PathFor(out)
			if err := provenance.Write(res.Manifest, man); err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(s.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			fmt.Fprintf(s.Out, "wrote %s (%s, %d tensors, %s) in %.2fs (%.2fs converting, %.2fs hashing for provenance), %.0f MB/s\nprovenance: %s\n",
				out, format, res.Tensors, humanBytes(res.Bytes), res.Seconds, res.ConvertSeconds, res.HashSeconds, res.MBPerSec, res.Manifest)
			return nil
		},
	}
	cmd.Flags().StringVar(&dtype, "dtype", "", "convert weight matrices to f32, f16 or bf16 (default: keep each tensor's type)")
	cmd.Flags().StringVar(&to, "to", "", "output format, gguf or hf (default: gguf when OUT ends in .gguf, else hf)")
	cmd.Flags().StringVar(&tokenizerPath, "tokenizer", "", "tokenizer file for a llama2.c checkpoint (tok*.bin)")
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing output folder")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress bar")
	return cmd
}

// same reports whether two paths name the same file.
func same(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	if err1 == nil && err2 == nil {
		return os.SameFile(sa, sb)
	}
	aa, _ := filepath.Abs(a)
	bb, _ := filepath.Abs(b)
	return aa == bb
}
