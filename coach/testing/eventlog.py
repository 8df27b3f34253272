"""Reading a session's JSONL event log: the subject of hands-free tests and benchmarks."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

Event = dict[str, Any]

TYPE_KEYS = ("type", "event", "kind")


def event_type(event: Event) -> str:
    """The event's name (``cue-started`` ...), whatever key the log uses for it."""
    for key in TYPE_KEYS:
        value = event.get(key)
        if isinstance(value, str):
            return value
    return ""


def read_events(path: str | Path) -> list[Event]:
    """All events of a log; a torn last line (killed process) is ignored."""
    events: list[Event] = []
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            if number == len(lines):
                break
            raise
    return events


def of_type(events: Iterable[Event], *types: str) -> list[Event]:
    return [e for e in events if event_type(e) in types]


def first(events: Iterable[Event], type_: str, after_seconds: float | None = None, **match: Any) -> Event | None:
    """The first event of a type (at or after a time, with matching fields), or None."""
    for event in events:
        if event_type(event) != type_:
            continue
        if after_seconds is not None and float(event.get("t", 0.0)) < after_seconds:
            continue
        if all(event.get(k) == v for k, v in match.items()):
            return event
    return None


def last(events: Sequence[Event], type_: str) -> Event | None:
    found = of_type(events, type_)
    return found[-1] if found else None


def commands_heard(events: Iterable[Event]) -> list[tuple[str, float]]:
    """(command, decision time) for every command-heard event, in order."""
    return [(str(e.get("command")), float(e.get("t", 0.0))) for e in of_type(events, "command-heard")]


def command_names(events: Iterable[Event]) -> list[str]:
    return [name for name, _ in commands_heard(events)]


def end_reason(events: Sequence[Event]) -> str | None:
    """The reason of the session-ended event, or None when the session did not end cleanly."""
    ended = last(events, "session-ended")
    return None if ended is None else ended.get("reason")


def triage_outcome(events: Sequence[Event]) -> str | None:
    outcome = last(events, "triage-outcome")
    return None if outcome is None else outcome.get("outcome")


def times(events: Iterable[Event], type_: str) -> list[float]:
    return [float(e["t"]) for e in of_type(events, type_) if "t" in e]


VOLATILE_KEYS = ("wall", "wall_time", "pid", "created_at", "session_id", "triage_id", "path", "events", "speaker", "mic")


def without_wall_time(events: Iterable[Event], volatile_keys: Sequence[str] = VOLATILE_KEYS) -> list[Event]:
    """Events without the fields that legitimately differ between identical runs
    (random ids, wall-clock stamps, file paths)."""
    return [{k: v for k, v in e.items() if k not in volatile_keys} for e in events]


def wait_for(read: Callable[[], list[Event]], predicate: Callable[[list[Event]], Any],
             timeout_seconds: float, ended: Callable[[], bool]) -> Any:
    """Poll a growing log until ``predicate`` finds something, the writer ends (one
    last look), or the timeout passes (None)."""
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        found = predicate(read())
        if found:
            return found
        if ended():
            return predicate(read())
        time.sleep(0.05)
    return None

