"""The one progress display (coach.cli.progress): drawn on a terminal with the time
left, quiet when piped or on a dumb terminal, and the waits that use it."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import re
import select
import struct
import termios
from collections.abc import Iterator

import pytest

from coach.cli.progress import ProgressBar, progress, track

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class FakeTime:
    def __init__(self) -> None:
        self.seconds = 100.0

    def __call__(self) -> float:
        return self.seconds


@pytest.fixture
def terminal() -> Iterator[tuple[io.TextIOWrapper, int]]:
    """(stream writing to a pseudo-terminal 100x30, the master fd to read it back)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    stream = os.fdopen(slave, "w", encoding="utf-8")
    yield stream, master
    stream.close()
    os.close(master)


def read_all(master: int) -> str:
    chunks = []
    while select.select([master], [], [], 0.2)[0]:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return ANSI.sub("", b"".join(chunks).decode("utf-8", "replace"))


def run_bar(bar: ProgressBar, now: FakeTime, steps: int, total: int, step_seconds: float = 1.0) -> None:
    for done in range(steps + 1):
        bar.update(done, total)
        now.seconds += step_seconds
    bar.close()


def test_a_bar_on_a_terminal_shows_done_total_and_time_left(terminal, monkeypatch) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    stream, master = terminal
    now = FakeTime()
    bar = ProgressBar("Preparing speech", stream=stream, delay_seconds=0.5, now=now)
    run_bar(bar, now, steps=4, total=10)
    text = read_all(master)
    assert "Preparing speech" in text
    assert "4/10" in text
    assert "0:00:06 left" in text          # 6 items left at one a second
    assert "#" not in text


def test_a_download_shows_bytes_speed_and_time_left(terminal, monkeypatch) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    stream, master = terminal
    now = FakeTime()
    bar = ProgressBar("Fetching vosk-small-en", unit="bytes", stream=stream, delay_seconds=0.5, now=now)
    for done in (10_000_000, 11_000_000, 12_000_000, 13_000_000):   # resumed at 10 MB
        bar.update(done, 41_000_000)
        now.seconds += 1.0
    bar.close()
    text = read_all(master)
    assert "13.0/41.0 MB" in text
    assert "1.0 MB/s" in text
    assert "0:00:28 left" in text


def test_quick_work_shows_nothing(terminal, monkeypatch) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    stream, master = terminal
    now = FakeTime()
    bar = ProgressBar("Preparing speech", stream=stream, delay_seconds=0.7, now=now)
    run_bar(bar, now, steps=3, total=3, step_seconds=0.1)
    assert read_all(master).strip() == ""


def test_quiet_when_piped_or_on_a_dumb_terminal(terminal, monkeypatch) -> None:
    piped = io.StringIO()
    with progress("Preparing speech", stream=piped, delay_seconds=0.0) as update:
        update(0, 2)
        update(1, 2)
    assert piped.getvalue() == ""
    monkeypatch.setenv("TERM", "dumb")
    stream, master = terminal
    now = FakeTime()
    run_bar(ProgressBar("Preparing speech", stream=stream, delay_seconds=0.0, now=now), now, 3, 5)
    assert read_all(master).strip() == ""


def test_no_color_draws_without_colour(terminal, monkeypatch) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("NO_COLOR", "1")
    stream, master = terminal
    now = FakeTime()
    run_bar(ProgressBar("Training", stream=stream, delay_seconds=0.0, now=now), now, 3, 5)
    chunks = []
    while select.select([master], [], [], 0.2)[0]:
        chunks.append(os.read(master, 65536))
    raw = b"".join(chunks).decode()
    assert "3/5" in raw
    assert not re.search(r"\x1b\[[0-9;]*m", raw.replace("\x1b[0m", "").replace("\x1b[m", ""))


def test_track_yields_every_item_and_counts_them() -> None:
    piped = io.StringIO()
    assert list(track(range(5), "Folds", stream=piped)) == [0, 1, 2, 3, 4]
    assert list(track(iter("abc"), "Clips", 3, stream=piped)) == ["a", "b", "c"]
    assert piped.getvalue() == ""


def test_adaptation_reports_progress_through_its_callback() -> None:
    import numpy as np

    from coach.listen.asr.adapt import STEPS, adapt_head
    from coach.listen.asr.keyword import KeywordModel

    rng = np.random.default_rng(0)
    model = KeywordModel(("stop", "go", "noise"), np.zeros(4), np.ones(4),
                         ((rng.normal(size=(4, 3)), np.zeros(3)),), {}, {})
    calls: list[tuple[int, int]] = []
    clips = [("stop", b"a"), ("go", b"b"), ("stop", b"c")]
    adapt_head(model, lambda pcm: np.full(4, float(pcm[0] % 3)), clips, progress=lambda d, t: calls.append((d, t)))
    assert calls[0] == (0, 3 + STEPS)
    assert calls[-1] == (3 + STEPS, 3 + STEPS)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_a_bar_inside_another_joins_its_display(terminal, monkeypatch) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    stream, master = terminal
    for _ in track(range(2), "Nested CV", stream=stream, delay_seconds=0.0):
        assert list(track(range(3), "Cross-validation", stream=stream, delay_seconds=0.0)) == [0, 1, 2]
    text = read_all(master)
    assert "Cross-validation" in text and "Nested CV" in text and "2/2" in text
    outer, inner = ProgressBar("a", stream=stream, delay_seconds=0.0), ProgressBar("b", stream=stream, delay_seconds=0.0)
    outer.update(0, 2)
    inner.update(0, 2)
    assert inner.progress is outer.progress and outer.owner and not inner.owner
    inner.close()
    outer.close()
    read_all(master)
