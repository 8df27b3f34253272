"""`coach say -o FILE` writes speech; the cache makes the second call render nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from coach.audio.wav import pcm_rms, read_wav

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


def say(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "COACH_CACHE_DIR": str(tmp_path / "cache")}
    return subprocess.run([sys.executable, "-m", "coach", "say", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)


def test_say_to_file_then_from_cache(tmp_path: Path) -> None:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt install espeak-ng)")
    first = say(tmp_path, "Hold for 20 seconds.", "-o", str(tmp_path / "a.wav"))
    assert first.returncode == 0, first.stderr
    entries = sorted((tmp_path / "cache" / "speech").rglob("*.wav"))
    assert len(entries) == 1
    stamp = entries[0].stat().st_mtime_ns
    second = say(tmp_path, "Hold for 20 seconds.", "-o", str(tmp_path / "b.wav"))
    assert second.returncode == 0
    assert entries[0].stat().st_mtime_ns == stamp                    # served from the cache
    assert read_wav(tmp_path / "a.wav") == read_wav(tmp_path / "b.wav")
    assert pcm_rms(read_wav(tmp_path / "a.wav")) > 500


def test_bad_rate_is_usage_error(tmp_path: Path) -> None:
    done = say(tmp_path, "Hello.", "--rate", "5", "-o", str(tmp_path / "x.wav"))
    assert done.returncode == 2 and "--rate" in done.stderr
