"""Routing cases of the clinical research (section 8.1) and the voice cases of 8.3
that concern the walker, run against the real content/triage.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest

from coach.triage.walker import Answer, Ask, Outcome, Setup, next_step, walk
from coach.triage.content import load_triage
from coach.triage.model import TriageContent

CONTENT_PATH = Path(__file__).resolve().parents[2] / "content" / "triage.yaml"


@pytest.fixture(scope="module")
def content() -> TriageContent:
    return load_triage(CONTENT_PATH)


def route(content: TriageContent, yes: set[str] = frozenset(), profile: set[str] = frozenset(),
          rating: int | None = 3, after_rest: int | None = None, answers: dict | None = None,
          **setup: object) -> tuple[Outcome, list[Ask]]:
    """Every asked question is "no" unless listed in ``yes`` or ``answers`` (a list per attempt)."""
    queues = {qid: list(items) for qid, items in (answers or {}).items()}
    asked: list[Ask] = []

    def answer_for(ask: Ask) -> Answer:
        asked.append(ask)
        if ask.question_id in queues and queues[ask.question_id]:
            return queues[ask.question_id].pop(0)
        if ask.question_id == "S2":
            return Answer("number", rating) if rating is not None else Answer("unknown")
        if ask.question_id == "S2R":
            return Answer("number", after_rest) if after_rest is not None else Answer("unknown")
        return Answer("yes" if ask.question_id in yes else "no")

    outcome, _ = walk(Setup(content, frozenset(profile), **setup), answer_for)
    return outcome, asked


def ids(asked: list[Ask]) -> list[str]:
    return [ask.question_id for ask in asked]


# (case, profile flags, "yes" answers, expected outcome, expected first reason or None)
ROUTING = [
    ("T01", set(), set(), "c", None),
    ("T02", set(), {"A4"}, "a", "ces_retention"),
    ("T03", set(), {"A7"}, "a", "ces_numbness"),
    ("T04", set(), {"A8"}, "a", "ces_wiping"),
    ("T05", set(), {"A6"}, "a", "ces_sensation"),
    ("T06", set(), {"A9"}, "a", "ces_sexual"),
    ("T07", set(), {"A5"}, "a", "ces_leaking"),
    ("T08", set(), {"A10"}, "a", "both_legs"),
    ("T09", set(), {"A11"}, "a", "leg_weakness"),
    ("T10", set(), {"A12"}, "a", "walking_harder"),
    ("T11", set(), {"C2"}, "b2", "stable_one_leg_symptoms"),
    ("T12", set(), {"A13"}, "a", "serious_accident"),
    ("T13", {"fracture_risk"}, {"A14"}, "a", "minor_trauma_fracture_risk"),
    ("T14", set(), {"C4", "A14"}, "b2", "after_injury"),
    ("T15", set(), {"A15"}, "a", "cannot_bear_weight"),
    ("T16", set(), {"A16"}, "a", "fever"),
    ("T17", set(), {"B9"}, "b1", "hot_swollen_hip"),
    ("T18", {"cancer_history"}, {"B1"}, "b1", "cancer_new_or_worsening_pain"),
    ("T19", {"cancer_history"}, {"A17"}, "a", "cancer_leg_symptoms"),
    ("T20", {"cancer_history"}, {"A17"}, "a", "cancer_leg_symptoms"),
    ("T21", set(), {"B3"}, "b1", "weight_loss"),
    ("T22", set(), {"B4"}, "b1", "night_pain"),
    ("T23", set(), {"B5"}, "b1", "upper_back_or_band_pain"),
    ("T24", set(), {"B6"}, "b1", "lump_or_shape_change"),
    ("T25", set(), {"B7"}, "b1", "cough_sneeze_strain"),
    ("T26", {"immune_risk"}, {"B2"}, "b1", "new_pain_infection_risk"),
    ("T27", {"immune_risk"}, {"A16"}, "a", "fever"),
    ("T29", set(), {"A2"}, "a", "belly_and_back_pain"),
    ("T30", set(), {"A3"}, "a", "very_unwell"),
    ("T31", set(), {"C1"}, "b2", "leg_pain_below_knee"),
    ("T32", set(), {"C3"}, "b2", "daily_tasks_or_sleep"),
    ("T33", set(), {"C5"}, "b2", "worsening_despite_self_care"),
    ("T34", set(), {"C6"}, "b2", "longer_than_six_weeks"),
    ("T39", set(), {"C1", "A4"}, "a", "ces_retention"),
    ("T40", set(), {"B3", "C3"}, "b1", "weight_loss"),
    ("T41", {"hip_replacement"}, {"C8"}, "b2", "new_hip_pain_after_replacement"),
    ("T42", {"hip_replacement"}, {"A18"}, "a", "hip_dislocation"),
    ("C7-voice", set(), {"C7"}, "b2", "constant_severe_pain"),
]


@pytest.mark.parametrize("case, profile, yes, expected, reason", ROUTING, ids=[row[0] for row in ROUTING])
def test_routing_case(content, case, profile, yes, expected, reason):
    outcome, asked = route(content, yes=yes, profile=profile)
    assert outcome.outcome == expected
    if reason:
        assert outcome.reasons[0] == reason
    if expected == "a":
        # early exit: the yes question was the last one asked
        assert ids(asked)[-1] in yes and ids(asked).count(ids(asked)[-1]) == 1


def test_t01_asks_every_ungated_question_once_in_order(content):
    outcome, asked = route(content)
    expected = [q.id for q in content.questions if q.requires is None and q.id != "S2R"]
    assert ids(asked) == expected
    assert outcome.session_action == "continue" and outcome.complete and not outcome.exercise_locked


def test_t02_nothing_asked_after_a4(content):
    outcome, asked = route(content, yes={"A4"}, rating=2)
    assert ids(asked) == ["S1", "S2", "A1", "A2", "A3", "A4"]
    assert outcome.session_action == "end" and outcome.exercise_locked


def test_t14_a14_needs_fracture_risk(content):
    _, asked = route(content, yes={"C4"})
    assert "A14" not in ids(asked)
    _, asked = route(content, yes={"C4"}, profile={"fracture_risk"})
    assert "A14" in ids(asked)


def test_t20_a17_asked_whenever_cancer_history(content):
    _, asked = route(content, profile={"cancer_history"})
    assert "A17" in ids(asked) and "B1" in ids(asked)
    _, asked = route(content)
    assert "A17" not in ids(asked) and "B1" not in ids(asked)


def test_t20b_sharp_pain_alone_is_c_with_the_exercise_dropped(content):
    outcome, _ = route(content, yes={"S1"})
    assert outcome.outcome == "c" and outcome.sharp_or_shooting
    assert outcome.session_action == "continue"


def test_t28_chest_pain_first(content):
    outcome, asked = route(content, yes={"A1"})
    assert outcome.outcome == "a" and ids(asked) == ["S1", "S2", "A1"]


def test_t31_leg_pain_drops_the_exercise_only(content):
    outcome, _ = route(content, yes={"C1"})
    assert outcome.session_action == "skip-exercise"


@pytest.mark.parametrize("rating, after, expected, action", [
    (8, 8, "b2", "end"),        # T37
    (9, 9, "b2", "end"),        # T38
    (10, 7, "b2", "end"),       # "ten" is on the scale; 7 still severe
    (8, 6, "c", "continue"),    # eased after the rest
    (6, None, "c", "continue"),  # below 7: no rest, no re-rating
])
def test_t37_t38_severe_pain_after_rest(content, rating, after, expected, action):
    outcome, asked = route(content, rating=rating, after_rest=after)
    assert (outcome.outcome, outcome.session_action) == (expected, action)
    rests = [ask for ask in asked if ask.question_id == "S2R"]
    assert len(rests) == (1 if rating >= 7 else 0)
    if rests:
        assert rests[0].rest_seconds_before == content.pain_rules.rest_seconds == 120
        assert rests[0].context == "number" and rests[0].preamble


def test_severe_pain_rest_comes_after_the_safety_questions(content):
    _, asked = route(content, rating=8, after_rest=8)
    assert ids(asked)[-1] == "S2R" and ids(asked).index("A1") < ids(asked).index("S2R")


def test_b1_or_a_needs_no_rest_rerating(content):
    _, asked = route(content, yes={"B3"}, rating=9)
    assert "S2R" not in ids(asked)


@pytest.mark.parametrize("baseline, rating, rose", [(2, 4, True), (2, 3, False), (0, 2, True), (None, 9, False)])
def test_rise_of_two_above_baseline_stops_the_exercise(content, baseline, rating, rose):
    outcome, _ = route(content, rating=rating, after_rest=0, baseline_rating=baseline)
    assert outcome.pain_rose is rose
    assert ("pain_rose_above_baseline" in outcome.reasons) is rose


def test_privacy_sentence_before_the_first_intimate_question_only(content):
    _, asked = route(content)
    with_privacy = [ask.question_id for ask in asked if any("personal" in line for line in ask.preamble)]
    assert with_privacy == ["A4"]


# -- voice and robustness (8.3) -------------------------------------------------

def unknown(n: int = 3) -> list[Answer]:
    return [Answer("unknown", confidence=0.0)] * n


def test_v01_silence_on_a4_then_clarifier_silence_is_a_unconfirmed(content):
    outcome, asked = route(content, answers={"A4": unknown()})
    a4 = [(ask.attempt, ask.text) for ask in asked if ask.question_id == "A4"]
    assert [attempt for attempt, _ in a4] == ["first", "repeat", "clarifier"]
    assert a4[2][1] == "Is peeing different from normal for you today?"
    assert outcome.outcome == "a-unconfirmed" and outcome.exercise_locked and outcome.session_action == "end"
    assert "A4" in outcome.unknowns and ids(asked)[-1] == "A4"


def test_tier_a_without_clarifier_repeats_once_then_a_unconfirmed(content):
    outcome, asked = route(content, answers={"A1": unknown()})
    assert [a.attempt for a in asked if a.question_id == "A1"] == ["first", "repeat"]
    assert outcome.outcome == "a-unconfirmed"


def test_tier_a_repeat_answered_no_continues(content):
    outcome, asked = route(content, answers={"A4": [Answer("unknown"), Answer("no")]})
    assert outcome.outcome == "c" and "A5" in ids(asked)


def test_v02_b4_silence_twice_counts_as_yes(content):
    outcome, asked = route(content, answers={"B4": unknown(2)})
    assert [a.attempt for a in asked if a.question_id == "B4"] == ["first", "repeat"]
    assert outcome.outcome == "b1" and outcome.reasons[0] == "night_pain" and "B4" in outcome.unknowns


def test_v05_low_confidence_no_on_a7_goes_to_the_clarifier(content):
    outcome, asked = route(content, answers={"A7": [Answer("no", confidence=0.3), Answer("yes")]})
    assert [a.attempt for a in asked if a.question_id == "A7"] == ["first", "clarifier"]
    assert outcome.outcome == "a"


def test_low_confidence_no_on_tier_b_is_a_no(content):
    outcome, _ = route(content, answers={"B4": [Answer("no", confidence=0.1)]})
    assert outcome.outcome == "c"


def test_v06_no_read_back_correction_after_tier_a_yes(content):
    """Decision 7: a tier-A yes ends triage at once; there is nothing left to say no to."""
    setup = Setup(content)
    outcome, given = walk(setup, lambda ask: Answer("yes") if ask.question_id == "A5"
                          else Answer("number", 2) if ask.context == "number" else Answer("no"))
    assert outcome.outcome == "a" and given[-1].question_id == "A5"
    assert next_step(setup, given) == outcome


@pytest.mark.parametrize("wrong", [Answer("unknown"), Answer("number", 3)])
def test_v07_unrecognised_or_number_is_never_a_yes_or_no(content, wrong):
    outcome, asked = route(content, answers={"A1": [wrong, Answer("no")]})
    assert [a.attempt for a in asked if a.question_id == "A1"] == ["first", "repeat"]
    assert outcome.outcome == "c"


def test_v08_yes_to_the_rating_is_asked_again(content):
    outcome, asked = route(content, answers={"S2": [Answer("yes"), Answer("number", 4)]})
    assert [a.attempt for a in asked if a.question_id == "S2"] == ["first", "repeat"]
    assert outcome.pain_rating == 4 and outcome.outcome == "c"


def test_rating_never_answered_is_not_c(content):
    outcome, _ = route(content, rating=None)
    assert outcome.outcome == "b2" and outcome.session_action == "end"


def test_not_sure_counts_as_yes(content):
    outcome, _ = route(content, answers={"A11": [Answer("not_sure")]})
    assert outcome.outcome == "a"
    outcome, _ = route(content, answers={"C9": [Answer("not_sure")]})
    assert outcome.outcome == "b2"


def test_v04_stop_at_a7_is_incomplete_and_locks(content):
    outcome, asked = route(content, answers={"A7": [Answer("stop")]})
    assert outcome.outcome == "incomplete" and outcome.exercise_locked and not outcome.complete
    assert ids(asked)[-1] == "A7" and outcome.session_action == "end"


def test_v09_recheck_no_change_still_asks_the_nerve_questions(content):
    outcome, asked = route(content, mode="recheck", previous_outcome="c")
    assert ids(asked) == ["S1", "S2", "R1", "A4", "A5", "A7", "A10", "A11"]
    assert outcome.outcome == "c" and outcome.short_path


def test_recheck_short_path_still_routes_a(content):
    outcome, _ = route(content, yes={"A10"}, mode="recheck")
    assert outcome.outcome == "a"


@pytest.mark.parametrize("r1", ["no", "yes"])
def test_recheck_keeps_an_earlier_b2(content, r1):
    outcome, _ = route(content, mode="recheck", previous_outcome="b2", answers={"R1": [Answer(r1)]})
    assert outcome.outcome == "b2" and "earlier_today_b2" in outcome.reasons


@pytest.mark.parametrize("r1", [[Answer("yes")], unknown(2), [Answer("not_sure")]])
def test_recheck_change_or_no_answer_means_full_triage(content, r1):
    outcome, asked = route(content, mode="recheck", answers={"R1": r1})
    assert not outcome.short_path and "C9" in ids(asked) and "A1" in ids(asked)


def test_en_gb_wording(content):
    _, asked = route(content, yes={"A5"}, locale="en-GB")
    a5 = [a.text for a in asked if a.question_id == "A5"][0]
    assert "poo " in a5 and "poop" not in a5


# Every red flag of the seed articles maps to a rule at least as urgent as the seed
# asks (weight loss: decision 3 sets b1 where seed B says "immediate").
SEED_FLAGS = [
    ("seed A: loss of bowel or bladder control", "A5", "a"),
    ("seed A: new or worsening leg weakness or numbness", "A11", "a"),
    ("seed A: affects your ability to walk", "A12", "a"),
    ("seed A: high fever", "A16", "a"),
    ("seed A: significant trauma", "A13", "a"),
    ("seed A: persists beyond four to six weeks", "C6", "b2"),
    ("seed A: radiates sharply down the leg", "C1", "b2"),
    ("seed A: unrelenting even at night", "B4", "b2"),
    ("seed A: constant or intense", "C7", "b2"),
    ("seed B: persistent or worsening", "C5", "b2"),
    ("seed B: numbness, tingling or weakness", "C2", "b2"),
    ("seed B: daily activities or sleep", "C3", "b2"),
    ("seed B: following an injury", "C4", "b2"),
    ("seed B: unexplained weight loss", "B3", "b1"),
    ("seed B: fever", "A16", "a"),
    ("seed B: bowel or bladder changes", "A4", "a"),
]


@pytest.mark.parametrize("flag, qid, at_least", SEED_FLAGS, ids=[row[0] for row in SEED_FLAGS])
def test_seed_red_flags_are_at_least_as_urgent(content, flag, qid, at_least):
    from coach.triage.walker import URGENCY
    outcome, _ = route(content, yes={qid})
    assert URGENCY[outcome.outcome] >= URGENCY[at_least]
