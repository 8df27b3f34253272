"""The two short check-ins around a session, asked over the same ``DialogIO`` as triage.

- Right after a routine completes: pain now, 0 to 10 (stored as an ``after`` rating).
- On the first start of a day, once there is a "usual" to compare with (a session on an
  earlier day): "Was your pain this morning worse than usual?", a yes/no question
  because the recognizer knows yes/no and numbers only. Yes is ``worse``, no is
  ``usual`` (as usual or better); "not sure", or no usable answer after one repeat,
  is ``unanswered``.

Each question is logged as a ``triage-question`` (ids ``after`` and ``morning``) and
each answer as ``pain-after`` or ``morning-report``, like the baseline's ``pain-baseline``.
"""

from __future__ import annotations

from datetime import datetime

from coach.session.dialog import DialogIO
from coach.store.history import History
from coach.store.records import add_morning_report, morning_asked_today
from coach.triage.dialog import ask_rating, heard_to_answer
from coach.triage.model import TriageContent

AFTER_QUESTION = "Well done. How bad is your pain now, from zero to ten?"
MORNING_QUESTION = "Was your pain this morning worse than usual? Say yes or no."
_MORNING = {"yes": "worse", "no": "usual", "not_sure": "unanswered"}


def line(content: TriageContent, key: str, locale: str, default: str) -> str:
    """A line of the triage content, or the built-in wording when the content has none."""
    return content.line(key, locale) if key in content.lines else default


def ask_after(io: DialogIO, content: TriageContent, history: History | None, session_id: str,
              locale: str) -> int | None:
    """Pain right after the session; stored with context ``after``. None: not answered."""
    return ask_rating(io, content, history, session_id, "after", line(content, "after_question", locale, AFTER_QUESTION))


def ask_morning(io: DialogIO, content: TriageContent, history: History | None, locale: str) -> str:
    """This morning compared with usual: ``worse``, ``usual`` or ``unanswered``, stored."""
    text = line(content, "morning_question", locale, MORNING_QUESTION)
    report = "unanswered"
    for attempt in ("first", "repeat"):
        io.log("triage-question", id="morning", attempt=attempt, context="yesno", text=text)
        answer = heard_to_answer(io.ask(text, "yesno", content.timeout_seconds))
        found = _MORNING.get(answer.kind)
        io.log("morning-report", attempt=attempt, answer=answer.kind, report=found or "unanswered",
               confidence=answer.confidence)
        if found is not None or answer.kind == "stop":
            report = found or "unanswered"
            break
    if history is not None:
        add_morning_report(history, report)
    return report


def morning_due(history: History) -> bool:
    """Not asked yet today, and there is a session on an earlier day to compare with."""
    today = datetime.fromisoformat(history.now_text()).date()
    if morning_asked_today(history):
        return False
    rows = history._rows("SELECT started_at FROM sessions")
    return any(datetime.fromisoformat(r["started_at"]).date() < today for r in rows)
