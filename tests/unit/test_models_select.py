"""Engine choice: auto picks the built-in Whisper engine, else Vosk when its model is
installed, else the keyboard; each engine can be asked for by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from coach.listen.asr import select
from coach.errors import ModelError, UsageError
from coach.listen.models import CATALOGUE


def install_fake_vosk(directory: Path) -> Path:
    folder = directory / CATALOGUE["vosk-small-en"].folder
    (folder / "am").mkdir(parents=True)
    (folder / "conf").mkdir()
    (folder / "conf" / "model.conf").write_text("--beam=10\n")
    return folder


def test_auto_is_the_built_in_whisper_engine_and_says_why(tmp_path: Path) -> None:
    choice = select.choose_engine("auto", tmp_path, data_dir=tmp_path)
    assert choice.engine == "whisper"
    assert "Whisper" in choice.reason and "nothing to download" in choice.reason


def test_auto_prefers_whisper_even_with_the_vosk_model(tmp_path: Path) -> None:
    install_fake_vosk(tmp_path)
    assert select.choose_engine("auto", tmp_path, data_dir=tmp_path).engine == "whisper"


def test_without_whisper_auto_falls_back_to_vosk_then_the_keyboard(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(select, "whisper_available", lambda: False)
    folder = install_fake_vosk(tmp_path)
    choice = select.choose_engine("auto", tmp_path)
    assert (choice.engine, choice.model_path) == ("vosk", folder)
    assert "Whisper is not installed" in choice.reason
    monkeypatch.setattr(select, "_has", lambda module: False)
    choice = select.choose_engine("auto", tmp_path)
    assert choice.engine == "keyboard" and "keyboard" in choice.reason
    with pytest.raises(ModelError) as caught:
        select.choose_engine("whisper", tmp_path)
    assert caught.value.exit_code == 4 and "scripts/setup" in caught.value.message


def test_vosk_by_name_with_its_model(tmp_path: Path) -> None:
    folder = install_fake_vosk(tmp_path)
    assert select.choose_engine("vosk", tmp_path).model_path == folder


def test_asking_for_vosk_without_its_model_says_how_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as caught:
        select.choose_engine("vosk", tmp_path)
    assert "coach models fetch" in caught.value.message


def test_enrolled_clips_are_counted_in_the_sentence(tmp_path: Path) -> None:
    folder = tmp_path / "enroll" / "stop"
    folder.mkdir(parents=True)
    for n in (1, 2):
        (folder / f"{n}.wav").write_bytes(b"")
    choice = select.choose_engine("whisper", tmp_path, data_dir=tmp_path)
    assert choice.enrolled_clips == 2 and choice.enroll_data_dir == tmp_path
    assert "adapted to your voice with 2 clips" in choice.reason


@pytest.mark.parametrize("name", ["pocketsphinx", "keyword", "nope"])
def test_unknown_engine_is_a_usage_error(tmp_path: Path, name: str) -> None:
    with pytest.raises(UsageError):
        select.choose_engine(name, tmp_path)
