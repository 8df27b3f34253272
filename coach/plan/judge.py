"""How one session went by the pain-monitoring model, and whether pain kept rising.

A session is acceptable when it was completed, the pain right after it was at most
``acceptable_pain_max`` (about 5 out of 10), it rose less than ``rise_points`` from the
rating before it, and the next morning's report said "usual" (Thomeé 1997;
Silbernagel et al. 2007; the project's rise-of-2 rule). A missing rating or morning
report is ``missing``: never acceptable, never a reason to go up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from coach.plan.rules import Rule
from coach.store.records import SessionRecord


@dataclass(frozen=True)
class Verdict:
    kind: str        # ok | bad | missing | stopped
    why: str = ""    # for bad: what happened; for missing: what is missing


def judge(s: SessionRecord, rule: Rule) -> Verdict:
    reason = s.end_reason or ""
    if reason == "pain" or reason.startswith("triage"):
        return Verdict("bad", "it ended with pain and the safety questions")
    if s.pain_after is not None and s.pain_after > rule["acceptable_pain_max"]:
        return Verdict("bad", f"your pain was {s.pain_after} out of 10")
    if s.pain_after is not None and s.pain_before is not None and s.pain_after - s.pain_before >= rule["rise_points"]:
        return Verdict("bad", f"your pain rose by {s.pain_after - s.pain_before} points, "
                              f"from {s.pain_before} to {s.pain_after} out of 10")
    if s.next_morning == "worse":
        return Verdict("bad", "your pain was worse than usual the next morning")
    if reason != "completed":
        return Verdict("stopped")
    if s.pain_before is None:
        return Verdict("missing", "pain rating from before it")
    if s.pain_after is None:
        return Verdict("missing", "pain rating from right after it")
    if s.next_morning != "usual":
        return Verdict("missing", "answer about how your pain was the next morning")
    return Verdict("ok")


def rising_pain(sessions: Sequence[SessionRecord], today: date, rule: Rule) -> tuple[float, float] | None:
    """(older week's average, latest week's average) of the first rating before a
    session each day, when the latest is at least ``rise_points`` higher."""
    window = int(rule["window_days"])
    first = today - timedelta(days=window - 1)
    split = today - timedelta(days=window // 2 - 1)
    by_day: dict[date, int] = {}
    for s in sessions:
        if s.pain_before is not None and first <= s.day <= today:
            by_day.setdefault(s.day, s.pain_before)
    older = [v for d, v in by_day.items() if d < split]
    recent = [v for d, v in by_day.items() if d >= split]
    if len(by_day) < rule["min_days"] or len(older) < 2 or len(recent) < 2:
        return None
    before, after = sum(older) / len(older), sum(recent) / len(recent)
    if after - before < rule["rise_points"]:
        return None
    return round(before, 1), round(after, 1)
