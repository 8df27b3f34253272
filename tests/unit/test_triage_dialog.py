"""run_triage over a scripted DialogIO: what is said, asked, logged, returned and
recorded in history (virtual time, a fake wall clock)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from coach.listen.asr import Heard
from coach.clock import VirtualClock
from coach.session.dialog import PainReport
from coach.store.history import History
from coach.triage.content import load_triage
from coach.triage.dialog import choose_plan, heard_to_answer, run_triage

CONTENT_DIR = Path(__file__).resolve().parents[2] / "content"
CONTENT = load_triage(CONTENT_DIR / "triage.yaml")
YES, NO = Heard("yes", text="yes", confidence=0.9), Heard("no", text="no", confidence=0.9)


def number(value: int) -> Heard:
    return Heard("number", value=value, text=str(value), confidence=0.8)


class ScriptedIO:
    """A DialogIO answering from ``script[question id]`` (one Heard per ask), else ``default``."""

    def __init__(self, script: dict[str, list[Heard | None]] | None = None,
                 default: Callable[[str, str], Heard | None] | None = None) -> None:
        self.script = {k: list(v) for k, v in (script or {}).items()}
        self.default = default or (lambda qid, context: number(3) if context == "number" else NO)
        self.events: list[tuple[str, Any]] = []
        self.logs: list[tuple[str, dict]] = []
        self._qid: str | None = None

    def say(self, text: str) -> None:
        self.events.append(("say", text))

    def ask(self, text: str, context: str, timeout_seconds: float) -> Heard | None:
        qid = self._qid or "?"
        self.events.append(("ask", (qid, text, context, timeout_seconds)))
        if self.script.get(qid):
            return self.script[qid].pop(0)
        return self.default(qid, context)

    def log(self, event_type: str, **fields: Any) -> None:
        self.logs.append((event_type, fields))
        if event_type == "triage-question":
            self._qid = fields["id"]

    def asked_ids(self) -> list[str]:
        return [payload[0] for kind, payload in self.events if kind == "ask"]

    def said(self) -> list[str]:
        return [payload for kind, payload in self.events if kind == "say"]


class WallClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def wall() -> WallClock:
    return WallClock()


@pytest.fixture
def history(tmp_path, wall):
    store = History(tmp_path / "history.sqlite3", wall)
    yield store
    store.close()


def triage(io, history=None, profile=(), locale=None, report=None, clock=None, **kwargs):
    report = report or PainReport("voice", "it hurts", exercise_id="bridge", session_id=None)
    return run_triage(io, report, CONTENT, frozenset(profile), history, locale, clock or VirtualClock(), **kwargs)


def test_halt_then_instruction_then_questions_with_timeout():
    io = ScriptedIO()
    result = triage(io)
    kinds = [kind for kind, _ in io.events]
    assert io.events[0] == ("say", "Please stop and get into a comfortable position.")
    assert io.events[1] == ("say", "Please answer yes or no. If you're not sure, say yes.")
    assert kinds[2] == "ask"
    first = io.events[2][1]
    assert first[0] == "S1" and first[2] == "yesno" and first[3] == CONTENT.timeout_seconds == 8
    assert result.outcome == "c" and result.session_action == "continue"
    assert result.skip_exercise_ids == ("bridge",)
    assert io.said()[-1] == result.script and result.script.endswith(CONTENT.line("disclaimer", "en-US"))
    assert ("S2", "number") in [(p[0], p[2]) for k, p in io.events if k == "ask"]


def test_logs_question_answer_and_outcome_with_confidence():
    io = ScriptedIO({"A3": [Heard("no", text="no", confidence=0.72)]})
    triage(io)
    answers = [fields for event, fields in io.logs if event == "triage-answer"]
    a3 = [fields for fields in answers if fields["id"] == "A3"][0]
    assert a3["answer"] == "no" and a3["confidence"] == pytest.approx(0.72)
    assert [event for event, _ in io.logs].count("triage-outcome") == 1
    assert sum(1 for event, _ in io.logs if event == "triage-question") == len(io.asked_ids())


def test_a_speaks_the_emergency_script_and_locks(history):
    io = ScriptedIO({"A7": [YES]})
    result = triage(io, history)
    assert result.outcome == "a" and result.session_action == "end"
    assert "Call 911" in result.script and "numbness or tingling around your genitals" in result.script
    assert CONTENT.line("ces_line", "en-US") in result.script
    assert io.asked_ids()[-1] == "A7"
    assert history.exercise_blocked().reason == "a"


def test_en_gb_numbers():
    result = triage(ScriptedIO({"B3": [YES]}), locale="en-GB")
    assert result.outcome == "b1" and "111" in result.script and result.session_action == "end-today"
    result = triage(ScriptedIO({"A1": [YES]}), locale="en-GB")
    assert "Call 999" in result.script


def test_v01_a_unconfirmed_speaks_every_applicable_sign(history):
    io = ScriptedIO({"A4": [None, None, None]})
    result = triage(io, history, profile={"cancer_history"})
    assert result.outcome == "a-unconfirmed" and result.session_action == "end"
    for question in CONTENT.questions:
        if question.tier == "A":
            shown = question.sign.get("en-US") in result.script
            assert shown == (question.requires in (None, "cancer_history")), question.id
    assert history.exercise_blocked() is not None
    stored = history.triage_answers(history.recent_outcomes(1)[0].triage_id)
    assert [(r["question_id"], r["attempt"], r["answer"]) for r in stored if r["question_id"] == "A4"] == [
        ("A4", "first", "unknown"), ("A4", "repeat", "unknown"), ("A4", "clarifier", "unknown")]


def test_v03_go_is_not_an_answer():
    io = ScriptedIO({"A1": [Heard("resume", text="go"), NO]})
    result = triage(io)
    attempts = [f["attempt"] for e, f in io.logs if e == "triage-question" and f["id"] == "A1"]
    assert attempts == ["first", "repeat"]
    assert result.outcome == "c"


def test_repeat_asks_again_without_using_an_attempt():
    io = ScriptedIO({"A1": [Heard("repeat"), Heard("repeat"), NO]})
    triage(io)
    attempts = [f["attempt"] for e, f in io.logs if e == "triage-question" and f["id"] == "A1"]
    assert attempts == ["first", "first", "first"]


def test_pain_word_during_triage_is_not_an_answer():
    assert heard_to_answer(Heard("pain")).kind == "unknown"
    assert heard_to_answer(None).kind == "unknown"
    assert heard_to_answer(Heard("number", value=10)).value == 10


def test_v04_stop_at_a7_incomplete_locked_and_next_triage_is_full(history):
    io = ScriptedIO({"A7": [Heard("stop")]})
    result = triage(io, history)
    assert result.outcome == "incomplete" and result.session_action == "end"
    assert CONTENT.line("safety_net", "en-US") in result.script and "call 911 now" in result.script
    assert "chest pain" in result.script
    assert history.exercise_blocked().reason == "incomplete"
    assert choose_plan(history).mode == "full"
    again = ScriptedIO()
    assert triage(again, history).outcome == "c"
    assert "R1" not in again.asked_ids()
    assert history.exercise_blocked() is None


def test_v09_second_report_same_day_takes_the_short_path(history, wall):
    triage(ScriptedIO(), history)
    wall.now += timedelta(hours=1)
    io = ScriptedIO()
    result = triage(io, history)
    assert io.asked_ids() == ["S1", "S2", "R1", "A4", "A5", "A7", "A10", "A11"]
    assert result.outcome == "c"
    wall.now += timedelta(days=1)
    io = ScriptedIO()
    triage(io, history)
    assert "R1" not in io.asked_ids() and "C9" in io.asked_ids()


def test_locks_survive_a_restart(tmp_path, wall):
    path = tmp_path / "h.sqlite3"
    with History(path, wall) as first:
        assert triage(ScriptedIO({"A13": [YES]}), first).outcome == "a"
    with History(path, wall) as second:
        assert second.exercise_blocked().reason == "a"
        assert choose_plan(second).mode == "full"
        triage(ScriptedIO(), second)
        assert second.exercise_blocked() is None


def test_b1_locks_today_only(history, wall):
    result = triage(ScriptedIO({"B7": [YES]}), history)
    assert result.session_action == "end-today"
    assert history.exercise_blocked().kind == "today"
    wall.now += timedelta(hours=13, minutes=59)
    assert history.exercise_blocked() is not None
    wall.now += timedelta(minutes=2)
    assert history.exercise_blocked() is None


def test_t37_severe_pain_rests_in_virtual_time_then_ends_with_b2(history):
    clock = VirtualClock()
    io = ScriptedIO({"S2": [number(8)], "S2R": [number(8)]})
    result = triage(io, history, clock=clock)
    assert clock.now() == pytest.approx(120)
    assert CONTENT.line("rest", "en-US") in io.said()
    assert (result.outcome, result.session_action) == ("b2", "end")
    assert result.script.startswith("Please stop exercising for this session.")
    ratings = history.pain_trend()
    assert ratings[0]["count"] == 2 and ratings[0]["high"] == 8


def test_b2_from_c1_skips_the_exercise(history):
    result = triage(ScriptedIO({"C1": [YES]}), history)
    assert (result.outcome, result.session_action, result.skip_exercise_ids) == ("b2", "skip-exercise", ("bridge",))
    assert result.script.startswith("Please stop this exercise.")


def test_skip_ids_include_exercises_locked_earlier_in_the_session(history):
    history.start_session("s1", "morning")
    first = PainReport("keyboard", "!", exercise_id="bridge", session_id="s1")
    triage(ScriptedIO({"S1": [YES]}), history, report=first, offer_resume=False)
    second = PainReport("voice", "it hurts", exercise_id="cat-cow", session_id="s1")
    result = triage(ScriptedIO(), history, report=second, offer_resume=False)
    assert result.skip_exercise_ids == ("cat-cow", "bridge")
    history.end_session("s1", "finished")
    assert [lock for lock in history.active_locks("s1") if lock.kind == "session-exercise"] == []


@pytest.mark.parametrize("rerate, go, action", [
    (3, Heard("resume", text="go"), "continue"),
    (3, NO, "end"),
    (3, None, "end"),
    (5, Heard("resume", text="go"), "end"),     # 3 above the baseline of 2
])
def test_v10_resume_after_c_needs_the_rating_back_and_go(history, rerate, go, action):
    history.start_session("s2")
    history.add_pain_rating(2, "baseline", "s2")
    clock = VirtualClock()
    report = PainReport("voice", "ouch", exercise_id="bridge", session_id="s2")
    io = ScriptedIO({"resume": [number(rerate)], "resume-go": [go]})
    result = triage(io, history, report=report, clock=clock)
    assert result.outcome == "c" and result.session_action == action
    assert clock.now() == pytest.approx(CONTENT.pain_rules.rest_seconds)
    prompts = [payload for kind, payload in io.events if kind == "ask" and payload[0] == "resume-go"]
    if rerate <= 2 + CONTENT.pain_rules.resume_within:
        assert prompts == [("resume-go", CONTENT.line("resume_prompt", "en-US"), "session", 8)]
    else:
        assert prompts == []


def test_no_resume_without_a_baseline(history):
    report = PainReport("voice", "ouch", exercise_id="bridge", session_id="s3")
    io = ScriptedIO({"resume": [number(0)], "resume-go": [Heard("resume")]})
    result = triage(io, history, report=report)
    assert result.session_action == "end" and "resume-go" not in io.asked_ids()


def test_format_script_has_no_placeholders_left():
    for locale in CONTENT.locales:
        for yes in ("A4", "A1", "B3", "C1", "C7"):
            result = triage(ScriptedIO({yes: [YES]}), locale=locale)
            assert "{" not in result.script and "  " not in result.script


def test_the_a_script_is_the_very_next_thing_said():
    io = ScriptedIO({"A9": [YES]})
    result = triage(io)
    last_ask = max(i for i, (kind, _) in enumerate(io.events) if kind == "ask")
    assert io.events[last_ask + 1:] == [("say", result.script)]


def test_pain_hook_for_the_session(tmp_path):
    from types import SimpleNamespace

    from coach.cli.safety import make_pain_hook

    settings = SimpleNamespace(content_dir=CONTENT_DIR, data_dir=tmp_path, locale="en-GB")
    on_pain = make_pain_hook(settings, "sess-1", VirtualClock())
    result = on_pain(ScriptedIO({"A16": [YES]}), PainReport("keyboard", "!", exercise_id="bridge"))
    assert result.outcome == "a" and "999" in result.script
    with History(tmp_path / "history.sqlite3") as history:
        assert history.recent_sessions()[0]["id"] == "sess-1"
        assert history.recent_outcomes(1)[0].session_id == "sess-1"
        assert history.exercise_blocked().reason == "a"


def test_exercise_gate_and_baseline(history, wall):
    from coach.triage.profile import Profile
    from coach.triage.dialog import ask_baseline, exercise_gate

    assert exercise_gate(CONTENT, history, Profile(), "en-US") is None
    assert "pregnant" in exercise_gate(CONTENT, history, Profile(frozenset({"pregnant"})), "en-US")
    triage(ScriptedIO({"B3": [YES]}), history)
    assert exercise_gate(CONTENT, history, Profile(), "en-US") == CONTENT.line("locked_today", "en-US")
    wall.now += timedelta(days=1)
    history.start_session("s9")
    io = ScriptedIO({"baseline": [Heard("yes"), number(2)]})
    assert ask_baseline(io, CONTENT, history, "s9", "en-US") == 2
    assert history.session_baseline("s9") == 2


class WaitingIO(ScriptedIO):
    """A DialogIO that listens while the person rests (as the session runner can)."""

    def __init__(self, during_rest: Heard | None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.during_rest = during_rest
        self.waited: list[float] = []

    def wait(self, seconds: float) -> Heard | None:
        self.waited.append(seconds)
        return self.during_rest


def test_rest_through_the_dialog_and_stop_during_it():
    clock = VirtualClock()
    io = WaitingIO(None, script={"S2": [number(9)], "S2R": [number(3)]})
    assert triage(io, clock=clock).outcome == "c"
    assert io.waited == [120] and clock.now() == 0
    io = WaitingIO(Heard("stop"), script={"S2": [number(9)]})
    result = triage(io)
    assert result.outcome == "incomplete" and "S2R" not in io.asked_ids()
