"""DeviceTimedListener: playbacks reach the listener at the time the sink says they sounded."""

from __future__ import annotations

from coach.audio import AudioChunk
from coach.listen.playback_timing import DeviceTimedListener, time_playback_by_device


class RecordingListener:
    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.context = "session"

    def note_playback(self, text: str, pcm: bytes, start_seconds: float) -> None:
        self.calls.append(("playback", text, start_seconds))

    def note_cancel(self, at_seconds: float) -> None:
        self.calls.append(("cancel", at_seconds))

    def feed(self, chunk: AudioChunk, speaking: bool) -> list:
        self.calls.append(("feed", chunk.start_seconds))
        return []

    def set_context(self, name: str) -> None:
        self.context = name


class ScriptedSink:
    """Marks advance with what is queued; the test decides when each one sounds."""

    def __init__(self) -> None:
        self.queued = 0
        self.onsets: dict[int, float] = {}
        self.dropped: set[int] = set()

    def next_play_mark(self) -> int:
        return self.queued

    def play(self, pcm: bytes) -> None:
        self.queued += len(pcm) // 2

    def onset_seconds(self, mark: int) -> float | None:
        return self.onsets.get(mark)

    def never_sounds(self, mark: int) -> bool:
        return mark in self.dropped


def chunk(at: float) -> AudioChunk:
    return AudioChunk(pcm=b"\x00\x00" * 160, rate_hz=16_000, start_seconds=at)


def speak(listener: DeviceTimedListener, sink: ScriptedSink, text: str, samples: int, at: float) -> int:
    mark = sink.next_play_mark()
    listener.note_playback(text, b"\x01\x00" * samples, at)
    sink.play(b"\x01\x00" * samples)
    return mark


def test_playback_is_noted_at_the_sinks_onset_before_the_next_feed() -> None:
    inner, sink = RecordingListener(), ScriptedSink()
    timed = DeviceTimedListener(inner, sink)
    first = speak(timed, sink, "Lie on your back.", 16_000, at=10.0)
    second = speak(timed, sink, "Bend your knees.", 8_000, at=10.0)
    assert inner.calls == []                      # nothing is known until it sounds
    timed.feed(chunk(10.0), True)
    assert inner.calls == [("feed", 10.0)]
    sink.onsets[first] = 10.07
    timed.feed(chunk(10.01), True)
    sink.onsets[second] = 11.07                   # queued behind the first second of speech
    timed.feed(chunk(10.02), True)
    assert inner.calls[1:] == [("playback", "Lie on your back.", 10.07), ("feed", 10.01),
                               ("playback", "Bend your knees.", 11.07), ("feed", 10.02)]


def test_cancel_forgets_what_never_sounded_and_cuts_the_rest() -> None:
    inner, sink = RecordingListener(), ScriptedSink()
    timed = DeviceTimedListener(inner, sink)
    first = speak(timed, sink, "one", 16_000, at=5.0)
    second = speak(timed, sink, "two", 16_000, at=5.0)
    sink.onsets[first] = 5.05
    sink.dropped.add(second)
    timed.note_cancel(5.5)
    timed.feed(chunk(5.5), False)
    assert inner.calls == [("playback", "one", 5.05), ("cancel", 5.5), ("feed", 5.5)]


def test_empty_sound_is_noted_at_once_and_everything_else_passes_through() -> None:
    inner, sink = RecordingListener(), ScriptedSink()
    timed = DeviceTimedListener(inner, sink)
    timed.note_playback("", b"", 3.0)
    assert inner.calls == [("playback", "", 3.0)]
    timed.set_context("yesno")
    assert inner.context == "yesno" and timed.context == "yesno"


def test_only_sinks_that_time_their_output_get_the_wrapper() -> None:
    inner = RecordingListener()
    assert isinstance(time_playback_by_device(inner, ScriptedSink()), DeviceTimedListener)
    assert time_playback_by_device(inner, object()) is inner
    assert time_playback_by_device(None, ScriptedSink()) is None
