package safetensors

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// IndexFile is the file name of a sharded model's index.
const IndexFile = "model.safetensors.index.json"

// SingleFile is the file name of an unsharded model.
const SingleFile = "model.safetensors"

// A Shard is one file of a sharded model.
type Shard struct {
	File    string       // base name, e.g. "model-00001-of-00003.safetensors"
	Tensors []TensorInfo // the tensors it holds
}

// WriteIndex writes dir/model.safetensors.index.json for shards in the
// Hugging Face format: {"metadata": {"total_size": N}, "weight_map": {tensor:
// file}}, with N the sum of the tensors' byte sizes, keys sorted and
// two-space indentation (like transformers' save_pretrained). Tensor names
// must be unique across shards.
func WriteIndex(dir string, shards ...Shard) error {
	type index struct {
		Metadata struct {
			TotalSize int64 `json:"total_size"`
		} `json:"metadata"`
		WeightMap map[string]string `json:"weight_map"`
	}
	var idx index
	idx.WeightMap = make(map[string]string)
	for _, s := range shards {
		if !filepath.IsLocal(s.File) || filepath.Base(s.File) != s.File {
			return fmt.Errorf("safetensors: WriteIndex: shard file %q must be a plain file name", s.File)
		}
		for _, t := range s.Tensors {
			if prev, dup := idx.WeightMap[t.Name]; dup {
				return fmt.Errorf("safetensors: WriteIndex: tensor %q is in both %s and %s", t.Name, prev, s.File)
			}
			idx.WeightMap[t.Name] = s.File
			idx.Metadata.TotalSize += t.NumBytes()
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(&idx); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, IndexFile), buf.Bytes(), 0o644)
}

// PlanShards splits tensors, in order, into consecutive groups whose data
// (header excluded) is at most maxShardSize bytes, starting a new group when
// the next tensor would overflow the current one (as transformers does). A
// tensor larger than maxShardSize gets a group of its own. maxShardSize ≤ 0
// means one group. It always returns at least one group.
func PlanShards(tensors []TensorInfo, maxShardSize int64) [][]TensorInfo {
	groups := [][]TensorInfo{nil}
	var cur int64
	for _, t := range tensors {
		n := t.NumBytes()
		last := len(groups) - 1
		if maxShardSize > 0 && len(groups[last]) > 0 && cur+n > maxShardSize {
			groups = append(groups, nil)
			last, cur = last+1, 0
		}
		groups[last] = append(groups[last], t)
		cur += n
	}
	return groups
}

// ShardedWriter writes a model as one or more safetensors files in a
// directory: model.safetensors when everything fits in one shard, otherwise
// model-00001-of-0000N.safetensors ... plus model.safetensors.index.json.
// Each shard carries the same metadata. Like Writer, it streams tensors in
// the order given.
type ShardedWriter struct {
	dir    string
	meta   map[string]string
	shards []Shard
	cur    int // shard being written
	fh     *os.File
	bw     *bufio.Writer
	w      *Writer
	err    error
}

// NewShardedWriter plans the shards (see PlanShards) and returns a writer
// that creates the files in dir (which must exist) as tensors arrive.
func NewShardedWriter(dir string, metadata map[string]string, tensors []TensorInfo, maxShardSize int64) (*ShardedWriter, error) {
	if _, _, err := layout(tensors); err != nil { // names, dtypes, shapes
		return nil, err
	}
	groups := PlanShards(tensors, maxShardSize)
	s := &ShardedWriter{dir: dir, meta: metadata}
	for i, g := range groups {
		name := SingleFile
		if len(groups) > 1 {
			name = fmt.Sprintf("model-%05d-of-%05d.safetensors", i+1, len(groups))
		}
		laid, _, err := layout(g)
		if err != nil {
			return nil, err
		}
		s.shards = append(s.shards, Shard{File: name, Tensors: laid})
	}
	return s, nil
}

// Shards returns the planned shards with their tensors' data offsets.
func (s *ShardedWriter) Shards() []Shard { return s.shards }

func (s *ShardedWriter) openShard() error {
	sh := s.shards[s.cur]
	fh, err := os.Create(filepath.Join(s.dir, sh.File))
	if err != nil {
		return err
	}
	s.fh, s.bw = fh, bufio.NewWriterSize(fh, 1<<20)
	s.w, err = NewWriter(s.bw, s.meta, sh.Tensors)
	if err != nil {
		fh.Close()
		s.fh = nil
	}
	return err
}

func (s *ShardedWriter) finishShard() error {
	err := s.w.Close()
	if err == nil {
		err = s.bw.Flush()
	}
	if cerr := s.fh.Close(); err == nil {
		err = cerr
	}
	s.fh, s.bw, s.w = nil, nil, nil
	s.cur++
	return err
}

// abort closes the shard being written, if any, leaving it incomplete.
func (s *ShardedWriter) abort() {
	if s.fh != nil {
		s.fh.Close()
		s.fh, s.bw, s.w = nil, nil, nil
	}
}

// WriteTensor writes the next tensor's bytes (see Writer.WriteTensor).
func (s *ShardedWriter) WriteTensor(name string, data []byte) error {
	if s.err != nil {
		return s.err
	}
	if s.cur >= len(s.shards) {
		return fmt.Errorf("safetensors: WriteTensor(%q): all tensors already written", name)
	}
	if s.w == nil {
		if s.err = s.openShard(); s.err != nil {
			return s.err
		}
	}
	if err := s.w.WriteTensor(name, data); err != nil {
		if s.w.err != nil {
			s.err = err
		}
		return err
	}
	if s.w.remaining() == 0 {
		s.err = s.finishShard()
	}
	return s.err
}

// Close finishes the files and, for more than one shard, writes the index.
// It fails if some tensor was not written.
func (s *ShardedWriter) Close() error {
	if s.err != nil {
		s.abort()
		return s.err
	}
	// A shard with no tensors (an empty model) has not been created yet.
	for s.cur < len(s.shards) && len(s.shards[s.cur].Tensors) == 0 {
		if err := s.openShard(); err != nil {
			return err
		}
		if err := s.finishShard(); err != nil {
			return err
		}
	}
	if s.cur < len(s.shards) {
		s.abort()
		s.err = fmt.Errorf("%w: shard %s is incomplete", errIncomplete, s.shards[s.cur].File)
		return s.err
	}
	if len(s.shards) > 1 {
		return WriteIndex(s.dir, s.shards...)
	}
	return nil
}
