package bpetrain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/lmc-project/lmc/tokenizer/pretok"
)

// HFOptions controls [Tokenizer.MarshalHF].
type HFOptions struct {
	// BOS, if not empty, names a special token that the post-processor puts
	// before every sequence (Hugging Face TemplateProcessing), so that
	// PreTrainedTokenizerFast adds it as llama.cpp does with add_bos_token.
	BOS string
}

func jsonString(s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return bytes.TrimRight(buf.Bytes(), "\n")
}

// MarshalHF returns the tokenizer in Hugging Face tokenizers' tokenizer.json
// format: model BPE with the vocabulary in id order and the merges as
// "left right" strings, a ByteLevel pre-tokenizer with GPT-2's split, a
// ByteLevel decoder, and the special tokens as added_tokens. Only the GPT2
// pattern can be expressed this way.
func (t *Tokenizer) MarshalHF(opt HFOptions) ([]byte, error) {
	if t.pattern != pretok.GPT2 {
		return nil, fmt.Errorf("bpetrain: MarshalHF: pattern %v has no ByteLevel form", t.pattern)
	}
	var b bytes.Buffer
	b.WriteString("{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n  \"added_tokens\": [")
	for i, id := range t.specialIDs() {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "\n    {\"id\": %d, \"content\": %s, \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": true}", id, jsonString(t.tokens[id]))
	}
	b.WriteString("\n  ],\n  \"normalizer\": null,\n")
	b.WriteString("  \"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, \"use_regex\": true},\n")
	bl := `{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true}`
	if opt.BOS != "" {
		id, ok := t.ids[opt.BOS]
		if !ok || !t.special[id] {
			return nil, fmt.Errorf("bpetrain: MarshalHF: BOS %q is not a special token", opt.BOS)
		}
		q := jsonString(opt.BOS)
		fmt.Fprintf(&b, `  "post_processor": {"type": "Sequence", "processors": [%s, {"type": "TemplateProcessing", `+
			`"single": [{"SpecialToken": {"id": %s, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}], `+
			`"pair": [{"SpecialToken": {"id": %s, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": %s, "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}], `+
			`"special_tokens": {%s: {"id": %s, "ids": [%d], "tokens": [%s]}}}]},`+"\n", bl, q, q, q, q, q, id, q)
	} else {
		fmt.Fprintf(&b, "  \"post_processor\": %s,\n", bl)
	}
	b.WriteString("  \"decoder\": {\"type\": \"ByteLevel\", \"add_prefix_space\": true, \"trim_offsets\": true, \"use_regex\": true},\n")
	b.WriteString("  \"model\": {\n    \"type\": \"BPE\",\n    \"dropout\": null,\n    \"unk_token\": null,\n    \"continuing_subword_prefix\": \"\",\n    \"end_of_word_suffix\": \"\",\n    \"fuse_unk\": false,\n    \"byte_fallback\": false,\n    \"vocab\": {")
	first := true
	for id, tok := range t.tokens {
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.WriteString("\n      ")
		b.Write(jsonString(tok))
		b.WriteString(": ")
		b.WriteString(strconv.Itoa(id))
	}
	b.WriteString("\n    },\n    \"merges\": [")
	for i, m := range t.merges {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n      ")
		b.Write(jsonString(t.tokens[m[0]] + " " + t.tokens[m[1]]))
	}
	b.WriteString("\n    ]\n  }\n}\n")
	return b.Bytes(), nil
}

// ParseHF reads a tokenizer.json of the kind [Tokenizer.MarshalHF] writes:
// model "BPE" with no byte fallback, unknown token, prefix or suffix, and a
// ByteLevel pre-tokenizer with use_regex (GPT-2's split). Merges may be
// "left right" strings or [left, right] pairs. The added_tokens marked special
// become special tokens. Other tokenizer.json files return an error wrapping
// [ErrVocab].
func ParseHF(data []byte) (*Tokenizer, error) {
	var tj struct {
		AddedTokens []struct {
			ID      int    `json:"id"`
			Content string `json:"content"`
			Special bool   `json:"special"`
		} `json:"added_tokens"`
		PreTokenizer *struct {
			Type     string `json:"type"`
			UseRegex bool   `json:"use_regex"`
		} `json:"pre_tokenizer"`
		Model struct {
			Type                    string            `json:"type"`
			Vocab                   map[string]int    `json:"vocab"`
			Merges                  []json.RawMessage `json:"merges"`
			ByteFallback            bool              `json:"byte_fallback"`
			UnkToken                *string           `json:"unk_token"`
			ContinuingSubwordPrefix *string           `json:"continuing_subword_prefix"`
			EndOfWordSuffix         *string           `json:"end_of_word_suffix"`
		} `json:"model"`
	}
	if err := json.Unmarshal(data, &tj); err != nil {
		return nil, fmt.Errorf("%w: tokenizer.json: %v", ErrVocab, err)
	}
	m := tj.Model
	switch {
	case m.Type != "BPE":
		return nil, fmt.Errorf("%w: tokenizer.json: model.type %q, want BPE", ErrVocab, m.Type)
	case m.ByteFallback || (m.UnkToken != nil && *m.UnkToken != ""):
		return nil, fmt.Errorf("%w: tokenizer.json: byte_fallback/unk_token not supported", ErrVocab)
	case (m.ContinuingSubwordPrefix != nil && *m.ContinuingSubwordPrefix != "") || (m.EndOfWordSuffix != nil && *m.EndOfWordSuffix != ""):
		return nil, fmt.Errorf("%w: tokenizer.json: subword prefix/suffix not supported", ErrVocab)
	case tj.PreTokenizer == nil || tj.PreTokenizer.Type != "ByteLevel" || !tj.PreTokenizer.UseRegex:
		return nil, fmt.Errorf("%w: tokenizer.json: pre_tokenizer is not ByteLevel with use_regex", ErrVocab)
	}
	n := len(m.Vocab)
	for _, a := range tj.AddedTokens {
		if _, ok := m.Vocab[a.Content]; !ok {
			n++
		}
	}
	if n > MaxVocab {
		return nil, fmt.Errorf("%w: tokenizer.json: %d tokens > %d", ErrVocab, n, MaxVocab)
	}
	vocab := make([]string, n)
	set := make([]bool, n)
	put := func(tok string, id int) error {
		if id < 0 || id >= n {
			return fmt.Errorf("%w: tokenizer.json: token %q id %d out of range [0,%d)", ErrVocab, tok, id, n)
		}
		if set[id] && vocab[id] != tok {
			return fmt.Errorf("%w: tokenizer.json: id %d used by %q and %q", ErrVocab, id, vocab[id], tok)
		}
		vocab[id], set[id] = tok, true
		return nil
	}
	for tok, id := range m.Vocab {
		if err := put(tok, id); err != nil {
			return nil, err
		}
	}
	var specials []string
	for _, a := range tj.AddedTokens {
		if err := put(a.Content, a.ID); err != nil {
			return nil, err
		}
		if a.Special {
			specials = append(specials, a.Content)
		}
	}
	for id, ok := range set {
		if !ok {
			return nil, fmt.Errorf("%w: tokenizer.json: no token has id %d", ErrVocab, id)
		}
	}
	merges := make([][2]string, len(m.Merges))
	for i, raw := range m.Merges {
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			a, b, ok := strings.Cut(s, " ")
			if !ok {
				return nil, fmt.Errorf("%w: tokenizer.json: merge %d %q has no space", ErrVocab, i, s)
			}
			merges[i] = [2]string{a, b}
			continue
		}
		var pair []string
		if err := json.Unmarshal(raw, &pair); err != nil || len(pair) != 2 {
			return nil, fmt.Errorf("%w: tokenizer.json: merge %d is neither \"a b\" nor [a, b]", ErrVocab, i)
		}
		merges[i] = [2]string{pair[0], pair[1]}
	}
	return New(pretok.GPT2, vocab, merges, specials)
}
