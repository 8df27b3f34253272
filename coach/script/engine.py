"""Script engine: a routine becomes a timeline of spoken cues and timed pauses (pure).

Layout of one exercise item: its name, setup lines, cautions and notes (spoken once),
a ``listen`` cue (the user gets into position and may say "next"), breathing (once),
then for each side (left, then right, when ``sides`` is "one") and each set: the
reps. A rep with a hold is: steps (or "Again."), the hold (its spoken cues fall
inside the hold, so the hold lasts exactly ``hold_seconds``), "And release." and a
short pause. Reps without a hold are counted aloud at the tempo. A timed item
(cold, heat, rolling a spot) is one long hold with a cue every minute or so.

Which structure an item gets: an item override of ``duration_seconds`` makes it
timed; overrides of ``reps``/``hold_seconds`` make it rep-based; otherwise an
exercise with reps or a hold is rep-based and one with only a duration is timed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from coach.content.model import Exercise, Library, Range, Routine, RoutineItem
from coach.script.groups import (  # noqa: F401  (part of this module's interface)
    PER_REP_PHASES, PHASE_BY_PURPOSE, SPOKEN_PHASES, group_key, group_rest_seconds, item_starts, phase_of,
)
from coach.script.timeline import Cue, Timeline, estimate_speech_seconds

Dose = str  # "low" | "mid" | "high"
DOSES: tuple[str, ...] = ("low", "mid", "high")
SpeechSeconds = Callable[[str], float]

LISTEN_TEXT = "Say next when you're in position."
LISTEN_SECONDS = 8.0
RELEASE_PAUSE_SECONDS = 2.0
DEFAULT_TEMPO_SECONDS = 3.0
MIN_PAUSE_SECONDS = 0.5       # a spoken cue inside a hold is dropped rather than squeeze a pause below this
HALFWAY_MIN_HOLD_SECONDS = 20
FIVE_MORE_MIN_HOLD_SECONDS = 15

NUMBER_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen twenty"
).split()
TENS_WORDS = {20: "twenty", 30: "thirty", 40: "forty", 50: "fifty"}

def number_words(n: int) -> str:
    """1..99 as words, the way a coach counts ("Twenty one")."""
    if n < len(NUMBER_WORDS):
        return NUMBER_WORDS[n]
    tens, ones = divmod(n, 10)
    word = TENS_WORDS.get(tens * 10, str(tens * 10))
    return word if ones == 0 else f"{word} {NUMBER_WORDS[ones]}"


def spoken_duration(seconds: float) -> str:
    """'20 seconds', '1 minute', '10 minutes', '90 seconds'."""
    whole = int(round(seconds))
    if whole >= 120 and whole % 60 == 0:
        return f"{whole // 60} minutes"
    if whole == 60:
        return "1 minute"
    return "1 second" if whole == 1 else f"{whole} seconds"


@dataclass(frozen=True)
class Dosage:
    """The numbers one item is run with, after overrides and dose picking."""

    timed: bool
    sets: int
    reps: int
    hold_seconds: float | None
    rest_seconds: float
    tempo_seconds: float
    duration_seconds: float | None


def _pick(value: float | None, dose_range: Range | None, dose: Dose) -> float | None:
    if value is not None:
        return float(value)
    if dose_range is None:
        return None
    return float(dose_range.pick(dose))


def dosage(exercise: Exercise, item: RoutineItem, dose: Dose = "low") -> Dosage:
    """Override wins, else the dose picked from the article's range (low by default)."""
    if dose not in DOSES:
        raise ValueError(f"dose must be one of {', '.join(DOSES)}, got {dose!r}")
    hold = _pick(item.hold_seconds, exercise.hold_seconds, dose)
    reps = _pick(item.reps, exercise.reps, dose)
    duration = _pick(item.duration_seconds, exercise.duration_seconds, dose)
    if item.duration_seconds is not None:
        timed = True
    elif item.reps is not None or item.hold_seconds is not None:
        timed = False
    else:
        timed = reps is None and hold is None and duration is not None
    sets = _pick(item.sets, exercise.sets, dose)
    rest = _pick(item.rest_seconds, exercise.rest_seconds, dose)
    return Dosage(
        timed=timed,
        sets=max(1, int(round(sets or 1))),
        reps=max(1, int(round(reps or 1))),
        hold_seconds=None if hold is None else float(round(hold)),
        rest_seconds=float(round(rest or 0)),
        tempo_seconds=float(exercise.tempo_seconds or DEFAULT_TEMPO_SECONDS),
        duration_seconds=None if duration is None else float(round(duration)),
    )


class _Builder:
    """Collects cues for one timeline; knows the current item context."""

    def __init__(self, speech_seconds: SpeechSeconds) -> None:
        self.cues: list[Cue] = []
        self.speech_seconds = speech_seconds
        self.context: dict = {}

    def say(self, text: str, purpose: str, **extra) -> None:
        seconds = round(float(self.speech_seconds(text)), 3)
        self.cues.append(Cue("say", text, seconds, purpose, **{**self.context, **extra}))

    def pause(self, seconds: float, purpose: str, **extra) -> None:
        seconds = round(float(seconds), 3)
        if seconds > 0:
            self.cues.append(Cue("pause", "", seconds, purpose, **{**self.context, **extra}))

    def add(self, kind: str, text: str, seconds: float, purpose: str, **extra) -> None:
        self.cues.append(Cue(kind, text, round(float(seconds), 3), purpose, **{**self.context, **extra}))


def _span(b: _Builder, total_seconds: float, spoken: list[tuple[float, str, str, int]], pause_purpose: str, **extra) -> None:
    """Fill exactly ``total_seconds`` with say cues at given offsets and pauses between.

    ``spoken`` holds (start offset, text, purpose, priority). While a cue would
    overlap the one before or squeeze a pause below MIN_PAUSE_SECONDS, the cue of
    lowest priority is dropped, so the span keeps its exact length.
    """
    kept = sorted(spoken)
    while kept and not _fits(b, total_seconds, kept):
        kept.remove(min(kept, key=lambda s: s[3]))
    t = 0.0
    for start, text, purpose, _ in kept:
        b.pause(start - t, pause_purpose, **extra)
        b.say(text, purpose, **extra)
        t = start + round(b.speech_seconds(text), 3)
    b.pause(total_seconds - t, pause_purpose, **extra)


def _fits(b: _Builder, total_seconds: float, kept: list[tuple[float, str, str, int]]) -> bool:
    t = 0.0
    for start, text, _, _ in kept:
        gap = start - t
        if gap < 0 or 0 < gap < MIN_PAUSE_SECONDS:
            return False
        t = start + round(b.speech_seconds(text), 3)
    return total_seconds - t >= MIN_PAUSE_SECONDS


def _hold(b: _Builder, hold_seconds: float, **extra) -> None:
    """Spoken cues fall inside the hold so that it lasts exactly ``hold_seconds``."""
    start_text = "Hold." if hold_seconds < 10 else f"Hold for {spoken_duration(hold_seconds)}."
    spoken = [(0.0, start_text, "hold-start", 1)]
    if hold_seconds >= HALFWAY_MIN_HOLD_SECONDS:
        spoken.append((hold_seconds / 2, "Halfway.", "halfway", 2))
    if hold_seconds >= FIVE_MORE_MIN_HOLD_SECONDS:
        text = "Five more seconds."
        spoken.append((hold_seconds - 5 - b.speech_seconds(text), text, "five-more", 3))
    _span(b, hold_seconds, spoken, "hold", **extra)


def _timed(b: _Builder, duration_seconds: float, **extra) -> None:
    """A timed item: 'N minutes left.' each minute (each 5 minutes past 20 minutes)."""
    spoken = [(0.0, f"Starting now, for {spoken_duration(duration_seconds)}.", "timed-start", 1)]
    if duration_seconds < 120:
        if duration_seconds >= FIVE_MORE_MIN_HOLD_SECONDS:
            text = "Five more seconds."
            spoken.append((duration_seconds - 5 - b.speech_seconds(text), text, "time-left", 2))
    else:
        step = 60 if duration_seconds <= 1200 else 300
        remaining = int(duration_seconds // step) * step
        if remaining >= duration_seconds:
            remaining -= step
        while remaining > 0:
            spoken.append((duration_seconds - remaining, f"{spoken_duration(remaining)} left.", "time-left", 2))
            remaining -= step
    _span(b, duration_seconds, spoken, "timed", **extra)
    b.say("Time is up.", "timed-end", **extra)


def _hold_rep(b: _Builder, ex: Exercise, d: Dosage, rep: int, **ctx) -> None:
    ctx = {**ctx, "rep_number": rep, "rep_count": d.reps}
    if rep == 1:
        for line in ex.steps:
            b.say(line, "step", **ctx)
    else:
        b.say("Last one." if rep == d.reps else "Again.", "step", **ctx)
    _hold(b, d.hold_seconds or 0, **ctx)
    b.say("And release.", "release", **ctx)
    b.pause(RELEASE_PAUSE_SECONDS, "release-pause", **ctx)


def _set(b: _Builder, ex: Exercise, d: Dosage, **ctx) -> None:
    if d.hold_seconds:
        for rep in range(1, d.reps + 1):
            _hold_rep(b, ex, d, rep, **ctx)
    else:
        for line in ex.steps:
            b.say(line, "step", **ctx)
        for rep in range(1, d.reps + 1):
            text = number_words(rep).capitalize() + "."
            seconds = max(d.tempo_seconds, b.speech_seconds(text))
            b.add("count", text, seconds, "count", rep_number=rep, rep_count=d.reps,
                  tempo_seconds=d.tempo_seconds, **ctx)


def _exercise_item(b: _Builder, ex: Exercise, d: Dosage, first: bool) -> None:
    b.say(f"{'First' if first else 'Next'}: {ex.name}.", "name")
    for line in ex.setup:
        b.say(line, "setup")
    for line in ex.cautions:
        b.say(line, "caution")
    for line in ex.notes:
        b.say(line, "note")
    b.add("listen", LISTEN_TEXT, LISTEN_SECONDS, "listen")
    if d.timed:
        for line in ex.steps:
            b.say(line, "step")
    for line in ex.breathing:
        b.say(line, "breathing")
    if ex.alternate_sides and ex.sides == "one" and d.hold_seconds and not d.timed:
        _alternating(b, ex, d)
        return
    sides: tuple[str | None, ...] = ("left", "right") if ex.sides == "one" else (None,)
    for side in sides:
        if side:
            b.say(f"Now the {side} side.", "side", side=side)
        for set_number in range(1, d.sets + 1):
            ctx = {"side": side, "set_number": set_number, "set_count": d.sets}
            if d.sets > 1:
                b.say(f"Set {set_number} of {d.sets}.", "set", **ctx)
            if d.timed:
                _timed(b, d.duration_seconds or 0, **ctx)
            else:
                _set(b, ex, d, **ctx)
            if set_number < d.sets and d.rest_seconds > 0:
                b.say("Rest.", "rest-say", **ctx)
                b.pause(d.rest_seconds, "rest", **ctx)


def _alternating(b: _Builder, ex: Exercise, d: Dosage) -> None:
    """Seed A's "alternate sides": each rep is held on the left, then on the right."""
    for set_number in range(1, d.sets + 1):
        ctx = {"set_number": set_number, "set_count": d.sets}
        if d.sets > 1:
            b.say(f"Set {set_number} of {d.sets}.", "set", **ctx)
        for rep in range(1, d.reps + 1):
            for side in ("left", "right"):
                b.say(f"Now the {side} side.", "side", side=side, **ctx)
                _hold_rep(b, ex, d, rep, side=side, **ctx)
        if set_number < d.sets and d.rest_seconds > 0:
            b.say("Rest.", "rest-say", **ctx)
            b.pause(d.rest_seconds, "rest", **ctx)


def build_timeline(
    routine: Routine,
    library: Library,
    dose: Dose = "low",
    speech_seconds: SpeechSeconds | None = None,
) -> Timeline:
    """Expand a routine into cues. ``speech_seconds`` gives spoken lengths (measured
    ones once speech is rendered, so holds keep their exact length); default: estimate."""
    b = _Builder(speech_seconds or estimate_speech_seconds)
    for line in routine.intro:
        b.say(line, "intro")
    for index, item in enumerate(routine.items):
        if item.exercise_id is not None:
            ex = library.exercises[item.exercise_id]
            b.context = {"item_index": index, "exercise_id": ex.id, "exercise_name": ex.name}
            _exercise_item(b, ex, dosage(ex, item, dose), first=index == 0)
        else:
            tip = library.tips[item.tip_id or ""]
            b.context = {"item_index": index, "exercise_id": None, "exercise_name": tip.name}
            b.say(f"A tip: {tip.name}.", "tip-name")
            for line in tip.text:
                b.say(line, "tip")
        if index < len(routine.items) - 1 and routine.rest_between_seconds > 0:
            b.say(f"Rest for {spoken_duration(routine.rest_between_seconds)}.", "rest-between-say")
            b.pause(routine.rest_between_seconds, "rest-between")
        b.context = {}
    for line in routine.outro:
        b.say(line, "outro")
    return Timeline(routine.id, routine.name, tuple(b.cues))


def with_rounded_seconds(timeline: Timeline) -> Timeline:
    """Every cue's seconds rounded to milliseconds (what JSON output shows)."""
    return replace(timeline, cues=tuple(c.with_seconds(round(c.seconds, 3)) for c in timeline.cues))
