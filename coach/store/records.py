"""The history read back as plain records, one per session and per morning report:
what planning, plots, summaries and exports work from.

Pain contexts in ``pain_ratings``: ``baseline`` (before a session), ``after`` (right
after it), the triage's own ratings (``during``, ``triage`` ...). A morning report is
the answer to "how was your pain this morning, compared with usual?" on the first
start of a day: ``worse``, ``usual`` (as usual or better) or ``unanswered``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from coach.store.history import History

MORNING_ANSWERS: tuple[str, ...] = ("worse", "usual", "unanswered")


@dataclass(frozen=True)
class SessionRecord:
    session_id: str
    started_at: str               # ISO 8601 with offset
    ended_at: str | None
    routine_id: str | None
    dose: str | None              # low | mid | high (None: before doses were kept)
    end_reason: str | None        # completed, stopped, triage, idle ... (None: never ended)
    pain_before: int | None
    pain_after: int | None
    next_morning: str | None      # the morning report of the next day, if any

    @property
    def day(self) -> date:
        return datetime.fromisoformat(self.started_at).date()


@dataclass(frozen=True)
class MorningReport:
    at: str
    day: str                      # ISO date the report is about
    answer: str                   # one of MORNING_ANSWERS


def add_morning_report(history: History, answer: str) -> None:
    if answer not in MORNING_ANSWERS:
        raise ValueError(f"morning answer {answer!r} is not one of {', '.join(MORNING_ANSWERS)}")
    at = history.now_text()
    with history._write() as conn:
        conn.execute("INSERT INTO morning_reports (at, day, answer) VALUES (?, ?, ?)",
                     (at, datetime.fromisoformat(at).date().isoformat(), answer))


def morning_reports(history: History) -> list[MorningReport]:
    rows = history._rows("SELECT at, day, answer FROM morning_reports ORDER BY id")
    return [MorningReport(r["at"], r["day"], r["answer"]) for r in rows]


def morning_asked_today(history: History) -> bool:
    today = datetime.fromisoformat(history.now_text()).date().isoformat()
    return bool(history._rows("SELECT 1 FROM morning_reports WHERE day = ? LIMIT 1", (today,)))


def session_records(history: History, since: date | None = None) -> list[SessionRecord]:
    """Every session, oldest first, with its first baseline and last after-session rating."""
    mornings = {m.day: m.answer for m in morning_reports(history)}
    records = []
    for r in history._rows("SELECT * FROM sessions ORDER BY started_at, rowid"):
        started = datetime.fromisoformat(r["started_at"]).date()
        if since is not None and started < since:
            continue
        next_day = date.fromordinal(started.toordinal() + 1).isoformat()
        records.append(SessionRecord(
            r["id"], r["started_at"], r["ended_at"], r["routine_id"], r["dose"], r["end_reason"],
            _rating(history, r["id"], "baseline", "ASC"), _rating(history, r["id"], "after", "DESC"),
            mornings.get(next_day)))
    return records


def _rating(history: History, session_id: str, context: str, order: str) -> int | None:
    rows = history._rows(f"SELECT value FROM pain_ratings WHERE session_id = ? AND context = ?"
                         f" ORDER BY id {order} LIMIT 1", (session_id, context))
    return int(rows[0]["value"]) if rows else None
