package tokenizer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// MaxJSONSize is the largest JSON file (tokenizer.json, configs,
// encoder.json) or vocab.bpe these readers accept.
const MaxJSONSize = 256 << 20

// maxVocabSize bounds a vocabulary size taken from config.json, which pads
// the vocabulary with placeholder tokens: no real model comes near it.
const maxVocabSize = 1 << 24

// The pre-tokenizer regexes that identify a GGUF tokenizer.ggml.pre value
// (as they appear in tokenizer.json Split pre-tokenizers).
var preByRegex = map[string]string{
	// GPT-2 (also the ByteLevel pre-tokenizer's built-in regex)
	`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`: PreGPT2,
	// Llama 3
	`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`: PreLlamaBPE,
	// Qwen2, Qwen2.5, Qwen3
	`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`: PreQwen2,
}

// regexByPre is the inverse of preByRegex, for the writer.
var regexByPre = func() map[string]string {
	m := make(map[string]string, len(preByRegex))
	for re, pre := range preByRegex {
		m[pre] = re
	}
	return m
}()

// hfTokenizerJSON is the part of tokenizer.json lmc reads.
type hfTokenizerJSON struct {
	AddedTokens   []hfAddedToken  `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Decoder       json.RawMessage `json:"decoder"`
	Model         struct {
		Type         string            `json:"type"`
		Vocab        json.RawMessage   `json:"vocab"`
		Merges       []json.RawMessage `json:"merges"`
		ByteFallback bool              `json:"byte_fallback"`
		IgnoreMerges bool              `json:"ignore_merges"`
		UnkToken     *string           `json:"unk_token"`
	} `json:"model"`
}

type hfAddedToken struct {
	ID         int    `json:"id"`
	Content    string `json:"content"`
	Special    bool   `json:"special"`
	Normalized bool   `json:"normalized"`
}

// hfComponent is a normalizer, pre-tokenizer, post-processor or decoder.
type hfComponent struct {
	Type           string          `json:"type"`
	Pretokenizers  []hfComponent   `json:"pretokenizers"`
	Processors     []hfComponent   `json:"processors"`
	Decoders       []hfComponent   `json:"decoders"`
	Normalizers    []hfComponent   `json:"normalizers"`
	Prepend        *string         `json:"prepend"`
	PrependScheme  *string         `json:"prepend_scheme"`
	Pattern        json.RawMessage `json:"pattern"`
	UseRegex       *bool           `json:"use_regex"`
	AddPrefixSpace *bool           `json:"add_prefix_space"`
	Single         []struct {
		SpecialToken *struct {
			ID string `json:"id"`
		} `json:"SpecialToken"`
	} `json:"single"`
}

// hfConfigs holds tokenizer_config.json, special_tokens_map.json and
// config.json, each possibly absent.
type hfConfigs struct {
	tok, stm, model map[string]json.RawMessage
	dir             string
}

// ReadHFTokenizer reads the tokenizer of a Hugging Face model directory.
//
//   - A tokenizer.json holding a byte-level BPE (model.type "BPE", no
//     byte_fallback, a ByteLevel pre-tokenizer or decoder) gives Model
//     "gpt2": tokens ordered by id, merges from either of HF's two formats
//     ("a b" strings or [a, b] pairs; a space inside a pair half is
//     written U+0120, as llama.cpp does), no scores. Added tokens are
//     control tokens when "special" or when they look special (<|...|>,
//     <pad>, <mask>, <unused...>), else user-defined, as in llama.cpp's
//     convert_hf_to_gguf. Pre is detected from the pre-tokenizer's Split
//     regex: GPT-2's (or a bare ByteLevel pre-tokenizer with use_regex),
//     Llama 3's and Qwen2's give "gpt-2", "llama-bpe" and "qwen2"; any
//     other gives "default". (llama.cpp instead hashes the tokenization of
//     a test text; regexes lmc does not know need a new table entry.)
//   - A tokenizer.model (SentencePiece) is read with [ReadSentencePiece] when
//     there is no byte-level tokenizer.json, as convert_hf_to_gguf prefers
//     it. Added tokens (added_tokens.json, tokenizer_config.json
//     added_tokens_decoder) replace or extend pieces as llama.cpp does,
//     except that a special added token that is already an unknown, control
//     or byte piece keeps its piece type and score (llama.cpp would make
//     <unk> a control token with score -1000).
//   - A tokenizer.json with a SentencePiece-style BPE (byte_fallback true:
//     Llama 2, TinyLlama) and no tokenizer.model gives Model "llama" the way
//     llama.cpp's LlamaHfVocab does: every score is -1000 (the file has no
//     scores), "<0xNN>" tokens are byte tokens, special tokens are control
//     tokens, other added tokens user-defined; lmc additionally types the
//     unk token as unknown, as SentencePiece requires.
//
// Special ids come from tokenizer_config.json (bos_token, eos_token,
// unk_token, pad_token, sep_token, resolved through the added tokens and
// then the vocabulary), then config.json (*_token_id), then the tokenizer
// itself. AddBOS/AddEOS come from tokenizer_config.json add_bos_token /
// add_eos_token, or from a TemplateProcessing post-processor; the chat
// template from tokenizer_config.json, chat_template.jinja or
// chat_template.json. When config.json gives a vocab_size larger than the
// tokenizer, the vocabulary is padded with "[PAD<id>]" tokens of type
// unused, as convert_hf_to_gguf pads it.
func ReadHFTokenizer(dir string) (*Vocab, error) {
	cfg, err := readHFConfigs(dir)
	if err != nil {
		return nil, err
	}
	tjPath := filepath.Join(dir, "tokenizer.json")
	spPath := filepath.Join(dir, "tokenizer.model")
	var tj *hfTokenizerJSON
	if data, err := readFileLimit(tjPath, MaxJSONSize); err == nil {
		tj = new(hfTokenizerJSON)
		if err := json.Unmarshal(data, tj); err != nil {
			return nil, jsonErr(tjPath, data, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	hasSP := fileExists(spPath)
	var v *Vocab
	switch {
	case tj != nil && tj.isByteLevelBPE():
		v, err = hfGPT2(tjPath, tj, cfg)
	case hasSP:
		v, err = hfSentencePiece(spPath, tj, cfg)
	case tj != nil && tj.Model.Type == "BPE" && tj.Model.ByteFallback:
		v, err = hfLlamaJSON(tjPath, tj, cfg)
	case tj != nil:
		return nil, &FormatError{File: tjPath, Off: -1, Field: "model.type", Msg: fmt.Sprintf("unsupported tokenizer: model type %q (byte_fallback %v); lmc reads byte-level BPE and SentencePiece-style BPE", tj.Model.Type, tj.Model.ByteFallback)}
	default:
		return nil, fmt.Errorf("tokenizer: %s has neither tokenizer.json nor tokenizer.model: %w", dir, fs.ErrNotExist)
	}
	if err != nil {
		return nil, err
	}
	if err := cfg.apply(v, tj); err != nil {
		return nil, err
	}
	if err := v.Validate(); err != nil {
		if v.sp != nil {
			return nil, inFile(err, spPath)
		}
		return nil, inFile(err, tjPath)
	}
	return v, nil
}

// inFile names file in a *FormatError from Validate.
func inFile(err error, file string) error {
	var fe *FormatError
	if errors.As(err, &fe) && fe.File == "vocab" {
		c := *fe
		c.File = file
		return &c
	}
	return err
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// jsonErr turns a json error into a *FormatError with the offset.
func jsonErr(file string, data []byte, err error) error {
	off := int64(-1)
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	field := ""
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off, field = te.Offset, te.Field
	}
	return &FormatError{File: file, Off: off, Field: field, Msg: err.Error()}
}

func readJSONFile(path string, dst any) (bool, error) {
	data, err := readFileLimit(path, MaxJSONSize)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(data, dst); err != nil {
		return false, jsonErr(path, data, err)
	}
	return true, nil
}

func readHFConfigs(dir string) (*hfConfigs, error) {
	c := &hfConfigs{dir: dir}
	for _, f := range []struct {
		name string
		dst  *map[string]json.RawMessage
	}{{"tokenizer_config.json", &c.tok}, {"special_tokens_map.json", &c.stm}, {"config.json", &c.model}} {
		if _, err := readJSONFile(filepath.Join(dir, f.name), f.dst); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// tokenString reads a special-token entry: a string or {"content": ...}.
func tokenString(raw json.RawMessage) (string, bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	var o struct {
		Content *string `json:"content"`
	}
	if json.Unmarshal(raw, &o) == nil && o.Content != nil {
		return *o.Content, true
	}
	return "", false
}

// specialToken returns the text of tokenizer_config's (or
// special_tokens_map's) <typ>_token.
func (c *hfConfigs) specialToken(typ string) (string, bool) {
	for _, m := range []map[string]json.RawMessage{c.tok, c.stm} {
		if raw, ok := m[typ+"_token"]; ok {
			if s, ok := tokenString(raw); ok && s != "" {
				return s, true
			}
		}
	}
	return "", false
}

// specialTexts returns every token text the configs name as special.
func (c *hfConfigs) specialTexts() map[string]bool {
	out := map[string]bool{}
	for _, typ := range []string{"bos", "eos", "unk", "sep", "pad", "cls", "mask"} {
		if s, ok := c.specialToken(typ); ok {
			out[s] = true
		}
	}
	for _, m := range []map[string]json.RawMessage{c.tok, c.stm} {
		var list []json.RawMessage
		if json.Unmarshal(m["additional_special_tokens"], &list) == nil {
			for _, raw := range list {
				if s, ok := tokenString(raw); ok {
					out[s] = true
				}
			}
		}
	}
	return out
}

func (c *hfConfigs) configInt(key string) (int, bool) {
	var n json.Number
	raw, ok := c.model[key]
	if !ok {
		var tc map[string]json.RawMessage
		if json.Unmarshal(c.model["text_config"], &tc) == nil {
			raw, ok = tc[key]
		}
	}
	if !ok || json.Unmarshal(raw, &n) != nil {
		return 0, false
	}
	i, err := strconv.Atoi(n.String())
	return i, err == nil
}

func (c *hfConfigs) configBool(m map[string]json.RawMessage, key string) (bool, bool) {
	var b bool
	raw, ok := m[key]
	if !ok || json.Unmarshal(raw, &b) != nil {
		return false, false
	}
	return b, true
}

// vocabSize returns config.json's vocab_size, when sane.
func (c *hfConfigs) vocabSize() int {
	n, ok := c.configInt("vocab_size")
	if !ok || n <= 0 || n > maxVocabSize {
		return 0
	}
	return n
}

// apply sets the special ids, add_bos/add_eos, chat template and
// add_prefix_space from the configs.
func (c *hfConfigs) apply(v *Vocab, tj *hfTokenizerJSON) error {
	var added []hfAddedToken
	if tj != nil {
		added = tj.AddedTokens
	}
	find := func(text string) int {
		for _, a := range added {
			if a.Content == text && a.ID >= 0 && a.ID < len(v.Tokens) {
				return a.ID
			}
		}
		return v.TokenID(text)
	}
	// TemplateProcessing / RobertaProcessing: does the post-processor add
	// BOS/EOS? (the crude reading of gguf-py's SpecialVocab)
	bosText, _ := c.specialToken("bos")
	if bosText == "" {
		bosText, _ = c.specialToken("cls")
	}
	eosText, _ := c.specialToken("eos")
	if eosText == "" {
		eosText, _ = c.specialToken("sep")
	}
	if tj != nil && len(tj.PostProcessor) > 0 && string(tj.PostProcessor) != "null" {
		var pp hfComponent
		if err := json.Unmarshal(tj.PostProcessor, &pp); err == nil {
			procs := pp.Processors
			if len(procs) == 0 {
				procs = []hfComponent{pp}
			}
			for _, p := range procs {
				switch p.Type {
				case "RobertaProcessing":
					v.AddBOS, v.AddBOSSet, v.AddEOS, v.AddEOSSet = true, true, true, true
				case "TemplateProcessing":
					if len(p.Single) > 1 {
						if st := p.Single[0].SpecialToken; st != nil {
							if c.tok == nil && bosText == "" {
								bosText = st.ID
							}
							v.AddBOS, v.AddBOSSet = st.ID == bosText, true
						}
						if st := p.Single[len(p.Single)-1].SpecialToken; st != nil {
							if c.tok == nil && eosText == "" {
								eosText = st.ID
							}
							v.AddEOS, v.AddEOSSet = st.ID == eosText, true
						}
					}
				}
			}
		}
	}
	ids := map[string]*int{"bos": &v.BOS, "eos": &v.EOS, "unk": &v.UNK, "pad": &v.PAD, "sep": &v.SEP}
	for _, typ := range []string{"bos", "eos", "unk", "pad", "sep"} {
		text, ok := c.specialToken(typ)
		if typ == "bos" && !ok && bosText != "" {
			text, ok = bosText, true
		}
		if typ == "eos" && !ok && eosText != "" {
			text, ok = eosText, true
		}
		if ok {
			if id := find(text); id >= 0 {
				*ids[typ] = id
				continue
			}
		}
		if id, ok := c.configInt(typ + "_token_id"); ok && id >= 0 && id < len(v.Tokens) {
			*ids[typ] = id
		}
	}
	if b, ok := c.configBool(c.tok, "add_bos_token"); ok {
		v.AddBOS, v.AddBOSSet = b, true
	}
	if b, ok := c.configBool(c.tok, "add_eos_token"); ok {
		v.AddEOS, v.AddEOSSet = b, true
	}
	if b, ok := c.configBool(c.tok, "add_prefix_space"); ok {
		v.AddSpacePrefix = b
	}
	// Chat template: tokenizer_config.json, else chat_template.jinja, else
	// chat_template.json. A list of named templates gives the "default" one.
	if raw, ok := c.tok["chat_template"]; ok {
		var s string
		var list []struct{ Name, Template string }
		if json.Unmarshal(raw, &s) == nil {
			v.ChatTemplate = s
		} else if json.Unmarshal(raw, &list) == nil {
			for _, t := range list {
				if t.Name == "default" {
					v.ChatTemplate = t.Template
				}
			}
		}
	} else if data, err := readFileLimit(filepath.Join(c.dir, "chat_template.jinja"), MaxJSONSize); err == nil {
		v.ChatTemplate = string(data)
	} else {
		var ct struct {
			ChatTemplate string `json:"chat_template"`
		}
		if ok, err := readJSONFile(filepath.Join(c.dir, "chat_template.json"), &ct); err != nil {
			return err
		} else if ok {
			v.ChatTemplate = ct.ChatTemplate
		}
	}
	return nil
}

// isByteLevelBPE reports whether tj is a GPT-2 style byte-level BPE.
func (tj *hfTokenizerJSON) isByteLevelBPE() bool {
	if tj.Model.Type != "BPE" || tj.Model.ByteFallback {
		return false
	}
	var dec, pre hfComponent
	_ = json.Unmarshal(tj.Decoder, &dec)
	_ = json.Unmarshal(tj.PreTokenizer, &pre)
	return dec.has("ByteLevel") || pre.has("ByteLevel")
}

func (c *hfComponent) has(typ string) bool {
	return c.find(func(x *hfComponent) bool { return x.Type == typ }) != nil
}

// find returns the first component, depth first, for which match is true.
func (c *hfComponent) find(match func(*hfComponent) bool) *hfComponent {
	if match(c) {
		return c
	}
	for _, list := range [][]hfComponent{c.Pretokenizers, c.Processors, c.Decoders, c.Normalizers} {
		for i := range list {
			if x := list[i].find(match); x != nil {
				return x
			}
		}
	}
	return nil
}

// detectPre maps a tokenizer.json pre_tokenizer onto a GGUF pre name.
func detectPre(raw json.RawMessage) string {
	var pre hfComponent
	if json.Unmarshal(raw, &pre) != nil {
		return PreDefault
	}
	var regexes []string
	byteLevelRegex := false
	var walk func(c *hfComponent)
	walk = func(c *hfComponent) {
		switch c.Type {
		case "Split":
			var p struct{ Regex *string }
			if json.Unmarshal(c.Pattern, &p) == nil && p.Regex != nil {
				regexes = append(regexes, *p.Regex)
			}
		case "ByteLevel":
			if c.UseRegex == nil || *c.UseRegex {
				byteLevelRegex = true
			}
		}
		for i := range c.Pretokenizers {
			walk(&c.Pretokenizers[i])
		}
	}
	walk(&pre)
	if len(regexes) == 1 {
		if p, ok := preByRegex[regexes[0]]; ok {
			return p
		}
		return PreDefault
	}
	if len(regexes) == 0 && byteLevelRegex {
		return PreGPT2
	}
	return PreDefault
}

// looksSpecial is gguf-py's does_token_look_special.
func looksSpecial(s string) bool {
	switch s {
	case "<pad>", "<mask>", "<2mass>", "[@BOS@]":
		return true
	}
	return (strings.HasPrefix(s, "<|") && strings.HasSuffix(s, "|>")) ||
		(strings.HasPrefix(s, "<｜") && strings.HasSuffix(s, "｜>")) ||
		(strings.HasPrefix(s, "<unused") && strings.HasSuffix(s, ">"))
}

// decodeVocabMap decodes a BPE model.vocab object into tokens by id.
// size is the number of ids to allocate (at least max id + 1); holes are "".
func decodeVocabMap(file string, raw json.RawMessage) (map[string]int, int, error) {
	var m map[string]int
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, 0, &FormatError{File: file, Off: -1, Field: "model.vocab", Msg: err.Error()}
	}
	maxID := -1
	for tok, id := range m {
		if id < 0 || id >= maxVocabSize {
			return nil, 0, &FormatError{File: file, Off: -1, Field: "model.vocab", Msg: fmt.Sprintf("token %q has id %d, out of range [0, %d)", tok, id, maxVocabSize)}
		}
		maxID = max(maxID, id)
	}
	return m, maxID + 1, nil
}

// decodeMerges reads model.merges in either HF format.
func decodeMerges(file string, raw []json.RawMessage) ([]string, error) {
	out := make([]string, len(raw))
	for i, r := range raw {
		var s string
		if json.Unmarshal(r, &s) == nil {
			out[i] = s
			continue
		}
		var pair []string
		if err := json.Unmarshal(r, &pair); err != nil || len(pair) != 2 {
			return nil, &FormatError{File: file, Off: -1, Field: fmt.Sprintf("model.merges[%d]", i), Msg: fmt.Sprintf("%s is neither \"a b\" nor [a, b]", truncate(string(r), 80))}
		}
		out[i] = strings.ReplaceAll(pair[0], " ", "\u0120") + " " + strings.ReplaceAll(pair[1], " ", "\u0120")
	}
	return out, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func hfGPT2(file string, tj *hfTokenizerJSON, cfg *hfConfigs) (*Vocab, error) {
	m, size, err := decodeVocabMap(file, tj.Model.Vocab)
	if err != nil {
		return nil, err
	}
	for i, a := range tj.AddedTokens {
		if a.ID < 0 || a.ID >= maxVocabSize {
			return nil, &FormatError{File: file, Off: -1, Field: fmt.Sprintf("added_tokens[%d].id", i), Msg: fmt.Sprintf("%d out of range", a.ID)}
		}
		size = max(size, a.ID+1)
	}
	size = max(size, cfg.vocabSize())
	v := NewVocab(ModelGPT2)
	v.Pre = detectPre(tj.PreTokenizer)
	v.hf = &hfSource{pre: v.Pre, preTokenizer: tj.PreTokenizer, normalizer: tj.Normalizer}
	v.Tokens = make([]string, size)
	v.Types = make([]TokenType, size)
	set := make([]bool, size)
	for tok, id := range m {
		if set[id] {
			return nil, &FormatError{File: file, Off: -1, Field: "model.vocab", Msg: fmt.Sprintf("id %d used by both %q and %q", id, v.Tokens[id], tok)}
		}
		v.Tokens[id], v.Types[id], set[id] = tok, TypeNormal, true
	}
	for _, a := range tj.AddedTokens {
		tok, typ := a.Content, TypeControl
		if !a.Special && !looksSpecial(tok) {
			tok, typ = strings.ReplaceAll(tok, "\u2581", " "), TypeUserDefined
		}
		v.Tokens[a.ID], v.Types[a.ID], set[a.ID] = tok, typ, true
	}
	for i := range v.Tokens {
		if !set[i] {
			v.Tokens[i], v.Types[i] = fmt.Sprintf("[PAD%d]", i), TypeUnused
		}
	}
	if v.Merges, err = decodeMerges(file, tj.Model.Merges); err != nil {
		return nil, err
	}
	return v, nil
}

func hfLlamaJSON(file string, tj *hfTokenizerJSON, cfg *hfConfigs) (*Vocab, error) {
	m, _, err := decodeVocabMap(file, tj.Model.Vocab)
	if err != nil {
		return nil, err
	}
	base := len(m)
	v := NewVocab(ModelLlama)
	// SentencePiece's dummy prefix appears as a Prepend("▁") normalizer
	// (Llama 2, TinyLlama) or a Metaspace pre-tokenizer that prepends.
	var norm, pre hfComponent
	_ = json.Unmarshal(tj.Normalizer, &norm)
	_ = json.Unmarshal(tj.PreTokenizer, &pre)
	v.AddSpacePrefix = norm.find(func(c *hfComponent) bool {
		return c.Type == "Prepend" && c.Prepend != nil && *c.Prepend == "\u2581"
	}) != nil || pre.find(func(c *hfComponent) bool {
		return c.Type == "Metaspace" && (c.PrependScheme == nil || *c.PrependScheme != "never") &&
			(c.AddPrefixSpace == nil || *c.AddPrefixSpace)
	}) != nil
	v.Tokens = make([]string, base)
	v.Types = make([]TokenType, base)
	v.Scores = make([]float32, base)
	set := make([]bool, base)
	for tok, id := range m {
		if id >= base || set[id] {
			return nil, &FormatError{File: file, Off: -1, Field: "model.vocab", Msg: fmt.Sprintf("ids are not 0..%d: token %q has id %d", base-1, tok, id)}
		}
		v.Tokens[id], set[id] = tok, true
	}
	specials := cfg.specialTexts()
	for _, a := range tj.AddedTokens {
		if a.Special {
			specials[a.Content] = true
		}
	}
	unkText := ""
	if tj.Model.UnkToken != nil {
		unkText = *tj.Model.UnkToken
	}
	for i, tok := range v.Tokens {
		v.Scores[i] = -1000
		switch {
		case tok == unkText:
			v.Types[i] = TypeUnknown
		case len(tok) == 6 && isByteTokenStrict(tok):
			v.Types[i] = TypeByte
		case specials[tok]:
			v.Types[i] = TypeControl
		default:
			v.Types[i] = TypeNormal
		}
	}
	// Added tokens beyond the base vocabulary, which must follow it
	// without gaps.
	var extra []hfAddedToken
	for _, a := range tj.AddedTokens {
		if a.ID >= base {
			extra = append(extra, a)
		}
	}
	sort.Slice(extra, func(i, j int) bool { return extra[i].ID < extra[j].ID })
	for i, a := range extra {
		if a.ID != base+i {
			return nil, &FormatError{File: file, Off: -1, Field: "added_tokens", Msg: fmt.Sprintf("added token %q has id %d; added tokens must follow the %d-token vocabulary without gaps", a.Content, a.ID, base)}
		}
		typ := TypeUserDefined
		if specials[a.Content] {
			typ = TypeControl
		}
		v.Tokens = append(v.Tokens, a.Content)
		v.Types = append(v.Types, typ)
		v.Scores = append(v.Scores, -1000)
	}
	v.UNK = firstOfType(v.Types, TypeUnknown)
	return v, nil
}

// isByteTokenStrict matches <0x[0-9A-Fa-f]{2}>.
func isByteTokenStrict(s string) bool {
	_, ok := parseByteToken(s)
	return ok
}

func hfSentencePiece(spPath string, tj *hfTokenizerJSON, cfg *hfConfigs) (*Vocab, error) {
	v, err := ReadSentencePiece(spPath)
	if err != nil {
		return nil, err
	}
	type addedTok struct {
		content string
		special bool
	}
	added := map[int]addedTok{}
	addedJSON := filepath.Join(cfg.dir, "added_tokens.json")
	var at map[string]int
	if _, err := readJSONFile(addedJSON, &at); err != nil {
		return nil, err
	}
	for content, id := range at {
		if id < 0 || id >= maxVocabSize {
			return nil, &FormatError{File: addedJSON, Off: -1, Field: content, Msg: fmt.Sprintf("id %d out of range", id)}
		}
		added[id] = addedTok{content: content}
	}
	if raw, ok := cfg.tok["added_tokens_decoder"]; ok {
		var atd map[string]struct {
			Content string `json:"content"`
			Special bool   `json:"special"`
		}
		if err := json.Unmarshal(raw, &atd); err != nil {
			return nil, &FormatError{File: filepath.Join(cfg.dir, "tokenizer_config.json"), Off: -1, Field: "added_tokens_decoder", Msg: err.Error()}
		}
		for key, t := range atd {
			id, err := strconv.Atoi(key)
			if err != nil || id < 0 || id >= maxVocabSize {
				return nil, &FormatError{File: filepath.Join(cfg.dir, "tokenizer_config.json"), Off: -1, Field: "added_tokens_decoder", Msg: fmt.Sprintf("key %q is not a token id", key)}
			}
			added[id] = addedTok{content: t.Content, special: t.Special}
		}
	}
	size := len(v.Tokens)
	for id := range added {
		size = max(size, id+1)
	}
	size = max(size, cfg.vocabSize())
	for i := len(v.Tokens); i < size; i++ {
		v.Tokens = append(v.Tokens, fmt.Sprintf("[PAD%d]", i))
		v.Scores = append(v.Scores, -10000)
		v.Types = append(v.Types, TypeUnused)
	}
	ids := make([]int, 0, len(added))
	for id := range added {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	for _, id := range ids {
		a := added[id]
		if v.Tokens[id] == a.content && v.Types[id] != TypeNormal && v.Types[id] != TypeUnused {
			continue // already the piece SentencePiece defines
		}
		tok, typ := a.content, TypeControl
		if !a.special && !looksSpecial(tok) {
			tok, typ = strings.ReplaceAll(tok, "\u2581", " "), TypeUserDefined
		}
		v.Tokens[id], v.Types[id], v.Scores[id] = tok, typ, -1000
	}
	return v, nil
}

// ReadGPT2Files reads OpenAI's original GPT-2 tokenizer files in dir:
// encoder.json (token → id) and vocab.bpe (a "#version" line, then one
// merge "a b" per line, in rank order). The result is Model "gpt2", Pre
// "gpt-2", with "<|endoftext|>" (and any other token that looks special) a
// control token and BOS = EOS = its id, as in llama.cpp's
// ggml-vocab-gpt-2.gguf.
func ReadGPT2Files(dir string) (*Vocab, error) {
	encPath := filepath.Join(dir, "encoder.json")
	data, err := readFileLimit(encPath, MaxJSONSize)
	if err != nil {
		return nil, err
	}
	m, size, err := decodeVocabMap(encPath, data)
	if err != nil {
		return nil, err
	}
	v := NewVocab(ModelGPT2)
	v.Pre = PreGPT2
	v.Tokens = make([]string, size)
	v.Types = make([]TokenType, size)
	set := make([]bool, size)
	for tok, id := range m {
		if set[id] {
			return nil, &FormatError{File: encPath, Off: -1, Field: tok, Msg: fmt.Sprintf("id %d used twice", id)}
		}
		v.Tokens[id], v.Types[id], set[id] = tok, TypeNormal, true
		if looksSpecial(tok) {
			v.Types[id] = TypeControl
		}
	}
	for i := range v.Tokens {
		if !set[i] {
			v.Tokens[i], v.Types[i] = fmt.Sprintf("[PAD%d]", i), TypeUnused
		}
	}
	if id := v.TokenID("<|endoftext|>"); id >= 0 {
		v.BOS, v.EOS = id, id
	}
	bpePath := filepath.Join(dir, "vocab.bpe")
	data, err = readFileLimit(bpePath, MaxJSONSize)
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, len(data)+1)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimRight(sc.Text(), "\r")
		if line == 1 && strings.HasPrefix(s, "#") {
			continue
		}
		if s == "" {
			continue
		}
		a, b, ok := strings.Cut(s, " ")
		if !ok || a == "" || b == "" || strings.Contains(b, " ") {
			return nil, &FormatError{File: bpePath, Off: -1, Field: fmt.Sprintf("line %d", line), Msg: fmt.Sprintf("%q is not a merge \"a b\"", truncate(s, 80))}
		}
		v.Merges = append(v.Merges, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("tokenizer: reading %s: %w", bpePath, err)
	}
	if err := v.Validate(); err != nil {
		return nil, inFile(err, bpePath)
	}
	return v, nil
}
