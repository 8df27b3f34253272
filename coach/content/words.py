"""How spoken text becomes words: one normalisation for the command parser, the
recognizer grammars and the pain rules, so all three see the same tokens."""

from __future__ import annotations

import re

_DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_WORD_RE = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def normalise(text: str) -> tuple[str, ...]:
    """Lower-case word tokens; digits become number words so "3" parses as three."""
    text = text.lower().replace("\u2019", "'").replace("-", " ")
    text = re.sub(r"\b(10|[0-9])\b", lambda m: " " + _DIGIT_WORDS[int(m.group(1))] + " ", text)
    return tuple(_WORD_RE.findall(text))
