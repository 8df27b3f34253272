"""The runner's waiting half: every wait of a session goes through ``next_heard``.

A wait runs block by block: it reads the microphone (or sleeps on the clock),
feeds the listener, polls the keys, and takes or quietly ignores what was heard.
A lost microphone falls back to keys, or to the clock alone. ``Runner`` (the
performing half, ``coach.session.runner``) inherits it, so both halves share one
state: the urgent commands heard but not yet taken, and a latched 'stop'.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from coach.audio import AudioSink, AudioSource
from coach.clock import Clock
from coach.content.model import Heard
from coach.session import policy as s
from coach.session.events import EventLog
from coach.session.ports import KeyInput, Listener
from coach.session.view import View, level_db

LIVE_VIEW_BLOCK_SECONDS = 0.25
MIC_LOST_TEXT = "I can't hear the microphone any more. You can use the keyboard instead."
MIC_LOST_NO_KEYS_TEXT = "I can't hear the microphone any more. The session goes on."


class Waiting:
    """The input half of ``Runner``; the attributes are the runner's, set in its ``__init__``."""

    clock: Clock
    events: EventLog
    sink: AudioSink
    source: AudioSource | None
    listener: Listener | None
    keys: KeyInput | None
    view: View | None
    fallback_keys: Callable[[], KeyInput | None] | None
    block_seconds: float
    result: Any
    pending_heard: list[Heard]
    stop_heard: Heard | None
    silenced_for: str | None

    # provided by Runner, the performing half
    speak: Callable[..., float]
    cancel_audio: Callable[[], None]
    _dispatch: Callable[[s.Event], None]

    def _block_for(self, wait_seconds: float) -> float:
        if self.source is not None or self.keys is not None or self.listener is not None:
            return min(wait_seconds, self.block_seconds)
        if self.view is not None and self.view.live:
            return min(wait_seconds, LIVE_VIEW_BLOCK_SECONDS)
        return wait_seconds

    def read_block(self, seconds: float) -> list[Heard]:
        """Wait one block: read the microphone (or sleep), return what was heard in it."""
        heard: list[Heard] = []
        if self.source is not None:
            chunk = self.source.read(seconds)
            if chunk is None:
                self._microphone_lost()
            else:
                if self.view is not None and self.view.live:
                    self.view.level(level_db(chunk.pcm))
                if self.listener is not None:
                    heard.extend(self.listener.feed(chunk, self.sink.is_playing()))
        else:
            self.clock.sleep(seconds)
        if self.keys is not None:
            heard.extend(self.keys.poll())
            if getattr(self.keys, "ended", False):
                self.events.emit("input-ended", source="keyboard")
                self.keys = None
                if self.source is None:
                    self._dispatch(s.InputEnded(self.clock.now()))
        return heard

    def _microphone_lost(self) -> None:
        """A lost device never ends the session: fall back to keys, or to the clock alone."""
        self.events.emit("input-ended", source="microphone")
        self.source = None
        if self.keys is None and self.fallback_keys is not None:
            self.keys = self.fallback_keys()
        if self.keys is not None:
            self.speak(MIC_LOST_TEXT, "notice")
            self.set_context("session")
        else:
            self.speak(MIC_LOST_NO_KEYS_TEXT, "notice")
            self._dispatch(s.InputEnded(self.clock.now()))

    def _listen(self, seconds: float) -> None:
        """One block of the routine: every command goes to the policy, which halts
        the audio itself for 'stop' and pain (``CancelAudio`` first)."""
        heard = self.next_heard(seconds, answers=True, halt=False)
        while heard is not None and self.result is None:
            self._dispatch(s.CommandHeard(heard, self.clock.now()))
            heard = self._queued(answers=True)

    def next_heard(self, seconds: float, *, until_quiet: bool = False, answers: bool = False,
                   halt: bool = True, record: bool = True) -> Heard | None:
        """The one wait of a session: block by block for ``seconds`` (and, with
        ``until_quiet``, no longer than the sink plays), listening all the time.

        A latched 'stop' returns at once, and so do urgent commands queued by an
        earlier wait. 'stop' and pain always return, with the audio cancelled in
        the block they are heard in (``halt``; the routine's policy does it itself).
        ``answers``: any other command returns too; otherwise it is ignored quietly
        (logged as ``command-ignored``, not shown). ``record=False`` after the end:
        nothing is logged and 'stop' only silences the sink.
        """
        if self.stop_heard is not None:
            return self.stop_heard
        queued = self._queued(answers)
        if queued is not None:
            return queued
        deadline, left = self.clock.now() + seconds, seconds
        while left > 1e-9 and (not until_quiet or self.sink.is_playing()):
            block = self._block_for(left) if not until_quiet else min(left, self.block_seconds)
            taken = [h for h in self.read_block(block) if self._takes(h, answers, record)]
            left = deadline - self.clock.now()
            if not taken:
                continue
            self.pending_heard.extend(taken[1:])
            heard = taken[0]
            if halt and (heard.command in s.URGENT_COMMANDS or self.sink.is_playing()):
                self._halt(heard.command, record)
            return heard
        return None

    def _takes(self, heard: Heard, answers: bool, record: bool) -> bool:
        """Whether a wait takes ``heard``: logged (and shown) if so, else quietly noted."""
        take = answers or heard.command in s.URGENT_COMMANDS
        if record:
            if take:
                self.log_heard(heard)
            else:
                self.events.emit("command-ignored", command=heard.command, value=heard.value,
                                 text=heard.text, source=heard.source)
        return take

    def _queued(self, answers: bool) -> Heard | None:
        """The next queued command a wait takes: any (answers), else the first urgent one."""
        for i, heard in enumerate(self.pending_heard):
            if answers or heard.command in s.URGENT_COMMANDS:
                return self.pending_heard.pop(i)
        return None

    def _halt(self, reason: str, record: bool = True) -> None:
        self.cancel_audio()
        if record:
            self.events.emit("audio-cancelled", reason=reason, cue_index=None)
            self.silenced_for = reason

    def log_heard(self, heard: Heard) -> None:
        self.events.emit("command-heard", command=heard.command, value=heard.value, text=heard.text,
                         confidence=round(heard.confidence, 3), source=heard.source,
                         audio_start=self._session_seconds(heard.audio_start_seconds),
                         audio_end=self._session_seconds(heard.audio_end_seconds))
        if self.view:
            self.view.heard(heard, self.events.now())

    def _session_seconds(self, clock_seconds: float | None) -> float | None:
        """A clock reading (as audio chunks carry) as session time, like ``t``."""
        if clock_seconds is None:
            return None
        return round(clock_seconds - self.events.origin_seconds, 3)

    def set_context(self, name: str) -> None:
        for target in (self.listener, self.keys):
            if target is not None and hasattr(target, "set_context"):
                target.set_context(name)
