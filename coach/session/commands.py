"""What each command, pain report, pain rating and triage outcome does to a session (pure).

Moving about the timeline goes by groups (``coach.script.engine.group_key``): "next" goes
to the first cue of the next group, "back" to the start of the item (or the item
before, from its opening instructions), "repeat" replays a spoken group.
"""

from __future__ import annotations

from dataclasses import replace

from coach.content.model import Heard
from coach.session.dialog import PainReport, TriageResult
from coach.script.groups import SPOKEN_PHASES, group_key, item_starts, phase_of
from coach.session.state import (
    HELP_TEXT, IDLE_TEXT, PAIN_TEXT, PAUSED_TEXT, STOPPED_TEXT, TEMPO_MAX, TEMPO_MIN, TEMPO_STEP,
    CancelAudio, Effect, End, LogEvent, Result, Say, StartCue, StartTriage, State, cue_run_seconds,
    seconds_left,
)
from coach.script.timeline import Timeline


# ---- moving about ------------------------------------------------------------

def skip_forward(state: State, timeline: Timeline, index: int) -> int:
    while index < len(timeline.cues) and timeline.cues[index].exercise_id in state.skip_exercise_ids:
        index += 1
    return index


def start(state: State, index: int, now: float, timeline: Timeline, reason: str,
          offset_seconds: float = 0.0, pre: list | None = None) -> Result:
    effects: list[Effect] = list(pre or [])
    if index >= len(timeline.cues):
        return end(state, "completed", effects)
    seconds = max(0.0, round(cue_run_seconds(state, timeline, index) - offset_seconds, 3))
    state = replace(state, index=index, mode="running", cue_started_seconds=now,
                    cue_offset_seconds=offset_seconds, paused_seconds=None, paused_offset_seconds=0.0)
    effects.append(StartCue(index, seconds, offset_seconds, reason))
    return state, effects


def end(state: State, reason: str, effects: list[Effect]) -> Result:
    return replace(state, mode="ended", ended_reason=reason), [*effects, End(reason)]


def idle_check(state: State, now: float) -> Result:
    if state.mode in ("paused", "waiting") and state.paused_seconds is not None:
        if now - state.paused_seconds >= state.idle_timeout_seconds:
            return end(state, "idle-timeout", [Say(IDLE_TEXT)])
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


# ---- commands ------------------------------------------------------------------

def command(state: State, heard: Heard, now: float, timeline: Timeline) -> Result:
    name = heard.command
    if name == "stop":
        return end(state, "stopped", [CancelAudio("stop"), Say(STOPPED_TEXT)])
    if name == "pain":
        return pain(state, heard, now, timeline)
    if state.mode == "waiting":
        return state, []        # triage owns the conversation
    if name == "number":
        return rating(state, heard, now, timeline)
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
        target = skip_forward(state, timeline, _next_group(timeline, index))
        return start(state, target, now, timeline, "jump", pre=[CancelAudio("next")])
    if name == "back":
        target = skip_forward(state, timeline, _back_target(timeline, index))
        return start(state, target, now, timeline, "jump", pre=[CancelAudio("back")])
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
    return start(state, state.index, now, timeline, "resume", offset_seconds=offset)


def _repeat(state: State, now: float, timeline: Timeline) -> Result:
    cue = timeline.cues[state.index]
    phase = phase_of(cue)
    if phase in SPOKEN_PHASES or phase == "listen":
        index = state.index
        if phase == "listen":    # replay the setup before it
            index = max(0, index - 1)
        target = _group_start(timeline, index)
        return start(state, target, now, timeline, "repeat", pre=[CancelAudio("repeat")])
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


# ---- pain ------------------------------------------------------------------------

def _current_exercise(state: State, timeline: Timeline) -> str | None:
    return timeline.cues[state.index].exercise_id if state.index < len(timeline.cues) else None


def _halt(state: State, report: PainReport, now: float, first: list[Effect]) -> Result:
    """Audio off first, then triage (or, without triage, the stop message and the end)."""
    if not state.triage_enabled:
        return end(state, "pain", [*first, Say(PAIN_TEXT)])
    return replace(state, mode="waiting", paused_seconds=now), [*first, StartTriage(report)]


def pain(state: State, heard: Heard, now: float, timeline: Timeline) -> Result:
    if state.mode == "waiting":
        return state, [CancelAudio("pain")]   # already in triage
    report = PainReport(trigger="keyboard" if heard.source == "keyboard" else "voice",
                        text=heard.text, exercise_id=_current_exercise(state, timeline))
    return _halt(state, report, now, [CancelAudio("pain")])


def rating(state: State, heard: Heard, now: float, timeline: Timeline) -> Result:
    """A pain rating given during the session: 2 or more above the baseline halts it (decision 9)."""
    value, baseline = heard.value, state.baseline_rating
    if value is None:
        return state, []
    rose = baseline is not None and value >= baseline + state.rise_stops_exercise
    log = LogEvent("pain-rating", {"value": value, "baseline": baseline, "rose": rose, "source": heard.source})
    if not rose:
        return state, [log]
    report = PainReport(trigger="rating", text=str(value), exercise_id=_current_exercise(state, timeline))
    return _halt(state, report, now, [CancelAudio("pain-rating"), log])


def after_triage(state: State, result: TriageResult, now: float, timeline: Timeline) -> Result:
    """a, a-unconfirmed, incomplete and b2-end end the session; b1 ends it for today;
    b2 (skip) and c go on without the exercise that hurt and any exercise locked."""
    if state.mode != "waiting":
        return state, []
    action = result.session_action
    if action == "end":
        return end(state, "triage", [])
    if action == "end-today":
        return end(state, "triage-end-today", [])
    cue = timeline.cues[state.index]
    skip = set(state.skip_exercise_ids) | set(result.skip_exercise_ids)
    if action == "skip-exercise" and cue.exercise_id:
        skip.add(cue.exercise_id)
    state = replace(state, skip_exercise_ids=frozenset(skip))
    if cue.exercise_id in skip:
        starts = [s for s in item_starts(timeline) if s > state.index]
        target = skip_forward(state, timeline, starts[0] if starts else len(timeline.cues))
        # the rest between items belongs to the skipped item; skip it too
        return start(state, target, now, timeline, "jump")
    return start(state, _group_start(timeline, state.index), now, timeline, "resume")
