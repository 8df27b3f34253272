"""WAV reading converts any PCM WAV to 16 kHz mono int16 without damaging the signal."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from coach.audio.resample import convert_pcm
from coach.audio.wav import read_wav, read_wav_raw, write_wav
from coach.errors import UsageError


def write_raw(path: Path, samples: np.ndarray, rate_hz: int, channels: int, width: int) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate_hz)
        wav.writeframes(samples.tobytes())


def dominant_hz(pcm: bytes, rate_hz: int = 16_000) -> float:
    x = np.frombuffer(pcm, dtype="<i2").astype(float)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / rate_hz)[np.argmax(spectrum)])


@pytest.mark.parametrize("rate_hz", [22_050, 44_100, 48_000, 8_000])
def test_stereo_at_any_rate_becomes_16k_mono_with_the_same_pitch(tmp_path: Path, rate_hz: int) -> None:
    t = np.arange(rate_hz) / rate_hz                     # one second
    left = 10_000 * np.sin(2 * np.pi * 500 * t)
    stereo = np.stack([left, left], axis=1).astype("<i2").ravel()
    path = tmp_path / "in.wav"
    write_raw(path, stereo, rate_hz, 2, 2)
    pcm = read_wav(path)
    assert abs(len(pcm) // 2 - 16_000) <= 1
    assert abs(dominant_hz(pcm) - 500) < 3
    peak = np.abs(np.frombuffer(pcm, "<i2")[1000:-1000]).max()
    assert 9_000 < peak < 11_000                           # unity gain


def test_8_bit_wav_is_scaled_to_16_bit(tmp_path: Path) -> None:
    samples = np.array([128, 255, 0, 128], dtype=np.uint8)
    path = tmp_path / "8bit.wav"
    write_raw(path, samples, 16_000, 1, 1)
    pcm, rate, channels = read_wav_raw(path)
    assert np.frombuffer(pcm, "<i2").tolist() == [0, 127 << 8, -128 << 8, 0]


def test_write_then_read_is_lossless_and_leaves_no_temp_files(tmp_path: Path) -> None:
    pcm = np.arange(-500, 500, dtype="<i2").tobytes()
    write_wav(tmp_path / "sub" / "a.wav", pcm)
    assert read_wav(tmp_path / "sub" / "a.wav") == pcm
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["a.wav"]


def test_not_a_wav_is_one_line_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "x.wav"
    path.write_text("hello")
    with pytest.raises(UsageError, match="not a PCM WAV"):
        read_wav(path)


def test_convert_same_rate_mono_is_identity() -> None:
    pcm = np.array([1, -2, 3], dtype="<i2").tobytes()
    assert convert_pcm(pcm, 16_000) == pcm


def test_tones_above_the_new_nyquist_are_removed_not_aliased() -> None:
    rate_hz = 44_100
    t = np.arange(rate_hz) / rate_hz
    for hz, kept in ((1_000, True), (10_000, False), (12_000, False)):
        pcm = (10_000 * np.sin(2 * np.pi * hz * t)).astype("<i2").tobytes()
        out = np.frombuffer(convert_pcm(pcm, rate_hz), "<i2")[500:-500].astype(float)
        rms = np.sqrt((out**2).mean())
        assert (rms > 6_500) if kept else (rms < 70), (hz, rms)


def test_conversion_is_flat_to_nine_tenths_of_nyquist_and_rejects_aliases_by_75_db() -> None:
    """espeak's 22,050 Hz to 16 kHz: a tone at 7.2 kHz keeps its level (the windowed sinc
    this replaced lost 1.8 dB there) and one at 8.8 kHz, which would fold back to 7.2 kHz,
    is gone to the int16 floor (the windowed sinc let it through at -62 dB)."""
    rate_hz = 22_050
    t = np.arange(rate_hz) / rate_hz
    levels = {}
    for hz in (7_200, 8_800):
        pcm = (10_000 * np.sin(2 * np.pi * hz * t)).astype("<i2").tobytes()
        out = np.frombuffer(convert_pcm(pcm, rate_hz), "<i2")[800:-800].astype(float)
        levels[hz] = 20 * np.log10(max(np.sqrt((out**2).mean()), 1e-3) / (10_000 / np.sqrt(2)))
    assert abs(levels[7_200]) < 0.1, levels
    assert levels[8_800] < -75.0, levels
