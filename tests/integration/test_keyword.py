"""The shipped keyword classifier on real recordings of speakers it was not trained on."""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from coach.asr.keyword import DEFAULT_WEIGHTS, KeywordClassifier
from coach.errors import ModelError
from coach.testing.devset import dev_dir_or_none, held_out, read_pcm

DEV_DIR = dev_dir_or_none() or Path(__file__).resolve().parents[3] / "shared" / "speech" / "commands-dev"


@pytest.fixture(scope="module")
def classifier() -> KeywordClassifier:
    if not DEFAULT_WEIGHTS.is_file():
        pytest.skip(f"keyword weights not built: {DEFAULT_WEIGHTS}")
    return KeywordClassifier.load()


@pytest.fixture(scope="module")
def held_out_clips() -> dict[str, list[Path]]:
    if not (DEV_DIR / "manifest.csv").is_file():
        pytest.skip(f"development recordings not found in {DEV_DIR}")
    out: dict[str, list[Path]] = {}
    with open(DEV_DIR / "manifest.csv", newline="") as f:
        for r in csv.DictReader(f):
            if held_out(r["speaker"], r["path"]):
                out.setdefault(r["label"], []).append(DEV_DIR / r["path"])
    return {k: sorted(v)[:20] for k, v in out.items()}


@pytest.mark.parametrize("word,context,label", [
    ("stop", "session", "stop"), ("go", "session", "resume"),
    ("yes", "yesno", "yes"), ("no", "yesno", "no")])
def test_real_command_words_are_recognised(classifier, held_out_clips, word, context, label):
    clips = held_out_clips[word]
    hits = sum(classifier.classify(read_pcm(p), context)[0] == label for p in clips)
    assert hits >= 0.8 * len(clips), f"{word}: {hits}/{len(clips)}"


def test_noise_clips_are_rejected_in_every_context(classifier, held_out_clips):
    clips = held_out_clips["_noise_"]
    for context in ("session", "yesno", "number"):
        accepted = [p.name for p in clips if classifier.classify(read_pcm(p), context)[0]
                    not in ("other", "noise")]
        assert len(accepted) <= 1, f"{context}: {accepted}"


def test_go_is_not_a_command_while_answering_yes_or_no(classifier, held_out_clips):
    labels = [classifier.classify(read_pcm(p), "yesno")[0] for p in held_out_clips["go"]]
    assert "resume" not in labels
    assert sum(label in ("other", "noise") for label in labels) >= 0.8 * len(labels)


def test_other_words_are_mostly_rejected(classifier, held_out_clips):
    clips = [p for w in ("up", "down", "left", "right", "on", "off") for p in held_out_clips[w][:5]]
    accepted = sum(classifier.classify(read_pcm(p), "session")[0] not in ("other", "noise")
                   for p in clips)
    assert accepted <= 0.1 * len(clips)


def espeak(text: str, voice: str) -> bytes:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed")
    from scipy.signal import resample_poly
    raw = subprocess.run(["espeak-ng", "-v", voice, "--stdout", text], check=True,
                         capture_output=True).stdout
    x = np.frombuffer(raw[44:], dtype="<i2").astype(np.float32)   # 22.05 kHz WAV
    y = resample_poly(x, 320, 441)
    on = np.nonzero(np.abs(y) > 300)[0]
    y = y[max(0, on[0] - 800):on[-1] + 2400]
    return np.clip(y, -32768, 32767).astype("<i2").tobytes()


@pytest.mark.parametrize("voice", ["en-us", "en-gb"])
def test_espeak_it_hurts_is_pain_in_every_context(classifier, voice):
    pcm = espeak("it hurts", voice)
    for context in ("session", "yesno", "number"):
        label, probability, scores = classifier.classify(pcm, context)
        assert label == "pain", (context, scores)
        assert 0.0 < probability <= 1.0


def test_rendered_running_speech_is_not_a_command(classifier):
    pcm = espeak("Lie on your back and breathe out slowly while you relax your hips.", "en-us")
    assert classifier.classify(pcm, "session")[0] in ("other", "noise")


def test_classification_is_deterministic(classifier, held_out_clips):
    pcm = read_pcm(held_out_clips["stop"][0])
    first = classifier.classify(pcm, "session")
    again = KeywordClassifier.load().classify(pcm, "session")
    assert first == classifier.classify(pcm, "session") == again


def test_silence_and_empty_segments_are_rejected(classifier):
    for pcm in (b"", bytes(32000)):
        assert classifier.classify(pcm, "session")[0] in ("other", "noise")


def test_missing_weights_file_is_a_one_line_model_error(tmp_path):
    with pytest.raises(ModelError) as err:
        KeywordClassifier.load(tmp_path / "nope.npz")
    assert "\n" not in str(err.value) and "nope.npz" in str(err.value)
    assert err.value.exit_code == 4


def test_broken_weights_file_is_a_model_error(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a numpy archive")
    with pytest.raises(ModelError):
        KeywordClassifier.load(bad)


def test_weights_trained_on_trimmed_clips_get_trimmed_segments(classifier, held_out_clips):
    """The front end follows the weights: a model marked ``trim`` sees the segment cut
    to its speech, exactly as training cut its clips; unmarked weights see it whole."""
    from dataclasses import replace

    from coach.asr.embedding import trim_segment
    pcm = read_pcm(held_out_clips["stop"][0])
    silence = bytes(2 * 16000)     # a second of silence before the word: trimmed away
    padded = silence + pcm
    trimming = KeywordClassifier(replace(classifier.model, info={**classifier.model.info, "trim": True}),
                                 classifier._embedder)
    untrimmed = KeywordClassifier(replace(classifier.model, info={**classifier.model.info, "trim": False}),
                                  classifier._embedder)
    cut = trim_segment(np.frombuffer(padded, dtype="<i2")).tobytes()
    assert len(cut) < len(padded)
    np.testing.assert_allclose(trimming.features(padded), untrimmed.features(cut), rtol=1e-5, atol=1e-5)
    assert not np.allclose(untrimmed.features(padded), untrimmed.features(cut), atol=1e-3)
