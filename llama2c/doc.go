// Package llama2c reads llama2.c checkpoints in the legacy (version 0)
// format that run.c reads and export.py --version 0 (legacy_export) writes.
//
// # Format
//
// All little-endian:
//
//	int32 dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len
//	float32 token_embedding [vocab, dim]
//	float32 rms_att         [n_layers, dim]
//	float32 wq              [n_layers, dim, dim]
//	float32 wk, wv          [n_layers, kv_dim, dim]   kv_dim = dim * n_kv_heads / n_heads
//	float32 wo              [n_layers, dim, dim]
//	float32 rms_ffn         [n_layers, dim]
//	float32 w1, w3 / w2     [n_layers, hidden_dim, dim] / [n_layers, dim, hidden_dim] (w1, w2, w3 in that order)
//	float32 rms_final       [dim]
//	float32 freq_cis_real, freq_cis_imag [seq_len, head_size/2]   (unused: RoPE is recomputed)
//	float32 wcls            [vocab, dim], only when vocab_size < 0
//
// A negative vocab_size means a separate classifier (wcls); a positive one
// means the classifier is the token embedding. Matrices are PyTorch
// [out, in], row-major; Q and K are in Meta's interleaved-pair RoPE layout
// already, so llama.cpp's convert-llama2c-to-ggml copies them unpermuted
// (the tests check every tensor against its output byte for byte).
//
// [Checkpoint.Tensors] lists the weights under Meta's names
// (tok_embeddings.weight, layers.N.attention.wq.weight, ...,
// layers.N.feed_forward.w1.weight, norm.weight, output.weight), each layer a
// slice of the stacked arrays. llama2.c's versioned formats (magic "ak42",
// v1 float32 and v2 int8) are recognized and refused.
//
// # Limits enforced
//
//   - dim, hidden_dim, |vocab_size| and seq_len in [1, MaxDim] (2^20),
//     n_layers in [1, MaxLayers] (2^12), n_heads and n_kv_heads positive;
//   - n_heads divides dim, n_kv_heads divides n_heads, head_size is even;
//   - the file is exactly as long as the header implies (the error says how
//     long it should be, and whether the other sign of vocab_size would
//     fit); nothing is allocated from the header before that check, and
//     all size arithmetic is checked for overflow.
//
// Every error about file contents is a *[FormatError] that unwraps to
// [ErrFormat] and names the file and the header field.
package llama2c
