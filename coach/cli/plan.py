"""``coach today`` and ``coach schedule``: today's plan from the history, and the
weeks ahead as calendar reminders. ``coach run today`` runs the plan (``today_plan``).

The records are gathered from the history here; the planner itself
(``coach.plan.planner``) is pure. Plans are spoken like the other commands
(``--text`` prints only; without a sound card they are printed).
"""

from __future__ import annotations

import json
import sys
from contextlib import ExitStack
from datetime import datetime, time
from pathlib import Path
from typing import Any, TextIO

from coach.cli.settings import Settings, content_dir_from, settings_from_args
from coach.cli.triage import TextDialogIO
from coach.errors import EXIT_SAFETY_STOP, UsageError
from coach.plan.planner import Plan, Records, plan_for
from coach.plan.rules import Rules, default_rules_path, load_rules
from coach.store.history import History, local_now
from coach.store.records import morning_reports, session_records

TODAY = "today"            # ``coach run today``


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("today", help="today's plan from your history: routine, dose and why")
    p.add_argument("--json", action="store_true", help='print {"routine", "dose", "reasons", "exercise_allowed"}')
    p.add_argument("--text", action="store_true", help="print the plan without speaking it")
    p.set_defaults(func=cmd_today)

    p = subparsers.add_parser("schedule", help="write the next weeks' plan as calendar reminders (.ics)")
    p.add_argument("--ics", metavar="FILE", required=True, help="the iCalendar file to write")
    p.add_argument("--weeks", type=int, default=2, metavar="N", help="how many weeks (1 to 12, default 2)")
    p.add_argument("--at", default="18:00", metavar="HH:MM", help="time of day of each session (default 18:00)")
    p.set_defaults(func=cmd_schedule)


def load_plan_rules(content_dir: Path, routine_ids: Any = None) -> Rules:
    path = default_rules_path(content_dir)
    if not path.exists():
        raise UsageError("no-plan-rules", f"{path}: missing: the rules for today's plan")
    return load_rules(path, routine_ids)


def gather(settings: Settings, now: datetime, names: dict[str, str]) -> Records:
    """The person's records from the history, and the profile's advice against a programme."""
    with History.open_default(settings.data_dir, wall_clock=lambda: now) as history:
        return Records(now=now, sessions=tuple(session_records(history)), mornings=tuple(morning_reports(history)),
                       outcomes=tuple(history.recent_outcomes(limit=500)), locks=tuple(history.active_locks()),
                       profile_blocks=tuple(_profile_blocks(settings, history)), routines=names)


def _profile_blocks(settings: Settings, history: History) -> list[str]:
    from coach.triage.content import default_triage_path, load_triage
    from coach.triage.profile import load_profile

    path = default_triage_path(settings.content_dir)
    if not path.exists():
        return []
    content = load_triage(path)
    locale = settings.locale if settings.locale in content.locales else content.default_locale
    return [item.script.get(locale) for item in load_profile(history).advice(content) if item.blocks_programme]


def ask_morning_first(settings: Settings, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout,
                      interactive: bool | None = None) -> str | None:
    """On a terminal, the day's morning question before the plan is made: the plan judges
    the last session by how this morning was. (Hands-free, the session asks it, after
    the plan; a missing answer holds the dose.) Returns the answer kind, None if not asked."""
    if not (stdin.isatty() and stdout.isatty() if interactive is None else interactive):
        return None
    from coach.triage.checkin import ask_morning, morning_due
    from coach.triage.content import default_triage_path, load_triage

    with History.open_default(settings.data_dir) as history:
        if not morning_due(history):
            return None
        content = load_triage(default_triage_path(settings.content_dir))
        locale = settings.locale if settings.locale in content.locales else content.default_locale
        io = _AnswerKinds(stdin, stdout, False)
        ask_morning(io, content, history, locale)
    return io.kinds[-1] if io.kinds else None


class _AnswerKinds(TextDialogIO):
    """The text dialog, keeping what each answer was (a typed stop must stop)."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.kinds: list[str] = []

    def log(self, event_type: str, **fields: Any) -> None:
        super().log(event_type, **fields)
        if event_type == "morning-report":
            self.kinds.append(str(fields.get("answer")))


def today_plan(settings: Settings, now: datetime | None = None) -> tuple[Plan, list[str]]:
    """Today's plan and the lines that tell it (the library is read once)."""
    names = routine_names(settings)
    rules = load_plan_rules(settings.content_dir, names)
    plan = plan_for(gather(settings, now or local_now(), names), rules)
    return plan, plan_lines(plan, names)


def plan_lines(plan: Plan, names: dict[str, str] | None = None) -> list[str]:
    if plan.routine is None:
        head = "Today: no session."
    else:
        name = (names or {}).get(plan.routine, plan.routine)
        head = f"Today: {name} ({plan.routine}), {plan.dose} dose."
    return [head, *plan.reasons]


def speak_lines(settings: Settings, lines: list[str]) -> None:
    """Say the lines through the coach's voice (nothing with ``--text``; no device: printed only)."""
    if settings.text:
        return
    from coach.cli.app import open_output

    with ExitStack() as stack:
        a = open_output(settings, stack)
        for note in a.notes:
            print(f"coach: {note}", file=sys.stderr)
        if a.speaker is None or a.sink is None:
            return
        for line in lines:
            a.sink.play(a.speaker.pcm(line))
            limit = a.clock.now() + 120.0
            while a.sink.is_playing() and a.clock.now() < limit:
                a.clock.sleep(0.05)


def cmd_today(args: Any) -> int:
    settings = settings_from_args(args)
    if not args.json and ask_morning_first(settings) == "stop":
        return EXIT_SAFETY_STOP
    plan, lines = today_plan(settings)
    if args.json:
        print(json.dumps(plan.as_json(), indent=2, ensure_ascii=False))
        return 0
    tell(settings, lines)
    return 0


def refuse_today(settings: Settings, lines: list[str]) -> int:
    """``coach run today`` when exercise is not allowed: print and say why, exit 10."""
    tell(settings, lines)
    return EXIT_SAFETY_STOP


def tell(settings: Settings, lines: list[str]) -> None:
    for line in lines:
        print(line)
    speak_lines(settings, lines)


def routine_names(settings: Settings) -> dict[str, str]:
    from coach.content.library import load_library

    return {r.id: r.name for r in load_library(settings.content_dir).routines.values()}


def cmd_schedule(args: Any) -> int:
    from coach.content.library import load_library
    from coach.plan.calendar import project, to_ics
    from coach.script.engine import build_timeline

    if not 1 <= args.weeks <= 12:
        raise UsageError("bad-args", "--weeks is a number of weeks from 1 to 12")
    at = _time(args.at)
    settings = settings_from_args(args)
    library = load_library(content_dir_from(args))
    names = {r.id: r.name for r in library.routines.values()}
    rules = load_plan_rules(settings.content_dir, names)
    now = local_now()
    days = project(gather(settings, now, names), rules, args.weeks * 7, at)
    seconds = {d.plan.routine: sum(c.seconds for c in build_timeline(library.routines[d.plan.routine], library,
                                                                     d.plan.dose or "low").cues)
               for d in days if d.plan.routine in library.routines}
    data = to_ics(days, rules, at, now.tzinfo, now, names, seconds)
    try:
        Path(args.ics).write_bytes(data)
    except OSError as error:
        raise UsageError("ics-unwritable", f"cannot write {args.ics}: {error.strerror}") from None
    print(f"wrote {args.ics}: {len(days)} sessions over {args.weeks} week{'s' if args.weeks > 1 else ''}")
    if not days:
        print(plan_for(gather(settings, now, names), rules).reasons[0])
    print(rules.notice)
    return 0


def _time(text: str) -> time:
    try:
        hours, minutes = (int(part) for part in text.split(":"))
        return time(hours, minutes)
    except ValueError:
        raise UsageError("bad-args", f"--at {text!r}: expected a time of day as HH:MM, for example 18:00") from None
