"""The questions around a session answered by voice through the real CLI: a microphone
WAV with development-set words, the built-in recognizer, virtual time. The moment of
each question comes from a run with a silent microphone (the session is causal)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from coach.store.history import History
from coach.store.records import morning_reports, session_records
from coach.testing import eventlog, micmix
from tests.integration.test_handsfree_files import (
    NOTICE_MARKER, coach, coach_env, recognised_clip, require_dev_set, require_run_options, routine_id,
)
from tests.unit.test_checkins import seed_yesterday

pytestmark = pytest.mark.integration
ANSWER_AFTER_QUESTION_SECONDS = 5.0     # the question is spoken (~3 s), then the listening window
ROUTINE_SECONDS = 700.0                 # the microphone lasts past the routine's end


def session(folder: Path, placements: list[tuple[float, Path]], morning: bool) -> tuple[list[dict], Path]:
    data = folder / "data"
    data.mkdir(parents=True)
    (data / NOTICE_MARKER).write_text("shown\n")
    if morning:
        seed_yesterday(data)
    mic = micmix.compose_mic_samples(ROUTINE_SECONDS, [(t, path, 0.0) for t, path in placements])
    mic_path = micmix.write_wav(folder / "mic.wav", mic.astype(np.int16))
    events_path = folder / "events.jsonl"
    done = coach("run", routine_id(), "--mic", str(mic_path), "--speaker", str(folder / "out.wav"),
                 "--events", str(events_path), env={**coach_env(), "COACH_DATA_DIR": str(data)})
    if "no recognizer" in done.stderr:
        pytest.skip(f"the session runs without a recognizer: {done.stderr.strip().splitlines()[-1]}")
    assert done.returncode == 0, done.stderr[-800:]
    return eventlog.read_events(events_path), data / "history.sqlite3"


def asked_at(events: list[dict], qid: str) -> float:
    return next(e["t"] for e in events if e["type"] == "triage-question" and e["id"] == qid)


@pytest.fixture(autouse=True)
def _needs() -> None:
    require_run_options("--mic", "--speaker", "--events")
    require_dev_set()


def test_yes_to_the_morning_question_is_stored_as_worse(tmp_path):
    quiet, _ = session(tmp_path / "quiet", [], morning=True)
    clip = recognised_clip("yes", "yesno", "yes")
    t = asked_at(quiet, "morning") + ANSWER_AFTER_QUESTION_SECONDS
    events, db = session(tmp_path / "yes", [(t, clip.path)], morning=True)
    reports = [e for e in events if e["type"] == "morning-report"]
    assert [(e["answer"], e["report"]) for e in reports] == [("yes", "worse")]
    with History(db) as h:
        assert [m.answer for m in morning_reports(h)] == ["worse"]


def test_a_spoken_number_after_the_routine_is_stored_as_the_pain_after(tmp_path):
    quiet, _ = session(tmp_path / "quiet", [], morning=False)
    assert not [e for e in quiet if e["type"] == "morning-report"]          # a new history: no "usual" yet
    clip = recognised_clip("three", "number", "number", 3)
    t = asked_at(quiet, "after") + ANSWER_AFTER_QUESTION_SECONDS
    assert t + 1.0 < ROUTINE_SECONDS
    events, db = session(tmp_path / "three", [(t, clip.path)], morning=False)
    after = [e for e in events if e["type"] == "pain-after"]
    assert [(e["answer"], e["value"]) for e in after] == [("number", 3)]
    assert eventlog.end_reason(events) == "completed"
    with History(db) as h:
        record = session_records(h)[-1]
    assert (record.pain_after, record.dose, record.end_reason) == (3, "low", "completed")
