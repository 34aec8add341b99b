package plan

import "fmt"

// TableSizes are the rows of the seed's weights table, in parameters.
var TableSizes = []struct {
	Label  string
	Params float64
}{{"7B", 7e9}, {"13B", 13e9}, {"34B", 34e9}, {"70B", 70e9}, {"405B", 405e9}}

// TableBits are the seed's plain precisions.
var TableBits = []int{16, 8, 4}

// TableFileTypes are the llama.cpp mixes the table adds.
var TableFileTypes = []string{"q8_0", "q6_k", "q5_k_m", "q4_k_m", "q4_k_s", "q3_k_m", "q2_k", "iq4_xs"}

// TableReference is the architecture whose llama-quantize mixes give the
// table's bits per weight (the bpw table of llama.cpp's quantize README is
// for this model).
const TableReference = "Llama-3.1-8B"

// Table is the seed's table of weight sizes: parameters × bits ÷ 8 in
// decimal gigabytes, extended with llama.cpp's mixes at the bits per
// weight llama-quantize gives TableReference.
type Table struct {
	Reference string       `json:"reference"`
	BPW       []FormatSize `json:"bits_per_weight"`
	Rows      []TableRow   `json:"rows"`
}

// TableRow is one model size.
type TableRow struct {
	Label  string  `json:"label"`
	Params float64 `json:"params"`
	// Bits holds GB at 16, 8 and 4 bits; Mixes GB per file type, in the
	// order of TableFileTypes.
	Bits  []float64 `json:"bits_gb"`
	Mixes []float64 `json:"mixes_gb"`
}

// SeedTable computes the table.
func SeedTable() (*Table, error) {
	ref, err := Preset(TableReference)
	if err != nil {
		return nil, err
	}
	m := FromArch(ref)
	t := &Table{Reference: TableReference}
	for _, s := range TableFileTypes {
		f, err := ParseWeightFormat(s)
		if err != nil {
			return nil, err
		}
		w, err := PriceWeights(m, f)
		if err != nil {
			return nil, fmt.Errorf("pricing %s on %s: %w", s, TableReference, err)
		}
		t.BPW = append(t.BPW, FormatSize{Format: f.String(), Bytes: w.Bytes, BitsPerWeight: w.BitsPerWeight})
	}
	for _, s := range TableSizes {
		r := TableRow{Label: s.Label, Params: s.Params}
		for _, b := range TableBits {
			r.Bits = append(r.Bits, s.Params*float64(b)/8/1e9)
		}
		for _, f := range t.BPW {
			r.Mixes = append(r.Mixes, s.Params*f.BitsPerWeight/8/1e9)
		}
		t.Rows = append(t.Rows, r)
	}
	return t, nil
}
