"""Invariants of the planner over simulated 8-week histories (Hypothesis)."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from hypothesis import HealthCheck, given, settings, strategies as st

from coach.content.library import load_library
from coach.plan.planner import DOSES, Records, plan_for
from coach.script.engine import build_timeline, dosage
from coach.store.history import Lock, TriageRecord
from coach.store.records import MorningReport, SessionRecord
from plan_records import CONTENT, rules

RULES = rules()
LIBRARY = load_library(CONTENT)
NAMES = {r.id: r.name for r in LIBRARY.routines.values()}
TZ = timezone(timedelta(hours=2))
FIRST = datetime(2026, 3, 2, tzinfo=TZ).date()
WEEKS = 8
RANK = {dose: index for index, dose in enumerate(DOSES)}

def often(common, *rare, weight=6):
    """Mostly ``common``, so that runs of acceptable sessions (and so progressions) happen."""
    return st.sampled_from([common] * weight + list(rare))


day_strategy = st.fixed_dictionaries({
    "session": often(True, False, False),
    "routine": often("gentle-floor", "strength-stability", "morning-mobility", "cold-pack", "heat"),
    "dose_change": often(False, True),
    "dose": st.sampled_from([None, *DOSES]),
    "before": often(3, None, 0, 1, 5, 6, 8, weight=12),
    "change": often(0, None, -1, 1, 2, 3, 4),
    "end": often("completed", None, "stopped", "triage", "idle"),
    "morning": often("usual", None, "worse", "unanswered"),
    "outcome": often(None, "a", "a-unconfirmed", "incomplete", "b1", "b2", "b2-end", "c", weight=60),
})


def history(days: list[dict]) -> tuple[list[SessionRecord], list[MorningReport], list[TriageRecord]]:
    sessions, mornings, outcomes = [], [], []
    dose = "low"
    for index, d in enumerate(days):
        dose = d["dose"] if d["dose_change"] else dose
        before = d["before"]
        after = None if before is None or d["change"] is None else max(0, min(10, before + d["change"]))
        day = FIRST + timedelta(days=index)
        if d["morning"] is not None:
            stamp = datetime.combine(day, time(8), tzinfo=TZ).isoformat()
            mornings.append(MorningReport(stamp, day.isoformat(), d["morning"]))
        if not d["session"]:
            continue
        start = datetime.combine(day, time(18), tzinfo=TZ)
        next_morning = days[index + 1]["morning"] if index + 1 < len(days) else None
        sessions.append(SessionRecord(f"s{index}", start.isoformat(), (start + timedelta(minutes=20)).isoformat(),
                                      d["routine"], dose, d["end"], before, after, next_morning))
        if d["outcome"] is not None:
            outcomes.append(TriageRecord(f"t{index}", (start + timedelta(minutes=10)).isoformat(), d["outcome"],
                                         "end", (), True, "session", f"s{index}", None))
    return sessions, mornings, outcomes


def within_ranges(routine_id: str, dose: str) -> None:
    routine = LIBRARY.routines[routine_id]
    build_timeline(routine, LIBRARY, dose)
    for item in routine.items:
        if item.exercise_id is None:
            continue
        exercise = LIBRARY.exercises[item.exercise_id]
        given = dosage(exercise, item, dose)
        for name, value in (("hold_seconds", given.hold_seconds), ("reps", given.reps),
                            ("duration_seconds", given.duration_seconds), ("sets", given.sets)):
            article = getattr(exercise, name)
            if getattr(item, name) is None and article is not None and value is not None:
                assert article.low <= value <= article.high, (routine_id, exercise.id, name, value)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(days=st.lists(day_strategy, min_size=WEEKS * 7, max_size=WEEKS * 7),
       today=st.integers(1, WEEKS * 7), locked=st.sampled_from([None, "exercise", "today"]))
def test_plans_over_eight_weeks_keep_the_invariants(days: list[dict], today: int, locked: str | None) -> None:
    sessions, mornings, outcomes = history(days)
    now = datetime.combine(FIRST + timedelta(days=today), time(9), tzinfo=TZ)
    locks = () if locked is None else (Lock(1, locked, "b1", now.isoformat(),
                                            (now + timedelta(hours=12)).isoformat() if locked == "today" else None),)
    records = Records(now, [s for s in sessions if s.started_at <= now.isoformat()],
                      [m for m in mornings if m.at <= now.isoformat()],
                      [o for o in outcomes if o.at <= now.isoformat()], locks, (), NAMES)
    plan = plan_for(records, RULES)

    assert plan.reasons and all(isinstance(r, str) and r.strip() for r in plan.reasons)
    assert "not a medical device" in plan.reasons[-1]
    if locked is not None:
        assert not plan.exercise_allowed and plan.routine is None and plan.dose is None
        return
    assert plan.exercise_allowed and plan.routine in LIBRARY.routines and plan.dose in DOSES
    within_ranges(plan.routine, plan.dose)
    yesterday = now.date() - timedelta(days=1)
    for s in records.sessions:
        rose = s.pain_before is not None and s.pain_after is not None and s.pain_after - s.pain_before >= 2
        if rose and datetime.fromisoformat(s.started_at).date() == yesterday:
            assert RANK[plan.dose] <= RANK[s.dose or "low"], (s, plan)
            if s.routine_id not in RULES.self_care_routines and s.dose is not None:
                assert plan.dose == "low" or RANK[plan.dose] < RANK[s.dose], (s, plan)
    if plan.routine in RULES.self_care_routines:
        return
    done = [s for s in records.sessions if s.routine_id not in RULES.self_care_routines]
    if done and any(s.next_morning in (None, "unanswered") for s in done[-1:]):
        assert RANK[plan.dose] <= RANK[done[-1].dose or "low"], "missing data never leads to progression"
