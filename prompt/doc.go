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
//     sentence selection inside the kept chunks (own relevance, the chunk's,
//     the neighbours'), in document order.
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
// Some spans are never removed: the question (for messages: the last user
// message, and system messages are never cut by selection), fenced code
// blocks and inline code, numbers, named entities (a capitalized-phrase
// heuristic, see [ProtectEntities]) and the user's strings and regular
// expressions ([Options.Keep], [Options.KeepRegexp]). Methods that edit
// inside sentences (template, prune) never change a protected span. Methods
// that select whole units (dedup, extractive, rerank, query, embed) never
// drop a unit holding code or a Keep match; numbers and entities are in
// nearly every sentence of factual text, so they force their unit only with
// [Options.StrictProtect]. Generated text (summarize, memory) gets missing
// code and Keep spans appended verbatim.
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
