"""Progress for every wait over about a second, drawn one way (rich.progress).

A bar, done/total and the time left; for downloads the bytes, the speed and the
time left. The bar appears only once the work has taken ``delay_seconds`` (quick
work shows nothing), only when the stream is a terminal (``TERM=dumb`` and pipes
stay quiet) and without colour when ``NO_COLOR`` is set (rich reads it).

Lower layers never import this: they report ``(done, total)`` through a callback,
and the composition root (or a script) hands them ``progress(...)``'s update::

    with progress("Preparing speech") as update:
        speaker.prepare(texts, lambda done, total, _text: update(done, total))
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TextIO, TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn, DownloadColumn, MofNCompleteColumn, Progress, TaskID, TextColumn,
    TimeRemainingColumn, TransferSpeedColumn,
)

Update = Callable[[int, int], None]          # (done, total)
T = TypeVar("T")
DELAY_SECONDS = 0.7                          # work shorter than this shows no bar
_shown: list[Progress] = []                  # the one display while a bar shows: nested bars join it


def is_terminal(stream: TextIO) -> bool:
    """A terminal that can redraw in place (not a pipe or file, not TERM=dumb)."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("TERM", "") != "dumb"


class ProgressBar:
    """One task's bar; ``update(done, total)`` is the callback lower layers call."""

    def __init__(self, description: str, *, unit: str = "items", stream: TextIO | None = None,
                 delay_seconds: float = DELAY_SECONDS, now: Callable[[], float] = time.monotonic) -> None:
        self.description = description
        self.unit = unit                     # "items" or "bytes"
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = is_terminal(self.stream)
        self.delay_seconds = delay_seconds
        self.now = now
        self.started_seconds: float | None = None
        self.progress: Progress | None = None
        self.task: TaskID | None = None
        self.owner = False                   # this bar started the display (others joined it)

    def _columns(self) -> list:
        head = [TextColumn("{task.description}"), BarColumn(bar_width=None)]
        left = [TextColumn("·"), TimeRemainingColumn(), TextColumn("left")]
        if self.unit == "bytes":
            return [*head, DownloadColumn(), TransferSpeedColumn(), *left]
        return [*head, MofNCompleteColumn(), *left]

    def update(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self.started_seconds is None:
            self.started_seconds = self.now()
        if self.progress is None:
            if done >= total or self.now() - self.started_seconds < self.delay_seconds:
                return
            self._show(done, total)
            return
        assert self.task is not None
        self.progress.update(self.task, completed=done, total=total)

    def _show(self, done: int, total: int) -> None:
        self.owner = not _shown
        if self.owner:
            console = Console(file=self.stream, force_terminal=True)
            _shown.append(Progress(*self._columns(), console=console, get_time=self.now,
                                   redirect_stdout=False, redirect_stderr=False, expand=True))
            _shown[0].start()
        self.progress = _shown[0]
        self.task = self.progress.add_task(self.description, total=total, completed=done)

    def close(self) -> None:
        """Stop redrawing; the outermost bar stays, finished, on its line (a nested one goes)."""
        if self.progress is None:
            return
        if self.owner:
            self.progress.refresh()
            self.progress.stop()
            _shown.clear()
        elif self.task is not None:
            self.progress.remove_task(self.task)
        self.progress = None


@contextmanager
def progress(description: str, *, unit: str = "items", stream: TextIO | None = None,
             delay_seconds: float = DELAY_SECONDS) -> Iterator[Update]:
    """A bar for the duration of the block; yields its ``update(done, total)``."""
    bar = ProgressBar(description, unit=unit, stream=stream, delay_seconds=delay_seconds)
    try:
        yield bar.update
    finally:
        bar.close()


def track(items: Iterable[T], description: str, total: int | None = None, *,
          stream: TextIO | None = None, delay_seconds: float = DELAY_SECONDS) -> Iterator[T]:
    """Each of ``items``, with a bar that counts them (folds, epochs, files)."""
    items = list(items) if total is None else items
    count = len(items) if total is None else total      # type: ignore[arg-type]
    with progress(description, stream=stream, delay_seconds=delay_seconds) as update:
        update(0, count)
        for done, item in enumerate(items, 1):
            yield item
            update(done, count)
