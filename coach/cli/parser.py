"""The ``coach`` command: argparse subcommands, one line on error, stable exit codes.

Each feature module registers its own subcommands through ``register(subparsers)``
and sets ``func`` (taking the parsed args, returning an exit code).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from coach.errors import EXIT_FAILURE, CoachError

# Modules that add subcommands, in help order. Missing modules are skipped so a
# partial install still runs.
COMMAND_MODULES: tuple[str, ...] = (
    "coach.cli.routines",   # list, show, run, validate
    "coach.cli.speech",     # say, render, devices
    "coach.cli.listen",     # hear, enroll, models
    "coach.cli.triage",     # triage, profile
    "coach.cli.history",    # history (show, plot, export, import)
    "coach.cli.plan",       # today, schedule
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coach",
        description="Offline voice coach for hip and lower back self-care. "
        "A self-care aid, not a medical device.",
    )
    parser.add_argument("--content-dir", help="folder with exercises/, routines/ ... (default: the packaged content)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except CoachError as error:
        print(f"coach: {error.message}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("coach: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_FAILURE
