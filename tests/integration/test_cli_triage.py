"""The real ``coach triage``, ``coach profile`` and ``coach history`` commands as
subprocesses, answering over pipes, with the data dir in a temporary folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(tmp_path):
    return {**os.environ, "PYTHONPATH": str(REPO), "COACH_DATA_DIR": str(tmp_path / "data")}


def coach(env, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "coach", *args], input=stdin, capture_output=True, text=True,
                          env=env, cwd=REPO, timeout=60)


def converse(env, answers: dict[str, list[str]], *args: str, default_number: str = "3",
             stop_after: int | None = None) -> tuple[list[dict], int]:
    """Answer each JSON question as it arrives: ``answers[id]`` in turn, else "no" (or a number)."""
    process = subprocess.Popen([sys.executable, "-m", "coach", "triage", "--json", *args], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
    records: list[dict] = []
    questions = 0
    try:
        for line in process.stdout:
            record = json.loads(line)
            records.append(record)
            if record["type"] != "question":
                continue
            questions += 1
            if stop_after is not None and questions > stop_after:
                process.stdin.close()
                continue
            queue = answers.get(record["id"], [])
            reply = queue.pop(0) if queue else (default_number if record["context"] == "number" else "no")
            process.stdin.write(reply + "\n")
            process.stdin.flush()
        code = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    return records, code


def asked(records: list[dict]) -> list[str]:
    return [r["id"] for r in records if r["type"] == "question"]


def test_all_no_is_c_and_follows_the_protocol(env):
    records, code = converse(env, {})
    assert code == 0
    assert all(set(r) >= {"type"} for r in records)
    questions = [r for r in records if r["type"] == "question"]
    assert questions[0] == {"type": "question", "id": "S1", "context": "yesno",
                            "text": "Is it a sharp pain, or does it shoot down your leg?"}
    assert all(q["id"] and q["text"] for q in questions)
    last = records[-1]
    assert last["type"] == "outcome" and last["outcome"] == "c" and last["reasons"] == []
    assert last["script"].endswith("If you're worried, contact a health professional.")


def test_tier_a_yes_is_a_with_exit_10_and_nothing_after(env):
    records, code = converse(env, {"A4": ["yes"]}, default_number="two")
    assert code == 10
    assert asked(records)[-1] == "A4" and records[-1]["outcome"] == "a"
    assert records[-1]["reasons"] == ["ces_retention"] and "Call 911" in records[-1]["script"]


def test_end_of_input_is_a_unconfirmed(env):
    result = coach(env, "triage", "--json", stdin="")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == 10 and lines[-1]["outcome"] == "a-unconfirmed"
    assert asked(lines) == ["S1", "S1", "S2", "S2", "A1", "A1"]


def test_stop_is_incomplete(env):
    records, code = converse(env, {"A2": ["stop"]})
    assert code == 10 and records[-1]["outcome"] == "incomplete" and asked(records)[-1] == "A2"


def test_not_understood_is_asked_again_then_counts_as_yes_on_tier_b(env):
    records, code = converse(env, {"B4": ["cat", "go"], "A1": ["banana", "no"]})
    ids = asked(records)
    assert ids.count("A1") == 2 and ids.count("B4") == 2
    assert code == 0 and records[-1]["outcome"] == "b1" and records[-1]["reasons"][0] == "night_pain"


def test_severe_pain_after_rest_is_b2(env):
    records, code = converse(env, {"S2": ["8"], "S2R": ["ten"]}, "--rest-seconds", "0")
    assert code == 0 and records[-1]["outcome"] == "b2" and records[-1]["session_action"] == "end"
    assert asked(records)[-1] == "S2R"


def test_profile_flags_and_locale(env):
    records, code = converse(env, {"A17": ["yes"]}, "--profile", "cancer_history", "--locale", "en-GB")
    assert code == 10 and records[-1]["outcome"] == "a" and "Call 999" in records[-1]["script"]
    records, _ = converse(env, {}, "--profile", "")
    assert "A17" not in asked(records)


def test_second_report_same_day_is_the_short_path_and_history_shows_both(env):
    converse(env, {"C3": ["yes"]})
    records, code = converse(env, {})
    assert asked(records) == ["S1", "S2", "R1", "A4", "A5", "A7", "A10", "A11"]
    assert records[-1]["outcome"] == "b2"            # the earlier b2 still stands
    result = coach(env, "history", "--json")
    data = json.loads(result.stdout)
    assert [o["outcome"] for o in data["outcomes"]] == ["b2", "b2"]
    assert data["pain_trend"][0]["count"] == 2 and data["locks"] == []


def test_terminal_mode(env):
    answers = "\n".join(["no", "4"] + ["no"] * 40) + "\n"
    result = coach(env, "triage", stdin=answers)
    assert result.returncode == 0
    assert result.stdout.startswith("Please stop and get into a comfortable position.\n")
    assert "Do you have any chest pain right now? (yes / no / not sure / stop)" in result.stdout
    assert "None of your answers suggest an emergency." in result.stdout


def test_history_text_shows_locks_after_a(env):
    converse(env, {"A1": ["yes"]})
    result = coach(env, "history")
    assert result.returncode == 0
    assert "a  chest_pain" in result.stdout and "until a complete triage" in result.stdout


def test_profile_set_show_and_advice(env):
    result = coach(env, "profile", "--set", "pregnant=yes,fracture_risk=yes", "--json")
    data = json.loads(result.stdout)
    assert result.returncode == 0 and data["flags"] == ["fracture_risk", "pregnant"]
    assert data["programme_allowed"] is False and "midwife" in data["advice"][0]
    shown = coach(env, "profile", "--show")
    assert "pregnant: yes" in shown.stdout and "under_16: no" in shown.stdout
    records, _ = converse(env, {})
    assert "A14" in asked(records)          # stored fracture_risk gates A14 in


def test_profile_by_keyboard(env):
    result = coach(env, "profile", "--json", stdin="no\nno\nyes\nno\nno\nno\nno\nno\n")
    lines = result.stdout.strip().splitlines()
    assert "Are you under sixteen?" in result.stdout
    data = json.loads(lines[-1])
    assert data["flags"] == ["cancer_history"] and data["programme_allowed"] is True
    assert "check with your doctor" in data["advice"][0]


def test_profile_stopped_by_keyboard_exits_10_and_keeps_the_answers_given(env):
    result = coach(env, "profile", stdin="no\nstop\n")
    assert result.returncode == 10, result.stderr
    assert "Stopped" in result.stdout
    shown = json.loads(coach(env, "profile", "--show", "--json").stdout)
    assert shown["answers"] == {"P1": "no"}


@pytest.mark.parametrize("args", [["triage", "--profile", "cancer_hx"], ["triage", "--input", "voice"],
                                  ["profile", "--set", "pregnant=perhaps"], ["triage", "--locale", "fr-FR"]])
def test_usage_errors_are_one_line_exit_2(env, args):
    result = coach(env, *args)
    assert result.returncode == 2
    assert result.stderr.startswith("coach: ") and len(result.stderr.strip().splitlines()) == 1
