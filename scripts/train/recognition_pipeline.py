"""Clips as the listening pipeline sees them, shared by training and the benchmarks.

A recording is played after quiet room tone, as ``coach hear`` plays a file, and
cut by the endpointer; training (train_head.py) encodes the same segments that a
session decides. ``word_end_seconds`` places the end of the word on the listener's
timeline, from the clip's own levels, for decision latency.
"""

from __future__ import annotations

import numpy as np

import make_training_set as mts
try:
    from coach.cli.listen import LEAD_SECONDS, TRAIL_SECONDS, room_tone
    from coach.listen.endpoint import Endpointer
except ImportError:     # a checkout from before the package layout (bench/recognition.py --code)
    from coach.commands_listen import LEAD_SECONDS, TRAIL_SECONDS, room_tone
    from coach.endpoint import Endpointer

DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def pct(k: int, n: int) -> str:
    return f"{100.0 * k / n:5.1f}% ({k}/{n})" if n else "   n/a"


def heard_segments(x: np.ndarray) -> list[np.ndarray]:
    """The clip as the listener would cut it: played after quiet room tone, as
    ``coach hear`` does, through the endpointer; its final segments in order."""
    endpointer = Endpointer()
    audio = room_tone(LEAD_SECONDS) + np.asarray(x, dtype="<i2").tobytes() + room_tone(TRAIL_SECONDS, seed=1)
    finals = [s for s in endpointer.feed(audio, 0.0) + endpointer.flush() if not s.early]
    return [np.frombuffer(s.pcm, dtype="<i2").astype(np.int16) for s in finals]


def heard_segment(x: np.ndarray) -> np.ndarray:
    """The loudest of ``heard_segments`` (the whole clip when no speech is found, as
    for steady noise)."""
    pieces = heard_segments(x)
    if not pieces:
        return x
    return max(pieces, key=lambda p: float(np.sum(p.astype(np.float64) ** 2)))


def speech_span(samples: np.ndarray, frame: int = 160) -> tuple[int, int]:
    """(start, end) sample indices of the 10 ms frames louder than 12 dB over the clip's
    noise floor (its 10th-percentile frame), 20 dB under its peak frame and an
    absolute floor; the whole clip when no frame qualifies (steady noise)."""
    x = np.asarray(samples, dtype=np.float64)
    n = len(x) // frame
    if n == 0:
        return 0, len(x)
    rms = np.sqrt((x[:n * frame].reshape(n, frame) ** 2).mean(axis=1))
    limit = max(4.0 * float(np.percentile(rms, 10)), 0.1 * float(rms.max()), 30.0)
    on = np.nonzero(rms > limit)[0]
    if len(on) == 0:
        return 0, len(x)
    return int(on[0]) * frame, int(on[-1] + 1) * frame


def word_end_seconds(samples: np.ndarray) -> float:
    """Where the word ends in the listener's audio time (the clip follows the lead-in)."""
    return LEAD_SECONDS + speech_span(samples)[1] / mts.RATE_HZ
