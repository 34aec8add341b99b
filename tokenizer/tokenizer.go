package tokenizer

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/lmc-project/lmc/tokenizer/pretok"
)

// Tokenizer encodes text to token ids and decodes ids to text with
// llama.cpp's semantics (llama-vocab.cpp): [New] builds one from a [Vocab]
// (SentencePiece-style BPE for Model "llama", byte-level BPE for Model
// "gpt2"), [NewTiktoken] from an OpenAI rank file. A Tokenizer is safe for
// concurrent use.
type Tokenizer struct {
	kind   int // kindSPM, kindBPE, kindTiktoken
	texts  []string
	pieces []string // what each token decodes to (llama.cpp's token_to_piece with special=true)
	attr   []uint8
	pre    pretok.Pattern

	bos, eos, unk  int
	addBOS, addEOS bool
	spacePrefix    bool // SentencePiece add_space_prefix
	cleanSpaces    bool // llama.cpp's clean_spaces (detokenize)
	ignoreMerges   bool

	// special-token partition
	specFirst [256][]int32 // candidate ids by first byte, in priority order
	prio      []int32      // priority of each special id (0 = highest), -1 otherwise

	spm spmModel
	bpe bpeModel

	cache wordCache
}

const (
	kindSPM = iota + 1
	kindBPE
	kindTiktoken
)

// Token attributes, as llama.cpp keeps them (one token may have several).
const (
	attrNormal uint8 = 1 << iota
	attrUnknown
	attrControl
	attrUserDefined
	attrUnused
	attrByte
)

func attrOf(t TokenType) uint8 {
	switch t {
	case TypeNormal:
		return attrNormal
	case TypeUnknown:
		return attrUnknown
	case TypeControl:
		return attrControl
	case TypeUserDefined:
		return attrUserDefined
	case TypeUnused:
		return attrUnused
	case TypeByte:
		return attrByte
	}
	return 0
}

// Texts llama.cpp treats as control tokens whatever their type: its
// end-of-generation list (llama-vocab.cpp, "special_eog_ids") and its
// fill-in-the-middle names.
var forcedControl = map[string]bool{
	"<|eot_id|>": true, "<|im_end|>": true, "<|end|>": true, "<|return|>": true, "<|call|>": true,
	"<|flush|>": true, "<|calls|>": true, "<end_of_turn>": true, "<|endoftext|>": true, "</s>": true,
	"<|eom_id|>": true, "<EOT>": true, "_<EOT>": true, "[EOT]": true, "[EOS]": true, "<|end_of_text|>": true,
	"<end_of_utterance>": true, "<eos>": true, "<turn|>": true, "<|tool_response>": true,
	"<｜end▁of▁sentence｜>": true, "[e~[": true,
	"<|fim_prefix|>": true, "<fim-prefix>": true, "<fim_prefix>": true, "<｜fim▁begin｜>": true, "<PRE>": true,
	"▁<PRE>": true, "<|code_prefix|>": true, "<|prefix|>": true,
	"<|fim_suffix|>": true, "<fim-suffix>": true, "<fim_suffix>": true, "<｜fim▁hole｜>": true, "<SUF>": true,
	"▁<SUF>": true, "<|code_suffix|>": true, "<|suffix|>": true,
	"<|fim_middle|>": true, "<fim-middle>": true, "<fim_middle>": true, "<｜fim▁end｜>": true, "<MID>": true,
	"▁<MID>": true, "<|code_middle|>": true, "<|middle|>": true,
	"<|fim_pad|>": true, "<fim-pad>": true, "<fim_pad>": true, "<PAD>": true, "[PAD]": true,
	"<|fim_repo|>": true, "<|repo_name|>": true, "<fim-repo>": true, "<REPO>": true, "<reponame>": true,
	"<|file_sep|>": true,
}

// Pre-tokenizer names for which llama.cpp adds BOS by default, skips BPE
// for words that are whole tokens (ignore_merges), or does not clean
// spaces when detokenizing.
var (
	preAddBOS       = map[string]bool{"llama3": true, "llama-v3": true, "llama-bpe": true, "falcon3": true, "falcon-h1": true, "pixtral": true, "midm-2.0": true, "lfm2": true}
	preIgnoreMerges = preAddBOS
	preNoCleanSpace = map[string]bool{"deepseek-llm": true, "deepseek-coder": true, "command-r": true, "qwen2": true,
		"deepseek-r1-qwen": true, "kormo": true, "f2llmv2": true, "smollm": true, "gpt-4o": true, "llama4": true,
		"trillion": true, "granite-docling": true, "hunyuan": true, "grok-2": true, "solar-open": true}
)

// New returns a tokenizer for v, which must pass [Vocab.Validate]:
//
//   - Model "llama": SentencePiece-style BPE exactly as llama.cpp's
//     llm_tokenizer_spm: a space is prepended when AddSpacePrefix (to the
//     text and after every special token), spaces become "▁", the pair of
//     adjacent symbols whose concatenation is the token with the highest
//     score is merged first (leftmost on ties), and symbols left that are
//     not tokens become byte tokens "<0xNN>" (or UNK when the vocabulary
//     has none). RemoveExtraWhitespaces is ignored, as llama.cpp does.
//   - Model "gpt2": byte-level BPE as llama.cpp's llm_tokenizer_bpe: the
//     text is split by the pre-tokenizer v.Pre names (see package pretok;
//     "" means llama.cpp's "default"), each piece is written in GPT-2's
//     bytes-to-unicode alphabet and merged by lowest merge rank first. For
//     the Llama 3 pre-tokenizers a piece that is a token is not merged
//     (ignore_merges). Invalid UTF-8 is replaced by U+FFFD first, as
//     llama.cpp does.
//
// Special tokens (control, user-defined and unknown types) are split off
// before tokenizing, longest first, as llama.cpp's tokenizer_st_partition:
// user-defined tokens always, the others with [Tokenizer.EncodeWithSpecial].
// Like llama.cpp, tokens whose text is on its end-of-generation or
// fill-in-the-middle lists ("</s>", "<|endoftext|>", "<|im_end|>",
// "<|fim_prefix|>", ...) count as control tokens.
//
// BOS is added when v.AddBOS (or, when the vocabulary does not say,
// llama.cpp's default: always for "llama", for the Llama 3 pre-tokenizers
// of "gpt2"), EOS when v.AddEOS.
func New(v *Vocab) (*Tokenizer, error) {
	if err := v.Validate(); err != nil {
		return nil, err
	}
	n := len(v.Tokens)
	t := &Tokenizer{
		texts: v.Tokens,
		attr:  make([]uint8, n),
		bos:   v.BOS,
		eos:   v.EOS,
		unk:   v.UNK,
	}
	for i, ty := range v.Types {
		t.attr[i] = attrOf(ty)
		if forcedControl[v.Tokens[i]] {
			t.attr[i] |= attrControl
		}
	}
	switch v.Model {
	case ModelLlama:
		t.kind = kindSPM
		t.spacePrefix = v.AddSpacePrefix
		t.addBOS = true
		if t.unk < 0 {
			t.unk = firstOfType(v.Types, TypeUnknown)
		}
	case ModelGPT2:
		t.kind = kindBPE
		pre := v.Pre
		if pre == "" {
			pre = PreDefault
		}
		p, ok := pretok.ByName(pre)
		if !ok {
			return nil, fmt.Errorf("tokenizer: pre-tokenizer %q is not supported (lmc has %s)", pre, supportedPres())
		}
		t.pre = p
		t.addBOS = preAddBOS[pre]
		t.ignoreMerges = preIgnoreMerges[pre]
		t.cleanSpaces = !preNoCleanSpace[pre]
	}
	if v.AddBOSSet {
		t.addBOS = v.AddBOS
	}
	if v.AddEOSSet {
		t.addEOS = v.AddEOS
	}
	if t.addBOS && t.bos < 0 {
		if v.AddBOSSet {
			return nil, vocabErr("add_bos_token", "BOS is to be added but the vocabulary has no BOS token")
		}
		t.addBOS = false
	}
	if t.addEOS && t.eos < 0 {
		return nil, vocabErr("add_eos_token", "EOS is to be added but the vocabulary has no EOS token")
	}
	t.pieces = make([]string, n)
	if t.kind == kindSPM {
		t.buildSPM(v)
	} else if err := t.buildBPE(v); err != nil {
		return nil, err
	}
	t.buildSpecials()
	return t, nil
}

func supportedPres() string {
	var names []string
	for p := pretok.GPT2; ; p++ {
		if len(p.Regexes()) == 0 {
			break
		}
		names = append(names, fmt.Sprintf("%q", p.String()))
	}
	return strings.Join(names, ", ") + " and their llama.cpp aliases"
}

// buildSpecials indexes the control, user-defined and unknown tokens by
// first byte, longest first (ties by id), as llama.cpp's
// cache_special_tokens.
func (t *Tokenizer) buildSpecials() {
	var ids []int32
	for i, a := range t.attr {
		if a&(attrControl|attrUserDefined|attrUnknown) != 0 && t.texts[i] != "" {
			ids = append(ids, int32(i))
		}
	}
	sort.SliceStable(ids, func(a, b int) bool { return len(t.texts[ids[a]]) > len(t.texts[ids[b]]) })
	t.prio = make([]int32, len(t.texts))
	for i := range t.prio {
		t.prio[i] = -1
	}
	for p, id := range ids {
		t.prio[id] = int32(p)
		c := t.texts[id][0]
		t.specFirst[c] = append(t.specFirst[c], id)
	}
}

// VocabSize returns the number of token ids.
func (t *Tokenizer) VocabSize() int { return len(t.texts) }

// BOS returns the beginning-of-sequence id, -1 if none.
func (t *Tokenizer) BOS() int { return t.bos }

// EOS returns the end-of-sequence id, -1 if none.
func (t *Tokenizer) EOS() int { return t.eos }

// AddsBOS and AddsEOS report whether Encode with addSpecial adds them.
func (t *Tokenizer) AddsBOS() bool { return t.addBOS }

// AddsEOS reports whether Encode with addSpecial adds EOS.
func (t *Tokenizer) AddsEOS() bool { return t.addEOS }

// TokenText returns the text of token id as the vocabulary stores it ("▁the",
// "Ġthe", "<0x0A>", "<|endoftext|>"; raw bytes for tiktoken), "" when id is
// out of range.
func (t *Tokenizer) TokenText(id int) string {
	if id < 0 || id >= len(t.texts) {
		return ""
	}
	return t.texts[id]
}

// Piece returns the bytes token id stands for (special tokens as their
// text), "" when id is out of range. It is llama.cpp's token_to_piece with
// special=true.
func (t *Tokenizer) Piece(id int) string {
	if id < 0 || id >= len(t.pieces) {
		return ""
	}
	return t.pieces[id]
}

// IsSpecial reports whether id is a control or unknown token (one that
// Decode leaves out).
func (t *Tokenizer) IsSpecial(id int) bool {
	return id >= 0 && id < len(t.attr) && t.attr[id]&(attrControl|attrUnknown) != 0
}

// TokenID returns the id of the token whose text (as TokenText returns it)
// is s, or -1.
func (t *Tokenizer) TokenID(s string) int {
	switch t.kind {
	case kindSPM:
		if id, ok := t.spm.ids[s]; ok {
			return int(id)
		}
		return -1
	}
	for i, x := range t.texts {
		if x == s {
			return i
		}
	}
	return -1
}

// Encode returns the token ids of text, special-token texts in it being
// treated as plain text; with addSpecial, BOS and EOS are added as the
// vocabulary says. It is llama.cpp's llama_tokenize(text, addSpecial,
// parse_special=false).
func (t *Tokenizer) Encode(text string, addSpecial bool) []int {
	return t.Tokenize(text, addSpecial, false)
}

// EncodeWithSpecial returns the token ids of text with the texts of special
// tokens ("<|begin_of_text|>", "<s>", "<|im_start|>") turned into those
// tokens, and no BOS or EOS added: llama_tokenize(text, false, true).
func (t *Tokenizer) EncodeWithSpecial(text string) []int {
	return t.Tokenize(text, false, true)
}

// Count returns len(t.Encode(text, false)).
func (t *Tokenizer) Count(text string) int {
	return len(t.tokenize(nil, text, false, false))
}

// Tokenize is llama.cpp's llama_tokenize(text, addSpecial, parseSpecial).
func (t *Tokenizer) Tokenize(text string, addSpecial, parseSpecial bool) []int {
	ids := t.tokenize(nil, text, addSpecial, parseSpecial)
	out := make([]int, len(ids))
	for i, id := range ids {
		out[i] = int(id)
	}
	return out
}

func (t *Tokenizer) tokenize(out []int32, text string, addSpecial, parseSpecial bool) []int32 {
	var frags []fragment
	if text != "" {
		frags = t.partition(text, parseSpecial)
	}
	if addSpecial && t.addBOS {
		out = append(out, int32(t.bos))
	}
	prevSpecial := true // SentencePiece: prefix a space to the first text
	for _, f := range frags {
		if f.id >= 0 {
			out = append(out, f.id)
			prevSpecial = true
			continue
		}
		s := text[f.start:f.end]
		switch t.kind {
		case kindSPM:
			if t.spacePrefix && prevSpecial {
				s = " " + s
			}
			out = t.spmEncode(out, s)
		default:
			out = t.bpeEncode(out, s)
		}
		prevSpecial = false
	}
	if addSpecial && t.addEOS {
		out = append(out, int32(t.eos))
	}
	return out
}

// A fragment is raw text[start:end] (id -1) or a special token.
type fragment struct {
	start, end int
	id         int32
}

// partition splits text into raw fragments and special tokens the way
// llama.cpp's tokenizer_st_partition does: special tokens are taken in
// priority order (longest text first), each one's occurrences leftmost
// first within what earlier ones left raw. Without parseSpecial only
// user-defined tokens (not also control or unknown) are split off.
func (t *Tokenizer) partition(text string, parseSpecial bool) []fragment {
	type occ struct {
		start int
		id    int32
	}
	var occs []occ
	for i := 0; i < len(text); i++ {
		for _, id := range t.specFirst[text[i]] {
			if !parseSpecial && t.attr[id]&(attrControl|attrUnknown) != 0 {
				continue
			}
			if strings.HasPrefix(text[i:], t.texts[id]) {
				occs = append(occs, occ{i, id})
			}
		}
	}
	if len(occs) == 0 {
		return []fragment{{0, len(text), -1}}
	}
	sort.Slice(occs, func(a, b int) bool {
		pa, pb := t.prio[occs[a].id], t.prio[occs[b].id]
		if pa != pb {
			return pa < pb
		}
		return occs[a].start < occs[b].start
	})
	claimed := make([]bool, len(text))
	var got []fragment
	cursor, cur := 0, int32(-1)
	for _, o := range occs {
		if o.id != cur {
			cur, cursor = o.id, 0
		}
		end := o.start + len(t.texts[o.id])
		if o.start < cursor {
			continue
		}
		free := true
		for k := o.start; k < end; k++ {
			if claimed[k] {
				free = false
				break
			}
		}
		if !free {
			continue
		}
		for k := o.start; k < end; k++ {
			claimed[k] = true
		}
		cursor = end
		got = append(got, fragment{o.start, end, o.id})
	}
	sort.Slice(got, func(a, b int) bool { return got[a].start < got[b].start })
	frags := make([]fragment, 0, 2*len(got)+1)
	pos := 0
	for _, g := range got {
		if g.start > pos {
			frags = append(frags, fragment{pos, g.start, -1})
		}
		frags = append(frags, g)
		pos = g.end
	}
	if pos < len(text) {
		frags = append(frags, fragment{pos, len(text), -1})
	}
	return frags
}

// Decode returns the text of ids: the bytes of each token concatenated
// (byte tokens give their byte, so a character split across tokens is
// whole again), control and unknown tokens left out, and, for SentencePiece
// vocabularies that add a space prefix, the leading space of the first
// token after any leading control tokens (BOS) removed, as SentencePiece's
// decoder does. The result is not cleaned up further and may end in an
// incomplete UTF-8 sequence; ids out of range are skipped. For text
// exactly as llama.cpp prints it, see [Tokenizer.Detokenize].
func (t *Tokenizer) Decode(ids []int) string {
	var b strings.Builder
	strip := t.kind == kindSPM && t.spacePrefix
	for _, id := range ids {
		if id < 0 || id >= len(t.pieces) || t.attr[id]&(attrControl|attrUnknown) != 0 {
			continue
		}
		p := t.pieces[id]
		if t.attr[id]&(attrNormal|attrUserDefined|attrByte) == 0 {
			p = ""
		}
		if strip && p != "" {
			p = strings.TrimPrefix(p, " ")
			strip = false
		}
		b.WriteString(p)
	}
	return b.String()
}

// Detokenize is llama.cpp's llama_detokenize(ids, removeSpecial,
// unparseSpecial), byte for byte: with removeSpecial a leading BOS and a
// trailing EOS are dropped (when the vocabulary adds them); control and
// unknown tokens render as their text only with unparseSpecial; for
// SentencePiece the first token's leading space is removed unless a BOS was
// removed before it; and for most byte-level BPE vocabularies llama.cpp's
// clean_spaces rules apply (" ." → ".", " 's" → "'s", ...).
func (t *Tokenizer) Detokenize(ids []int, removeSpecial, unparseSpecial bool) string {
	removeSpace := t.kind == kindSPM && t.spacePrefix
	if removeSpecial && t.addBOS && len(ids) > 0 && ids[0] == t.bos {
		removeSpace = false
		ids = ids[1:]
	}
	if removeSpecial && t.addEOS && len(ids) > 0 && ids[len(ids)-1] == t.eos {
		ids = ids[:len(ids)-1]
	}
	var out []byte
	for _, id := range ids {
		p := t.pieceFor(id, unparseSpecial)
		if removeSpace && len(p) > 0 && p[0] == ' ' {
			p = p[1:]
		}
		removeSpace = false
		out = append(out, p...)
	}
	if t.cleanSpaces {
		out = cleanSpaces(out)
	}
	return string(out)
}

// pieceFor is llama.cpp's token_to_piece(id, special).
func (t *Tokenizer) pieceFor(id int, special bool) string {
	if id < 0 || id >= len(t.pieces) {
		return ""
	}
	a := t.attr[id]
	if a&(attrControl|attrUnknown) != 0 && !special {
		return ""
	}
	if a&(attrControl|attrUnknown|attrUserDefined|attrNormal|attrByte) == 0 {
		return ""
	}
	return t.pieces[id]
}

// cleanSpaces applies llama.cpp's three clean_spaces passes.
func cleanSpaces(text []byte) []byte {
	n := len(text)
	if n == 0 {
		return text
	}
	// " ?", " !", " .", " ,"
	total := 1
	for i := 1; i < n; i++ {
		x := text[i]
		if text[i-1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',') {
			total--
		}
		text[total] = x
		total++
	}
	// " ' " → "'"
	n, total = total, 1
	for i := 1; i < n; i++ {
		x := text[i]
		if x == '\'' && i+1 < n && text[i-1] == ' ' && text[i+1] == ' ' {
			total--
			i++
			text[i] = 0 // llama.cpp overwrites the next space with NUL
		}
		text[total] = x
		total++
	}
	// " 's", " 'm", " 're", " 've"
	n, total = total, 1
	for i := 1; i < n; i++ {
		x := text[i]
		if text[i-1] == ' ' && x == '\'' && i+1 < n {
			x1 := text[i+1]
			switch {
			case x1 == 't' || x1 == 'd':
			case x1 == 's' || x1 == 'm':
				total--
			case i+2 < n:
				x2 := text[i+2]
				if (x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e') {
					total--
				}
			}
		}
		text[total] = x
		total++
	}
	return text[:total]
}

// wordCache maps a pre-token (or SentencePiece segment) to its ids. It is
// cleared when it grows past maxCacheWords entries.
type wordCache struct {
	mu sync.RWMutex
	m  map[string][]int32
}

const maxCacheWords = 1 << 17

func (c *wordCache) get(w string) ([]int32, bool) {
	c.mu.RLock()
	ids, ok := c.m[w]
	c.mu.RUnlock()
	return ids, ok
}

func (c *wordCache) put(w string, ids []int32) {
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCacheWords {
		c.m = make(map[string][]int32, 1024)
	}
	c.m[strings.Clone(w)] = ids
	c.mu.Unlock()
}

// utf8Len is llama.cpp's unicode_len_utf8: the length a UTF-8 sequence
// claims by its first byte (1 for continuation bytes).
func utf8Len(c byte) int {
	switch c >> 4 {
	case 0xC, 0xD:
		return 2
	case 0xE:
		return 3
	case 0xF:
		return 4
	}
	return 1
}

// sanitizeUTF8 returns s with every byte llama.cpp's UTF-8 decoder rejects
// replaced by U+FFFD and every sequence it accepts re-encoded from its code
// point, as llama.cpp's byte-level BPE does (unicode_cpts_from_utf8).
func sanitizeUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		c := s[i]
		if c < 0x80 {
			b = append(b, c)
			i++
			continue
		}
		n := 0
		var cp rune
		switch {
		case c&0x40 == 0: // continuation byte
		case c&0x20 == 0:
			if i+1 < len(s) && s[i+1]&0xC0 == 0x80 {
				n, cp = 2, rune(c&0x1F)<<6|rune(s[i+1]&0x3F)
			}
		case c&0x10 == 0:
			if i+2 < len(s) && s[i+1]&0xC0 == 0x80 && s[i+2]&0xC0 == 0x80 {
				n, cp = 3, rune(c&0x0F)<<12|rune(s[i+1]&0x3F)<<6|rune(s[i+2]&0x3F)
			}
		case c&0x08 == 0:
			if i+3 < len(s) && s[i+1]&0xC0 == 0x80 && s[i+2]&0xC0 == 0x80 && s[i+3]&0xC0 == 0x80 {
				n, cp = 4, rune(c&0x07)<<18|rune(s[i+1]&0x3F)<<12|rune(s[i+2]&0x3F)<<6|rune(s[i+3]&0x3F)
			}
		}
		if n == 0 || cp > utf8.MaxRune {
			b = append(b, "\uFFFD"...)
			i++
			if n != 0 {
				i += n - 1
			}
			continue
		}
		// re-encode as llama.cpp's unicode_cpt_to_utf8 does (surrogates
		// included, which Go's encoder would refuse)
		switch {
		case cp < 0x80:
			b = append(b, byte(cp))
		case cp < 0x800:
			b = append(b, 0xC0|byte(cp>>6), 0x80|byte(cp&0x3F))
		case cp < 0x10000:
			b = append(b, 0xE0|byte(cp>>12), 0x80|byte(cp>>6&0x3F), 0x80|byte(cp&0x3F))
		default:
			b = append(b, 0xF0|byte(cp>>18), 0x80|byte(cp>>12&0x3F), 0x80|byte(cp>>6&0x3F), 0x80|byte(cp&0x3F))
		}
		i += n
	}
	return string(b)
}

// Decoder turns a stream of token ids into text as they come, holding back
// the bytes of a UTF-8 sequence until it is complete, so that every string
// it returns is valid UTF-8 (bytes that can never form a character become
// U+FFFD). Pieces are as in [Tokenizer.Decode].
type Decoder struct {
	t       *Tokenizer
	pending []byte
	strip   bool
}

// NewDecoder returns a Decoder for t.
func (t *Tokenizer) NewDecoder() *Decoder {
	return &Decoder{t: t, strip: t.kind == kindSPM && t.spacePrefix}
}

// Next returns the text that token id completes.
func (d *Decoder) Next(id int) string {
	t := d.t
	if id < 0 || id >= len(t.pieces) || t.attr[id]&(attrControl|attrUnknown) != 0 ||
		t.attr[id]&(attrNormal|attrUserDefined|attrByte) == 0 {
		return ""
	}
	p := t.pieces[id]
	if d.strip && p != "" {
		p = strings.TrimPrefix(p, " ")
		d.strip = false
	}
	d.pending = append(d.pending, p...)
	return d.take(false)
}

// Flush returns what is held back, an incomplete sequence as U+FFFD.
func (d *Decoder) Flush() string { return d.take(true) }

func (d *Decoder) take(all bool) string {
	var b strings.Builder
	i := 0
	for i < len(d.pending) {
		r, n := utf8.DecodeRune(d.pending[i:])
		if r == utf8.RuneError && n == 1 {
			if !all && !utf8.FullRune(d.pending[i:]) {
				break // may complete with the next token
			}
			b.WriteString("\uFFFD")
		} else {
			b.Write(d.pending[i : i+n])
		}
		i += n
	}
	d.pending = append(d.pending[:0], d.pending[i:]...)
	return b.String()
}
