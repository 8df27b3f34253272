"""``coach history``: recent sessions, pain by day and by week, safety outcomes, locks;
``--plot`` draws them, ``--export`` writes everything to JSON or CSV (for a clinician or
a backup) and ``--import`` restores a JSON export into an empty history."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

from coach.errors import EXIT_OK
from coach.report.summary import week_lines, weekly_summary
from coach.store.exchange import export_file, import_file
from coach.store.history import History

EPILOG = """\
--export FILE.json|FILE.csv writes everything: sessions (date, routine, dose, pain before,
after and next morning, how they ended), all pain ratings, morning reports, safety
questions with their answers and outcomes, locks and the profile. The CSV is one table
with a 'record' column (session, rating, morning, triage, answer, outcome, lock, profile).
--import FILE.json restores such a JSON export into an empty history (a new data folder,
COACH_DATA_DIR); it refuses a history that has anything in it, and a file with any
problem (naming its line and field), importing nothing."""


def _history(args: argparse.Namespace) -> int:
    with History.open_default() as history:
        if args.import_file:
            counts = import_file(history, Path(args.import_file))
            print(f"Imported {args.import_file}: " + ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in counts.items()))
        if args.export:
            export_file(history, Path(args.export))
            print(f"Wrote {args.export}")
        if args.plot:
            from coach.report.plot import plot_history

            plot_history(history, Path(args.plot))
            print(f"Wrote {args.plot}")
        if args.import_file or args.export or args.plot:
            return EXIT_OK
        data = _data(history, args.limit)
    if args.json:
        print(json.dumps(data, indent=None))
        return EXIT_OK
    for line in _lines(data):
        print(line)
    return EXIT_OK


def _data(history: History, limit: int) -> dict[str, Any]:
    return {
        "sessions": history.recent_sessions(limit),
        "pain_trend": history.pain_trend(),
        "weeks": [w.as_dict() for w in weekly_summary(history)],
        "outcomes": [dataclasses.asdict(r) for r in history.recent_outcomes(limit)],
        "locks": [dataclasses.asdict(lock) for lock in history.active_locks()],
    }


def _lines(data: dict[str, Any]) -> list[str]:
    lines = ["Recent sessions:" if data["sessions"] else "No sessions yet."]
    for s in data["sessions"]:
        lines.append(f"  {s['started_at']}  {s['routine_id'] or '-'}  ended: {s['end_reason'] or '-'}")
    lines.append("Pain (0-10) by day:" if data["pain_trend"] else "No pain ratings yet.")
    for day in data["pain_trend"]:
        lines.append(f"  {day['date']}  low {day['low']}  high {day['high']}  mean {day['mean']}  ({day['count']})")
    if data["weeks"]:
        from coach.report.summary import Week

        lines.append("By week:")
        lines += week_lines([Week(**w) for w in data["weeks"]])
    lines.append("Triage outcomes:" if data["outcomes"] else "No triage yet.")
    for o in data["outcomes"]:
        lines.append(f"  {o['at']}  {o['outcome']}  {', '.join(o['reasons']) or '-'}")
    lines.append("Exercise locked:" if data["locks"] else "Nothing locked.")
    for lock in data["locks"]:
        lines.append(f"  {lock['kind']}  {lock['reason']}  until {lock['until'] or 'a complete triage'}")
    return lines


def _limit(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("at least 1")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("history", help="recent sessions, pain by day and week, triage outcomes, locks; "
                              "plot, export, import", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true", help="print the history (with the weekly summary) as JSON")
    p.add_argument("--limit", type=_limit, default=10, help="recent sessions and outcomes shown (default 10)")
    p.add_argument("--plot", metavar="FILE.png|FILE.svg", help="draw pain before/after by day, sessions, "
                   "mornings worse and safety outcomes")
    p.add_argument("--export", metavar="FILE.json|FILE.csv", help="write the whole history (see below)")
    p.add_argument("--import", dest="import_file", metavar="FILE.json", help="restore a JSON export "
                   "into an empty history")
    p.set_defaults(func=_history)
