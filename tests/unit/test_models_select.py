"""Engine choice: auto picks Vosk when its model is installed, else the embedded default."""

from __future__ import annotations

from pathlib import Path

import pytest

from coach.asr import select
from coach.errors import ModelError, UsageError
from coach.models import CATALOGUE


def install_fake_vosk(directory: Path) -> Path:
    folder = directory / CATALOGUE["vosk-small-en"].folder
    (folder / "am").mkdir(parents=True)
    (folder / "conf").mkdir()
    (folder / "conf" / "model.conf").write_text("--beam=10\n")
    return folder


def test_auto_without_vosk_model_is_the_embedded_default(tmp_path: Path) -> None:
    choice = select.choose_engine("auto", tmp_path)
    assert choice.engine == "pocketsphinx"
    assert "not installed" in choice.reason and "coach models fetch" in choice.reason


def test_auto_with_the_vosk_model_is_vosk(tmp_path: Path) -> None:
    folder = install_fake_vosk(tmp_path)
    choice = select.choose_engine("auto", tmp_path)
    assert (choice.engine, choice.model_path) == ("vosk", folder)
    assert "Vosk" in choice.reason and "installed" in choice.reason


def test_auto_without_any_recognizer_is_the_keyboard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(select, "_has", lambda module: False)
    choice = select.choose_engine("auto", tmp_path)
    assert choice.engine == "keyboard" and "keyboard" in choice.reason


def test_classifier_joins_auto_only_when_its_weights_exist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(select, "classifier_available", lambda: True)
    assert select.choose_engine("auto", tmp_path).with_classifier
    assert "keyword classifier" in select.choose_engine("auto", tmp_path).reason
    assert not select.choose_engine("pocketsphinx", tmp_path).with_classifier
    monkeypatch.setattr(select, "classifier_available", lambda: False)
    assert not select.choose_engine("auto", tmp_path).with_classifier
    with pytest.raises(ModelError):
        select.choose_engine("keyword", tmp_path)


def test_asking_for_vosk_without_its_model_says_how_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as caught:
        select.choose_engine("vosk", tmp_path)
    assert "coach models fetch" in caught.value.message


def test_unknown_engine_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        select.choose_engine("whisper", tmp_path)
