"""Large digits for the session screen's countdown, readable from the floor.

Each glyph is five rows of three cells; a cell is drawn two characters wide so
the digits come out roughly square in a terminal.
"""

from __future__ import annotations

GLYPHS: dict[str, tuple[str, ...]] = {
    "0": ("XXX", "X.X", "X.X", "X.X", "XXX"),
    "1": (".X.", "XX.", ".X.", ".X.", "XXX"),
    "2": ("XXX", "..X", "XXX", "X..", "XXX"),
    "3": ("XXX", "..X", ".XX", "..X", "XXX"),
    "4": ("X.X", "X.X", "XXX", "..X", "..X"),
    "5": ("XXX", "X..", "XXX", "..X", "XXX"),
    "6": ("XXX", "X..", "XXX", "X.X", "XXX"),
    "7": ("XXX", "..X", ".X.", ".X.", ".X."),
    "8": ("XXX", "X.X", "XXX", "X.X", "XXX"),
    "9": ("XXX", "X.X", "XXX", "..X", "XXX"),
    ":": (".", "X", ".", "X", "."),
    " ": ("..", "..", "..", "..", ".."),
}
ROWS = 5
FULL = "\u2588"     # full block


def big_lines(text: str) -> list[str]:
    """``text`` (digits, ':' and spaces) as five lines of block characters."""
    lines = ["" for _ in range(ROWS)]
    for index, char in enumerate(text):
        glyph = GLYPHS.get(char, GLYPHS[" "])
        for row in range(ROWS):
            gap = " " if index else ""
            lines[row] += gap + "".join(FULL * 2 if cell == "X" else "  " for cell in glyph[row])
    return lines


def countdown_text(seconds: float) -> str:
    """Whole seconds to go, rounded up (5, 4, 3 ... 1); m:ss from a minute on."""
    whole = max(0, int(-(-seconds // 1)))
    return f"{whole // 60}:{whole % 60:02d}" if whole >= 60 else str(whole)
