package safetensors

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/lmc-project/lmc/tensor"
)

// testTensors is a small mixed-dtype tensor list.
func testTensors() []TensorInfo {
	return []TensorInfo{
		{Name: "a", DType: tensor.F32, Shape: []int64{2, 3}},
		{Name: "b.bias", DType: tensor.BF16, Shape: []int64{5}},
		{Name: "c", DType: tensor.I64, Shape: []int64{}},
		{Name: "empty", DType: tensor.F16, Shape: []int64{0, 4}},
		{Name: "e4m3", DType: tensor.F8E4M3, Shape: []int64{3, 1, 1}},
		{Name: "flags", DType: tensor.Bool, Shape: []int64{7}},
	}
}

// testData returns deterministic bytes for the i-th tensor.
func testData(i int, t TensorInfo) []byte {
	d := make([]byte, t.NumBytes())
	for j := range d {
		d[j] = byte(i*31 + j*7 + 1)
	}
	return d
}

// writeTemp writes tensors (with testData) to a temp file and returns its path.
func writeTemp(t testing.TB, tensors []TensorInfo, meta map[string]string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "t.safetensors")
	fh, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(fh, meta, tensors)
	if err != nil {
		t.Fatal(err)
	}
	for i, ti := range tensors {
		if err := w.WriteTensor(ti.Name, testData(i, ti)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}
