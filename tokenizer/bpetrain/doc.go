// Package bpetrain trains and runs byte-level BPE tokenizers of the GPT-2
// kind: text is split by a [pretok.Pattern], each piece is taken as UTF-8
// bytes, and merges learnt from a corpus join adjacent tokens, lowest rank
// first.
//
// # Vocabulary layout of a trained tokenizer
//
// Ids 0..255 are the single bytes (id b is byte b), ids 256.. the merges in the
// order they were learnt (merge k makes id 256+k), and the special tokens come
// last. Token strings use GPT-2's bytes-to-unicode mapping ([ByteToRune]), so
// a space is "Ġ" and a newline "Ċ", as in Hugging Face tokenizer.json files.
//
// # Training
//
// [Trainer] counts the distinct pre-token pieces ("words") with their
// frequencies, then repeatedly merges the most frequent adjacent pair,
// weighted by word frequency. Ties go to the pair with the smaller left id,
// then the smaller right id, so training is deterministic. Pair counts are
// kept in a map with a max-heap of (count, pair) entries discarded lazily when
// stale, and each merge updates only the words that contain the pair.
//
// # tokenizer.json
//
// [Tokenizer.MarshalHF] writes Hugging Face's format (model BPE, ByteLevel
// pre-tokenizer and decoder, specials as added_tokens, optionally a
// TemplateProcessing post-processor that prepends BOS); [ParseHF] reads that
// kind of file back, so GPT-2-style tokenizer.json files from elsewhere load
// too.
//
// # Limits
//
// [New] and [ParseHF] reject vocabularies with more than [MaxVocab] tokens,
// duplicate tokens, ids out of range or that leave holes, tokens that are
// not byte-level strings, merges whose parts or result are not in the
// vocabulary or are special, and vocabularies missing one of the 256 byte
// tokens. [ParseHF] also rejects models other than BPE, byte fallback, unknown
// tokens, subword prefixes and suffixes, and pre-tokenizers other than
// ByteLevel with use_regex. Encoding caches up to 1<<20 distinct pieces.
package bpetrain
