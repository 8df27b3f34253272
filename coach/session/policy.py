"""Session policy (pure): transition(state, event, timeline) -> (state, effects).

Time only enters as numbers carried by events. The runner performs the effects.

Commands, as decided here (details in ``coach.session.commands``):
- ``next``: skip to the first cue of the next group (see ``coach.script.engine.group_key``):
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
  A pain rating (``number``) 2 or more above the session's baseline is urgent too.
- ``slower``/``faster`` scale counted reps from the next count on (0.5x to 2x).
- A session paused (or waiting for triage) for ``idle_timeout_seconds`` ends
  with reason ``idle-timeout``; input that ends while paused ends it too.
"""

from __future__ import annotations

from dataclasses import replace

from coach.session.commands import after_triage, command, end, idle_check, skip_forward, start
from coach.session.state import (
    DEFAULT_IDLE_TIMEOUT_SECONDS, DEFAULT_RISE_STOPS_EXERCISE, HELP_TEXT, IDLE_TEXT, PAIN_TEXT,
    PAUSED_TEXT, SESSION_MESSAGES, STOPPED_TEXT, TEMPO_MAX, TEMPO_MIN, TEMPO_STEP, URGENT_COMMANDS,
    BaselineRated, CancelAudio, CommandHeard, CueFinished, Effect, End, Event, InputEnded, LogEvent,
    Mode, Result, Say, Started, StartCue, StartTriage, State, TimePassed, TriageFinished,
    cue_run_seconds, seconds_left,
)
from coach.script.timeline import Timeline

__all__ = [
    "DEFAULT_IDLE_TIMEOUT_SECONDS", "DEFAULT_RISE_STOPS_EXERCISE", "HELP_TEXT", "IDLE_TEXT", "PAIN_TEXT",
    "PAUSED_TEXT", "SESSION_MESSAGES", "STOPPED_TEXT", "TEMPO_MAX", "TEMPO_MIN", "TEMPO_STEP",
    "URGENT_COMMANDS", "BaselineRated", "CancelAudio", "CommandHeard", "CueFinished", "Effect", "End",
    "Event", "InputEnded", "LogEvent", "Mode", "Result", "Say", "Started", "StartCue", "StartTriage",
    "State", "TimePassed", "TriageFinished", "cue_run_seconds", "initial_state", "seconds_left",
    "transition",
]


def initial_state(triage_enabled: bool = False,
                  idle_timeout_seconds: float = DEFAULT_IDLE_TIMEOUT_SECONDS,
                  rise_stops_exercise: int = DEFAULT_RISE_STOPS_EXERCISE) -> State:
    return State(triage_enabled=triage_enabled, idle_timeout_seconds=idle_timeout_seconds,
                 rise_stops_exercise=rise_stops_exercise)


def transition(state: State, event: Event, timeline: Timeline) -> Result:
    if state.mode == "ended":
        return state, []
    if isinstance(event, Started):
        return start(state, skip_forward(state, timeline, 0), event.now, timeline, "next")
    if isinstance(event, CueFinished):
        if state.mode != "running" or event.index != state.index:
            return state, []
        return start(state, skip_forward(state, timeline, state.index + 1), event.now, timeline, "next")
    if isinstance(event, TimePassed):
        return idle_check(state, event.now)
    if isinstance(event, InputEnded):
        state = replace(state, input_ended=True)
        if state.mode == "paused":
            return end(state, "input-ended", [])
        return state, []
    if isinstance(event, TriageFinished):
        return after_triage(state, event.result, event.now, timeline)
    if isinstance(event, BaselineRated):
        return replace(state, baseline_rating=event.value), []
    if isinstance(event, CommandHeard):
        return command(state, event.heard, event.now, timeline)
    raise TypeError(f"unknown event {event!r}")
