"""Waiting on a growing event log: found, writer ended, or timed out."""

from __future__ import annotations

from coach.testing import eventlog


def test_returns_what_the_predicate_finds_as_the_log_grows() -> None:
    log: list[dict] = []

    def read() -> list[dict]:
        log.append({"type": "cue-started", "index": len(log)})
        return list(log)

    found = eventlog.wait_for(read, lambda ev: eventlog.first(ev, "cue-started", index=2), 5.0, lambda: False)
    assert found == {"type": "cue-started", "index": 2}


def test_an_ended_writer_gets_one_last_look_then_stops_waiting() -> None:
    reads = []

    def read() -> list[dict]:
        reads.append(1)
        return [{"type": "session-ended", "reason": "stopped"}] if len(reads) > 1 else []

    found = eventlog.wait_for(read, eventlog.end_reason, 60.0, lambda: True)
    assert found == "stopped" and len(reads) == 2


def test_nothing_found_in_time_is_none() -> None:
    assert eventlog.wait_for(lambda: [], eventlog.end_reason, 0.2, lambda: False) is None
