"""Each rule of content/progression.yaml, one case each: what history leads to which plan."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from coach.plan.planner import Records, plan_for
from plan_records import NOW, ROUTINES, good, lock, morning, outcome, rules, session

RULES = rules()


@dataclass(frozen=True)
class Case:
    name: str
    records: Records
    routine: str | None
    dose: str | None
    says: str                       # a piece of the first reason
    allowed: bool = True
    clinician: bool = False
    also: tuple[str, ...] = field(default=())   # pieces of later reasons


def rec(sessions=(), **kw) -> Records:
    return Records(now=kw.pop("now", NOW), sessions=tuple(sessions), routines=ROUTINES, **kw)


CASES = [
    Case("no history: default routine at low", rec(), "gentle-floor", "low", "no exercise sessions"),
    Case("three acceptable sessions: one step up", rec(good(5, 3, 1)), "gentle-floor", "mid",
         "last 3 sessions at the low dose stayed at 5 or less"),
    Case("already at the top of the ranges", rec(good(5, 3, 1, dose="high")), "gentle-floor", "high",
         "already at the high end"),
    Case("two acceptable sessions: not yet", rec(good(3, 1)), "gentle-floor", "low", "After 3 like that"),
    Case("the person's own routine is kept", rec(good(5, 3, 1, routine="strength-stability")),
         "strength-stability", "mid", "moves up"),
    Case("missing rating after: hold", rec([*good(7, 5, 3), session(1, after=None)]), "gentle-floor", "low",
         "no pain rating from right after it"),
    Case("missing rating before: hold", rec([*good(7, 5, 3), session(1, before=None)]), "gentle-floor", "low",
         "no pain rating from before it"),
    Case("morning not answered: hold", rec([*good(7, 5, 3), session(1, morning="unanswered")]), "gentle-floor",
         "low", "how your pain was the next morning"),
    Case("morning not asked yet: hold", rec([*good(7, 5, 3), session(1, morning=None)]), "gentle-floor", "low",
         "never moves up on missing answers"),
    Case("session stopped: hold", rec([*good(7, 5, 3), session(1, end="stopped")]), "gentle-floor", "low",
         "did not finish"),
    Case("rise of 2: one step down", rec([*good(7, 5, 3, dose="mid"), session(1, "mid", before=2, after=4)]),
         "gentle-floor", "low", "rose by 2 points"),
    Case("pain after above 5: down", rec([*good(7, 5, 3, dose="high"), session(1, "high", before=5, after=6)]),
         "gentle-floor", "mid", "your pain was 6 out of 10"),
    Case("worse next morning: down", rec([*good(7, 5, 3, dose="mid"), session(1, "mid", morning="worse")]),
         "gentle-floor", "low", "worse than usual the next morning"),
    Case("bad at low: back to the default routine",
         rec([session(1, "low", before=2, after=5, routine="strength-stability")]), "gentle-floor", "low",
         "already the low dose"),
    Case("ended by the safety questions: down", rec([session(1, "mid", after=None, end="triage")]),
         "gentle-floor", "low", "ended with pain"),
    Case("a break of 14 days: start again at low", rec(good(24, 20, 16, dose="high")), "gentle-floor", "low",
         "16 days ago"),
    Case("a bad session in the last 48 hours caps the dose",
         rec([*good(9, 7, 5, dose="high"), session(1.5, "mid", before=2, after=5, routine="strength-stability"),
              *good(1, dose="high")]), "gentle-floor", "low", "in the last 48 hours"),
    Case("a rise during heat in the last 48 hours caps the dose too",
         rec([*good(7, 5, 3, dose="mid"), session(1, None, before=2, after=4, routine="heat")]), "gentle-floor", "low",
         "in the last 48 hours"),
    Case("a worse morning today: no progression", rec(good(5, 3, 1), mornings=(morning(0, "worse"),)),
         "gentle-floor", "low", "worse than usual on the morning"),
    Case("outcome b2 within 48 hours: hold, and see a clinician", rec(good(5, 3, 1), outcomes=(outcome(20, "b2"),)),
         "gentle-floor", "low", "did not end with carry on", clinician=True, also=("advised you to see a doctor",)),
    Case("outcome c (carry on) within 48 hours: progression allowed", rec(good(5, 3, 1), outcomes=(outcome(20, "c"),)),
         "gentle-floor", "mid", "moves up"),
    Case("outcome b2 ten days ago: the advice stays, progression allowed",
         rec(good(5, 3, 1), outcomes=(outcome(240, "b2"),)), "gentle-floor", "mid", "moves up", clinician=True),
    Case("exercise lock: nothing planned", rec(good(5, 3, 1), locks=(lock(),)), None, None,
         "until you answer all the safety questions", allowed=False),
    Case("today lock: nothing planned", rec(good(5, 3, 1), locks=(lock("today", 10),)), None, None,
         "not to exercise any more today", allowed=False),
    Case("an expired today lock no longer stops exercise", rec(good(5, 3, 1), locks=(lock("today", -1),)),
         "gentle-floor", "mid", "moves up"),
    Case("profile advises against a programme", rec(profile_blocks=("Please check with your doctor first.",)),
         None, None, "advise against a programme", allowed=False, also=("check with your doctor",)),
    Case("flare-up, first 72 hours: cold", rec([*good(5, 3), session(1, before=8, after=8)]), "cold-pack", "low",
         "reached 8 out of 10"),
    Case("flare-up after 72 hours: heat", rec([*good(9, 7), session(4, before=7, after=7)]), "heat", "low",
         "switches to moist heat"),
    Case("flare-up not settled after a week: see a clinician", rec([session(8, before=7, after=8)]), "heat", "low",
         "switches to moist heat", clinician=True, also=("not improved after one week",)),
    Case("flare-up settled: the default routine at low",
         rec([*good(12, 10, 8, dose="high"), session(6, before=8, after=8)], mornings=(morning(2, "usual"),)),
         "gentle-floor", "low", "has settled"),
    Case("pain rising over two weeks: see a clinician, a step down",
         rec([session(d, "mid", before=b, after=b) for d, b in ((13, 2), (11, 2), (9, 3), (5, 4), (3, 5), (1, 5))]),
         "gentle-floor", "low", "goes down a step", clinician=True),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_rule(case: Case) -> None:
    plan = plan_for(case.records, RULES)
    assert (plan.routine, plan.dose, plan.exercise_allowed, plan.see_clinician) == \
        (case.routine, case.dose, case.allowed, case.clinician), plan.reasons
    assert case.says in plan.reasons[0]
    for piece in case.also:
        assert any(piece in reason for reason in plan.reasons[1:]), plan.reasons
    assert "not a medical device" in plan.reasons[-1]


def test_the_json_has_exactly_the_four_fields() -> None:
    plan = plan_for(rec(good(5, 3, 1)), RULES)
    assert list(plan.as_json()) == ["routine", "dose", "reasons", "exercise_allowed"]
