"""A debug recording of what the listener was given, to replay a live session offline.

Made only when the person asks (``coach run --debug-recording DIR``): otherwise
microphone audio is never stored. The folder holds the microphone exactly as the
listener received it (``microphone.wav``), what the coach played
(``played.wav``) and every call in order (``calls.jsonl``), all written as they
happen, so a killed session still leaves a usable recording. ``replay`` gives the
same calls to a fresh listener, so a decision taken live can be reproduced and
examined.
"""

from __future__ import annotations

import json
import wave
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coach.content.model import Heard
from coach.audio import SAMPLE_RATE_HZ, SAMPLE_WIDTH_BYTES, AudioChunk
from coach.errors import CoachError

MICROPHONE = "microphone.wav"
PLAYED = "played.wav"
CALLS = "calls.jsonl"


class RecordingListener:
    """Passes every call on to ``inner`` and writes it down first."""

    def __init__(self, inner: Any, folder: Path) -> None:
        self.inner = inner
        self.folder = folder
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self._mic = _open_wav(folder / MICROPHONE)
            self._played = _open_wav(folder / PLAYED)
            self._calls = (folder / CALLS).open("w", encoding="utf-8", buffering=1)
        except OSError as error:
            raise CoachError("debug-recording", f"{folder}: cannot write the debug recording ({error.strerror})") from error

    def feed(self, chunk: AudioChunk, speaking: bool) -> list[Heard]:
        self._mic.writeframes(chunk.pcm)
        self._write(call="feed", start_seconds=chunk.start_seconds, samples=chunk.samples,
                    rate_hz=chunk.rate_hz, speaking=speaking)
        return self.inner.feed(chunk, speaking)

    def note_playback(self, text: str, pcm: bytes, start_seconds: float) -> None:
        self._played.writeframes(pcm)
        self._write(call="playback", text=text, start_seconds=start_seconds, samples=len(pcm) // SAMPLE_WIDTH_BYTES)
        self.inner.note_playback(text, pcm, start_seconds)

    def note_cancel(self, at_seconds: float) -> None:
        self._write(call="cancel", at_seconds=at_seconds)
        self.inner.note_cancel(at_seconds)

    def set_context(self, name: str) -> None:
        self._write(call="context", name=name)
        self.inner.set_context(name)

    def flush(self) -> list[Heard]:
        self._write(call="flush")
        return self.inner.flush()

    def close(self) -> None:
        for handle in (self._mic, self._played, self._calls):
            handle.close()

    def _write(self, **call: Any) -> None:
        self._calls.write(json.dumps(call) + "\n")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _open_wav(path: Path) -> wave.Wave_write:
    """The header is rewritten after every write, so the file is whole at any moment."""
    handle = wave.open(str(path), "wb")
    handle.setnchannels(1)
    handle.setsampwidth(SAMPLE_WIDTH_BYTES)
    handle.setframerate(SAMPLE_RATE_HZ)
    return handle


@dataclass(frozen=True)
class Call:
    name: str
    fields: dict[str, Any]
    pcm: bytes = b""


def read_recording(folder: Path) -> Iterator[Call]:
    """The calls of a debug recording in order, each with its audio."""
    with ExitStack() as files:
        try:
            lines = (folder / CALLS).read_text(encoding="utf-8").splitlines()
            mic = files.enter_context(wave.open(str(folder / MICROPHONE), "rb"))
            played = files.enter_context(wave.open(str(folder / PLAYED), "rb"))
        except (OSError, wave.Error, EOFError) as error:
            raise CoachError("debug-recording", f"{folder}: not a debug recording ({error})") from error
        for number, line in enumerate(lines, 1):
            try:
                fields = json.loads(line)
                name = fields.pop("call")
            except (ValueError, KeyError, AttributeError):
                if number == len(lines):
                    return              # a session killed mid-line
                raise CoachError("debug-recording", f"{folder / CALLS}:{number}: not a recorded call") from None
            source = mic if name == "feed" else played if name == "playback" else None
            pcm = source.readframes(int(fields["samples"])) if source is not None else b""
            yield Call(name, fields, pcm)


def replay(folder: Path, listener: Any) -> Iterator[tuple[Call, list[Heard]]]:
    """Give ``listener`` the recorded calls; yield each with what it decided."""
    for call in read_recording(folder):
        heard: list[Heard] = []
        if call.name == "feed":
            chunk = AudioChunk(call.pcm, int(call.fields.get("rate_hz", SAMPLE_RATE_HZ)),
                               float(call.fields["start_seconds"]))
            heard = listener.feed(chunk, bool(call.fields["speaking"]))
        elif call.name == "playback":
            listener.note_playback(call.fields["text"], call.pcm, float(call.fields["start_seconds"]))
        elif call.name == "cancel":
            listener.note_cancel(float(call.fields["at_seconds"]))
        elif call.name == "context":
            listener.set_context(call.fields["name"])
        elif call.name == "flush":
            heard = listener.flush()
        yield call, heard
