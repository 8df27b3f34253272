"""Speech recognition: the ports, what an engine hears in a segment, and the
command decided from it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from coach.content.model import Heard     # what a recognizer returns; plain data of the vocabulary


class Recognizer(Protocol):
    """Streaming recognizer for one context at a time."""

    name: str

    def set_context(self, context: str) -> None:
        """``session`` | ``yesno`` | ``number`` (see content/commands.yaml)."""
        ...

    def feed(self, pcm: bytes, start_seconds: float, urgent_only: bool = False) -> list[Heard]:
        """Consume 16 kHz int16 mono audio; return commands decided in it."""
        ...

    def reset(self) -> None: ...


@dataclass(frozen=True)
class Hypothesis:
    """What an engine heard in one segment. ``complete`` is False for a partial path;
    ``transcript`` holds the words when a phrase was read out of free speech."""

    text: str
    confidence: float
    complete: bool = True
    engine: str = ""
    transcript: str = ""


class SegmentEngine(Protocol):
    """Decides one endpointed speech segment (16 kHz int16) in a context.
    ``over_coach``: the segment overlaps the coach's own voice, where only a sure
    urgent word will count, so an engine may skip work that cannot produce one."""

    name: str

    def transcribe(self, pcm: bytes, context: str, urgent_only: bool = False,
                   over_coach: bool = False) -> Hypothesis | None: ...
