"""Make cue text read naturally by any engine.

espeak-ng and Piper already read digits well ("20 seconds" → "twenty seconds",
"Set 2 of 3", "3, 2, 1"); what they read badly is shorthand: "10-15" comes
out as "ten dash fifteen", "30s" as "thirty z", "2x" as "two ex", "1/10" as
"one slash ten". These rewrites fix that and leave everything else alone.
"""

from __future__ import annotations

import re

_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(\d+)\s*[-–]\s*(\d+)"), r"\1 to \2"),                     # 10-15 → 10 to 15
    (re.compile(r"\b(\d+)\s*(?:s|sec|secs)\b"), r"\1 seconds"),              # 30s → 30 seconds
    (re.compile(r"\b(\d+)\s*(?:min|mins)\b"), r"\1 minutes"),               # 5 min → 5 minutes
    (re.compile(r"\b(\d+)\s*[x×]\b"), r"\1 times"),                          # 2x → 2 times
    (re.compile(r"\b(\d+)\s*/\s*(\d+)\b"), r"\1 of \2"),                     # 1/10 → 1 of 10
    (re.compile(r"(\d+)\s*°"), r"\1 degrees"),
    (re.compile(r"\s+"), " "),
)


def speakable(text: str) -> str:
    """Rewrite numeric shorthand into words an engine reads correctly."""
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text.strip()


def countdown(count: int) -> str:
    """ "3, 2, 1." — commas give the engine a beat between numbers."""
    return ", ".join(str(n) for n in range(count, 0, -1)) + "."
