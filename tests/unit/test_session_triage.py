"""Pain in a session, end to end in virtual time: the real triage content, walker and
dialog, a real SQLite history in a temporary data folder, fake keys and audio.

The answers come from AnsweringKeys: each time a question is asked it answers by the
question's id (from the event log), after half a second.
"""

from __future__ import annotations

import io
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from coach.cli.app import compose_runner
from coach.cli.adapters import Adapters
from coach.cli.safety import gate_line, open_safety
from coach.audio.filesource import SilenceSource
from coach.clock import VirtualClock
from coach.session.events import EventLog
from coach.store.history import History
from coach.session.runner import DEFAULT_BLOCK_SECONDS, RunResult
from coach.script.engine import build_timeline
from coach.cli.settings import Settings
from coach.testing.fakes import AnsweringKeys, RecordingSink, ScriptedListener, SilentSpeaker, sample_library
from coach.session.view import View

CONTENT = Path(__file__).resolve().parents[2] / "content"
LIB = sample_library()
TIMELINE = build_timeline(LIB.routines["gentle"], LIB)

pytestmark = pytest.mark.skipif(not (CONTENT / "triage.yaml").exists(), reason="content/triage.yaml is missing")


BASELINE_SECONDS = 0.5     # the baseline question is answered (and cut short) after half a second


def first_hold_of(exercise_id: str) -> float:
    """Session seconds a little into the first hold of an exercise, after the baseline question."""
    t = BASELINE_SECONDS
    for cue in TIMELINE.cues:
        if cue.exercise_id == exercise_id and cue.purpose == "hold":
            return t + 1.0
        t += cue.seconds
    raise AssertionError(exercise_id)


@dataclass
class Run:
    result: RunResult
    events: EventLog
    sink: RecordingSink
    keys: AnsweringKeys
    settings: Settings
    session_id: str

    def of_type(self, kind: str) -> list[dict]:
        return self.events.of_type(kind)

    def types(self) -> list[str]:
        return [e["type"] for e in self.events.events]

    def outcome(self) -> dict:
        outcomes = self.of_type("triage-outcome")
        assert len(outcomes) == 1, outcomes
        return outcomes[0]

    def asked(self) -> list[str]:
        return [e["id"] for e in self.of_type("triage-question")]

    def exercises_after(self, t: float) -> set[str | None]:
        return {e["exercise_id"] for e in self.of_type("cue-started") if e["t"] > t}


def answers_by_id(events: EventLog, answers: dict[str, str | None], yesno: str = "no", number: str = "3"):
    """What to answer each question: by its id, else "no" / "3"; only real questions are answered."""
    def answer(context: str) -> str | None:
        last = events.events[-1] if events.events else {}
        if last.get("type") != "triage-question":
            return None
        if last["id"] in answers:
            return answers[last["id"]]
        return {"yesno": yesno, "number": number}.get(context)
    return answer


def run_session(data: Path, answers: dict[str, str | None], script=(), session_id: str = "s1",
                source: str = "keyboard", listener_script=None, timeline=TIMELINE) -> Run:
    settings = Settings(content_dir=CONTENT, data_dir=data, cache_dir=data / "cache", clock="virtual")
    clock = VirtualClock()
    events = EventLog(None, clock, session_id=session_id)
    sink = RecordingSink(clock)
    a = Adapters(clock, speaker=SilentSpeaker(seconds_per_char=0.02), sink=sink)
    a.keys = AnsweringKeys(clock, script, answers_by_id(events, answers), source=source,
                           prompt_contexts=frozenset({"session"}))
    if listener_script is not None:
        a.source = SilenceSource(clock)
        a.listener = ScriptedListener(listener_script)
    with ExitStack() as stack:
        safety = open_safety(settings, session_id)
        assert safety is not None
        runner = compose_runner(settings, timeline, a, events, View(io.StringIO(), live=False), safety, stack)
        result = runner.run()
    return Run(result, events, sink, a.keys, settings, session_id)


def history(data: Path) -> History:
    return History(data / "history.sqlite3")


# -- halting -------------------------------------------------------------------------

@pytest.mark.parametrize("way", ["key", "voice", "rating"])
def test_pain_by_key_voice_or_rising_rating_silences_audio_first_then_triage(tmp_path, way):
    pain_at = first_hold_of("knee-to-chest")       # after the baseline question
    script, listener = [], None
    if way == "key":
        script = [(pain_at, "pain")]
    elif way == "voice":
        listener = [(pain_at, "pain")]
    else:
        script = [(pain_at, "number", 6)]                 # baseline 3 (below), 6 is a rise of 3
    run = run_session(tmp_path, {"baseline": "3", "A1": "yes"}, script, listener_script=listener)
    types = run.types()
    cancelled = next(e for e in run.of_type("audio-cancelled") if e["t"] >= pain_at - 0.001)
    assert cancelled["t"] <= pain_at + DEFAULT_BLOCK_SECONDS + 1e-6
    assert cancelled["reason"] in ("pain", "pain-rating")
    assert any(r.action == "cancel" and pain_at - 0.001 <= r.at_seconds <= pain_at + DEFAULT_BLOCK_SECONDS + 1e-6
               for r in run.sink.records)
    assert types.index("triage-started") > run.events.events.index(cancelled)
    started = run.of_type("triage-started")[0]
    assert started["trigger"] == {"key": "keyboard", "voice": "voice", "rating": "rating"}[way]
    assert started["exercise_id"] == "knee-to-chest"
    assert {"yesno", "number"} <= set(run.keys.contexts)       # triage listened for answers
    assert run.outcome()["outcome"] == "a"
    if way == "rating":
        rating = run.of_type("pain-rating")[0]
        assert (rating["value"], rating["baseline"], rating["rose"]) == (6, 3, True)


def test_a_rating_within_reach_of_the_baseline_is_recorded_and_the_session_goes_on(tmp_path):
    at = first_hold_of("knee-to-chest")
    run = run_session(tmp_path, {"baseline": "3", "after": "2"}, [(at, "number", 4)])
    assert run.result.reason == "completed" and not run.of_type("triage-started")
    with history(tmp_path) as h:
        rows = h._rows("SELECT value, context FROM pain_ratings ORDER BY id")
    assert [(r["value"], r["context"]) for r in rows] == [(3, "baseline"), (4, "session"), (2, "after")]


# -- outcomes and what the session does ------------------------------------------------

def test_outcome_a_ends_the_session_speaks_the_script_and_locks_exercise_across_a_restart(tmp_path):
    pain_at = first_hold_of("pelvic-tilt")
    run = run_session(tmp_path, {"baseline": "2", "A3": "yes"}, [(pain_at, "pain")])
    assert (run.result.reason, run.result.exit_code) == ("triage", 10)
    outcome = run.outcome()
    assert outcome["outcome"] == "a" and outcome["session_action"] == "end"
    said = [e for e in run.of_type("said") if e["text"] == outcome["script"]]
    assert said and "spoken" not in said[0]                 # printed and spoken
    assert not [e for e in run.of_type("cue-started") if e["t"] > outcome["t"]]
    # a restart: a new history connection on the same file refuses to start a session
    settings = run.settings
    again = open_safety(settings, "s2")
    assert again is not None and gate_line(again) == again.content.line("locked_exercise", again.locale)


def test_no_answer_to_a_safety_question_gives_a_unconfirmed_and_ends(tmp_path):
    pain_at = first_hold_of("pelvic-tilt")
    run = run_session(tmp_path, {"baseline": "2", "A1": None}, [(pain_at, "pain")])
    outcome = run.outcome()
    assert outcome["outcome"] == "a-unconfirmed" and run.result.reason == "triage"
    attempts = [e["attempt"] for e in run.of_type("triage-question") if e["id"] == "A1"]
    assert attempts[:2] == ["first", "repeat"]          # asked again before giving up (A1 has no clarifier)
    with history(tmp_path) as h:
        assert h.exercise_blocked() is not None


def test_stop_during_triage_is_incomplete_ends_and_still_speaks_the_signs(tmp_path):
    pain_at = first_hold_of("pelvic-tilt")
    run = run_session(tmp_path, {"baseline": "2", "A2": "stop"}, [(pain_at, "pain")])
    outcome = run.outcome()
    assert outcome["outcome"] == "incomplete" and run.result.reason == "triage" and run.result.exit_code == 10
    said = [e for e in run.of_type("said") if e["text"] == outcome["script"]]
    assert said and "spoken" not in said[0]
    with history(tmp_path) as h:
        assert h.exercise_blocked() is not None


def test_b1_ends_exercise_for_today(tmp_path):
    pain_at = first_hold_of("pelvic-tilt")
    run = run_session(tmp_path, {"baseline": "2", "B3": "yes"}, [(pain_at, "pain")])
    assert run.outcome()["outcome"] == "b1"
    assert (run.result.reason, run.result.exit_code) == ("triage-end-today", 10)
    safety = open_safety(run.settings, "s2")
    assert gate_line(safety) == safety.content.line("locked_today", safety.locale)


def test_b2_that_drops_the_exercise_goes_on_without_it(tmp_path):
    pain_at = first_hold_of("knee-to-chest")
    run = run_session(tmp_path, {"baseline": "2", "C1": "yes"}, [(pain_at, "pain")])
    outcome = run.outcome()
    assert (outcome["outcome"], outcome["session_action"]) == ("b2", "skip-exercise")
    assert run.result.reason == "completed"
    later = run.exercises_after(outcome["t"])
    assert "knee-to-chest" not in later and "glute-bridge" in later


def test_b2_that_ends_the_session(tmp_path):
    pain_at = first_hold_of("knee-to-chest")
    run = run_session(tmp_path, {"baseline": "2", "C7": "yes"}, [(pain_at, "pain")])
    outcome = run.outcome()
    assert (outcome["outcome"], outcome["session_action"]) == ("b2", "end")
    assert run.result.reason == "triage"


def test_outcome_c_rests_offers_to_carry_on_and_skips_the_exercise_that_hurt(tmp_path):
    pain_at = first_hold_of("knee-to-chest")
    # baseline 3, rated 4 at the halt and 4 after the rest: within 2 of the baseline;
    # the pause key at the carry-on prompt means "carry on"
    run = run_session(tmp_path, {"baseline": "3", "S2": "4", "resume": "4", "resume-go": "pause"},
                      [(pain_at, "pain")])
    outcome = run.outcome()
    assert outcome["outcome"] == "c"
    resumed = run.of_type("triage-resume")
    assert resumed and resumed[0]["resumed"] is True and resumed[0]["baseline"] == 3
    assert run.result.reason == "completed" and run.result.exit_code == 0
    later = run.exercises_after(outcome["t"])
    assert "knee-to-chest" not in later and {"glute-bridge"} <= later
    rest = run.of_type("triage-resume")[0]["t"] - outcome["t"]
    assert rest >= 120.0                                     # two minutes' rest on the session clock


def test_outcome_c_without_go_ends_the_session(tmp_path):
    pain_at = first_hold_of("knee-to-chest")
    run = run_session(tmp_path, {"baseline": "3", "S2": "4", "resume": "4", "resume-go": None},
                      [(pain_at, "pain")])
    assert run.outcome()["outcome"] == "c" and run.result.reason == "triage"


def test_sharp_pain_locks_the_exercise_for_the_session_and_it_stays_skipped(tmp_path):
    first_at = first_hold_of("pelvic-tilt")
    answers = {"baseline": "3", "S1": "yes", "S2": "4", "resume": "3", "resume-go": "pause"}
    run = run_session(tmp_path, answers, [(first_at, "pain"), (first_at + 400.0, "pain")])
    first, second = run.of_type("triage-outcome")
    assert first["outcome"] == "c" and first["skip_exercise_ids"] == ["pelvic-tilt"]
    hurt_second = run.of_type("triage-started")[1]["exercise_id"]
    assert hurt_second not in (None, "pelvic-tilt")
    assert set(second["skip_exercise_ids"]) == {"pelvic-tilt", hurt_second}     # the lock from the first
    assert run.result.reason == "completed"
    assert not {"pelvic-tilt", hurt_second} & run.exercises_after(second["t"])
    with history(tmp_path) as h:
        locked = {lock.exercise_id for lock in h.active_locks("s1") if lock.kind == "session-exercise"}
    assert locked == set()          # session locks end with the session


def test_a_rise_of_two_above_the_baseline_is_a_reason(tmp_path):
    pain_at = first_hold_of("pelvic-tilt")
    run = run_session(tmp_path, {"baseline": "2", "S2": "5", "resume": "3", "resume-go": "pause"},
                      [(pain_at, "pain")])
    outcome = run.outcome()
    assert "pain_rose_above_baseline" in outcome["reasons"]


# -- the baseline question ---------------------------------------------------------------

def test_the_baseline_is_asked_before_the_routine_and_stored(tmp_path):
    run = run_session(tmp_path, {"baseline": "4"})
    first_cue = run.of_type("cue-started")[0]["t"]
    baseline = [e for e in run.of_type("triage-question") if e["id"] == "baseline"]
    assert baseline and baseline[0]["t"] < first_cue
    with history(tmp_path) as h:
        assert h.session_baseline("s1") == 4


@pytest.mark.parametrize("answer, reason", [("stop", "stopped"), ("pain", None)])
def test_stop_or_pain_at_the_baseline_question_act_at_once(tmp_path, answer, reason):
    run = run_session(tmp_path, {"baseline": answer, "A1": "yes"})
    assert [e["id"] for e in run.of_type("triage-question")].count("baseline") == 1
    if reason:
        assert run.result.reason == reason and not run.of_type("triage-started")
    else:
        assert run.of_type("triage-started") and run.outcome()["outcome"] == "a"


# -- the same day ------------------------------------------------------------------------

def test_a_second_report_the_same_day_takes_the_short_path(tmp_path):
    first_at = first_hold_of("pelvic-tilt")
    first = run_session(tmp_path, {"baseline": "3", "S2": "4", "resume": "4", "resume-go": "pause"},
                        [(first_at, "pain")], session_id="s1")
    assert first.outcome()["outcome"] == "c" and first.outcome()["mode"] == "full"
    assert first.of_type("triage-started")[0]["exercise_id"] == "pelvic-tilt"
    second_at = first_hold_of("knee-to-chest")
    second = run_session(tmp_path, {"baseline": "3", "S2": "4", "R1": "no", "resume": "4", "resume-go": "pause"},
                         [(second_at, "pain")], session_id="s2")
    outcome = second.outcome()
    assert outcome["mode"] == "recheck" and outcome["short_path"] is True
    asked = second.asked()
    tier_a = [q for q in asked if q.startswith("A")]
    assert "R1" in asked and set(tier_a) == {"A4", "A5", "A7", "A10", "A11"}
    assert len([q for q in first.asked() if q.startswith("A")]) > len(tier_a)


# -- before a session ----------------------------------------------------------------------

def test_the_profile_can_advise_against_starting_and_the_session_is_refused(tmp_path):
    from coach.cli.app import run_routine
    from coach.content.library import load_library
    from coach.session.events import read_events
    from coach.triage.profile import save_flags

    settings = Settings(content_dir=CONTENT, data_dir=tmp_path, cache_dir=tmp_path / "cache", clock="virtual",
                        text=True, events_path=tmp_path / "events.jsonl")
    safety = open_safety(settings, "s0")
    assert gate_line(safety) is None
    with history(tmp_path) as h:
        save_flags(h, {"pregnant": True})
    advice = safety.content.profile_advice["pregnant"].script.get(safety.locale)
    assert gate_line(safety) == advice
    out = io.StringIO()
    routine = next(iter(load_library(CONTENT).routines))
    assert run_routine(settings, routine, stdout=out, stderr=io.StringIO()) == 10
    assert advice in out.getvalue()
    assert [e["type"] for e in read_events(tmp_path / "events.jsonl")] == ["session-blocked"]
