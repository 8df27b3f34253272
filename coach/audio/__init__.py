"""Audio ports: every adapter speaks 16-bit mono PCM at a known rate.

Only ``coach/audio/device.py`` imports sounddevice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

SAMPLE_RATE_HZ = 16_000     # what recognizers want; speech is resampled to it
SAMPLE_WIDTH_BYTES = 2


@dataclass(frozen=True)
class AudioChunk:
    """int16 mono PCM with the session time of its first sample."""

    pcm: bytes
    rate_hz: int = SAMPLE_RATE_HZ
    start_seconds: float = 0.0

    @property
    def samples(self) -> int:
        return len(self.pcm) // SAMPLE_WIDTH_BYTES

    @property
    def seconds(self) -> float:
        return self.samples / self.rate_hz

    @property
    def end_seconds(self) -> float:
        return self.start_seconds + self.seconds


class AudioSink(Protocol):
    """Where the coach's voice goes. ``play`` returns at once; ``cancel`` silences within one block."""

    rate_hz: int

    def play(self, pcm: bytes) -> None: ...

    def cancel(self) -> None: ...

    def is_playing(self) -> bool: ...

    def close(self) -> None: ...


class AudioSource(Protocol):
    """Where the microphone comes from.

    ``read`` returns the next block. A file source advances the session's virtual
    clock by the block's length, so input is consumed sample-accurately on the
    same timeline as the coach's output; a device source blocks for real time.
    Returns None when the source is gone (device lost).
    """

    rate_hz: int

    def read(self, block_seconds: float) -> AudioChunk | None: ...

    def close(self) -> None: ...
