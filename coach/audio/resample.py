"""Sample-rate and channel conversion to the pipeline format (16 kHz mono int16).

Polyphase filtering (scipy) keeps speech clean when espeak's 22,050 Hz or a
device's 44,100/48,000 Hz meets the recognizers' 16,000 Hz.
"""

from __future__ import annotations

from math import gcd

import numpy as np

from coach.audio import SAMPLE_RATE_HZ


def to_mono(samples: np.ndarray, channels: int) -> np.ndarray:
    """Average interleaved channels into one."""
    if channels <= 1:
        return samples
    frames = samples[: len(samples) - len(samples) % channels].reshape(-1, channels)
    return frames.astype(np.float64).mean(axis=1)


def resample(samples: np.ndarray, from_hz: int, to_hz: int) -> np.ndarray:
    """Resample a 1-D signal; returns float64 in the input's scale."""
    if from_hz == to_hz or len(samples) == 0:
        return samples.astype(np.float64)
    from scipy.signal import resample_poly

    divisor = gcd(int(from_hz), int(to_hz))
    up, down = int(to_hz) // divisor, int(from_hz) // divisor
    return resample_poly(samples.astype(np.float64), up, down)


def to_int16(samples: np.ndarray) -> np.ndarray:
    """Round and clip to int16."""
    return np.clip(np.rint(samples), -32768, 32767).astype(np.int16)


def convert_pcm(pcm: bytes, from_hz: int, to_hz: int = SAMPLE_RATE_HZ, channels: int = 1) -> bytes:
    """int16 PCM at any rate/channel count → int16 mono PCM at ``to_hz``."""
    samples = np.frombuffer(pcm, dtype="<i2")
    mono = to_mono(samples, channels)
    if from_hz == to_hz and channels <= 1:
        return samples.astype("<i2").tobytes()
    return to_int16(resample(mono, from_hz, to_hz)).astype("<i2").tobytes()
