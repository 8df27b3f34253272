"""The live session screen (coach.session.screen) from real virtual-time sessions, and
the one place that chooses it or the plain lines."""

from __future__ import annotations

import io
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from coach.cli.parser import build_parser
from coach.cli.settings import settings_from_args
from coach.session.screen import LiveView, open_view
from coach.session.view import View
from coach.testing.screenrun import CONTENT, in_hold, run_on_screen

ROOT = Path(__file__).resolve().parents[2]
CSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
SGR = re.compile(r"\x1b\[([0-9;]*)m")
NEXT_AT, STOP_AT = 36.0, 70.0          # 'next' at the first prompt, 'stop' after pelvic tilts' first holds

pytestmark = pytest.mark.skipif(not (CONTENT / "routines").is_dir(), reason="the packaged content is missing")


@pytest.fixture(scope="module")
def hold_run():
    """gentle-floor on an 80x24 screen, snapshots taken in its holds, stopped at 70 s."""
    return run_on_screen("gentle-floor", capture=lambda view: in_hold(view),
                         heard=[(NEXT_AT, "next"), (STOP_AT, "stop")])


def lines_of(console) -> list[str]:
    return console.export_text(clear=False).rstrip("\n").split("\n")


def test_the_screen_mid_hold_shows_exercise_countdown_progress_listening_and_keys(hold_run) -> None:
    assert hold_run.view.snapshots, "no snapshot was taken in a hold"
    text = hold_run.view.snapshots[0].export_text(clear=False)
    assert "Pelvic tilts" in text
    assert "set 1 of 2" in text and "rep 1 of 10" in text and "exercise 1 of 7" in text
    assert "HOLD" in text and "\u2588\u2588" in text            # the large countdown
    assert re.search(r"\d+% · \d+:\d\d left", text)                # progress with time left
    assert "━" in text                                             # drawn as a bar
    assert "● listening" in text and "dB" in text                  # with the input level
    assert "heard: next (90% sure)" in text
    assert "keys: n next, b back" in text
    assert "Now: " in text


def test_the_screen_fits_80_by_24(hold_run) -> None:
    for snapshot in hold_run.view.snapshots:
        lines = lines_of(snapshot)
        assert len(lines) <= 24
        assert max(len(line) for line in lines) <= 80


def test_the_countdown_moves_and_the_screen_redraws_in_place(hold_run) -> None:
    countdowns = {"\n".join(line[:40] for line in lines_of(s)[3:9]) for s in hold_run.view.snapshots}
    assert len(countdowns) >= 3                                    # e.g. 3, 2, 1
    raw = hold_run.output.getvalue()
    assert re.search(r"\x1b\[\d*A", raw)                          # cursor up: redrawn over itself
    assert hold_run.result.reason == "stopped"


def test_text_mode_shows_the_words_it_would_have_spoken(hold_run) -> None:
    said = [e["text"] for e in hold_run.events.of_type("cue-started") if e["kind"] == "say"]
    shown = CSI.sub("", hold_run.output.getvalue())
    assert all(f"Now: {text}"[:60] in shown for text in said[:3])


def test_safety_text_stays_after_the_session_ends() -> None:
    run = run_on_screen("gentle-floor", heard=[(NEXT_AT, "next"), (75.0, "pain")], answers={"A1": "yes"})
    assert run.result.reason == "triage"
    asked = run.events.of_type("triage-question")[-1]
    advice = [e["text"] for e in run.events.of_type("said") if e["t"] > asked["t"] + 1e-6]
    assert advice
    raw = run.output.getvalue()
    stopped = raw.rindex("\x1b[?25h")                              # the live display stopped here
    after_last_redraw = CSI.sub("", raw[raw.rindex("\x1b[2K"):])   # nothing cleared after it
    before = CSI.sub("", raw[:stopped])
    printed = re.split(r"[\r\n]", before)                          # lines printed above the screen
    for text in advice:
        assert any(line.startswith(text[:70]) for line in printed), text
    assert "session ended: triage" in after_last_redraw
    words = re.sub(r"[│\s]+", " ", after_last_redraw)
    assert " ".join(advice[-1].split()) in words                   # the final frame shows it whole


def test_no_color_drops_colour_only(monkeypatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    out = io.StringIO()
    view = LiveView(Console(file=out, force_terminal=True, width=80, height=24))
    view.mode = "paused"
    view.console.print(view.render())
    codes = [int(p) for m in SGR.finditer(out.getvalue()) for p in m.group(1).split(";") if p]
    assert codes and not [c for c in codes if 30 <= c <= 49 or 90 <= c <= 107]
    assert "a self-care aid" in out.getvalue()


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_one_place_chooses_the_live_screen_or_the_plain_lines(monkeypatch) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    assert type(open_view(io.StringIO())) is View                     # piped or a file
    assert isinstance(open_view(Tty()), LiveView)
    assert type(open_view(Tty(), plain=True)) is View                 # --plain
    assert type(open_view(Tty(), env={"TERM": "dumb"})) is View
    assert isinstance(open_view(Tty(), env={"TERM": "xterm", "NO_COLOR": "1"}), LiveView)


def test_plain_is_an_option_of_coach_run() -> None:
    args = build_parser().parse_args(["run", "gentle-floor", "--plain", "--text"])
    assert settings_from_args(args, env={}, stdin_is_tty=False).plain
    args = build_parser().parse_args(["run", "gentle-floor"])
    assert not settings_from_args(args, env={}, stdin_is_tty=False).plain


def run_on_pty(tmp_path: Path, *extra: str, term: str = "xterm-256color") -> str:
    """``coach run desk-break`` in virtual text mode with a pseudo-terminal as stdout."""
    master, slave = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TERM": term, "COACH_DATA_DIR": str(tmp_path / "data"),
           "COACH_CACHE_DIR": str(tmp_path / "cache"), "COLUMNS": "80", "LINES": "24"}
    process = subprocess.Popen([sys.executable, "-m", "coach", "run", "desk-break", "--text", "--clock", "virtual",
                                "--input", "none", "--events", str(tmp_path / "e.jsonl"), *extra],
                               stdout=slave, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, env=env)
    os.close(slave)
    chunks = []
    while True:
        ready = select.select([master], [], [], 60)[0]
        if not ready:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=60)
    os.close(master)
    return b"".join(chunks).decode("utf-8", "replace")


def test_a_terminal_gets_the_screen_and_plain_or_dumb_get_the_plain_lines(tmp_path) -> None:
    live = run_on_pty(tmp_path)
    assert "╭─ Desk break" in CSI.sub("", live) and re.search(r"\x1b\[\d*A", live)      # the screen, redrawn in place
    assert "100% · 0:00 left" in CSI.sub("", live)
    plain = run_on_pty(tmp_path, "--plain")
    dumb = run_on_pty(tmp_path, term="dumb")
    for output in (plain, dumb):
        assert "╭" not in output and "\x1b[" not in output
        assert re.search(r"\[\s+0\.0s\] Desk break", output)
        assert "session ended: completed" in output
