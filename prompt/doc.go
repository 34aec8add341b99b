// Package prompt compresses prompts and contexts for language models: fewer
// input tokens, the answer kept. It takes plain text (optionally with a
// question) or an OpenAI chat messages list, applies one or more methods in
// order, and meets a budget counted in the target model's tokenizer (any
// [Counter]).
//
// # Methods
//
//   - template: whitespace, sentences repeated verbatim (restated
//     instructions, also across messages), boilerplate sentences ("I hope
//     this helps", "As an AI language model…") and filler phrases ("please
//     note that", "in order to" → "to").
//   - dedup: exact and near-duplicate paragraphs and sentences (package
//     dedup: MinHash with LSH, or SimHash, over word shingles).
//   - extractive: sentences ranked by centrality (TextRank: PageRank over the
//     TF-IDF cosine-similarity graph), kept in document order.
//   - rerank: chunks (paragraphs, cut at [RerankChunkTokens]) ranked by BM25
//     against the question, plus embedding similarity when an [Embedder] is
//     set; the most relevant first (or in document order).
//   - query: query-focused compression; coarse chunk selection by BM25, then
//     sentences (own relevance, the chunk's, the neighbours', a lead prior,
//     the answer type the question asks for) and finally words inside the
//     kept chunks (the sentence's score plus the word's kind: names and
//     numbers first, stop words last), in document order.
//   - query-sentences: query with whole sentences as the finest unit.
//   - embed: chunks filtered by the cosine similarity of their embeddings to
//     the question's ([Embedder]: an OpenAI-compatible /v1/embeddings
//     endpoint through [OpenAIEmbedder], or an lmc model).
//   - prune: token-level pruning, LLMLingua-style: segments scored one after
//     another by a small language model ([Scorer]) conditioned on the
//     compressed text before them; the words with the least
//     self-information go, at a rate the budget controller sets per segment.
//   - summarize, extract: a [Generator] (an OpenAI-compatible chat endpoint
//     through [OpenAIGenerator], or an lmc model) writes a summary, a list
//     of facts, or a JSON object of [Options.Fields].
//   - memory (messages only): the last [Options.KeepTurns] user turns stay
//     verbatim; older turns become one summary message.
//
// Methods chain: each works on the output of the one before. Methods that
// use the budget (all but template and dedup) share it geometrically: with
// k of them, the i-th aims at before·(target/before)^(i/k), the last at the
// target itself.
//
// # Budgets
//
// The budget ([Options.Target] tokens, or [Options.Rate] of the input) is
// counted with [Options.Counter] on the compressed text itself, not
// estimated: selection methods add units by priority, then count the joined
// text and drop or refill until it fits, so the result never exceeds the
// budget. For text input the budget covers the text (the question is kept
// apart and not counted); for messages it covers every message's content.
// A budget not smaller than the input is an error ([ErrBudget]).
//
// # Protected spans
//
// Never removed: the question (for messages: the last user message; system
// messages are never cut by selection), fenced and inline code, and the
// user's strings and regular expressions ([Options.Keep],
// [Options.KeepRegexp]); template leaves them byte for byte, and methods
// that select units never drop a unit holding one. Numbers and named
// entities (a capitalized-phrase heuristic, see [ProtectEntities]) are
// never removed by template (runs of spaces inside them may be collapsed)
// and are the last words prune and query drop; they are in nearly every
// sentence of factual text, so they force their unit to stay only with
// [Options.StrictProtect] (which fails with [ErrBudget] when they do not
// fit). Generated text (summarize, memory) gets missing code and Keep
// spans appended verbatim.
//
// # Errors
//
// Every error wraps [ErrEmpty], [ErrBudget], [ErrMessages], [ErrMethod] or
// [ErrBackend]. With [Options.Fallback], failures after the input was read
// return the original input instead, with the reason in Report.Fallback.
//
// The package reads only what it is given; [ParseMessages] accepts at most
// [MaxMessages] messages, and reports list at most [MaxRemovals] removals
// one by one.
package prompt
