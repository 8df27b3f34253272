"""Opening the inputs of a session: a microphone (a WAV file in virtual time, or the
device in real time) with the recognizer the listener chose, and the keys.

Engine names are announced, spoken and printed; a missing microphone or
recognizer falls back to the keys with a spoken and printed message.
"""

from __future__ import annotations

import os
import sys
from contextlib import ExitStack
from typing import Any

from coach.cli.adapters import Adapters, seam
from coach.cli.progress import progress
from coach.clock import Clock, VirtualClock
from coach.errors import AudioDeviceError, ModelError, UsageError
from coach.listen.playback_timing import time_playback_by_device
from coach.cli.settings import Settings

NO_MIC_KEYS_TEXT = "I can't find a microphone, so please use the keyboard."
NO_MIC_TEXT = "I can't find a microphone, so I can't hear you."
NO_RECOGNIZER_KEYS_TEXT = "Speech recognition isn't available, so please use the keyboard."
NO_RECOGNIZER_TEXT = "Speech recognition isn't available, so I can't hear you."
ENGINE_NAMES = {"vosk": "Vosk", "whisper": "Whisper tiny.en"}


def open_inputs(settings: Settings, a: Adapters, stack: ExitStack) -> None:
    """Microphone (file or device) and recognizer, and the keys, opened last so that
    nothing queues up while speech is being rendered.

    ``--input auto`` in real time: the device microphone when there is one (voice),
    and the keys too when standard input is a terminal. ``--mic`` is voice on the
    virtual clock. No microphone: the keys, with a spoken and printed message.
    """
    check_inputs(settings)
    clock = a.clock
    keyboard = settings.input == "keyboard"
    if settings.mic_path is not None:
        _open_mic(settings, a, stack)
    elif settings.clock == "real" and (settings.input == "voice" or settings.input_auto):
        keys_possible = keyboard or sys.stdin.isatty()
        heard_by_voice = _open_live_mic(settings, a, stack, keys_possible)
        keyboard = keyboard or (not heard_by_voice and keys_possible)
    if settings.debug_recording is not None and a.listener is None:
        a.notes.append(f"nothing is recorded in {settings.debug_recording}: "
                       "no microphone and recognizer are listening (--debug-recording records only speech input)")
    if keyboard:
        from coach.listen.keyboard import KeyInput

        a.keys = stack.enter_context(KeyInput(clock))


def check_inputs(settings: Settings) -> None:
    """Options that only make sense together: refuse them rather than ignore them."""
    if settings.echo_db is not None and settings.mic_path is None:
        raise UsageError("echo-without-mic", "--echo-db mixes the coach's voice into a --mic file; give --mic too")
    if settings.echo_room_seconds and settings.echo_db is None:
        raise UsageError("room-without-echo", "--echo-room shapes the echo that --echo-db adds; give --echo-db too")
    if settings.echo_room_seconds < 0:
        raise UsageError("bad-echo-room", f"--echo-room must be 0 or more seconds, not {settings.echo_room_seconds:g}")


def _open_listener(settings: Settings, a: Adapters, stack: ExitStack) -> Any:
    """The recognizer through ``coach.listen.listener.open_listener``, announced by name;
    None (with a note) when there is none. ModelError goes to the caller."""
    open_listener = seam("coach.listen.listener", "open_listener")
    if open_listener is None:
        a.notes.append("no recognizer yet: the microphone is read but not understood")
        return None
    with progress("Adapting to your voice") as update:
        listener = open_listener(settings, a.clock, progress=update)
    name, reason = engine_in_use(settings, listener)
    a.spoken.append(f"Listening with {name}.")
    a.notes.append(f"listening with {name}. {reason}".strip())
    if settings.debug_recording is None:
        return listener
    from coach.listen.debug_recording import RecordingListener

    recording = RecordingListener(listener, settings.debug_recording)
    stack.callback(recording.close)
    a.notes.append(f"recording the microphone for debugging in {settings.debug_recording}")
    return recording


def engine_in_use(settings: Settings, listener: Any) -> tuple[str, str]:
    """(a name to say, the reason it was chosen) for the recognizer the listener uses."""
    reason = getattr(listener, "engine_sentence", "") or ""
    choose = seam("coach.listen.asr.select", "choose_engine")
    engine = ""
    if choose is not None:
        try:
            engine = choose(settings.engine or os.environ.get("COACH_ENGINE") or "auto").engine
        except (ModelError, UsageError):
            pass
    return ENGINE_NAMES.get(engine, engine or "speech recognition"), reason


def _open_mic(settings: Settings, a: Adapters, stack: ExitStack) -> None:
    from coach.audio.filesource import WavSource

    assert isinstance(a.clock, VirtualClock)
    source: Any = WavSource(settings.mic_path, a.clock)
    if settings.echo_db is not None:
        from coach.audio.echo import EchoSource, PlaybackTap
        from coach.audio.null import NullSink

        a.sink = PlaybackTap(a.sink if a.sink is not None else NullSink(a.clock), a.clock)
        source = EchoSource(source, a.sink, settings.echo_db, settings.echo_delay_ms, settings.echo_room_seconds)
    a.source = source
    try:
        a.listener = _open_listener(settings, a, stack)
    except ModelError as error:
        a.notes.append(f"no recognizer ({error.message}): the microphone file is read but not understood")


def fallback_keys(settings: Settings, clock: Clock, stack: ExitStack) -> Any:
    """The keyboard, when the microphone is lost in a live session at a terminal."""
    if settings.clock != "real" or not sys.stdin.isatty():
        return None
    from coach.listen.keyboard import KeyInput

    return stack.enter_context(KeyInput(clock))


def _open_live_mic(settings: Settings, a: Adapters, stack: ExitStack, keys_possible: bool) -> bool:
    """A live microphone and a recognizer, when both are there; keys stay on too."""
    then = "using the keyboard" if keys_possible else "no voice commands (the keys work in a terminal)"
    spoken = NO_MIC_KEYS_TEXT if keys_possible else NO_MIC_TEXT
    if seam("coach.listen.listener", "open_listener") is None:
        a.notes.append(f"voice commands are not available yet: {then}")
        return False
    from coach.audio.microphone import DeviceSource

    try:
        source = DeviceSource(a.clock)
    except AudioDeviceError as error:
        a.notes.append(f"no microphone ({error.message}): {then}")
        a.spoken.append(spoken)
        return False
    stack.callback(source.close)
    try:
        a.listener = _open_listener(settings, a, stack)
    except ModelError as error:
        a.notes.append(f"no recognizer ({error.message}): {then}")
        a.spoken.append(NO_RECOGNIZER_KEYS_TEXT if keys_possible else NO_RECOGNIZER_TEXT)
        return False
    a.source = source
    a.listener = time_playback_by_device(a.listener, a.sink)
    return a.listener is not None
