package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/lmc-project/lmc/internal/provenance"
	"github.com/lmc-project/lmc/kernels"
	"github.com/lmc-project/lmc/model"
	"github.com/lmc-project/lmc/modelfile"
	"github.com/lmc-project/lmc/quant/imatrix"
)

// ImatrixOutput is what `lmc imatrix --json` prints.
type ImatrixOutput struct {
	Model      string  `json:"model"`
	Text       string  `json:"text"`
	TextTokens int     `json:"text_tokens"`
	Output     string  `json:"output"`
	Format     string  `json:"format"`
	Entries    int     `json:"entries"`
	Chunks     int     `json:"chunks"`
	ChunkSize  int     `json:"chunk_size"`
	Seconds    float64 `json:"seconds"`
	Manifest   string  `json:"manifest"`
}

func newImatrixCmd(s *IO) *cobra.Command {
	var (
		text, out, format, tokPath string
		ctx, chunks, threads       int
		processOutput, asJSON      bool
		quiet                      bool
	)
	cmd := &cobra.Command{
		Use:   "imatrix MODEL --text FILE -o imatrix.gguf",
		Short: "Compute an importance matrix (llama-imatrix's format) for importance-weighted quantization",
		Long: `Imatrix runs the model over a calibration text and records, for every input
column of every weight matrix, the mean squared activation that reached it:
llama.cpp's importance matrix. lmc quantize --imatrix (and llama-quantize
--imatrix) weight each column's rounding error by it.

The protocol is llama-imatrix's: the text is tokenized with BOS and cut into
chunks of --ctx tokens, each evaluated from an empty cache with BOS first;
the output projection is left out unless --process-output. The file is in
llama-imatrix's GGUF format (imatrix.datasets, imatrix.chunk_count,
imatrix.chunk_size; <tensor>.in_sum2 and <tensor>.counts), or its legacy .dat
format with --output-format dat, so files go both ways between lmc and
llama.cpp.`,
		Example: `  lmc imatrix books5M-f32.gguf --text pg1342.txt -o books5M.imatrix.gguf --ctx 256
  lmc imatrix model.gguf -f calibration.txt -o imatrix.dat --output-format dat --chunks 100`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			start := time.Now()
			if text == "" || out == "" {
				return usageError("--text FILE and -o OUT are required")
			}
			if format == "" {
				format = "gguf"
				if strings.HasSuffix(strings.ToLower(out), ".dat") {
					format = "dat"
				}
			}
			if format != "gguf" && format != "dat" {
				return usageError("--output-format %q: choose gguf or dat", format)
			}
			if ctx < 16 || chunks < 0 {
				return usageError("--ctx must be at least 16 and --chunks not negative")
			}
			if same(args[0], out) || same(text, out) {
				return usageError("output %s would overwrite an input", out)
			}
			if threads > 0 {
				defer kernels.SetThreads(kernels.SetThreads(threads))
			}
			mf, err := modelfile.Open(args[0], &modelfile.OpenOptions{Tokenizer: tokPath})
			if err != nil {
				return err
			}
			defer mf.Close()
			txt, err := readModelText(mf, text)
			if err != nil {
				return err
			}
			m, err := model.Load(mf, model.Options{})
			if err != nil {
				return err
			}
			var bar *progressbar.ProgressBar
			if s.progress(quiet || asJSON) {
				bar = progressbar.NewOptions(1, progressbar.OptionSetWriter(s.ErrOut), progressbar.OptionSetDescription("imatrix"),
					progressbar.OptionShowCount(), progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
			}
			im, err := imatrix.Collect(cmdContext(cmd), m, txt.Tokens, imatrix.Options{Context: ctx, Chunks: chunks, BOS: txt.BOS,
				Output: processOutput, Dataset: text, Progress: func(done, total int, _ time.Duration) {
					if bar != nil {
						bar.ChangeMax(total)
						bar.Set(done)
					}
				}})
			if bar != nil {
				bar.Finish()
			}
			if err != nil {
				return err
			}
			if format == "dat" {
				err = im.WriteLegacy(out)
			} else {
				err = im.WriteGGUF(out)
			}
			if err != nil {
				return err
			}
			res := ImatrixOutput{Model: args[0], Text: text, TextTokens: len(txt.Tokens), Output: out, Format: format,
				Entries: len(im.Entries), Chunks: im.ChunkCount, ChunkSize: im.ChunkSize, Seconds: time.Since(start).Seconds()}
			man := &provenance.Manifest{Tool: "lmc", Version: version(), Command: append([]string{"lmc"}, os.Args[1:]...),
				Created: time.Now().UTC(), Seconds: res.Seconds,
				Recipe: map[string]any{"operation": "imatrix", "ctx": ctx, "chunks": im.ChunkCount, "process_output": processOutput, "format": format}}
			if man.Inputs, err = provenance.HashPaths(append(append([]string(nil), mf.Inputs...), text)...); err != nil {
				return err
			}
			if man.Outputs, err = provenance.HashPaths(out); err != nil {
				return err
			}
			res.Manifest = provenance.PathFor(out)
			if err := provenance.Write(res.Manifest, man); err != nil {
				return err
			}
			if asJSON {
				return writeJSON(s.Out, res)
			}
			printImatrix(s.Out, &res)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&text, "text", "f", "", "calibration text (UTF-8)")
	fl.StringVarP(&out, "output", "o", "", "output file (imatrix.gguf; .dat for the legacy format)")
	fl.StringVar(&format, "output-format", "", "gguf or dat (default: from the output's extension)")
	fl.IntVarP(&ctx, "ctx", "c", 512, "chunk length in tokens (llama-imatrix -c)")
	fl.IntVar(&chunks, "chunks", 0, "process at most this many chunks (0: all)")
	fl.BoolVar(&processOutput, "process-output", false, "also collect the output projection (output.weight)")
	fl.IntVarP(&threads, "threads", "t", 0, "threads (0: all cores)")
	fl.StringVar(&tokPath, "tokenizer", "", "tokenizer file for a llama2.c checkpoint (tok*.bin)")
	fl.BoolVar(&asJSON, "json", false, "print the result as JSON")
	fl.BoolVarP(&quiet, "quiet", "q", false, "no progress bar")
	return cmd
}

func printImatrix(w io.Writer, r *ImatrixOutput) {
	fmt.Fprintf(w, "wrote %s (%s format): %d entries from %d chunks × %d tokens of %s (%d tokens) in %.2fs\nprovenance: %s\n",
		r.Output, r.Format, r.Entries, r.Chunks, r.ChunkSize, r.Text, r.TextTokens, r.Seconds, r.Manifest)
}
