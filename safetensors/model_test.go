package safetensors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lmc-project/lmc/internal/shared"
	"github.com/lmc-project/lmc/tensor"
)

// writeSharded writes tensors (testData) with NewShardedWriter.
func writeSharded(t *testing.T, dir string, tensors []TensorInfo, meta map[string]string, max int64) []Shard {
	t.Helper()
	sw, err := NewShardedWriter(dir, meta, tensors, max)
	if err != nil {
		t.Fatal(err)
	}
	for i, ti := range tensors {
		if err := sw.WriteTensor(ti.Name, testData(i, ti)); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Close(); err != nil {
		t.Fatal(err)
	}
	return sw.Shards()
}

func shardTensors() []TensorInfo {
	var ts []TensorInfo
	for i := range 9 {
		ts = append(ts, TensorInfo{Name: fmt.Sprintf("layers.%d.weight", i), DType: tensor.F32, Shape: []int64{4, 25}}) // 400 bytes
	}
	return ts
}

func TestShardedModel(t *testing.T) {
	dir := t.TempDir()
	tensors := shardTensors()
	meta := map[string]string{"format": "pt"}
	shards := writeSharded(t, dir, tensors, meta, 1200) // 3 tensors per shard
	if len(shards) != 3 {
		t.Fatalf("%d shards, want 3", len(shards))
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{"model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors", IndexFile}
	if !slices.Equal(names, want) {
		t.Fatalf("files %v, want %v", names, want)
	}
	var idx struct {
		Metadata  map[string]int64  `json:"metadata"`
		WeightMap map[string]string `json:"weight_map"`
	}
	raw, _ := os.ReadFile(filepath.Join(dir, IndexFile))
	if err := json.Unmarshal(raw, &idx); err != nil {
		t.Fatal(err)
	}
	if idx.Metadata["total_size"] != 9*400 || len(idx.WeightMap) != 9 || idx.WeightMap["layers.4.weight"] != want[1] {
		t.Errorf("index %s", raw)
	}
	if !bytes.HasPrefix(raw, []byte("{\n  \"metadata\": {\n    \"total_size\": 3600\n  },\n  \"weight_map\": {\n")) {
		t.Errorf("index not in the transformers layout:\n%s", raw)
	}

	for _, open := range []string{dir, filepath.Join(dir, IndexFile)} {
		m, err := OpenModel(open)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Files()) != 3 || !mapsEqual(m.Metadata(), meta) {
			t.Errorf("files %v metadata %v", m.Files(), m.Metadata())
		}
		got := m.Tensors()
		if len(got) != len(tensors) || !slices.IsSortedFunc(got, func(a, b TensorInfo) int { return strings.Compare(a.Name, b.Name) }) {
			t.Errorf("Tensors() = %v", got)
		}
		for i, ti := range tensors {
			d, err := m.Data(ti.Name)
			if err != nil || !bytes.Equal(d, testData(i, ti)) {
				t.Errorf("%s: %v", ti.Name, err)
			}
			if f, ok := m.FileOf(ti.Name); !ok || filepath.Base(f.Path) != want[i/3] {
				t.Errorf("%s in %v", ti.Name, f)
			}
		}
		if _, err := m.Data("nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Data(nope) = %v", err)
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestShardRealModel splits books5M into 3 shards and reads it back as one.
func TestShardRealModel(t *testing.T) {
	src, err := Open(shared.Path(t, books5MF32))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dir := t.TempDir()
	var total, largest int64
	for _, ti := range src.Tensors {
		total += ti.NumBytes()
		largest = max(largest, ti.NumBytes())
	}
	// Every shard but the last holds more than total/3: exactly 3 shards.
	sw, err := NewShardedWriter(dir, src.Metadata, src.Tensors, total/3+largest)
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range src.Tensors {
		d, _ := src.Data(ti.Name)
		if err := sw.WriteTensor(ti.Name, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(sw.Shards()); n != 3 {
		t.Fatalf("%d shards, want 3", n)
	}
	m, err := OpenModel(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if len(m.Tensors()) != 57 || len(m.Files()) != 3 {
		t.Fatalf("%d tensors in %d files", len(m.Tensors()), len(m.Files()))
	}
	for _, ti := range src.Tensors {
		a, _ := src.Data(ti.Name)
		b, err := m.Data(ti.Name)
		if err != nil || !bytes.Equal(a, b) {
			t.Fatalf("%s differs: %v", ti.Name, err)
		}
	}
}

func TestOpenModelSingle(t *testing.T) {
	dir := t.TempDir()
	shards := writeSharded(t, dir, testTensors(), nil, 0)
	if len(shards) != 1 || shards[0].File != SingleFile {
		t.Fatalf("shards %+v", shards)
	}
	if _, err := os.Stat(filepath.Join(dir, IndexFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("single-file model has an index: %v", err)
	}
	for _, p := range []string{dir, filepath.Join(dir, SingleFile)} {
		m, err := OpenModel(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Tensors()) != len(testTensors()) || m.Metadata() != nil {
			t.Errorf("%s: %d tensors, metadata %v", p, len(m.Tensors()), m.Metadata())
		}
		m.Close()
	}
	// A directory with one file of another name is opened too.
	other := t.TempDir()
	os.Rename(filepath.Join(dir, SingleFile), filepath.Join(other, "weights.safetensors"))
	m, err := OpenModel(other)
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	// An empty model.
	empty := t.TempDir()
	writeSharded(t, empty, nil, map[string]string{"k": "v"}, 10)
	m, err = OpenModel(empty)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Tensors()) != 0 || m.Metadata()["k"] != "v" {
		t.Errorf("empty model: %v %v", m.Tensors(), m.Metadata())
	}
	m.Close()
}

func TestPlanShards(t *testing.T) {
	sz := func(n int64) TensorInfo { return TensorInfo{Name: fmt.Sprint(n), DType: tensor.U8, Shape: []int64{n}} }
	for _, c := range []struct {
		sizes []int64
		max   int64
		want  [][]int64
	}{
		{[]int64{1, 2, 3}, 0, [][]int64{{1, 2, 3}}},
		{[]int64{1, 2, 3}, 3, [][]int64{{1, 2}, {3}}},
		{[]int64{5, 1, 1}, 3, [][]int64{{5}, {1, 1}}}, // an oversized tensor alone
		{[]int64{1, 5, 1}, 3, [][]int64{{1}, {5}, {1}}},
		{nil, 3, [][]int64{nil}},
	} {
		var ts []TensorInfo
		for _, s := range c.sizes {
			ts = append(ts, sz(s))
		}
		var got [][]int64
		for _, g := range PlanShards(ts, c.max) {
			var gs []int64
			for _, t := range g {
				gs = append(gs, t.NumBytes())
			}
			got = append(got, gs)
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("PlanShards(%v, %d) = %v, want %v", c.sizes, c.max, got, c.want)
		}
	}
}

func TestShardedWriterErrors(t *testing.T) {
	dir := t.TempDir()
	sw, err := NewShardedWriter(dir, nil, shardTensors(), 1200)
	if err != nil {
		t.Fatal(err)
	}
	if err := sw.WriteTensor("layers.1.weight", make([]byte, 400)); err == nil {
		t.Error("out-of-order write succeeded")
	}
	if err := sw.WriteTensor("layers.0.weight", make([]byte, 400)); err != nil {
		t.Fatal(err)
	}
	if err := sw.Close(); !errors.Is(err, errIncomplete) {
		t.Errorf("Close of an incomplete model: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, IndexFile)); err == nil {
		t.Error("index written for an incomplete model")
	}
	if _, err := NewShardedWriter(dir, nil, []TensorInfo{{Name: "x", DType: tensor.U8, Shape: []int64{-1}}}, 0); err == nil {
		t.Error("negative dimension accepted")
	}
	if err := WriteIndex(dir, Shard{File: "../x.safetensors"}); err == nil {
		t.Error("WriteIndex accepted a path outside dir")
	}
	dup := Shard{File: "a.safetensors", Tensors: shardTensors()[:1]}
	if err := WriteIndex(dir, dup, Shard{File: "b.safetensors", Tensors: dup.Tensors}); err == nil {
		t.Error("WriteIndex accepted a tensor in two shards")
	}
}

// TestBadModels: inconsistent indexes and directories.
func TestBadModels(t *testing.T) {
	mk := func(t *testing.T, index string) string {
		dir := t.TempDir()
		writeSharded(t, dir, shardTensors(), nil, 1200)
		if index != "" {
			if err := os.WriteFile(filepath.Join(dir, IndexFile), []byte(index), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	s1, s2 := "model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors"
	for _, c := range []struct {
		name, index string
		want        string
		format      bool
	}{
		{"missing tensor", `{"weight_map":{"layers.0.weight":"` + s1 + `","ghost":"` + s1 + `"}}`, `tensor "ghost": weight_map: mapped to ` + s1 + `, which has no such tensor`, true},
		{"wrong shard", `{"weight_map":{"layers.0.weight":"` + s2 + `"}}`, `which has no such tensor`, true},
		{"escape", `{"weight_map":{"layers.0.weight":"../` + s1 + `"}}`, `is not a path inside the model directory`, true},
		{"absolute", `{"weight_map":{"layers.0.weight":"/etc/passwd"}}`, `is not a path inside the model directory`, true},
		{"duplicate key", `{"weight_map":{"layers.0.weight":"` + s1 + `","layers.0.weight":"` + s1 + `"}}`, `tensor "layers.0.weight": weight_map: duplicate tensor name`, true},
		{"duplicate weight_map", `{"weight_map":{},"weight_map":{}}`, "weight_map: duplicate key", true},
		{"not string", `{"weight_map":{"layers.0.weight":1}}`, "file name must be a string", true},
		{"empty", `{"metadata":{"total_size":0}}`, "weight_map: missing or empty", true},
		{"not json", `weight_map`, "invalid JSON", true},
		{"junk after", `{"weight_map":{"layers.0.weight":"` + s1 + `"}} x`, "unexpected bytes after the index JSON object", true},
		{"missing shard file", `{"weight_map":{"layers.0.weight":"model-00009-of-00009.safetensors"}}`, "no such file", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := mk(t, c.index)
			_, err := OpenModel(dir)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
			if errors.Is(err, ErrFormat) != c.format {
				t.Errorf("errors.Is(ErrFormat) = %v", !c.format)
			}
			if c.format && !strings.Contains(err.Error(), IndexFile) {
				t.Errorf("error does not name the index: %v", err)
			}
		})
	}

	t.Run("tensor in two shards", func(t *testing.T) {
		dir := t.TempDir()
		a := writeTempIn(t, dir, "a.safetensors", shardTensors()[:2])
		writeTempIn(t, dir, "b.safetensors", shardTensors()[1:3])
		os.WriteFile(filepath.Join(dir, IndexFile), []byte(`{"weight_map":{"layers.0.weight":"a.safetensors","layers.2.weight":"b.safetensors"}}`), 0o644)
		_, err := OpenModel(dir)
		if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), `tensor "layers.1.weight": name: tensor also present in `+a) {
			t.Errorf("error %v", err)
		}
	})
	t.Run("several files, no index", func(t *testing.T) {
		dir := mk(t, "")
		os.Remove(filepath.Join(dir, IndexFile))
		if _, err := OpenModel(dir); err == nil || !strings.Contains(err.Error(), "3 *.safetensors files and no "+IndexFile) {
			t.Errorf("error %v", err)
		}
	})
	t.Run("empty dir", func(t *testing.T) {
		if _, err := OpenModel(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no model.safetensors") {
			t.Errorf("error %v", err)
		}
	})
	t.Run("pickle only", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "pytorch_model.bin"), torchZip(t, "archive/data.pkl"), 0o644)
		if _, err := OpenModel(dir); !errors.Is(err, ErrPickle) {
			t.Errorf("error %v, want ErrPickle", err)
		}
	})
	t.Run("hostile shard", func(t *testing.T) {
		dir := t.TempDir()
		data, _ := os.ReadFile(filepath.Join("testdata", "hostile", "hole.safetensors"))
		os.WriteFile(filepath.Join(dir, SingleFile), data, 0o644)
		if _, err := OpenModel(dir); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "hole") {
			t.Errorf("error %v", err)
		}
	})
}

func writeTempIn(t *testing.T, dir, name string, tensors []TensorInfo) string {
	t.Helper()
	p := writeTemp(t, tensors, nil)
	dst := filepath.Join(dir, name)
	data, _ := os.ReadFile(p)
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}
