"""The `coach` command on the real content, as separate processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import wave
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTENT = ROOT / "content"

pytestmark = pytest.mark.integration


def _content_ready() -> str | None:
    if not any((CONTENT / "routines").glob("*.yaml")):
        return "content/routines has no routines yet"
    if not (ROOT / "coach" / "content" / "library.py").exists():
        return "coach/content/library.py (the loader) is not there yet"
    return None


if _content_ready():
    pytest.skip(_content_ready(), allow_module_level=True)


@pytest.fixture
def env(tmp_path):
    e = dict(os.environ)
    e.update(PYTHONPATH=str(ROOT), COACH_DATA_DIR=str(tmp_path / "data"), COACH_CACHE_DIR=str(tmp_path / "cache"))
    e.pop("COACH_CONTENT_DIR", None)
    return e


def coach(env, *args, timeout=60, stdin=subprocess.DEVNULL):
    return subprocess.run([sys.executable, "-m", "coach", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout, stdin=stdin)


@pytest.fixture(scope="module")
def listing():
    e = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-m", "coach", "list", "--json"], cwd=ROOT, env=e,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_list_json_has_routines_exercises_with_sources_and_tips(listing):
    assert len(listing["routines"]) >= 5
    for r in listing["routines"]:
        assert r["id"] and r["name"] and r["total_seconds"] > 0 and r["items"]
    for e in listing["exercises"]:
        assert e["source"] and all(s["file"] and s["section"] for s in e["source"])
        assert e["kind"] in ("exercise", "self-care") and e["sides"] in ("one", "both", "none")
    names = " ".join(e["name"].lower() for e in listing["exercises"])
    assert "cold" in names and "heat" in names
    assert listing["tips"]


def test_show_totals_equal_the_sum_of_cues_for_every_routine(env, listing):
    for n, routine in enumerate(listing["routines"]):
        for dose in ("low", "high") if n == 0 else ("low",):
            out = coach(env, "show", routine["id"], "--json", "--dose", dose)
            assert out.returncode == 0, out.stderr
            data = json.loads(out.stdout)
            total = 0.0
            for cue in data["cues"]:
                assert cue["kind"] in ("say", "pause", "count", "chime", "listen")
                assert cue["seconds"] > 0
                total += cue["seconds"]
            assert total == data["total_seconds"]
            if dose == "low":
                assert data["total_seconds"] == routine["total_seconds"]


def read_log(path: Path) -> list[dict]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


@pytest.mark.parametrize("routine", ["gentle-floor", "cold-pack"])
def test_text_run_in_virtual_time_completes_and_logs_every_cue(env, tmp_path, routine, listing):
    if routine not in {r["id"] for r in listing["routines"]}:
        pytest.skip(f"no routine {routine} in content")
    log = tmp_path / "events.jsonl"
    out = coach(env, "run", routine, "--text", "--clock", "virtual", "--events", str(log))
    assert out.returncode == 0, out.stderr
    events = read_log(log)
    assert events[0]["type"] == "session-started" and events[0]["routine_id"] == routine
    assert events[-1] == {"type": "session-ended", "t": events[-1]["t"], "reason": "completed"}
    times = [e["t"] for e in events]
    assert times == sorted(times)
    assert events[-1]["t"] == pytest.approx(events[0]["total_seconds"], abs=0.05)
    shown = json.loads(coach(env, "show", routine, "--json").stdout)
    assert len([e for e in events if e["type"] == "cue-started"]) == len(shown["cues"])
    assert "session ended: completed" in out.stdout


def test_first_run_notice_once_and_default_log_in_the_data_dir(env, tmp_path):
    first = coach(env, "run", "cold-pack", "--text", "--clock", "virtual")
    second = coach(env, "run", "cold-pack", "--text", "--clock", "virtual")
    assert first.returncode == second.returncode == 0
    assert "not a medical device" in first.stderr and "not a medical device" not in second.stderr
    logs = sorted((tmp_path / "data" / "sessions").glob("*-cold-pack*.jsonl"))
    assert len(logs) == 2 and read_log(logs[0])[-1]["type"] == "session-ended"


def test_kill_9_mid_session_leaves_a_readable_log(env, tmp_path):
    log = tmp_path / "killed.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "coach", "run", "gentle-floor", "--text", "--clock", "real",
                             "--input", "none", "--events", str(log)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not (log.exists() and log.stat().st_size):
        time.sleep(0.05)
    time.sleep(1.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    raw = log.read_text(encoding="utf-8")
    assert raw.endswith("\n")
    events = [json.loads(line) for line in raw.splitlines()]    # every line parses
    assert events[0]["type"] == "session-started"
    assert any(e["type"] == "cue-started" for e in events)
    assert not any(e["type"] == "session-ended" for e in events)


def test_stop_key_in_a_terminal_ends_with_status_10(env, tmp_path):
    import pty

    controller, terminal = pty.openpty()
    log = tmp_path / "stop.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "coach", "run", "gentle-floor", "--text", "--input", "keyboard",
                             "--events", str(log)],
                            cwd=ROOT, env=env, stdin=terminal, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    os.close(terminal)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (log.exists() and "cue-started" in log.read_text()):
            time.sleep(0.05)
        os.write(controller, b"s")
        stdout, stderr = proc.communicate(timeout=20)
    finally:
        os.close(controller)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 10, stderr
    events = read_log(log)
    kinds = [e["type"] for e in events]
    assert kinds.index("command-heard") < kinds.index("audio-cancelled") < kinds.index("session-ended")
    assert events[-1]["reason"] == "stopped"
    assert "say: Stopped." in stdout


def test_microphone_wav_in_virtual_time_terminates(env, tmp_path):
    mic = tmp_path / "silence.wav"
    with wave.open(str(mic), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16000)
        wav.writeframes(bytes(16000 * 2))
    log = tmp_path / "mic.jsonl"
    out = coach(env, "run", "cold-pack", "--text", "--mic", str(mic), "--events", str(log), timeout=120)
    assert out.returncode == 0, out.stderr
    events = read_log(log)
    assert events[-1]["type"] == "session-ended" and events[0]["clock"] == "virtual"


def test_user_errors_are_one_line_with_status_2(env, tmp_path):
    out = coach(env, "run", "no-such-routine", "--text", "--clock", "virtual")
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1
    assert "gentle-floor" in out.stderr and "Traceback" not in out.stderr
    out = coach(env, "show", "no-such-routine")
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1
    out = coach(env, "run", "gentle-floor", "--input", "keyboard")       # stdin is not a terminal
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1
    out = coach(env, "run", "gentle-floor", "--mic", str(tmp_path / "missing.wav"))
    assert out.returncode == 2 and "Traceback" not in out.stderr


def test_validate_passes_on_the_content_and_fails_on_a_broken_copy(env, tmp_path):
    out = coach(env, "validate")
    assert out.returncode == 0 and out.stdout.startswith("ok: ")
    import shutil

    copy = tmp_path / "content"
    shutil.copytree(CONTENT, copy)
    target = sorted((copy / "exercises").glob("*.yaml"))[0]
    text = target.read_text().splitlines()
    line = next(i for i, t in enumerate(text) if t.startswith("hold_seconds:") or t.startswith("reps:"))
    key = text[line].split(":")[0]
    text[line] = f"{key}: -seven"
    target.write_text("\n".join(text) + "\n")
    out = coach(env, "validate", str(copy))
    assert out.returncode == 2
    assert any(f"{target.name}:{line + 1}:" in problem and key in problem for problem in out.stderr.splitlines())
