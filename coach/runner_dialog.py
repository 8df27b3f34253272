"""The runner's side of ``coach.dialog.DialogIO``: triage and the baseline question
spoken through the session's own sink and speaker, answered by its microphone,
listener and keys, on the session clock."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from coach.asr import Heard
from coach.dialog import PainReport, TriageResult
from coach.runner_ports import BaselineHook, PainHook
from coach.session_state import PAIN_TEXT, URGENT_COMMANDS, BaselineRated, CommandHeard

if TYPE_CHECKING:
    from coach.runner import Runner

# Shown (not spoken) when keys can answer: the spoken questions name the words.
KEY_HINTS = {
    "yesno": "(keys: y yes, n no, ? not sure, r repeat, s stop)",
    "number": "(keys: 0-9, x for ten, ? not sure, r repeat, s stop)",
    "session": "(keys: space to carry on, s to stop)",
}


class UrgentHeard(Exception):
    """'stop' or 'pain' answered a question asked before the session started."""

    def __init__(self, heard: Heard) -> None:
        super().__init__(heard.command)
        self.heard = heard


class RunnerDialog:
    """DialogIO over a Runner. ``urgent_raises``: 'stop' or 'pain' as an answer raises
    UrgentHeard (used before the routine starts, where they mean the session command)."""

    def __init__(self, runner: Runner, urgent_raises: bool = False) -> None:
        self.runner = runner
        self.urgent_raises = urgent_raises

    def say(self, text: str) -> None:
        if self.runner.pending_heard:
            # 'stop' or 'pain' was said: print, don't speak; the next ask returns it
            self.runner.speak(text, "triage", play=False)
            return
        self.runner.speak(text, "triage")
        self.runner.wait_speech("urgent")

    def ask(self, text: str, context: str, timeout_seconds: float) -> Heard | None:
        """Answers may come while the question is spoken (that cuts it short)."""
        r = self.runner
        r.set_context(context)
        if not r.pending_heard:
            r.speak(text, "triage")
            if r.keys is not None and r.view is not None and context in KEY_HINTS:
                r.view.message(KEY_HINTS[context], r.events.now())
            r.wait_speech("all")
        if r.pending_heard:
            heard: Heard | None = r.pending_heard.pop(0)
            r.pending_heard = [h for h in r.pending_heard if h.command in URGENT_COMMANDS]
        else:
            heard = self._listen_for(timeout_seconds, urgent_only=False)
        return self._meaning(heard, context)

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
        or 'pain' at once when heard, else None when the time is up."""
        self.runner.set_context("session")
        return self._listen_for(seconds, urgent_only=True)

    def _listen_for(self, seconds: float, urgent_only: bool) -> Heard | None:
        r = self.runner
        deadline = r.clock.now() + seconds
        while r.clock.now() < deadline - 1e-9:
            left = deadline - r.clock.now()
            block = min(left, r.block_seconds) if (r.source or r.keys or r.listener) else left
            heard = r.read_block(block)
            for h in heard:
                r.log_heard(h)
            if urgent_only:
                heard = [h for h in heard if h.command in URGENT_COMMANDS]
            if heard:
                r.pending_heard.extend(heard[1:])
                return heard[0]
        return None

    def log(self, event_type: str, **fields: Any) -> None:
        self.runner.events.emit(event_type, **fields)


def baseline_conversation(runner: Runner, ask: BaselineHook) -> BaselineRated | CommandHeard:
    """Ask the baseline rating; 'stop' or 'pain' as the answer come back as the
    session command they are."""
    try:
        value = ask(RunnerDialog(runner, urgent_raises=True))
        event: BaselineRated | CommandHeard = BaselineRated(value, runner.clock.now())
    except UrgentHeard as urgent:
        event = CommandHeard(urgent.heard, runner.clock.now())
    finally:
        runner.set_context("session")
        runner.pending_heard.clear()
    return event


def triage_conversation(runner: Runner, on_pain: PainHook, report: PainReport) -> TriageResult:
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
