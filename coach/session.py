"""Session policy (pure): transition(state, event, timeline) -> (state, effects).

Time only enters as numbers carried by events. The runner performs the effects.

Commands, as decided here:
- ``next``: skip to the first cue of the next group (see ``coach.script.group_key``):
  at a listen cue it goes on, in a hold it goes to the release, while counting it
  ends the set, in a rest it ends the rest, during spoken instructions it skips them.
- ``back``: to the start of the current item; if already in its opening
  instructions, to the start of the item before.
- ``repeat``: spoken instructions (intro, setup, steps, tip, outro, a listen cue)
  are replayed from the start of their group; during a hold, count, rest or timed
  item the last spoken line is said again and the timing is not changed.
- ``pause`` cancels audio and waits; ``pause`` again or ``resume`` goes on (a
  spoken cue is said again, a pause continues with the time it had left).
- ``stop`` and ``pain`` are urgent: ``CancelAudio`` is always their first effect.
- ``slower``/``faster`` scale counted reps from the next count on (0.5x to 2x).
- A session paused (or waiting for triage) for ``idle_timeout_seconds`` ends
  with reason ``idle-timeout``; input that ends while paused ends it too.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal, Union

from coach.asr import Heard
from coach.dialog import PainReport, TriageResult
from coach.script import SPOKEN_PHASES, group_key, item_starts, phase_of
from coach.timeline import Timeline

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


Event = Union[Started, CueFinished, CommandHeard, TimePassed, InputEnded, TriageFinished]


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


def initial_state(triage_enabled: bool = False,
                  idle_timeout_seconds: float = DEFAULT_IDLE_TIMEOUT_SECONDS) -> State:
    return State(triage_enabled=triage_enabled, idle_timeout_seconds=idle_timeout_seconds)


def transition(state: State, event: Event, timeline: Timeline) -> Result:
    if state.mode == "ended":
        return state, []
    if isinstance(event, Started):
        return _start(state, _skip_forward(state, timeline, 0), event.now, timeline, "next")
    if isinstance(event, CueFinished):
        if state.mode != "running" or event.index != state.index:
            return state, []
        return _start(state, _skip_forward(state, timeline, state.index + 1), event.now, timeline, "next")
    if isinstance(event, TimePassed):
        return _idle_check(state, event.now)
    if isinstance(event, InputEnded):
        state = replace(state, input_ended=True)
        if state.mode == "paused":
            return _end(state, "input-ended", [])
        return state, []
    if isinstance(event, TriageFinished):
        return _after_triage(state, event.result, event.now, timeline)
    if isinstance(event, CommandHeard):
        return _command(state, event.heard, event.now, timeline)
    raise TypeError(f"unknown event {event!r}")


# ---- helpers -------------------------------------------------------------------

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


def _skip_forward(state: State, timeline: Timeline, index: int) -> int:
    while index < len(timeline.cues) and timeline.cues[index].exercise_id in state.skip_exercise_ids:
        index += 1
    return index


def _start(state: State, index: int, now: float, timeline: Timeline, reason: str,
           offset_seconds: float = 0.0, pre: list | None = None) -> Result:
    effects: list[Effect] = list(pre or [])
    if index >= len(timeline.cues):
        return _end(state, "completed", effects)
    seconds = max(0.0, round(cue_run_seconds(state, timeline, index) - offset_seconds, 3))
    state = replace(state, index=index, mode="running", cue_started_seconds=now,
                    cue_offset_seconds=offset_seconds, paused_seconds=None, paused_offset_seconds=0.0)
    effects.append(StartCue(index, seconds, offset_seconds, reason))
    return state, effects


def _end(state: State, reason: str, effects: list[Effect]) -> Result:
    return replace(state, mode="ended", ended_reason=reason), [*effects, End(reason)]


def _idle_check(state: State, now: float) -> Result:
    if state.mode in ("paused", "waiting") and state.paused_seconds is not None:
        if now - state.paused_seconds >= state.idle_timeout_seconds:
            return _end(state, "idle-timeout", [Say(IDLE_TEXT)])
    return state, []


def _group_start(timeline: Timeline, index: int) -> int:
    key = group_key(timeline.cues[index])
    while index > 0 and group_key(timeline.cues[index - 1]) == key:
        index -= 1
    return index


def _next_group(timeline: Timeline, index: int) -> int:
    key = group_key(timeline.cues[index])
    index += 1
    while index < len(timeline.cues) and group_key(timeline.cues[index]) == key:
        index += 1
    return index


def _back_target(timeline: Timeline, index: int) -> int:
    starts = item_starts(timeline)
    item = timeline.cues[index].item_index
    if item is None:
        # intro: from its start; outro: back to the last item
        return starts[-1] if starts and index > starts[-1] else 0
    current = next(s for s in starts if timeline.cues[s].item_index == item)
    in_opening = phase_of(timeline.cues[index]) in ("preamble", "tip") or index == current
    if in_opening:
        earlier = [s for s in starts if s < current]
        return earlier[-1] if earlier else 0
    return current


def _last_spoken(timeline: Timeline, index: int) -> str | None:
    for i in range(index, -1, -1):
        cue = timeline.cues[i]
        if cue.kind in ("say", "count") and cue.text:
            return cue.text
    return None


def _command(state: State, heard: Heard, now: float, timeline: Timeline) -> Result:
    name = heard.command
    if name == "stop":
        return _end(state, "stopped", [CancelAudio("stop"), Say(STOPPED_TEXT)])
    if name == "pain":
        return _pain(state, heard, now, timeline)
    if state.mode == "waiting":
        return state, []        # triage owns the conversation
    if state.mode == "paused" and name in ("resume", "pause"):
        return _resume(state, now, timeline)
    if name == "resume":
        return state, []
    # running, or paused: other commands act from where the session stands
    index = state.index
    if name == "pause":
        offset = state.cue_offset_seconds + (now - state.cue_started_seconds)
        return (replace(state, mode="paused", paused_seconds=now, paused_offset_seconds=offset),
                [CancelAudio("pause"), Say(PAUSED_TEXT)])
    if name == "next":
        target = _skip_forward(state, timeline, _next_group(timeline, index))
        return _start(state, target, now, timeline, "jump", pre=[CancelAudio("next")])
    if name == "back":
        target = _skip_forward(state, timeline, _back_target(timeline, index))
        return _start(state, target, now, timeline, "jump", pre=[CancelAudio("back")])
    if name == "repeat":
        return _repeat(state, now, timeline)
    if name in ("slower", "faster"):
        return _tempo(state, name)
    if name == "time_left":
        return state, [_time_left(state, timeline, now)]
    if name == "help":
        return state, [Say(HELP_TEXT)]
    return state, []


def _resume(state: State, now: float, timeline: Timeline) -> Result:
    cue = timeline.cues[state.index]
    offset = state.paused_offset_seconds if cue.kind in ("pause", "listen") else 0.0
    offset = min(offset, cue_run_seconds(state, timeline, state.index))
    return _start(state, state.index, now, timeline, "resume", offset_seconds=offset)


def _repeat(state: State, now: float, timeline: Timeline) -> Result:
    cue = timeline.cues[state.index]
    phase = phase_of(cue)
    if phase in SPOKEN_PHASES or phase == "listen":
        index = state.index
        if phase == "listen":    # replay the setup before it
            index = max(0, index - 1)
        target = _group_start(timeline, index)
        return _start(state, target, now, timeline, "repeat", pre=[CancelAudio("repeat")])
    text = _last_spoken(timeline, state.index)
    return state, ([Say(text, "repeat")] if text else [])


def _tempo(state: State, name: str) -> Result:
    factor = state.tempo_factor * (TEMPO_STEP if name == "slower" else 1 / TEMPO_STEP)
    factor = round(min(TEMPO_MAX, max(TEMPO_MIN, factor)), 3)
    if factor == state.tempo_factor:
        word = "slowest" if name == "slower" else "fastest"
        return state, [Say(f"That is the {word} I go.")]
    return (replace(state, tempo_factor=factor),
            [Say("Slower." if name == "slower" else "Faster."), LogEvent("tempo-changed", {"factor": factor})])


def _time_left(state: State, timeline: Timeline, now: float) -> Say:
    left = seconds_left(state, timeline, now)
    minutes = int(-(-left // 60))
    if left < 60:
        return Say("Less than a minute left.", "time-left")
    return Say(f"About {minutes} minute{'s' if minutes != 1 else ''} left.", "time-left")


def _pain(state: State, heard: Heard, now: float, timeline: Timeline) -> Result:
    cue = timeline.cues[state.index] if state.index < len(timeline.cues) else None
    if state.mode == "waiting":
        return state, [CancelAudio("pain")]   # already in triage
    if not state.triage_enabled:
        return _end(state, "pain", [CancelAudio("pain"), Say(PAIN_TEXT)])
    report = PainReport(trigger="keyboard" if heard.source == "keyboard" else "voice",
                        text=heard.text, exercise_id=cue.exercise_id if cue else None)
    return (replace(state, mode="waiting", paused_seconds=now),
            [CancelAudio("pain"), StartTriage(report)])


def _after_triage(state: State, result: TriageResult, now: float, timeline: Timeline) -> Result:
    if state.mode != "waiting":
        return state, []
    action = result.session_action
    if action == "end":
        return _end(state, "triage", [])
    if action == "end-today":
        return _end(state, "triage-end-today", [])
    cue = timeline.cues[state.index]
    skip = set(state.skip_exercise_ids) | set(result.skip_exercise_ids)
    if action == "skip-exercise" and cue.exercise_id:
        skip.add(cue.exercise_id)
    state = replace(state, skip_exercise_ids=frozenset(skip))
    if cue.exercise_id in skip:
        starts = [s for s in item_starts(timeline) if s > state.index]
        target = _skip_forward(state, timeline, starts[0] if starts else len(timeline.cues))
        # the rest between items belongs to the skipped item; skip it too
        return _start(state, target, now, timeline, "jump")
    return _start(state, _group_start(timeline, state.index), now, timeline, "resume")
