package pretok

import (
	"unicode"
	"unicode/utf8"
)

// More patterns. The values continue GPT2's; they are not stable across
// versions of lmc (use the names).
const (
	// Llama3 is Llama 3's pattern, also OpenAI's cl100k_base (llama.cpp:
	// "llama-bpe"). The contractions are case-insensitive for ASCII letters,
	// as llama.cpp implements `(?i:...)`.
	Llama3 Pattern = iota + 2
	// Qwen2 is Llama3 with single digits (`\p{N}` instead of
	// `\p{N}{1,3}`): Qwen2, Qwen2.5, Qwen3 (llama.cpp: "qwen2").
	Qwen2
	// GPT4o is OpenAI's o200k_base pattern, which tells upper from lower
	// case letters (llama.cpp: "gpt-4o", which approximates it).
	GPT4o
	// The remaining patterns are llama.cpp's sequences of regular
	// expressions (LLAMA_VOCAB_PRE_TYPE_*): each expression splits every
	// piece the previous ones made, keeping the text between its matches as
	// pieces of their own.

	// Falcon is llama.cpp's "falcon".
	Falcon
	// StarCoder is llama.cpp's "starcoder" (also "refact", "command-r",
	// "smollm", "codeshell", "exaone", "minerva-7b"): single digits, then
	// GPT-2's pattern.
	StarCoder
	// DeepSeekLLM is llama.cpp's "deepseek-llm".
	DeepSeekLLM
	// DeepSeekCoder is llama.cpp's "deepseek-coder".
	DeepSeekCoder
	// Default is llama.cpp's "default", used for byte-level BPE models that
	// name no pre-tokenizer (GPT-NeoX-style conversions).
	Default

	lastPattern = Default
)

type patternInfo struct {
	name    string
	regexes []string // as llama.cpp lists them (HF syntax for the single ones)
	ends    func(dst []int, text string) []int
}

const (
	reLlama3 = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	reQwen2  = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	reGPT4o  = `[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	// llama.cpp's GPT-2 expression, without the final |\s+ (a lone space
	// it leaves unmatched is a piece of its own anyway).
	reGPT2LC = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)`
	// deepseek-llm's cased-letter class, as in its tokenizer.json.
	reDeepSeekLetters = `\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-ώᾀ-ᾴᾶ-ᾼιῂ-ῄῆ-ῌῐ-ΐῖ-Ίῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤΩℨK-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+`
	reCJK             = `[一-龥ࠀ-一가-퟿]+`
)

var patterns = [...]patternInfo{
	Llama3: {"llama-bpe", []string{reLlama3}, func(dst []int, s string) []int { return appendLlama3(dst, s, 3) }},
	Qwen2:  {"qwen2", []string{reQwen2}, func(dst []int, s string) []int { return appendLlama3(dst, s, 1) }},
	GPT4o:  {"gpt-4o", []string{reGPT4o}, appendGPT4o},
	Falcon: {"falcon", []string{`[\p{P}\$\+<=>\^~\|` + "`" + `]+`, reGPT2LC, `[0-9][0-9][0-9]`},
		seq(stagePunct(true), stageGPT2, stageDigits3)},
	StarCoder: {"starcoder", []string{`\p{N}`, reGPT2LC}, seq(stageNumber(false), stageGPT2)},
	DeepSeekLLM: {"deepseek-llm", []string{`[\r\n]`, reDeepSeekLetters, `\s?[!-/:-~！-／：-～‘-‟　-。]+`, `\s+$`, reCJK, `\p{N}+`},
		seq(stageNewline, stageSpaceRun(inDeepSeekLetters), stageSpaceRun(inDeepSeekPunct), stageTrailingSpace, stageCJK, stageNumber(true))},
	DeepSeekCoder: {"deepseek-coder", []string{`[\r\n]`, `\s?\p{L}+`, `\s?\p{P}+`, reCJK, `\p{N}`},
		seq(stageNewline, stageSpaceRun(isLetter), stageSpaceRun(isPunctLC), stageCJK, stageNumber(false))},
	Default: {"default", []string{`[\p{P}\$\+<=>\^~\|]+`, reGPT2LC, `\p{N}+`, `[0-9][0-9][0-9]`},
		seq(stagePunct(false), stageGPT2, stageNumber(true), stageDigits3)},
}

// aliases maps llama.cpp's other tokenizer.ggml.pre names onto patterns.
var aliases = map[string]Pattern{
	"gpt2": GPT2, "mpt": GPT2, "olmo": GPT2, "phi-2": GPT2, "jais": GPT2, "jina-es": GPT2, "jina-de": GPT2,
	"jina-v1-en": GPT2, "jina-v2-es": GPT2, "jina-v2-de": GPT2, "jina-v2-code": GPT2, "roberta-bpe": GPT2,
	"gigachat": GPT2, "exaone4": GPT2, "trillion": GPT2, "granite-docling": GPT2, "a.x-4.0": GPT2, "mellum": GPT2,
	"modern-bert": GPT2,
	"llama3":      Llama3, "llama-v3": Llama3, "falcon3": Llama3, "falcon-h1": Llama3, "pixtral": Llama3,
	"midm-2.0": Llama3, "lfm2": Llama3, "dbrx": Llama3, "smaug-bpe": Llama3, "chatglm-bpe": Llama3, "glm4": Llama3,
	"deepseek-r1-qwen": Qwen2, "stablelm2": Qwen2, "megrez": Qwen2, "hunyuan": Qwen2, "kormo": Qwen2,
	"grok-2": Qwen2, "solar-open": Qwen2, "f2llmv2": Qwen2,
	"llama4": GPT4o, "o200k": GPT4o, "o200k_base": GPT4o,
	"cl100k": Llama3, "cl100k_base": Llama3,
	"refact": StarCoder, "command-r": StarCoder, "smollm": StarCoder, "codeshell": StarCoder,
	"exaone": StarCoder, "minerva-7b": StarCoder, "mellum2": StarCoder,
}

func (p Pattern) info() *patternInfo {
	if p > GPT2 && p <= lastPattern {
		return &patterns[p]
	}
	return nil
}

// Regexes returns the regular expressions the pattern applies in order: one
// for the single-expression patterns, llama.cpp's list for the sequences,
// nil for an invalid pattern.
func (p Pattern) Regexes() []string {
	if p == GPT2 {
		return []string{p.Regex()}
	}
	if in := p.info(); in != nil {
		return append([]string(nil), in.regexes...)
	}
	return nil
}

// ByRegex returns the pattern implementing the regular expression re (as
// written in a tokenizer.json Split pre-tokenizer or a tiktoken pat_str),
// and false when lmc has none. Spelling variants of the contractions
// ('s|'S|'t|'T|... and (?:'[sS]|'[tT]|...)) are recognized.
func ByRegex(re string) (Pattern, bool) {
	switch re {
	case GPT2.Regex(), reGPT2LC:
		return GPT2, true
	case reLlama3,
		`(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`,
		`('s|'S|'t|'T|'re|'rE|'Re|'RE|'ve|'vE|'Ve|'VE|'m|'M|'ll|'lL|'Ll|'LL|'d|'D)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`:
		return Llama3, true
	case reQwen2,
		`(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`:
		return Qwen2, true
	case reGPT4o,
		`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+('s|'S|'t|'T|'re|'rE|'Re|'RE|'ve|'vE|'Ve|'VE|'m|'M|'ll|'lL|'Ll|'LL|'d|'D)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*('s|'S|'t|'T|'re|'rE|'Re|'RE|'ve|'vE|'Ve|'VE|'m|'M|'ll|'lL|'Ll|'LL|'d|'D)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`:
		return GPT4o, true
	}
	return 0, false
}

// ---- Llama 3 / Qwen2 ----

// contractionCI returns the length of 's 't 're 've 'm 'll 'd (ASCII case
// insensitive) at the start of s, or 0.
func contractionCI(s string) int {
	if len(s) < 2 || s[0] != '\'' {
		return 0
	}
	switch s[1] | 0x20 {
	case 's', 't', 'm', 'd':
		return 2
	}
	if len(s) < 3 {
		return 0
	}
	a, b := s[1]|0x20, s[2]|0x20
	if (a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l') {
		return 3
	}
	return 0
}

// appendLlama3 follows llama.cpp's unicode_regex_split_custom_llama3, with
// at most maxDigits numbers per number piece.
func appendLlama3(dst []int, text string, maxDigits int) []int {
	i := 0
	for i < len(text) {
		c := text[i]
		if c == '\'' {
			if n := contractionCI(text[i:]); n > 0 {
				i += n
				dst = append(dst, i)
				continue
			}
		}
		cls, n := decode(text, i)
		// [^\r\n\p{L}\p{N}]?\p{L}+
		if c != '\r' && c != '\n' && cls != clsNumber {
			if cls == clsLetter || (i+n < len(text) && classAt(text, i+n) == clsLetter) {
				i = run(text, i+n, clsLetter)
				dst = append(dst, i)
				continue
			}
		}
		// \p{N}{1,maxDigits}
		if cls == clsNumber {
			i += n
			for k := 1; k < maxDigits && i < len(text); k++ {
				c2, n2 := decode(text, i)
				if c2 != clsNumber {
					break
				}
				i += n2
			}
			dst = append(dst, i)
			continue
		}
		// ` ?[^\s\p{L}\p{N}]+[\r\n]*` (and [\r\n/]* for GPT-4o, not here)
		if j, ok := otherRun(text, i, cls, false); ok {
			i = j
			dst = append(dst, i)
			continue
		}
		i = spaceRun(text, i, n)
		dst = append(dst, i)
	}
	return dst
}

func classAt(text string, i int) int {
	c, _ := decode(text, i)
	return c
}

// otherRun matches ` ?[^\s\p{L}\p{N}]+[\r\n]*` (with '/' in the trailing
// class when slash) at i, where the rune at i has class cls.
func otherRun(text string, i, cls int, slash bool) (int, bool) {
	j := i
	if text[i] == ' ' {
		if i+1 >= len(text) || classAt(text, i+1) != clsOther {
			return 0, false
		}
		j = i + 1
	} else if cls != clsOther {
		return 0, false
	}
	j = run(text, j, clsOther)
	for j < len(text) && (text[j] == '\r' || text[j] == '\n' || (slash && text[j] == '/')) {
		j++
	}
	return j, true
}

// spaceRun matches `\s*[\r\n]+|\s+(?!\S)|\s+` at i (the rune at i, n bytes,
// is a space; if not, it returns i+n: llama.cpp's "no match" step).
func spaceRun(text string, i, n int) int {
	end, lastNL := i, -1
	for end < len(text) {
		c, m := decode(text, end)
		if c != clsSpace {
			break
		}
		if text[end] == '\r' || text[end] == '\n' {
			lastNL = end + 1
		}
		end += m
	}
	switch {
	case lastNL > 0:
		return lastNL
	case end == i:
		return i + n
	case end < len(text):
		if last := lastRuneStart(text, i, end); last > i {
			return last
		}
	}
	return end
}

// ---- GPT-4o (o200k_base) ----

// Letter subclasses for GPT-4o: upper-ish ([\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}])
// and lower-ish ([\p{Ll}\p{Lm}\p{Lo}\p{M}]).
func isUpperish(r rune) bool {
	if r < utf8.RuneSelf {
		return 'A' <= r && r <= 'Z'
	}
	return unicode.In(r, unicode.Lu, unicode.Lt, unicode.Lm, unicode.Lo, unicode.M)
}

func isLowerish(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z'
	}
	return unicode.In(r, unicode.Ll, unicode.Lm, unicode.Lo, unicode.M)
}

// decodeRune returns the rune at text[i:] (U+FFFD for an invalid byte) and
// its size.
func decodeRune(text string, i int) (rune, int) {
	if c := text[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(text[i:])
}

// isPrefix reports whether r is in [^\r\n\p{L}\p{N}].
func isPrefix(r rune) bool {
	return r != '\r' && r != '\n' && !unicode.IsLetter(r) && !unicode.IsNumber(r)
}

// gpt4oWord matches the two letter alternatives of the o200k pattern at i:
//
//	P? U* W+ C? | P? U+ W* C?
//
// with P = [^\r\n\p{L}\p{N}], U upper-ish, W lower-ish and C a contraction,
// trying the alternatives, and the optional prefix, in the order a
// backtracking engine does.
func gpt4oWord(text string, i int) (int, bool) {
	r, n := decodeRune(text, i)
	starts := [2]int{i, -1}
	if isPrefix(r) {
		starts = [2]int{i + n, i}
	}
	for alt := 1; alt <= 2; alt++ {
		for _, j := range starts {
			if j < 0 || j >= len(text) {
				continue
			}
			// maximal U run from j
			k := j
			for k < len(text) {
				r, m := decodeRune(text, k)
				if !isUpperish(r) {
					break
				}
				k += m
			}
			if alt == 1 {
				// U* then W+: the largest split of the U run after which a
				// W rune follows.
				if k < len(text) {
					if r, _ := decodeRune(text, k); isLowerish(r) {
						return contraction4o(text, lowerRun(text, k)), true
					}
				}
				for e := k; e > j; {
					r, m := utf8.DecodeLastRuneInString(text[j:e])
					if isLowerish(r) {
						// the W run from e-m is this one rune (those after it in
						// the U run are not W), so the match ends at e.
						return contraction4o(text, e), true
					}
					e -= m
				}
				continue
			}
			if k > j {
				return contraction4o(text, lowerRun(text, k)), true
			}
		}
	}
	return 0, false
}

func lowerRun(text string, k int) int {
	for k < len(text) {
		r, m := decodeRune(text, k)
		if !isLowerish(r) {
			break
		}
		k += m
	}
	return k
}

func contraction4o(text string, e int) int {
	return e + contractionCI(text[e:])
}

func appendGPT4o(dst []int, text string) []int {
	i := 0
	for i < len(text) {
		if e, ok := gpt4oWord(text, i); ok {
			i = e
			dst = append(dst, i)
			continue
		}
		cls, n := decode(text, i)
		if cls == clsNumber {
			i += n
			for k := 1; k < 3 && i < len(text); k++ {
				c2, n2 := decode(text, i)
				if c2 != clsNumber {
					break
				}
				i += n2
			}
			dst = append(dst, i)
			continue
		}
		if j, ok := otherRun(text, i, cls, true); ok {
			i = j
			dst = append(dst, i)
			continue
		}
		i = spaceRun(text, i, n)
		dst = append(dst, i)
	}
	return dst
}

// ---- llama.cpp's regex sequences ----

// A stage splits text[start:end] into pieces, appending their ends. It
// reproduces std::regex_iterator over the piece: matches, and the text
// between them, each become a piece.
type stage func(dst []int, text string, start, end int) []int

func seq(stages ...stage) func(dst []int, text string) []int {
	return func(dst []int, text string) []int {
		if len(text) == 0 {
			return dst
		}
		cur := []int{len(text)}
		var next []int
		for _, st := range stages {
			next = next[:0]
			start := 0
			for _, e := range cur {
				next = st(next, text, start, e)
				start = e
			}
			cur, next = next, cur
		}
		return append(dst, cur...)
	}
}

// matcher returns the end of a match starting at i, or -1.
type matcher func(text string, i, end int) int

// split turns a matcher into a stage: leftmost matches, gaps in between.
func split(m matcher) stage {
	return func(dst []int, text string, start, end int) []int {
		gap := start
		for i := start; i < end; {
			if e := m(text, i, end); e > i {
				if i > gap {
					dst = append(dst, i)
				}
				dst = append(dst, e)
				i, gap = e, e
				continue
			}
			_, n := decodeRune(text, i)
			i += n
		}
		if gap < end {
			dst = append(dst, end)
		}
		return dst
	}
}

// runeIn matches one or more runes satisfying f.
func runOf(f func(rune) bool, text string, i, end int) int {
	j := i
	for j < end {
		r, n := decodeRune(text, j)
		if !f(r) {
			break
		}
		j += n
	}
	return j
}

func isSpace(r rune) bool {
	if r < utf8.RuneSelf {
		return r == ' ' || ('\t' <= r && r <= '\r')
	}
	return unicode.IsSpace(r)
}

func isLetter(r rune) bool { return unicode.IsLetter(r) }

// isPunctLC is llama.cpp's \p{P}: Unicode punctuation.
func isPunctLC(r rune) bool { return unicode.IsPunct(r) }

// stagePunct is [\p{P}\$\+<=>\^~\|]+ (with ` when backtick).
func stagePunct(backtick bool) stage {
	return split(func(text string, i, end int) int {
		return runOf(func(r rune) bool {
			switch r {
			case '$', '+', '<', '=', '>', '^', '~', '|':
				return true
			case '`':
				return backtick
			}
			return unicode.IsPunct(r)
		}, text, i, end)
	})
}

// stageGPT2 is llama.cpp's GPT-2 custom splitter on each piece.
func stageGPT2(dst []int, text string, start, end int) []int {
	n := len(dst)
	dst = appendGPT2(dst, text[start:end])
	for k := n; k < len(dst); k++ {
		dst[k] += start
	}
	return dst
}

// stageDigits3 is [0-9][0-9][0-9].
var stageDigits3 = split(func(text string, i, end int) int {
	if i+3 <= end && isDigit(text[i]) && isDigit(text[i+1]) && isDigit(text[i+2]) {
		return i + 3
	}
	return -1
})

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// stageNumber is \p{N}+ (many) or \p{N}.
func stageNumber(many bool) stage {
	return split(func(text string, i, end int) int {
		r, n := decodeRune(text, i)
		if !unicode.IsNumber(r) {
			return -1
		}
		if !many {
			return i + n
		}
		return runOf(unicode.IsNumber, text, i, end)
	})
}

// stageNewline is [\r\n].
var stageNewline = split(func(text string, i, end int) int {
	if text[i] == '\r' || text[i] == '\n' {
		return i + 1
	}
	return -1
})

// stageSpaceRun is \s?X+ for the class f.
func stageSpaceRun(f func(rune) bool) stage {
	return split(func(text string, i, end int) int {
		r, n := decodeRune(text, i)
		if isSpace(r) && i+n < end {
			if r2, _ := decodeRune(text, i+n); f(r2) {
				return runOf(f, text, i+n, end)
			}
		}
		if f(r) {
			return runOf(f, text, i, end)
		}
		return -1
	})
}

// stageTrailingSpace is \s+$: the whitespace that ends the piece.
func stageTrailingSpace(dst []int, text string, start, end int) []int {
	j := end
	for j > start {
		r, n := utf8.DecodeLastRuneInString(text[start:j])
		if !isSpace(r) || (r == utf8.RuneError && n == 1) {
			break
		}
		j -= n
	}
	if j > start {
		dst = append(dst, j)
	}
	return append(dst, end)
}

// stageCJK is [一-龥ࠀ-一가-퟿]+ (U+0800..U+9FA5, U+AC00..U+D7FF); llama.cpp
// replaces whitespace by U+000B before matching, so U+3000 and the like
// are not in the class.
var stageCJK = split(func(text string, i, end int) int {
	return runOf(func(r rune) bool {
		return ((0x0800 <= r && r <= 0x9FA5) || (0xAC00 <= r && r <= 0xD7FF)) && !isSpace(r)
	}, text, i, end)
})

// deepSeekLetters is deepseek-llm's letter class (reDeepSeekLetters).
var deepSeekLetters = &unicode.RangeTable{
	R16: []unicode.Range16{
		{0x41, 0x5A, 1}, {0x61, 0x7A, 1}, {0xB5, 0xB5, 1}, {0xC0, 0xD6, 1}, {0xD8, 0xF6, 1}, {0xF8, 0x1BA, 1},
		{0x1BC, 0x1BF, 1}, {0x1C4, 0x293, 1}, {0x295, 0x2AF, 1}, {0x370, 0x373, 1}, {0x376, 0x377, 1},
		{0x37B, 0x37D, 1}, {0x37F, 0x37F, 1}, {0x386, 0x386, 1}, {0x388, 0x38A, 1}, {0x38C, 0x38C, 1},
		{0x38E, 0x3A1, 1}, {0x3A3, 0x3F5, 1}, {0x3F7, 0x481, 1}, {0x48A, 0x52F, 1}, {0x531, 0x556, 1},
		{0x10A0, 0x10C5, 1}, {0x13A0, 0x13F5, 1}, {0x13F8, 0x13FD, 1}, {0x1C90, 0x1CBA, 1}, {0x1CBD, 0x1CBF, 1},
		{0x1D00, 0x1D2B, 1}, {0x1D6B, 0x1D77, 1}, {0x1D79, 0x1D9A, 1}, {0x1E00, 0x1F15, 1}, {0x1F18, 0x1F1D, 1},
		{0x1F20, 0x1F45, 1}, {0x1F48, 0x1F4D, 1}, {0x1F50, 0x1F57, 1}, {0x1F59, 0x1F5D, 2}, {0x1F5F, 0x1F7D, 1},
		{0x1F80, 0x1FB4, 1}, {0x1FB6, 0x1FBC, 1}, {0x1FBE, 0x1FBE, 1}, {0x1FC2, 0x1FC4, 1}, {0x1FC6, 0x1FCC, 1},
		{0x1FD0, 0x1FD3, 1}, {0x1FD6, 0x1FDB, 1}, {0x1FE0, 0x1FEC, 1}, {0x1FF2, 0x1FF4, 1}, {0x1FF6, 0x1FFC, 1},
		{0x2102, 0x2102, 1}, {0x2107, 0x2107, 1}, {0x210A, 0x2113, 1}, {0x2115, 0x2115, 1}, {0x2119, 0x211D, 1},
		{0x2124, 0x2128, 2}, {0x212A, 0x212D, 1}, {0x212F, 0x2134, 1}, {0x2139, 0x2139, 1},
		{0x213C, 0x213F, 1}, {0x2145, 0x2149, 1}, {0x214E, 0x214E, 1}, {0x2183, 0x2184, 1}, {0x2C00, 0x2C7B, 1},
		{0x2C7E, 0x2CE4, 1}, {0x2CEB, 0x2CEE, 1}, {0x2CF2, 0x2CF3, 1}, {0xA640, 0xA66D, 1}, {0xA680, 0xA69B, 1},
		{0xA722, 0xA76F, 1}, {0xA771, 0xA787, 1}, {0xA78B, 0xA78E, 1}, {0xAB70, 0xABBF, 1}, {0xFB00, 0xFB06, 1},
		{0xFB13, 0xFB17, 1}, {0xFF21, 0xFF3A, 1}, {0xFF41, 0xFF5A, 1},
	},
	R32: []unicode.Range32{
		{0x10400, 0x1044F, 1}, {0x104B0, 0x104D3, 1}, {0x104D8, 0x104FB, 1}, {0x10C80, 0x10CB2, 1},
		{0x10CC0, 0x10CF2, 1}, {0x118A0, 0x118DF, 1}, {0x1E900, 0x1E943, 1},
	},
	LatinOffset: 5,
}

func inDeepSeekLetters(r rune) bool { return unicode.Is(deepSeekLetters, r) }

// inDeepSeekPunct is [!-/:-~！-／：-～‘-‟　-。] less whitespace.
func inDeepSeekPunct(r rune) bool {
	switch {
	case '!' <= r && r <= '/', ':' <= r && r <= '~',
		0xFF01 <= r && r <= 0xFF0F, 0xFF1A <= r && r <= 0xFF5E,
		0x2018 <= r && r <= 0x201F, 0x3001 <= r && r <= 0x3002:
		return true
	}
	return false
}
