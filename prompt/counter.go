package prompt

import (
	"strings"
	"unicode/utf8"
)

// Counter counts tokens in one tokenizer. Budgets and reports are in its
// tokens. Implementations must be safe for concurrent use and
// deterministic.
type Counter interface {
	Count(text string) int
	Name() string
}

// CounterFunc adapts a tokenizer's encode function to a [Counter]: Count
// returns len(encode(text)).
func CounterFunc(name string, encode func(text string) []int) Counter {
	return &funcCounter{name: name, encode: encode}
}

type funcCounter struct {
	name   string
	encode func(string) []int
}

func (c *funcCounter) Count(text string) int {
	if text == "" {
		return 0
	}
	return len(c.encode(text))
}
func (c *funcCounter) Name() string { return c.name }

// Bytes counts UTF-8 bytes: a tokenizer-free stand-in where one is not
// needed (exact and additive).
var Bytes Counter = byteCounter{}

type byteCounter struct{}

func (byteCounter) Count(text string) int { return len(text) }
func (byteCounter) Name() string          { return "bytes" }

// Words counts whitespace-separated words.
var Words Counter = wordCounter{}

type wordCounter struct{}

func (wordCounter) Count(text string) int { return len(strings.Fields(text)) }
func (wordCounter) Name() string          { return "words" }

// Runes counts Unicode code points.
var Runes Counter = runeCounter{}

type runeCounter struct{}

func (runeCounter) Count(text string) int { return utf8.RuneCountInString(text) }
func (runeCounter) Name() string          { return "runes" }
