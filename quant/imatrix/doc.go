// Package imatrix reads, writes and computes importance matrices: per input
// column of every weight matrix, the mean squared activation that reached
// it on a calibration text. llama.cpp's importance-weighted quantizers
// (and lmc's, quant.Format.Quantize with an imatrix) weight each column's
// rounding error by it.
//
// Files are interchangeable with llama.cpp's: [Read] takes both the GGUF
// format of llama-imatrix (since mid-2025) and the legacy .dat format, and
// [Matrix.WriteGGUF] / [Matrix.WriteLegacy] write them. [Collect] computes a
// matrix with lmc's engine through model.Hooks.OnLinearInput, following
// llama-imatrix's protocol.
//
// # GGUF format
//
// A GGUF v3 file with no architecture:
//
//	general.type          str   "imatrix"
//	imatrix.datasets      [str] calibration files, oldest first
//	imatrix.chunk_count   u32   chunks of calibration text seen
//	imatrix.chunk_size    u32   tokens per chunk (llama-imatrix -c)
//
// and, per weight W (sorted by name), F32 tensors
//
//	W.in_sum2   ne = [cols, mats]   Σ x² over the activation rows, per column
//	W.counts    ne = [1, mats]      number of activation rows summed
//	W.in_sum    ne = [cols, mats]   Σ x (optional; newer llama-imatrix)
//
// mats is 1 for a dense weight and the number of experts for a stacked MoE
// weight; trailing dimensions of 1 are dropped, as ggml does. The weight
// of column j of matrix e is in_sum2[e·cols + j] / counts[e] (1 where the
// count is 0: an expert the text never reached), which is what
// llama-quantize passes to the quantizers.
//
// # Legacy format
//
// All little-endian:
//
//	i32 n_entries
//	n_entries × { i32 len; name[len]; i32 ncall; i32 nval; f32 values[nval] }
//	i32 last_chunk; i32 len; dataset[len]        (optional trailer)
//
// values are mean squares multiplied by ncall (llama-quantize divides by
// ncall again). lmc reads an entry as counts = ncall × chunk size (the
// size is not stored: [ReadOptions.LegacyChunkSize], default 512, as
// llama-imatrix assumes), which gives the same weights.
//
// # Limits
//
// [Read] and [Parse] never allocate from a count in the file beyond what
// the file's size allows: a legacy file's entry count must fit in its
// bytes (at least 16 bytes per entry), names are 1–4096 bytes of UTF-8,
// nval is at least 1 and its floats must be in the file. GGUF files pass
// package gguf's checks, and every tensor must be F32, every in_sum2 must
// have its counts (and in_sum the same shape), and counts must have one
// value per matrix. Sums of squares and counts must be finite and
// non-negative. Defects are reported as a *[FormatError] naming the file,
// the entry and the field, unwrapping to [ErrFormat].
package imatrix
