"""Session policy: every command in every state, urgent commands from every cue."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coach.listen.asr import Heard
from coach.session.dialog import TriageResult
from coach.script.engine import build_timeline, group_key, item_starts, phase_of
from coach.session.policy import (
    HELP_TEXT, PAIN_TEXT, STOPPED_TEXT, BaselineRated, CancelAudio, CommandHeard, CueFinished, End, InputEnded,
    LogEvent, Say, Started, StartCue, StartTriage, State, TimePassed, TriageFinished,
    initial_state, seconds_left, transition,
)
from coach.testing.fakes import sample_library

COMMANDS = ["next", "back", "repeat", "pause", "resume", "stop", "slower", "faster",
            "time_left", "help", "pain", "yes", "number", "mumble"]
LIB = sample_library()
TIMELINE = build_timeline(LIB.routines["gentle"], LIB)
CUES = TIMELINE.cues


def heard(command: str, source: str = "voice") -> CommandHeard:
    return CommandHeard(Heard(command, text=command, source=source), now=100.0)


def at(index: int, **fields) -> State:
    return replace(initial_state(), index=index, cue_started_seconds=100.0, **fields)


def first_index(predicate) -> int:
    return next(i for i, c in enumerate(CUES) if predicate(c))


def states() -> dict[str, State]:
    hold = first_index(lambda c: c.purpose == "hold")
    return {
        "running-intro": at(0),
        "running-listen": at(first_index(lambda c: c.kind == "listen")),
        "running-hold": at(hold),
        "running-count": at(first_index(lambda c: c.kind == "count")),
        "running-rest": at(first_index(lambda c: c.purpose == "rest")),
        "running-outro": at(len(CUES) - 1),
        "paused": at(hold, mode="paused", paused_seconds=99.0, paused_offset_seconds=1.0),
        "waiting": at(hold, mode="waiting", paused_seconds=99.0, triage_enabled=True),
        "ended": at(hold, mode="ended", ended_reason="stopped"),
    }


@pytest.mark.parametrize("state_name", list(states()))
@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_in_every_state(state_name, command):
    state = states()[state_name]
    new, effects = transition(state, heard(command), TIMELINE)
    if state.mode == "ended":
        assert (new, effects) == (state, [])
        return
    if command == "stop":
        assert effects == [CancelAudio("stop"), Say(STOPPED_TEXT), End("stopped")]
        assert new.mode == "ended" and new.ended_reason == "stopped"
        return
    if command == "pain":
        assert effects[0] == CancelAudio("pain")
        if state.mode == "waiting":
            assert new.mode == "waiting" and len(effects) == 1
        else:
            assert effects[1:] == [Say(PAIN_TEXT), End("pain")] and new.ended_reason == "pain"
        return
    if state.mode == "waiting" or command in ("yes", "number", "mumble"):
        assert (new, effects) == (state, [])
        return
    if command == "resume" and state.mode == "running":
        assert (new, effects) == (state, [])
        return
    if command in ("pause", "resume") and state.mode == "paused":
        assert new.mode == "running" and isinstance(effects[-1], StartCue)
        return
    if command == "pause":
        assert new.mode == "paused" and effects[0] == CancelAudio("pause")
        return
    if command in ("next", "back"):
        assert effects[0] == CancelAudio(command)
        assert isinstance(effects[1], (StartCue, End))
        return
    if command == "help":
        assert effects == [Say(HELP_TEXT)]
        return
    if command == "time_left":
        assert len(effects) == 1 and "left" in effects[0].text
        return
    if command in ("slower", "faster"):
        assert isinstance(effects[0], Say) and new.tempo_factor != state.tempo_factor
        return
    if command == "repeat":
        phase = phase_of(CUES[state.index])
        if phase in ("hold", "count", "rest"):
            assert new == state and isinstance(effects[0], Say)
        else:
            assert effects[0] == CancelAudio("repeat") and isinstance(effects[1], StartCue)
        return
    raise AssertionError(f"no expectation for {command} in {state_name}")


@pytest.mark.parametrize("index", range(len(CUES)))
def test_stop_and_pain_from_every_cue_cancel_audio_first(index):
    for command in ("stop", "pain"):
        for source in ("voice", "keyboard"):
            state, effects = transition(at(index), heard(command, source), TIMELINE)
            assert effects[0] == CancelAudio(command)
            assert state.mode == "ended" and isinstance(effects[-1], End)
    state, effects = transition(at(index, triage_enabled=True), heard("pain", "keyboard"), TIMELINE)
    assert effects[0] == CancelAudio("pain")
    assert isinstance(effects[1], StartTriage) and state.mode == "waiting"
    assert effects[1].report.trigger == "keyboard"
    assert effects[1].report.exercise_id == CUES[index].exercise_id


def run_through(state: State, now: float = 0.0) -> tuple[State, list[int]]:
    """Finish every cue as it starts; return the cues started in order."""
    started: list[int] = []
    state, effects = transition(state, Started(now), TIMELINE)
    while True:
        starts = [e for e in effects if isinstance(e, StartCue)]
        if not starts:
            return state, started
        started.append(starts[-1].index)
        now += starts[-1].seconds
        state, effects = transition(state, CueFinished(starts[-1].index, now), TIMELINE)


def test_a_session_left_alone_plays_every_cue_once_in_order_and_completes():
    state, started = run_through(initial_state())
    assert started == list(range(len(CUES)))
    assert state.mode == "ended" and state.ended_reason == "completed"


def test_a_stale_cue_finished_is_ignored():
    state = at(5)
    assert transition(state, CueFinished(4, 101.0), TIMELINE) == (state, [])
    paused = at(5, mode="paused", paused_seconds=100.0)
    assert transition(paused, CueFinished(5, 101.0), TIMELINE) == (paused, [])


def target_of(state: State, command: str) -> int:
    _, effects = transition(state, heard(command), TIMELINE)
    return next(e.index for e in effects if isinstance(e, StartCue))


def test_next_at_listen_goes_on():
    i = first_index(lambda c: c.kind == "listen")
    assert target_of(at(i), "next") == i + 1


def test_next_in_a_hold_goes_to_the_release():
    i = first_index(lambda c: c.purpose == "hold")
    assert CUES[target_of(at(i), "next")].text == "And release."


def test_next_while_counting_ends_the_set():
    i = first_index(lambda c: c.kind == "count")
    assert CUES[target_of(at(i), "next")].purpose == "rest-say"


def test_next_in_a_rest_starts_the_next_set():
    i = first_index(lambda c: c.purpose == "rest")
    assert CUES[target_of(at(i), "next")].text.startswith("Set 2 of")


def test_next_during_instructions_skips_them():
    i = first_index(lambda c: c.purpose == "setup")
    assert CUES[target_of(at(i), "next")].kind == "listen"


def test_next_in_the_last_group_completes():
    _, effects = transition(at(len(CUES) - 1), heard("next"), TIMELINE)
    assert effects == [CancelAudio("next"), End("completed")]


def test_back_restarts_the_item_then_goes_to_the_one_before():
    starts = item_starts(TIMELINE)
    hold_in_second = first_index(lambda c: c.item_index == 1 and c.purpose == "hold")
    assert target_of(at(hold_in_second), "back") == starts[1]
    assert target_of(at(starts[1]), "back") == starts[0]
    assert target_of(at(starts[0] + 1), "back") == 0       # opening of the first item: from the top
    assert target_of(at(0), "back") == 0
    assert target_of(at(len(CUES) - 1), "back") == starts[-1]


def test_repeat_replays_spoken_instructions_and_keeps_timed_parts():
    setup = first_index(lambda c: c.purpose == "setup")
    assert target_of(at(setup), "repeat") == setup - 1      # name and setup are one group
    listen = first_index(lambda c: c.kind == "listen")
    assert group_key(CUES[target_of(at(listen), "repeat")]) == group_key(CUES[listen - 1])
    hold = first_index(lambda c: c.purpose == "hold")
    state, effects = transition(at(hold), heard("repeat"), TIMELINE)
    assert state == at(hold) and effects == [Say(CUES[hold - 1].text, "repeat")]


def test_pause_keeps_the_place_and_resume_continues_a_pause():
    hold = first_index(lambda c: c.purpose == "hold")
    state, effects = transition(at(hold), CommandHeard(Heard("pause"), 101.0), TIMELINE)
    assert state.mode == "paused" and state.paused_offset_seconds == pytest.approx(1.0)
    assert effects[0] == CancelAudio("pause")
    state, effects = transition(state, CommandHeard(Heard("resume"), 500.0), TIMELINE)
    assert effects == [StartCue(hold, round(CUES[hold].seconds - 1.0, 3), 1.0, "resume")]
    assert state.mode == "running" and state.cue_started_seconds == 500.0


def test_resume_says_a_spoken_cue_again():
    state = at(0, mode="paused", paused_seconds=100.0, paused_offset_seconds=0.3)
    _, effects = transition(state, heard("pause"), TIMELINE)       # space toggles
    assert effects == [StartCue(0, CUES[0].seconds, 0.0, "resume")]


def test_slower_and_faster_scale_counts_within_bounds():
    count = first_index(lambda c: c.kind == "count")
    state = at(count)
    for _ in range(10):
        state, effects = transition(state, heard("slower"), TIMELINE)
    assert state.tempo_factor == 2.0 and "slowest" in effects[0].text
    state, effects = transition(state, CueFinished(count, 103.0), TIMELINE)
    assert effects[0].seconds == pytest.approx(CUES[count + 1].seconds * 2)
    for _ in range(10):
        state, effects = transition(state, heard("faster"), TIMELINE)
    assert state.tempo_factor == 0.5 and "fastest" in effects[0].text
    assert any(isinstance(e, LogEvent) for e in transition(at(count), heard("faster"), TIMELINE)[1])


def test_time_left_rounds_minutes_up():
    total = TIMELINE.total_seconds
    state = at(0)
    assert seconds_left(state, TIMELINE, 100.0) == pytest.approx(total)
    _, effects = transition(state, heard("time_left"), TIMELINE)
    assert effects == [Say(f"About {int(-(-total // 60))} minutes left.", "time-left")]
    _, effects = transition(at(len(CUES) - 1), heard("time_left"), TIMELINE)
    assert effects[0].text == "Less than a minute left."


@pytest.mark.parametrize("mode", ["paused", "waiting"])
def test_idle_timeout_ends_a_paused_or_waiting_session(mode):
    state = at(3, mode=mode, paused_seconds=100.0, idle_timeout_seconds=60.0)
    assert transition(state, TimePassed(159.9), TIMELINE) == (state, [])
    new, effects = transition(state, TimePassed(160.0), TIMELINE)
    assert new.ended_reason == "idle-timeout" and effects[-1] == End("idle-timeout")
    running = at(3, idle_timeout_seconds=60.0)
    assert transition(running, TimePassed(1000.0), TIMELINE) == (running, [])


def test_input_ending_while_paused_ends_the_session():
    new, effects = transition(at(3, mode="paused", paused_seconds=100.0), InputEnded(101.0), TIMELINE)
    assert effects == [End("input-ended")]
    new, effects = transition(at(3), InputEnded(101.0), TIMELINE)
    assert new.input_ended and effects == []


def triage_state(index: int) -> State:
    state, effects = transition(at(index, triage_enabled=True), heard("pain"), TIMELINE)
    assert state.mode == "waiting"
    return state


@pytest.mark.parametrize("action, reason", [("end", "triage"), ("end-today", "triage-end-today")])
def test_triage_that_ends(action, reason):
    state = triage_state(first_index(lambda c: c.purpose == "hold"))
    new, effects = transition(state, TriageFinished(TriageResult("b1", action), 200.0), TIMELINE)
    assert effects == [End(reason)] and new.mode == "ended"


def test_triage_skip_exercise_never_comes_back_to_it():
    hold = first_index(lambda c: c.purpose == "hold")
    hurt = CUES[hold].exercise_id
    state = triage_state(hold)
    state, effects = transition(
        state, TriageFinished(TriageResult("c", "skip-exercise", skip_exercise_ids=("glute-bridge",)), 200.0),
        TIMELINE)
    assert CUES[effects[0].index].item_index == CUES[hold].item_index + 1
    assert state.skip_exercise_ids == {hurt, "glute-bridge"}
    state, _ = transition(state, heard("back"), TIMELINE)
    _, started = run_through(replace(state, index=0))
    assert not {CUES[i].exercise_id for i in started} & {hurt, "glute-bridge"}


def test_triage_continue_restarts_the_current_group():
    hold = first_index(lambda c: c.purpose == "hold")
    state = triage_state(hold)
    state, effects = transition(state, TriageFinished(TriageResult("c", "continue"), 200.0), TIMELINE)
    assert state.mode == "running"
    assert group_key(CUES[effects[0].index]) == group_key(CUES[hold])
    assert transition(state, TriageFinished(TriageResult("c", "end"), 201.0), TIMELINE) == (state, [])


def test_an_empty_timeline_completes_at_once():
    empty = replace(TIMELINE, cues=())
    state, effects = transition(initial_state(), Started(0.0), empty)
    assert effects == [End("completed")] and state.mode == "ended"

steps = st.lists(st.one_of(st.sampled_from(COMMANDS[:-3]), st.just("finish"), st.just("wait"),
                           st.sampled_from(["triage-continue", "triage-skip"])), max_size=60)


@settings(max_examples=300, deadline=None)
@given(steps, st.booleans())
def test_any_sequence_of_events_keeps_the_session_sound(sequence, triage):
    state, effects = transition(initial_state(triage_enabled=triage, idle_timeout_seconds=30.0), Started(0.0), TIMELINE)
    now = 0.0
    for step in sequence:
        now += 7.0
        if step == "finish":
            event = CueFinished(state.index, now)
        elif step == "wait":
            event = TimePassed(now)
        elif step.startswith("triage"):
            action = "continue" if step == "triage-continue" else "skip-exercise"
            event = TriageFinished(TriageResult("c", action), now)
        else:
            event = CommandHeard(Heard(step), now)
        was = state
        state, effects = transition(state, event, TIMELINE)
        if was.mode == "ended":
            assert effects == [] and state == was
        assert 0 <= state.index < len(CUES)
        for effect in effects:
            if isinstance(effect, StartCue):
                assert 0 <= effect.index < len(CUES) and effect.seconds >= 0
                assert CUES[effect.index].exercise_id not in state.skip_exercise_ids
        if any(isinstance(e, End) for e in effects):
            assert state.mode == "ended" and isinstance(effects[-1], End)
        if isinstance(event, CommandHeard) and event.heard.command in ("stop", "pain") and was.mode != "ended":
            assert effects[0] == CancelAudio(event.heard.command)
        if state.mode == "running":
            assert state.paused_seconds is None


def rating(value: int | None, source: str = "voice") -> CommandHeard:
    return CommandHeard(Heard("number", value, text=str(value), source=source), now=100.0)


@pytest.mark.parametrize("index", range(0, len(CUES), 7))
def test_a_rating_two_above_the_baseline_halts_like_pain(index):
    state, _ = transition(at(index, triage_enabled=True), BaselineRated(3, 0.0), TIMELINE)
    assert state.baseline_rating == 3
    new, effects = transition(state, rating(5), TIMELINE)
    assert effects[0] == CancelAudio("pain-rating")
    assert effects[1] == LogEvent("pain-rating", {"value": 5, "baseline": 3, "rose": True, "source": "voice"})
    assert isinstance(effects[2], StartTriage) and new.mode == "waiting"
    assert effects[2].report.trigger == "rating" and effects[2].report.text == "5"
    assert effects[2].report.exercise_id == CUES[index].exercise_id
    # without triage it ends like pain does
    new, effects = transition(replace(state, triage_enabled=False), rating(9), TIMELINE)
    assert effects[0] == CancelAudio("pain-rating") and effects[-2:] == [Say(PAIN_TEXT), End("pain")]


def test_a_rating_below_the_rise_or_without_a_baseline_is_only_logged():
    state = at(3, triage_enabled=True, baseline_rating=3)
    for value in (0, 3, 4):
        new, effects = transition(state, rating(value), TIMELINE)
        assert new == state and effects == [LogEvent("pain-rating", {"value": value, "baseline": 3,
                                                                     "rose": False, "source": "voice"})]
    new, effects = transition(at(3, triage_enabled=True), rating(10), TIMELINE)
    assert new.mode == "running" and [e.type for e in effects] == ["pain-rating"]
    waiting = at(3, mode="waiting", paused_seconds=99.0, triage_enabled=True, baseline_rating=0)
    assert transition(waiting, rating(9), TIMELINE) == (waiting, [])      # triage owns the answers


def test_the_rise_that_halts_comes_from_the_content():
    state = replace(initial_state(triage_enabled=True, rise_stops_exercise=4), baseline_rating=2)
    assert transition(state, rating(5), TIMELINE)[0].mode == "running"
    assert transition(state, rating(6), TIMELINE)[0].mode == "waiting"
