"""What the runner plugs into (speaker, listener, keys, the triage and baseline hooks),
what it offers the conversations it holds (``DialogHost``), and what it hands back
(how the session ended, as an exit status)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from coach.content.model import Heard
from coach.audio import AudioChunk
from coach.clock import Clock
from coach.session.dialog import DialogIO, PainReport, TriageResult
from coach.errors import EXIT_OK, EXIT_SAFETY_STOP
from coach.session.events import EventLog
from coach.session.view import View

SAFETY_REASONS = ("stopped", "pain", "triage")


class Speaker(Protocol):
    def pcm(self, text: str) -> bytes: ...


class Listener(Protocol):
    """Also, optionally, ``note_cancel(at_seconds)``: where the runner cut playback short."""

    def feed(self, chunk: AudioChunk, speaking: bool) -> list[Heard]: ...
    def set_context(self, name: str) -> None: ...
    def note_playback(self, text: str, pcm: bytes, start_seconds: float) -> None: ...


class KeyInput(Protocol):
    def poll(self) -> list[Heard]: ...


class DialogHost(Protocol):
    """What a conversation (``coach.session.conversation``) uses of the runner, so it
    needs no import of it: the clock, log, keys and view, speech and the one wait, and
    the commands heard but not yet taken."""

    clock: Clock
    events: EventLog
    keys: KeyInput | None
    view: View | None
    pending_heard: list[Heard]
    stop_heard: Heard | None

    def speak(self, text: str, purpose: str, play: bool = True) -> float: ...
    def wait_speech(self, collect: str = "urgent") -> Heard | None: ...
    def next_heard(self, seconds: float, *, until_quiet: bool = False, answers: bool = False,
                   halt: bool = True, record: bool = True) -> Heard | None: ...
    def set_context(self, name: str) -> None: ...


PainHook = Callable[[DialogIO, PainReport], TriageResult]
BaselineHook = Callable[[DialogIO], "int | None"]   # the session's baseline pain rating
AfterHook = Callable[[DialogIO], "int | None"]      # pain right after a completed routine
MorningHook = Callable[[DialogIO], str]             # this morning vs usual: worse | usual | unanswered


@dataclass(frozen=True)
class RunResult:
    reason: str
    exit_code: int


def exit_code_for(reason: str) -> int:
    """0 when the routine completed (or ended idle), 10 when stop, pain or triage ended it."""
    return EXIT_SAFETY_STOP if reason.startswith(SAFETY_REASONS) else EXIT_OK


