"""'stop' and pain in every state a session waits or speaks in, by key and by voice.

Virtual time, the real triage content, walker, dialog and history; scripted keys
(typed characters, read through the keyboard's own key map in the context of the
moment) and a scripted listener on a silent microphone. Each state's moment comes
from a scout run with the same answers and nobody stopping: the session is causal,
so the same moment comes again when the stop comes later.
"""

from __future__ import annotations

import io
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from coach.cli.app import compose_runner
from coach.cli.adapters import Adapters
from coach.cli.safety import open_safety
from coach.listen.asr import Heard
from coach.listen.keyboard import key_to_heard
from coach.audio.filesource import SilenceSource
from coach.clock import VirtualClock
from coach.session.events import EventLog
from coach.session.runner import RunResult
from coach.script.engine import build_timeline
from coach.cli.settings import Settings
from coach.testing.fakes import AnsweringKeys, RecordingSink, ScriptedListener, SilentSpeaker, sample_library
from coach.session.view import View
from coach.store.history import History

CONTENT = Path(__file__).resolve().parents[2] / "content"
LIB = sample_library()
TIMELINE = build_timeline(LIB.routines["gentle"], LIB)
WITHIN_SECONDS = 0.1
SECOND_STOP_AFTER_SECONDS = 1.0     # inside the safety questions the first 'stop' reads the signs
IDLE_SECONDS = 60.0

pytestmark = pytest.mark.skipif(not (CONTENT / "triage.yaml").exists(), reason="content/triage.yaml is missing")

# Answers that reach "carry on": baseline 3, no sharp pain, 4 now, no to every sign, 3 after the rest, go.
CARRY_ON = {"baseline": "3", "S1": "no", "S2": "4", "resume": "3", "resume-go": "resume"}
# A4 (it has a rewording) never answered: its repeat and its rewording are asked too.
UNANSWERED = {"baseline": "3", "A4": None}
KEYS = {"stop": "s", "pain": "!"}


class TypedKeys(AnsweringKeys):
    """Answers questions like AnsweringKeys; scripted 's' and '!' are typed characters,
    read through the keyboard's key map in the context of the moment."""

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self.context = "session"

    def set_context(self, context: str) -> None:
        self.context = context
        super().set_context(context)

    def poll(self) -> list[Heard]:
        out = []
        for heard in super().poll():
            if heard.text in KEYS.values():
                heard = key_to_heard(heard.text, self.context, self.clock.now())
            if heard is not None:
                out.append(heard)
        return out


@dataclass
class Run:
    result: RunResult
    events: list[dict]

    def of(self, type_: str, **match) -> list[dict]:
        return [e for e in self.events if e["type"] == type_ and all(e.get(k) == v for k, v in match.items())]


def answers_by_id(log: EventLog, answers: dict[str, str | None]):
    def answer(context: str) -> str | None:
        last = log.events[-1] if log.events else {}
        if last.get("type") != "triage-question":
            return None
        if last["id"] in answers:
            return answers[last["id"]]
        return {"yesno": "no", "number": "3"}.get(context)
    return answer


def seed_yesterday(data: Path) -> None:
    """A session yesterday: today's first start asks about this morning."""
    yesterday = datetime.now().astimezone() - timedelta(days=1)
    with History(data / "history.sqlite3", lambda: yesterday) as history:
        history.start_session("yesterday", "gentle", "low")


def run(data: Path, answers: dict[str, str | None], keys=(), voice=(), pain_at: float | None = None,
        pause_at: float | None = None, morning: bool = False) -> Run:
    if morning:
        seed_yesterday(data)
    settings = Settings(content_dir=CONTENT, data_dir=data, cache_dir=data / "cache", clock="virtual",
                        idle_timeout_seconds=IDLE_SECONDS)
    clock = VirtualClock()
    log = EventLog(None, clock, session_id="s")
    a = Adapters(clock, speaker=SilentSpeaker(seconds_per_char=0.02), sink=RecordingSink(clock))
    script = [(t, KEYS[c]) for t, c in keys]
    script += [(pain_at, "pain")] if pain_at is not None else []
    script += [(pause_at, "pause")] if pause_at is not None else []
    a.keys = TypedKeys(clock, script, answers_by_id(log, answers), prompt_contexts=frozenset({"session"}))
    a.source = SilenceSource(clock)
    a.listener = ScriptedListener(list(voice))
    with ExitStack() as stack:
        safety = open_safety(settings, "s")
        runner = compose_runner(settings, TIMELINE, a, log, View(io.StringIO(), live=False), safety, stack)
        result = runner.run()
    return Run(result, log.events)


# -- the states, and a moment inside each ------------------------------------------

PAIN_AT = 4.0                       # the first exercise is under way (after the baseline question)


@cache
def scout(kind: str, data: Path) -> Run:
    if kind == "carry-on":
        return run(data / kind, CARRY_ON, pain_at=PAIN_AT)
    if kind == "unanswered":
        return run(data / kind, UNANSWERED, pain_at=PAIN_AT)
    if kind == "plain":
        return run(data / kind, CARRY_ON)                              # nobody stops: the whole routine
    if kind == "morning":
        return run(data / kind, CARRY_ON, morning=True)                # yesterday's session: this morning?
    return run(data / kind, CARRY_ON, pause_at=PAIN_AT)          # paused, then the idle timeout


def _cue(r: Run, after: float = 0.0, **match) -> float:
    return next(e["t"] for e in r.of("cue-started", **match) if e["t"] >= after)


def _question(r: Run, qid: str, attempt: str = "first") -> float:
    return r.of("triage-question", id=qid, attempt=attempt)[0]["t"]


def _said(r: Run, starts: str) -> float:
    return next(e["t"] for e in r.of("said") if e["text"].startswith(starts))


# state -> (scout, moment from the scout's log, where the state stands)
STATES = {
    "morning question": ("morning", lambda r: _question(r, "morning") + 0.1, "before"),
    "baseline question": ("carry-on", lambda r: 0.1, "before"),
    "cue speaking": ("plain", lambda r: _cue(r, kind="say", purpose="intro") + 0.1, "before"),
    "hold": ("plain", lambda r: _cue(r, purpose="hold") + 1.0, "before"),
    "count": ("plain", lambda r: _cue(r, kind="count") + 0.1, "before"),
    "rest": ("plain", lambda r: _cue(r, purpose="rest") + 1.0, "before"),
    "listen-for-next": ("plain", lambda r: _cue(r, kind="listen") + 0.5, "before"),
    "closing words": ("plain", lambda r: _cue(r, purpose="outro") + 0.1, "before"),
    "pain after the routine question": ("plain", lambda r: _question(r, "after") + 0.1, "after-routine"),
    "paused": ("paused", lambda r: PAIN_AT + 5.0, "before"),
    "idle timeout (just before)": ("paused", lambda r: PAIN_AT + IDLE_SECONDS - 0.5, "before"),
    "safety question yes/no": ("carry-on", lambda r: _question(r, "S1") + 0.1, "questions"),
    "safety question 0-10": ("carry-on", lambda r: _question(r, "S2") + 0.1, "questions"),
    "safety question repeat": ("unanswered", lambda r: _question(r, "A4", "repeat") + 0.1, "questions"),
    "safety question rewording": ("unanswered", lambda r: _question(r, "A4", "clarifier") + 0.1, "questions"),
    "outcome script": ("carry-on", lambda r: _said(r, "Thanks.") + 0.5, "outcome"),
    "rest line after carry on": ("carry-on", lambda r: _said(r, "Please rest") + 0.5, "after-outcome"),
    "rest after carry on": ("carry-on", lambda r: _said(r, "Please rest") + 30.0, "after-outcome"),
    "re-rating after the rest": ("carry-on", lambda r: _question(r, "resume") + 0.1, "after-outcome"),
    "say go to carry on": ("carry-on", lambda r: _question(r, "resume-go") + 0.1, "after-outcome"),
    "routine after carry on": ("carry-on", lambda r: _question(r, "resume-go") + 3.0, "after-triage"),
}


@pytest.fixture(scope="module")
def scouts(tmp_path_factory) -> Path:
    """One data folder for the scout runs of the whole module (each runs once)."""
    return tmp_path_factory.mktemp("scouts")


def test_every_state_is_reached_by_its_scout(scouts):
    tmp_path = scouts
    for name, (kind, moment, _where) in STATES.items():
        r = scout(kind, tmp_path)
        assert 0.0 < moment(r) < r.events[-1]["t"], name
    assert scout("carry-on", tmp_path).of("triage-resume")[0]["resumed"] is True
    assert scout("unanswered", tmp_path).of("triage-outcome")[0]["outcome"] == "a-unconfirmed"


def _at(name: str, data: Path) -> tuple[str, float, str]:
    kind, moment, where = STATES[name]
    return kind, round(moment(scout(kind, data)), 3), where


def _inputs(command: str, way: str, times: list[float]) -> dict:
    if way == "key":
        return {"keys": [(t, command) for t in times]}
    return {"voice": [(t, command) for t in times]}


def _answers(kind: str) -> dict:
    return UNANSWERED if kind == "unanswered" else CARRY_ON


def _pause_at(kind: str) -> float | None:
    return PAIN_AT if kind == "paused" else None


def _pain_at(kind: str) -> float | None:
    return None if kind in ("paused", "plain", "morning") else PAIN_AT


def assert_stop_ended(r: Run, stop_at: float) -> None:
    """The session ended within 0.1 s of the stop that ended it, audio cancelled first, exit 10."""
    assert r.result.exit_code == 10, r.result
    ended = r.of("session-ended")[0]
    stops = [e for e in r.of("command-heard", command="stop") if e["t"] <= ended["t"]]
    assert stops and stops[-1]["t"] >= stop_at - 1e-6
    last = stops[-1]["t"]
    assert ended["t"] - last <= WITHIN_SECONDS, (ended, stops)
    assert any(last - 1e-6 <= e["t"] <= ended["t"] for e in r.of("audio-cancelled")), "audio was not cancelled"
    assert r.events.index(r.of("audio-cancelled", )[-1]) < r.events.index(ended)
    once = [e for e in r.of("audio-cancelled", reason="stop") if last - 1e-6 <= e["t"] <= ended["t"]]
    assert len(once) <= 1, f"audio-cancelled logged {len(once)} times for one stop"
    assert not [e for e in r.of("cue-started") if e["t"] > last + 1e-6]


@pytest.mark.parametrize("way", ["key", "voice"])
@pytest.mark.parametrize("state", list(STATES))
def test_stop_ends_the_session_at_once(tmp_path, scouts, state, way):
    kind, t, where = _at(state, scouts)
    times = [t, t + SECOND_STOP_AFTER_SECONDS] if where == "questions" else [t]
    r = run(tmp_path / "run", _answers(kind), pain_at=_pain_at(kind), pause_at=_pause_at(kind),
            morning=kind == "morning", **_inputs("stop", way, times))
    assert_stop_ended(r, t)
    if where == "questions":
        # the first 'stop' answered the question: the emergency signs were read, and stay on screen
        answered = r.of("triage-answer", heard_command="stop")
        assert answered and answered[0]["answer"] == "stop"
        assert r.of("triage-outcome")[0]["outcome"] == "incomplete"
        assert any("emergency signs" in e["text"] for e in r.of("said"))
    elif where == "before":
        assert r.result.reason == "stopped"
    elif where == "after-routine":
        # the routine was done, but stop means stop: nothing more is asked
        assert r.result.reason == "stopped" and not r.of("pain-after", answer="number")


@pytest.mark.parametrize("way", ["key", "voice"])
@pytest.mark.parametrize("state", list(STATES))
def test_pain_starts_the_safety_questions_or_is_the_cautious_answer(tmp_path, scouts, state, way):
    kind, t, where = _at(state, scouts)
    first_pain = None if where in ("before", "after-routine") else _pain_at(kind)
    r = run(tmp_path / "run", _answers(kind), pain_at=first_pain, pause_at=_pause_at(kind),
            morning=kind == "morning", **_inputs("pain", way, [t]))
    heard = [e for e in r.of("command-heard", command="pain") if e["t"] >= t - 1e-6][0]
    if where in ("before", "after-triage", "after-routine"):
        started = [e for e in r.of("triage-started") if e["t"] >= heard["t"]]
        assert started and started[0]["t"] - heard["t"] <= WITHIN_SECONDS
        cancelled = [e for e in r.of("audio-cancelled") if heard["t"] <= e["t"] <= started[0]["t"]]
        assert cancelled and r.events.index(cancelled[0]) < r.events.index(started[0])
    elif where == "questions":
        answer = [e for e in r.of("triage-answer") if e["t"] >= heard["t"]][0]
        assert (answer["answer"], answer["heard_command"]) == ("unknown", "pain")   # counts as "yes" in the end
    else:   # the outcome and the offer to carry on: pain means no carrying on
        assert r.of("triage-resume")[0]["resumed"] is False
        assert r.result.exit_code == 10
        assert r.of("session-ended")[0]["t"] - heard["t"] <= WITHIN_SECONDS + 2.0    # "We'll end the session here."


def test_keys_that_mean_nothing_over_the_outcome_are_not_shown(tmp_path, scouts):
    _kind, t, _ = _at("outcome script", scouts)
    clock_keys = [(t, "no"), (t + 0.2, "no"), (t + 0.4, "no")]
    r = _run_with_raw_keys(tmp_path / "raw", clock_keys)
    over = [e for e in r.events if e.get("command") == "no" and t - 1e-6 <= e["t"] <= t + 1.0]
    assert over and all(e["type"] == "command-ignored" for e in over)


def _run_with_raw_keys(data: Path, extra: list[tuple[float, str]]) -> Run:
    """The carry-on run with extra keys typed as commands in the context of the moment."""
    settings = Settings(content_dir=CONTENT, data_dir=data, cache_dir=data / "cache", clock="virtual")
    clock = VirtualClock()
    log = EventLog(None, clock, session_id="s")
    a = Adapters(clock, speaker=SilentSpeaker(seconds_per_char=0.02), sink=RecordingSink(clock))
    a.keys = AnsweringKeys(clock, [(PAIN_AT, "pain"), *extra], answers_by_id(log, CARRY_ON),
                           prompt_contexts=frozenset({"session"}))
    with ExitStack() as stack:
        runner = compose_runner(settings, TIMELINE, a, log, View(io.StringIO(), live=False),
                                open_safety(settings, "s"), stack)
        result = runner.run()
    return Run(result, log.events)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fraction=st.floats(min_value=0.0, max_value=1.0), way=st.sampled_from(["key", "voice"]),
       kind=st.sampled_from(["plain", "carry-on", "unanswered", "paused", "morning"]))
def test_stop_at_any_moment_ends_the_session_within_a_tenth_of_a_second(tmp_path, scouts, fraction, way, kind):
    """From any reachable state at any time: 'stop' (and, if the first one answered a
    safety question, a second one) gives session-ended within 0.1 s, after audio-cancelled."""
    scouted = scout(kind, scouts)
    t = round(0.05 + fraction * (scouted.events[-1]["t"] - 0.1), 3)
    r = run(tmp_path / f"p-{kind}-{way}-{t}", _answers(kind), pain_at=_pain_at(kind), pause_at=_pause_at(kind),
            morning=kind == "morning", **_inputs("stop", way, [t, t + SECOND_STOP_AFTER_SECONDS]))
    assert_stop_ended(r, t)
    first = [e for e in r.of("command-heard", command="stop")][0]
    if r.of("session-ended")[0]["t"] - first["t"] > WITHIN_SECONDS:
        assert r.of("triage-answer", heard_command="stop"), "only a safety answer may take the first stop"
