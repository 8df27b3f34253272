"""Without PortAudio or a device the coach says so in one line and exits 3."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

BLOCK_SOUNDDEVICE = (
    "import sys, builtins\n"
    "real_import = builtins.__import__\n"
    "def fake(name, *a, **k):\n"
    "    if name == 'sounddevice':\n"
    "        raise OSError('PortAudio library not found')\n"
    "    return real_import(name, *a, **k)\n"
    "builtins.__import__ = fake\n"
    "from coach.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def run(*args: str, cache: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    if cache is not None:
        env["COACH_CACHE_DIR"] = str(cache)
    return subprocess.run([sys.executable, "-c", BLOCK_SOUNDDEVICE, *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)


def test_devices_without_portaudio_is_one_line_exit_3() -> None:
    done = run("devices")
    assert done.returncode == 3
    assert done.stderr.strip().count("\n") == 0
    assert "PortAudio is not installed" in done.stderr and "Traceback" not in done.stderr


def test_say_without_portaudio_is_one_line_exit_3(tmp_path: Path) -> None:
    done = run("say", "Hello.", cache=tmp_path)
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr and done.stderr.strip().count("\n") == 0
