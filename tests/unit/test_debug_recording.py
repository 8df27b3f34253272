"""The debug recording: every listener call written down as it happens, read back in order."""

from __future__ import annotations

from pathlib import Path

import pytest

from coach.listen.asr import Heard
from coach.audio import AudioChunk
from coach.listen.debug_recording import CALLS, RecordingListener, read_recording, replay
from coach.errors import CoachError


class CallLog:
    """A listener that only remembers what it was given."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.context = "session"

    def feed(self, chunk: AudioChunk, speaking: bool) -> list[Heard]:
        self.calls.append(("feed", chunk.pcm, chunk.start_seconds, speaking))
        return []

    def note_playback(self, text: str, pcm: bytes, start_seconds: float) -> None:
        self.calls.append(("playback", text, pcm, start_seconds))

    def note_cancel(self, at_seconds: float) -> None:
        self.calls.append(("cancel", at_seconds))

    def set_context(self, name: str) -> None:
        self.calls.append(("context", name))

    def flush(self) -> list[Heard]:
        self.calls.append(("flush",))
        return []


def record_some(folder: Path) -> CallLog:
    inner = CallLog()
    recording = RecordingListener(inner, folder)
    recording.note_playback("Breathe in.", b"\x01\x00\x02\x00", 0.5)
    recording.feed(AudioChunk(b"\x03\x00\x04\x00\x05\x00", start_seconds=0.0), True)
    recording.set_context("yesno")
    recording.note_cancel(0.7)
    recording.feed(AudioChunk(b"\x06\x00", start_seconds=0.75), False)
    recording.flush()
    assert recording.context == "session"        # anything else is the inner listener's
    recording.close()
    return inner


def test_the_calls_replay_in_order_with_their_audio(tmp_path: Path) -> None:
    original = record_some(tmp_path / "rec")
    again = CallLog()
    list(replay(tmp_path / "rec", again))
    assert again.calls == original.calls
    assert len(original.calls) == 6


def test_a_line_cut_by_a_killed_process_ends_the_recording(tmp_path: Path) -> None:
    record_some(tmp_path)
    with (tmp_path / CALLS).open("a") as calls:
        calls.write('{"call": "fe')
    assert [c.name for c in read_recording(tmp_path)] == ["playback", "feed", "context", "cancel", "feed", "flush"]


def test_a_damaged_line_in_the_middle_is_named(tmp_path: Path) -> None:
    record_some(tmp_path)
    lines = (tmp_path / CALLS).read_text().splitlines()
    lines[2] = "not json"
    (tmp_path / CALLS).write_text("\n".join(lines) + "\n")
    with pytest.raises(CoachError, match=rf"{CALLS}:3: not a recorded call"):
        list(read_recording(tmp_path))


def test_a_folder_that_is_no_recording_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CoachError, match="not a debug recording"):
        list(read_recording(tmp_path))


def test_an_unwritable_folder_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(CoachError, match="cannot write the debug recording"):
        RecordingListener(CallLog(), blocker / "rec")


def test_asking_for_a_recording_with_nothing_listening_says_nothing_is_recorded(tmp_path, monkeypatch, capsys) -> None:
    from coach.cli import main

    monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "notice-shown").write_text("shown\n")
    folder = tmp_path / "rec"
    code = main(["run", "gentle-floor", "--clock", "virtual", "--text", "--debug-recording", str(folder),
                 "--events", str(tmp_path / "e.jsonl")])
    err = capsys.readouterr().err
    assert code == 0
    assert f"nothing is recorded in {folder}" in err, err
    assert not folder.exists()
