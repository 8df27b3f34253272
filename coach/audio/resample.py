"""Sample-rate and channel conversion to the pipeline format (16 kHz mono int16).

Band-limited interpolation keeps speech clean when espeak's 22,050 Hz or a
device's 44,100/48,000 Hz meets the recognizers' 16,000 Hz.
"""

from __future__ import annotations

from math import gcd

import numpy as np

from coach.audio import SAMPLE_RATE_HZ

ZERO_CROSSINGS = 16      # filter half-length in zero crossings of the sinc
ROLLOFF = 0.95
KAISER_BETA = 8.6        # about 80 dB stop band
BLOCK_OUTPUTS = 8192     # outputs computed per step, to bound memory on long files


def to_mono(samples: np.ndarray, channels: int) -> np.ndarray:
    """Average interleaved channels into one."""
    if channels <= 1:
        return samples
    frames = samples[: len(samples) - len(samples) % channels].reshape(-1, channels)
    return frames.astype(np.float64).mean(axis=1)


def _phase_table(up: int, scale: float, half_width: int) -> np.ndarray:
    """Filter weights for each of the ``up`` fractional positions between input samples."""
    cutoff = 0.5 * scale * ROLLOFF                                  # cycles per input sample
    offsets = np.arange(-half_width + 1, half_width + 1)
    distance = (np.arange(up) / up)[:, None] - offsets[None, :]
    window = np.kaiser(2 * half_width + 1, KAISER_BETA)
    grid = np.arange(-half_width, half_width + 1)
    return 2 * cutoff * np.sinc(2 * cutoff * distance) * np.interp(distance, grid, window)


def resample(samples: np.ndarray, from_hz: int, to_hz: int) -> np.ndarray:
    """Band-limited polyphase resampling (Kaiser-windowed sinc); float64 in the input's scale.

    Plain numpy, so importing the coach stays fast (scipy.signal costs ~1 s to import).
    The low-pass sits at 95 % of the lower Nyquist frequency, so nothing aliases.
    """
    x = np.asarray(samples, dtype=np.float64)
    if from_hz == to_hz or len(x) == 0:
        return x
    divisor = gcd(int(from_hz), int(to_hz))
    up, down = int(to_hz) // divisor, int(from_hz) // divisor
    scale = min(1.0, up / down)
    half_width = int(np.ceil(ZERO_CROSSINGS / scale))              # input samples each side
    table = _phase_table(up, scale, half_width)
    count = -(-len(x) * up // down)
    padded = np.concatenate([np.zeros(half_width), x, np.zeros(half_width + 1)])
    offsets = np.arange(-half_width + 1, half_width + 1) + half_width
    out = np.empty(count)
    for first in range(0, count, BLOCK_OUTPUTS):
        position = np.arange(first, min(count, first + BLOCK_OUTPUTS)) * down
        base, phase = np.divmod(position, up)
        out[first : first + len(base)] = np.einsum(
            "ij,ij->i", padded[base[:, None] + offsets[None, :]], table[phase])
    return out


def to_int16(samples: np.ndarray) -> np.ndarray:
    """Round and clip to int16."""
    return np.clip(np.rint(samples), -32768, 32767).astype(np.int16)


def resample_int16(samples: np.ndarray, from_hz: int, to_hz: int) -> np.ndarray:
    """``resample``, rounded and clipped to int16."""
    return to_int16(resample(samples, from_hz, to_hz))


def resample_linear_int16(samples: np.ndarray, from_hz: int, to_hz: int) -> np.ndarray:
    """Linear interpolation to int16, ``round(n * to_hz / from_hz)`` samples long.

    For the simulated echo: a constant stays exactly constant up to its last sample
    (no filter ringing), so echo levels can be checked sample by sample.
    """
    if from_hz == to_hz or samples.size == 0:
        return samples.astype(np.int16, copy=False)
    n_out = int(round(samples.size * to_hz / from_hz))
    positions = np.arange(n_out) * (from_hz / to_hz)
    return to_int16(np.interp(positions, np.arange(samples.size), samples.astype(np.float64)))


def convert_pcm(pcm: bytes, from_hz: int, to_hz: int = SAMPLE_RATE_HZ, channels: int = 1) -> bytes:
    """int16 PCM at any rate/channel count → int16 mono PCM at ``to_hz``."""
    samples = np.frombuffer(pcm, dtype="<i2")
    mono = to_mono(samples, channels)
    if from_hz == to_hz and channels <= 1:
        return samples.astype("<i2").tobytes()
    return resample_int16(mono, from_hz, to_hz).astype("<i2").tobytes()
