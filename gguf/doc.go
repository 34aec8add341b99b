// Package gguf reads and writes GGUF files, the model format of ggml and
// llama.cpp, and holds lmc's one table of ggml tensor types ([Type], in
// types.go, which depends on nothing else in the package).
//
// # Format
//
// Everything is little-endian. A string is a u64 byte length followed by
// that many UTF-8 bytes (no NUL).
//
//	magic          "GGUF"
//	version        u32            2 or 3 (v2 and v3 share one layout)
//	tensor_count   u64
//	kv_count       u64
//	kv[kv_count]   key string, u32 value_type, value
//	tensor_info[tensor_count]
//	               name string, u32 n_dims, u64 ne[n_dims] (ne[0] first),
//	               u32 ggml_type, u64 offset (from the data section)
//	padding        0x00 up to a multiple of the alignment
//	               (only when tensor_count > 0, as gguf.cpp reads it)
//	data           each tensor at its offset, zero padding between
//
// Value types ([ValueType]): 0 u8, 1 i8, 2 u16, 3 i16, 4 u32, 5 i32,
// 6 f32, 7 bool (one byte), 8 string, 9 array (u32 element type, u64 count,
// elements; arrays may nest), 10 u64, 11 i64, 12 f64.
//
// The alignment is the u32 key general.alignment, 32 when absent. A tensor
// of type T and shape ne holds ne[0]×ne[1]×…/BlockSize(T) blocks of
// TypeSize(T) bytes; ne[0] is a multiple of the block size.
//
// # Reading
//
// [Open] maps the file read-only (golang.org/x/sys/unix; ReadAt where mmap
// is unavailable) and parses the header; [File.Data] then returns tensor
// bytes without copying. [Parse] works on any io.ReaderAt, [ParseBytes] on
// a byte slice. Metadata keeps file order ([File.KVs]) with lookup by key
// ([File.Get] and typed getters). Every metadata value is kept, including
// keys lmc does not know, so a file read and written back with the same
// KVs, tensors and alignment is byte-identical to a v3 original written by
// gguf.cpp or gguf-py (a v2 original comes back as v3 with equal content).
//
// # Limits enforced by the parser
//
// Malformed input never panics and yields a *[FormatError] naming the file,
// the byte offset and the field or tensor, which unwraps to [ErrFormat]
// (and to io.ErrUnexpectedEOF when the file is truncated). The parser
// never allocates from a count in the file before checking that the file
// has enough bytes left to hold that many elements of the smallest
// possible encoding, so its allocations are bounded by a small multiple of
// the file size. It checks:
//
//   - magic is "GGUF"; version is 2 or 3 (v1, with 32-bit counts, is
//     refused with an explanation; byte-swapped versions are reported as
//     big-endian files, which are not supported)
//   - tensor_count × 24 + kv_count × 13 bytes fit in the rest of the file
//     (24 and 13 are the smallest tensor info and KV)
//   - keys: non-empty, at most [MaxKeyLen] (65535) bytes, valid UTF-8,
//     unique
//   - every string (keys, values, array elements, tensor names): its length
//     fits in the bytes left in the file, and it is valid UTF-8
//   - value types and array element types are 0–12; a bool byte is 0 or 1
//   - array counts: count × smallest element size (1, 2, 4 or 8 bytes; 8
//     for a string, 12 for an array) fits in the bytes left in the file
//   - arrays nest at most [MaxArrayDepth] (8) deep
//   - general.alignment, if present, is a u32, non-zero and a power of two
//   - tensor names: at most [MaxNameLen] (63) bytes (GGML_MAX_NAME 64
//     counts the NUL), valid UTF-8, unique
//   - n_dims at most [MaxDims] (4); each ne below 2^63; the element count
//     and the byte size do not overflow int64 (ne may be 0)
//   - the ggml type id is known to [Type.Known] (removed ids 4, 5, 31–33
//     and 36–38 are unknown), and ne[0] is a multiple of its block size
//   - each tensor offset is a multiple of the alignment; the padding after
//     the tensor infos and each tensor's data lie within the file; no two
//     tensors' data overlap
//
// Tensors need not be stored in info order (gguf.cpp requires that; this
// reader does not), and bytes after the last tensor are allowed.
//
// # Writing
//
// [Writer] streams a v3 file: [NewWriter] takes the KVs and tensor infos,
// checks them against the same limits, assigns offsets contiguously in the
// given order and writes everything before the data; [Writer.WriteTensor]
// then takes each tensor's bytes in order and zero-pads after it (after the
// last one too, as gguf.cpp and gguf-py do). The writer writes exactly the
// KVs it is given: it never adds general.alignment. It uses that key's
// value when present, else 32; asking for another alignment without the
// key is an error, because readers would assume 32.
package gguf
