"""``coach triage`` and ``coach profile`` (``coach history`` is in ``coach.cli.history``).

Triage runs through the same ``run_triage`` as a session, over a DialogIO that
reads answers from standard input: one line per question, or JSON lines for
scripts (``--json``). End of input counts as no usable answer.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import Any, TextIO

import coach
from coach.content.model import Heard
from coach.clock import SystemClock
from coach.session.dialog import PainReport
from coach.errors import EXIT_OK, EXIT_SAFETY_STOP, UsageError
from coach.store.history import History
from coach.triage.profile import (Profile, advice_scripts, ask_onboarding, load_profile, parse_flags, parse_settings,
                           save_answers, save_flags)
from coach.triage.walker import LOCKING_OUTCOMES
from coach.triage.content import default_triage_path, load_triage
from coach.triage.model import FLAGS, TriageContent
from coach.triage.dialog import run_triage

NUMBER_WORDS: tuple[str, ...] = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                                 "nine", "ten")
_WORDS: dict[str, str] = {
    "yes": "yes", "y": "yes", "yeah": "yes", "yep": "yes",
    "no": "no", "n": "no", "nope": "no",
    "not sure": "not_sure", "not_sure": "not_sure", "unsure": "not_sure", "i don't know": "not_sure",
    "don't know": "not_sure", "maybe": "not_sure",
    "stop": "stop", "repeat": "repeat", "again": "repeat", "go": "resume",
}
_HINTS = {"yesno": "yes / no / not sure / stop", "number": "0-10 / stop"}


def parse_answer(line: str | None) -> Heard | None:
    """One typed line as a command; None at end of input; unknown words are not answers."""
    if line is None:
        return None
    text = " ".join(line.strip().lower().replace("\u2019", "'").split())
    if text in _WORDS:
        return Heard(_WORDS[text], text=text, source="keyboard")
    value = int(text) if text.isdigit() else (NUMBER_WORDS.index(text) if text in NUMBER_WORDS else None)
    if value is not None and 0 <= value <= 10:
        return Heard("number", value=value, text=text, source="keyboard")
    return Heard("not_understood", text=text, confidence=0.0, source="keyboard")


class TextDialogIO:
    """DialogIO over a terminal or JSON lines; the question id comes from the triage log."""

    def __init__(self, stdin: TextIO, stdout: TextIO, json_lines: bool) -> None:
        self.stdin, self.stdout, self.json_lines = stdin, stdout, json_lines
        self._question_id: str | None = None
        self._ended = False

    def emit(self, record: dict[str, Any]) -> None:
        self.stdout.write(json.dumps(record) + "\n")
        self.stdout.flush()

    def say(self, text: str) -> None:
        if self.json_lines:
            self.emit({"type": "say", "text": text})
        else:
            print(text, file=self.stdout, flush=True)

    def ask(self, text: str, context: str, timeout_seconds: float) -> Heard | None:
        if self.json_lines:
            self.emit({"type": "question", "id": self._question_id, "text": text, "context": context})
        else:
            print(f"{text} ({_HINTS.get(context, 'go / stop')})", file=self.stdout, flush=True)
        self._question_id = None
        if self._ended:
            return None
        line = self.stdin.readline()
        if line == "":
            self._ended = True
            return None
        return parse_answer(line)

    def log(self, event_type: str, **fields: Any) -> None:
        if event_type == "triage-question":
            self._question_id = fields.get("id")


def content_dir(args: argparse.Namespace) -> Path:
    if getattr(args, "content_dir", None):
        return Path(args.content_dir)
    configured = os.environ.get("COACH_CONTENT_DIR")
    return Path(configured) if configured else Path(coach.__file__).resolve().parent.parent / "content"


def _content(args: argparse.Namespace) -> TriageContent:
    content = load_triage(default_triage_path(content_dir(args)))
    if args.locale and args.locale not in content.locales:
        raise UsageError("locale", f"unknown locale {args.locale}; expected {', '.join(content.locales)}")
    return content


def _triage(args: argparse.Namespace) -> int:
    if args.input == "voice":
        raise UsageError("triage-voice", "voice answers for triage run inside a session (coach run); "
                         "use --input keyboard here")
    content = _content(args)
    if args.rest_seconds is not None:
        rules = dataclasses.replace(content.pain_rules, rest_seconds=args.rest_seconds)
        content = dataclasses.replace(content, pain_rules=rules)
    locale = args.locale or content.default_locale
    io = TextDialogIO(sys.stdin, sys.stdout, args.json)
    with History.open_default() as history:
        profile: Profile | frozenset[str] = (parse_flags(args.profile) if args.profile is not None
                                             else load_profile(history))
        report = PainReport(trigger="keyboard", text="coach triage", exercise_id=args.exercise)
        result = run_triage(io, report, content, profile, history, locale, SystemClock(),
                            baseline_rating=args.baseline, offer_resume=False)
    if args.json:
        io.emit({"type": "outcome", "outcome": result.outcome, "reasons": list(result.reasons),
                  "script": result.script, "session_action": result.session_action})
    return EXIT_SAFETY_STOP if result.outcome in LOCKING_OUTCOMES else EXIT_OK


def _profile(args: argparse.Namespace) -> int:
    content = _content(args)
    locale = args.locale or content.default_locale
    with History.open_default() as history:
        if args.set:
            save_flags(history, parse_settings(args.set))
        elif not args.show:
            onboarding = ask_onboarding(TextDialogIO(sys.stdin, sys.stdout, False), content, locale)
            save_answers(history, content, onboarding.answers)
            if onboarding.stopped:
                print("Stopped. The answers given so far are kept; run coach profile again to finish.")
                return EXIT_SAFETY_STOP
        profile = load_profile(history)
    scripts = advice_scripts(profile, content, locale)
    if args.json:
        print(json.dumps({"flags": sorted(profile.flags), "answers": dict(profile.answers),
                          "programme_allowed": not profile.blocks_programme(content), "advice": scripts}))
    else:
        for flag in FLAGS:
            print(f"{flag}: {'yes' if flag in profile.flags else 'no'}")
        for script in scripts:
            print(script)
    return EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    triage = subparsers.add_parser("triage", help="answer the pain safety questions on their own")
    triage.add_argument("--input", choices=("keyboard", "voice"), default="keyboard")
    triage.add_argument("--json", action="store_true", help="JSON lines out, one answer line in per question")
    triage.add_argument("--profile", metavar="FLAG,FLAG", help=f"profile flags ({', '.join(FLAGS)}); "
                        "default: the stored profile")
    triage.add_argument("--locale", help="en-US (default) or en-GB")
    triage.add_argument("--exercise", help="the exercise that hurt")
    triage.add_argument("--baseline", type=int, choices=range(11), metavar="0-10",
                        help="pain rating before exercise")
    triage.add_argument("--rest-seconds", type=float, help=argparse.SUPPRESS)
    triage.set_defaults(func=_triage)

    profile = subparsers.add_parser("profile", help="answer or show the onboarding questions",
                                    epilog="Exit status: 0 done, 10 ended by stop (the answers given so far are "
                                           "kept), 2 bad arguments.")
    profile.add_argument("--set", metavar="FLAG=yes,...", help="set flags without questions")
    profile.add_argument("--show", action="store_true", help="show the stored profile")
    profile.add_argument("--json", action="store_true")
    profile.add_argument("--locale", help="en-US (default) or en-GB")
    profile.set_defaults(func=_profile)
