"""Speech synthesis port."""

from __future__ import annotations

from typing import Protocol


class Synthesizer(Protocol):
    """Renders text to int16 mono PCM at ``rate_hz``; never plays it."""

    engine: str     # "pyttsx3", "piper", ...
    voice: str
    rate_wpm: int
    rate_hz: int

    def synthesize(self, text: str) -> bytes: ...
