// Package safetensors reads and writes the safetensors tensor file format of
// Hugging Face (https://github.com/huggingface/safetensors), single files and
// sharded models, and refuses PyTorch pickle checkpoints.
//
// # Format
//
// A safetensors file is
//
//	+----------------+---------------------------------+--------------------+
//	| u64 LE: N      | N bytes: JSON header (UTF-8)     | data section       |
//	+----------------+---------------------------------+--------------------+
//	0                8                                 8+N                  EOF
//
// The header is a JSON object. The key "__metadata__", optional, maps to an
// object of string values. Every other key is a tensor name and maps to
//
//	{"dtype": "BF16", "shape": [out, in], "data_offsets": [begin, end]}
//
// where [begin, end) are byte offsets in the data section. Data is
// little-endian, row-major (C order), without strides or padding. The Rust
// reference writer emits compact JSON with __metadata__ first and pads the
// header with spaces to a multiple of 8 bytes, so that the data section is
// 8-byte aligned.
//
// A sharded model is several such files plus model.safetensors.index.json:
//
//	{"metadata": {"total_size": N}, "weight_map": {"tensor name": "model-00001-of-00003.safetensors", ...}}
//
// # Checks and limits enforced by the readers
//
// Open and FromBytes reject, with a [*FormatError] that names the file, the
// byte offset, the tensor and the header field and unwraps to [ErrFormat]:
//   - a file shorter than 8 bytes;
//   - a header length N above [MaxHeaderSize] (100,000,000 bytes, the Rust
//     limit) or above the file size − 8. No allocation is ever sized from N
//     before these two checks, nor from any other number in the header;
//   - a header that is not valid UTF-8, or whose first byte is not '{';
//   - invalid JSON, and anything but JSON whitespace after the top-level
//     object (padding must be spaces, tabs, CR or LF: NUL padding is refused);
//   - a duplicate tensor name, a duplicate __metadata__ key, a duplicate key
//     inside __metadata__ and a duplicate field inside a tensor entry (the
//     header is walked token by token, since encoding/json would silently
//     keep the last duplicate);
//   - __metadata__ that is not an object of strings (null is read as absent,
//     as the Rust reader does);
//   - a tensor entry that is not an object or lacks dtype, shape or
//     data_offsets (unknown extra fields are ignored, as by the Rust reader);
//   - a dtype that is not exactly one of lmc's safetensors spellings (F64,
//     F32, F16, BF16, F8_E4M3, F8_E5M2, I64, I32, I16, I8, U64, U32, U16,
//     U8, BOOL). The spec's other dtypes (F4, F6_E2M3, F6_E3M2, F8_E8M0,
//     F8_E4M3FNUZ, F8_E5M2FNUZ, C64) are rejected with an error that also
//     wraps [ErrUnsupportedDType]: lmc has no tensor.DType for them, and
//     carrying them opaquely would hand sub-byte or complex data to code that
//     assumes lmc's types, so they are refused rather than misread;
//   - shape dimensions and offsets that are not integers in [0, 2^63−1];
//   - a shape whose element count, or byte size (count × dtype size),
//     overflows int64 (for example [2^60, 16] of F32);
//   - begin > end, end beyond the data section, and end − begin different
//     from the byte size of shape × dtype;
//   - a data section not covered exactly: sorted by offset, each tensor must
//     start where the previous one ended (a gap is a "hole", an earlier start
//     an "overlap", zero-size tensors included), the first at 0 and the last
//     at the end of the file (no trailing bytes), as the Rust reader requires.
//
// Memory use of a parse is proportional to the header, which is bounded by
// the file size and MaxHeaderSize.
//
// OpenModel reads an index of at most [MaxIndexSize] bytes with the same
// token walk and rejects, as *FormatError naming the index: duplicate keys,
// a missing or empty weight_map, a non-string file name, a file name that is
// not a local path inside the index's directory (absolute, or with ".."), a
// weight_map entry naming a tensor its file does not hold, and a tensor held
// by two shard files.
//
// # Reading
//
// [Open] maps the file read-only (golang.org/x/sys/unix.Mmap) and parses the
// header only; [File.Data] returns zero-copy views whose pages are read on
// first touch. Where mmap is unavailable or fails, Open falls back to
// io.ReaderAt, and Data then returns a fresh copy ([File.Section] streams
// instead). [File.Tensors] lists tensors sorted by data offset, which is the
// header order of files written by the Rust writer and by [Writer]. Views
// from Data must not be written to and must not be used after Close; a file
// truncated by another process while mapped faults on access, as with any
// mmap reader. A File is safe for concurrent readers.
//
// [OpenModel] accepts a .safetensors file, an index file or a directory and
// presents all tensors sorted by name.
//
// # Writing
//
// [NewWriter] takes the complete tensor list (name, dtype, shape), lays the
// tensors out in the given order, writes the header at once and then
// streams each tensor with [Writer.WriteTensor], so a model never needs to be
// held in memory. The header is canonical: compact JSON, __metadata__ first
// when the map is non-nil (keys sorted), then the tensors in file order with
// fields dtype, shape, data_offsets, strings escaped like serde_json (only
// '"', '\\' and control characters), padded with spaces to a multiple of 8.
// A file in that style (like the Rust writer's output for a single metadata
// key, and books5M's files) is reproduced byte for byte by reading it and
// writing its File.Tensors back; for a file whose header lists tensors out of
// offset order, or whose metadata keys are unsorted, the rewrite is
// equivalent but not byte-identical. Note that the Rust writer orders tensors
// by decreasing dtype alignment then name; lmc keeps the caller's order.
//
// [NewShardedWriter] splits the list with [PlanShards] (greedy, tensor bytes
// only, as transformers counts max_shard_size) into
// model-0000i-of-0000N.safetensors files plus the index ([WriteIndex]), or a
// single model.safetensors when one shard suffices.
//
// # Pickle
//
// PyTorch checkpoints (pytorch_model.bin, .pt, .pth, .ckpt) are Python
// pickles, and unpickling can run arbitrary code. [DetectPickle] and
// [CheckNotPickle] recognize them by magic bytes only (a zip holding a *.pkl
// entry, the legacy torch magic number, or a protocol 2–5 pickle header) and
// never unpickle; Open, FromBytes and OpenModel return the resulting
// [*PickleError], which explains how to convert the file to safetensors in a
// sandbox.
package safetensors
