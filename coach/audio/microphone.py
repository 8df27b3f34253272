"""The microphone through sounddevice (PortAudio), opened by ``coach.audio.device``'s helpers."""

from __future__ import annotations

import queue
from typing import Any

from coach.audio import SAMPLE_RATE_HZ, SAMPLE_WIDTH_BYTES, AudioChunk
from coach.audio.device import BLOCK_SECONDS, _pick_rate_hz, _query, _reason, _sounddevice
from coach.audio.resample import convert_pcm
from coach.clock import Clock
from coach.errors import AudioDeviceError

SOURCE_DEAD_AFTER_SECONDS = 2.0  # no input for this long past a block → the device is gone
SOURCE_QUEUE_BLOCKS = 500        # ~10 s of 20 ms blocks before the oldest is dropped
# The first input stream a process opens on PulseAudio's ALSA plugin delivers
# nothing for about 2 s, then runs at the full rate; later streams start at once.
FIRST_INPUT_GRACE_SECONDS = 5.0


class DeviceSource:
    """A microphone at 16 kHz mono int16; ``read`` blocks for real time.

    Chunk times count samples from the first sample's time on the injected
    clock, so recognition measures time in samples, as with file sources.
    Dropped blocks (queue overflow) still advance the count.
    """

    def __init__(self, clock: Clock, device: int | str | None = None, block_seconds: float = BLOCK_SECONDS) -> None:
        sd = _sounddevice()
        _query(sd, device, "input")
        self.rate_hz = SAMPLE_RATE_HZ
        self.device_rate_hz = _pick_rate_hz(sd, device, "input")
        self.overflows = 0
        self._queue: queue.Queue[bytes] = queue.Queue(maxsize=SOURCE_QUEUE_BLOCKS)
        self._buffer = bytearray()
        self._consumed_samples = 0
        self._clock = clock
        self._origin_seconds: float | None = None
        self._sd = sd
        try:
            self._stream = sd.RawInputStream(
                device=device,
                samplerate=self.device_rate_hz,
                channels=1,
                dtype="int16",
                blocksize=max(1, round(self.device_rate_hz * block_seconds)),
                latency="low",
                callback=self._callback,
            )
            self._stream.start()
        except sd.PortAudioError as error:
            raise AudioDeviceError(
                "audio-device-busy", f"cannot open the microphone (busy or unusable: {_reason(error)})"
            ) from error

    def _callback(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:
        if self._origin_seconds is None:            # time of the first sample, not of start()
            self._origin_seconds = self._clock.now() - frames / self.device_rate_hz
        if status.input_overflow:
            self.overflows += 1
        try:
            self._queue.put_nowait(bytes(indata))
        except queue.Full:
            self.overflows += 1
            dropped = self._queue.get_nowait()
            self._consumed_samples += len(dropped) // SAMPLE_WIDTH_BYTES
            self._queue.put_nowait(bytes(indata))

    def read(self, block_seconds: float) -> AudioChunk | None:
        wanted = max(1, round(block_seconds * self.device_rate_hz)) * SAMPLE_WIDTH_BYTES
        while len(self._buffer) < wanted:
            if self._queue.empty() and self.lost:
                return None                         # the stream ended: the device is gone
            grace = SOURCE_DEAD_AFTER_SECONDS if self._origin_seconds is not None else FIRST_INPUT_GRACE_SECONDS
            try:
                self._buffer.extend(self._queue.get(timeout=block_seconds + grace))
            except queue.Empty:
                return None
        pcm = bytes(self._buffer[:wanted])
        del self._buffer[:wanted]
        assert self._origin_seconds is not None
        start_seconds = self._origin_seconds + self._consumed_samples / self.device_rate_hz
        self._consumed_samples += wanted // SAMPLE_WIDTH_BYTES
        if self.device_rate_hz != SAMPLE_RATE_HZ:
            pcm = convert_pcm(pcm, self.device_rate_hz, SAMPLE_RATE_HZ)
        return AudioChunk(pcm=pcm, rate_hz=SAMPLE_RATE_HZ, start_seconds=start_seconds)

    @property
    def lost(self) -> bool:
        """True once the stream stopped by itself (the device went away)."""
        try:
            return not self._stream.active
        except self._sd.PortAudioError:
            return True

    def close(self) -> None:
        try:
            self._stream.close()
        except self._sd.PortAudioError:
            pass
