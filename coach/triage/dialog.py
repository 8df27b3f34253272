"""Triage as a conversation: the pure walker driven over a DialogIO.

The session runner (voice or keys) and ``coach triage`` (a terminal or JSON lines)
both call ``run_triage``, so the same rules speak the same words everywhere.
Every answer is logged and written to history as it is given.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from coach.content.model import Heard
from coach.clock import Clock
from coach.session.dialog import DialogIO, PainReport, TriageResult
from coach.store.history import History
from coach.triage.walker import URGENCY, Answer, Ask, Outcome, Setup, walk
from coach.triage.model import TriageContent

MAX_REPEATS_ASKED = 3           # "repeat" re-asks without counting, this many times
_COMMAND_ANSWERS = {"yes": "yes", "no": "no", "not_sure": "not_sure", "number": "number", "stop": "stop"}


@dataclass(frozen=True)
class Plan:
    mode: str                   # full | recheck
    previous_outcome: str | None


def choose_plan(history: History | None) -> Plan:
    """Decision 10: the short path only after a complete triage earlier today, with nothing locked."""
    if history is None or history.exercise_blocked() is not None:
        return Plan("full", None)
    earlier = [r.outcome for r in history.triages_today() if r.complete and r.outcome in ("b1", "b2", "c")]
    if not earlier:
        return Plan("full", None)
    return Plan("recheck", max(earlier, key=lambda outcome: URGENCY[outcome]))


def heard_to_answer(heard: Heard | None) -> Answer:
    """What the walker sees; "go", "pain", other words and silence are not answers."""
    if heard is None:
        return Answer("unknown", confidence=0.0)
    kind = _COMMAND_ANSWERS.get(heard.command, "unknown")
    value = heard.value if kind == "number" else None
    return Answer(kind, value, heard.confidence)


def format_script(content: TriageContent, outcome: Outcome, locale: str) -> str:
    """The outcome script for the locale, with numbers, reason and signs filled in."""
    key = "b2-end" if outcome.outcome == "b2" and outcome.session_action == "end" else outcome.outcome
    place = content.locale(locale)
    reason, ces = "", False
    for question in content.questions:
        if outcome.reasons and question.reason == outcome.reasons[0] and question.sign is not None:
            reason, ces = question.sign.get(locale), question.ces
    signs = "; ".join(content.question(qid).sign.get(locale) for qid in outcome.sign_ids)  # type: ignore[union-attr]
    text = content.outcomes[key].get(locale).format(
        emergency_number=place.emergency_number, urgent_line=place.urgent_line, reason=reason,
        ces_line=content.line("ces_line", locale) if ces else "", signs=signs)
    return re.sub(r"\s{2,}", " ", text).strip()


class _Conversation:
    def __init__(self, io: DialogIO, content: TriageContent, history: History | None, clock: Clock,
                 triage_id: str, report: PainReport) -> None:
        self.io, self.content, self.history, self.clock = io, content, history, clock
        self.triage_id, self.report = triage_id, report

    def listen(self, text: str, context: str, question_id: str, attempt: str) -> Heard | None:
        heard: Heard | None = None
        for _ in range(MAX_REPEATS_ASKED + 1):
            self.io.log("triage-question", triage_id=self.triage_id, id=question_id, attempt=attempt,
                        context=context, text=text)
            heard = self.io.ask(text, context, self.content.timeout_seconds)
            if heard is None or heard.command != "repeat":
                break
        return heard

    def rest(self, seconds: float) -> Heard | None:
        """Wait through the rest; a DialogIO with ``wait(seconds)`` keeps listening and
        returns "stop" or pain at once (either ends the rest)."""
        wait = getattr(self.io, "wait", None)
        if wait is None:
            self.clock.sleep(seconds)
            return None
        heard = wait(seconds)
        return heard if heard is not None and heard.command in ("stop", "pain") else None

    def answer(self, ask: Ask) -> Answer:
        for line in ask.preamble:
            self.io.say(line)
        early = self.rest(ask.rest_seconds_before) if ask.rest_seconds_before > 0 else None
        if early is not None and early.command == "pain":
            early = None        # pain in the rest: ask about it now
        heard = early or self.listen(ask.text, ask.context, ask.question_id, ask.attempt)
        answer = heard_to_answer(heard)
        self.record(ask.question_id, ask.attempt, answer, heard)
        return answer

    def record(self, question_id: str, attempt: str, answer: Answer, heard: Heard | None) -> None:
        heard_text = heard.text if heard else ""
        self.io.log("triage-answer", triage_id=self.triage_id, id=question_id, attempt=attempt,
                    answer=answer.kind, value=answer.value, confidence=answer.confidence, heard=heard_text,
                    heard_command=heard.command if heard else None)
        if self.history is None:
            return
        self.history.add_triage_answer(self.triage_id, question_id, attempt, answer.kind, answer.value,
                                       answer.confidence, heard_text)
        if answer.kind == "number" and answer.value is not None and question_id in ("S2", "S2R", "resume"):
            context = {"S2": "halt", "S2R": "after-rest", "resume": "before-resume"}[question_id]
            self.history.add_pain_rating(answer.value, context, self.report.session_id, self.triage_id)


def run_triage(io: DialogIO, report: PainReport, content: TriageContent, profile: object,
               history: History | None, locale: str | None, clock: Clock, *,
               baseline_rating: int | None = None, offer_resume: bool = True,
               triage_id: str | None = None) -> TriageResult:
    """Halt, ask, speak the outcome, record it; tell the session what to do next.

    ``profile`` is a ``coach.triage.profile.Profile`` or an iterable of flag names. After
    outcome c inside a session the person rests, re-rates and must say "go" to
    carry on (section 3.5); ``offer_resume=False`` leaves that to the caller.
    """
    locale = locale or content.default_locale
    flags = frozenset(getattr(profile, "flags", profile) or ())
    triage_id = triage_id or uuid.uuid4().hex
    plan = choose_plan(history)
    if baseline_rating is None and history is not None:
        baseline_rating = history.session_baseline(report.session_id)
    if history is not None:
        history.start_triage(triage_id, report.session_id, report.exercise_id, report.trigger, plan.mode)
    io.log("triage-started", triage_id=triage_id, trigger=report.trigger, text=report.text,
           exercise_id=report.exercise_id, mode=plan.mode, profile=sorted(flags), locale=locale)
    io.say(content.line("halt", locale))
    io.say(content.line("instruction", locale))
    talk = _Conversation(io, content, history, clock, triage_id, report)
    setup = Setup(content, flags, plan.mode, locale, baseline_rating, plan.previous_outcome)
    outcome, _given = walk(setup, talk.answer)
    script = format_script(content, outcome, locale)
    io.say(script)
    skip = _skip_ids(report, history)
    io.log("triage-outcome", triage_id=triage_id, outcome=outcome.outcome, reasons=list(outcome.reasons),
           session_action=outcome.session_action, unknowns=list(outcome.unknowns), mode=plan.mode,
           short_path=outcome.short_path, pain_rating=outcome.pain_rating,
           pain_after_rest=outcome.pain_after_rest, skip_exercise_ids=list(skip), script=script)
    if history is not None:
        history.finish_triage(triage_id, outcome.outcome, outcome.session_action, outcome.reasons,
                              outcome.complete, plan.mode, report.session_id, report.exercise_id,
                              skip if outcome.session_action in ("continue", "skip-exercise") else ())
    action = outcome.session_action
    if action == "continue" and offer_resume and report.session_id:
        action = _offer_resume(talk, content, locale, baseline_rating)
    return TriageResult(outcome.outcome, action, outcome.reasons, skip, script)  # type: ignore[arg-type]


def _skip_ids(report: PainReport, history: History | None) -> tuple[str, ...]:
    ids = [report.exercise_id] if report.exercise_id else []
    if history is not None and report.session_id:
        ids += [lock.exercise_id for lock in history.active_locks(report.session_id)
                if lock.kind == "session-exercise" and lock.exercise_id]
    return tuple(dict.fromkeys(ids))


def _offer_resume(talk: _Conversation, content: TriageContent, locale: str, baseline: int | None) -> str:
    """Rest, re-rate; carry on only within reach of the baseline and after "go".
    "stop" or pain at any point (the rest, the rating, the prompt) ends the session:
    pain is the cautious answer to whether to carry on."""
    rules = content.pain_rules
    talk.io.say(content.line("rest", locale))
    early = talk.rest(float(rules.rest_seconds))
    rating: int | None = None
    urgent = False
    text = content.question("S2R").text.get(locale)
    for attempt in ("first", "repeat"):
        heard = early or talk.listen(text, "number", "resume", attempt)
        answer = heard_to_answer(heard)
        talk.record("resume", attempt, answer, heard)
        if answer.kind == "number" and answer.value is not None and 0 <= answer.value <= rules.scale_max:
            rating = answer.value
            break
        if heard is not None and heard.command in ("stop", "pain"):
            urgent = True
            break
    within = not urgent and rating is not None and baseline is not None and rating <= baseline + rules.resume_within
    if within:
        heard = talk.listen(content.line("resume_prompt", locale), "session", "resume-go", "first")
        talk.record("resume-go", "first", heard_to_answer(heard), heard)
        if heard is not None and heard.command in ("resume", "go"):
            talk.io.log("triage-resume", resumed=True, rating=rating, baseline=baseline)
            return "continue"
    talk.io.say(content.line("session_ended", locale))
    talk.io.log("triage-resume", resumed=False, rating=rating, baseline=baseline)
    return "end"


def exercise_gate(content: TriageContent, history: History, profile: Any, locale: str) -> str | None:
    """What to say instead of starting a session, or None when exercise may start."""
    lock = history.exercise_blocked()
    if lock is not None:
        return content.line("locked_today" if lock.kind == "today" else "locked_exercise", locale)
    for item in getattr(profile, "advice", lambda _content: [])(content):
        if item.blocks_programme:
            return item.script.get(locale)
    return None


def ask_baseline(io: DialogIO, content: TriageContent, history: History | None, session_id: str,
                 locale: str) -> int | None:
    """The session's baseline rating (decision 9 compares later ratings with it)."""
    return ask_rating(io, content, history, session_id, "baseline", content.line("baseline_question", locale))


def ask_rating(io: DialogIO, content: TriageContent, history: History | None, session_id: str,
               context: str, text: str) -> int | None:
    """A 0 to 10 rating outside the safety questions, asked once and repeated once,
    logged as ``pain-<context>`` and stored with that context. None: not answered."""
    for attempt in ("first", "repeat"):
        io.log("triage-question", id=context, attempt=attempt, context="number", text=text)
        answer = heard_to_answer(io.ask(text, "number", content.timeout_seconds))
        io.log(f"pain-{context}", attempt=attempt, answer=answer.kind, value=answer.value,
               confidence=answer.confidence)
        if answer.kind == "number" and answer.value is not None and 0 <= answer.value <= content.pain_rules.scale_max:
            if history is not None:
                history.add_pain_rating(answer.value, context, session_id)
            return answer.value
        if answer.kind == "stop":
            return None
    return None
    return None
