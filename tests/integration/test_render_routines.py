"""`coach render` for every routine: the WAV is the JSON, speech where say cues are, silence in pauses."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from coach.audio.wav import read_wav

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
RATE = 16_000
SPEECH_MIN_RMS = 300.0        # about -40 dBFS over the whole cue, pauses between words included
SILENT_MAX_RMS = 1.0


def routine_ids() -> list[str]:
    folder = REPO / "content" / "routines"
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt install espeak-ng)")
    try:
        import coach.content.library  # noqa: F401
        import coach.script.engine  # noqa: F401
    except ImportError as error:
        pytest.skip(f"content loading or the script engine is missing: {error}")
    return tmp_path_factory.mktemp("speech-cache")


def render(routine: str, out: Path, cache: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COACH_CACHE_DIR": str(cache),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-m", "coach", "render", routine, "-o", str(out), "--json", *extra],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(float) ** 2))) if len(x) else 0.0


@pytest.mark.parametrize("routine", routine_ids())
def test_render_matches_its_json(routine: str, shared_cache: Path, tmp_path: Path) -> None:
    out = tmp_path / f"{routine}.wav"
    done = render(routine, out, shared_cache)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    with wave.open(str(out)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (RATE, 1, 2)
        wav_seconds = wav.getnframes() / RATE
    assert abs(wav_seconds - data["seconds"]) <= 0.010
    samples = np.frombuffer(read_wav(out), "<i2")
    cues = data["cues"]
    assert cues and cues[0]["start_seconds"] == 0 and cues[-1]["end_seconds"] == data["seconds"]
    assert all(a["end_seconds"] == b["start_seconds"] for a, b in zip(cues, cues[1:]))
    for cue in cues:
        span = samples[round(cue["start_seconds"] * RATE) : round(cue["end_seconds"] * RATE)]
        if cue["kind"] in ("say", "count") or (cue["kind"] == "listen" and cue["text"]):
            assert cue["text"] and rms(span) > SPEECH_MIN_RMS, cue
        elif cue["kind"] == "pause" and cue["end_seconds"] - cue["start_seconds"] >= 2.0:
            assert rms(span) <= SILENT_MAX_RMS, cue
    assert any(c["kind"] == "pause" and c["end_seconds"] - c["start_seconds"] >= 2.0 for c in cues)


def test_second_render_synthesizes_nothing_and_is_identical(shared_cache: Path, tmp_path: Path) -> None:
    routine = routine_ids()[0]
    first, second = tmp_path / "a.wav", tmp_path / "b.wav"
    assert render(routine, first, shared_cache).returncode == 0
    before = sorted(p.name for p in shared_cache.rglob("*.wav"))
    assert render(routine, second, shared_cache).returncode == 0
    assert sorted(p.name for p in shared_cache.rglob("*.wav")) == before
    assert first.read_bytes() == second.read_bytes()


def test_faster_rate_renders_again_and_is_shorter(shared_cache: Path, tmp_path: Path) -> None:
    routine = routine_ids()[0]
    normal = render(routine, tmp_path / "a.wav", shared_cache)
    fast = render(routine, tmp_path / "b.wav", shared_cache, "--rate", "220")
    assert normal.returncode == 0 and fast.returncode == 0, fast.stderr
    speech = lambda d: sum(c["end_seconds"] - c["start_seconds"] for c in json.loads(d)["cues"]  # noqa: E731
                           if c["kind"] in ("say", "count"))
    assert speech(fast.stdout) < 0.85 * speech(normal.stdout)


def test_unknown_routine_is_one_line_exit_2(shared_cache: Path, tmp_path: Path) -> None:
    done = render("no-such-routine", tmp_path / "x.wav", shared_cache)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "no-such-routine" in done.stderr
