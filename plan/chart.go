package plan

import (
	"fmt"
	"io"
	"math"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// ChartFormats are the weight formats a chart draws besides the chosen one.
var ChartFormats = []string{"f16", "q8_0", "q4_k_m", "q2_k"}

// Curve is memory against context for one weight format.
type Curve struct {
	Format   string    `json:"format"`
	Contexts []int     `json:"contexts"`
	Bytes    []float64 `json:"bytes"` // weights + KV + activations, per device
}

// Curves returns memory (per device: weights ÷ tp, the cache of o.Batch
// sequences, activations; no runtime constant) at n contexts from 0 to the
// model's limit (or o.Context when larger) for each format. Formats that
// cannot price the model (rows that fit no type) are left out.
func Curves(m *Model, o Options, formats []string, n int) ([]Curve, error) {
	o.Batch, o.TP = max(o.Batch, 1), max(o.TP, 1)
	if o.MicroBatch <= 0 {
		o.MicroBatch = DefaultMicroBatch
	}
	kv, err := ParseKVType(o.KV)
	if err != nil {
		return nil, err
	}
	limit := max(m.Arch.MaxContext, o.Context, 1)
	n = max(n, 2)
	ctxs := make([]int, n)
	for i := range ctxs {
		ctxs[i] = int(math.Round(float64(limit) * float64(i) / float64(n-1)))
	}
	layout := m.Arch.Layout(o.TP, o.FullSWA)
	var out []Curve
	seen := map[string]bool{}
	for _, s := range formats {
		f, err := ParseWeightFormat(s)
		if err != nil {
			return nil, err
		}
		if seen[f.String()] {
			continue
		}
		seen[f.String()] = true
		w, err := PriceWeights(m, f)
		if err != nil {
			continue
		}
		p := &planner{m: m, o: o, w: w, kv: kv, layout: layout, active: m.Arch.ActiveExperts}
		if o.ActiveExperts > 0 {
			p.active = o.ActiveExperts
		}
		c := Curve{Format: f.String(), Contexts: ctxs}
		for _, ctx := range ctxs {
			seq, err := layout.SequenceBytes(kv, ctx)
			if err != nil {
				return nil, err
			}
			b := float64(w.Bytes)/float64(o.TP) + seq*float64(o.Batch) + float64(p.activations(ctx, o.Batch))
			c.Bytes = append(c.Bytes, b)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("plan: none of the formats %v can store %s", formats, m.Name)
	}
	return out, nil
}

// Chart draws memory against context for the formats, with the usable
// memory of the hardware drawn as horizontal dashed lines (those near the
// curves' range, at most 8), and writes it to w as format ("png", "svg",
// "pdf").
func Chart(w io.Writer, format string, m *Model, o Options, formats []string, hw []Hardware) error {
	curves, err := Curves(m, o, formats, 65)
	if err != nil {
		return err
	}
	p := plot.New()
	kv := o.KV
	if kv == "" {
		kv = "f16"
	}
	p.Title.Text = fmt.Sprintf("%s: memory per device vs context (KV %s, batch %d, tp %d)", m.Name, kv, max(o.Batch, 1), max(o.TP, 1))
	p.X.Label.Text = "context (tokens)"
	p.Y.Label.Text = "GiB (weights + KV + activations)"
	p.Legend.Top = true
	p.Legend.Left = true
	ymax := 0.0
	for i, c := range curves {
		xy := make(plotter.XYs, len(c.Contexts))
		for j := range c.Contexts {
			xy[j].X, xy[j].Y = float64(c.Contexts[j]), c.Bytes[j]/(1<<30)
			ymax = math.Max(ymax, xy[j].Y)
		}
		l, err := plotter.NewLine(xy)
		if err != nil {
			return err
		}
		l.Color = plotutil.Color(i)
		l.Width = vg.Points(2)
		p.Add(l)
		p.Legend.Add(c.Format, l)
	}
	// Hardware limits within reach of the curves: every usable size up to
	// 1.2 × the top of the curves and the next one above, devices of equal
	// size on one line, at most 8 lines (the largest kept).
	type lim struct {
		name string
		gib  float64
	}
	var all []lim
	for _, h := range hw {
		g := float64(h.UsableBytes()) / (1 << 30)
		if n := len(all); n > 0 && all[n-1].gib == g {
			all[n-1].name += " / " + h.Name
			continue
		}
		found := false
		for i := range all {
			if all[i].gib == g {
				all[i].name += " / " + h.Name
				found = true
			}
		}
		if !found {
			all = append(all, lim{h.Name, g})
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].gib < all[j].gib })
	var lims []lim
	for _, l := range all {
		lims = append(lims, l)
		if l.gib > ymax*1.2 {
			break
		}
	}
	if len(lims) > 8 {
		lims = lims[len(lims)-8:]
	}
	xmax := float64(curves[0].Contexts[len(curves[0].Contexts)-1])
	labels := plotter.XYLabels{}
	for i, l := range lims {
		line, err := plotter.NewLine(plotter.XYs{{X: 0, Y: l.gib}, {X: xmax, Y: l.gib}})
		if err != nil {
			return err
		}
		line.Color = plotutil.Color(len(curves) + i)
		line.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
		line.Width = vg.Points(1)
		p.Add(line)
		labels.XYs = append(labels.XYs, plotter.XY{X: xmax, Y: l.gib})
		labels.Labels = append(labels.Labels, fmt.Sprintf("%s: %.0f GiB usable", l.name, l.gib))
		ymax = math.Max(ymax, l.gib)
	}
	if len(lims) > 0 {
		lb, err := plotter.NewLabels(labels)
		if err != nil {
			return err
		}
		for i := range lb.TextStyle {
			lb.TextStyle[i].XAlign = draw.XRight
			lb.TextStyle[i].YAlign = draw.YBottom
			lb.TextStyle[i].Font.Size = vg.Points(8)
		}
		p.Add(lb)
	}
	p.Y.Max = ymax * 1.1
	p.Y.Min = 0
	p.X.Min = 0
	p.Add(plotter.NewGrid())
	wt, err := p.WriterTo(8*vg.Inch, 5*vg.Inch, format)
	if err != nil {
		return err
	}
	_, err = wt.WriteTo(w)
	return err
}
