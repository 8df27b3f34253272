"""Safety around `coach run`, as separate processes over a real history file:
locks survive a restart, a complete triage lifts them, a run without any input
never waits for the baseline question, and `coach validate` checks triage.yaml
and commands.yaml."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTENT = ROOT / "content"

pytestmark = pytest.mark.integration

if not (CONTENT / "triage.yaml").exists():
    pytest.skip("content/triage.yaml is missing", allow_module_level=True)


@pytest.fixture
def env(tmp_path):
    e = dict(os.environ)
    e.update(PYTHONPATH=str(ROOT), COACH_DATA_DIR=str(tmp_path / "data"), COACH_CACHE_DIR=str(tmp_path / "cache"))
    e.pop("COACH_CONTENT_DIR", None)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "notice-shown").write_text("shown\n")
    return e


def coach(env, *args, stdin_text: str | None = None, timeout=120):
    return subprocess.run([sys.executable, "-m", "coach", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout, input=stdin_text,
                          stdin=None if stdin_text is not None else subprocess.DEVNULL)


def read_log(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def triage(env, answers: list[str]) -> dict:
    out = coach(env, "triage", "--json", stdin_text="\n".join(answers) + "\n")
    lines = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    assert lines and lines[-1]["type"] == "outcome", out.stderr
    return lines[-1]


def test_an_emergency_outcome_locks_exercise_across_processes_until_a_complete_triage(env, tmp_path):
    assert triage(env, ["no", "3", "yes"])["outcome"] == "a"         # chest pain: emergency
    log = tmp_path / "blocked.jsonl"
    blocked = coach(env, "run", "cold-pack", "--text", "--clock", "virtual", "--events", str(log))
    assert blocked.returncode == 10, blocked.stderr
    events = read_log(log)
    assert [e["type"] for e in events] == ["session-blocked"]
    assert "safety questions" in events[0]["text"] and events[0]["text"] in blocked.stdout
    # every answer "no" (and a rating of 3): a complete triage lifts the lock
    assert triage(env, ["no", "3"] + ["no"] * 80)["outcome"] == "c"
    log = tmp_path / "ran.jsonl"
    ran = coach(env, "run", "cold-pack", "--text", "--clock", "virtual", "--events", str(log))
    assert ran.returncode == 0, ran.stderr
    assert read_log(log)[-1]["reason"] == "completed"


def test_speak_to_a_clinician_today_blocks_the_rest_of_the_day(env, tmp_path):
    # which question comes first after tier A: ask with every answer "no", in a data folder of its own
    scout = dict(env, COACH_DATA_DIR=str(tmp_path / "scout"))
    out = coach(scout, "triage", "--json", stdin_text="\n".join(["no", "3"] + ["no"] * 80) + "\n")
    asked = [json.loads(line)["id"] for line in out.stdout.splitlines() if '"question"' in line]
    first_b = next(i for i, qid in enumerate(asked) if qid.startswith("B"))
    assert triage(env, ["no", "3"] + ["no"] * (first_b - 2) + ["yes"])["outcome"] == "b1"
    blocked = coach(env, "run", "cold-pack", "--text", "--clock", "virtual", "--events", str(tmp_path / "b.jsonl"))
    assert blocked.returncode == 10 and "any more today" in blocked.stdout


def test_a_text_run_with_no_input_never_waits_for_the_baseline_question(env, tmp_path):
    log = tmp_path / "events.jsonl"
    out = coach(env, "run", "cold-pack", "--text", "--clock", "virtual", "--events", str(log))
    assert out.returncode == 0, out.stderr
    events = read_log(log)
    assert not [e for e in events if e["type"] == "triage-question"]
    assert events[0]["type"] == "session-started" and events[-1]["reason"] == "completed"
    assert events[-1]["t"] == pytest.approx(events[0]["total_seconds"], abs=0.05)


def test_a_baseline_given_on_the_command_line_is_recorded_not_asked(env, tmp_path):
    log = tmp_path / "events.jsonl"
    out = coach(env, "run", "cold-pack", "--text", "--clock", "virtual", "--baseline", "4", "--events", str(log))
    assert out.returncode == 0, out.stderr
    events = read_log(log)
    assert not [e for e in events if e["type"] == "triage-question"]
    given = [e for e in events if e["type"] == "pain-baseline"]
    assert [(e["attempt"], e["value"]) for e in given] == [("given", 4)]
    shown = json.loads(coach(env, "history", "--json").stdout)
    assert shown["pain_trend"][0]["low"] == shown["pain_trend"][0]["high"] == 4
    bad = coach(env, "run", "cold-pack", "--text", "--clock", "virtual", "--baseline", "11")
    assert bad.returncode == 2 and "0 to 10" in bad.stderr


def test_validate_checks_triage_and_commands_with_file_line_and_field(env, tmp_path):
    copy = tmp_path / "content"
    shutil.copytree(CONTENT, copy)
    triage_lines = (copy / "triage.yaml").read_text().splitlines()
    t = next(i for i, line in enumerate(triage_lines) if line.strip().startswith("timeout_seconds:"))
    triage_lines[t] = triage_lines[t].split(":")[0] + ": -eight"
    (copy / "triage.yaml").write_text("\n".join(triage_lines) + "\n")
    command_lines = (copy / "commands.yaml").read_text().splitlines()
    c = next(i for i, line in enumerate(command_lines) if line.strip().startswith("phrases:"))
    command_lines.insert(c + 1, command_lines[c].split("phrases:")[0] + "loudness: 11")
    (copy / "commands.yaml").write_text("\n".join(command_lines) + "\n")
    out = coach(env, "validate", str(copy))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    problems = out.stderr.splitlines()
    assert any(f"triage.yaml:{t + 1}:" in p and "timeout_seconds" in p for p in problems), problems
    assert any(f"commands.yaml:{c + 2}:" in p and "loudness" in p for p in problems), problems
    (copy / "triage.yaml").unlink()
    out = coach(env, "validate", str(copy))
    assert out.returncode == 2 and any("triage.yaml" in p and "missing" in p for p in out.stderr.splitlines())


def test_pain_key_in_a_terminal_triages_by_keys_and_an_emergency_ends_with_10(env, tmp_path):
    """The real keyboard in a terminal, in real time: '!' halts, keys answer, 'a' ends the session."""
    import pty
    import select
    import time

    controller, terminal = pty.openpty()
    log = tmp_path / "keys.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "coach", "run", "gentle-floor", "--text", "--input", "keyboard",
                             "--events", str(log)],
                            cwd=ROOT, env=env, stdin=terminal, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    os.close(terminal)
    seen = b""

    def wait_for(marker: bytes, count: int, timeout: float = 30.0) -> None:
        nonlocal seen
        deadline = time.monotonic() + timeout
        while seen.count(marker) < count and time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stdout], [], [], 0.1)
            if ready:
                chunk = os.read(proc.stdout.fileno(), 4096)
                if not chunk:
                    break
                seen += chunk
        assert seen.count(marker) >= count, seen.decode(errors="replace")[-600:]

    try:
        wait_for(b"(keys: 0-9", 1)                # the baseline question
        os.write(controller, b"3")
        wait_for(b"say: ", 3)                     # the routine is under way
        os.write(controller, b"!")
        wait_for(b"(keys: y yes", 1)              # S1
        os.write(controller, b"n")
        wait_for(b"(keys: 0-9", 2)                # S2
        os.write(controller, b"5")
        wait_for(b"(keys: y yes", 2)              # the first emergency question
        os.write(controller, b"y")
        wait_for(b"911", 1)                       # the emergency script: 's' cuts its speech short
        os.write(controller, b"s")
        proc.wait(timeout=60)
    finally:
        os.close(controller)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 10
    events = read_log(log)
    outcome = [e for e in events if e["type"] == "triage-outcome"]
    assert outcome and outcome[0]["outcome"] == "a"
    heard = [(e["command"], e.get("value")) for e in events if e["type"] == "command-heard"]
    assert heard[:4] == [("number", 3), ("pain", None), ("no", None), ("number", 5)]
    assert events[-1]["type"] == "session-ended" and events[-1]["reason"] == "triage"
    started = [e for e in events if e["type"] == "triage-started"][0]
    assert started["trigger"] == "keyboard"
    shown = json.loads(coach(env, "history", "--json").stdout)
    assert shown["outcomes"][0]["outcome"] == "a" and shown["locks"]
