"""The event log: one JSON line per event, readable while it is written."""

from __future__ import annotations

import json
from datetime import datetime

from coach.clock import VirtualClock
from coach.session.events import EventLog, default_events_path, read_events


def test_each_event_is_on_disk_before_the_next(tmp_path):
    clock = VirtualClock(start_seconds=50.0)
    path = tmp_path / "sessions" / "s.jsonl"
    log = EventLog(path, clock, session_id="abc")
    log.emit("session-started", routine_id="r")
    # another reader sees the line at once, before close
    assert json.loads(path.read_text().splitlines()[0]) == {"type": "session-started", "t": 0.0, "routine_id": "r"}
    clock.advance(1.23456)
    log.emit("cue-started", index=0, text="Lie down.")
    lines = path.read_text().splitlines()
    assert len(lines) == 2 and json.loads(lines[1])["t"] == 1.235
    log.close()


def test_unflushed_mode_still_writes_each_line(tmp_path):
    clock = VirtualClock()
    log = EventLog(tmp_path / "e.jsonl", clock, fsync=False)
    for i in range(5):
        clock.advance(0.5)
        log.emit("cue-ended", index=i)
    assert [e["t"] for e in read_events(tmp_path / "e.jsonl")] == [0.5, 1.0, 1.5, 2.0, 2.5]


def test_listeners_hear_every_event_and_memory_keeps_them():
    clock = VirtualClock()
    log = EventLog(None, clock)
    seen: list[dict] = []
    log.subscribe(seen.append)
    log.emit("command-heard", command="stop", confidence=0.9)
    log.emit("session-ended", reason="stopped")
    assert [e["type"] for e in seen] == ["command-heard", "session-ended"]
    assert log.of_type("session-ended") == [{"type": "session-ended", "t": 0.0, "reason": "stopped"}]


def test_default_path_is_dated_and_never_overwrites(tmp_path):
    when = datetime(2026, 1, 2, 3, 4, 5)
    first = default_events_path(tmp_path, "gentle floor/x", when)
    assert first == tmp_path / "sessions" / "20260102-030405-gentle-floor-x.jsonl"
    first.parent.mkdir(parents=True)
    first.write_text("")
    assert default_events_path(tmp_path, "gentle floor/x", when).name.endswith("-2.jsonl")


def test_a_line_cut_by_a_kill_is_skipped_when_reading(tmp_path):
    path = tmp_path / "e.jsonl"
    path.write_text('{"type": "session-started", "t": 0.0}\n{"type": "cue-sta')
    assert read_events(path) == [{"type": "session-started", "t": 0.0}]
