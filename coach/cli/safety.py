"""Safety around a session, composed from ``coach.triage.dialog`` and the history:
the exercise gate before it starts, the baseline pain rating at its start, triage
on pain, and the history of the session written as it happens.

Without ``triage.yaml`` in the content folder a session still runs, and pain ends
it with the stop message (the more cautious fallback).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from coach.clock import Clock
from coach.session.dialog import DialogIO, PainReport, TriageResult
from coach.store.history import FILE_NAME, History
from coach.cli.settings import Settings
from coach.triage.content import default_triage_path, load_triage
from coach.triage.model import TriageContent

RATING_CONTEXT = "session"       # a rating volunteered during the routine, in history


@dataclass(frozen=True)
class Safety:
    content: TriageContent
    locale: str
    history_path: Path
    session_id: str

    def history(self) -> History:
        return History(self.history_path)


def open_safety(settings: Settings, session_id: str) -> Safety | None:
    """The triage content and history for this session; None when the content has no triage."""
    path = default_triage_path(settings.content_dir)
    if not path.exists():
        return None
    content = load_triage(path)          # ContentError: one line per problem, exit 2
    locale = settings.locale if settings.locale in content.locales else content.default_locale
    return Safety(content, locale, Path(settings.data_dir) / FILE_NAME, session_id)


def gate_line(safety: Safety) -> str | None:
    """What to say instead of starting (a lock from an earlier triage, or the profile's advice)."""
    from coach.triage.profile import load_profile
    from coach.triage.dialog import exercise_gate

    with safety.history() as history:
        return exercise_gate(safety.content, history, load_profile(history), safety.locale)


def baseline_hook(safety: Safety) -> Callable[[DialogIO], int | None]:
    """Asks the session's baseline rating (decision 9) and stores it, so triage compares with it."""
    from coach.triage.dialog import ask_baseline

    def ask(io: DialogIO) -> int | None:
        with safety.history() as history:
            return ask_baseline(io, safety.content, history, safety.session_id, safety.locale)

    return ask


def given_baseline(safety: Safety, value: int) -> Callable[[DialogIO], int | None]:
    """A baseline given on the command line (``--baseline``): stored, not asked."""
    def ask(io: DialogIO) -> int | None:
        io.log("pain-baseline", attempt="given", answer="number", value=value, confidence=1.0)
        with safety.history() as history:
            history.add_pain_rating(value, "baseline", safety.session_id)
        return value

    return ask


def pain_hook(settings: Settings, safety: Safety, clock: Clock) -> Any:
    return make_pain_hook(settings, safety.session_id, clock)


def make_pain_hook(settings: Any, session_id: str, clock: Clock) -> Callable[[DialogIO, PainReport], TriageResult]:
    """``on_pain(io, report)`` for the runner: content, history and profile from settings."""
    from coach.triage.dialog import run_triage
    from coach.triage.profile import load_profile

    content = load_triage(default_triage_path(settings.content_dir))
    locale = settings.locale if settings.locale in content.locales else content.default_locale
    path = Path(settings.data_dir) / FILE_NAME
    with History(path) as history:
        history.start_session(session_id, None)

    def on_pain(io: DialogIO, report: PainReport) -> TriageResult:
        with History(path) as history:
            report = report if report.session_id else replace(report, session_id=session_id)
            return run_triage(io, report, content, load_profile(history), history, locale, clock,
                              offer_resume=not report.routine_done)

    return on_pain


def after_hook(safety: Safety) -> Callable[[DialogIO], int | None]:
    """Asks the pain rating right after a completed routine and stores it (context ``after``)."""
    from coach.triage.checkin import ask_after

    def ask(io: DialogIO) -> int | None:
        with safety.history() as history:
            return ask_after(io, safety.content, history, safety.session_id, safety.locale)

    return ask


def morning_hook(safety: Safety) -> Callable[[DialogIO], str] | None:
    """This morning compared with usual, when due today (``coach.triage.checkin.morning_due``)."""
    from coach.triage.checkin import ask_morning, morning_due

    with safety.history() as history:
        if not morning_due(history):
            return None

    def ask(io: DialogIO) -> str:
        with safety.history() as history:
            return ask_morning(io, safety.content, history, safety.locale)

    return ask


def record_session(safety: Safety, routine_id: str, stack: ExitStack,
                   dose: str | None = None) -> Callable[[dict[str, Any]], None]:
    """Start the session in history now; the returned event listener (for
    ``EventLog.subscribe``) records ratings given during it and how it ended."""
    history = stack.enter_context(safety.history())
    history.start_session(safety.session_id, routine_id, dose)

    def on_event(record: dict[str, Any]) -> None:
        if record["type"] == "pain-rating" and record.get("value") is not None:
            history.add_pain_rating(int(record["value"]), RATING_CONTEXT, safety.session_id)
        elif record["type"] == "session-ended":
            history.end_session(safety.session_id, str(record.get("reason", "")))

    return on_event
