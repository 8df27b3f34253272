"""WAV files in and out: any PCM WAV in, 16 kHz mono int16 for the pipeline."""

from __future__ import annotations

import os
import tempfile
import wave
from pathlib import Path

import numpy as np

from coach.audio import SAMPLE_RATE_HZ, SAMPLE_WIDTH_BYTES
from coach.audio.memory import MemorySink
from coach.audio.resample import convert_pcm, to_int16
from coach.clock import Clock
from coach.errors import UsageError


def read_wav_raw(path: str | Path) -> tuple[bytes, int, int]:
    """(int16 interleaved PCM, rate_hz, channels) of a PCM WAV of 8, 16 or 32 bits."""
    try:
        with wave.open(str(path), "rb") as wav:
            width, rate_hz, channels = wav.getsampwidth(), wav.getframerate(), wav.getnchannels()
            frames = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as error:
        raise UsageError("wav-invalid", f"{path}: not a PCM WAV file ({error})") from error
    except OSError as error:
        raise UsageError("wav-unreadable", f"{path}: {error.strerror or error}") from error
    if width == 2:
        return frames, rate_hz, channels
    if width == 1:
        samples = (np.frombuffer(frames, dtype=np.uint8).astype(np.int16) - 128) << 8
    elif width == 4:
        samples = (np.frombuffer(frames, dtype="<i4") >> 16).astype(np.int16)
    else:
        raise UsageError("wav-format", f"{path}: {8 * width}-bit WAV is not supported; use 16-bit PCM")
    return samples.astype("<i2").tobytes(), rate_hz, channels


def read_wav(path: str | Path, rate_hz: int = SAMPLE_RATE_HZ) -> bytes:
    """Any PCM WAV → int16 mono PCM at ``rate_hz``."""
    pcm, file_rate_hz, channels = read_wav_raw(path)
    return convert_pcm(pcm, file_rate_hz, rate_hz, channels)


def read_wav_samples(path: str | Path, rate_hz: int = SAMPLE_RATE_HZ) -> np.ndarray:
    """As ``read_wav``, as a (writable) int16 array."""
    return np.frombuffer(read_wav(path, rate_hz), dtype="<i2").astype(np.int16)


def write_wav(path: str | Path, pcm: bytes, rate_hz: int = SAMPLE_RATE_HZ) -> None:
    """Write int16 mono PCM; via a temp file and rename so readers never see half a file."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=".tmp-", suffix=".wav", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as raw, wave.open(raw, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(SAMPLE_WIDTH_BYTES)
            wav.setframerate(rate_hz)
            wav.writeframes(pcm)
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def mix_placed(sink: MemorySink) -> bytes:
    """Lay every sound that sounded onto silence, as one int16 track."""
    track = np.zeros(sink.end_sample, dtype=np.int32)
    for sound in sink.placed:
        audible = np.frombuffer(sound.audible_pcm, dtype="<i2")
        track[sound.start_sample : sound.start_sample + len(audible)] += audible
    return to_int16(track).astype("<i2").tobytes()


class WavFileSink(MemorySink):
    """Plays onto the session timeline and writes it as one WAV on close.

    Each ``play`` lands at ``clock.now()`` (or after the sound still playing);
    ``cancel`` cuts the current sound at ``clock.now()``, so an interrupted cue is
    visibly cut off in the file. Silence fills everything else.
    """

    def __init__(self, path: str | Path, clock: Clock, rate_hz: int = SAMPLE_RATE_HZ) -> None:
        super().__init__(clock, rate_hz)
        self.path = Path(path)

    def close(self) -> None:
        if self.closed:
            return
        super().close()
        write_wav(self.path, mix_placed(self), self.rate_hz)


def pcm_rms(pcm: bytes) -> float:
    """Root mean square of int16 PCM (0 for empty); tests and the renderer use it."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    return float(np.sqrt(np.mean(samples**2))) if len(samples) else 0.0
