"""The live session screen: one panel redrawn in place with rich's Live display.

It shows the exercise and its side, set and rep, a large countdown for holds and
rests, what to do now, progress through the routine with the time left, whether
the coach is listening (with a small input level), the last command heard and how
sure it was, and the keys. It fits 80x24 and grows with the terminal.

It keeps ``View``'s interface, so the runner drives it the same way. Redraws
follow the session clock (a few times a second) and never more often than
``min_redraw_seconds`` of wall time, so a virtual-clock session is not slowed.
Safety lines (triage, pain advice, the end) are printed above the live region,
and the last frame stays when the session ends (``transient=False``): nothing a
person must read is ever cleared away.

``open_view`` is the one place that chooses this screen or the plain lines.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import TextIO

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from coach.content.model import Heard
from coach.listen.keyboard import KEY_HELP
from coach.script.groups import phase_of
from coach.script.timeline import Cue, Timeline
from coach.session.bigdigits import ROWS, big_lines, countdown_text
from coach.session.state import PAIN_TEXT
from coach.session.view import COUNTDOWN_PHASES, TICK_SECONDS, View, clock_text

SAFETY_PURPOSES = ("triage", "pain", "notice")
MIN_REDRAW_SECONDS = 0.1        # wall time between two redraws, at most
LEVEL_FLOOR_DB = -60.0
PHASE_STYLES = {"hold": "bold green", "rest": "bold cyan", "time": "bold green", "set": "bold magenta",
                "get ready": "bold yellow"}


def open_view(stream: TextIO, plain: bool = False, env: Mapping[str, str] = os.environ) -> View:
    """The live screen on a terminal; today's plain lines when the output is not a
    terminal, with ``TERM=dumb`` or when asked (``--plain``). NO_COLOR drops colour only."""
    isatty = getattr(stream, "isatty", None)
    if plain or env.get("TERM", "") == "dumb" or not (isatty and isatty()):
        return View(stream, live=False)
    return LiveView(Console(file=stream), redirect=True)


class LiveView(View):
    """The session screen; ``render()`` is the panel as it stands."""

    def __init__(self, console: Console, *, redirect: bool = False,
                 min_redraw_seconds: float = MIN_REDRAW_SECONDS,
                 wall: Callable[[], float] = time.monotonic) -> None:
        super().__init__(console.file, live=True)
        self.console = console
        self.redirect = redirect
        self.min_redraw_seconds = min_redraw_seconds
        self.wall = wall
        self.display: Live | None = None
        self.now_text = ""               # what the coach says (or would say) now
        self.now_safety = False          # it is safety advice: shown whole, never cut
        self.hint = ""                   # the keys for the current question
        self.keys = ""
        self.last: Heard | None = None
        self.ended = ""
        self.cue_left_seconds = 0.0
        self.left_seconds = 0.0
        self._last_wall = -1e9
        self._dirty = False

    # -- the View interface ---------------------------------------------------------
    def session_started(self, timeline: Timeline, note: str = "") -> None:
        self.timeline = timeline
        self.item_count = len({c.item_index for c in timeline.cues if c.item_index is not None})
        self.left_seconds = timeline.total_seconds
        if note:
            self.console.print(Text(note))
        self.display = Live(self.render(), console=self.console, auto_refresh=False, transient=False,
                            redirect_stdout=self.redirect, redirect_stderr=self.redirect)
        self.display.start()

    def cue_started(self, index: int, cue: Cue, now_seconds: float, left_seconds: float) -> None:
        self.cue = cue
        self.left_seconds = left_seconds
        self.cue_left_seconds = cue.seconds
        if cue.kind != "pause" and cue.text:
            self.now_text, self.now_safety = cue.text, False
            self.hint = "say next or press n" if self.key_hints and cue.kind == "listen" else ""
        self._last_tick_seconds = -1.0
        self._changed()

    def said(self, text: str, now_seconds: float, purpose: str = "message") -> None:
        self.now_text = text
        self.hint = ""
        self.now_safety = purpose in SAFETY_PURPOSES or text == PAIN_TEXT
        if self.now_safety or self.ended or self.display is None:
            self.console.print(Text(text, style="bold yellow"))     # above the screen, kept
        self._changed()

    def message(self, text: str, now_seconds: float) -> None:
        if text == KEY_HELP:
            self.keys = text.removeprefix("keys:").strip()
        else:
            self.hint = text
        self._changed()

    def heard(self, heard: Heard, now_seconds: float) -> None:
        self.last = heard
        value = f" {heard.value}" if heard.value is not None else ""
        self.last_heard = f"{heard.command}{value}"
        self._changed()

    def session_ended(self, reason: str, now_seconds: float) -> None:
        self.ended = reason
        self.mode = "ended"
        if reason == "completed":
            self.left_seconds = 0.0
        self._draw()
        self.console.print(Text(f"session ended: {reason}", style="bold"))

    def due(self, now_seconds: float) -> bool:
        if self.display is None or self.wall() - self._last_wall < self.min_redraw_seconds:
            return False
        return self._dirty or not 0 <= now_seconds - self._last_tick_seconds < TICK_SECONDS

    def tick(self, now_seconds: float, cue_left_seconds: float, left_seconds: float) -> None:
        if not self.due(now_seconds):
            return
        self._last_tick_seconds = now_seconds
        self.cue_left_seconds = cue_left_seconds
        self.left_seconds = left_seconds
        self._draw()

    def close(self) -> None:
        if self.display is not None:
            self._draw()
            self.display.stop()
            self.display = None

    # -- drawing ------------------------------------------------------------------
    def _changed(self) -> None:
        self._dirty = True
        if self.display is not None and self.wall() - self._last_wall >= self.min_redraw_seconds:
            self._draw()

    def _draw(self) -> None:
        if self.display is None:
            return
        self._dirty = False
        self._last_wall = self.wall()
        self.display.update(self.render(), refresh=True)

    def render(self) -> RenderableType:
        title = (f"{self.timeline.routine_name} ({clock_text(self.timeline.total_seconds)})"
                 if self.timeline else "Session")
        if self.ended:       # the countdown and the keys are over: room for the last words
            parts = [self._exercise(), Text(""), self._now(), self._progress(), self._listening()]
        else:
            parts = [self._exercise(), Text(""), self._countdown(), Text(""), self._now(), self._progress(),
                     self._listening(), self._keys()]
        body = Group(*parts)
        return Panel(body, title=Text(title, style="bold"), title_align="left",
                     subtitle=self._subtitle(), subtitle_align="right", width=min(self.console.width, 100))

    def _subtitle(self) -> Text:
        if self.ended:
            return Text(f"session ended: {self.ended}", style="bold")
        state = "" if self.mode == "running" else f"{self.mode} · "
        return Text(state + "a self-care aid, not a medical device", style="dim")

    def _exercise(self) -> RenderableType:
        cue = self.cue
        name = Text(cue.exercise_name if cue and cue.exercise_name else "", style="bold")
        if cue and cue.side:
            name.append(f" · {cue.side} side", style="bold")
        parts = []
        if cue and cue.set_count and cue.set_count > 1:
            parts.append(f"set {cue.set_number} of {cue.set_count}")
        if cue and cue.rep_count and cue.rep_count > 1:
            parts.append(f"rep {cue.rep_number} of {cue.rep_count}")
        if cue and cue.item_index is not None:
            parts.append(f"exercise {cue.item_index + 1} of {self.item_count}")
        return Group(name, Text(" · ".join(parts)))

    def _countdown(self) -> RenderableType:
        phase = phase_of(self.cue) if self.cue else ""
        word = COUNTDOWN_PHASES.get(phase, "")
        if self.mode != "running":
            word, lines = ("" if self.ended else self.mode), [""] * ROWS
        elif word:
            lines = big_lines(countdown_text(self.cue_left_seconds))
        else:
            lines = [""] * ROWS
        style = PHASE_STYLES.get(word, "bold")
        grid = Table.grid(padding=(0, 2))
        grid.add_column(width=10, justify="right", vertical="middle")
        grid.add_column()
        grid.add_row(Text(word.upper(), style=style), Text("\n".join(lines), style=style, no_wrap=True,
                                                            overflow="crop"))
        return grid

    def _now(self) -> RenderableType:
        now = Text("Now: ", style="bold")
        now.append(self.now_text, style="bold yellow" if self.now_safety else "")
        if not (self.now_safety or self.ended):
            now.no_wrap, now.overflow = True, "ellipsis"    # one line while exercising
        hint = Text(self.hint, style="dim", no_wrap=True, overflow="ellipsis")
        return Group(now, hint)

    def _progress(self) -> RenderableType:
        total = self.timeline.total_seconds if self.timeline else 0.0
        done = max(0.0, total - self.left_seconds)
        grid = Table.grid(padding=(0, 1), expand=True)
        grid.add_column(ratio=1)
        grid.add_column(no_wrap=True)
        percent = int(100 * done / total) if total else 0
        grid.add_row(ProgressBar(total=max(total, 1e-9), completed=done),
                     Text(f"{percent:3d}% · {clock_text(self.left_seconds)} left"))
        return grid

    def _listening(self) -> RenderableType:
        grid = Table.grid(padding=(0, 1))
        if self.level_db is not None and not self.ended:
            level = max(0.0, self.level_db - LEVEL_FLOOR_DB)
            grid.add_row(Text("● listening", style="bold green"),
                         ProgressBar(total=-LEVEL_FLOOR_DB, completed=level, width=10),
                         Text(f"{self.level_db:4.0f} dB"), Text(""), self._heard_text())
        else:
            word = "keys only" if self.key_hints and not self.ended else "not listening"
            grid.add_row(Text(f"○ {word}", style="dim"), Text(""), self._heard_text())
        return grid

    def _heard_text(self) -> Text:
        if self.last is None:
            return Text("heard: nothing yet", style="dim")
        how = "key" if self.last.source == "keyboard" else f"{100 * self.last.confidence:.0f}% sure"
        heard = Text("heard: ", style="bold")
        heard.append(f"{self.last_heard} ({how})")
        return heard

    def _keys(self) -> RenderableType:
        return Text(f"keys: {self.keys}" if self.keys else "", style="dim", overflow="ellipsis")
