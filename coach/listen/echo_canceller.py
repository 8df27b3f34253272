"""The coach's voice as a room returns it: an adaptive filter for what a single echo
path leaves behind.

A loudspeaker in a room reaches the microphone by the direct path and then by
reflections that ring on for a few hundred milliseconds. The listener's first
stage removes the direct path (one delay and gain); what remains is the room's
tail, still the coach's voice, and loud enough to be heard as words. This second
stage learns the room's response from the playback by a partitioned-block
frequency-domain NLMS filter (overlap-save, 10 ms blocks on the session's sample
grid), so it follows whatever the room does to the coach's voice.

Safe by construction, like the first stage: it subtracts only where that lowers
the energy, never adapts on silence, and slows down when the error jumps (a
person talking over the coach), so a person's words are never learnt as echo.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from coach.audio import SAMPLE_RATE_HZ

BLOCK = SAMPLE_RATE_HZ // 100       # 10 ms: the grid every decision is on
FFT_SIZE = 2 * BLOCK


@dataclass(frozen=True)
class RoomConfig:
    seconds: float = 0.6            # how long a room's tail the filter models (0: off; measured:
    #                                 shorter than the room's audible tail, it fails on some cues)
    lead_seconds: float = 0.02      # the filter starts this much before the direct path
    step: float = 0.8               # NLMS step (0 < step <= 1; measured: 0.5 learns a room in twice the time)
    smoothing: float = 0.95         # of the error level a jump is measured against
    jump: float = 4.0               # error (against the playback) this many times its recent level:
    #                                 someone talks over the coach, so learn that much slower
    creep: float = 1.01             # ... while the level rises only this much per block
    moved_seconds: float = 1.0      # the error stayed jumped this long over the coach's voice:
    #                                 longer than a word, so the room moved (the person or the
    #                                 device did): learn it again at full speed
    silent_rms: float = 30.0        # reference quieter than this (int16 RMS) is silence
    regularise: float = 1e-3        # of the per-bin normalisation, relative to the mean power
    learning: float = 0.05          # smoothing of ``learned_db`` per 10 ms block of the coach's voice
    follow_seconds: float = 0.004   # a single path that moved this little moves the filter with it


class RoomCanceller:
    """Feed the microphone and the first stage's removal in order; get back the better
    of the two removals, the room's echo included.

    ``reference(start, count)`` gives the playback at those samples (session grid);
    ``path_delay()`` the direct path's delay once the first stage has confirmed one
    (None until then: the filter waits, as it must know where the room starts);
    ``single_path()`` whether that path alone explains nearly all of the echo. Then
    a small jump of it is the playback starting a little late or early (live, every
    cue does), not another room: the filter moves with it and keeps what it learnt.
    """

    def __init__(self, reference: Callable[[int, int], np.ndarray], path_delay: Callable[[], int | None],
                 config: RoomConfig | None = None, single_path: Callable[[], bool] = lambda: False) -> None:
        self.config = config or RoomConfig()
        self._reference = reference
        self._path_delay = path_delay
        self._single_path = single_path
        self._parts = max(0, round(self.config.seconds * SAMPLE_RATE_HZ / BLOCK))
        self._lead = round(self.config.lead_seconds * SAMPLE_RATE_HZ)
        self._align: int | None = None
        self._reset()
        self._frame: int | None = None          # start sample of the block being received
        self._echo = np.zeros(BLOCK)            # that block's echo estimate
        self._received = np.zeros(BLOCK)        # and what arrived of it so far
        self._removed = np.zeros(2)

    def _reset(self) -> None:
        bins = FFT_SIZE // 2 + 1
        self._weights = np.zeros((self._parts, bins), dtype=complex)
        # Spectra of the playback, newest first, as a view into a ring written twice
        # (at i and i + parts) so the last ``parts`` blocks are always contiguous.
        self._ring = np.zeros((2 * self._parts, bins), dtype=complex)
        self._ring_energy = np.zeros(2 * self._parts)
        self._newest = 0
        self._previous = np.zeros(BLOCK)
        self._error_level = 1.0     # error against the playback; 1: nothing removed yet
        self._jumped = 0            # blocks of the coach's voice in a row with the error jumped
        self.learned_db = 0.0       # how far echo removal brings the coach's voice down, lately

    @property
    def active(self) -> bool:
        return self._parts > 0 and self._align is not None

    def cancel(self, mic: np.ndarray, first: np.ndarray, start: int) -> np.ndarray:
        """``mic`` with the echo removed: per piece of a 10 ms block, the quieter of
        the first stage's removal (``first``) and this filter's, never louder than
        ``mic``. A single path follows a live device's jumps at once, a room's tail
        needs the filter; each does best where the other does not."""
        if self._parts == 0:
            return first
        out = first.copy()
        done = 0
        while done < len(mic):
            sample = start + done
            frame = sample - sample % BLOCK
            if frame != self._frame:
                self._begin(frame)
            offset = sample - frame
            take = min(len(mic) - done, BLOCK - offset)
            piece = mic[done:done + take]
            self._received[offset:offset + take] = piece
            residual = piece - self._echo[offset:offset + take]
            kept = out[done:done + take]
            if float(residual @ residual) < min(float(kept @ kept), float(piece @ piece)):
                out[done:done + take] = kept = residual
            self._removed += (float(piece @ piece), float(kept @ kept))
            done += take
            if offset + take == BLOCK:
                self._adapt()
                self._frame = None
        return out

    def _begin(self, frame: int) -> None:
        """A new block: take its playback into the history and predict its echo."""
        self._frame = frame
        self._received = np.zeros(BLOCK)
        self._echo = np.zeros(BLOCK)
        self._removed = np.zeros(2)             # block energy before and after echo removal
        self._follow_path()
        if self._align is None:
            return
        block = np.asarray(self._reference(frame - self._align, BLOCK), dtype=np.float64)
        spectrum = np.fft.rfft(np.concatenate([self._previous, block]))
        self._previous = block
        self._newest = (self._newest - 1) % self._parts
        for i in (self._newest, self._newest + self._parts):
            self._ring[i] = spectrum
            self._ring_energy[i] = float(block @ block) / BLOCK
        if self._energy.max() < self.config.silent_rms ** 2:
            return      # nothing played for a room's length: no echo to predict
        self._echo = np.fft.irfft((self._weights * self._history).sum(axis=0))[BLOCK:]

    @property
    def _history(self) -> np.ndarray:
        return self._ring[self._newest:self._newest + self._parts]

    @property
    def _energy(self) -> np.ndarray:
        return self._ring_energy[self._newest:self._newest + self._parts]

    def _follow_path(self) -> None:
        """Start where the first stage found the direct path; move with a single path's
        small jumps; start again if it moved outside the span the filter covers."""
        delay = self._path_delay()
        if delay is None:
            return
        align = max(0, delay - self._lead)
        if self._align is not None:
            if self._single_path() and abs(align - self._align) <= self.config.follow_seconds * SAMPLE_RATE_HZ:
                self._align = align
                return
            if self._align + self._lead // 4 <= delay < self._align + self._parts * BLOCK // 2:
                return
        self._align = align
        self._reset()

    def _note_removed(self) -> None:
        before, after = self._removed
        if before <= 0.0:
            return
        frame_db = min(40.0, 10.0 * float(np.log10(before / max(after, 1.0))))
        self.learned_db += self.config.learning * (frame_db - self.learned_db)

    def _adapt(self) -> None:
        if self._align is None or self._energy[0] < self.config.silent_rms ** 2:
            return
        error = self._received - self._echo
        # The error against the playback's level: a louder cue is not a person talking.
        ratio = float(error @ error) / BLOCK / max(float(self._energy.mean()), self.config.silent_rms ** 2)
        level = self._error_level
        step = self.config.step
        jumped = ratio > self.config.jump * level
        self._jumped = self._jumped + 1 if jumped else 0
        if self._jumped * BLOCK >= self.config.moved_seconds * SAMPLE_RATE_HZ:
            self._jumped, jumped, level = 0, False, ratio   # the room moved: what it removes now counts
            self._weights[:] = 0.0
        if jumped:
            step *= self.config.jump * level / ratio        # a person talking over the coach,
            self._error_level = level * self.config.creep   # whose words must not set the level
        else:
            self._note_removed()
            self._error_level = max(1e-6, self.config.smoothing * level + (1.0 - self.config.smoothing) * ratio)
        spectrum = np.fft.rfft(np.concatenate([np.zeros(BLOCK), error]))
        power = (np.abs(self._history) ** 2).sum(axis=0)
        gradient = np.conj(self._history) * spectrum / (power + self.config.regularise * power.mean() + 1e-9)
        impulse = np.fft.irfft(gradient, axis=1)
        impulse[:, BLOCK:] = 0.0        # overlap-save: keep the linear part of the correlation
        self._weights += step * np.fft.rfft(impulse, axis=1)
