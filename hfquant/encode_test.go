package hfquant_test

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/lmc-project/lmc/hfquant"
)

// TestEncodeQuantized: an encoded matrix decodes to the same struct
// (with and without g_idx, per-row groups), and truncated or foreign
// bytes are refused.
func TestEncodeQuantized(t *testing.T) {
	m := tinyModel(t, false)
	q := handGiven(m)["blk.0.ffn_down.weight"]
	act := *q
	act.GIdx = make([]int32, q.Cols)
	for c := range act.GIdx {
		act.GIdx[c] = int32((c * 7) % q.Groups())
	}
	row := &hfquant.Quantized{Rows: 2, Cols: 3, Scheme: hfquant.Scheme{Bits: 8, GroupSize: -1}, Codes: []uint8{1, 2, 3, 4, 5, 6},
		Scales: []float32{0.5, -0.25}, Zeros: []uint8{128, 3}}
	for _, x := range []*hfquant.Quantized{q, &act, row} {
		b := hfquant.EncodeQuantized(x)
		y, err := hfquant.DecodeQuantized(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(x, y) {
			t.Errorf("decoded %+v, want %+v", y.Scheme, x.Scheme)
		}
		if _, err := hfquant.DecodeQuantized(b[:len(b)-1]); err == nil {
			t.Error("a truncated matrix decoded")
		}
	}
	if _, err := hfquant.DecodeQuantized([]byte("not a matrix at all, no")); err == nil {
		t.Error("foreign bytes decoded")
	}
}

// TestExportLoad: layers supplied by ExportOptions.Load, one at a time,
// give the same folder as the same layers in ExportOptions.Quantized.
func TestExportLoad(t *testing.T) {
	m := tinyModel(t, false)
	given := handGiven(m)
	s := hfquant.Scheme{Bits: 4, GroupSize: 32, Sym: true}
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if err := hfquant.Export(m, a, hfquant.ExportOptions{Format: hfquant.FormatGPTQ, Scheme: &s, Quantized: given}); err != nil {
		t.Fatal(err)
	}
	asked := map[string]int{}
	load := func(name string) (*hfquant.Quantized, error) { asked[name]++; return given[name], nil }
	if err := hfquant.Export(m, b, hfquant.ExportOptions{Format: hfquant.FormatGPTQ, Scheme: &s, Load: load}); err != nil {
		t.Fatal(err)
	}
	for _, n := range hfquant.Targets(m) {
		if asked[n] != 1 {
			t.Errorf("Load asked for %s %d times, want once", n, asked[n])
		}
	}
	x, _ := os.ReadFile(filepath.Join(a, "model.safetensors"))
	y, _ := os.ReadFile(filepath.Join(b, "model.safetensors"))
	if !bytes.Equal(x, y) {
		t.Error("Export with Load differs from Export with Quantized")
	}
}
