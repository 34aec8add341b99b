// Package pretok implements the pre-tokenizers ("splits") that byte-level BPE
// tokenizers apply before BPE: hand-written scanners with the exact semantics
// of the regular expressions they replace, since Go's regexp package has no
// lookahead (the `\s+(?!\S)` rule every GPT-style pattern ends with).
//
// A [Pattern] names one regular expression. Each pattern splits a string into
// consecutive, non-empty pieces that cover it exactly: joining the pieces gives
// the input back, byte for byte, also for invalid UTF-8 (an invalid byte is a
// one-byte piece of the "other" class, like U+FFFD).
//
// Patterns (the name is llama.cpp's tokenizer.ggml.pre value):
//
//   - [GPT2] "gpt-2": 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// Character classes follow Go's unicode package: \s is [unicode.IsSpace] (the
// Unicode White_Space property), \p{L} is [unicode.IsLetter], \p{N} is
// [unicode.IsNumber]. The contractions are case-sensitive, as in GPT-2.
//
// The package has no limits to enforce: it reads nothing but the string it is
// given, and allocates only the result (at most one boundary per input byte).
package pretok
