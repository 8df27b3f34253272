"""The history exported (JSON, CSV) and imported back: exact round trips, checked files,
one transaction. Real SQLite in tmp_path; histories written through the store's own API."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from coach.cli.parser import main
from coach.errors import UsageError
from coach.store.exchange import export_csv, export_json, import_file
from coach.store.history import History
from coach.store.records import MORNING_ANSWERS, add_morning_report
from coach.testing.histories import SteppedClock, three_weeks


@pytest.fixture
def demo(tmp_path) -> Path:
    return three_weeks(tmp_path / "demo" / "history.sqlite3")


def exported(path: Path) -> str:
    with History(path) as h:
        return export_json(h)


def restore(text: str, folder: Path) -> str:
    source = folder / "backup.json"
    folder.mkdir(parents=True, exist_ok=True)
    source.write_text(text, encoding="utf-8")
    with History(folder / "history.sqlite3") as h:
        import_file(h, source)
        return export_json(h)


def test_export_import_export_gives_the_same_bytes(demo, tmp_path):
    first = exported(demo)
    assert restore(first, tmp_path / "empty") == first
    data = json.loads(first)
    assert data["format"] == "coach-history" and len(data["sessions"]) == 22
    s = data["sessions"][0]
    assert (s["dose"], s["pain_before"], s["pain_after"], s["end_reason"]) == ("low", 6, 4, "completed")
    assert {t["id"]: len(t["answers"]) for t in data["triages"]} == {"t08": 4, "t16": 4}
    assert [o["outcome"] for o in data["safety_outcomes"]] == ["c", "b1"]
    assert data["profile"][0]["key"] == "dose" and data["locks"]


def test_cli_round_trip_through_files(demo, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COACH_DATA_DIR", str(demo.parent))
    assert main(["history", "--export", str(tmp_path / "a.json")]) == 0
    monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path / "new"))
    assert main(["history", "--import", str(tmp_path / "a.json")]) == 0
    assert "22 sessions" in capsys.readouterr().out
    assert main(["history", "--export", str(tmp_path / "b.json")]) == 0
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    # a second import into the now non-empty history is refused, and changes nothing
    assert main(["history", "--import", str(tmp_path / "a.json")]) == 2
    assert "not empty" in capsys.readouterr().err
    assert main(["history", "--export", str(tmp_path / "c.json")]) == 0
    assert (tmp_path / "c.json").read_bytes() == (tmp_path / "a.json").read_bytes()


def test_csv_has_one_row_per_record_with_a_record_column(demo):
    with History(demo) as h:
        text, data = export_csv(h), json.loads(export_json(h))
    rows = list(csv.DictReader(io.StringIO(text)))
    kinds = [r["record"] for r in rows]
    assert kinds.count("session") == len(data["sessions"]) and kinds.count("rating") == len(data["pain_ratings"])
    assert kinds.count("morning") == 20 and kinds.count("triage") == 2 and kinds.count("answer") == 8
    assert kinds.count("outcome") == 2 and kinds.count("lock") == len(data["locks"]) and kinds.count("profile") == 2
    first = rows[0]
    assert (first["record"], first["id"], first["dose"], first["pain_before"], first["pain_after"]) == \
        ("session", "s001", "low", "6", "4")
    outcome = next(r for r in rows if r["record"] == "outcome")
    assert json.loads(outcome["reasons"]) == ["pain-rose"] and outcome["complete"] == "1"
    answer = next(r for r in rows if r["record"] == "answer")
    assert (answer["triage_id"], answer["question_id"], answer["answer"]) == ("t08", "S1", "no")


def _line_of(text: str, needle: str, occurrence: int) -> int:
    at = -1
    for _ in range(occurrence + 1):
        at = text.index(needle, at + 1)
    return text.count("\n", 0, at) + 1


@pytest.mark.parametrize(("edit", "field", "needle", "nth"), [
    (lambda d: d["sessions"][3].update(dose="huge"), "sessions[3].dose", '"dose": "huge"', 0),
    (lambda d: d["pain_ratings"][5].update(value=11), "pain_ratings[5].value", '"value": 11', 0),
    (lambda d: d["morning_reports"][2].update(answer="better"), "morning_reports[2].answer", '"better"', 0),
    (lambda d: d["triages"][1]["answers"][0].update(confidence="high"), "triages[1].answers[0].confidence",
     '"confidence": "high"', 0),
    (lambda d: d["locks"][0].pop("kind"), "locks[0]", '"created_at"', 0),
    (lambda d: d["pain_ratings"][7].update(id=d["pain_ratings"][6]["id"]), "pain_ratings[7].id", None, 0),
])
def test_a_malformed_file_is_refused_naming_line_and_field_and_nothing_is_imported(demo, tmp_path, edit, field,
                                                                                    needle, nth):
    data = json.loads(exported(demo))
    edit(data)
    text = json.dumps(data, indent=1) + "\n"
    source = tmp_path / "backup.json"
    source.write_text(text, encoding="utf-8")
    target = tmp_path / "new" / "history.sqlite3"
    with History(target) as h:
        with pytest.raises(UsageError) as refused:
            import_file(h, source)
        assert json.loads(export_json(h))["sessions"] == []
        assert json.loads(export_json(h))["pain_ratings"] == []
    message = refused.value.message
    if needle is None:          # a duplicate id: the line of the second one
        needle, nth = f'"id": {data["pain_ratings"][7]["id"]}', 1
    if field == "locks[0]":     # a missing field: the line the object starts on
        line = _line_of(text, '"locks"', 0) + 1
    else:
        line = _line_of(text, needle, nth)
    assert message.startswith(f"{source}:{line}: {field}: "), message


def test_a_file_that_is_not_json_is_refused_with_its_line(tmp_path):
    source = tmp_path / "backup.json"
    source.write_text('{\n "format": "coach-history",\n "version": 1,\n "sessions": [,]\n}\n')
    with History(tmp_path / "h.sqlite3") as h:
        with pytest.raises(UsageError, match=r"backup.json:4: not JSON"):
            import_file(h, source)


# -- generated histories --------------------------------------------------------------

EVENTS = st.lists(st.tuples(
    st.sampled_from(["session", "rating", "after", "morning", "triage", "profile", "end"]),
    st.integers(0, 10), st.integers(1, 50_000), st.sampled_from(["low", "mid", "high", None]),
    st.text(min_size=0, max_size=8)), max_size=30)


def write_history(path: Path, events) -> None:
    clock = SteppedClock(datetime(2026, 3, 1, 7, 0, tzinfo=timezone(timedelta(hours=-5))))
    with History(path, clock) as h:
        sessions: list[str] = []
        for n, (kind, value, seconds, dose, text) in enumerate(events):
            clock.now += timedelta(seconds=seconds)
            if kind == "session" or not sessions:
                sessions.append(f"s{n}")
                h.start_session(sessions[-1], text or None, dose)
            if kind in ("rating", "after"):
                h.add_pain_rating(value, "baseline" if kind == "rating" else "after", sessions[-1])
            elif kind == "morning":
                add_morning_report(h, MORNING_ANSWERS[value % 3])
            elif kind == "end":
                h.end_session(sessions[-1], text or "completed")
            elif kind == "profile":
                h.set_profile({f"k{value}": text})
            elif kind == "triage":
                tid = f"t{n}"
                h.start_triage(tid, sessions[-1], text or None, "voice", "full")
                h.add_triage_answer(tid, "S2", "first", "number", value, value / 10 + 0.05, text)
                if value % 2:
                    h.finish_triage(tid, ("a", "b1", "c")[value % 3], "end", (text,) if text else (), bool(value % 4),
                                    "full", sessions[-1], text or None, (text,) if text else ())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=EVENTS)
def test_any_history_round_trips_exactly(tmp_path_factory, events):
    folder = tmp_path_factory.mktemp("gen")
    write_history(folder / "history.sqlite3", events)
    first = exported(folder / "history.sqlite3")
    assert restore(first, folder / "copy") == first
