package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/lmc-project/lmc/modelfile"
)

func newInspectCmd(s *IO) *cobra.Command {
	var (
		asJSON    bool
		all       bool
		tokenizer string
	)
	cmd := &cobra.Command{
		Use:   "inspect MODEL",
		Short: "Show a model's architecture, tensors, types, size and tokenizer",
		Long: `Inspect prints what a model file holds: its architecture, parameter count,
layers and heads, a table of tensors (name, shape, type, bytes), totals per
type, bits per weight, metadata and a summary of its tokenizer.

MODEL is a GGUF file, a safetensors file, a Hugging Face folder
(config.json + safetensors), a llama2.c .bin checkpoint, or the name of a
built-in model (lmc-mini). Files are only read, never changed.`,
		Example: `  lmc inspect lmc-mini
  lmc inspect model.gguf --json | jq .types
  lmc inspect stories260K.bin --tokenizer tok512.bin`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := modelfile.Inspect(args[0], &modelfile.OpenOptions{Tokenizer: tokenizer})
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(s.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(r)
			}
			printReport(s.Out, r, all)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON (stable field names)")
	cmd.Flags().BoolVar(&all, "all", false, "list every tensor (default: the first 24 and the last 4)")
	cmd.Flags().StringVar(&tokenizer, "tokenizer", "", "tokenizer file for a llama2.c checkpoint (tok*.bin)")
	return cmd
}

func printReport(w io.Writer, r *modelfile.Report, all bool) {
	fmt.Fprintf(w, "%s  (%s)\n", r.Path, r.Format)
	if r.Note != "" {
		fmt.Fprintf(w, "note: %s\n", r.Note)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if c := r.Config; c != nil {
		fmt.Fprintf(tw, "architecture\t%s (%s)\n", c.Arch, c.Family)
		fmt.Fprintf(tw, "layers\t%d\n", c.BlockCount)
		fmt.Fprintf(tw, "hidden / ffn\t%d / %d\n", c.EmbeddingLength, c.FeedForwardLength)
		fmt.Fprintf(tw, "heads / kv heads / head dim\t%d / %d / %d\n", c.HeadCount, c.HeadCountKV, c.HeadDim)
		fmt.Fprintf(tw, "vocab\t%d\n", c.VocabSize)
		fmt.Fprintf(tw, "context\t%d\n", c.ContextLength)
		rope := fmt.Sprintf("theta %g", c.RopeTheta)
		if c.RopeScaling != "" {
			rope += fmt.Sprintf(", %s scaling x%g", c.RopeScaling, c.RopeFactor)
		}
		fmt.Fprintf(tw, "rope\t%s\n", rope)
		fmt.Fprintf(tw, "norm eps\t%g\n", c.RMSNormEps)
		fmt.Fprintf(tw, "tied embeddings\t%v\n", c.TiedEmbeddings)
		if c.QKVBias || c.QKNorm {
			fmt.Fprintf(tw, "qkv bias / qk norm\t%v / %v\n", c.QKVBias, c.QKNorm)
		}
	} else if r.Architecture != "" {
		fmt.Fprintf(tw, "architecture\t%s\n", r.Architecture)
	}
	fmt.Fprintf(tw, "parameters\t%s (%d)\n", human(float64(r.Parameters)), r.Parameters)
	fmt.Fprintf(tw, "tensor bytes\t%s (%.3f bits per weight)\n", humanBytes(r.TensorBytes), r.BitsPerWeight)
	if r.FileBytes > 0 {
		fmt.Fprintf(tw, "file bytes\t%s\n", humanBytes(r.FileBytes))
	}
	tw.Flush()

	fmt.Fprintln(w, "\ntypes:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "type\ttensors\tparameters\tbytes\tshare\t")
	for _, t := range r.Types {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%.1f%%\t\n", t.Type, t.Tensors, t.Parameters, humanBytes(t.Bytes), 100*t.Share)
	}
	tw.Flush()

	fmt.Fprintf(w, "\ntensors (%d):\n", len(r.Tensors))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "name\tshape\ttype\tbytes")
	for i, t := range r.Tensors {
		if !all && len(r.Tensors) > 30 && i == 24 {
			fmt.Fprintf(tw, "… %d more (--all lists them)\t\t\t\n", len(r.Tensors)-28)
		}
		if !all && len(r.Tensors) > 30 && i >= 24 && i < len(r.Tensors)-4 {
			continue
		}
		fmt.Fprintf(tw, "%s\t%v\t%s\t%d\n", t.Name, t.Shape, t.Type, t.Bytes)
	}
	tw.Flush()

	if tk := r.Tokenizer; tk != nil {
		fmt.Fprintln(w, "\ntokenizer:")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		model := tk.Model
		if tk.Pre != "" {
			model += " (pre " + tk.Pre + ")"
		}
		fmt.Fprintf(tw, "model\t%s\n", model)
		fmt.Fprintf(tw, "tokens\t%d\n", tk.Tokens)
		if tk.Merges > 0 {
			fmt.Fprintf(tw, "merges\t%d\n", tk.Merges)
		}
		fmt.Fprintf(tw, "bos / eos / unk\t%s / %s / %s\n", dash(tk.BOS), dash(tk.EOS), dash(tk.UNK))
		fmt.Fprintf(tw, "adds bos\t%v\n", tk.AddBOS)
		if len(tk.Special) > 0 {
			fmt.Fprintf(tw, "special\t%s\n", strings.Join(tk.Special, ", "))
		}
		tw.Flush()
	}
	if len(r.Metadata) > 0 {
		fmt.Fprintln(w, "\nmetadata:")
		keys := make([]string, 0, len(r.Metadata))
		for k := range r.Metadata {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, k := range keys {
			fmt.Fprintf(tw, "%s\t%s\n", k, r.Metadata[k])
		}
		tw.Flush()
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func human(n float64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2fB", n/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.2fM", n/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1fK", n/1e3)
	}
	return fmt.Sprintf("%.0f", n)
}

func humanBytes(n int64) string {
	f := float64(n)
	switch {
	case f >= 1<<30:
		return fmt.Sprintf("%.2f GiB", f/(1<<30))
	case f >= 1<<20:
		return fmt.Sprintf("%.2f MiB", f/(1<<20))
	case f >= 1<<10:
		return fmt.Sprintf("%.1f KiB", f/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
