"""The history per ISO week: sessions done and completed, mean pain before and after,
mornings worse than usual, and the safety outcomes of the week (pure over records)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from coach.store.history import History, TriageRecord
from coach.store.records import MorningReport, SessionRecord, morning_reports, session_records


@dataclass(frozen=True)
class Week:
    week: str                          # ISO week, e.g. 2026-W49
    first_day: str                     # its Monday
    sessions: int
    completed: int
    pain_before_mean: float | None
    pain_after_mean: float | None
    mornings: int                      # morning reports given that week
    mornings_worse: int
    outcomes: dict[str, int] = field(default_factory=dict)   # safety outcome -> count

    def as_dict(self) -> dict[str, Any]:
        return {"week": self.week, "first_day": self.first_day, "sessions": self.sessions,
                "completed": self.completed, "pain_before_mean": self.pain_before_mean,
                "pain_after_mean": self.pain_after_mean, "mornings": self.mornings,
                "mornings_worse": self.mornings_worse, "outcomes": dict(self.outcomes)}


def week_of(day: date) -> tuple[str, str]:
    year, week, weekday = day.isocalendar()
    monday = date.fromordinal(day.toordinal() - weekday + 1)
    return f"{year}-W{week:02d}", monday.isoformat()


def weekly(sessions: list[SessionRecord], mornings: list[MorningReport],
           outcomes: list[TriageRecord]) -> list[Week]:
    """One ``Week`` per ISO week with anything in it, oldest first."""
    keys: dict[str, str] = {}
    by_week: dict[str, dict[str, list[Any]]] = {}

    def bucket(day: date) -> dict[str, list[Any]]:
        key, monday = week_of(day)
        keys[key] = monday
        return by_week.setdefault(key, {"sessions": [], "mornings": [], "outcomes": []})

    for s in sessions:
        bucket(s.day)["sessions"].append(s)
    for m in mornings:
        bucket(date.fromisoformat(m.day))["mornings"].append(m)
    for o in outcomes:
        bucket(datetime.fromisoformat(o.at).date())["outcomes"].append(o)
    weeks = []
    for key in sorted(by_week):
        got = by_week[key]
        done: list[SessionRecord] = got["sessions"]
        weeks.append(Week(
            key, keys[key], len(done), sum(1 for s in done if s.end_reason == "completed"),
            _mean([s.pain_before for s in done]), _mean([s.pain_after for s in done]),
            len(got["mornings"]), sum(1 for m in got["mornings"] if m.answer == "worse"),
            dict(sorted(Counter(o.outcome for o in got["outcomes"]).items()))))
    return weeks


def _mean(values: list[int | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(sum(known) / len(known), 1) if known else None


def all_outcomes(history: History) -> list[TriageRecord]:
    """Every safety outcome, oldest first."""
    return list(reversed(history.recent_outcomes(limit=1_000_000)))


def weekly_summary(history: History) -> list[Week]:
    return weekly(session_records(history), morning_reports(history), all_outcomes(history))


def week_lines(weeks: list[Week]) -> list[str]:
    """The terminal's lines: one per week."""
    lines = []
    for w in weeks:
        before = "-" if w.pain_before_mean is None else f"{w.pain_before_mean:g}"
        after = "-" if w.pain_after_mean is None else f"{w.pain_after_mean:g}"
        safety = ", ".join(f"{k} x{n}" for k, n in w.outcomes.items()) or "none"
        lines.append(f"  {w.week} (from {w.first_day})  sessions {w.sessions} ({w.completed} completed)  "
                     f"pain before {before}, after {after}  mornings worse {w.mornings_worse}/{w.mornings}  "
                     f"safety: {safety}")
    return lines
