"""A room in software: the coach's own voice, delayed and attenuated, back in the microphone.

``--echo-db DB --echo-delay-ms MS`` wraps the sink in a ``PlaybackTap`` and the
microphone in an ``EchoSource``. The tap remembers what the speaker emitted on the
session clock (cut where a cue was cancelled); the source adds it to each mic block.
``--echo-room RT60`` makes the path a room's: the direct sound plus a reverberant
tail as strong as it, decaying by 60 dB in RT60 seconds (a living room is about
0.3-0.6 s), which a single-path canceller cannot remove.
Everything is counted in samples, so a file-driven session stays deterministic.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from coach.audio import SAMPLE_RATE_HZ, AudioChunk, AudioSink, AudioSource
from coach.audio.resample import to_int16
from coach.audio.resample import resample_linear_int16 as resample_int16  # a constant echoes exactly
from coach.clock import Clock


def db_to_gain(gain_db: float) -> float:
    return float(10.0 ** (gain_db / 20.0))


def seconds_to_samples(seconds: float, rate_hz: int) -> int:
    return int(round(seconds * rate_hz))


def room_response(rt60_seconds: float, rate_hz: int = SAMPLE_RATE_HZ, seed: int = 0,
                  direct_to_reverb_db: float = 0.0) -> np.ndarray:
    """A room's impulse response: the direct sound (1.0 at sample 0), then from 3 ms a
    diffuse tail of seeded noise decaying 60 dB in ``rt60_seconds``, whose energy is
    ``direct_to_reverb_db`` under the direct sound's (0 dB: a speaker a metre or two
    away in a furnished room)."""
    if rt60_seconds <= 0:
        return np.ones(1)
    rng = np.random.default_rng(seed)
    t = np.arange(seconds_to_samples(rt60_seconds, rate_hz)) / rate_hz
    tail = rng.standard_normal(t.size) * 10.0 ** (-3.0 * t / rt60_seconds)
    tail[: seconds_to_samples(0.003, rate_hz)] = 0.0
    tail *= 10.0 ** (-direct_to_reverb_db / 20.0) / max(float(np.sqrt((tail ** 2).sum())), 1e-12)
    tail[0] = 1.0
    return tail


@dataclass
class _Emission:
    """One play() on the sink: where it starts and, once cancelled, where it was cut."""

    start_sample: int
    samples: np.ndarray           # int16 at the tap's rate
    cut_sample: int | None = None

    @property
    def end_sample(self) -> int:
        end = self.start_sample + self.samples.size
        return end if self.cut_sample is None else min(end, self.cut_sample)


class PlaybackTap:
    """An AudioSink wrapper that remembers what was played, and when, on the session clock.

    It models a device queue, as the file sink does: a ``play`` starts at the clock's
    time or after the sound still playing; ``cancel`` cuts the sounding one at the
    clock's time and drops the queued ones. ``origin_seconds`` is the clock reading
    that is session time zero (default: the clock when the tap is made, as the sinks
    do).
    """

    def __init__(
        self,
        inner: AudioSink,
        clock: Clock,
        rate_hz: int = SAMPLE_RATE_HZ,
        origin_seconds: float | None = None,
    ) -> None:
        self.inner = inner
        self.clock = clock
        self.tap_rate_hz = rate_hz
        self.origin_seconds = clock.now() if origin_seconds is None else origin_seconds
        self._emissions: list[_Emission] = []
        self._cancel_seconds: list[float] = []
        self._lock = threading.Lock()

    @property
    def rate_hz(self) -> int:
        return self.inner.rate_hz

    def _now_sample(self) -> int:
        return seconds_to_samples(self.clock.now() - self.origin_seconds, self.tap_rate_hz)

    def play(self, pcm: bytes) -> None:
        samples = np.frombuffer(pcm, dtype=np.int16)
        samples = resample_int16(samples, self.inner.rate_hz, self.tap_rate_hz)
        with self._lock:
            queue_end = self._emissions[-1].end_sample if self._emissions else 0
            start = max(self._now_sample(), queue_end)
            self._emissions.append(_Emission(start, samples.copy()))
        self.inner.play(pcm)

    def cancel(self) -> None:
        with self._lock:
            now_seconds = self.clock.now() - self.origin_seconds
            now_sample = seconds_to_samples(now_seconds, self.tap_rate_hz)
            self._cancel_seconds.append(now_seconds)
            kept = [e for e in self._emissions if e.start_sample < now_sample]
            for emission in kept:
                if emission.end_sample > now_sample:
                    emission.cut_sample = now_sample
            self._emissions = kept
        self.inner.cancel()

    def is_playing(self) -> bool:
        return self.inner.is_playing()

    def close(self) -> None:
        self.inner.close()

    @property
    def cancel_times_seconds(self) -> tuple[float, ...]:
        with self._lock:
            return tuple(self._cancel_seconds)

    @property
    def play_times_seconds(self) -> tuple[float, ...]:
        with self._lock:
            return tuple(e.start_sample / self.tap_rate_hz for e in self._emissions)

    def played_samples(self, start_sample: int, n_samples: int) -> np.ndarray:
        """What the speaker emitted in [start_sample, start_sample + n), silence elsewhere."""
        window_end = start_sample + n_samples
        mix = np.zeros(n_samples, dtype=np.int32)
        with self._lock:
            emissions = list(self._emissions)
        for emission in emissions:
            lo = max(start_sample, emission.start_sample)
            hi = min(window_end, emission.end_sample)
            if hi <= lo:
                continue
            offset = lo - emission.start_sample
            mix[lo - start_sample : hi - start_sample] += emission.samples[offset : offset + (hi - lo)]
        return to_int16(mix)

    def played(self, start_seconds: float, n_samples: int) -> np.ndarray:
        """As ``played_samples``; ``start_seconds`` counts from the tap's origin."""
        return self.played_samples(seconds_to_samples(start_seconds, self.tap_rate_hz), n_samples)

    def forget_before(self, seconds: float) -> None:
        """Drop emissions that ended before ``seconds``; keeps long sessions small."""
        limit = seconds_to_samples(seconds, self.tap_rate_hz)
        with self._lock:
            keep_from = 0
            while keep_from < len(self._emissions) - 1 and self._emissions[keep_from].end_sample <= limit:
                keep_from += 1
            del self._emissions[:keep_from]


class _RoomFilter:
    """np.convolve(signal, response, "valid") by FFT (a room's response is thousands of
    taps), with the response's spectrum kept per FFT length: a session asks for the
    same few lengths every block."""

    def __init__(self, response: np.ndarray) -> None:
        self.response = response
        self._spectra: dict[int, np.ndarray] = {}

    def valid(self, signal: np.ndarray) -> np.ndarray:
        count = signal.size - self.response.size + 1
        if not signal.any():
            return np.zeros(max(count, 0))      # nothing played within the room's reach
        size = 1 << int(np.ceil(np.log2(signal.size + self.response.size - 1)))    # fast FFT lengths only
        response = self._spectra.get(size)
        if response is None:
            response = self._spectra[size] = np.fft.rfft(self.response, size)
        spectrum = np.fft.rfft(signal.astype(np.float64), size) * response
        return np.fft.irfft(spectrum, size)[self.response.size - 1 : signal.size]


class EchoSource:
    """The microphone plus the speaker heard through the room: delayed, scaled, clipped,
    and with ``room_rt60_seconds`` reverberant (see ``room_response``)."""

    def __init__(self, inner: AudioSource, tap: PlaybackTap, gain_db: float, delay_ms: float,
                 room_rt60_seconds: float = 0.0) -> None:
        if tap.tap_rate_hz != inner.rate_hz:
            raise ValueError(f"tap records at {tap.tap_rate_hz} Hz but the microphone runs at {inner.rate_hz} Hz")
        if delay_ms < 0:
            raise ValueError("an echo cannot arrive before the sound")
        if room_rt60_seconds < 0:
            raise ValueError("a room's reverberation time cannot be negative")
        self.inner = inner
        self.tap = tap
        self.gain = db_to_gain(gain_db)
        self.delay_samples = seconds_to_samples(delay_ms / 1000.0, inner.rate_hz)
        self.response = room_response(room_rt60_seconds, inner.rate_hz)
        self._room = _RoomFilter(self.response)

    @property
    def rate_hz(self) -> int:
        return self.inner.rate_hz

    def read(self, block_seconds: float) -> AudioChunk | None:
        chunk = self.inner.read(block_seconds)
        if chunk is None:
            return None
        mic = np.frombuffer(chunk.pcm, dtype=np.int16)
        # Chunk times are clock readings (file and device sources count samples from
        # the clock at their start); the tap counts from its own origin.
        start_sample = seconds_to_samples(chunk.start_seconds - self.tap.origin_seconds, chunk.rate_hz)
        reach = self.response.size - 1      # earlier playback still ringing in the room
        played = self.tap.played_samples(start_sample - self.delay_samples - reach, mic.size + reach)
        echo = self._room.valid(played) if reach else played
        mixed = mic.astype(np.float64) + echo * self.gain
        pcm = to_int16(mixed).tobytes()
        self.tap.forget_before((start_sample - self.delay_samples - reach) / chunk.rate_hz - 1.0)
        return AudioChunk(pcm=pcm, rate_hz=chunk.rate_hz, start_seconds=chunk.start_seconds)

    def close(self) -> None:
        self.inner.close()
