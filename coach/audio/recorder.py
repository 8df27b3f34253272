"""Recording an input device with per-block timestamps (the rig's tests and the speech benchmark)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from coach.audio import SAMPLE_RATE_HZ
from coach.audio.device import _query, _sounddevice
from coach.errors import AudioDeviceError


@dataclass(frozen=True)
class Recording:
    """Captured int16 mono PCM and, per block, (first sample index, ADC time, arrival time).

    ADC time is PortAudio's stream time (its own estimate); arrival is
    ``time.monotonic()`` read when the callback ran, which is certainly after
    every sample of the block was captured.
    """

    pcm: bytes
    rate_hz: int
    blocks: tuple[tuple[int, float, float], ...]

    def sample_arrival_seconds(self, sample_index: int) -> float:
        """Monotonic time at which this sample reached us: its block's arrival
        minus the samples after it in the block."""
        starts = [block[0] for block in self.blocks]
        position = int(np.searchsorted(starts, sample_index, side="right")) - 1
        position = max(0, position)
        first, _, arrival_seconds = self.blocks[position]
        next_first = self.blocks[position + 1][0] if position + 1 < len(self.blocks) else len(self.pcm) // 2
        return arrival_seconds - (next_first - 1 - sample_index) / self.rate_hz


class Recorder:
    """Records an input device with per-block timestamps (tests and the speech benchmark)."""

    def __init__(self, device: int | str | None = None, rate_hz: int = SAMPLE_RATE_HZ, block_frames: int = 160) -> None:
        sd = _sounddevice()
        _query(sd, device, "input")
        self.rate_hz = rate_hz
        self._sd = sd
        self._parts: list[bytes] = []
        self._blocks: list[tuple[int, float, float]] = []
        self._samples = 0
        try:
            self._stream = sd.RawInputStream(
                device=device, samplerate=rate_hz, channels=1, dtype="int16",
                blocksize=block_frames, latency="low", callback=self._callback,
            )
            self._stream.start()
        except sd.PortAudioError as error:
            raise AudioDeviceError("audio-device-busy", f"cannot open the input for recording: {error}") from error

    def _callback(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:
        self._blocks.append((self._samples, float(time_info.inputBufferAdcTime), time.monotonic()))
        self._parts.append(bytes(indata))
        self._samples += frames

    @property
    def now(self) -> float:
        return float(self._stream.time)

    @property
    def samples_received(self) -> int:
        return self._samples

    def stop(self) -> Recording:
        self._stream.stop()
        self._stream.close()
        return Recording(b"".join(self._parts), self.rate_hz, tuple(self._blocks))
