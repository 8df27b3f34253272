"""What the runner plugs into (speaker, listener, keys, the triage and baseline hooks)
and what it hands back (how the session ended, as an exit status)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from coach.listen.asr import Heard
from coach.audio import AudioChunk
from coach.session.dialog import DialogIO, PainReport, TriageResult
from coach.errors import EXIT_OK, EXIT_SAFETY_STOP

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


PainHook = Callable[[DialogIO, PainReport], TriageResult]
BaselineHook = Callable[[DialogIO], "int | None"]   # the session's baseline pain rating


@dataclass(frozen=True)
class RunResult:
    reason: str
    exit_code: int


def exit_code_for(reason: str) -> int:
    """0 when the routine completed (or ended idle), 10 when stop, pain or triage ended it."""
    return EXIT_SAFETY_STOP if reason.startswith(SAFETY_REASONS) else EXIT_OK


