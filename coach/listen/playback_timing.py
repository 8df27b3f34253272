"""Tell the listener when the coach's speech really sounds, not when it was queued.

On a real device a sound starts a block or more after ``play`` (later still when
it queues behind other speech), and by a different amount each time. Noted at
``play``, each cue would reach the echo canceller shifted by its own few
milliseconds, so the canceller would have to find the echo path again for every
cue, and the start of each cue would go uncancelled. ``DeviceTimedListener``
holds each playback until the sink reports the time its first sample reached the
converter, then notes it at that time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from coach.content.model import Heard
from coach.audio import AudioChunk


class TimedSink(Protocol):
    def next_play_mark(self) -> int: ...
    def onset_seconds(self, mark: int) -> float | None: ...
    def never_sounds(self, mark: int) -> bool: ...


@dataclass(frozen=True)
class _Queued:
    text: str
    pcm: bytes
    mark: int


class DeviceTimedListener:
    """A listener whose ``note_playback`` waits for the sink's real start time."""

    def __init__(self, listener: Any, sink: TimedSink) -> None:
        self.inner = listener
        self.sink = sink
        self._queued: list[_Queued] = []

    def note_playback(self, text: str, pcm: bytes, start_seconds: float) -> None:
        """Called just before ``sink.play(pcm)``: its start is the sink's next mark."""
        if not pcm:
            self.inner.note_playback(text, pcm, start_seconds)
            return
        self._queued.append(_Queued(text, pcm, self.sink.next_play_mark()))

    def feed(self, chunk: AudioChunk, speaking: bool) -> list[Heard]:
        self._resolve()
        return self.inner.feed(chunk, speaking)

    def note_cancel(self, at_seconds: float) -> None:
        """Called after ``sink.cancel()``: playbacks that never started are forgotten,
        the rest are cut as usual."""
        self._resolve()
        note_cancel = getattr(self.inner, "note_cancel", None)
        if note_cancel is not None:
            note_cancel(at_seconds)

    def _resolve(self) -> None:
        waiting: list[_Queued] = []
        for queued in self._queued:
            onset = self.sink.onset_seconds(queued.mark)
            if onset is not None:
                self.inner.note_playback(queued.text, queued.pcm, onset)
            elif not self.sink.never_sounds(queued.mark):
                waiting.append(queued)
        self._queued = waiting

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def time_playback_by_device(listener: Any, sink: Any) -> Any:
    """Wrap the listener when the sink can say when each sound starts (a real device)."""
    if listener is None or not all(hasattr(sink, name) for name in ("next_play_mark", "onset_seconds", "never_sounds")):
        return listener
    return DeviceTimedListener(listener, sink)
