"""The Whisper tiny.en engine on real recordings of speakers it was never trained on
(development set and FSDD), and the check of its model file.

Floors are below the benchmark's figures (scripts/bench/recognition.py) by a
margin: they catch a broken engine, they are not the product's targets.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from coach.listen.asr.keyword import KeywordModel
from coach.listen.asr.whisper import MODEL_BYTES, WhisperModel, check_model, default_model_dir
from coach.listen.asr.whisper_engine import WhisperEngine
from coach.audio.wav import read_wav
from coach.content.commands import CommandParser, load_commands
from coach.cli.listen import hear_pcm
from coach.errors import ModelError
from coach.testing import micmix
from coach.testing.devset import dev_dir_or_none, held_out, read_pcm

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
FSDD = REPO.parent / "shared" / "speech" / "fsdd"
FSDD_HELD_OUT = ("george", "theo")      # as scripts/train/make_training_set.py


@pytest.fixture(scope="module")
def engine() -> WhisperEngine:
    commands = load_commands()
    return WhisperEngine(WhisperModel(), KeywordModel.read_default(), commands, commands.pain_intents)


@pytest.fixture(scope="module")
def held_out_clips() -> dict[str, list[Path]]:
    folder = dev_dir_or_none()
    if folder is None:
        pytest.skip("development recordings not found (../shared/speech/commands-dev)")
    out: dict[str, list[Path]] = {}
    with open(folder / "manifest.csv", newline="") as f:
        for r in csv.DictReader(f):
            if held_out(r["speaker"], r["path"]):
                out.setdefault(r["label"], []).append(folder / r["path"])
    return {k: sorted(v)[:20] for k, v in out.items()}


def said(engine: WhisperEngine, pcm: bytes, context: str) -> str | None:
    """The command the coach acts on when it hears a clip as ``coach hear`` plays it
    (room tone around it, the endpointer, the engine, the parser); numbers as "number:N"."""
    heard, _, _ = hear_pcm(engine, CommandParser(engine.command_set), pcm, context)
    if heard is None:
        return None
    return heard.command if heard.value is None else f"number:{heard.value}"


@pytest.mark.parametrize("word,context,command", [
    ("stop", "session", "stop"), ("go", "session", "resume"),
    ("yes", "yesno", "yes"), ("no", "yesno", "no"), ("stop", "yesno", "stop")])
def test_real_command_words_are_recognised(engine, held_out_clips, word, context, command) -> None:
    clips = held_out_clips[word]
    hits = sum(said(engine, read_pcm(p), context) == command for p in clips)
    assert hits >= 0.85 * len(clips), f"{word}: {hits}/{len(clips)}"


def test_fsdd_digits_of_unseen_speakers_have_the_right_value(engine) -> None:
    if not (FSDD / "manifest.csv").is_file():
        pytest.skip(f"FSDD recordings not found in {FSDD}")
    with open(FSDD / "manifest.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["speaker"] in FSDD_HELD_OUT]
    words = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
    sample = [r for w in words for r in sorted((r for r in rows if r["label"] == w), key=lambda r: r["path"])[:3]]
    hits = 0
    for r in sample:
        pcm = read_wav(FSDD / r["path"])          # 8 kHz, resampled to 16 kHz
        hits += said(engine, pcm, "number") == f"number:{words.index(r['label'])}"
    assert hits >= 0.85 * len(sample), f"{hits}/{len(sample)}"


def test_noise_and_other_words_are_rejected(engine, held_out_clips) -> None:
    noise = held_out_clips["_noise_"]
    others = [p for w in ("up", "down", "left", "right", "on", "off") for p in held_out_clips[w][:5]]
    for context in ("session", "yesno", "number"):
        assert sum(said(engine, read_pcm(p), context) is not None for p in noise) == 0, context
        fired = sum(said(engine, read_pcm(p), context) is not None for p in others)
        assert fired <= 0.07 * len(others), (context, fired)


def test_go_is_not_a_command_while_answering_yes_or_no(engine, held_out_clips) -> None:
    assert all(said(engine, read_pcm(p), "yesno") != "resume" for p in held_out_clips["go"])


def test_silence_and_empty_segments_are_nothing(engine) -> None:
    for pcm in (b"", bytes(32000)):
        assert engine.transcribe(pcm, "session") is None


def test_the_same_clip_gives_the_same_decision(engine, held_out_clips) -> None:
    pcm = read_pcm(held_out_clips["stop"][0])
    assert engine.transcribe(pcm, "session") == engine.transcribe(pcm, "session")


def test_decoder_reads_a_phrase_no_recording_has(engine) -> None:
    """The constrained decoder needs no training: espeak-ng saying "ten" is read
    as the number ten, and "slow down" as slower, through the decoder alone."""
    encoded = engine.model.encode(np.frombuffer(espeak_pcm("ten", "en-us"), "<i2").astype(np.float32) / 32768)
    assert max(engine.command_probabilities(encoded, "number").items(), key=lambda kv: kv[1])[0] == "ten"
    encoded = engine.model.encode(np.frombuffer(espeak_pcm("slow down", "en-gb"), "<i2").astype(np.float32) / 32768)
    assert max(engine.command_probabilities(encoded, "session").items(), key=lambda kv: kv[1])[0] == "slower"


def espeak_pcm(text: str, voice: str) -> bytes:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed")
    return micmix.espeak_pcm(text, voice)


# ------------------------------------------------------------ the model file

def test_the_installed_model_passes_its_check() -> None:
    assert check_model(default_model_dir()) == default_model_dir()


def test_a_missing_model_is_a_model_error(tmp_path: Path) -> None:
    for folder in (None, tmp_path):
        with pytest.raises(ModelError) as caught:
            check_model(folder)
        assert caught.value.code == "whisper-model-missing" and caught.value.exit_code == 4


def altered_model(tmp_path: Path, size: int = MODEL_BYTES) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    source = default_model_dir()
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        (folder / name).write_bytes((source / name).read_bytes())
    with open(folder / "model.bin", "wb") as f:
        f.truncate(size)             # right size (or not), wrong bytes
    return folder


@pytest.mark.parametrize("size", [MODEL_BYTES, 1234])
def test_an_altered_model_is_refused(tmp_path: Path, size: int) -> None:
    with pytest.raises(ModelError) as caught:
        WhisperModel(altered_model(tmp_path, size))
    assert caught.value.code == "whisper-model-altered" and "\n" not in caught.value.message


def test_coach_hear_with_an_altered_model_exits_4(tmp_path: Path, held_out_clips) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "COACH_WHISPER_DIR": str(altered_model(tmp_path))}
    done = subprocess.run([sys.executable, "-m", "coach", "hear", "--json", "--engine", "whisper",
                           str(held_out_clips["stop"][0])], capture_output=True, text=True, env=env,
                          timeout=120, check=False)
    assert done.returncode == 4, done.stderr
    assert "SHA-256" in done.stderr and "Traceback" not in done.stderr


def test_enrolment_hears_stop_with_the_real_engine(held_out_clips) -> None:
    """``coach enroll`` ends when "stop" is said for another word: the detector it
    builds hears a real "stop" and not a real "go"."""
    import io

    from coach.cli.listen import stop_detector
    is_stop = stop_detector(load_commands(), io.StringIO())
    assert sum(is_stop(read_pcm(p)) for p in held_out_clips["stop"][:5]) >= 4
    assert not any(is_stop(read_pcm(p)) for p in held_out_clips["go"][:5])
