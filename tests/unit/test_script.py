"""Script engine: routines become cues with exact holds, equal sides and no empty pauses."""

from __future__ import annotations

import math
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coach.content.model import Library, Range, Routine, RoutineItem, Tip
from coach.script.engine import (
    LISTEN_TEXT, build_timeline, dosage, group_key, item_starts, number_words, spoken_duration,
)
from coach.testing.fakes import make_exercise, sample_library
from coach.script.timeline import estimate_speech_seconds

HOLD_PURPOSES = {"hold-start", "hold", "halfway", "five-more"}
TIMED_PURPOSES = {"timed-start", "timed", "time-left"}


def one_item_library(exercise, rest_between: float = 10, **item) -> tuple[Routine, Library]:
    routine = Routine("r", "R", "d", ("Hello.",), ("Bye.",), rest_between,
                      (RoutineItem(exercise_id=exercise.id, **item),))
    return routine, Library({exercise.id: exercise}, {}, {"r": routine})


def hold_spans(cues) -> list[float]:
    """Total seconds of each hold (consecutive hold-phase cues of one rep)."""
    spans: list[float] = []
    previous = None
    for c in cues:
        if c.purpose in HOLD_PURPOSES:
            key = (c.item_index, c.side, c.set_number, c.rep_number)
            if key != previous:
                spans.append(0.0)
            spans[-1] += c.seconds
            previous = key
        else:
            previous = None
    return spans


def test_low_dose_is_the_default_and_doses_differ():
    lib = sample_library()
    routine = lib.routines["gentle"]
    low = build_timeline(routine, lib)
    assert low == build_timeline(routine, lib, "low")
    high = build_timeline(routine, lib, "high")
    assert high.total_seconds > low.total_seconds
    assert dosage(lib.exercises["pelvic-tilt"], routine.items[0], "mid").reps == 12  # (10 + 15) / 2 rounded


def test_unknown_dose_is_refused():
    lib = sample_library()
    with pytest.raises(ValueError):
        build_timeline(lib.routines["gentle"], lib, "huge")


@pytest.mark.parametrize("dose", ["low", "mid", "high"])
def test_override_wins_over_every_dose(dose):
    ex = make_exercise(hold_seconds=Range(20, 30), reps=Range(10, 15), sets=Range(2, 3))
    routine, lib = one_item_library(ex, hold_seconds=7, reps=4, sets=1)
    timeline = build_timeline(routine, lib, dose)
    spans = hold_spans(timeline.cues)
    assert len(spans) == 4
    assert all(math.isclose(s, 7, abs_tol=1e-6) for s in spans)
    assert not any(c.purpose == "set" for c in timeline.cues)


@pytest.mark.parametrize("hold, halfway, five_more", [(3, 0, 0), (10, 0, 0), (15, 0, 1), (20, 1, 1), (45, 1, 1)])
def test_hold_cues_fall_inside_an_exact_hold(hold, halfway, five_more):
    ex = make_exercise(hold_seconds=Range(hold, hold), reps=Range(1, 1))
    routine, lib = one_item_library(ex)
    cues = build_timeline(routine, lib).cues
    assert hold_spans(cues) == pytest.approx([hold])
    purposes = Counter(c.purpose for c in cues)
    assert purposes["halfway"] == halfway
    assert purposes["five-more"] == five_more
    if five_more:
        # "Five more seconds." ends exactly five seconds before the release
        i = next(i for i, c in enumerate(cues) if c.purpose == "five-more")
        assert cues[i + 1].kind == "pause" and cues[i + 1].seconds == pytest.approx(5)
        assert cues[i + 2].text == "And release."
    if halfway:
        before = 0.0
        for c in cues[next(i for i, c in enumerate(cues) if c.purpose == "hold-start"):]:
            if c.purpose == "halfway":
                break
            before += c.seconds
        assert before == pytest.approx(hold / 2)


def test_measured_speech_lengths_keep_holds_exact():
    ex = make_exercise(hold_seconds=Range(30, 30), reps=Range(2, 2))
    routine, lib = one_item_library(ex)
    timeline = build_timeline(routine, lib, speech_seconds=lambda text: 0.2 * len(text))
    assert hold_spans(timeline.cues) == pytest.approx([30, 30])
    says = [c for c in timeline.cues if c.kind == "say"]
    assert all(c.seconds == pytest.approx(0.2 * len(c.text)) for c in says)


def test_long_speech_drops_cues_rather_than_squeezing_pauses():
    ex = make_exercise(hold_seconds=Range(15, 15), reps=Range(1, 1))
    routine, lib = one_item_library(ex)
    timeline = build_timeline(routine, lib, speech_seconds=lambda text: 6.0)
    assert hold_spans(timeline.cues) == pytest.approx([15])
    assert all(c.seconds >= 0.5 for c in timeline.cues if c.kind == "pause")


def test_one_sided_exercise_does_both_sides_equally():
    lib = sample_library()
    cues = build_timeline(lib.routines["gentle"], lib).cues
    knee = [c for c in cues if c.exercise_id == "knee-to-chest"]
    assert [c.text for c in knee if c.purpose == "side"] == ["Now the left side.", "Now the right side."]
    holds = Counter(c.side for c in knee if c.purpose == "hold")
    assert holds["left"] == holds["right"] > 0
    assert [c.seconds for c in knee if c.side == "left"] == [c.seconds for c in knee if c.side == "right"]


def test_alternating_sides_hold_each_rep_left_then_right():
    def knee(**extra):
        return make_exercise("knee", sides="one", hold_seconds=Range(20, 30), reps=Range(2, 2),
                             sets=Range(1, 1), **extra)
    cues = build_timeline(*one_item_library(knee(alternate_sides=True))).cues
    order = list(dict.fromkeys((c.side, c.rep_number) for c in cues if c.purpose == "hold"))
    assert order == [("left", 1), ("right", 1), ("left", 2), ("right", 2)]
    plain = build_timeline(*one_item_library(knee())).cues
    assert list(dict.fromkeys((c.side, c.rep_number) for c in plain if c.purpose == "hold")) == [
        ("left", 1), ("left", 2), ("right", 1), ("right", 2)]
    held = [sum(c.seconds for c in cs if c.purpose == "hold") for cs in (cues, plain)]
    assert held[0] == pytest.approx(held[1]) and held[0] > 0


def test_counted_reps_sets_and_rests():
    lib = sample_library()
    cues = build_timeline(lib.routines["gentle"], lib).cues
    bridge = [c for c in cues if c.exercise_id == "glute-bridge"]
    counts = [c for c in bridge if c.kind == "count"]
    assert [c.text for c in counts[:3]] == ["One.", "Two.", "Three."]
    assert len(counts) == 2 * 10 and all(c.seconds == 3 for c in counts)
    assert [c.text for c in bridge if c.purpose == "set"] == ["Set 1 of 2.", "Set 2 of 2."]
    rests = [c for c in bridge if c.purpose == "rest"]
    assert [c.seconds for c in rests] == [30]          # between sets only
    assert all(c.rep_count == 10 and c.set_count == 2 for c in counts)


def test_timed_item_fills_its_duration_with_minute_cues():
    lib = sample_library()
    cues = build_timeline(lib.routines["cold"], lib).cues
    timed = [c for c in cues if c.purpose in TIMED_PURPOSES]
    assert sum(c.seconds for c in timed) == pytest.approx(600)
    left = [c.text for c in cues if c.purpose == "time-left"]
    assert left[0] == "9 minutes left." and left[-1] == "1 minute left." and len(left) == 9
    assert cues[[c.purpose for c in cues].index("timed-end")].text == "Time is up."
    # cautions and notes are read before the timing starts
    first_timed = next(i for i, c in enumerate(cues) if c.purpose in TIMED_PURPOSES)
    assert any(c.purpose == "caution" for c in cues[:first_timed])
    assert any(c.purpose == "note" for c in cues[:first_timed])


def test_timed_override_makes_a_rep_exercise_timed():
    ex = make_exercise(duration_seconds=Range(60, 90))
    routine, lib = one_item_library(ex, duration_seconds=45)
    cues = build_timeline(routine, lib, "high").cues
    assert sum(c.seconds for c in cues if c.purpose in TIMED_PURPOSES) == pytest.approx(45)
    assert not any(c.purpose == "hold" for c in cues)


def test_cautions_and_breathing_once_per_exercise_and_a_listen_per_item():
    lib = sample_library()
    cues = build_timeline(lib.routines["gentle"], lib).cues
    by_item = Counter((c.item_index, c.purpose) for c in cues)
    assert by_item[(1, "caution")] == 1
    assert by_item[(0, "breathing")] == by_item[(1, "breathing")] == 1
    listens = [c for c in cues if c.kind == "listen"]
    assert [c.item_index for c in listens] == [0, 1, 2]   # exercises only, not the tip
    assert all(c.text == LISTEN_TEXT and c.seconds == 8 for c in listens)


def test_tips_rests_between_items_intro_and_outro():
    lib = sample_library()
    routine = lib.routines["gentle"]
    cues = build_timeline(routine, lib).cues
    assert cues[0].purpose == "intro" and cues[-1].purpose == "outro"
    assert [c.text for c in cues if c.purpose == "tip"] == ["Sit with your feet flat on the floor."]
    between = [c for c in cues if c.purpose == "rest-between"]
    assert len(between) == len(routine.items) - 1 and all(c.seconds == 15 for c in between)


def test_every_cue_says_where_it_belongs():
    lib = sample_library()
    timeline = build_timeline(lib.routines["gentle"], lib)
    for c in timeline.cues:
        if c.purpose in ("intro", "outro"):
            assert c.item_index is None
            continue
        assert c.item_index is not None and c.exercise_name
        if c.purpose in HOLD_PURPOSES | {"release", "count"}:
            assert c.set_number and c.set_count and c.rep_number and c.rep_count
    assert len(item_starts(timeline)) == len(lib.routines["gentle"].items)


def test_speech_seconds_are_estimated_and_replaceable():
    lib = sample_library()
    timeline = build_timeline(lib.routines["gentle"], lib)
    first = timeline.cues[0]
    assert first.seconds == estimate_speech_seconds(first.text)
    measured = timeline.with_speech_seconds({first.text: 9.5})
    assert measured.cues[0].seconds == 9.5


def test_words_and_durations():
    assert [number_words(n) for n in (1, 12, 20, 21, 40, 50)] == [
        "one", "twelve", "twenty", "twenty one", "forty", "fifty"]
    assert [spoken_duration(s) for s in (1, 20, 60, 90, 600)] == [
        "1 second", "20 seconds", "1 minute", "90 seconds", "10 minutes"]


def test_group_keys_split_steps_holds_and_releases():
    ex = make_exercise(hold_seconds=Range(20, 20), reps=Range(2, 2))
    routine, lib = one_item_library(ex)
    cues = build_timeline(routine, lib).cues
    keys = [group_key(c) for c in cues]
    hold = [k for k, c in zip(keys, cues) if c.purpose in HOLD_PURPOSES and c.rep_number == 1]
    assert len(set(hold)) == 1
    release = next(k for k, c in zip(keys, cues) if c.purpose == "release" and c.rep_number == 1)
    assert release != hold[0]


# ---- properties ------------------------------------------------------------------

ranges = st.integers(1, 40).flatmap(lambda low: st.integers(low, low + 20).map(lambda high: Range(low, high)))


@st.composite
def exercises(draw, id: str):
    shape = draw(st.sampled_from(["hold", "count", "timed"]))
    fields = dict(
        sides=draw(st.sampled_from(["one", "both", "none"])),
        sets=draw(st.none() | st.integers(1, 4).map(lambda n: Range(1, n))),
        rest_seconds=draw(st.none() | st.integers(0, 90).map(lambda n: Range(n, n))),
        tempo_seconds=draw(st.none() | st.integers(1, 6)),
        reps=None, hold_seconds=None, duration_seconds=None,
        cautions=tuple(draw(st.lists(st.sampled_from(["Stop if it hurts.", "Go slowly."]), max_size=2))),
    )
    if shape == "hold":
        fields.update(hold_seconds=draw(ranges), reps=draw(st.none() | st.integers(1, 6).map(lambda n: Range(n, n))))
    elif shape == "count":
        fields.update(reps=draw(st.integers(1, 20).map(lambda n: Range(n, n + 3))))
    else:
        fields.update(duration_seconds=draw(st.integers(10, 1500).map(lambda n: Range(n, n + 60))))
    return make_exercise(id, **fields)


@st.composite
def libraries(draw):
    exs = [draw(exercises(f"ex-{i}")) for i in range(draw(st.integers(1, 4)))]
    tip = Tip("tip-a", "A tip", (), ("Sit well.",))
    items = draw(st.lists(st.sampled_from([e.id for e in exs] + ["tip-a"]), min_size=1, max_size=5))
    routine = Routine("r", "R", "d", ("Hi.",), ("Bye.",), draw(st.integers(0, 60)),
                      tuple(RoutineItem(tip_id=i) if i == "tip-a" else RoutineItem(exercise_id=i) for i in items))
    return routine, Library({e.id: e for e in exs}, {"tip-a": tip}, {"r": routine})


@settings(max_examples=150, deadline=None)
@given(libraries(), st.sampled_from(["low", "mid", "high"]))
def test_properties_of_every_timeline(lib_routine, dose):
    routine, lib = lib_routine
    timeline = build_timeline(routine, lib, dose)
    cues = timeline.cues
    assert timeline.total_seconds == pytest.approx(sum(c.seconds for c in cues))
    assert all(c.seconds > 0 for c in cues)
    assert {c.item_index for c in cues if c.item_index is not None} == set(range(len(routine.items)))
    for index, item in enumerate(routine.items):
        if item.exercise_id is None:
            continue
        ex = lib.exercises[item.exercise_id]
        mine = [c for c in cues if c.item_index == index]
        d = dosage(ex, item, dose)
        if ex.sides == "one":
            left = [(c.kind, c.purpose, c.seconds) for c in mine if c.side == "left"]
            right = [(c.kind, c.purpose, c.seconds) for c in mine if c.side == "right"]
            assert left == right and left
        if d.hold_seconds and not d.timed:
            sides = 2 if ex.sides == "one" else 1
            spans = hold_spans(mine)
            assert len(spans) == sides * d.sets * d.reps
            assert all(math.isclose(s, d.hold_seconds, abs_tol=1e-6) for s in spans)
        if d.timed:
            timed = sum(c.seconds for c in mine if c.purpose in TIMED_PURPOSES)
            sides = 2 if ex.sides == "one" else 1
            assert timed == pytest.approx(sides * d.sets * d.duration_seconds)


def test_measured_speech_keeps_the_tempo_of_count_cues():
    lib = sample_library()
    timeline = build_timeline(lib.routines["gentle"], lib)
    counts = [c for c in timeline.cues if c.kind == "count"]
    assert counts and all(c.tempo_seconds == 3.0 for c in counts)      # glute bridge: tempo 3 s
    short, long = counts[0], counts[1]
    measured = timeline.with_speech_seconds({short.text: 0.4, long.text: 4.5, timeline.cues[0].text: 1.25})
    by_text = {c.text: c.seconds for c in measured.cues if c.kind == "count"}
    assert by_text[short.text] == 3.0          # a quick word does not shorten the rep
    assert by_text[long.text] == 4.5           # a long word lengthens it
    assert measured.cues[0].seconds == 1.25    # say cues take the measured length
    untouched = [c for c in measured.cues if c.kind == "count" and c.text not in (short.text, long.text)]
    assert all(c.seconds == 3.0 for c in untouched)
