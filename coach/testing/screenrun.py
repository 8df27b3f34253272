"""A real session on the live screen, in virtual time: the packaged content, the
real runner and safety parts (triage, history in a temporary folder), a quiet
room as the microphone, scripted commands and key answers, and a recording
rich console. Used by the screen's tests and by scripts/readme/make_screenshots.py.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rich.console import Console

from coach.audio.filesource import SilenceSource
from coach.cli.adapters import Adapters
from coach.cli.app import compose_runner, load_library
from coach.cli.safety import open_safety
from coach.cli.settings import Settings
from coach.clock import VirtualClock
from coach.script.engine import build_timeline
from coach.script.groups import phase_of
from coach.session.events import EventLog
from coach.session.ports import RunResult
from coach.session.screen import LiveView
from coach.testing.fakes import AnsweringKeys, ScriptedListener

CONTENT = Path(__file__).resolve().parents[2] / "content"
WIDTH, HEIGHT = 80, 24


class RoomSource(SilenceSource):
    """A quiet room as the microphone (about -45 dBFS), so the level shows."""

    def _samples(self, start: int, count: int) -> np.ndarray:
        rng = np.random.default_rng(start)
        return np.rint(rng.normal(0.0, 180.0, count)).astype(np.int16)


def new_console(width: int = WIDTH, height: int = HEIGHT, file: io.StringIO | None = None) -> Console:
    """A recording console that behaves as a colour terminal of ``width`` x ``height``."""
    return Console(record=True, width=width, height=height, file=file or io.StringIO(),
                   force_terminal=True, color_system="truecolor", legacy_windows=False)


def snapshot(view: LiveView, width: int = WIDTH, height: int = HEIGHT) -> Console:
    """The screen as it stands, drawn on its own recording console."""
    console = new_console(width, height)
    console.print(view.render())
    return console


class CapturingView(LiveView):
    """The live screen that also keeps a snapshot whenever ``capture(view)`` says so."""

    def __init__(self, console: Console, capture: Callable[[LiveView], bool],
                 min_redraw_seconds: float = 0.0) -> None:
        super().__init__(console, min_redraw_seconds=min_redraw_seconds)
        self.capture = capture
        self.snapshots: list[Console] = []

    def tick(self, now_seconds: float, cue_left_seconds: float, left_seconds: float) -> None:
        drawn = self.due(now_seconds)
        super().tick(now_seconds, cue_left_seconds, left_seconds)
        if drawn and self.capture(self):
            self.snapshots.append(snapshot(self, self.console.width, self.console.height))


def in_hold(view: LiveView, exercise_id: str | None = None, left_at_most: float = 1e9) -> bool:
    """The view is in a hold (of ``exercise_id``) with at most ``left_at_most`` seconds to go."""
    cue = view.cue
    return (cue is not None and phase_of(cue) == "hold" and view.mode == "running"
            and (exercise_id is None or cue.exercise_id == exercise_id)
            and view.cue_left_seconds <= left_at_most)


@dataclass
class ScreenRun:
    result: RunResult
    events: EventLog
    view: CapturingView
    console: Console              # everything the terminal got, recorded
    output: io.StringIO = field(default_factory=io.StringIO)


def answer_questions(events: EventLog, answers: dict[str, str]) -> Callable[[str], str | None]:
    """Answer each triage question by its id (else "no" / "3"); the baseline with "2"."""
    def answer(context: str) -> str | None:
        last = events.events[-1] if events.events else {}
        if last.get("type") != "triage-question":
            return None
        return answers.get(last["id"], {"yesno": "no", "number": "2"}.get(context))
    return answer


def run_on_screen(routine_id: str = "gentle-floor", capture: Callable[[LiveView], bool] = lambda view: False,
                  heard: Iterable[tuple[float, str]] = (), answers: dict[str, str] | None = None,
                  width: int = WIDTH, height: int = HEIGHT, data_dir: Path | None = None,
                  min_redraw_seconds: float = 0.0) -> ScreenRun:
    """Run ``routine_id`` to its end on a recording console; ``heard``: (session
    seconds, command) said into the microphone, each heard 90 % sure."""
    with ExitStack() as stack:
        data = data_dir or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        settings = Settings(content_dir=CONTENT, data_dir=data, cache_dir=data / "cache", clock="virtual",
                            text=True)
        library = load_library(settings)
        timeline = build_timeline(library.routines[routine_id], library, settings.dose)
        clock = VirtualClock()
        events = EventLog(None, clock, session_id="screen")
        a = Adapters(clock)
        a.source = RoomSource(clock)
        a.listener = ScriptedListener(list(heard))
        a.keys = AnsweringKeys(clock, [], answer_questions(events, answers or {}), source="voice")
        output = io.StringIO()
        console = new_console(width, height, output)
        view = CapturingView(console, capture, min_redraw_seconds)
        safety = open_safety(settings, "screen")
        runner = compose_runner(settings, timeline, a, events, view, safety, stack)
        result = runner.run()
    return ScreenRun(result, events, view, console, output)
