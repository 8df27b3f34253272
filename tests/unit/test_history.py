"""The SQLite history: queries, locks, and nothing lost when the process is killed."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from coach.store.history import FILE_NAME, History, default_data_dir

REPO = Path(__file__).resolve().parents[2]


class WallClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 9, 30, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def wall():
    return WallClock()


@pytest.fixture
def store(tmp_path, wall):
    with History(tmp_path / FILE_NAME, wall) as history:
        yield history


def test_data_dir_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path / "data"))
    assert default_data_dir() == tmp_path / "data"
    with History.open_default() as history:
        assert history.path == tmp_path / "data" / FILE_NAME
    assert (tmp_path / "data" / FILE_NAME).exists()
    monkeypatch.delenv("COACH_DATA_DIR")
    assert default_data_dir() == Path.home() / ".local" / "share" / "coach"


def test_wal_mode(store):
    mode = sqlite3.connect(store.path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_sessions_and_pain_trend(store, wall):
    store.start_session("s1", "morning")
    store.add_pain_rating(4, "baseline", "s1")
    store.add_pain_rating(6, "halt", "s1")
    wall.now += timedelta(days=1)
    store.start_session("s2", "evening")
    store.add_pain_rating(2, "baseline", "s2")
    store.end_session("s2", "finished")
    assert store.session_baseline("s1") == 4 and store.session_baseline("s2") == 2
    assert store.session_baseline("nope") is None and store.session_baseline(None) is None
    trend = store.pain_trend()
    assert [(d["date"], d["count"], d["low"], d["high"], d["mean"]) for d in trend] == [
        ("2026-11-25", 2, 4, 6, 5.0), ("2026-11-26", 1, 2, 2, 2.0)]
    sessions = store.recent_sessions()
    assert [s["id"] for s in sessions] == ["s2", "s1"] and sessions[0]["end_reason"] == "finished"
    wall.now += timedelta(days=30)
    assert store.pain_trend(days=14) == []


def test_triage_lock_lifecycle(store, wall):
    store.start_triage("t1", None, "bridge", "voice", "full")
    assert store.exercise_blocked().reason == "triage-started"     # a crash here leaves exercise locked
    store.finish_triage("t1", "incomplete", "end", ("stopped",), False, "full", None, "bridge")
    assert store.exercise_blocked().reason == "incomplete"
    store.start_triage("t2", None, None, "keyboard", "full")
    store.finish_triage("t2", "c", "continue", (), True, "full", None, None)
    assert store.exercise_blocked() is None
    store.start_triage("t3", None, None, "keyboard", "full")
    store.finish_triage("t3", "b1", "end-today", ("weight_loss",), True, "full", None, None)
    lock = store.exercise_blocked()
    assert lock.kind == "today" and lock.until == "2026-11-26T00:00:00+00:00"
    assert [r.outcome for r in store.triages_today()] == ["b1", "c", "incomplete"]
    assert store.recent_outcomes(1)[0].reasons == ("weight_loss",)
    wall.now += timedelta(days=1)
    assert store.exercise_blocked() is None and store.triages_today() == []


def test_profile_values_upsert(store):
    store.set_profile({"flag.pregnant": "no", "flag.under_16": "no"})
    store.set_profile({"flag.pregnant": "yes"})
    assert store.profile_values() == {"flag.pregnant": "yes", "flag.under_16": "no"}


WRITER = textwrap.dedent("""
    import sys, time
    from coach.store.history import History
    history = History(sys.argv[1])
    history.start_session("s-kill", "morning")
    history.start_triage("t-kill", "s-kill", "bridge", "voice", "full")
    history.add_triage_answer("t-kill", "S1", "first", "no", None, 0.91, "no")
    history.add_pain_rating(6, "halt", "s-kill", "t-kill")
    history.add_triage_answer("t-kill", "A1", "first", "no", None, 0.88, "no")
    print("written", flush=True)
    time.sleep(60)
""")


def test_kill_9_loses_nothing_already_written(tmp_path):
    path = tmp_path / FILE_NAME
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout.readline().strip() == "written"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL
    with History(path) as history:
        answers = history.triage_answers("t-kill")
        assert [(a["question_id"], a["confidence"]) for a in answers] == [("S1", 0.91), ("A1", 0.88)]
        assert history.pain_trend()[0]["high"] == 6
        assert history.recent_sessions()[0]["id"] == "s-kill"
        assert history.exercise_blocked().reason == "triage-started"


def test_session_records_join_ratings_dose_and_next_morning(tmp_path):
    from datetime import datetime, timedelta, timezone

    from coach.store.history import History
    from coach.store.records import add_morning_report, morning_asked_today, session_records

    now = [datetime(2026, 3, 2, 18, 0, tzinfo=timezone.utc)]
    with History(tmp_path / "h.sqlite3", lambda: now[0]) as history:
        history.start_session("s1", "gentle-floor", "mid")
        history.add_pain_rating(3, "baseline", "s1")
        history.add_pain_rating(5, "during", "s1")
        history.add_pain_rating(4, "after", "s1")
        history.end_session("s1", "completed")
        assert not morning_asked_today(history)
        now[0] += timedelta(hours=14)
        add_morning_report(history, "worse")
        assert morning_asked_today(history)
        [record] = session_records(history)
    assert (record.routine_id, record.dose, record.end_reason) == ("gentle-floor", "mid", "completed")
    assert (record.pain_before, record.pain_after, record.next_morning) == (3, 4, "worse")


def test_an_old_history_gains_the_dose_column(tmp_path):
    import sqlite3

    from coach.store.history import History
    from coach.store.records import session_records

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE sessions (id TEXT PRIMARY KEY, started_at TEXT NOT NULL, ended_at TEXT,"
                     " routine_id TEXT, end_reason TEXT)")
        conn.execute("INSERT INTO sessions VALUES ('old', '2026-01-01T10:00:00+00:00', NULL, 'heat', NULL)")
    with History(path) as history:
        [record] = session_records(history)
    assert record.dose is None and record.routine_id == "heat"
