"""The development recordings as tests and benchmarks see them: the held-out split and clip reading."""

from __future__ import annotations

import hashlib
import wave
from pathlib import Path

from coach.testing.micmix import MissingTestData, dev_set_dir


def held_out(speaker: str, path: str) -> bool:
    """Speakers (noise: clips) never used for training or tuning; the same split as training."""
    key = path if speaker == "noise" else speaker
    return int(hashlib.md5(("coach-heldout:" + key).encode()).hexdigest()[:8], 16) % 4 == 0


def read_pcm(path: Path) -> bytes:
    """A development clip as it is: 16 kHz mono int16."""
    with wave.open(str(path), "rb") as w:
        assert w.getframerate() == 16000 and w.getsampwidth() == 2 and w.getnchannels() == 1
        return w.readframes(w.getnframes())


def dev_dir_or_none() -> Path | None:
    try:
        return dev_set_dir()
    except MissingTestData:
        return None


def dev_clips(label: str, count: int) -> list[Path]:
    """An evenly spread, fixed sample of one label's clips (skips the test when the
    development recordings are absent)."""
    import csv

    import pytest

    folder = dev_dir_or_none()
    if folder is None:
        pytest.skip("development recordings not found (../shared/speech/commands-dev)")
    with open(folder / "manifest.csv", newline="") as handle:
        paths = sorted(folder / row["path"] for row in csv.DictReader(handle) if row["label"] == label)
    step = max(1, len(paths) // count)
    return paths[::step][:count]
