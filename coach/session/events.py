"""The session's event log: one JSON object a line, written as it happens.

Each line has ``type`` (kebab-case), ``t`` (session seconds from the log's start,
read from the session clock, rounded to milliseconds) and the event's fields.
Every line is flushed to the kernel at once, so killing the process loses nothing
already written; with ``fsync=True`` (the default for real-time sessions) each
line is also forced to disk, which survives a power cut but costs a few
milliseconds, too slow for virtual-time runs of hundreds of events.

Types: session-started, cue-started, cue-ended, command-heard, audio-cancelled,
said, triage-started, triage-question, triage-answer, triage-outcome,
pain-baseline, pain-rating, pain-after, morning-report, session-ended; session-blocked alone when exercise is
locked and no session starts (and a few informative ones such as tempo-changed,
input-ended, triage-resume).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from coach.clock import Clock

Listener = Callable[[dict[str, Any]], None]


class EventLog:
    def __init__(self, path: Path | str | None, clock: Clock, session_id: str = "",
                 fsync: bool = True, origin_seconds: float | None = None,
                 stream: TextIO | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.clock = clock
        self.session_id = session_id
        self.fsync = fsync
        self.origin_seconds = clock.now() if origin_seconds is None else origin_seconds
        self._listeners: list[Listener] = []
        self._file: TextIO | None = stream
        if self.path is not None and stream is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "a", encoding="utf-8")
        self.events: list[dict[str, Any]] = []   # kept in memory for summaries and tests

    def now(self) -> float:
        """Session seconds, as written in ``t``."""
        return round(self.clock.now() - self.origin_seconds, 3)

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def emit(self, type: str, **fields: Any) -> dict[str, Any]:
        record = {"type": type, "t": self.now(), **fields}
        if self._file is not None:
            self._file.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
            self._file.flush()
            if self.fsync:
                try:
                    os.fsync(self._file.fileno())
                except (OSError, ValueError):
                    pass        # not a real file (a pipe or an in-memory stream)
        self.events.append(record)
        for listener in self._listeners:
            listener(record)
        return record

    def of_type(self, type: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == type]

    def close(self) -> None:
        if self._file is not None and self.path is not None:
            self._file.close()
        self._file = None

    def __enter__(self) -> "EventLog":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def default_events_path(data_dir: Path, routine_id: str, now: datetime | None = None) -> Path:
    """<data dir>/sessions/<timestamp>-<routine>.jsonl; a new name if that one exists."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    safe = re.sub(r"[^A-Za-z0-9_-]+", "-", routine_id) or "session"
    folder = Path(data_dir) / "sessions"
    path = folder / f"{stamp}-{safe}.jsonl"
    n = 2
    while path.exists():
        path = folder / f"{stamp}-{safe}-{n}.jsonl"
        n += 1
    return path


def read_events(path: Path | str) -> list[dict[str, Any]]:
    """Every complete line of a log (a last line cut by a kill is skipped)."""
    out: list[dict[str, Any]] = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out
