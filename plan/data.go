package plan

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

//go:embed data/presets.json
var presetsJSON []byte

//go:embed data/hardware.json
var hardwareJSON []byte

var (
	presetsOnce sync.Once
	presetList  []Arch
	presetErr   error
)

func loadPresets() ([]Arch, error) {
	presetsOnce.Do(func() {
		var f struct {
			Note    string `json:"note"`
			Presets []Arch `json:"presets"`
		}
		dec := json.NewDecoder(bytes.NewReader(presetsJSON))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			presetErr = fmt.Errorf("plan: presets.json: %v", err)
			return
		}
		for i := range f.Presets {
			if err := f.Presets[i].Validate(); err != nil {
				presetErr = fmt.Errorf("plan: presets.json: %v", err)
				return
			}
		}
		presetList = f.Presets
	})
	return presetList, presetErr
}

// Presets returns the built-in architectures (copies), in file order.
func Presets() []Arch {
	ps, err := loadPresets()
	if err != nil {
		panic(err) // the embedded file is checked by the tests
	}
	return append([]Arch(nil), ps...)
}

// normName folds case and drops separators, so "llama3.1-8b" finds
// "Llama-3.1-8B".
func normName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch r {
		case '-', '_', ' ', '.', '/':
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ErrUnknownPreset is returned (wrapped in an *UnknownPresetError) for a name
// that is not a preset.
var ErrUnknownPreset = errors.New("unknown model preset")

// UnknownPresetError names the presets nearest to what was asked for.
type UnknownPresetError struct {
	Name    string
	Nearest []string
}

func (e *UnknownPresetError) Error() string {
	msg := fmt.Sprintf("%q is not a file, a folder or a model preset", e.Name)
	if len(e.Nearest) > 0 {
		msg += "; did you mean " + strings.Join(e.Nearest, ", ") + "?"
	}
	return msg + " (lmc plan --list-presets lists them)"
}

func (e *UnknownPresetError) Unwrap() error { return ErrUnknownPreset }

// Preset returns the preset called name (case and separators ignored,
// aliases accepted). The error is an *UnknownPresetError with the nearest
// names by edit distance.
func Preset(name string) (Arch, error) {
	ps, err := loadPresets()
	if err != nil {
		return Arch{}, err
	}
	n := normName(name)
	for _, p := range ps {
		if normName(p.Name) == n {
			return p, nil
		}
		for _, a := range p.Aliases {
			if normName(a) == n {
				return p, nil
			}
		}
	}
	return Arch{}, &UnknownPresetError{Name: name, Nearest: nearest(name, ps, 3)}
}

// nearest returns up to k preset names closest to name: those containing it
// first, then by edit distance over the folded names, keeping only
// plausible ones.
func nearest(name string, ps []Arch, k int) []string {
	n := normName(name)
	type cand struct {
		name string
		d    int
	}
	var cs []cand
	for _, p := range ps {
		best := 1 << 30
		for _, s := range append([]string{p.Name}, p.Aliases...) {
			f := normName(s)
			d := editDistance(n, f)
			if n != "" && strings.Contains(f, n) {
				d = min(d, 1)
			}
			best = min(best, d)
		}
		cs = append(cs, cand{p.Name, best})
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].d < cs[j].d })
	limit := max(3, utf8.RuneCountInString(n)/2)
	var out []string
	for _, c := range cs {
		if len(out) == k || c.d > limit {
			break
		}
		out = append(out, c.name)
	}
	return out
}

// editDistance is the Levenshtein distance between a and b (in runes).
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// Hardware is one device (or one box of memory) the planner fits models to.
type Hardware struct {
	Name string `json:"name"`
	// Kind is gpu, apple, cpu or laptop.
	Kind string `json:"kind"`
	// MemoryGiB is the device memory in GiB.
	MemoryGiB float64 `json:"memory_gib"`
	// BandwidthGBs is the peak memory bandwidth in GB/s (10^9 B/s).
	BandwidthGBs float64 `json:"bandwidth_gbs"`
	// UsableFraction is the share of memory a model may use (1 when 0).
	UsableFraction float64 `json:"usable_fraction,omitempty"`
	// RuntimeOverheadGiB is the per-device runtime constant.
	RuntimeOverheadGiB float64 `json:"runtime_overhead_gib,omitempty"`
	// PricePerHour is USD per device-hour (0: unknown).
	PricePerHour float64 `json:"price_per_hour,omitempty"`
	Source       string  `json:"source,omitempty"`
}

// UsableBytes returns the bytes a model may use on one device.
func (h *Hardware) UsableBytes() int64 {
	f := h.UsableFraction
	if f <= 0 {
		f = 1
	}
	return int64(h.MemoryGiB * f * (1 << 30))
}

func (h *Hardware) validate() error {
	if h.Name == "" {
		return errors.New("a hardware entry has no name")
	}
	if !(h.MemoryGiB > 0) || !(h.BandwidthGBs > 0) || h.UsableFraction < 0 || h.UsableFraction > 1 ||
		h.RuntimeOverheadGiB < 0 || h.PricePerHour < 0 {
		return fmt.Errorf("hardware %q: memory_gib and bandwidth_gbs must be positive, usable_fraction in [0,1], "+
			"runtime_overhead_gib and price_per_hour not negative", h.Name)
	}
	return nil
}

func parseHardware(b []byte, name string) ([]Hardware, error) {
	var f struct {
		Note     string     `json:"note"`
		Hardware []Hardware `json:"hardware"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %v (want {\"hardware\": [{\"name\", \"kind\", \"memory_gib\", \"bandwidth_gbs\", ...}]})", name, err)
	}
	for i := range f.Hardware {
		if err := f.Hardware[i].validate(); err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
	}
	return f.Hardware, nil
}

// DefaultHardware returns the built-in hardware list.
func DefaultHardware() []Hardware {
	hw, err := parseHardware(hardwareJSON, "hardware.json")
	if err != nil {
		panic(err) // the embedded file is checked by the tests
	}
	return hw
}

// LoadHardware reads a hardware JSON file ({"hardware": [...]}, the format
// of the built-in list) and merges it into the built-in list: an entry
// with the name of a built-in one replaces it, others are added. With
// replace, the file's list is used alone.
func LoadHardware(path string, replace bool) ([]Hardware, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) > 16<<20 {
		return nil, fmt.Errorf("%s: hardware file larger than 16 MiB", path)
	}
	hw, err := parseHardware(b, path)
	if err != nil {
		return nil, err
	}
	if replace {
		return hw, nil
	}
	out := DefaultHardware()
	for _, h := range hw {
		found := false
		for i := range out {
			if strings.EqualFold(out[i].Name, h.Name) {
				out[i], found = h, true
			}
		}
		if !found {
			out = append(out, h)
		}
	}
	return out, nil
}
