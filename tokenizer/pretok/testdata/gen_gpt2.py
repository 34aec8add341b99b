"""Regenerates gpt2_regex.json: random strings and the piece end offsets
(UTF-8 bytes) that Python's `regex` module gives for GPT-2's pattern.

    python3 gen_gpt2.py > gpt2_regex.json     (needs: pip install regex)
"""
import json
import random

import regex

PAT = regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")
ALPHA = [" ", "  ", "\n", "\n\n", "\t", "\r", "\r\n", "\u00a0", "\u3000", "\u2028", "\u0085", "\u000b", "\u000c",
         "\u001c", "a", "Z", "é", "ß", "日本", "5", "42", "½", "٣", "Ⅻ", "'", "'s", "'t", "'ll", "'re", "'ve", "'m",
         "'d", "'S", "'x", "!", ".", ",", "...", "🦙", "😶\u200d🌫️", "\u0301", "ǅ", "-", "$", "_", "(", "\"", "Hello",
         " world", "don't", "I'm"]

random.seed(20250101)
cases = []
for _ in range(2000):
    s = "".join(random.choice(ALPHA) for _ in range(random.randint(0, 10)))
    ends, pos = [], 0
    for m in PAT.findall(s):
        pos += len(m.encode("utf-8"))
        ends.append(pos)
    cases.append({"text": s, "ends": ends})
print(json.dumps({"regex_version": regex.__version__, "pattern": PAT.pattern, "cases": cases}, ensure_ascii=False))
