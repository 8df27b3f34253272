"""Fakes for logic tests: an in-memory sink, scripted keys and listener, a small library.

Only tests and the virtual-time tools use these; they follow the same ports as
the real adapters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from coach.content.model import Heard
from coach.audio import SAMPLE_RATE_HZ, SAMPLE_WIDTH_BYTES, AudioChunk
from coach.clock import Clock
from coach.content.model import Exercise, Library, Range, Routine, RoutineItem, SourceRef, Tip


@dataclass
class SinkRecord:
    action: str          # "play" | "cancel"
    at_seconds: float
    seconds: float = 0.0
    pcm: bytes = b""


class RecordingSink:
    """Remembers what was played and cancelled, with clock times; 'plays' for the pcm's length."""

    def __init__(self, clock: Clock, rate_hz: int = SAMPLE_RATE_HZ) -> None:
        self.clock = clock
        self.rate_hz = rate_hz
        self.records: list[SinkRecord] = []
        self._until_seconds = 0.0
        self.closed = False

    def play(self, pcm: bytes) -> None:
        seconds = len(pcm) / SAMPLE_WIDTH_BYTES / self.rate_hz
        now = self.clock.now()
        self.records.append(SinkRecord("play", now, seconds, pcm))
        self._until_seconds = max(self._until_seconds, now) + seconds

    def cancel(self) -> None:
        self.records.append(SinkRecord("cancel", self.clock.now()))
        self._until_seconds = self.clock.now()

    def is_playing(self) -> bool:
        return self.clock.now() < self._until_seconds

    def close(self) -> None:
        self.closed = True

    def actions(self) -> list[str]:
        return [r.action for r in self.records]


class SilentSpeaker:
    """Renders every text as silence of a fixed rate of seconds per character."""

    def __init__(self, seconds_per_char: float = 0.05, rate_hz: int = SAMPLE_RATE_HZ) -> None:
        self.seconds_per_char = seconds_per_char
        self.rate_hz = rate_hz
        self.texts: list[str] = []

    def pcm(self, text: str) -> bytes:
        self.texts.append(text)
        samples = int(len(text) * self.seconds_per_char * self.rate_hz)
        return bytes(samples * SAMPLE_WIDTH_BYTES)


class ScriptedKeys:
    """KeyInput stand-in: each Heard comes out of poll() once the clock reaches its time."""

    def __init__(self, clock: Clock, script: Iterable[tuple[float, str] | tuple[float, str, int]]) -> None:
        self.clock = clock
        self._pending = sorted(script, key=lambda s: s[0])
        self.contexts: list[str] = []

    def set_context(self, context: str) -> None:
        self.contexts.append(context)

    def poll(self) -> list[Heard]:
        now = self.clock.now()
        out: list[Heard] = []
        while self._pending and self._pending[0][0] <= now:
            at, command, *value = self._pending.pop(0)
            out.append(Heard(command, value[0] if value else None, text=command,
                             decided_seconds=now, source="keyboard"))
        return out

    def close(self) -> None:
        pass


class AnsweringKeys(ScriptedKeys):
    """ScriptedKeys that also answer questions: each time a question's context is set
    (``yesno``, ``number``, or ``session`` at a prompt), ``answer(context)`` says what
    to answer ("yes", "no", "7", "stop", ...; None: stay silent), given
    ``delay_seconds`` later. ``source`` is "keyboard" or "voice"."""

    QUESTION_CONTEXTS = frozenset({"yesno", "number"})

    def __init__(self, clock: Clock, script: Iterable[tuple[float, str] | tuple[float, str, int]],
                 answer: Callable[[str], str | None], delay_seconds: float = 0.5,
                 source: str = "keyboard", prompt_contexts: frozenset[str] = frozenset()) -> None:
        super().__init__(clock, script)
        self.answer = answer
        self.delay_seconds = delay_seconds
        self.source = source
        self.prompt_contexts = prompt_contexts      # e.g. {"session"}: the carry-on prompt is asked in it
        self.given: list[tuple[str, str]] = []      # (context, answer) in order

    def set_context(self, context: str) -> None:
        super().set_context(context)
        if context not in self.QUESTION_CONTEXTS | self.prompt_contexts:
            return
        reply = self.answer(context)
        if reply is None:
            return
        self.given.append((context, reply))
        value = int(reply) if reply.isdigit() else None
        self._pending.append((self.clock.now() + self.delay_seconds, "number" if value is not None else reply,
                              *(() if value is None else (value,))))
        self._pending.sort(key=lambda s: s[0])

    def poll(self) -> list[Heard]:
        from dataclasses import replace

        return [replace(h, source=self.source, confidence=1.0 if self.source == "keyboard" else 0.9)
                for h in super().poll()]


@dataclass
class ScriptedListener:
    """Listener stand-in: a Heard is decided once the audio fed reaches its end time."""

    script: list[tuple[float, str]] = field(default_factory=list)
    contexts: list[str] = field(default_factory=list)
    fed_speaking: list[bool] = field(default_factory=list)
    playback: list[tuple[str, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.script = sorted(self.script)

    def set_context(self, name: str) -> None:
        self.contexts.append(name)

    def note_playback(self, text: str, pcm: bytes, start_seconds: float) -> None:
        self.playback.append((text, start_seconds))

    def feed(self, chunk: AudioChunk, speaking: bool) -> list[Heard]:
        self.fed_speaking.append(speaking)
        out: list[Heard] = []
        while self.script and self.script[0][0] <= chunk.end_seconds:
            at, command = self.script.pop(0)
            value = int(command) if command.isdigit() else None
            name = "number" if value is not None else command
            out.append(Heard(name, value, text=command, confidence=0.9,
                             audio_start_seconds=max(0.0, at - 0.4), audio_end_seconds=at,
                             decided_seconds=chunk.end_seconds, source="voice"))
        return out


def _src() -> tuple[SourceRef, ...]:
    return (SourceRef("hip-and-lower-back-pain-self-care.txt", "Targeted Stretches and Gentle Movement"),)


def make_exercise(id: str = "pelvic-tilt", **fields) -> Exercise:
    """An exercise with sensible defaults; override any field."""
    base = dict(
        id=id, name=id.replace("-", " ").capitalize(), kind="exercise", sources=_src(),
        position="lying_on_back", equipment=(), sides="none",
        hold_seconds=Range(3, 5), reps=Range(10, 15), sets=Range(1, 1), rest_seconds=None,
        tempo_seconds=None, duration_seconds=None,
        setup=("Lie on your back with your knees bent.",),
        steps=("Flatten your lower back against the floor.",),
        breathing=("Breathe out as you tilt.",), cautions=(), notes=(),
    )
    base.update(fields)
    return Exercise(**base)


def sample_library() -> Library:
    """A small library covering holds, counted reps, sides, sets, timed items and a tip."""
    exercises = [
        make_exercise("pelvic-tilt", sets=Range(2, 3), rest_seconds=Range(30, 30)),
        make_exercise("knee-to-chest", sides="one", hold_seconds=Range(20, 30), reps=Range(2, 3),
                      cautions=("Stop if you feel any sharp pain.",)),
        make_exercise("glute-bridge", hold_seconds=None, reps=Range(10, 15), sets=Range(2, 3),
                      rest_seconds=Range(30, 60), tempo_seconds=3),
        make_exercise("cold-therapy", kind="self-care", hold_seconds=None, reps=None, sets=None,
                      duration_seconds=Range(600, 900), breathing=(),
                      cautions=("Wrap the pack in a thin towel.",),
                      notes=("Follow the label of any pain medicine.",)),
    ]
    tips = [Tip("chair-setup", "Chair setup", _src(), ("Sit with your feet flat on the floor.",))]
    routines = [
        Routine("gentle", "Gentle routine", "A short gentle routine.", ("Welcome.",), ("Well done.",), 15,
                (RoutineItem(exercise_id="pelvic-tilt"), RoutineItem(exercise_id="knee-to-chest"),
                 RoutineItem(exercise_id="glute-bridge"), RoutineItem(tip_id="chair-setup"))),
        Routine("cold", "Cold pack", "Ten minutes of cold.", ("Get your cold pack.",), ("Done.",), 0,
                (RoutineItem(exercise_id="cold-therapy"),)),
    ]
    return Library({e.id: e for e in exercises}, {t.id: t for t in tips}, {r.id: r for r in routines})
