"""Energy endpointer: cuts speech segments out of the microphone stream.

Pure and measured in samples consumed, so a file gives the same segments at any
speed and with any chunk size. Frames of 10 ms are compared with an adaptive
noise floor; a segment closes after a hangover of silence. An early "urgent
candidate" is offered after a shorter quiet so urgent words can be decided
before the hangover ends; for it, quiet is also judged against the word itself
(far under its peak, or back to the sound it rose from), because a noise that
came up with the voice keeps the floor test open long after the word has ended.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coach.audio import SAMPLE_RATE_HZ

FRAME_SAMPLES = 160     # 10 ms at 16 kHz


@dataclass(frozen=True)
class EndpointConfig:
    onset_db: float = 12.0          # above the noise floor: speech starts
    offset_db: float = 7.0          # above the noise floor: speech continues
    min_level_dbfs: float = -55.0   # never call anything quieter speech
    hangover_seconds: float = 0.20  # silence that ends a segment
    early_seconds: float = 0.10     # quiet after which an urgent candidate is offered
    # For the urgent candidate the word has also ended when its level (averaged over
    # early_smooth_frames) is early_drop_db under the word's peak, or back within
    # early_rebound_db of the quietest sound the segment had at least
    # early_pedestal_seconds before its loudest frame (a room noise that came up with
    # the speech and outlasts it, so the floor has not learnt it yet), when the word
    # rose early_range_db above it. None turns a test off. The final segment still
    # waits for real quiet.
    early_drop_db: float | None = 30.0
    early_rebound_db: float | None = 8.0
    early_pedestal_seconds: float = 0.10
    early_range_db: float = 12.0
    early_smooth_frames: int = 3
    # The final segment also ends final_word_end_seconds after the level fell back
    # to that room (the rebound test alone: a weak consonant far under the peak
    # still belongs to the word; the wait is longer than the candidate's, as a
    # word's soft start can pass for the room and its closing consonants for a
    # return to it), so a background that outlasts the word no longer holds
    # non-urgent commands; the floor then rises to just under that background, so
    # it opens no new speech.
    final_on_word_end: bool = True
    final_word_end_seconds: float = 0.30
    preroll_seconds: float = 0.15   # kept before the onset (weak consonants)
    tail_seconds: float = 0.15      # after the last loud frame, as before the onset: the word
    #                                 centred (0.05 s lost a fifth of "it hurts" in unseen voices)
    min_speech_seconds: float = 0.10
    # Frames more than trim_below_peak_db under the segment's loudest (smoothed) are cut
    # from an end when they last trim_min_seconds beyond the preroll or tail: louder room
    # noise held a segment 0.65 s before a "go" and 1 s after, and the word was missed.
    trim_below_peak_db: float | None = 35.0
    trim_min_seconds: float = 0.25
    max_speech_seconds: float = 3.0
    floor_rise_per_frame: float = 0.01   # slow: a voice must not raise the floor
    initial_floor_dbfs: float = -60.0
    min_floor_dbfs: float = -75.0        # digital silence must not make every hiss speech
    calibration_seconds: float = 0.2     # learn the room before calling anything speech


@dataclass(frozen=True)
class Segment:
    """Speech audio cut from the stream, with its place on the session timeline.

    ``decided_seconds`` is the audio time at which the endpointer knew enough to
    emit it; ``early`` marks an urgent candidate offered before the hangover ended
    (the final segment for the same speech follows unless the listener acts).
    """

    pcm: bytes
    start_seconds: float
    end_seconds: float
    decided_seconds: float
    early: bool = False
    onset_seconds: float | None = None   # where the speech began, before trimming: the same
    #                                      for its early candidate and its final segment

    @property
    def seconds(self) -> float:
        return self.end_seconds - self.start_seconds


def frame_levels_dbfs(samples: np.ndarray) -> np.ndarray:
    """RMS level of each whole 10 ms frame, in dB relative to full scale."""
    count = len(samples) // FRAME_SAMPLES
    frames = samples[: count * FRAME_SAMPLES].astype(np.float64).reshape(count, FRAME_SAMPLES)
    rms = np.sqrt(np.mean(frames * frames, axis=1)) / 32768.0
    return 20.0 * np.log10(np.maximum(rms, 1e-6))


class Endpointer:
    """Feed chunks in order; get the segments whose end was decided inside them."""

    def __init__(self, config: EndpointConfig | None = None, rate_hz: int = SAMPLE_RATE_HZ) -> None:
        if rate_hz != SAMPLE_RATE_HZ:
            raise ValueError(f"the endpointer needs {SAMPLE_RATE_HZ} Hz audio, got {rate_hz}")
        self.config = config or EndpointConfig()
        self.reset()

    def reset(self, start_seconds: float | None = None) -> None:
        cfg = self.config
        self._origin_seconds = start_seconds
        self._frames_done = 0                       # frames consumed since origin
        self._pending = np.zeros(0, dtype=np.int16)  # samples short of a whole frame
        self._floor_db = cfg.initial_floor_dbfs
        self._history: list[np.ndarray] = []       # recent frames (preroll + current speech)
        self._levels: list[float] = []             # levels of the current speech frames
        self._speech_start: int | None = None       # frame index of the first kept frame
        self._last_loud: int = -1
        self._last_strong: int = -1                 # last frame that keeps the urgent candidate waiting
        self._last_over_room: int = -1              # ... and the final segment (see final_on_word_end)
        self._word = _WordEnd(self.config)
        self._loud_count = 0
        self._early_sent = False

    @property
    def in_speech(self) -> bool:
        return self._speech_start is not None

    @property
    def noise_floor_dbfs(self) -> float:
        return self._floor_db

    def _seconds(self, frame_index: int) -> float:
        return (self._origin_seconds or 0.0) + frame_index * FRAME_SAMPLES / SAMPLE_RATE_HZ

    def feed(self, pcm: bytes, start_seconds: float) -> list[Segment]:
        if self._origin_seconds is None:
            self._origin_seconds = start_seconds
        samples = np.concatenate([self._pending, np.frombuffer(pcm, dtype="<i2")])
        whole = len(samples) // FRAME_SAMPLES * FRAME_SAMPLES
        self._pending = samples[whole:].copy()
        out: list[Segment] = []
        if whole:
            frames = samples[:whole].reshape(-1, FRAME_SAMPLES)
            for frame, level in zip(frames, frame_levels_dbfs(samples[:whole])):
                out.extend(self._step(frame, float(level)))
        return out

    def flush(self) -> list[Segment]:
        """End of input: close any open speech as a segment."""
        if self._speech_start is None:
            return []
        segment = self._close(self._frames_done, final=True)
        return [segment] if segment else []

    # ------------------------------------------------------------ internals

    def _frames(self, seconds: float) -> int:
        return max(1, round(seconds * SAMPLE_RATE_HZ / FRAME_SAMPLES))

    def _step(self, frame: np.ndarray, level_db: float) -> list[Segment]:
        cfg = self.config
        index = self._frames_done
        self._frames_done += 1
        self._history.append(frame)
        out: list[Segment] = []
        if index < self._frames(cfg.calibration_seconds):
            self._floor_db = max(cfg.min_floor_dbfs, level_db if index == 0 else
                                 self._floor_db + 0.3 * (level_db - self._floor_db))
            self._history = self._history[-self._frames(cfg.preroll_seconds):]
            return out
        if self._speech_start is None:
            if level_db > max(self._floor_db + cfg.onset_db, cfg.min_level_dbfs):
                preroll = min(self._frames(cfg.preroll_seconds), len(self._history) - 1)
                self._speech_start = index - preroll
                self._history = self._history[-(preroll + 1):]
                self._last_loud = index
                self._last_strong = index
                self._last_over_room = index
                self._loud_count = 1
                self._early_sent = False
                self._levels = [level_db]
                self._word = _WordEnd(cfg)
                self._word.strong(level_db)
            else:
                self._track_floor(level_db)
                self._history = self._history[-self._frames(cfg.preroll_seconds):]
            return out
        self._levels.append(level_db)
        strong = self._word.strong(level_db)
        if level_db > max(self._floor_db + cfg.offset_db, cfg.min_level_dbfs):
            self._last_loud = index
            self._loud_count += 1
            if strong:
                self._last_strong = index
                self._early_sent = False
            if self._word.over_room:
                self._last_over_room = index
        else:
            self._track_floor(level_db)
        silent = index - self._last_loud
        word_over = cfg.final_on_word_end and index - self._last_over_room >= self._frames(cfg.final_word_end_seconds)
        if silent >= self._frames(cfg.hangover_seconds) or word_over:
            segment = self._close(index + 1, final=True)
            if segment:
                out.append(segment)
            if word_over:
                recent = self._levels[-self._frames(cfg.final_word_end_seconds):]
                self._floor_db = max(self._floor_db, float(np.max(recent)) - cfg.onset_db + 1.0)
        elif index - self._last_strong >= self._frames(cfg.early_seconds) and not self._early_sent:
            self._early_sent = True
            segment = self._close(index + 1, final=False)
            if segment:
                out.append(segment)
        elif index + 1 - self._speech_start >= self._frames(cfg.max_speech_seconds):
            # Too long for a command: a steady sound, not a word. Cut, and let the
            # floor jump to it so it stops counting as speech.
            segment = self._close(index + 1, final=True)
            if segment:
                out.append(segment)
            self._floor_db = max(self._floor_db, float(np.percentile(self._levels, 20)) - 3.0)
        return out

    def _track_floor(self, level_db: float) -> None:
        if level_db < self._floor_db:
            self._floor_db += 0.3 * (level_db - self._floor_db)
        else:
            self._floor_db += self.config.floor_rise_per_frame * (level_db - self._floor_db)
        self._floor_db = max(self._floor_db, self.config.min_floor_dbfs)

    def _close(self, decided_frame: int, final: bool) -> Segment | None:
        cfg = self.config
        assert self._speech_start is not None
        start = self._speech_start
        end = min(self._last_loud + 1 + self._frames(cfg.tail_seconds), decided_frame)
        kept = self._history[: end - start]
        loud_enough = self._loud_count >= self._frames(cfg.min_speech_seconds)
        if final:
            self._speech_start = None
            self._history = self._history[-self._frames(cfg.preroll_seconds):]
        if not loud_enough or not kept:
            return None
        onset = self._seconds(start)
        first, last = self._word_span(kept)
        kept, start, end = kept[first:last], start + first, start + last
        return Segment(
            pcm=np.concatenate(kept).astype("<i2").tobytes(),
            start_seconds=self._seconds(start),
            end_seconds=self._seconds(end),
            decided_seconds=self._seconds(decided_frame),
            early=not final,
            onset_seconds=onset,
        )


    def _word_span(self, frames: list[np.ndarray]) -> tuple[int, int]:
        """The frames to keep: preroll before the first frame near the loudest to tail after the last."""
        cfg = self.config
        if cfg.trim_below_peak_db is None:
            return 0, len(frames)
        levels = frame_levels_dbfs(np.concatenate(frames))
        width = max(1, cfg.early_smooth_frames)
        smooth = np.convolve(levels, np.ones(width) / width, mode="same")
        strong = np.flatnonzero(smooth >= smooth.max() - cfg.trim_below_peak_db)
        first = max(0, int(strong[0]) - self._frames(cfg.preroll_seconds))
        last = min(len(frames), int(strong[-1]) + 1 + self._frames(cfg.tail_seconds))
        least = self._frames(cfg.trim_min_seconds)
        return (first if first >= least else 0), (last if len(frames) - last >= least else len(frames))


class _WordEnd:
    """Follows one segment's levels and says which frames still belong to the word,
    for the urgent candidate (see EndpointConfig)."""

    def __init__(self, config: EndpointConfig) -> None:
        self.config = config
        self._recent: list[float] = []
        self._quietest: list[float] = []     # quietest smoothed level up to each frame
        self._peak_db = -np.inf
        self._peak_index = 0
        self.over_room = True       # the last frame was above the room the word rose from

    def strong(self, level_db: float) -> bool:
        cfg = self.config
        self._recent = [*self._recent, level_db][-max(1, cfg.early_smooth_frames):]
        level = float(np.mean(self._recent))
        self._quietest.append(min(level, self._quietest[-1]) if self._quietest else level)
        if level_db > self._peak_db:
            self._peak_db, self._peak_index = level_db, len(self._quietest) - 1
        room = self._room_db()
        self.over_room = not (room is not None and cfg.early_rebound_db is not None
                              and self._peak_db - room >= cfg.early_range_db and level <= room + cfg.early_rebound_db)
        if cfg.early_drop_db is not None and level <= self._peak_db - cfg.early_drop_db:
            return False
        return self.over_room

    def _room_db(self) -> float | None:
        """The quietest sound of the segment well before its loudest frame: the room
        the word rose from (None when the segment started with the word)."""
        lead = round(self.config.early_pedestal_seconds * SAMPLE_RATE_HZ / FRAME_SAMPLES)
        before = self._peak_index - lead
        return self._quietest[before] if before >= 0 else None
