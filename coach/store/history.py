"""What happened, kept on this machine: sessions, pain ratings, triage and locks.

SQLite in WAL mode; every write is its own committed transaction, so a process
killed mid-triage keeps every answer already given. A triage that starts locks
exercise at once and only a complete triage releases it: a crash can never leave
someone unlocked after a safety question went unanswered.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

FILE_NAME = "history.sqlite3"
LOCK_KINDS: tuple[str, ...] = ("exercise", "today", "session-exercise")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY, started_at TEXT NOT NULL, ended_at TEXT, routine_id TEXT, end_reason TEXT);
CREATE TABLE IF NOT EXISTS pain_ratings (
    id INTEGER PRIMARY KEY, at TEXT NOT NULL, session_id TEXT, triage_id TEXT,
    value INTEGER NOT NULL, context TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS triages (
    id TEXT PRIMARY KEY, started_at TEXT NOT NULL, session_id TEXT, exercise_id TEXT,
    trigger TEXT, mode TEXT);
CREATE TABLE IF NOT EXISTS triage_answers (
    id INTEGER PRIMARY KEY, at TEXT NOT NULL, triage_id TEXT NOT NULL, question_id TEXT NOT NULL,
    attempt TEXT NOT NULL, answer TEXT NOT NULL, value INTEGER, confidence REAL, heard_text TEXT);
CREATE TABLE IF NOT EXISTS triage_outcomes (
    id INTEGER PRIMARY KEY, at TEXT NOT NULL, triage_id TEXT NOT NULL, session_id TEXT,
    exercise_id TEXT, outcome TEXT NOT NULL, session_action TEXT NOT NULL, reasons TEXT NOT NULL,
    complete INTEGER NOT NULL, mode TEXT);
CREATE TABLE IF NOT EXISTS locks (
    id INTEGER PRIMARY KEY, created_at TEXT NOT NULL, kind TEXT NOT NULL, until TEXT,
    reason TEXT NOT NULL, session_id TEXT, exercise_id TEXT, triage_id TEXT, released_at TEXT);
CREATE TABLE IF NOT EXISTS profile (
    key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS morning_reports (
    id INTEGER PRIMARY KEY, at TEXT NOT NULL, day TEXT NOT NULL, answer TEXT NOT NULL);
"""


def default_data_dir() -> Path:
    configured = os.environ.get("COACH_DATA_DIR")
    if configured:
        return Path(configured)
    return Path.home() / ".local" / "share" / "coach"


def local_now() -> datetime:
    return datetime.now().astimezone()


@dataclass(frozen=True)
class Lock:
    id: int
    kind: str                     # exercise | today | session-exercise
    reason: str
    created_at: str
    until: str | None = None      # None: until a complete triage (exercise) or the session ends
    session_id: str | None = None
    exercise_id: str | None = None


@dataclass(frozen=True)
class TriageRecord:
    triage_id: str
    at: str
    outcome: str
    session_action: str
    reasons: tuple[str, ...]
    complete: bool
    mode: str | None
    session_id: str | None
    exercise_id: str | None


class History:
    """The SQLite store; ``wall_clock`` gives aware local datetimes (injected in tests)."""

    def __init__(self, path: str | Path, wall_clock: Callable[[], datetime] = local_now) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._now = wall_clock
        self._mutex = threading.Lock()
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute("PRAGMA busy_timeout=5000")
        self._conn.executescript(_SCHEMA)
        _add_missing_columns(self._conn)

    @classmethod
    def open_default(cls, data_dir: str | Path | None = None,
                     wall_clock: Callable[[], datetime] = local_now) -> History:
        """``<data dir>/history.sqlite3``; the data dir is $COACH_DATA_DIR unless given."""
        return cls(Path(data_dir or default_data_dir()) / FILE_NAME, wall_clock)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._mutex:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._mutex:
            return list(self._conn.execute(sql, params))

    def now_text(self) -> str:
        return self._now().isoformat(timespec="seconds")

    # -- sessions and pain ---------------------------------------------------------
    def start_session(self, session_id: str, routine_id: str | None = None, dose: str | None = None) -> None:
        with self._write() as conn:
            conn.execute("INSERT OR IGNORE INTO sessions (id, started_at, routine_id, dose) VALUES (?, ?, ?, ?)",
                         (session_id, self.now_text(), routine_id, dose))

    def end_session(self, session_id: str, reason: str) -> None:
        with self._write() as conn:
            conn.execute("UPDATE sessions SET ended_at = ?, end_reason = ? WHERE id = ?",
                         (self.now_text(), reason, session_id))
            conn.execute("UPDATE locks SET released_at = ? WHERE kind = 'session-exercise' AND session_id = ?"
                         " AND released_at IS NULL", (self.now_text(), session_id))

    def add_pain_rating(self, value: int, context: str, session_id: str | None = None,
                        triage_id: str | None = None) -> None:
        with self._write() as conn:
            conn.execute("INSERT INTO pain_ratings (at, session_id, triage_id, value, context) VALUES (?, ?, ?, ?, ?)",
                         (self.now_text(), session_id, triage_id, int(value), context))

    def session_baseline(self, session_id: str | None) -> int | None:
        if not session_id:
            return None
        rows = self._rows("SELECT value FROM pain_ratings WHERE session_id = ? AND context = 'baseline'"
                          " ORDER BY id LIMIT 1", (session_id,))
        return int(rows[0]["value"]) if rows else None

    # -- triage ---------------------------------------------------------------------
    def start_triage(self, triage_id: str, session_id: str | None, exercise_id: str | None,
                     trigger: str, mode: str) -> None:
        """Record the start and lock exercise until this triage completes."""
        with self._write() as conn:
            now = self.now_text()
            conn.execute("INSERT INTO triages (id, started_at, session_id, exercise_id, trigger, mode)"
                         " VALUES (?, ?, ?, ?, ?, ?)", (triage_id, now, session_id, exercise_id, trigger, mode))
            conn.execute("INSERT INTO locks (created_at, kind, reason, triage_id) VALUES (?, 'exercise', ?, ?)",
                         (now, "triage-started", triage_id))

    def add_triage_answer(self, triage_id: str, question_id: str, attempt: str, answer: str,
                          value: int | None, confidence: float | None, heard_text: str = "") -> None:
        with self._write() as conn:
            conn.execute("INSERT INTO triage_answers (at, triage_id, question_id, attempt, answer, value,"
                         " confidence, heard_text) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         (self.now_text(), triage_id, question_id, attempt, answer, value, confidence, heard_text))

    def finish_triage(self, triage_id: str, outcome: str, session_action: str, reasons: tuple[str, ...],
                      complete: bool, mode: str, session_id: str | None, exercise_id: str | None,
                      skip_exercise_ids: tuple[str, ...] = ()) -> None:
        """Outcome and its locks in one transaction."""
        with self._write() as conn:
            now = self.now_text()
            conn.execute("INSERT INTO triage_outcomes (at, triage_id, session_id, exercise_id, outcome,"
                         " session_action, reasons, complete, mode) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (now, triage_id, session_id, exercise_id, outcome, session_action,
                          json.dumps(list(reasons)), int(complete), mode))
            if complete:
                conn.execute("UPDATE locks SET released_at = ? WHERE kind = 'exercise' AND released_at IS NULL", (now,))
            else:
                conn.execute("UPDATE locks SET released_at = ? WHERE triage_id = ? AND reason = 'triage-started'",
                             (now, triage_id))
            if outcome in ("a", "a-unconfirmed", "incomplete"):
                conn.execute("INSERT INTO locks (created_at, kind, reason, triage_id) VALUES (?, 'exercise', ?, ?)",
                             (now, outcome, triage_id))
            if outcome == "b1":
                conn.execute("INSERT INTO locks (created_at, kind, until, reason, triage_id)"
                             " VALUES (?, 'today', ?, ?, ?)", (now, self._end_of_day(), outcome, triage_id))
            for exercise in skip_exercise_ids:
                if session_id:
                    conn.execute("INSERT INTO locks (created_at, kind, reason, session_id, exercise_id, triage_id)"
                                 " VALUES (?, 'session-exercise', ?, ?, ?, ?)",
                                 (now, ",".join(reasons) or outcome, session_id, exercise, triage_id))

    def _end_of_day(self) -> str:
        now = self._now()
        midnight = datetime.combine(now.date() + timedelta(days=1), time(0), tzinfo=now.tzinfo)
        return midnight.isoformat(timespec="seconds")

    def triages_today(self) -> list[TriageRecord]:
        today = self._now().date()
        return [r for r in self.recent_outcomes(limit=200) if _day(r.at) == today]

    def recent_outcomes(self, limit: int = 20) -> list[TriageRecord]:
        rows = self._rows("SELECT * FROM triage_outcomes ORDER BY id DESC LIMIT ?", (limit,))
        return [TriageRecord(r["triage_id"], r["at"], r["outcome"], r["session_action"],
                             tuple(json.loads(r["reasons"])), bool(r["complete"]), r["mode"],
                             r["session_id"], r["exercise_id"]) for r in rows]

    def triage_answers(self, triage_id: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self._rows("SELECT * FROM triage_answers WHERE triage_id = ? ORDER BY id",
                                            (triage_id,))]

    # -- locks ------------------------------------------------------------------------
    def active_locks(self, session_id: str | None = None) -> list[Lock]:
        now = self._now()
        rows = self._rows("SELECT * FROM locks WHERE released_at IS NULL ORDER BY id")
        locks = []
        for r in rows:
            if r["until"] and datetime.fromisoformat(r["until"]) <= now:
                continue
            if r["kind"] == "session-exercise" and r["session_id"] != session_id:
                continue
            locks.append(Lock(r["id"], r["kind"], r["reason"], r["created_at"], r["until"],
                              r["session_id"], r["exercise_id"]))
        return locks

    def exercise_blocked(self) -> Lock | None:
        """The lock that forbids all exercise now (until a complete triage, or today)."""
        for lock in self.active_locks():
            if lock.kind in ("exercise", "today"):
                return lock
        return None

    def add_session_exercise_lock(self, session_id: str, exercise_id: str, reason: str) -> None:
        with self._write() as conn:
            conn.execute("INSERT INTO locks (created_at, kind, reason, session_id, exercise_id)"
                         " VALUES (?, 'session-exercise', ?, ?, ?)", (self.now_text(), reason, session_id, exercise_id))

    # -- profile, sessions, trend ----------------------------------------------------
    def set_profile(self, values: dict[str, str]) -> None:
        with self._write() as conn:
            for key, value in values.items():
                conn.execute("INSERT INTO profile (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(key)"
                             " DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                             (key, value, self.now_text()))

    def profile_values(self) -> dict[str, str]:
        return {r["key"]: r["value"] for r in self._rows("SELECT key, value FROM profile ORDER BY key")}

    def recent_sessions(self, limit: int = 10) -> list[dict[str, Any]]:
        return [dict(r) for r in self._rows("SELECT * FROM sessions ORDER BY started_at DESC, rowid DESC LIMIT ?",
                                            (limit,))]

    def pain_trend(self, days: int = 14) -> list[dict[str, Any]]:
        """Per day: count, lowest, highest and mean rating, oldest day first."""
        first = self._now().date() - timedelta(days=days - 1)
        by_day: dict[date, list[int]] = {}
        for r in self._rows("SELECT at, value FROM pain_ratings ORDER BY id"):
            day = _day(r["at"])
            if day >= first:
                by_day.setdefault(day, []).append(int(r["value"]))
        return [{"date": day.isoformat(), "count": len(values), "low": min(values), "high": max(values),
                 "mean": round(sum(values) / len(values), 1)} for day, values in sorted(by_day.items())]


def _add_missing_columns(conn: sqlite3.Connection) -> None:
    """Histories written before a column existed gain it, empty."""
    for table, column in _ADDED_COLUMNS:
        names = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
        if column not in names:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} TEXT")


_ADDED_COLUMNS: tuple[tuple[str, str], ...] = (("sessions", "dose"),)


def _day(stamp: str) -> date:
    return datetime.fromisoformat(stamp).date()
