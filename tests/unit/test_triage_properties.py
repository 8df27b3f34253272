"""Properties of the walker (clinical research section 8.4): monotonicity, no
silent c, early exit, order independence, exhaustive tier A, pairwise tier B."""

from __future__ import annotations

import dataclasses
import itertools
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coach.triage.walker import URGENCY, Answer, Ask, Outcome, Setup, walk
from coach.triage.content import load_triage
from coach.triage.model import FLAGS, TriageContent

CONTENT = load_triage(Path(__file__).resolve().parents[2] / "content" / "triage.yaml")
YES_NO_IDS = [q.id for q in CONTENT.questions if q.context == "yesno"]
TIER_A = [q.id for q in CONTENT.questions if q.tier == "A"]
TIER_B = [q.id for q in CONTENT.questions if q.tier in ("B1", "B2")]
CHOICES = {"yes": Answer("yes"), "no": Answer("no"), "unknown": Answer("unknown", confidence=0.0),
           "not_sure": Answer("not_sure")}
PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def run(answers: dict[str, str], profile=frozenset(), rating: int = 3, after: int = 3,
        content: TriageContent = CONTENT, **setup: object) -> tuple[Outcome, list[Ask]]:
    """The same answer on every attempt of a question (so an unknown stays unknown)."""
    asked: list[Ask] = []

    def answer_for(ask: Ask) -> Answer:
        asked.append(ask)
        if ask.question_id == "S2":
            return Answer("number", rating)
        if ask.question_id == "S2R":
            return Answer("number", after)
        return CHOICES[answers.get(ask.question_id, "no")]

    outcome, _ = walk(Setup(content, frozenset(profile), **setup), answer_for)
    return outcome, asked


answer_maps = st.dictionaries(st.sampled_from(YES_NO_IDS), st.sampled_from(sorted(CHOICES)), max_size=8)
profiles = st.frozensets(st.sampled_from(FLAGS))
ratings = st.integers(0, 10)


modes = st.sampled_from([{}, {"mode": "recheck", "previous_outcome": "c"},
                         {"mode": "recheck", "previous_outcome": "b2"}])


@PROPERTY_SETTINGS
@given(answer_maps, profiles, ratings, ratings, st.sampled_from(YES_NO_IDS + ["R1"]),
       st.sampled_from(["yes", "unknown", "not_sure"]), modes, st.one_of(st.none(), ratings))
def test_monotonic_flipping_a_no_never_lowers_urgency(answers, profile, rating, after, flip, to, mode, baseline):
    before, _ = run({**answers, flip: "no"}, profile, rating, after, baseline_rating=baseline, **mode)
    flipped, _ = run({**answers, flip: to}, profile, rating, after, baseline_rating=baseline, **mode)
    assert URGENCY[flipped.outcome] >= URGENCY[before.outcome]


@PROPERTY_SETTINGS
@given(answer_maps, profiles, ratings)
def test_no_silent_c(answers, profile, rating):
    outcome, asked = run(answers, profile, rating)
    heard_unknown = {a.question_id for a in asked if answers.get(a.question_id) == "unknown"}
    if heard_unknown:
        assert outcome.outcome != "c"
        assert set(outcome.unknowns) >= heard_unknown


@PROPERTY_SETTINGS
@given(answer_maps, profiles, ratings, st.integers(0, 60))
def test_stop_anywhere_is_incomplete_and_locked(answers, profile, rating, stop_at):
    asked: list[Ask] = []

    def answer_for(ask: Ask) -> Answer:
        asked.append(ask)
        if len(asked) > stop_at:
            return Answer("stop")
        if ask.context == "number":
            return Answer("number", rating)
        return CHOICES[answers.get(ask.question_id, "no")]

    outcome, _ = walk(Setup(CONTENT, profile), answer_for)
    if len(asked) > stop_at:
        assert outcome.outcome == "incomplete" and outcome.exercise_locked
        assert outcome.session_action == "end"
        assert len(asked) == stop_at + 1      # nothing asked after "stop"


@PROPERTY_SETTINGS
@given(answer_maps, profiles, ratings)
def test_early_exit_after_first_tier_a_yes(answers, profile, rating):
    outcome, asked = run(answers, profile, rating)
    tier_a_yes = [i for i, a in enumerate(asked)
                  if a.question_id in TIER_A and answers.get(a.question_id) in ("yes", "not_sure")]
    if tier_a_yes:
        assert outcome.outcome == "a"
        assert tier_a_yes[0] == len(asked) - 1


def _shuffled(seed: int) -> TriageContent:
    rng = random.Random(seed)
    by_tier: dict[str, list] = {}
    for question in CONTENT.questions:
        by_tier.setdefault(question.tier, []).append(question)
    ordered = []
    for tier in ("characterise", "A", "B1", "B2"):
        group = list(by_tier[tier])
        if tier != "characterise":
            rng.shuffle(group)
        ordered += group
    return dataclasses.replace(CONTENT, questions=tuple(ordered))


@PROPERTY_SETTINGS
@given(st.dictionaries(st.sampled_from(YES_NO_IDS), st.sampled_from(["yes", "no"]), max_size=6),
       profiles, st.integers(0, 6), st.integers(0, 10_000))
def test_order_independence_of_the_final_outcome(answers, profile, rating, seed):
    outcome, _ = run(answers, profile, rating)
    shuffled, _ = run(answers, profile, rating, content=_shuffled(seed))
    assert shuffled.outcome == outcome.outcome
    assert shuffled.session_action == outcome.session_action


# -- exhaustive tier A -------------------------------------------------------------

@pytest.mark.parametrize("profile", [frozenset(c) for n in range(len(FLAGS) + 1)
                                     for c in itertools.combinations(FLAGS, n)][::3] + [frozenset(FLAGS)])
def test_every_single_tier_a_yes_routes_a_at_once(profile):
    applicable = [q.id for q in CONTENT.questions if q.tier == "A" and (q.requires is None or q.requires in profile)]
    for qid in applicable:
        outcome, asked = run({qid: "yes"}, profile)
        assert outcome.outcome == "a" and asked[-1].question_id == qid
    for q in CONTENT.questions:
        if q.tier == "A" and q.id not in applicable:
            outcome, asked = run({q.id: "yes"}, profile)
            assert q.id not in [a.question_id for a in asked] and outcome.outcome == "c"


LADDER_ANSWERS = [Answer("yes"), Answer("no"), Answer("no", confidence=0.2), Answer("unknown"),
                  Answer("not_sure"), Answer("number", 5), Answer("stop")]


def _ladders(depth: int) -> list[list[Answer]]:
    return [list(seq) for n in range(1, depth + 1) for seq in itertools.product(LADDER_ANSWERS, repeat=n)]


@pytest.mark.parametrize("qid", TIER_A)
def test_exhaustive_answer_sequences_for_each_tier_a_question(qid):
    """Every sequence of up to three answers: the outcome follows the rules of 4.2."""
    question = CONTENT.question(qid)
    floor = CONTENT.low_confidence_no_below
    for ladder in _ladders(3):
        queue = list(ladder)
        asked: list[Ask] = []

        def answer_for(ask: Ask) -> Answer:
            asked.append(ask)
            if ask.question_id == qid:
                return queue.pop(0) if queue else Answer("unknown")
            return Answer("number", 2) if ask.context == "number" else Answer("no")

        outcome, _ = walk(Setup(CONTENT, frozenset(FLAGS)), answer_for)
        mine = [a for a in asked if a.question_id == qid]
        assert 1 <= len(mine) <= (3 if question.clarifier else 2)
        used = ladder[:len(mine)] + [Answer("unknown")] * (len(mine) - len(ladder))
        last = used[-1]
        if last.kind == "stop":
            assert outcome.outcome == "incomplete"
        elif last.kind in ("yes", "not_sure"):
            assert outcome.outcome == "a" and asked[-1].question_id == qid
        elif last.kind == "no" and last.confidence >= floor:
            assert outcome.outcome != "a" and outcome.outcome != "a-unconfirmed"
        else:
            assert outcome.outcome == "a-unconfirmed" and asked[-1].question_id == qid
        assert outcome.outcome != "c" or all(a.kind == "no" for a in used[-1:])


# -- pairwise tier B ----------------------------------------------------------------

def _expected(pair: dict[str, str]) -> tuple[str, str]:
    routed = [CONTENT.question(qid) for qid, answer in pair.items() if answer != "no"]
    if any(q.tier == "B1" for q in routed):
        return "b1", "end-today"
    if routed:
        return "b2", "end" if any(q.session_action == "end" for q in routed) else "skip-exercise"
    return "c", "continue"


def test_pairwise_tier_b():
    checked = 0
    for first, second in itertools.combinations(TIER_B, 2):
        for a, b in itertools.product(("yes", "no", "unknown"), repeat=2):
            pair = {first: a, second: b}
            outcome, _ = run(pair, frozenset(FLAGS))
            assert (outcome.outcome, outcome.session_action) == _expected(pair), pair
            checked += 1
    assert checked == 9 * len(TIER_B) * (len(TIER_B) - 1) // 2
