"""A sink that plays nothing but keeps time, for text mode and discarded output."""

from __future__ import annotations

from coach.audio import SAMPLE_RATE_HZ, SAMPLE_WIDTH_BYTES
from coach.clock import Clock


class NullSink:
    """'Plays' each pcm for its length on the clock, so is_playing() stays truthful."""

    def __init__(self, clock: Clock, rate_hz: int = SAMPLE_RATE_HZ) -> None:
        self.clock = clock
        self.rate_hz = rate_hz
        self._until_seconds = 0.0

    def play(self, pcm: bytes) -> None:
        self.play_seconds(len(pcm) / SAMPLE_WIDTH_BYTES / self.rate_hz)

    def play_seconds(self, seconds: float) -> None:
        """Pretend to play for ``seconds`` (text mode has no pcm)."""
        now = self.clock.now()
        self._until_seconds = max(self._until_seconds, now) + max(0.0, seconds)

    def cancel(self) -> None:
        self._until_seconds = self.clock.now()

    def is_playing(self) -> bool:
        return self.clock.now() < self._until_seconds

    def close(self) -> None:
        self._until_seconds = 0.0
