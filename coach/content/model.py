"""Plain data shared by content, script engine, session and adapters.

Ranges from the articles ("20 to 30 seconds") stay ranges here; the script engine
picks a dose from them (lower end by default).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Sides = Literal["one", "both", "none"]
Kind = Literal["exercise", "self-care"]
POSITIONS: tuple[str, ...] = (
    "lying_on_back",
    "lying_on_side",
    "lying_on_front",
    "all_fours",
    "kneeling",
    "seated",
    "standing",
)


@dataclass(frozen=True)
class Range:
    """An inclusive range from the articles; a single number has low == high."""

    low: float
    high: float

    def pick(self, dose: str = "low") -> float:
        if dose == "high":
            return self.high
        if dose == "mid":
            return (self.low + self.high) / 2
        return self.low


@dataclass(frozen=True)
class SourceRef:
    """Where in the seed articles a piece of content comes from."""

    file: str
    section: str


@dataclass(frozen=True)
class Exercise:
    id: str
    name: str
    kind: Kind
    sources: tuple[SourceRef, ...]
    position: str
    equipment: tuple[str, ...]
    sides: Sides
    hold_seconds: Range | None
    reps: Range | None
    sets: Range | None
    rest_seconds: Range | None
    tempo_seconds: float | None         # seconds per counted rep when there is no hold
    duration_seconds: Range | None      # timed self-care (cold, heat) or timed drills
    setup: tuple[str, ...]
    steps: tuple[str, ...]
    breathing: tuple[str, ...]
    cautions: tuple[str, ...]
    notes: tuple[str, ...] = ()         # spoken and printed information only
    where: str = ""                     # "file:line" for messages
    alternate_sides: bool = False       # one rep each side in turn (left, right, left ...)


@dataclass(frozen=True)
class Tip:
    id: str
    name: str
    sources: tuple[SourceRef, ...]
    text: tuple[str, ...]
    where: str = ""


@dataclass(frozen=True)
class RoutineItem:
    """One step of a routine: an exercise (with optional dose overrides) or a tip."""

    exercise_id: str | None = None
    tip_id: str | None = None
    hold_seconds: float | None = None
    reps: int | None = None
    sets: int | None = None
    rest_seconds: float | None = None
    duration_seconds: float | None = None
    where: str = ""


@dataclass(frozen=True)
class Routine:
    id: str
    name: str
    description: str
    intro: tuple[str, ...]
    outro: tuple[str, ...]
    rest_between_seconds: float
    items: tuple[RoutineItem, ...]
    where: str = ""


@dataclass(frozen=True)
class Library:
    """Everything loaded from a content folder."""

    exercises: dict[str, Exercise] = field(default_factory=dict)
    tips: dict[str, Tip] = field(default_factory=dict)
    routines: dict[str, Routine] = field(default_factory=dict)


@dataclass(frozen=True)
class Heard:
    """A command decided from audio (or a key).

    ``command`` is a name from content/commands.yaml (``next``, ``stop``, ``pain``,
    ``yes``, ``number`` ...); ``value`` is 0-10 for numbers. Times are session
    seconds of audio consumed, never wall time.
    """

    command: str
    value: int | None = None
    text: str = ""
    confidence: float = 1.0
    audio_start_seconds: float | None = None
    audio_end_seconds: float | None = None
    decided_seconds: float | None = None
    source: str = "voice"       # "voice" | "keyboard" | "text"
