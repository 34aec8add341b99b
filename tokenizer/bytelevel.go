package tokenizer

import "unicode/utf8"

// GPT-2's bytes-to-unicode alphabet: byte-level BPE vocabularies write every
// byte as one printable character. The printable bytes '!'..'~', '¡'..'¬'
// and '®'..'ÿ' stand for themselves; the other 68 bytes, in order, are
// U+0100, U+0101, ... (so ' ' is 'Ġ' U+0120 and '\n' is 'Ċ' U+010A).
var (
	byteToRune [256]rune
	runeToByte = map[rune]byte{}
)

func init() {
	n := 0
	for b := 0; b < 256; b++ {
		if ('!' <= b && b <= '~') || (0xA1 <= b && b <= 0xAC) || (0xAE <= b && b <= 0xFF) {
			byteToRune[b] = rune(b)
		} else {
			byteToRune[b] = rune(256 + n)
			n++
		}
		runeToByte[byteToRune[b]] = byte(b)
	}
}

// ByteLevelEncode writes the bytes of s in GPT-2's bytes-to-unicode
// alphabet (the form byte-level BPE vocabularies store tokens in).
func ByteLevelEncode(s string) string {
	out := make([]byte, 0, len(s)*2)
	for i := 0; i < len(s); i++ {
		out = utf8.AppendRune(out, byteToRune[s[i]])
	}
	return string(out)
}

// ByteLevelDecode maps a string in GPT-2's bytes-to-unicode alphabet back to
// the bytes it stands for. ok is false when s has a character outside the
// alphabet (or invalid UTF-8); the result then holds that character's own
// UTF-8 bytes in its place.
func ByteLevelDecode(s string) (b []byte, ok bool) {
	b = make([]byte, 0, len(s))
	ok = true
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if c, in := runeToByte[r]; in && !(r == utf8.RuneError && n == 1) {
			b = append(b, c)
		} else {
			ok = false
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return b, ok
}
