package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/lmc-project/lmc/internal/atomicfile"
	"github.com/lmc-project/lmc/plan"
)

func newPlanCmd(s *IO) *cobra.Command {
	var (
		o                              plan.Options
		runtimeGiB                     float64
		hwFile, devices, chart, charts string
		hwOnly, asJSON, table, list    bool
	)
	cmd := &cobra.Command{
		Use:   "plan MODEL",
		Short: "Will it fit, how fast, what does it cost: memory, speed and price of running a model",
		Long: `Plan prices a model's memory (weights, KV cache, activations) in any format lmc
can write, and for a list of GPUs, Apple silicon, CPU servers and laptops says
whether it fits, the longest context and the most concurrent sequences that
fit, the decode speed ceiling (memory bandwidth ÷ bytes read per token) and,
with a price per hour, the cost per million output tokens.

MODEL is a GGUF file (its real tensors and types), a Hugging Face folder or
config.json, or a preset: well-known open models kept as data (lmc plan
--list-presets). --weights prices a llama.cpp file type exactly as
llama-quantize chooses each tensor's type (q4_k_m, q5_k_s, iq4_xs...), one
ggml type everywhere (pure-q4_K), or bits per weight (4.5bpw). Rows that fit
no block type are flagged, not priced.

How every number is made, and the sources of the presets and hardware:
docs/PLAN.md.`,
		Example: `  lmc plan Llama-3.1-8B --weights q4_k_m --ctx 32768
  lmc plan Llama-3.1-70B --weights q4_k_m --kv q8_0 --batch 16 --tp 2 --devices h100,a100
  lmc plan model.gguf --json | jq .fits
  lmc plan Mixtral-8x7B --weights q5_k_m --chart mixtral.png
  lmc plan --table`,
		Args: func(cmd *cobra.Command, args []string) error {
			if table || list {
				if len(args) != 0 {
					return usageError("--table and --list-presets take no MODEL")
				}
				return nil
			}
			return exactArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if list {
				return printPresets(s.Out, asJSON)
			}
			if table {
				t, err := plan.SeedTable()
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(s.Out, t)
				}
				printSeedTable(s.Out, t)
				return nil
			}
			if cmd.Flags().Changed("runtime") {
				if runtimeGiB < 0 || math.IsNaN(runtimeGiB) {
					return usageError("--runtime %g: want GiB ≥ 0", runtimeGiB)
				}
				o.RuntimeGiB, o.SetRuntime = runtimeGiB, true
			}
			for _, c := range []struct {
				name string
				v    int
			}{{"ctx", o.Context}, {"batch", o.Batch}, {"tp", o.TP}, {"ubatch", o.MicroBatch}, {"experts", o.ActiveExperts}} {
				if c.v < 0 {
					return usageError("--%s %d: want a positive number", c.name, c.v)
				}
			}
			if o.PricePerHour < 0 {
				return usageError("--price-per-hour %g: want USD ≥ 0", o.PricePerHour)
			}
			if _, err := plan.ParseWeightFormat(o.Weights); err != nil {
				return usageError("--weights: %v", err)
			}
			if _, err := plan.ParseKVType(o.KV); err != nil {
				return usageError("--kv: %v", err)
			}
			hw := plan.DefaultHardware()
			if hwFile != "" {
				var err error
				if hw, err = plan.LoadHardware(hwFile, hwOnly); err != nil {
					return err
				}
			}
			if devices != "" {
				hw = filterHardware(hw, devices)
				if len(hw) == 0 {
					return usageError("--devices %q matches no hardware (lmc plan --list-presets lists it)", devices)
				}
			}
			o.Hardware = hw
			m, err := plan.Load(args[0])
			if err != nil {
				var ue *plan.UnknownPresetError
				if errors.As(err, &ue) {
					return usageError("%v", err)
				}
				return err
			}
			r, err := plan.Estimate(m, o)
			if err != nil {
				var ce *plan.ContextError
				if errors.As(err, &ce) {
					return usageError("%v", err)
				}
				return err
			}
			if chart != "" {
				formats := append([]string{r.Weights.Format}, plan.ChartFormats...)
				if charts != "" {
					formats = strings.Split(charts, ",")
				}
				if err := writeChart(chart, m, o, formats, hw); err != nil {
					return err
				}
			}
			if asJSON {
				return writeJSON(s.Out, r)
			}
			printPlan(s.Out, r)
			if chart != "" {
				fmt.Fprintf(s.Out, "\nchart: %s\n", chart)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Weights, "weights", "", "weight format: llama.cpp file type (q4_k_m, q8_0, iq4_xs, f16...), pure-TYPE, bits per weight (4.5bpw), or file (default: as stored)")
	f.StringVar(&o.KV, "kv", "f16", "KV-cache type: f16, bf16, f32, fp8, q8_0, q4_0, q4_1, q5_0, q5_1, iq4_nl, int8, int4, int2, or K/V (q8_0/f16)")
	f.IntVar(&o.Context, "ctx", 0, "context length per sequence (default: the model's limit, at most 8192)")
	f.IntVar(&o.Batch, "batch", 1, "concurrent sequences")
	f.IntVar(&o.TP, "tp", 1, "tensor-parallel degree: devices sharing the weights and KV cache")
	f.IntVar(&o.ActiveExperts, "experts", 0, "active experts per token (MoE models; default: the model's)")
	f.IntVar(&o.MicroBatch, "ubatch", plan.DefaultMicroBatch, "prompt tokens processed per step (activation workspace)")
	f.BoolVar(&o.NoFlashAttention, "no-flash-attn", false, "count the attention score matrix (kernels without flash attention; llama.cpp then keeps V in f16)")
	f.Float64Var(&runtimeGiB, "runtime", 0, "runtime constant per device in GiB (default: the hardware data's, 0.25–1)")
	f.BoolVar(&o.RopeScaling, "rope-scaling", false, "allow a context beyond the model's trained limit (you run it with rope scaling)")
	f.BoolVar(&o.FullSWA, "full-swa", false, "ignore sliding windows: cache every token in every layer")
	f.IntVar(&o.KIVIGroup, "kivi-group", plan.DefaultKIVIGroup, "group size of int8/int4/int2 caches (f16 scale and zero per group)")
	f.IntVar(&o.KIVIResidual, "kivi-residual", plan.DefaultKIVIResidual, "recent tokens int8/int4/int2 caches keep in f16")
	f.Float64Var(&o.PricePerHour, "price-per-hour", 0, "USD per device-hour for every device (default: the hardware data's cloud prices)")
	f.StringVar(&hwFile, "hardware", "", "JSON file of hardware ({\"hardware\": [{name, kind, memory_gib, bandwidth_gbs, ...}]}) merged into the built-in list")
	f.BoolVar(&hwOnly, "hardware-only", false, "use the --hardware file alone, without the built-in list")
	f.StringVar(&devices, "devices", "", "comma-separated parts of hardware names to show (h100,4090,m3)")
	f.StringVar(&chart, "chart", "", "write a chart of memory against context to this file (.png, .svg or .pdf)")
	f.StringVar(&charts, "chart-formats", "", "comma-separated weight formats to chart (default: the chosen one, f16, q8_0, q4_k_m, q2_k)")
	f.BoolVar(&asJSON, "json", false, "print the plan as JSON (stable field names)")
	f.BoolVar(&table, "table", false, "print the table of weight sizes by parameter count and format")
	f.BoolVar(&list, "list-presets", false, "list the model presets and the hardware")
	return cmd
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func filterHardware(hw []plan.Hardware, spec string) []plan.Hardware {
	var out []plan.Hardware
	for _, h := range hw {
		name := strings.ToLower(h.Name)
		for _, p := range strings.Split(spec, ",") {
			if p = strings.ToLower(strings.TrimSpace(p)); p != "" && strings.Contains(name, p) {
				out = append(out, h)
				break
			}
		}
	}
	return out
}

func writeChart(path string, m *plan.Model, o plan.Options, formats []string, hw []plan.Hardware) error {
	ext := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	switch ext {
	case "png", "svg", "pdf":
	default:
		return usageError("--chart %s: the name must end in .png, .svg or .pdf", path)
	}
	f, err := atomicfile.Create(path)
	if err != nil {
		return err
	}
	defer f.Abort()
	if err := plan.Chart(f, ext, m, o, formats, hw); err != nil {
		return err
	}
	return f.Commit()
}

func printPresets(w io.Writer, asJSON bool) error {
	ps := plan.Presets()
	hw := plan.DefaultHardware()
	if asJSON {
		return writeJSON(w, map[string]any{"presets": ps, "hardware": hw})
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "preset\tarch\tlayers\thidden\theads/kv\tffn\tvocab\tcontext\tparameters\tsource")
	for _, a := range ps {
		m := plan.FromArch(a)
		ffn := strconv.Itoa(a.FFN)
		if a.MoE() {
			ffn = fmt.Sprintf("%d×%d of %d", a.ActiveExperts, a.ExpertFFNWidth(), a.Experts)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d/%d\t%s\t%d\t%d\t%s\t%s\n", a.Name, a.Family, a.Layers, a.Hidden, a.Heads, a.KVHeads,
			ffn, a.Vocab, a.MaxContext, human(float64(m.Params())), a.Source)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nhardware:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "name\tkind\tmemory\tusable\tbandwidth\t$/h")
	for _, h := range hw {
		fmt.Fprintf(tw, "%s\t%s\t%.1f GiB\t%.1f GiB\t%g GB/s\t%s\n", h.Name, h.Kind, h.MemoryGiB,
			float64(h.UsableBytes())/(1<<30), h.BandwidthGBs, price(h.PricePerHour))
	}
	return tw.Flush()
}

func price(p float64) string {
	if p <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", p)
}

func printSeedTable(w io.Writer, t *plan.Table) {
	fmt.Fprintln(w, "weights in GB (10^9 bytes) = parameters × bits ÷ 8")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "size\t"
	for _, b := range plan.TableBits {
		head += fmt.Sprintf("%d-bit\t", b)
	}
	for _, f := range t.BPW {
		head += f.Format + "\t"
	}
	fmt.Fprintln(tw, head)
	line := "bits/weight\t"
	for _, b := range plan.TableBits {
		line += strconv.Itoa(b) + "\t"
	}
	for _, f := range t.BPW {
		line += fmt.Sprintf("%.4f\t", f.BitsPerWeight)
	}
	fmt.Fprintln(tw, line)
	for _, r := range t.Rows {
		line := r.Label + "\t"
		for _, g := range r.Bits {
			line += strconv.FormatFloat(g, 'f', -1, 64) + " GB\t"
		}
		for _, g := range r.Mixes {
			line += fmt.Sprintf("%.1f GB\t", g)
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
	fmt.Fprintf(w, "llama.cpp mixes at the bits per weight llama-quantize gives %s's tensors (lmc's recipe table).\n", t.Reference)
}

func deviceName(f plan.Fit) string {
	if f.Devices > 1 {
		return fmt.Sprintf("%d× %s", f.Devices, f.Hardware)
	}
	return f.Hardware
}

func gib(b float64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.2f GiB", b/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.2f MiB", b/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", b/(1<<10))
	}
	return fmt.Sprintf("%.0f B", b)
}

func rate(v float64) string {
	switch {
	case v == 0:
		return "-"
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func printPlan(w io.Writer, r *plan.Result) {
	m, a, o := r.Model, r.Model.Arch, r.Options
	src := m.Source
	if m.Path != "" {
		src += ", " + m.Path
	} else if a.Source != "" {
		src += ", " + a.Source
	}
	fmt.Fprintf(w, "%s  (%s)\n", m.Name, src)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	arch := fmt.Sprintf("%s: %d layers, hidden %d, %d heads / %d KV heads × %d, vocab %d, context %d",
		a.Family, a.Layers, a.Hidden, a.Heads, a.KVHeads, a.HeadDim, a.Vocab, a.MaxContext)
	if a.MoE() {
		arch += fmt.Sprintf(", %d of %d experts (FFN %d)", a.ActiveExperts, a.Experts, a.ExpertFFNWidth())
		if o.ActiveExperts > 0 {
			arch += fmt.Sprintf(" [planned with %d active]", o.ActiveExperts)
		}
	} else {
		arch += fmt.Sprintf(", FFN %d", a.FFN)
	}
	fmt.Fprintf(tw, "architecture\t%s\n", arch)
	fmt.Fprintf(tw, "parameters\t%s (%d)\n", human(float64(r.Params)), r.Params)
	var types []string
	for _, t := range r.Weights.Types {
		types = append(types, fmt.Sprintf("%s ×%d", t.Type, t.Tensors))
	}
	wline := fmt.Sprintf("%s: %s (%.3f bits/weight)", r.Weights.Format, gib(float64(r.Weights.Bytes)), r.Weights.BitsPerWeight)
	if len(types) > 0 {
		wline += "  [" + strings.Join(types, ", ") + "]"
	}
	fmt.Fprintf(tw, "weights\t%s\n", wline)
	if r.Weights.ExpertBytes > 0 {
		fmt.Fprintf(tw, "\tof which routed experts %s (all held; a token reads its active ones)\n", gib(float64(r.Weights.ExpertBytes)))
	}
	seqs := "sequence"
	if o.Batch > 1 {
		seqs += "s"
	}
	fmt.Fprintf(tw, "KV cache\t%s: %s/token × %d tokens × %d %s = %s\n", r.KV.Type, gib(r.KV.BytesPerToken), o.Context, o.Batch, seqs, gib(float64(r.KV.Bytes)))
	if r.KV.Note != "" {
		fmt.Fprintf(tw, "\t%s\n", r.KV.Note)
	}
	fa := "flash attention"
	if o.NoFlashAttention {
		fa = "no flash attention"
	}
	fmt.Fprintf(tw, "activations\t%s (micro-batch %d, %s)\n", gib(float64(r.Activations)), o.MicroBatch, fa)
	fmt.Fprintf(tw, "total\t%s + the runtime constant of each device\n", gib(float64(r.Total)))
	fmt.Fprintf(tw, "decode reads\t%s per step (weights once for the batch + each sequence's KV)\n", gib(float64(r.ReadPerStep)))
	var fs []string
	for _, f := range r.Formats {
		if f.Error != "" {
			fs = append(fs, f.Format+" (does not fit the rows)")
		} else {
			fs = append(fs, fmt.Sprintf("%s %s", f.Format, gib(float64(f.Bytes))))
		}
	}
	fmt.Fprintf(tw, "other formats\t%s\n", strings.Join(fs, " · "))
	tw.Flush()

	if len(r.Fits) > 0 {
		fmt.Fprintf(w, "\nhardware at context %d, batch %d, tp %d:\n", o.Context, o.Batch, o.TP)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		width := len("device")
		for _, f := range r.Fits {
			width = max(width, len(deviceName(f)))
		}
		fmt.Fprintf(tw, "%-*s\tusable\tneed\tfits\tmax ctx\tmax seqs\ttok/s/seq\ttok/s\t$/h\t$/1M tok\t\n", width, "device")
		limited := false
		for _, f := range r.Fits {
			fits := "yes"
			if !f.Fits {
				switch {
				case f.MinDevices > 1:
					fits = fmt.Sprintf("no (%d×)", f.MinDevices)
				default:
					fits = "no"
				}
			}
			mc := strconv.Itoa(f.MaxContext)
			if f.ModelLimited {
				mc += "*"
				limited = true
			}
			cost := "-"
			if f.CostPerMillion > 0 && f.Fits {
				cost = fmt.Sprintf("%.3f", f.CostPerMillion)
			}
			name := fmt.Sprintf("%-*s", width, deviceName(f))
			tps, agg := "-", "-"
			if f.Fits {
				tps, agg = rate(f.TokensPerSecond), rate(f.AggregateTokensPerSecond)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t\n", name, gib(float64(f.UsableBytes)), gib(float64(f.NeedBytes)),
				fits, mc, f.MaxBatch, tps, agg, price(f.PricePerHour), cost)
		}
		tw.Flush()
		if limited {
			fmt.Fprintln(w, "* the model's own context limit")
		}
		fmt.Fprintln(w, "tok/s: decode ceiling = memory bandwidth ÷ bytes read per step; need and usable are per device")
		if r.Cheapest != "" {
			for _, f := range r.Fits {
				if f.Hardware == r.Cheapest {
					fmt.Fprintf(w, "cheapest that fits: %s at $%.2f/h ($%.3f per 1M output tokens at the ceiling)\n", f.Hardware, f.PricePerHour, f.CostPerMillion)
				}
			}
			if r.CheapestPer != r.Cheapest {
				for _, f := range r.Fits {
					if f.Hardware == r.CheapestPer {
						fmt.Fprintf(w, "cheapest per token: %s at $%.3f per 1M output tokens\n", f.Hardware, f.CostPerMillion)
					}
				}
			}
		} else {
			anyFits := false
			for _, f := range r.Fits {
				anyFits = anyFits || f.Fits
			}
			if anyFits {
				fmt.Fprintln(w, "no price for the devices that fit (--price-per-hour or a --hardware file gives one)")
			} else {
				fmt.Fprintln(w, "nothing fits (try --weights q4_k_m, --kv q8_0, a shorter --ctx or a larger --tp)")
			}
		}
	}
	for _, wn := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", wn)
	}
}
