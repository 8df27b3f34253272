"""``coach today``, ``coach run today``, ``coach schedule`` and ``coach validate`` over
a real SQLite history in tmp_path, through ``coach.cli.main``."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar

from coach.cli.parser import main
from coach.store.history import History
from coach.store.records import add_morning_report, session_records
from plan_records import CONTENT

NOTICE = "not a medical device"


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "notice-shown").write_text("shown\n")
    monkeypatch.setenv("COACH_DATA_DIR", str(folder))
    monkeypatch.setenv("COACH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("COACH_CONTENT_DIR", raising=False)
    return folder


def add_sessions(folder: Path, days_ago: list[int], dose: str = "low", before: int = 3, after: int = 3,
                 morning: str = "usual") -> None:
    """Completed sessions at 18:00 on those days, each with its next morning's report."""
    today = datetime.now().astimezone()
    clock = Clock(today)
    with History.open_default(folder, wall_clock=clock) as history:
        for n in days_ago:
            day = (today - timedelta(days=n)).date()
            clock.at = datetime.combine(day, time(18), tzinfo=today.tzinfo)
            sid = f"s{n}"
            history.start_session(sid, "gentle-floor", dose)
            history.add_pain_rating(before, "baseline", sid)
            history.add_pain_rating(after, "after", sid)
            history.end_session(sid, "completed")
            clock.at = datetime.combine(day + timedelta(days=1), time(7), tzinfo=today.tzinfo)
            if clock.at <= today:
                add_morning_report(history, morning)


def today_json(capsys: pytest.CaptureFixture[str]) -> dict:
    assert main(["today", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_today_json_shape_and_how_it_follows_the_history(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = today_json(capsys)
    assert list(first) == ["routine", "dose", "reasons", "exercise_allowed"]
    assert (first["routine"], first["dose"], first["exercise_allowed"]) == ("gentle-floor", "low", True)
    assert first["reasons"] and all(isinstance(r, str) and r for r in first["reasons"])
    assert NOTICE in first["reasons"][-1]

    add_sessions(data, [6, 4, 2])
    assert today_json(capsys)["dose"] == "mid"           # three acceptable sessions: one step up

    add_sessions(data, [1], dose="mid", before=2, after=5)
    risen = today_json(capsys)
    assert risen["dose"] == "low" and "rose by 3 points" in risen["reasons"][0]

    with History.open_default(data) as history:
        history.start_triage("t1", None, None, "manual", "standalone")
    locked = today_json(capsys)
    assert (locked["routine"], locked["dose"], locked["exercise_allowed"]) == (None, None, False)
    assert "safety questions" in locked["reasons"][0] and NOTICE in locked["reasons"][-1]


def test_today_prints_the_plan_and_why(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    add_sessions(data, [6, 4, 2])
    assert main(["today", "--text"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Today: Gentle floor routine for a flare-up (gentle-floor), mid dose."
    assert "back to usual the next morning" in out[1] and NOTICE in out[-1]


def test_run_today_runs_the_planned_routine_and_dose(data: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    add_sessions(data, [6, 4, 2])
    log = tmp_path / "events.jsonl"
    code = main(["run", "today", "--text", "--clock", "virtual", "--input", "none", "--baseline", "3",
                 "--events", str(log)])
    assert code == 0
    events = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    started = next(e for e in events if e["type"] == "session-started")
    assert started.get("routine_id", "gentle-floor") == "gentle-floor" and started["dose"] == "mid"
    assert events[-1]["type"] == "session-ended" and events[-1]["reason"] == "completed"
    with History.open_default(data) as history:
        assert session_records(history)[-1].routine_id == "gentle-floor"
    assert "mid dose" in capsys.readouterr().err


def test_run_today_refuses_while_a_lock_stands(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with History.open_default(data) as history:
        history.start_triage("t1", None, None, "manual", "standalone")
    assert main(["run", "today", "--text", "--clock", "virtual", "--input", "none"]) == 10
    out = capsys.readouterr().out
    assert "Today: no session." in out and "coach triage" in out and NOTICE in out
    assert main(["run", "today", "--dose", "high", "--text"]) == 2


def test_schedule_writes_a_calendar_that_parses_back(data: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    add_sessions(data, [6, 4, 2])
    path = tmp_path / "plan.ics"
    assert main(["schedule", "--ics", str(path), "--weeks", "2", "--at", "07:30"]) == 0
    calendar = Calendar.from_ical(path.read_bytes())
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 7                                # every other day over 14 days
    starts = [e.decoded("dtstart") for e in events]
    assert [b - a for a, b in zip(starts, starts[1:])] == [timedelta(days=2)] * 6
    assert starts[0].astimezone().time() == time(7, 30)
    assert all(str(e["summary"]) == "Gentle floor routine for a flare-up (mid dose)" for e in events)
    assert all(NOTICE in str(e["description"]) for e in events)
    assert "assuming today's rules still hold" not in str(events[0]["description"])
    assert all("assuming today's rules still hold" in str(e["description"]) for e in events[1:])
    assert all(e.walk("VALARM") for e in events)
    uids = [str(e["uid"]) for e in events]
    assert len(set(uids)) == 7
    assert main(["schedule", "--ics", str(path), "--weeks", "2"]) == 0
    again = [str(e["uid"]) for e in Calendar.from_ical(path.read_bytes()).walk("VEVENT")]
    assert again == uids                                   # stable: re-importing updates, never doubles
    assert NOTICE in capsys.readouterr().out


def test_schedule_during_a_flare_up_plans_cold_then_heat_daily(data: Path, tmp_path: Path) -> None:
    # A flare-up yesterday at 18:00: cold for 72 hours. Each day is judged at its
    # session time (12:00), so the answer does not depend on when the test runs.
    add_sessions(data, [1], before=8, after=8)
    path = tmp_path / "plan.ics"
    assert main(["schedule", "--ics", str(path), "--weeks", "1", "--at", "12:00"]) == 0
    summaries = [str(e["summary"]) for e in Calendar.from_ical(path.read_bytes()).walk("VEVENT")]
    assert summaries[:3] == ["Cold pack, 10 minutes (low dose)"] * 3
    assert summaries[3:] == ["Heat, 15 minutes (low dose)"] * 4


def test_validate_checks_progression_yaml(data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    assert main(["validate", str(content)]) == 0
    assert "progression" in capsys.readouterr().out
    path = content / "progression.yaml"
    text = path.read_text(encoding="utf-8").replace("sessions_to_progress: 3", "sessions_to_progress: many")
    path.write_text(text, encoding="utf-8")
    assert main(["validate", str(content)]) == 2
    line = text[: text.index("sessions_to_progress: many")].count("\n") + 1
    err = capsys.readouterr().err
    assert f"progression.yaml:{line}: rules.pain_monitoring.sessions_to_progress: expected a whole number" in err


def test_on_a_terminal_the_morning_question_comes_before_the_plan(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import io
    import sqlite3

    from coach.cli.plan import ask_morning_first
    from coach.cli.settings import Settings

    add_sessions(data, [5, 3, 1])
    today = datetime.now().astimezone().date().isoformat()
    with sqlite3.connect(data / "history.sqlite3") as conn:        # this morning not asked yet
        conn.execute("DELETE FROM morning_reports WHERE day = ?", (today,))
    assert today_json(capsys)["dose"] == "low"          # the last session's morning is unknown: held
    settings = Settings(content_dir=CONTENT, data_dir=data, cache_dir=data / "cache")
    out = io.StringIO()
    assert ask_morning_first(settings, io.StringIO("n\n"), out, interactive=True) == "no"
    assert "worse than usual" in out.getvalue()
    assert today_json(capsys)["dose"] == "mid"          # back to usual: three acceptable sessions
    assert ask_morning_first(settings, io.StringIO("y\n"), io.StringIO(), interactive=True) is None  # asked once a day
    assert ask_morning_first(settings, io.StringIO(""), io.StringIO()) is None      # not a terminal: not asked


def test_a_typed_stop_over_the_morning_question_is_a_stop(data: Path) -> None:
    import io
    import sqlite3

    from coach.cli.plan import ask_morning_first
    from coach.cli.settings import Settings

    add_sessions(data, [2])
    with sqlite3.connect(data / "history.sqlite3") as conn:
        conn.execute("DELETE FROM morning_reports")
    settings = Settings(content_dir=CONTENT, data_dir=data, cache_dir=data / "cache")
    assert ask_morning_first(settings, io.StringIO("stop\n"), io.StringIO(), interactive=True) == "stop"
