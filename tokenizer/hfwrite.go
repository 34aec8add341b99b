package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// WriteHFTokenizer writes v as a Hugging Face tokenizer in dir (created if
// needed), in the layout transformers loads:
//
//   - gpt2 models: tokenizer.json (a byte-level BPE: vocab in id order,
//     merges as "a b" strings, control and user-defined tokens as added
//     tokens, a TemplateProcessing post-processor when AddBOS/AddEOS),
//     tokenizer_config.json (PreTrainedTokenizerFast) and
//     special_tokens_map.json. The pre-tokenizer and normalizer are those of
//     the tokenizer.json v was read from, if any and v.Pre is unchanged;
//     else the Split regex lmc knows for v.Pre ("llama-bpe", "qwen2", the
//     latter with an NFC normalizer), else GPT-2's ByteLevel pre-tokenizer
//     (so a "default" Vocab from elsewhere reads back as "gpt-2").
//     tokenizer.json has no "unused" token type: unused tokens are written
//     as ordinary vocabulary entries and read back as normal tokens;
//   - llama models: tokenizer.model ([WriteSentencePiece]),
//     tokenizer_config.json (LlamaTokenizer) and special_tokens_map.json,
//     like a Llama 2 checkpoint.
//
// Existing files of those names are replaced; other files are left alone.
func WriteHFTokenizer(dir string, v *Vocab) error {
	if err := v.Validate(); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	files := map[string][]byte{}
	switch v.Model {
	case ModelGPT2:
		tj, err := marshalTokenizerJSON(v)
		if err != nil {
			return err
		}
		files["tokenizer.json"] = tj
	case ModelLlama:
		sp, err := MarshalSentencePiece(v)
		if err != nil {
			return err
		}
		files["tokenizer.model"] = sp
	}
	files["tokenizer_config.json"] = marshalTokenizerConfig(v)
	files["special_tokens_map.json"] = marshalSpecialTokensMap(v)
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(dir, name), files[name], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// jsonString encodes s as a JSON string without HTML escaping.
func jsonString(s string) string { return jsonValue(s) }

// jsonValue encodes x on one line without HTML escaping.
func jsonValue(x any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(x)
	return strings.TrimSuffix(b.String(), "\n")
}

// orderedJSON writes an object with keys in the given order.
type orderedJSON struct {
	b     bytes.Buffer
	first bool
	ind   string
}

func newObject(ind string) *orderedJSON {
	o := &orderedJSON{first: true, ind: ind}
	o.b.WriteString("{")
	return o
}

func (o *orderedJSON) field(key string, value any) {
	var raw string
	switch x := value.(type) {
	case string:
		raw = jsonString(x)
	case json.RawMessage:
		raw = string(x)
	default:
		raw = jsonValue(x)
	}
	if !o.first {
		o.b.WriteString(",")
	}
	o.first = false
	o.b.WriteString("\n" + o.ind + "  " + jsonString(key) + ": " + raw)
}

func (o *orderedJSON) close() json.RawMessage {
	o.b.WriteString("\n" + o.ind + "}")
	return json.RawMessage(o.b.Bytes())
}

func specialText(v *Vocab, id int) any {
	if id < 0 {
		return nil
	}
	return v.Tokens[id]
}

func isAddedType(t TokenType) bool {
	return t == TypeControl || t == TypeUserDefined || t == TypeUnknown
}

func marshalTokenizerJSON(v *Vocab) ([]byte, error) {
	seen := make(map[string]int, len(v.Tokens))
	for i, tok := range v.Tokens {
		if j, dup := seen[tok]; dup {
			return nil, vocabErr(fmt.Sprintf("tokens[%d]", i), "%q already used by id %d; tokenizer.json maps each text to one id", tok, j)
		}
		seen[tok] = i
	}
	type added struct {
		ID         int    `json:"id"`
		Content    string `json:"content"`
		SingleWord bool   `json:"single_word"`
		Lstrip     bool   `json:"lstrip"`
		Rstrip     bool   `json:"rstrip"`
		Normalized bool   `json:"normalized"`
		Special    bool   `json:"special"`
	}
	var addedTokens []added
	for i, t := range v.Types {
		if isAddedType(t) {
			addedTokens = append(addedTokens, added{ID: i, Content: v.Tokens[i], Normalized: t == TypeUserDefined, Special: t != TypeUserDefined})
		}
	}
	var ab bytes.Buffer
	ab.WriteString("[")
	for i, a := range addedTokens {
		if i > 0 {
			ab.WriteString(",")
		}
		ab.WriteString("\n    " + jsonValue(a))
	}
	if len(addedTokens) > 0 {
		ab.WriteString("\n  ")
	}
	ab.WriteString("]")
	var pre json.RawMessage
	normalizer := json.RawMessage("null")
	if v.Pre == PreQwen2 {
		normalizer = json.RawMessage(`{"type": "NFC"}`)
	}
	if src := v.hf; src != nil && src.pre == v.Pre && len(src.preTokenizer) > 0 {
		// The source's own pre-tokenizer and normalizer.
		pre = src.preTokenizer
		if len(src.normalizer) > 0 {
			normalizer = src.normalizer
		}
	} else if re, ok := regexByPre[v.Pre]; ok && v.Pre != PreGPT2 {
		p := newObject("  ")
		p.field("type", "Sequence")
		split := fmt.Sprintf(`{"type": "Split", "pattern": {"Regex": %s}, "behavior": "Isolated", "invert": false}`, jsonString(re))
		bl := `{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}`
		p.field("pretokenizers", json.RawMessage("[\n      "+split+",\n      "+bl+"\n    ]"))
		pre = p.close()
	} else {
		pre = json.RawMessage(`{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}`)
	}
	post := json.RawMessage(`{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true}`)
	if (v.AddBOS && v.BOS >= 0) || (v.AddEOS && v.EOS >= 0) {
		post = templateProcessing(v)
	}
	model := newObject("  ")
	model.field("type", "BPE")
	model.field("dropout", nil)
	model.field("unk_token", specialText(v, v.UNK))
	model.field("continuing_subword_prefix", nil)
	model.field("end_of_word_suffix", nil)
	model.field("fuse_unk", false)
	model.field("byte_fallback", false)
	model.field("ignore_merges", v.Pre == PreLlamaBPE)
	var vb bytes.Buffer
	vb.WriteString("{")
	for i, tok := range v.Tokens {
		if i > 0 {
			vb.WriteString(",")
		}
		vb.WriteString("\n      " + jsonString(tok) + ": " + strconv.Itoa(i))
	}
	vb.WriteString("\n    }")
	model.field("vocab", json.RawMessage(vb.Bytes()))
	var mb bytes.Buffer
	mb.WriteString("[")
	for i, m := range v.Merges {
		if i > 0 {
			mb.WriteString(",")
		}
		mb.WriteString("\n      " + jsonString(m))
	}
	if len(v.Merges) > 0 {
		mb.WriteString("\n    ")
	}
	mb.WriteString("]")
	model.field("merges", json.RawMessage(mb.Bytes()))

	top := newObject("")
	top.field("version", "1.0")
	top.field("truncation", nil)
	top.field("padding", nil)
	top.field("added_tokens", json.RawMessage(ab.Bytes()))
	top.field("normalizer", normalizer)
	top.field("pre_tokenizer", pre)
	top.field("post_processor", post)
	top.field("decoder", json.RawMessage(`{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true}`))
	top.field("model", model.close())
	out := top.close()
	return append(out, '\n'), nil
}

// templateProcessing builds a post-processor that adds BOS and/or EOS.
func templateProcessing(v *Vocab) json.RawMessage {
	type piece = map[string]any
	special := func(id int) piece {
		return piece{"SpecialToken": map[string]any{"id": v.Tokens[id], "type_id": 0}}
	}
	seq := func(id string, typeID int) piece {
		return piece{"Sequence": map[string]any{"id": id, "type_id": typeID}}
	}
	var single, pair []piece
	specials := map[string]any{}
	if v.AddBOS && v.BOS >= 0 {
		single = append(single, special(v.BOS))
		specials[v.Tokens[v.BOS]] = map[string]any{"id": v.Tokens[v.BOS], "ids": []int{v.BOS}, "tokens": []string{v.Tokens[v.BOS]}}
	}
	single = append(single, seq("A", 0))
	pair = append(pair, single...)
	if v.AddEOS && v.EOS >= 0 {
		single = append(single, special(v.EOS))
		pair = append(pair, special(v.EOS))
		specials[v.Tokens[v.EOS]] = map[string]any{"id": v.Tokens[v.EOS], "ids": []int{v.EOS}, "tokens": []string{v.Tokens[v.EOS]}}
	}
	if v.AddBOS && v.BOS >= 0 {
		pair = append(pair, piece{"SpecialToken": map[string]any{"id": v.Tokens[v.BOS], "type_id": 1}})
	}
	pair = append(pair, seq("B", 1))
	if v.AddEOS && v.EOS >= 0 {
		pair = append(pair, piece{"SpecialToken": map[string]any{"id": v.Tokens[v.EOS], "type_id": 1}})
	}
	o := newObject("  ")
	o.field("type", "TemplateProcessing")
	o.field("single", single)
	o.field("pair", pair)
	o.field("special_tokens", specials)
	return o.close()
}

func marshalTokenizerConfig(v *Vocab) []byte {
	o := newObject("")
	if v.Model == ModelLlama {
		o.field("tokenizer_class", "LlamaTokenizer")
	} else {
		o.field("tokenizer_class", "PreTrainedTokenizerFast")
	}
	if v.AddBOSSet || v.AddBOS {
		o.field("add_bos_token", v.AddBOS)
	}
	if v.AddEOSSet || v.AddEOS {
		o.field("add_eos_token", v.AddEOS)
	}
	o.field("bos_token", specialText(v, v.BOS))
	o.field("eos_token", specialText(v, v.EOS))
	o.field("unk_token", specialText(v, v.UNK))
	o.field("pad_token", specialText(v, v.PAD))
	if v.SEP >= 0 {
		o.field("sep_token", specialText(v, v.SEP))
	}
	if v.Model == ModelLlama {
		o.field("legacy", true)
		o.field("sp_model_kwargs", map[string]any{})
	}
	o.field("clean_up_tokenization_spaces", false)
	if v.ChatTemplate != "" {
		o.field("chat_template", v.ChatTemplate)
	}
	atd := newObject("  ")
	for i, t := range v.Types {
		if !isAddedType(t) {
			continue
		}
		e := newObject("    ")
		e.field("content", v.Tokens[i])
		e.field("lstrip", false)
		e.field("normalized", t == TypeUserDefined)
		e.field("rstrip", false)
		e.field("single_word", false)
		e.field("special", t != TypeUserDefined)
		atd.field(strconv.Itoa(i), e.close())
	}
	o.field("added_tokens_decoder", atd.close())
	return append(o.close(), '\n')
}

func marshalSpecialTokensMap(v *Vocab) []byte {
	o := newObject("")
	for _, s := range []struct {
		key string
		id  int
	}{{"bos_token", v.BOS}, {"eos_token", v.EOS}, {"unk_token", v.UNK}, {"pad_token", v.PAD}, {"sep_token", v.SEP}} {
		if s.id >= 0 {
			o.field(s.key, v.Tokens[s.id])
		}
	}
	return append(o.close(), '\n')
}
