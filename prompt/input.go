package prompt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Message is one chat message of an OpenAI chat "messages" list.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
	Name    string `json:"name,omitempty"`
}

// MaxMessages is the most messages [ParseMessages] accepts.
const MaxMessages = 100000

// ParseMessages reads an OpenAI chat request's messages: either a JSON
// array of {"role","content"} objects or an object with a "messages" array
// (a whole request body; other fields are ignored). Content may be a string
// or an array of {"type":"text","text":…} parts, which are joined with
// newlines. Roles must be system, developer, user, assistant or tool.
// Errors wrap [ErrMessages] and name the message at fault.
func ParseMessages(data []byte) ([]Message, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: empty input", ErrMessages)
	}
	var raw []json.RawMessage
	switch data[0] {
	case '[':
		if err := json.Unmarshal(data, &raw); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMessages, jsonErr(data, err))
		}
	case '{':
		var req struct {
			Messages *[]json.RawMessage `json:"messages"`
		}
		if err := json.Unmarshal(data, &req); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMessages, jsonErr(data, err))
		}
		if req.Messages == nil {
			return nil, fmt.Errorf("%w: object has no \"messages\" array", ErrMessages)
		}
		raw = *req.Messages
	default:
		return nil, fmt.Errorf("%w: want a JSON array of messages or an object with \"messages\", got %q", ErrMessages, truncate(string(data), 20))
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("%w: no messages", ErrMessages)
	}
	if len(raw) > MaxMessages {
		return nil, fmt.Errorf("%w: %d messages, at most %d", ErrMessages, len(raw), MaxMessages)
	}
	out := make([]Message, 0, len(raw))
	for i, r := range raw {
		var m struct {
			Role    *string         `json:"role"`
			Content json.RawMessage `json:"content"`
			Name    string          `json:"name"`
		}
		if err := json.Unmarshal(r, &m); err != nil {
			return nil, fmt.Errorf("%w: messages[%d]: %v", ErrMessages, i, err)
		}
		if m.Role == nil {
			return nil, fmt.Errorf("%w: messages[%d] has no \"role\"", ErrMessages, i)
		}
		switch *m.Role {
		case "system", "developer", "user", "assistant", "tool":
		default:
			return nil, fmt.Errorf("%w: messages[%d].role %q: want system, developer, user, assistant or tool", ErrMessages, i, *m.Role)
		}
		content, err := parseContent(m.Content)
		if err != nil {
			return nil, fmt.Errorf("%w: messages[%d].content: %v", ErrMessages, i, err)
		}
		out = append(out, Message{Role: *m.Role, Content: content, Name: m.Name})
	}
	return out, nil
}

func parseContent(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	switch raw[0] {
	case '"':
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	case '[':
		var parts []struct {
			Type string  `json:"type"`
			Text *string `json:"text"`
		}
		if err := json.Unmarshal(raw, &parts); err != nil {
			return "", err
		}
		var texts []string
		for j, p := range parts {
			if p.Type != "text" || p.Text == nil {
				return "", fmt.Errorf("part %d has type %q: only text parts are supported", j, p.Type)
			}
			texts = append(texts, *p.Text)
		}
		return strings.Join(texts, "\n"), nil
	}
	return "", fmt.Errorf("want a string or an array of text parts")
}

// jsonErr adds the line and column of a syntax error.
func jsonErr(data []byte, err error) error {
	if se, ok := err.(*json.SyntaxError); ok {
		line := 1 + bytes.Count(data[:se.Offset], []byte("\n"))
		col := int(se.Offset) - bytes.LastIndexByte(data[:se.Offset], '\n')
		return fmt.Errorf("line %d, column %d: %v", line, col, err)
	}
	return err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
