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
//   - [Llama3] "llama-bpe" (Llama 3, cl100k_base): (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//   - [Qwen2] "qwen2": the same with \p{N} for \p{N}{1,3}
//   - [GPT4o] "gpt-4o" (o200k_base): see [Pattern.Regex]; it tells \p{Lu}\p{Lt} from \p{Ll} and
//     treats \p{Lm}\p{Lo}\p{M} as both, as a backtracking engine does
//   - [Falcon], [StarCoder], [DeepSeekLLM], [DeepSeekCoder], [Default]: llama.cpp's sequences of
//     expressions ([Pattern.Regexes]), each splitting the pieces of the one before and keeping the
//     text between its matches as pieces, with llama.cpp's character classes (\p{P} is Unicode
//     punctuation; whitespace is never in the explicit ranges, as llama.cpp replaces it by U+000B
//     before matching)
//
// [ByName] also knows llama.cpp's other names for these (e.g. "mpt", "refact", "deepseek-r1-qwen",
// "llama3"); [ByRegex] finds a pattern by its regular expression (tokenizer.json, tiktoken pat_str).
// Llama3 and Qwen2 follow llama.cpp's hand-written splitter: the contractions are
// case-insensitive for ASCII only (Python's and Rust's (?i) also fold 'ſ' to 's').
//
// Character classes follow Go's unicode package: \s is [unicode.IsSpace] (the
// Unicode White_Space property), \p{L} is [unicode.IsLetter], \p{N} is
// [unicode.IsNumber]. GPT-2's contractions are case-sensitive.
//
// The package has no limits to enforce: it reads nothing but the string it is
// given, and allocates only the result (at most one boundary per input byte).
package pretok
