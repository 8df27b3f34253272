"""Microphone input from a WAV file (or silence) on the session's virtual clock.

Each read returns the next block and advances the clock to the time of the last
sample consumed, so recognition sees the recording sample-accurately on the same
timeline as the coach's output. After the file ends the microphone hears silence
until the session ends.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from coach.audio import SAMPLE_RATE_HZ, AudioChunk
from coach.audio.wav import read_wav_samples
from coach.clock import VirtualClock


def load_wav_mono_16k(path: Path | str, rate_hz: int = SAMPLE_RATE_HZ) -> np.ndarray:
    """Any PCM WAV (mono or multi-channel) as int16 mono at ``rate_hz``."""
    return read_wav_samples(path, rate_hz)


class SilenceSource:
    """A microphone that hears nothing, on a virtual clock."""

    def __init__(self, clock: VirtualClock, rate_hz: int = SAMPLE_RATE_HZ) -> None:
        self.clock = clock
        self.rate_hz = rate_hz
        self.origin_seconds = clock.now()
        self.position = 0          # samples consumed

    def _samples(self, start: int, count: int) -> np.ndarray:
        return np.zeros(count, dtype=np.int16)

    @property
    def finished(self) -> bool:
        return True

    def read(self, block_seconds: float) -> AudioChunk | None:
        count = max(1, int(round(block_seconds * self.rate_hz)))
        behind = int((self.clock.now() - self.origin_seconds) * self.rate_hz + 1e-6) - self.position
        if behind > 0:
            # someone waited on the clock without listening: that audio went by unheard
            self.position += behind
        start = self.position
        pcm = self._samples(start, count).astype("<i2").tobytes()
        self.position += count
        target = self.origin_seconds + self.position / self.rate_hz
        ahead = target - self.clock.now()
        if ahead > 0:
            self.clock.advance(ahead)
        return AudioChunk(pcm, self.rate_hz, self.origin_seconds + start / self.rate_hz)

    def close(self) -> None:
        pass


class WavSource(SilenceSource):
    """A WAV file as the microphone; silence after its end."""

    def __init__(self, path: Path | str, clock: VirtualClock, rate_hz: int = SAMPLE_RATE_HZ) -> None:
        super().__init__(clock, rate_hz)
        self.path = Path(path)
        self.audio = load_wav_mono_16k(self.path, rate_hz)

    @property
    def finished(self) -> bool:
        return self.position >= len(self.audio)

    def _samples(self, start: int, count: int) -> np.ndarray:
        block = self.audio[start:start + count]
        if len(block) < count:
            block = np.concatenate([block, np.zeros(count - len(block), dtype=np.int16)])
        return block
