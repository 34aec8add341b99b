// Package segment splits text into the units prompt compression selects
// from: paragraphs, sentences and clauses, as byte spans of the input, and
// into lower-cased word terms for lexical scoring (BM25, TF-IDF).
//
// Spans never overlap, are in order, and never include the whitespace
// between units, so text[s.Start:s.End] is the unit's exact text and the gap
// between two spans is the original separator.
//
// # Rules
//
// Paragraphs end at a blank line (two newlines with only spaces or tabs
// between). A fenced code block (a line starting with ``` or ~~~, up to the
// matching closing fence or the end of the text) is always one paragraph
// and one sentence: it is never split.
//
// Sentences end after '.', '!', '?' or '…' (with any closing quotes or
// brackets) followed by whitespace, except after a known abbreviation
// (Mr., Dr., e.g., i.e., etc., vs., St., No., Jan. …) or a single-letter
// initial ("J. R. R. Tolkien"), or when the next word starts with a
// lower-case letter. A newline also ends a sentence, unless the line before
// it is a long line (at least 60 bytes) without end punctuation and the next
// line starts with a lower-case letter: a hard-wrapped line.
//
// Sentences longer than [Options.MaxSentence] bytes are cut into clauses
// after ", ", "; " or ": " (so a long JSON object becomes one unit per
// key-value pair), and, where no such separator exists, at the last space
// before the limit.
//
// The package has no limits to enforce: it reads only the string it is
// given and allocates at most one span per input byte.
package segment
