"""pyttsx3 (espeak-ng here) renders real speech, many times in one process, at 16 kHz mono."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from coach.audio.wav import pcm_rms
from coach.speak.speaker import Speaker
from coach.speak.tts.cache import SpeechCache
from coach.speak.tts.pyttsx3 import Pyttsx3Synthesizer, SpeechEngineError

pytestmark = pytest.mark.integration
RATE = 16_000


@pytest.fixture(scope="module")
def synth() -> Iterator[Pyttsx3Synthesizer]:
    pytest.importorskip("pyttsx3", reason="pyttsx3 is not installed")
    if shutil.which("espeak-ng") is None and shutil.which("espeak") is None:
        pytest.skip("espeak-ng is not installed (apt install espeak-ng)")
    engine = Pyttsx3Synthesizer()
    yield engine
    engine.close()


def voiced_fraction(pcm: bytes) -> float:
    """Share of 20 ms frames louder than -40 dBFS."""
    x = np.frombuffer(pcm, "<i2").astype(float)
    frames = x[: len(x) // 320 * 320].reshape(-1, 320)
    return float((np.sqrt((frames**2).mean(axis=1)) > 328).mean())


def dominant_band_hz(pcm: bytes) -> float:
    x = np.frombuffer(pcm, "<i2").astype(float)
    spectrum = np.abs(np.fft.rfft(x))
    freqs = np.fft.rfftfreq(len(x), 1 / RATE)
    return float((spectrum * freqs).sum() / spectrum.sum())


def test_renders_real_speech_of_plausible_length(synth: Pyttsx3Synthesizer) -> None:
    pcm = synth.synthesize("Lie on your back with your knees bent.")
    seconds = len(pcm) / 2 / RATE
    assert 1.2 < seconds < 5.0                    # 8 words at 160 wpm ≈ 3 s
    assert pcm_rms(pcm) > 500
    assert 0.3 < voiced_fraction(pcm) < 0.98
    assert 200 < dominant_band_hz(pcm) < 4000     # speech energy, not a 22 kHz/16 kHz mix-up


def test_rate_changes_the_length(synth: Pyttsx3Synthesizer) -> None:
    text = "Breathe out slowly as you lower your hips."
    slow = Pyttsx3Synthesizer(rate_wpm=120)
    fast = Pyttsx3Synthesizer(rate_wpm=240)
    try:
        slow_seconds = len(slow.synthesize(text)) / 2 / RATE
        fast_seconds = len(fast.synthesize(text)) / 2 / RATE
    finally:
        slow.close()
        fast.close()
    assert fast_seconds < 0.7 * slow_seconds


def test_many_renders_in_one_process(synth: Pyttsx3Synthesizer) -> None:
    """The engine is known to hang or skip on later runAndWait calls; 40 in a row must all work."""
    texts = [f"Repetition {n} of 40." for n in range(1, 41)]
    lengths = [len(synth.synthesize(text)) for text in texts]
    assert all(length > 0.5 * RATE * 2 for length in lengths)


def test_a_killed_worker_is_replaced(synth: Pyttsx3Synthesizer) -> None:
    synth.synthesize("One.")
    assert synth._worker is not None
    synth._worker.kill()
    synth._worker.wait()
    assert pcm_rms(synth.synthesize("Two.")) > 500


def test_unknown_voice_is_a_one_line_error() -> None:
    engine = Pyttsx3Synthesizer(voice="no/such-voice")
    try:
        with pytest.raises(SpeechEngineError, match="unknown voice 'no/such-voice'"):
            engine.synthesize("Hello.")
    finally:
        engine.close()


def test_engine_lists_english_voices(synth: Pyttsx3Synthesizer) -> None:
    ids = {v["id"] for v in synth.voices()}
    assert any("en" in voice_id for voice_id in ids)


def test_cache_with_the_real_engine(synth: Pyttsx3Synthesizer, speech_cache_dir: Path) -> None:
    texts = ["Hold for 20 seconds.", "Set 2 of 3.", "Now the left leg."]
    before = synth.renders
    first = Speaker(synth, SpeechCache(speech_cache_dir)).prepare(texts)
    assert synth.renders - before == 3
    second = Speaker(synth, SpeechCache(speech_cache_dir)).prepare(texts)
    assert synth.renders - before == 3                       # nothing rendered again
    assert first == second
    other = Pyttsx3Synthesizer(rate_wpm=200)
    try:
        Speaker(other, SpeechCache(speech_cache_dir)).prepare(texts)
        assert other.renders == 3                            # a new rate renders again
    finally:
        other.close()
