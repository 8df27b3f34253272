"""What the person sees: plain lines when output is a file or pipe, a live status
line (exercise, side, set and rep, countdown, progress, last command, input level)
redrawn in place when it is a terminal."""

from __future__ import annotations

import math
import shutil
import sys
from typing import TextIO

import numpy as np

from coach.content.model import Heard
from coach.script.groups import phase_of
from coach.script.timeline import Cue, Timeline

CLEAR_LINE = "\r\033[K"
COUNTDOWN_PHASES = {"hold": "hold", "rest": "rest", "between": "rest", "timed": "time",
                    "listen": "get ready", "count": "set"}
TICK_SECONDS = 0.2      # redraw the status line at most this often (session time)


def clock_text(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60}:{seconds % 60:02d}"


def level_db(pcm: bytes) -> float:
    """Input level in dB relative to full scale (-96 for silence), for the status line."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    if not len(samples):
        return -96.0
    rms = float(np.sqrt(np.mean(samples * samples)))
    return max(-96.0, 20 * math.log10(rms / 32768)) if rms > 0 else -96.0


def cue_line(cue: Cue) -> str:
    """How one cue reads in a transcript."""
    if cue.kind == "pause":
        return f"pause {cue.seconds:.1f}s ({cue.purpose})"
    if cue.kind == "listen":
        return f"listen {cue.seconds:.1f}s: {cue.text}"
    return f"{cue.kind}: {cue.text}"


class View:
    def __init__(self, stream: TextIO | None = None, live: bool | None = None) -> None:
        self.stream = stream or sys.stdout
        self.live = self.stream.isatty() if live is None else live
        self.timeline: Timeline | None = None
        self.item_count = 0
        self.cue: Cue | None = None
        self.last_heard = ""
        self.level_db: float | None = None
        self._status_shown = False
        self._last_tick_seconds = -1.0
        self.mode = "running"               # the session's mode, set by the runner
        self.key_hints = False              # keys work: say so where the coach says "say next"

    # -- lines ---------------------------------------------------------------
    def _line(self, now_seconds: float, text: str) -> None:
        prefix = CLEAR_LINE if self.live and self._status_shown else ""
        self._status_shown = False
        self.stream.write(f"{prefix}[{now_seconds:7.1f}s] {text}\n")
        self.stream.flush()

    def session_started(self, timeline: Timeline, note: str = "") -> None:
        self.timeline = timeline
        self.item_count = len({c.item_index for c in timeline.cues if c.item_index is not None})
        head = f"{timeline.routine_name} ({clock_text(timeline.total_seconds)}) · a self-care aid, not a medical device"
        self._line(0.0, head + (f" · {note}" if note else ""))

    def cue_started(self, index: int, cue: Cue, now_seconds: float, left_seconds: float) -> None:
        self.cue = cue
        if cue.kind != "pause" or not self.live:
            hint = " (or press n)" if self.key_hints and cue.kind == "listen" else ""
            self._line(now_seconds, cue_line(cue) + hint)
        self._last_tick_seconds = -1.0      # redraw at the next tick

    def said(self, text: str, now_seconds: float, purpose: str = "message") -> None:
        self._line(now_seconds, f"say: {text}")

    def message(self, text: str, now_seconds: float) -> None:
        self._line(now_seconds, text)

    def heard(self, heard: Heard, now_seconds: float) -> None:
        value = f" {heard.value}" if heard.value is not None else ""
        self.last_heard = f"{heard.command}{value}"
        self._line(now_seconds, f"heard: {heard.command}{value} ({heard.source})")

    def level(self, level_db: float) -> None:
        self.level_db = level_db

    def session_ended(self, reason: str, now_seconds: float) -> None:
        self._line(now_seconds, f"session ended: {reason}")

    # -- live status -----------------------------------------------------------
    def status_text(self, cue_left_seconds: float, left_seconds: float) -> str:
        cue = self.cue
        parts: list[str] = []
        if cue is not None:
            if cue.exercise_name:
                parts.append(cue.exercise_name)
            if cue.side:
                parts.append(cue.side)
            if cue.set_count and cue.set_count > 1:
                parts.append(f"set {cue.set_number}/{cue.set_count}")
            if cue.rep_count and cue.rep_count > 1:
                parts.append(f"rep {cue.rep_number}/{cue.rep_count}")
            phase = phase_of(cue)
            if self.mode != "running":
                parts.append(self.mode)
            elif phase in COUNTDOWN_PHASES:
                parts.append(f"{COUNTDOWN_PHASES[phase]} {cue_left_seconds:.0f}s")
            if cue.item_index is not None:
                parts.append(f"item {cue.item_index + 1}/{self.item_count}")
        parts.append(f"{clock_text(left_seconds)} left")
        if self.last_heard:
            parts.append(f"heard: {self.last_heard}")
        if self.level_db is not None:
            parts.append(f"mic {self.level_db:.0f} dB")
        return " · ".join(parts)

    def due(self, now_seconds: float) -> bool:
        """Whether a status redraw is due (live view only, a few times a second)."""
        return self.live and not 0 <= now_seconds - self._last_tick_seconds < TICK_SECONDS

    def tick(self, now_seconds: float, cue_left_seconds: float, left_seconds: float) -> None:
        if not self.due(now_seconds):
            return
        self._last_tick_seconds = now_seconds
        width = shutil.get_terminal_size((100, 20)).columns
        text = self.status_text(cue_left_seconds, left_seconds)[: max(10, width - 1)]
        self.stream.write(CLEAR_LINE + text)
        self.stream.flush()
        self._status_shown = True

    def close(self) -> None:
        if self.live and self._status_shown:
            self.stream.write("\n")
            self.stream.flush()
            self._status_shown = False
