// Package eval measures language models the way llama.cpp's tools do, so
// that lmc's numbers compare directly with theirs: perplexity and KL
// divergence as llama-perplexity computes them, and prompt-processing and
// generation speed as llama-bench measures it.
//
// # Protocol
//
// A text is tokenized with BOS first (when the vocabulary adds one) and cut
// into len(tokens)/ctx chunks of ctx tokens ([Options.Context]; the tail
// that does not fill a chunk is dropped). Each chunk is evaluated from an
// empty KV cache with its first token replaced by BOS, and the logits at
// positions ctx/2 … ctx−2 are scored, each against the token that follows
// it: ctx−1−ctx/2 tokens per chunk (127 at ctx 256). [Perplexity] returns
// exp of the mean negative log-likelihood with llama-perplexity's ±
// estimate, PPL·sqrt(var(nll)/(n−1)), and the running value after every
// chunk ([1]…,[2]… in llama.cpp's output). [KLD] and [KLDModels] compare a
// model with a base on the same positions and return every statistic of
// llama-perplexity --kl-divergence: PPL(Q), PPL(base), their ln ratio and
// correlation, the mean KL divergence with its quantiles, Δp (change in the
// probability of the token that came next) and the share of positions with
// the same most likely token. Arithmetic follows llama.cpp's: float32
// log-softmax with float64 sums, the same uncertainty formulas and
// percentile interpolation.
//
// # Base-logits files
//
// [SaveBase] writes, and [OpenBase] reads, the base model's
// log-probabilities at the scored positions, so that many candidates can
// be compared with one base run. Two formats, all integers little-endian:
//
//	FormatLlamaCpp (llama-perplexity --kl-divergence-base; files are
//	interchangeable with llama.cpp's):
//	  "_logits_"  u32 n_ctx  i32 n_vocab  i32 n_chunk
//	  i32 tokens[n_ctx × n_chunk]           (the text's first tokens)
//	  per chunk, per scored position (n_ctx−1−n_ctx/2 of them):
//	    f32 scale  f32 min_log_prob  u16 q[n_vocab] (+ one u16 if odd)
//	  log p(token i) ≈ scale·q[i] + min_log_prob over the 16 nats below the
//	  most likely token (rounding ≤ 16/65535/2 = 1.2e-4 nats); tokens
//	  further down get q = 0 and are left out of the KL sum, as in
//	  llama.cpp. 2·(n_vocab+4) bytes per position: 1 KiB for a 512-token
//	  vocabulary, 256 KiB for 128K.
//
//	FormatTopK (lmc's compact file):
//	  "lmctopk1"  u32 version=1  u32 n_ctx  u32 n_vocab  u32 n_chunk  u32 k
//	  i32 tokens[n_ctx × n_chunk]
//	  per chunk, per scored position:
//	    f32 log p(next token)  f32 log(mass outside the top k) (−Inf: none)
//	    k × (u32 token, f32 log p), descending, ties by token id
//	  8+8k bytes per position (264 at k = 32). The KL divergence of the
//	  distributions coarsened to the top k plus one "rest" outcome is a
//	  lower bound of the full one (log-sum inequality), exact when the rest
//	  has no mass; PPL, Δp and same-top are exact.
//
// [KLDModels] runs both models side by side and passes the base through the
// FormatLlamaCpp encoding in memory, so its numbers equal those of
// SaveBase followed by KLD.
//
// # Limits
//
// OpenBase checks, before allocating anything, that n_ctx is in [3, 2^24],
// n_vocab in [1, 2^24], n_chunk positive, k in [1, n_vocab], and that the
// file is exactly as long as the header says; every token must be in the
// vocabulary. Rows are checked as they are read: finite scale in [0, 1]
// and min_log_prob ≤ 0; top-k entries in the vocabulary, finite, ≤ 0 (up
// to 1e-3 of rounding) and descending. Malformed files give a
// *[FormatError] wrapping [ErrFormat]. ReadText refuses files over
// [MaxTextBytes], empty files and invalid UTF-8 (naming the offset and line
// of the first bad byte); evaluation needs at least 2×ctx tokens and a ctx
// of at least 3. Errors about the text wrap [ErrText].
package eval
