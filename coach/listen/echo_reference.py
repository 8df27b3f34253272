"""The coach's own voice as the microphone hears it: what was played, when, and the echo path.

The playback is known exactly (noted with its start on the session timeline, cut
short on cancel). The echo path (delay and gain from the loudspeaker to the
microphone) is estimated by correlation, trusted only once it holds over several
windows, and dropped when the reference goes quiet, so a person's word that looks
like the coach's voice never becomes an echo path.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

import numpy as np

from coach.audio import SAMPLE_RATE_HZ
from coach.listen.echo_canceller import RoomConfig


@dataclass(frozen=True)
class GuardConfig:
    tail_seconds: float = 0.30          # guard stays up this long after the coach stops
    min_confidence: float | None = None     # stricter confidence while guarded
    #                                     (None: the engine's ``strict_min``)
    echo_explained: float = 0.5         # reject a segment whose energy is mostly playback
    echo_explained_cue_word: float = 0.25   # ... lower bar when the word is in the cue text
    echo_removed_db: float = -12.0      # reject a segment the echo canceller took down this far:
    #                                     what is left of it is the coach's voice (a person
    #                                     talking over the coach stays within a few dB)
    echo_uncertain: float = 0.1         # partly explained by playback: the guard is unsure ...
    uncertain_min_confidence: float = 0.9   # ... so only a sure word counts
    learnt_room_db: float = 15.0        # until echo removal takes the coach's voice this far
    #                                     down, the room is still being learnt: only a sure word counts
    max_delay_seconds: float = 0.6      # speaker → microphone latency searched (live
    #                                     output + input buffers can exceed 0.25 s)
    follow_seconds: float = 0.001       # the canceller follows path jumps this large at once
    #                                     (live, each playback's delay differs by a few samples)
    stand_in_seconds: float = 0.002     # ... and this large while the last path stands in after
    #                                     a pause (live: the next cue came back up to 1.1 ms off;
    #                                     measured: searched ±4 ms frame by frame, a word said
    #                                     over the cue lost enough to fall under the guard's bar)
    estimate_every_seconds: float = 0.25
    estimate_window_seconds: float = 0.5
    min_correlation: float = 0.3        # only update delay/gain when the echo dominates
    confirm_windows: int = 3            # ... and the same delay and gain hold this many windows
    delay_tolerance_seconds: float = 0.001
    known_path_tolerance_seconds: float = 0.004     # a known path found again after a pause
    #                                     (device clocks and adaptive resamplers drift by ms a minute)
    gain_tolerance: float = 0.35        # relative spread of the gain over those windows
    single_path_explained: float = 0.9  # one path lately explains this much of the microphone (the
    #                                     median of 8 windows; measured: live loopback 0.97, simulated
    #                                     rooms 0.64-0.69): no room around it, so a jump of it is the
    #                                     playback starting late
    silent_rms: float = 30.0            # reference quieter than this (int16 RMS) is silence
    room: RoomConfig = field(default_factory=RoomConfig)    # the second stage: a room's tail


@dataclass(frozen=True)
class _Playback:
    text: str
    samples: np.ndarray
    start_sample: int
    sound_samples: int          # up to the last non-silent 10 ms frame

    @property
    def end_sample(self) -> int:
        return self.start_sample + len(self.samples)

    @property
    def sound_end_sample(self) -> int:
        return self.start_sample + self.sound_samples


def sounding_samples(samples: np.ndarray, frame: int = SAMPLE_RATE_HZ // 100) -> int:
    """Length up to the end of the last frame within 40 dB of the loudest one (at
    least -60 dBFS): rendered speech ends in silence that is not speaking."""
    frames = len(samples) // frame + (1 if len(samples) % frame else 0)
    if frames == 0:
        return 0
    padded = np.zeros(frames * frame)
    padded[:len(samples)] = samples
    rms = np.sqrt(np.mean(padded.reshape(frames, frame) ** 2, axis=1))
    loud = np.flatnonzero(rms > max(30.0, float(rms.max()) * 0.01))
    return 0 if not len(loud) else min(len(samples), (int(loud[-1]) + 1) * frame)


class EchoReference:
    """What the coach played, on the session timeline, and how it comes back in the mic."""

    def __init__(self, config: GuardConfig) -> None:
        self.config = config
        self.playbacks: list[_Playback] = []
        self.delay_samples: int | None = None
        self.gain = 0.0
        self._candidates: list[tuple[int, float]] = []     # recent (delay, gain) seen
        self._prior: tuple[int, float] | None = None       # last estimate in use
        self._explained: list[float] = []          # of the last windows that confirmed a path

    def add(self, text: str, pcm: bytes, start_seconds: float) -> None:
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
        self.playbacks.append(_Playback(text, samples, round(start_seconds * SAMPLE_RATE_HZ),
                                        sounding_samples(samples)))

    def cut(self, sample: int) -> None:
        """Playback was cancelled at ``sample``: the rest of it never sounds."""
        kept = []
        for p in self.playbacks:
            if p.start_sample >= sample:
                continue
            if p.end_sample > sample:
                n = sample - p.start_sample
                p = _Playback(p.text, p.samples[:n], p.start_sample, min(p.sound_samples, n))
            kept.append(p)
        self.playbacks = kept

    def forget_before(self, sample: int) -> None:
        self.playbacks = [p for p in self.playbacks if p.end_sample > sample]

    def played(self, start_sample: int, count: int) -> np.ndarray:
        out = np.zeros(count)
        for p in self.playbacks:
            lo, hi = max(start_sample, p.start_sample), min(start_sample + count, p.end_sample)
            if hi > lo:
                out[lo - start_sample:hi - start_sample] += p.samples[lo - p.start_sample:hi - p.start_sample]
        return out

    def echoes(self, start_sample: int, count: int, spread: int) -> np.ndarray:
        """The echo at every delay up to ``spread`` samples either side of the one in
        use (one row each), so the canceller can follow the small jump of the path
        that each new playback brings on a live device. After a pause the last path
        is used until the new one is confirmed: otherwise the start of every cue
        after a pause would reach the recognizer unremoved."""
        path = self._path_in_use()
        if path is None:
            return np.zeros((1, count))
        delay, gain = path
        wide = gain * self.played(start_sample - delay - spread, count + 2 * spread)
        if not wide.any():
            return np.zeros((1, count))
        return np.stack([wide[k:k + count] for k in range(2 * spread + 1)])

    def correlate(self, mic: np.ndarray, start_sample: int) -> tuple[int, float, float]:
        """(delay samples, squared normalised correlation, gain) of the best single
        echo path from the playback into ``mic``; (0, 0, 0) when nothing played."""
        max_delay = round(self.config.max_delay_seconds * SAMPLE_RATE_HZ)
        ref = self.played(start_sample - max_delay, len(mic) + max_delay)
        mic_energy = float(mic @ mic)
        if not ref.any() or mic_energy <= 0.0:
            return 0, 0.0, 0.0
        size = 1 << int(np.ceil(np.log2(len(ref) + len(mic))))
        corr = np.fft.irfft(np.conj(np.fft.rfft(mic, size)) * np.fft.rfft(ref, size), size)
        # corr[k] = sum mic[n] ref[n + k]; an echo delayed by d lines up at k = max_delay - d.
        lags = corr[: max_delay + 1][::-1]
        cumulative = np.concatenate([[0.0], np.cumsum(ref * ref)])
        ends = max_delay - np.arange(max_delay + 1)
        energies = np.maximum(cumulative[ends + len(mic)] - cumulative[ends], 1e-9)
        explained = lags * np.abs(lags) / (energies * mic_energy)
        best = int(np.argmax(explained))
        return best, float(max(explained[best], 0.0)), float(lags[best] / energies[best])

    def estimate(self, mic: np.ndarray, start_sample: int) -> None:
        """Update delay and gain when the playback clearly dominates the microphone
        in several windows in a row with the same path; a single window can be a
        person's word that happens to look like the coach's voice. Silence in the
        reference resets the estimate (it is re-confirmed in one window)."""
        max_delay = round(self.config.max_delay_seconds * SAMPLE_RATE_HZ)
        ref = self.played(start_sample - max_delay, len(mic) + max_delay)
        if not len(ref) or float(np.sqrt(np.mean(ref * ref))) < self.config.silent_rms:
            if self.delay_samples is not None:
                self._prior = (self.delay_samples, self.gain)
            self.delay_samples, self.gain = None, 0.0
            self._candidates = []
            return
        delay, explained, gain = self.correlate(mic, start_sample)
        if explained < self.config.min_correlation ** 2 or gain <= 0.0:
            self._candidates = []
            return
        needed = self.config.confirm_windows
        self._candidates = [*self._candidates, (delay, gain)][-needed:]
        known = self._path_in_use()
        if ((known is not None and self._consistent([known, (delay, gain)], self.config.known_path_tolerance_seconds))
                or (len(self._candidates) >= needed and self._consistent(self._candidates))):
            self.delay_samples, self.gain = delay, gain
            self._explained = [*self._explained, explained][-8:]

    @property
    def standing_in(self) -> bool:
        """The last path is in use until a new one is confirmed (after a pause)."""
        return self.delay_samples is None and self._prior is not None

    @property
    def single_path(self) -> bool:
        """The path in use lately explained nearly all of the microphone."""
        # statistics.median: asked every 10 ms block, where numpy's costs 50 us on eight numbers
        return bool(self._explained) and statistics.median(self._explained) >= self.config.single_path_explained

    def path_delay_samples(self) -> int:
        """The echo delay in use or last used (0 when none was found): the coach's
        voice reaches the microphone that much after it is played."""
        known = self.known_delay_samples()
        return 0 if known is None else known

    def known_delay_samples(self) -> int | None:
        """The echo delay in use or last used; None until one was confirmed."""
        path = self._path_in_use()
        return None if path is None else path[0]

    def _path_in_use(self) -> tuple[int, float] | None:
        """(delay, gain) in use, or the last used while the reference is quiet."""
        return (self.delay_samples, self.gain) if self.delay_samples is not None else self._prior

    def _consistent(self, paths: list[tuple[int, float]], tolerance_seconds: float | None = None) -> bool:
        tolerance = (tolerance_seconds or self.config.delay_tolerance_seconds) * SAMPLE_RATE_HZ
        delays = [d for d, _ in paths]
        gains = [g for _, g in paths]
        return (max(delays) - min(delays) <= tolerance
                and max(gains) - min(gains) <= self.config.gain_tolerance * max(gains))

    def cue_texts(self, start_sample: int, end_sample: int, tail_samples: int) -> list[str]:
        return [p.text for p in self.playbacks
                if p.start_sample < end_sample and p.end_sample + tail_samples > start_sample]

    def playing_until(self, sample: int) -> int | None:
        """Where the coach's voice (not the silence after it) ends, for what started by ``sample``."""
        ends = [p.sound_end_sample for p in self.playbacks if p.start_sample <= sample]
        return max(ends) if ends else None

    def covers(self, start_sample: int, end_sample: int) -> bool:
        """A noted playback (silence included) overlaps these samples: the reference,
        not the sink's busy flag, says when the coach speaks."""
        return any(p.start_sample < end_sample and p.end_sample > start_sample for p in self.playbacks)
