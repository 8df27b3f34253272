"""The questions around a session: pain right after a completed routine, and this
morning compared with usual on the first start of a day. Virtual time, real triage
content and history; answered by key (scripted keys) and by voice (a scripted
listener on a silent microphone)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from coach.store.history import History
from coach.store.records import morning_reports, session_records
from tests.unit.test_session_triage import CONTENT, first_hold_of, run_session

pytestmark = pytest.mark.skipif(not (CONTENT / "triage.yaml").exists(), reason="content/triage.yaml is missing")


def seed_yesterday(data: Path) -> None:
    yesterday = datetime.now().astimezone() - timedelta(days=1)
    with History(data / "history.sqlite3", lambda: yesterday) as history:
        history.start_session("old", "gentle", "low")


def ratings(data: Path) -> list[tuple[int, str]]:
    with History(data / "history.sqlite3") as h:
        return [(r["value"], r["context"]) for r in h._rows("SELECT value, context FROM pain_ratings ORDER BY id")]


def test_pain_after_a_completed_routine_is_asked_by_key_and_stored(tmp_path):
    run = run_session(tmp_path, {"baseline": "3", "after": "2"})
    assert run.result.reason == "completed" and run.result.exit_code == 0
    asked = run.of_type("triage-question")
    assert [q["id"] for q in asked] == ["baseline", "after"]
    after = run.of_type("pain-after")[0]
    assert (after["answer"], after["value"]) == ("number", 2)
    types = run.types()
    assert types.index("pain-after") < types.index("session-ended")
    assert ratings(tmp_path) == [(3, "baseline"), (2, "after")]
    with History(tmp_path / "history.sqlite3") as h:
        record = session_records(h)[0]
    assert (record.pain_before, record.pain_after, record.dose, record.end_reason) == (3, 2, "low", "completed")


def test_pain_after_by_voice(tmp_path):
    scout = run_session(tmp_path / "scout", {"baseline": "3", "after": None})
    asked_at = next(q["t"] for q in scout.of_type("triage-question") if q["id"] == "after")
    run = run_session(tmp_path / "run", {"baseline": "3", "after": None}, listener_script=[(asked_at + 1.5, "6")])
    after = [e for e in run.of_type("pain-after") if e["answer"] == "number"]
    assert after and after[0]["value"] == 6 and after[0]["confidence"] == pytest.approx(0.9)
    assert ratings(tmp_path / "run") == [(3, "baseline"), (6, "after")]


def test_an_unanswered_after_question_is_repeated_once_and_stores_nothing(tmp_path):
    run = run_session(tmp_path, {"baseline": "3", "after": None})
    assert [e["attempt"] for e in run.of_type("pain-after")] == ["first", "repeat"]
    assert run.result.reason == "completed" and ratings(tmp_path) == [(3, "baseline")]


@pytest.mark.parametrize("ending", ["stop", "idle"])
def test_no_after_question_when_the_session_did_not_complete(tmp_path, ending):
    at = first_hold_of("knee-to-chest")
    script = [(at, "stop")] if ending == "stop" else [(at, "pause")]
    run = run_session(tmp_path, {"baseline": "3"}, script)
    assert run.result.reason == ("stopped" if ending == "stop" else "idle-timeout")
    assert not run.of_type("pain-after") and ratings(tmp_path) == [(3, "baseline")]


def test_pain_after_the_routine_starts_the_safety_questions_without_an_offer_to_carry_on(tmp_path):
    scout = run_session(tmp_path / "scout", {"baseline": "3", "after": None})
    asked_at = next(q["t"] for q in scout.of_type("triage-question") if q["id"] == "after")
    run = run_session(tmp_path / "run", {"baseline": "3", "after": None}, [(asked_at + 0.2, "pain")])
    started = run.of_type("triage-started")
    assert started and started[0]["t"] - asked_at < 0.5
    assert not run.of_type("triage-resume")
    outcome = run.of_type("triage-outcome")[0]
    expected = {"end": "triage", "end-today": "triage-end-today"}.get(outcome["session_action"], "completed")
    assert run.result.reason == expected


def test_no_morning_question_for_a_new_history(tmp_path):
    run = run_session(tmp_path, {"baseline": "3"})
    assert not run.of_type("morning-report")
    with History(tmp_path / "history.sqlite3") as h:
        assert morning_reports(h) == []


@pytest.mark.parametrize(("reply", "stored"), [("yes", "worse"), ("no", "usual"), ("not_sure", "unanswered"),
                                               (None, "unanswered")])
def test_morning_question_on_the_first_start_of_a_day_by_key(tmp_path, reply, stored):
    seed_yesterday(tmp_path)
    run = run_session(tmp_path, {"morning": reply, "baseline": "3"})
    reports = run.of_type("morning-report")
    assert reports[-1]["report"] == stored
    assert [e["attempt"] for e in reports] == (["first", "repeat"] if reply is None else ["first"])
    asked = [q["id"] for q in run.of_type("triage-question")]
    assert asked[0] == "morning" and "baseline" in asked
    with History(tmp_path / "history.sqlite3") as h:
        assert [m.answer for m in morning_reports(h)] == [stored]
    again = run_session(tmp_path, {"baseline": "3"}, session_id="s2")      # asked once a day
    assert not again.of_type("morning-report")


def test_morning_question_by_voice(tmp_path):
    seed_yesterday(tmp_path / "scout")
    scout = run_session(tmp_path / "scout", {"morning": None, "baseline": "3"})
    asked_at = next(q["t"] for q in scout.of_type("triage-question") if q["id"] == "morning")
    seed_yesterday(tmp_path / "run")
    run = run_session(tmp_path / "run", {"morning": None, "baseline": "3"}, listener_script=[(asked_at + 1.5, "yes")])
    assert [e["report"] for e in run.of_type("morning-report")] == ["worse"]
    with History(tmp_path / "run" / "history.sqlite3") as h:
        assert [m.answer for m in morning_reports(h)] == ["worse"]


def test_stop_over_the_morning_question_ends_the_session_before_it_starts(tmp_path):
    seed_yesterday(tmp_path)
    run = run_session(tmp_path, {"morning": "stop", "baseline": "3"})
    assert run.result.reason == "stopped" and run.result.exit_code == 10
    assert not run.of_type("cue-started") and not run.of_type("pain-baseline")


def test_no_morning_question_when_the_baseline_is_given(tmp_path):
    """--baseline: nothing is asked before the routine; the pain after it still is."""
    import io
    from contextlib import ExitStack

    from coach.cli.adapters import Adapters
    from coach.cli.app import compose_runner
    from coach.cli.safety import open_safety
    from coach.cli.settings import Settings
    from coach.clock import VirtualClock
    from coach.session.events import EventLog
    from coach.session.view import View
    from coach.testing.fakes import AnsweringKeys, RecordingSink, SilentSpeaker
    from tests.unit.test_session_triage import TIMELINE

    seed_yesterday(tmp_path)
    settings = Settings(content_dir=CONTENT, data_dir=tmp_path, cache_dir=tmp_path / "cache", clock="virtual",
                        baseline_rating=4, dose="mid")
    clock = VirtualClock()
    events = EventLog(None, clock, session_id="s1")
    a = Adapters(clock, speaker=SilentSpeaker(seconds_per_char=0.02), sink=RecordingSink(clock))
    a.keys = AnsweringKeys(clock, [], lambda context: "1" if context == "number" else "yes",
                           prompt_contexts=frozenset({"session"}))
    with ExitStack() as stack:
        runner = compose_runner(settings, TIMELINE, a, events, View(io.StringIO(), live=False),
                                open_safety(settings, "s1"), stack)
        result = runner.run()
    assert result.reason == "completed"
    assert [q["id"] for q in events.of_type("triage-question")] == ["after"]
    assert not events.of_type("morning-report")
    with History(tmp_path / "history.sqlite3") as h:
        record = [r for r in session_records(h) if r.session_id == "s1"][0]
    assert (record.pain_before, record.pain_after, record.dose) == (4, 1, "mid")
