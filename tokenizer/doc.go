// Package tokenizer holds the vocabulary model lmc carries between file
// formats ([Vocab]) and readers and writers for the tokenizer files people
// have:
//
//   - SentencePiece models (tokenizer.model): [ReadSentencePiece],
//     [WriteSentencePiece], with a hand-written protobuf wire-format codec;
//   - llama2.c tokenizers (tokenizer.bin, tok512.bin): [ReadLlama2cTok],
//     [WriteLlama2cTok];
//   - Hugging Face tokenizer directories (tokenizer.json, tokenizer.model,
//     tokenizer_config.json, special_tokens_map.json, config.json):
//     [ReadHFTokenizer], [WriteHFTokenizer];
//   - OpenAI's GPT-2 files (encoder.json, vocab.bpe): [ReadGPT2Files];
//   - OpenAI's tiktoken rank files (cl100k_base.tiktoken, ...):
//     [NewTiktoken], [ParseTiktoken].
//
// and lmc's own tokenizers ([Tokenizer], from [New]), which encode and
// decode exactly as llama.cpp does (llama-vocab.cpp):
//
//   - Model "llama": SentencePiece-style BPE with byte fallback
//     (llm_tokenizer_spm: Llama 2, Phi-3, Baichuan, llama2.c's tok512);
//   - Model "gpt2": byte-level BPE with the pre-tokenizer tokenizer.ggml.pre
//     names (llm_tokenizer_bpe): "gpt-2" (also mpt, olmo, ...), "llama-bpe"
//     (Llama 3), "qwen2" (Qwen2/2.5/3, deepseek-r1-qwen), "gpt-4o",
//     "falcon", "starcoder" (also refact, command-r, ...),
//     "deepseek-llm", "deepseek-coder" and "default", split by hand-written
//     scanners in package pretok;
//   - tiktoken: cl100k_base and o200k_base, with tiktoken's merge rule.
//
// Special tokens are split off first as llama.cpp's
// tokenizer_st_partition does (user-defined tokens always, control and
// unknown ones with [Tokenizer.EncodeWithSpecial]); BOS/EOS are added as
// the vocabulary says. [Tokenizer.Decode] joins token bytes (a character
// split over byte tokens is whole again) and drops SentencePiece's
// dummy-prefix space; [Tokenizer.Detokenize] is llama_detokenize byte for
// byte; a [Decoder] streams ids into valid UTF-8. Pre-tokens (byte-level
// BPE) and "▁"-delimited segments (SentencePiece) are cached, so a
// long-lived Tokenizer encodes tens of MB/s on one core.
//
// Checked against llama.cpp's test-tokenizer-0 vectors (in shared/:
// llama-spm, phi-3, gpt-2, mpt, falcon, starcoder, refact, deepseek-llm,
// deepseek-coder, and llama-bpe, qwen2, deepseek-r1-qwen through the
// Llama 3 and Qwen3 tokenizer.json), books5M's tok512 encodings (pg98.txt:
// 431,017 tokens with BOS, as llama.cpp), known tiktoken encodings, and a
// torture corpus (testdata/torture.txt) against an independent Python
// implementation. Not implemented: WPM (BERT), UGM (T5), RWKV tokenizers,
// the other llama.cpp pre-tokenizers, and llama.cpp's per-model token
// attributes (Phi-3's rstrip of spaces after special tokens, which it
// selects by general.name).
//
// A [Vocab]'s fields mean what GGUF's tokenizer.ggml.* keys mean (model,
// pre, tokens, scores, token_type, merges, the special ids, add_bos_token,
// add_eos_token, add_space_prefix, remove_extra_whitespaces,
// chat_template), so that another package maps it one-to-one onto GGUF.
// This package does not import lmc's gguf package.
//
// # SentencePiece
//
// A tokenizer.model is a serialized sentencepiece.ModelProto:
//
//	ModelProto      1 pieces (repeated SentencePiece)  2 trainer_spec  3 normalizer_spec
//	                4 self_test_data  5 denormalizer_spec
//	SentencePiece   1 piece (string)  2 score (float, fixed32)  3 type (enum, default NORMAL=1)
//	TrainerSpec     3 model_type (UNIGRAM=1, BPE=2)  4 vocab_size  35 byte_fallback
//	                40..43 unk_id, bos_id, eos_id, pad_id  45..48 unk/bos/eos/pad_piece
//	NormalizerSpec  1 name  2 precompiled_charsmap  3 add_dummy_prefix (default true)
//	                4 remove_extra_whitespaces (default true)
//
// The reader keeps the file's bytes; the writer re-emits every record the
// Vocab does not contradict, so an unchanged Vocab reproduces the file byte
// for byte, and changes are spliced into the original trainer and
// normalizer specs. Checked against python3-sentencepiece 0.1.97: models
// written from scratch load and tokenize as the original tok512.model does.
//
// # llama2.c
//
//	uint32 max_token_length
//	repeated to the end of the file: float32 score, uint32 len, len bytes
//
// mapped exactly as llama.cpp's convert-llama2c-to-ggml maps it (see
// [ReadLlama2cTok]); the tests compare with the tokenizer arrays of
// llama.cpp-converted GGUF files.
//
// # Limits enforced by the parsers
//
//   - A tokenizer.model or llama2.c tokenizer is read whole and must be at
//     most [MaxSentencePieceSize] / [MaxLlama2cTokSize] bytes (256 MiB);
//     JSON files and vocab.bpe at most [MaxJSONSize] (256 MiB).
//   - No allocation is sized from a count or length in a file: protobuf
//     lengths and llama2.c token lengths are checked against the bytes that
//     remain before use; the llama2.c token arrays are preallocated for at
//     most (file size - 4) / 8 tokens (8 bytes being the smallest record).
//   - Protobuf: varints of at most 10 bytes that fit 64 bits, field numbers
//     1..2^29-1, wire types 0, 1, 2 and 5 only (groups are rejected), known
//     fields must have their declared wire type, piece types must be 1..6.
//   - Token ids in tokenizer.json, added tokens, encoder.json,
//     added_tokens.json and tokenizer_config.json must be in [0, 2^24); a
//     config.json vocab_size outside (0, 2^24] is ignored.
//   - A tiktoken file is read whole, at most [MaxTiktokenSize] (64 MiB);
//     ranks must be in [0, 2^24) and below twice the number of lines plus
//     1024 (so the token table is sized by the file), with no rank or
//     token given twice and every single byte a token.
//
// Encoding reads nothing but its text and allocates in proportion to it
// (the word cache is bounded at 131,072 entries and cleared when full).
// Text that is not valid UTF-8 is encoded as llama.cpp encodes it: for
// byte-level BPE the bytes its decoder rejects become U+FFFD (a 4-byte
// sequence above U+10FFFF, on which llama.cpp throws, becomes one U+FFFD);
// SentencePiece cuts symbols by the length each lead byte claims and
// byte-falls-back on them.
//
// Every error about file contents is a *[FormatError] that unwraps to
// [ErrFormat] and names the file, the byte offset where meaningful, and the
// field.
package tokenizer
