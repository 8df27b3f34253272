"""Composition root: settings -> adapters -> Runner.

The only place that chooses adapters. Three seams are looked up by name so each
part plugs in when it exists, and the session falls back to text and keys when
it does not:

- voice out:  ``coach.speaker.open_voice(settings, clock) -> (speaker, sink)``;
  ``speaker.pcm(text) -> bytes`` (16 kHz mono int16, pre-rendered/cached), and
  optionally ``speaker.seconds(text) -> float`` (measured lengths, so holds keep
  their exact length). Raise ``AudioDeviceError`` when there is no device.
- listening:  ``coach.listener.open_listener(settings, clock) -> listener`` with
  ``feed(chunk, speaking) -> list[Heard]``, ``set_context(name)`` and
  ``note_playback(text, pcm, start_seconds)``.
- pain:       ``coach.triage_dialog.make_pain_hook(settings, session_id, clock)
  -> on_pain(DialogIO, PainReport) -> TriageResult``.
"""

from __future__ import annotations

import importlib
import sys
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any, TextIO

from coach.asr.keyboard import KEY_HELP
from coach.clock import Clock, SystemClock, VirtualClock
from coach.errors import AudioDeviceError, ModelError, UsageError
from coach.events import EventLog, default_events_path
from coach.model import Library, Routine
from coach.runner import Runner
from coach.script import build_timeline
from coach.session import SESSION_MESSAGES
from coach.settings import Settings
from coach.timeline import Timeline, estimate_speech_seconds
from coach.view import View

NOTICE = ("This coach is a self-care aid, not a medical device, and it can't diagnose you. "
          "If you're worried, contact a health professional.")
NOTICE_MARKER = "notice-shown"


def load_library(settings: Settings) -> Library:
    from coach.content import load_library as load

    return load(settings.content_dir)


def find_routine(library: Library, routine_id: str) -> Routine:
    if routine_id not in library.routines:
        known = ", ".join(sorted(library.routines)) or "none"
        raise UsageError("unknown-routine", f"unknown routine {routine_id!r}; available: {known}")
    return library.routines[routine_id]


def _seam(module: str, name: str) -> Callable[..., Any] | None:
    """A plug-in function, or None while its module is not there yet."""
    try:
        return getattr(importlib.import_module(module), name, None)
    except ModuleNotFoundError as error:
        if error.name and module.startswith(error.name):
            return None
        raise


@dataclass
class Adapters:
    clock: Clock
    speaker: Any = None
    sink: Any = None
    source: Any = None
    listener: Any = None
    keys: Any = None
    on_pain: Any = None
    notes: list[str] = field(default_factory=list)   # fallbacks, told to the person


def open_output(settings: Settings, stack: ExitStack) -> Adapters:
    """The clock and where the coach's voice goes (nothing in text mode)."""
    clock: Clock = VirtualClock() if settings.clock == "virtual" else SystemClock()
    a = Adapters(clock)
    if not settings.text:
        _open_voice(settings, a)
    if settings.speaker_path is not None:
        from coach.audio.wav import WavFileSink

        a.sink = WavFileSink(settings.speaker_path, clock)
        if a.speaker is None:
            a.notes.append("no speech engine: the speaker file stays silent")
    if a.sink is not None:
        stack.callback(a.sink.close)
    return a


def open_inputs(settings: Settings, a: Adapters, session_id: str, stack: ExitStack) -> None:
    """Microphone (file or device), recognizer, keys and the pain hook, opened last
    so that nothing queues up while speech is being rendered."""
    clock = a.clock
    keyboard = settings.input == "keyboard"
    if settings.mic_path is not None:
        _open_mic(settings, a)
    elif settings.clock == "real" and (settings.input == "voice" or (settings.input_auto and keyboard)):
        heard_by_voice = _open_live_mic(settings, a, stack)
        if not heard_by_voice and settings.input == "voice" and sys.stdin.isatty():
            keyboard = True
    if keyboard:
        from coach.asr.keyboard import KeyInput

        a.keys = stack.enter_context(KeyInput(clock))
    make_hook = _seam("coach.triage_dialog", "make_pain_hook")
    if make_hook is not None:
        a.on_pain = make_hook(settings, session_id, clock)


def _open_voice(settings: Settings, a: Adapters) -> None:
    open_voice = _seam("coach.speaker", "open_voice")
    if open_voice is None:
        a.notes.append("speech is not available yet: showing text")
        return
    try:
        a.speaker, device_sink = open_voice(settings, a.clock)
    except (AudioDeviceError, ModelError) as error:
        a.notes.append(f"no voice ({error.message}): showing text")
        return
    if settings.speaker_path is None:
        a.sink = device_sink


def _open_mic(settings: Settings, a: Adapters) -> None:
    from coach.audio.filesource import WavSource

    assert isinstance(a.clock, VirtualClock)
    source: Any = WavSource(settings.mic_path, a.clock)
    if settings.echo_db is not None:
        from coach.audio.echo import EchoSource, PlaybackTap
        from coach.audio.null import NullSink

        a.sink = PlaybackTap(a.sink if a.sink is not None else NullSink(a.clock), a.clock)
        source = EchoSource(source, a.sink, settings.echo_db, settings.echo_delay_ms)
    a.source = source
    open_listener = _seam("coach.listener", "open_listener")
    if open_listener is None:
        a.notes.append("no recognizer yet: the microphone file is read but not understood")
        return
    a.listener = open_listener(settings, a.clock)


def _fallback_keys(settings: Settings, clock: Clock, stack: ExitStack) -> Any:
    """The keyboard, when the microphone is lost in a live session at a terminal."""
    if settings.clock != "real" or not sys.stdin.isatty():
        return None
    from coach.asr.keyboard import KeyInput

    return stack.enter_context(KeyInput(clock))


def _open_live_mic(settings: Settings, a: Adapters, stack: ExitStack) -> bool:
    """A live microphone and a recognizer, when both are there; keys stay on too."""
    open_listener = _seam("coach.listener", "open_listener")
    if open_listener is None:
        if settings.input == "voice":
            a.notes.append("voice commands are not available yet: using the keyboard")
        return False
    from coach.audio.device import DeviceSource

    try:
        source = DeviceSource(a.clock)
    except AudioDeviceError as error:
        a.notes.append(f"no microphone ({error.message}): using the keyboard")
        return False
    stack.callback(source.close)
    try:
        a.listener = open_listener(settings, a.clock)
    except ModelError as error:
        a.notes.append(f"no recognizer ({error.message}): using the keyboard")
        return False
    a.source = source
    return True


def first_run_notice(settings: Settings) -> bool:
    """True the first time (no marker in the data dir); leaves the marker."""
    marker = settings.data_dir / NOTICE_MARKER
    if marker.exists():
        return False
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        marker.write_text("The first-run notice was shown.\n", encoding="utf-8")
    except OSError:
        pass
    return True


def prepared_timeline(routine: Routine, library: Library, dose: str, speaker: Any,
                      extra_texts: tuple[str, ...] = ()) -> Timeline:
    """The timeline with measured speech lengths: every text is rendered before the
    session starts (principle 4), then holds are laid out around the real lengths."""
    timeline = build_timeline(routine, library, dose)
    if speaker is None:
        return timeline
    texts = [c.text for c in timeline.cues if c.kind in ("say", "count", "listen") and c.text]
    texts += [*SESSION_MESSAGES, *extra_texts]
    prepare = getattr(speaker, "prepare", None)
    durations: dict[str, float] = {}
    if prepare is not None:
        progress = _seam("coach.speaker", "stderr_progress")
        durations = prepare(texts, progress() if progress else None)
    measure = getattr(speaker, "seconds", None)
    if measure is None and not durations:
        return timeline

    def seconds(text: str) -> float:
        if text in durations:
            return durations[text]
        return measure(text) if measure is not None else estimate_speech_seconds(text)

    return build_timeline(routine, library, dose, speech_seconds=seconds)


def run_routine(settings: Settings, routine_id: str, stdout: TextIO | None = None,
                stderr: TextIO | None = None) -> int:
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    library = load_library(settings)
    routine = find_routine(library, routine_id)
    session_id = uuid.uuid4().hex[:12]
    first = first_run_notice(settings)
    if first:
        print(NOTICE, file=stderr)
    with ExitStack() as stack:
        a = open_output(settings, stack)
        opening = (NOTICE,) if first and a.speaker is not None else ()
        timeline = prepared_timeline(routine, library, settings.dose, a.speaker, opening)
        open_inputs(settings, a, session_id, stack)
        for note in a.notes:
            print(f"coach: {note}", file=stderr)
        path = settings.events_path or default_events_path(settings.data_dir, routine.id)
        try:
            events = stack.enter_context(EventLog(path, a.clock, session_id, fsync=settings.clock == "real"))
        except OSError as error:
            raise UsageError("events-unwritable", f"cannot write the event log {path}: {error.strerror}") from None
        view = View(stdout)
        if a.keys is not None:
            view.key_hints = True
            view.message(KEY_HELP, 0.0)
        runner = Runner(
            timeline, a.clock, events=events, sink=a.sink, speaker=a.speaker, source=a.source,
            listener=a.listener, keys=a.keys, view=view, on_pain=a.on_pain,
            idle_timeout_seconds=settings.idle_timeout_seconds,
            start_fields={"dose": settings.dose, "clock": settings.clock, "input": settings.input,
                          "voice": a.speaker is not None, "locale": settings.locale},
            opening_lines=opening,
            fallback_keys=lambda: _fallback_keys(settings, a.clock, stack),
        )
        result = runner.run()
    return result.exit_code
