"""JSON read with the line of every value, so a bad field can be named by line.

``parse_with_lines(text)`` returns the value and a map from each value's path (a tuple
of keys and list indexes) to the 1-based line its value starts on. Syntax errors raise
``json.JSONDecodeError`` (which has ``lineno``) before any position is read.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from typing import Any

Path = tuple[str | int, ...]
_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def parse_with_lines(text: str) -> tuple[Any, dict[Path, int]]:
    value = json.loads(text)                # syntax first: JSONDecodeError with its line
    newlines = [i for i, ch in enumerate(text) if ch == "\n"]
    lines: dict[Path, int] = {}
    _Scanner(text, newlines, lines).value(_SPACE.match(text, 0).end(), ())
    return value, lines


def path_text(path: Path) -> str:
    """``("sessions", 3, "dose")`` -> ``sessions[3].dose``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class _Scanner:
    def __init__(self, text: str, newlines: list[int], lines: dict[Path, int]) -> None:
        self.text, self.newlines, self.lines = text, newlines, lines

    def _skip(self, i: int) -> int:
        return _SPACE.match(self.text, i).end()

    def value(self, i: int, path: Path) -> int:
        """Record the line of the value at ``i``; return the index after it."""
        self.lines[path] = bisect_right(self.newlines, i - 1) + 1
        ch = self.text[i]
        if ch == "{":
            return self._items(i + 1, path, "}", keyed=True)
        if ch == "[":
            return self._items(i + 1, path, "]", keyed=False)
        _value, end = _DECODER.raw_decode(self.text, i)
        return end

    def _items(self, i: int, path: Path, close: str, keyed: bool) -> int:
        i, n = self._skip(i), 0
        if self.text[i] == close:
            return i + 1
        while True:
            if keyed:
                key, i = _DECODER.raw_decode(self.text, i)
                i = self._skip(self._skip(i) + 1)          # past the colon
                i = self.value(i, (*path, key))
            else:
                i = self.value(i, (*path, n))
                n += 1
            i = self._skip(i)
            if self.text[i] == close:
                return i + 1
            i = self._skip(i + 1)                          # past the comma
