"""What the script engine produces and everything downstream consumes."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

CueKind = Literal["say", "pause", "count", "chime", "listen"]

WORDS_PER_MINUTE_ESTIMATE = 160


def estimate_speech_seconds(text: str, words_per_minute: int = WORDS_PER_MINUTE_ESTIMATE) -> float:
    """Rough spoken length until real rendered durations replace it."""
    words = max(1, len(text.split()))
    return round(0.3 + words * 60.0 / words_per_minute, 3)


@dataclass(frozen=True)
class Cue:
    """One step of a guided session.

    say/count: ``text`` is spoken, ``seconds`` is its spoken length.
    pause: silence for ``seconds`` (hold, rest, timed self-care).
    listen: wait up to ``seconds`` for the user ("say next when ready"), then go on.
    chime: a short tone.
    """

    kind: CueKind
    text: str
    seconds: float
    purpose: str = ""                 # intro, setup, step, hold, halfway, release, rest, count, tip, outro ...
    item_index: int | None = None     # index into the routine's items
    exercise_id: str | None = None
    exercise_name: str | None = None
    side: str | None = None           # "left" | "right" | None
    set_number: int | None = None
    set_count: int | None = None
    rep_number: int | None = None
    rep_count: int | None = None
    tempo_seconds: float | None = None   # count cues: the rep's length at the exercise's tempo

    def with_seconds(self, seconds: float) -> "Cue":
        return replace(self, seconds=seconds)


@dataclass(frozen=True)
class Timeline:
    routine_id: str
    routine_name: str
    cues: tuple[Cue, ...]

    @property
    def total_seconds(self) -> float:
        return sum(c.seconds for c in self.cues)

    def with_speech_seconds(self, seconds_by_text: dict[str, float]) -> "Timeline":
        """Replace estimated speech durations with measured ones (say and count cues).

        A count cue lasts one rep at the tempo, or longer when its number takes
        longer to say: max(tempo seconds, spoken seconds). A count cue that does not
        carry its tempo keeps at least its current length."""
        def measured(c: Cue) -> Cue:
            if c.kind not in ("say", "count") or c.text not in seconds_by_text:
                return c
            spoken = seconds_by_text[c.text]
            if c.kind == "count":
                floor = c.tempo_seconds if c.tempo_seconds is not None else c.seconds
                return c.with_seconds(max(floor, spoken))
            return c.with_seconds(spoken)

        return replace(self, cues=tuple(measured(c) for c in self.cues))
