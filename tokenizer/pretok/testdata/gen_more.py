"""Regenerates more_regex.json: random strings and the piece end offsets
(UTF-8 bytes) that Python's `regex` module gives for the Llama 3, Qwen2 and
GPT-4o (o200k_base) patterns.

    python3 gen_more.py > more_regex.json     (needs: pip install regex)
"""
import json
import random

import regex

PATTERNS = {
    "llama-bpe": r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""",
    "qwen2": r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""",
    "gpt-4o": r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+""",
}
# Characters whose classes are the same in every Unicode version since 10.
ALPHA = [" ", "  ", "\n", "\n\n", "\t", "\r", "\r\n", " \n", "\u00a0", "\u3000", "\u2028", "\u0085", "\u000b",
         "\u000c", "\u001c", "a", "Z", "é", "É", "ß", "日本", "5", "42", "1234", "½", "٣", "Ⅻ", "'", "'s", "'t",
         "'ll", "'re", "'ve", "'m", "'d", "'S", "'LL", "'Re", "'x", "!", ".", ",", "...", "/", "🦙",
         "😶\u200d🌫️", "\u0301", "\u0301\u0301", "ǅ", "ʰ", "ª", "-", "$", "_", "(", "\"", "Hello", " world",
         "WORLD", "HeLLo", "don't", "I'M", "ﬁ", "Ǆ", "x\u0301", "ÀB", "\u02b0a"]

random.seed(20260101)
out = {"regex_version": regex.__version__, "patterns": {}}
for name, pat in PATTERNS.items():
    PAT = regex.compile(pat)
    cases = []
    for _ in range(1500):
        s = "".join(random.choice(ALPHA) for _ in range(random.randint(0, 10)))
        ends, pos = [], 0
        for m in PAT.findall(s):
            pos += len(m.encode("utf-8"))
            ends.append(pos)
        assert pos == len(s.encode("utf-8")), (name, s)
        cases.append({"text": s, "ends": ends})
    out["patterns"][name] = {"pattern": pat, "cases": cases}
print(json.dumps(out, ensure_ascii=False))
