"""The contract between a running session and the triage conversation.

The runner implements ``DialogIO`` (speak, then listen in a context, with audio
cancelled first); triage drives it and returns a ``TriageResult`` that tells the
session what to do next. Neither side imports the other's internals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from coach.content.model import Heard

SessionAction = Literal["end", "end-today", "skip-exercise", "continue"]


class DialogIO(Protocol):
    def say(self, text: str) -> None:
        """Speak (and print) text; returns when spoken or cut short by 'stop'."""
        ...

    def ask(self, text: str, context: str, timeout_seconds: float) -> Heard | None:
        """Speak a question, then listen in ``context`` (``yesno`` | ``number``).

        Returns the first command heard, or None when nothing usable was heard
        before the timeout (or input ended).
        """
        ...

    def log(self, event_type: str, **fields: Any) -> None:
        """Write one event (``triage-question``, ``triage-answer`` ...) to the session log."""
        ...


@dataclass(frozen=True)
class PainReport:
    """Why triage started: a phrase, a key, or a pain rating that rose."""

    trigger: str                    # "voice" | "keyboard" | "rating"
    text: str = ""
    exercise_id: str | None = None
    session_id: str | None = None
    routine_done: bool = False      # said after the routine completed: nothing to carry on with


@dataclass(frozen=True)
class TriageResult:
    outcome: str                    # "a" | "a-unconfirmed" | "b1" | "b2" | "c" | "incomplete"
    session_action: SessionAction
    reasons: tuple[str, ...] = ()
    skip_exercise_ids: tuple[str, ...] = ()
    script: str = ""                # the outcome text that was spoken and printed
