"""No audio hardware at all: the coach says so in one line and runs as text.

Each command runs as a subprocess with no sound server reachable: a private,
empty ``XDG_RUNTIME_DIR`` and ``PULSE_SERVER`` naming a socket that does not
exist, so PortAudio finds no device (checked with ``coach devices`` first; a
machine with a real sound card skips). No fakes: the real PortAudio is asked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXIT_AUDIO_DEVICE = 3


@pytest.fixture(scope="module")
def no_audio_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("no-audio")
    runtime = folder / "runtime"
    runtime.mkdir(mode=0o700)
    data = folder / "data"
    data.mkdir()
    (data / "notice-shown").write_text("shown\n")            # keep stderr to the device message
    env = {name: value for name, value in os.environ.items()
           if name not in ("PULSE_SINK", "PULSE_SOURCE", "COACH_PULSE_RUNTIME_DIR", "PULSE_COOKIE")}
    env.update({
        "XDG_RUNTIME_DIR": str(runtime),
        "PULSE_SERVER": f"unix:{runtime / 'no-such-socket'}",
        "COACH_DATA_DIR": str(data),
        "COACH_CACHE_DIR": str(folder / "cache"),
        "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    })
    devices = coach(env, "devices", "--json")
    if devices.returncode != 0:
        pytest.skip(f"`coach devices --json` failed without a sound server: {devices.stderr.strip()[-200:]}")
    listed = json.loads(devices.stdout).get("devices", [])
    if listed:
        names = ", ".join(str(d.get("name")) for d in listed)
        pytest.skip(f"this machine has audio devices without a sound server ({names}): cannot test 'no hardware'")
    return env


def coach(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "coach", *args], cwd=REPO, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout)


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def test_run_without_audio_is_a_text_session_exit_0(no_audio_env: dict[str, str], tmp_path: Path) -> None:
    events_path = tmp_path / "events.jsonl"
    done = coach(no_audio_env, "run", "desk-break", "--clock", "virtual", "--events", str(events_path))
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 0, done.stderr
    about_audio = [line for line in lines(done.stderr) if "audio" in line.lower()]
    assert len(about_audio) == 1, done.stderr
    assert "output" in about_audio[0] and "text" in about_audio[0], about_audio[0]
    events = [json.loads(line) for line in events_path.read_text().splitlines()]
    started = [e for e in events if e["type"] == "session-started"]
    assert started and started[0].get("voice") is False
    assert events[-1]["type"] == "session-ended" and events[-1]["reason"] == "completed"
    said = [e for e in events if e["type"] == "cue-started" and e.get("kind") == "say"]
    assert len(said) >= 5
    assert all(e["text"] in done.stdout for e in said[:5]), "the cues were not shown as text"


def test_say_without_audio_is_one_line_exit_3(no_audio_env: dict[str, str]) -> None:
    done = coach(no_audio_env, "say", "hello")
    assert done.returncode == EXIT_AUDIO_DEVICE, done.stderr
    assert "Traceback" not in done.stderr
    assert len(lines(done.stderr)) == 1, done.stderr
    assert "output" in done.stderr and "device" in done.stderr


def test_hear_without_files_or_microphone_is_one_line_exit_3(no_audio_env: dict[str, str]) -> None:
    done = coach(no_audio_env, "hear", timeout=60)
    assert done.returncode == EXIT_AUDIO_DEVICE, done.stderr
    assert "Traceback" not in done.stderr
    assert len(lines(done.stderr)) == 1, done.stderr
    assert "input" in done.stderr and "device" in done.stderr
