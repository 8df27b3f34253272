"""The session's vocabulary: its state, the events it reacts to, the effects it asks for.

Events are past tense, effects imperative. ``cue_run_seconds`` and ``seconds_left``
follow from a state alone, so the view and the runner can ask them too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Union

from coach.content.model import Heard
from coach.session.dialog import PainReport, TriageResult
from coach.script.timeline import Timeline

Mode = Literal["running", "paused", "waiting", "ended"]

HELP_TEXT = ("You can say: next, back, repeat, pause, resume, slower, faster, "
             "time left, stop, or pain if something hurts.")
PAIN_TEXT = "Please stop and get into a comfortable position."
STOPPED_TEXT = "Stopped."
PAUSED_TEXT = "Paused."
IDLE_TEXT = "The session has ended after a long pause."
# Fixed things the session may say, so speech can be rendered before it starts.
SESSION_MESSAGES: tuple[str, ...] = (
    HELP_TEXT, PAIN_TEXT, STOPPED_TEXT, PAUSED_TEXT, IDLE_TEXT, "Slower.", "Faster.",
    "That is the slowest I go.", "That is the fastest I go.", "Less than a minute left.",
)
TEMPO_STEP = 1.25
TEMPO_MIN = 0.5
TEMPO_MAX = 2.0
DEFAULT_IDLE_TIMEOUT_SECONDS = 600.0
DEFAULT_RISE_STOPS_EXERCISE = 2       # rating points above the baseline (decision 9)
URGENT_COMMANDS = frozenset({"stop", "pain"})


@dataclass(frozen=True)
class State:
    index: int = 0
    mode: Mode = "running"
    cue_started_seconds: float = 0.0
    cue_offset_seconds: float = 0.0        # how far into the cue it was (re)started
    paused_seconds: float | None = None    # when the pause or wait began
    paused_offset_seconds: float = 0.0     # how far into the cue the pause came
    tempo_factor: float = 1.0
    ended_reason: str | None = None
    skip_exercise_ids: frozenset[str] = frozenset()
    triage_enabled: bool = False
    idle_timeout_seconds: float = DEFAULT_IDLE_TIMEOUT_SECONDS
    input_ended: bool = False
    baseline_rating: int | None = None     # the session's pain rating before it started
    rise_stops_exercise: int = DEFAULT_RISE_STOPS_EXERCISE


# ---- events (past tense) -------------------------------------------------------

@dataclass(frozen=True)
class Started:
    now: float


@dataclass(frozen=True)
class CueFinished:
    index: int
    now: float


@dataclass(frozen=True)
class CommandHeard:
    heard: Heard
    now: float


@dataclass(frozen=True)
class TimePassed:
    now: float


@dataclass(frozen=True)
class InputEnded:
    now: float


@dataclass(frozen=True)
class TriageFinished:
    result: TriageResult
    now: float


@dataclass(frozen=True)
class BaselineRated:
    """The answer to the question before the session (None: no usable answer)."""

    value: int | None
    now: float


Event = Union[Started, CueFinished, CommandHeard, TimePassed, InputEnded, TriageFinished, BaselineRated]


# ---- effects (imperative) ------------------------------------------------------

@dataclass(frozen=True)
class StartCue:
    index: int
    seconds: float                 # how long to run it (tempo applied, minus any offset)
    offset_seconds: float = 0.0    # > 0 when a paused pause continues
    reason: str = "next"           # next | jump | resume | repeat


@dataclass(frozen=True)
class CancelAudio:
    reason: str = ""


@dataclass(frozen=True)
class Say:
    text: str
    purpose: str = "message"


@dataclass(frozen=True)
class StartTriage:
    report: PainReport


@dataclass(frozen=True)
class End:
    reason: str


@dataclass(frozen=True)
class LogEvent:
    type: str
    fields: dict = field(default_factory=dict)


Effect = Union[StartCue, CancelAudio, Say, StartTriage, End, LogEvent]
Result = tuple[State, list[Effect]]


def cue_run_seconds(state: State, timeline: Timeline, index: int) -> float:
    """A cue's length in this session: counted reps follow the tempo factor."""
    cue = timeline.cues[index]
    if cue.kind == "count":
        return round(cue.seconds * state.tempo_factor, 3)
    return cue.seconds


def seconds_left(state: State, timeline: Timeline, now: float) -> float:
    """Time left in the routine from ``now`` (the current cue's remainder plus the rest)."""
    if state.mode == "ended" or state.index >= len(timeline.cues):
        return 0.0
    if state.mode == "running":
        elapsed = state.cue_offset_seconds + (now - state.cue_started_seconds)
    else:
        elapsed = state.paused_offset_seconds
    current = max(0.0, cue_run_seconds(state, timeline, state.index) - elapsed)
    later = sum(cue_run_seconds(state, timeline, i) for i in range(state.index + 1, len(timeline.cues))
                if timeline.cues[i].exercise_id not in state.skip_exercise_ids)
    return current + later
