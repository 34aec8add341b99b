"""Writes torture.txt (a tokenizer torture corpus) and torture_ids.json: its
ids under Llama 3's and Qwen3's tokenizer.json and OpenAI's cl100k_base and
o200k_base, computed here independently of lmc with Python's `regex` module
(the original split patterns) and a plain BPE.

    python3 gen_torture.py ../../../shared/tokenizers     (needs: pip install regex)

The corpus is NFC-normalized (Qwen's tokenizer.json applies NFC, llama.cpp
does not) and holds no added-token texts, so Hugging Face, tiktoken and
llama.cpp agree on it.
"""
import json
import sys
import unicodedata

import regex

TEXT = (
    "The quick brown fox jumps over the lazy dog. THE QUICK BROWN FOX! camelCaseWords and snake_case_words\n"
    "Contractions: don't, won't, I'm, you're, we've, they'll, he'd, it's; SHOUTING: DON'T, I'M, WE'VE, 'S 'T 'Re 'vE\n"
    "Quotes: 'single' \"double\" ‘curly’ “curly” «guillemets» — dashes – and … ellipsis; rock'n'roll o'clock\n"
    "Numbers: 0 1 12 123 1234 12345 123456 1234567 3.14159 -42 +7 1,234,567.89 1e10 0x1F 2024-01-02 12:30:45\n"
    "More numbers: ½ ¾ ² ³ Ⅻ ⅷ ٣٤٥ ०१२ ３４５ 一二三 ①②③\n"
    "Whitespace:  two  spaces,   three,    four,\ttab,\t\ttabs, \t mixed \t , trailing   \n"
    "   leading spaces\n\n\nthree newlines\n \n \n spaced newlines\u00a0nbsp\u3000ideographic\u2028line-sep\u2029para\n"
    "Windows line\r\nendings\r\n\r\nand a lone\rreturn\r\n  indented after CRLF\r\n\t\r\n"
    "Controls: \x0b vertical tab \x0c form feed \x1c file sep \x7f del\n"
    "Accents: café naïve résumé Ångström Zürich São Paulo Kraków Dvořák Ærøskøbing façade\n"
    "Greek: Καλημέρα κόσμε, ΑΒΓΔ αβγδ. Cyrillic: Съешь же ещё этих мягких французских булок, да выпей чаю. ПРИВЕТ\n"
    "Arabic: مرحبا بالعالم، كيف حالك؟ Hebrew: שלום עולם! Persian: سلام دنیا\n"
    "Devanagari: नमस्ते दुनिया, क्षत्रिय। Thai: สวัสดีชาวโลก Khmer: សួស្តីពិភពលោក Georgian: გამარჯობა\n"
    "Chinese: 我想在apple工作1314151天～你好，世界！这是一个测试。 Traditional: 繁體中文測試\n"
    "Japanese: こんにちは世界、カタカナとひらがな。ｶﾀｶﾅ半角 Korean: 안녕하세요 세계 한국어 테스트\n"
    "Emoji: 🦙 🚀 (normal) 😶‍🌫️ (zwj) 👨‍👩‍👧‍👦 family 👍🏽 skin 🇫🇷🇯🇵 flags ✅ ❤️ ☕ 🤖🤖🤖 🏳️‍🌈\n"
    "Combining: x\u0301 q\u0323\u0307 a\u20d7 Z\u0338\n"
    "Symbols: © ® ™ § ¶ † ‡ • ° ± × ÷ ≠ ≤ ≥ ∞ ∑ ∫ √ ∂ ∇ € £ ¥ ₹ ₿ $100 50% #hash @user &amp; ~tilde ^caret |pipe|\n"
    "Punctuation runs: !!! ??? ... ,,, ;;; ::: --- ___ === +++ *** /// \\\\ ((( ))) [[[ ]]] {{{ }}} <<< >>> ''' \"\"\" ```\n"
    "Code:\n"
    "func main() {\n"
    "\tfor i := 0; i < 10; i++ {\n"
    "\t\tfmt.Printf(\"%d: %s\\n\", i, strings.Repeat(\"ab\", i))\n"
    "\t}\n"
    "}\n"
    "def f(x: int) -> list[int]:\n"
    "    return [y ** 2 for y in range(x) if y % 3 == 0]  # comment\n"
    "        deeply    indented\n"
    "{\"key\": [1, 2.5, true, null], \"nested\": {\"a\": \"b\"}}\n"
    "<div class=\"x\"><p>Hello &nbsp; world</p></div> <!-- html comment -->\n"
    "SELECT * FROM t WHERE a >= 10 AND b != 'x';\n"
    "URL: https://example.com/path?q=1&r=two#frag user@example.org C:\\Windows\\System32\n"
    "Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
    "Digits: 00000000000000000000000000000000000000000000000000 31415926535897932384626433832795028841971693993751\n"
    "Base64: SGVsbG8sIFdvcmxkIQ==aGVsbG8gd29ybGQgdGhpcyBpcyBhIGxvbmcgYmFzZTY0IHN0cmluZyB3aXRob3V0IHNwYWNlcw==\n"
    "Mixed: ﬁnancial ﬂow ǅemal ʰaspirated ªordinal HeLLo WORLDwide iPhone eBay McDonald's O'Neill\n"
    "Edge:  ' era '' x' 'x ' ' \t' end'\n"
    "    \n"
    "last line without newline  "
)


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def merge_loop(parts, rank_of):
    """Merges the adjacent pair with the lowest rank, leftmost first."""
    while len(parts) > 1:
        best = None
        for i in range(len(parts) - 1):
            r = rank_of(parts[i], parts[i + 1])
            if r is not None and (best is None or r < best[0]):
                best = (r, i)
        if best is None:
            break
        i = best[1]
        parts[i:i + 2] = [parts[i] + parts[i + 1]]
    return parts


def hf_encoder(path):
    tj = json.load(open(path, encoding="utf-8"))
    model = tj["model"]
    vocab = model["vocab"]
    ranks = {}
    for i, m in enumerate(model["merges"]):
        a, b = m.split(" ", 1) if isinstance(m, str) else m
        ranks.setdefault((a, b), i)
    pre = tj["pre_tokenizer"]
    splits = [p for p in pre.get("pretokenizers", [pre]) if p["type"] == "Split"]
    pat = regex.compile(splits[0]["pattern"]["Regex"])
    nfc = (tj.get("normalizer") or {}).get("type") == "NFC"
    ignore = model.get("ignore_merges", False)
    b2u = bytes_to_unicode()

    def encode(text):
        if nfc:
            text = unicodedata.normalize("NFC", text)
        ids = []
        for piece in (m.group(0) for m in pat.finditer(text)):
            enc = "".join(b2u[b] for b in piece.encode("utf-8"))
            if ignore and enc in vocab:
                ids.append(vocab[enc])
                continue
            ids += [vocab[s] for s in merge_loop(list(enc), lambda a, b: ranks.get((a, b)))]
        return ids
    return encode


def tiktoken_encoder(ranks_path, meta_path):
    import base64
    ranks = {}
    for line in open(ranks_path, "rb"):
        if line.strip():
            tok, r = line.split()
            ranks[base64.b64decode(tok)] = int(r)
    pat = regex.compile(json.load(open(meta_path))["pat_str"])

    def encode(text):
        ids = []
        for piece in (m.group(0) for m in pat.finditer(text)):
            b = piece.encode("utf-8")
            if b in ranks:
                ids.append(ranks[b])
                continue
            parts = merge_loop([bytes([x]) for x in b], lambda a, c: ranks.get(a + c))
            ids += [ranks[p] for p in parts]
        return ids
    return encode


def main():
    root = sys.argv[1]
    assert unicodedata.is_normalized("NFC", TEXT)
    with open("torture.txt", "w", encoding="utf-8", newline="") as f:
        f.write(TEXT)
    encoders = {
        "llama3": hf_encoder(root + "/llama3/tokenizer.json"),
        "qwen3": hf_encoder(root + "/qwen3/tokenizer.json"),
        "cl100k_base": tiktoken_encoder(root + "/tiktoken/cl100k_base.tiktoken", root + "/tiktoken/cl100k_base.meta.json"),
        "o200k_base": tiktoken_encoder(root + "/tiktoken/o200k_base.tiktoken", root + "/tiktoken/o200k_base.meta.json"),
    }
    out = {"regex_version": regex.__version__, "ids": {k: enc(TEXT) for k, enc in encoders.items()}}
    with open("torture_ids.json", "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")


main()
