"""Building plain records for the planner tests: sessions days before a fixed 'now'."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from coach.plan.rules import Rules, load_rules
from coach.store.history import Lock, TriageRecord
from coach.store.records import MorningReport, SessionRecord

CONTENT = Path(__file__).resolve().parents[2] / "content"
NOW = datetime(2026, 6, 15, 9, 0, tzinfo=timezone(timedelta(hours=1)))
ROUTINES = {"gentle-floor": "Gentle floor routine for a flare-up", "strength-stability": "Core and glute strength",
            "cold-pack": "Cold pack, 10 minutes", "heat": "Heat, 15 minutes"}


def rules() -> Rules:
    return load_rules(CONTENT / "progression.yaml")


def at(days_ago: float, now: datetime = NOW) -> str:
    return (now - timedelta(days=days_ago)).isoformat(timespec="seconds")


def session(days_ago: float, dose: str | None = "low", before: int | None = 3, after: int | None = 3,
            morning: str | None = "usual", routine: str = "gentle-floor", end: str | None = "completed",
            now: datetime = NOW) -> SessionRecord:
    return SessionRecord(f"s{days_ago}", at(days_ago, now), at(days_ago - 0.01, now), routine, dose, end,
                         before, after, morning)


def good(*days_ago: float, dose: str = "low", routine: str = "gentle-floor") -> list[SessionRecord]:
    return [session(d, dose, routine=routine) for d in days_ago]


def morning(days_ago: int, answer: str) -> MorningReport:
    stamp = at(days_ago)
    return MorningReport(stamp, stamp[:10], answer)


def outcome(hours_ago: float, code: str) -> TriageRecord:
    return TriageRecord("t1", (NOW - timedelta(hours=hours_ago)).isoformat(timespec="seconds"), code, "end",
                        (), True, "session", None, None)


def lock(kind: str = "exercise", until_hours: float | None = None) -> Lock:
    until = None if until_hours is None else (NOW + timedelta(hours=until_hours)).isoformat(timespec="seconds")
    return Lock(1, kind, "a", at(0.1), until)
