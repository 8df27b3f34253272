"""Composition root: settings -> adapters -> Runner.

The only place that chooses adapters. Seams are looked up by name so each part
plugs in when it exists, and the session falls back to text and keys when it
does not:

- voice out:  ``coach.speak.speaker.open_voice(settings, clock) -> (speaker, sink)``;
  ``speaker.pcm(text) -> bytes`` (16 kHz mono int16, pre-rendered/cached), and
  optionally ``speaker.prepare(texts)`` / ``speaker.seconds(text)`` (measured
  lengths, so holds keep their exact length). ``AudioDeviceError``: no device.
- listening:  ``coach.listen.listener.open_listener(settings, clock) -> Listener`` with
  ``feed(chunk, speaking)``, ``set_context(name)``, ``note_playback(...)`` and
  ``engine_sentence``; ``ModelError`` when only the keyboard is left
  (``coach.cli.inputs``).
- safety:     ``coach.triage.dialog`` (exercise gate, baseline question, pain
  hook) over the history (``coach.cli.safety``).

A session that may not start (exercise locked after a triage, or the profile's
advice) says why and exits with status 10, like a session a safety stop ended.
"""

from __future__ import annotations

import sys
import uuid
from contextlib import ExitStack
from typing import Any, TextIO

from coach.listen.keyboard import KEY_HELP
from coach.cli.adapters import Adapters, seam
from coach.cli.progress import progress
from coach.cli.inputs import check_inputs, fallback_keys, open_inputs
from coach.cli.safety import (
    Safety, after_hook, baseline_hook, gate_line, given_baseline, morning_hook, open_safety, pain_hook,
    record_session,
)
from coach.clock import Clock, SystemClock, VirtualClock
from coach.errors import EXIT_SAFETY_STOP, AudioDeviceError, ModelError, UsageError
from coach.session.events import EventLog, default_events_path
from coach.content.model import Library, Routine
from coach.session.runner import Runner
from coach.script.engine import build_timeline
from coach.session.policy import DEFAULT_RISE_STOPS_EXERCISE, SESSION_MESSAGES
from coach.cli.settings import Settings
from coach.script.timeline import Timeline, estimate_speech_seconds
from coach.session.screen import open_view
from coach.session.view import View

NOTICE = ("This coach is a self-care aid, not a medical device, and it can't diagnose you. "
          "If you're worried, contact a health professional.")
NOTICE_MARKER = "notice-shown"


def load_library(settings: Settings) -> Library:
    from coach.content.library import load_library as load

    return load(settings.content_dir)


def find_routine(library: Library, routine_id: str) -> Routine:
    if routine_id not in library.routines:
        known = ", ".join(sorted(library.routines)) or "none"
        raise UsageError("unknown-routine", f"unknown routine {routine_id!r}; available: {known}")
    return library.routines[routine_id]


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


def _open_voice(settings: Settings, a: Adapters) -> None:
    open_voice = seam("coach.speak.speaker", "open_voice")
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
        with progress("Preparing speech") as update:
            durations = prepare(texts, lambda done, total, _text: update(done, total))
    measure = getattr(speaker, "seconds", None)
    if measure is None and not durations:
        return timeline

    def seconds(text: str) -> float:
        if text in durations:
            return durations[text]
        return measure(text) if measure is not None else estimate_speech_seconds(text)

    return build_timeline(routine, library, dose, speech_seconds=seconds)


def refuse(settings: Settings, a: Adapters, routine: Routine, session_id: str, line: str,
           view: View) -> int:
    """Exercise is locked (or advised against): say why, log it, start nothing."""
    view.said(line, 0.0)
    if a.speaker is not None and a.sink is not None:
        a.sink.play(a.speaker.pcm(line))
        limit = a.clock.now() + 60.0
        while a.sink.is_playing() and a.clock.now() < limit:
            a.clock.sleep(0.05)
    path = settings.events_path or default_events_path(settings.data_dir, routine.id)
    try:
        with EventLog(path, a.clock, session_id, fsync=settings.clock == "real") as events:
            events.emit("session-blocked", session_id=session_id, routine_id=routine.id, text=line)
    except OSError:
        pass
    return EXIT_SAFETY_STOP


def run_routine(settings: Settings, routine_id: str, stdout: TextIO | None = None,
                stderr: TextIO | None = None) -> int:
    """Exit status 0 completed (or idle), 10 ended by stop, pain or triage, or not
    started because exercise is locked (see ``coach.triage.dialog.exercise_gate``)."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    library = load_library(settings)
    routine = find_routine(library, routine_id)
    check_inputs(settings)              # before anything is rendered, written or opened
    session_id = uuid.uuid4().hex[:12]
    safety = open_safety(settings, session_id)
    first = first_run_notice(settings)
    if first:
        print(NOTICE, file=stderr)
    with ExitStack() as stack:
        a = open_output(settings, stack)
        view = open_view(stdout, plain=settings.plain)
        if safety is not None:
            line = gate_line(safety)
            if line is not None:
                return refuse(settings, a, routine, session_id, line, view)
        opening = (NOTICE,) if first and a.speaker is not None else ()
        extra = safety_texts(safety)
        timeline = prepared_timeline(routine, library, settings.dose, a.speaker, opening + extra)
        open_inputs(settings, a, stack)
        if safety is None:
            a.notes.append("no triage.yaml in the content: pain ends the session")
        for note in a.notes:
            print(f"coach: {note}", file=stderr)
        path = settings.events_path or default_events_path(settings.data_dir, routine.id)
        try:
            events = stack.enter_context(EventLog(path, a.clock, session_id, fsync=settings.clock == "real"))
        except OSError as error:
            raise UsageError("events-unwritable", f"cannot write the event log {path}: {error.strerror}") from None
        runner = compose_runner(settings, timeline, a, events, view, safety, stack, opening)
        result = runner.run()
    return result.exit_code


def compose_runner(settings: Settings, timeline: Timeline, a: Adapters, events: EventLog, view: View,
                   safety: Safety | None, stack: ExitStack, opening: tuple[str, ...] = ()) -> Runner:
    """The Runner with its safety parts: triage on pain, the questions when an input can
    answer them (keys, or a microphone with a recognizer): this morning vs usual, the
    baseline, the pain after a completed routine; and the history."""
    can_answer = a.keys is not None or (a.source is not None and a.listener is not None)
    morning = None
    if safety is not None:
        morning = _morning(settings, safety, can_answer)    # before this session is in history
        events.subscribe(record_session(safety, timeline.routine_id, stack, settings.dose))
        a.on_pain = pain_hook(settings, safety, a.clock)
    if a.keys is not None:
        view.key_hints = True
        view.message(KEY_HELP, 0.0)
    return Runner(
        timeline, a.clock, events=events, sink=a.sink, speaker=a.speaker, source=a.source,
        listener=a.listener, keys=a.keys, view=view, on_pain=a.on_pain,
        idle_timeout_seconds=settings.idle_timeout_seconds,
        start_fields={"dose": settings.dose, "clock": settings.clock, "input": input_in_use(a),
                      "voice": a.speaker is not None, "locale": settings.locale},
        opening_lines=opening + tuple(a.spoken),
        fallback_keys=lambda: fallback_keys(settings, a.clock, stack),
        ask_baseline=_baseline(settings, safety, can_answer),
        ask_morning=morning,
        ask_after=after_hook(safety) if safety is not None and can_answer else None,
        rise_stops_exercise=safety.content.pain_rules.rise_stops_exercise if safety else DEFAULT_RISE_STOPS_EXERCISE,
    )


def _baseline(settings: Settings, safety: Safety | None, can_answer: bool) -> Any:
    """The baseline rating: given with --baseline, else asked when an input can answer."""
    if safety is None:
        return None
    if settings.baseline_rating is not None:
        return given_baseline(safety, settings.baseline_rating)
    return baseline_hook(safety) if can_answer else None


def _morning(settings: Settings, safety: Safety, can_answer: bool) -> Any:
    """This morning vs usual: on the first start of a day with an earlier session to compare
    with, when an input can answer; not with ``--baseline`` (nothing is asked before)."""
    if settings.baseline_rating is not None or not can_answer:
        return None
    return morning_hook(safety)


def input_in_use(a: Adapters) -> str:
    """voice, keyboard, voice+keyboard or none: what can command this session."""
    ways = [name for name, on in (("voice", a.listener is not None and a.source is not None),
                                  ("keyboard", a.keys is not None)) if on]
    return "+".join(ways) or "none"


def safety_texts(safety: Safety | None) -> tuple[str, ...]:
    """What triage says first, rendered before the session so a halt speaks at once."""
    if safety is None:
        return ()
    from coach.triage.checkin import AFTER_QUESTION, MORNING_QUESTION, line

    lines = tuple(safety.content.line(key, safety.locale) for key in ("baseline_question", "halt", "instruction"))
    return lines + (line(safety.content, "after_question", safety.locale, AFTER_QUESTION),
                    line(safety.content, "morning_question", safety.locale, MORNING_QUESTION))
