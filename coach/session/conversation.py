"""The runner's side of ``coach.session.dialog.DialogIO``: triage and the questions outside
the routine (baseline, this morning, pain after) spoken through the session's own sink
and speaker, answered by its microphone, listener and keys, on the session clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from coach.content.model import Heard
from coach.session.dialog import DialogIO, PainReport, TriageResult
from coach.session.ports import BaselineHook, DialogHost, PainHook
from coach.session.state import PAIN_TEXT, URGENT_COMMANDS, BaselineRated, CommandHeard

# Shown (not spoken) when keys can answer: the spoken questions name the words.
KEY_HINTS = {
    "yesno": "(keys: y yes, n no, ? not sure, r repeat, s stop)",
    "number": "(keys: 0-9, x for ten, ? not sure, r repeat, s stop)",
    "session": "(keys: space to carry on, s to stop)",
    "rest": "(keys: s to stop, ! pain)",
}
OUTCOME_EVENT = "triage-outcome"     # logged once the safety questions are over


class UrgentHeard(Exception):
    """'stop' or 'pain' answered a question asked before the session started."""

    def __init__(self, heard: Heard) -> None:
        super().__init__(heard.command)
        self.heard = heard


class RunnerDialog:
    """DialogIO over a runner (a ``DialogHost``); every wait is the runner's ``next_heard``.

    While the safety questions are asked, a first 'stop' is an answer (the walker
    then reads the emergency signs). Once they are over (``triage-outcome`` logged),
    or before the routine, 'stop' ends the session: it is latched on the runner, so
    every later wait returns at once and every later line is printed, not spoken.
    ``urgent_raises``: 'stop' or 'pain' as an answer raises UrgentHeard (used before
    the routine starts, where they mean the session command).
    """

    def __init__(self, runner: DialogHost, urgent_raises: bool = False) -> None:
        self.runner = runner
        self.urgent_raises = urgent_raises
        self.questions_over = False

    def say(self, text: str) -> None:
        r = self.runner
        if r.stop_heard is not None or r.pending_heard:
            # 'stop' or 'pain' was said: print, don't speak; the next wait returns it
            r.speak(text, "triage", play=False)
            return
        r.speak(text, "triage")
        heard = r.wait_speech("urgent")
        if heard is not None:
            r.pending_heard.insert(0, heard)
            self._latch(heard)

    def ask(self, text: str, context: str, timeout_seconds: float) -> Heard | None:
        """Answers may come while the question is spoken (that cuts it short)."""
        r = self.runner
        r.set_context(context)
        heard: Heard | None = None
        if r.stop_heard is None and not r.pending_heard:
            r.speak(text, "triage")
            if r.keys is not None and r.view is not None and context in KEY_HINTS:
                r.view.message(KEY_HINTS[context], r.events.now())
            heard = r.wait_speech("all")
        if heard is None:
            heard = r.next_heard(timeout_seconds, answers=True)
        r.pending_heard = [h for h in r.pending_heard if h.command in URGENT_COMMANDS]
        self._latch(heard)
        return self._meaning(heard, context)

    def _latch(self, heard: Heard | None) -> None:
        """A 'stop' once the questions are over ends the session."""
        if heard is not None and heard.command == "stop" and self.questions_over:
            self.runner.stop_heard = heard

    def _meaning(self, heard: Heard | None, context: str) -> Heard | None:
        if heard is None:
            return None
        if self.urgent_raises and heard.command in URGENT_COMMANDS:
            raise UrgentHeard(heard)
        if context == "session" and heard.source == "keyboard" and heard.command == "pause":
            # the carry-on prompt: the pause key toggles, so here it means resume
            return replace(heard, command="resume")
        return heard

    def wait(self, seconds: float) -> Heard | None:
        """Rest for ``seconds`` on the session clock, still listening: returns 'stop'
        or 'pain' at once when heard (or heard before), else None when the time is up."""
        r = self.runner
        r.set_context("session")
        if r.keys is not None and r.view is not None and r.stop_heard is None and not r.pending_heard:
            r.view.message(KEY_HINTS["rest"], r.events.now())
        heard = r.next_heard(seconds)
        self._latch(heard)
        return heard

    def log(self, event_type: str, **fields: Any) -> None:
        self.runner.events.emit(event_type, **fields)
        if event_type == OUTCOME_EVENT:
            self.questions_over = True
            for heard in self.runner.pending_heard:
                self._latch(heard)


def question_conversation(runner: DialogHost, ask: Callable[[DialogIO], Any]) -> tuple[Any, Heard | None]:
    """Ask one question outside the routine (baseline, after the session, this morning):
    (its answer, None), or (None, the 'stop' or 'pain' said instead of an answer)."""
    try:
        return ask(RunnerDialog(runner, urgent_raises=True)), None
    except UrgentHeard as urgent:
        return None, urgent.heard
    finally:
        runner.set_context("session")
        runner.pending_heard.clear()


def baseline_conversation(runner: DialogHost, ask: BaselineHook) -> BaselineRated | CommandHeard:
    """Ask the baseline rating; 'stop' or 'pain' as the answer come back as the
    session command they are."""
    value, urgent = question_conversation(runner, ask)
    if urgent is not None:
        return CommandHeard(urgent, runner.clock.now())
    return BaselineRated(value, runner.clock.now())


def triage_conversation(runner: DialogHost, on_pain: PainHook, report: PainReport) -> TriageResult:
    """Triage over the session's audio; a failing triage still leaves the person safe."""
    runner.pending_heard.clear()
    try:
        return on_pain(RunnerDialog(runner), replace(report, session_id=runner.events.session_id or None))
    except Exception as error:
        runner.events.emit("triage-error", error=f"{type(error).__name__}: {error}")
        runner.speak(PAIN_TEXT, "pain")
        return TriageResult("incomplete", "end", reasons=("triage-error",))
    finally:
        runner.set_context("session")
        runner.pending_heard.clear()
