"""A sink that places sounds on the session timeline instead of a device.

It mirrors a device's queue: ``play`` appends after whatever is still sounding,
``cancel`` cuts the current sound at the clock's time and drops the rest. Unit
tests read what was played and when; ``WavFileSink`` writes the same picture out.
"""

from __future__ import annotations

from dataclasses import dataclass

from coach.audio import SAMPLE_RATE_HZ, SAMPLE_WIDTH_BYTES
from coach.clock import Clock


@dataclass(frozen=True)
class Placed:
    """One played sound: where it starts on the timeline and how much of it sounded."""

    start_sample: int
    pcm: bytes              # what was asked to play
    end_sample: int         # exclusive; earlier than start + len when cancelled

    @property
    def cancelled(self) -> bool:
        return self.end_sample < self.start_sample + len(self.pcm) // SAMPLE_WIDTH_BYTES

    @property
    def audible_pcm(self) -> bytes:
        return self.pcm[: (self.end_sample - self.start_sample) * SAMPLE_WIDTH_BYTES]


class MemorySink:
    """Records plays and cancels with clock times (seconds since the sink was made)."""

    def __init__(self, clock: Clock, rate_hz: int = SAMPLE_RATE_HZ) -> None:
        self.rate_hz = rate_hz
        self._clock = clock
        self._origin_seconds = clock.now()
        self.placed: list[Placed] = []
        self.cancel_seconds: list[float] = []
        self.closed = False

    def _now_sample(self) -> int:
        return round((self._clock.now() - self._origin_seconds) * self.rate_hz)

    def _queue_end_sample(self) -> int:
        return self.placed[-1].end_sample if self.placed else 0

    def play(self, pcm: bytes) -> None:
        start = max(self._now_sample(), self._queue_end_sample())
        self.placed.append(Placed(start, pcm, start + len(pcm) // SAMPLE_WIDTH_BYTES))

    def cancel(self) -> None:
        now = self._now_sample()
        self.cancel_seconds.append(now / self.rate_hz)
        kept: list[Placed] = []
        for sound in self.placed:
            if sound.start_sample >= now:
                continue                                  # queued, never sounded
            kept.append(Placed(sound.start_sample, sound.pcm, min(sound.end_sample, now)))
        self.placed = kept

    def is_playing(self) -> bool:
        return self._now_sample() < self._queue_end_sample()

    def close(self) -> None:
        self.closed = True

    @property
    def spans_seconds(self) -> list[tuple[float, float]]:
        """(start, end) seconds of each sound as it actually sounded."""
        return [(p.start_sample / self.rate_hz, p.end_sample / self.rate_hz) for p in self.placed]

    @property
    def end_sample(self) -> int:
        return max(self._queue_end_sample(), self._now_sample())
