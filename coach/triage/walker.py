"""The triage walker: answers so far in, the next question or the outcome out.

Pure and replayable: ``next_step`` walks the questions from the start over the
answers given so far, so the dialog only keeps a list. The safety rules live here
(clinical research sections 3-5 and the project decisions): most urgent first,
the first tier-A "yes" ends triage with **a**, a tier-A question without a usable
answer after a repeat and its clarifier ends with **a-unconfirmed**, any other
missing answer counts as "yes", "stop" ends with **incomplete**, and a missing
answer never yields **c**.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from coach.triage.model import Question, TriageContent

ANSWER_KINDS: tuple[str, ...] = ("yes", "no", "not_sure", "number", "unknown", "stop")
URGENCY: dict[str, int] = {"c": 0, "b2": 1, "b1": 2, "a": 3, "a-unconfirmed": 3, "incomplete": 3}
LOCKING_OUTCOMES: frozenset[str] = frozenset({"a", "a-unconfirmed", "incomplete"})


@dataclass(frozen=True)
class Answer:
    """What was heard for one ask; ``value`` only for numbers."""

    kind: str                      # one of ANSWER_KINDS
    value: int | None = None
    confidence: float = 1.0


@dataclass(frozen=True)
class Given:
    question_id: str
    attempt: str                   # first | repeat | clarifier
    answer: Answer


@dataclass(frozen=True)
class Ask:
    question_id: str
    text: str
    attempt: str                   # first | repeat | clarifier
    context: str                   # yesno | number
    preamble: tuple[str, ...] = ()  # lines spoken before the question
    rest_seconds_before: float = 0.0


@dataclass(frozen=True)
class Outcome:
    outcome: str                   # a | a-unconfirmed | incomplete | b1 | b2 | c
    reasons: tuple[str, ...]
    session_action: str            # end | end-today | skip-exercise | continue
    exercise_locked: bool          # all exercise locked until a complete triage
    complete: bool
    sharp_or_shooting: bool = False
    pain_rose: bool = False
    pain_rating: int | None = None
    pain_after_rest: int | None = None
    unknowns: tuple[str, ...] = ()
    sign_ids: tuple[str, ...] = ()  # tier-A questions that apply to this person
    short_path: bool = False


@dataclass(frozen=True)
class Setup:
    content: TriageContent
    profile: frozenset[str] = frozenset()
    mode: str = "full"             # full | recheck
    locale: str | None = None
    baseline_rating: int | None = None
    previous_outcome: str | None = None  # earlier complete triage today (recheck mode)


def next_step(setup: Setup, given: Sequence[Given]) -> Ask | Outcome:
    """The next question to ask, or the outcome once triage is over."""
    walk = _Walk(setup, given)
    try:
        return walk.run()
    except _Need as need:
        return need.ask
    except _Stopped:
        return walk.outcome("incomplete", ("stopped",))


def walk(setup: Setup, answer_for: Callable[[Ask], Answer], max_asks: int = 200) -> tuple[Outcome, list[Given]]:
    """Drive ``next_step`` to the outcome, asking ``answer_for`` each question."""
    given: list[Given] = []
    for _ in range(max_asks):
        step = next_step(setup, given)
        if isinstance(step, Outcome):
            return step, given
        given.append(Given(step.question_id, step.attempt, answer_for(step)))
    raise RuntimeError("triage did not finish")


def applies(question: Question, profile: frozenset[str]) -> bool:
    return question.requires is None or question.requires in profile


def more_urgent(first: str, second: str) -> str:
    return first if URGENCY[first] >= URGENCY[second] else second


class _Need(Exception):
    def __init__(self, ask: Ask) -> None:
        super().__init__(ask.question_id)
        self.ask = ask


class _Stopped(Exception):
    pass


@dataclass
class _State:
    reasons: list[str] = field(default_factory=list)
    routed_b2: bool = False
    unknowns: list[str] = field(default_factory=list)
    b2_end: bool = False
    sharp: bool = False
    rose: bool = False
    rating: int | None = None
    after_rest: int | None = None
    privacy_said: bool = False
    short: bool = False


class _Walk:
    def __init__(self, setup: Setup, given: Sequence[Given]) -> None:
        self.setup = setup
        self.content = setup.content
        self.locale = setup.locale or setup.content.default_locale
        self.given = list(given)
        self.index = 0
        self.state = _State()

    # -- asking ------------------------------------------------------------
    def _answer(self, ask: Ask) -> Answer:
        if self.index >= len(self.given):
            raise _Need(ask)
        given = self.given[self.index]
        if (given.question_id, given.attempt) != (ask.question_id, ask.attempt):
            raise ValueError(f"answer {self.index} is for {given.question_id}/{given.attempt}, "
                             f"but the walk asks {ask.question_id}/{ask.attempt}")
        self.index += 1
        if given.answer.kind == "stop":
            raise _Stopped()
        return given.answer

    def _ask(self, qid: str, text: str, attempt: str, context: str = "yesno",
             preamble: tuple[str, ...] = (), rest_seconds: float = 0.0) -> Answer:
        if attempt == "repeat":
            preamble = (self.content.line("not_understood", self.locale), *preamble)
        return self._answer(Ask(qid, text, attempt, context, preamble, rest_seconds))

    def _classify(self, answer: Answer, tier_a: bool) -> str:
        if answer.kind in ("yes", "not_sure"):
            return "yes"
        if answer.kind == "no":
            low = answer.confidence < self.content.low_confidence_no_below
            return "low_no" if tier_a and low else "no"
        return "unusable"

    def yes_no(self, qid: str, text: str, preamble: tuple[str, ...] = ()) -> str:
        """yes | no | unknown, with one repeat (tier B, S1, recheck)."""
        for attempt in ("first", "repeat"):
            verdict = self._classify(self._ask(qid, text, attempt, preamble=preamble if attempt == "first" else ()),
                                     tier_a=False)
            if verdict != "unusable":
                return verdict
        self.state.unknowns.append(qid)
        return "unknown"

    def tier_a(self, question: Question) -> str:
        """yes | no | unknown: first, repeat, then the clarifier (decision 8)."""
        attempts = ["first", "repeat"] + (["clarifier"] if question.clarifier else [])
        preamble: tuple[str, ...] = ()
        if question.intimate and not self.state.privacy_said:
            preamble = (self.content.line("privacy", self.locale),)
            self.state.privacy_said = True
        step = 0
        while step < len(attempts):
            attempt = attempts[step]
            source = question.clarifier if attempt == "clarifier" else question.text
            assert source is not None
            verdict = self._classify(
                self._ask(question.id, source.get(self.locale), attempt,
                          preamble=preamble if attempt == "first" else ()), tier_a=True)
            if verdict in ("yes", "no"):
                return verdict
            if verdict == "low_no" and "clarifier" in attempts and attempt != "clarifier":
                step = attempts.index("clarifier")
            else:
                step += 1
        self.state.unknowns.append(question.id)
        return "unknown"

    def rating(self, question: Question, preamble: tuple[str, ...] = (), rest_seconds: float = 0.0) -> int | None:
        top = self.content.pain_rules.scale_max
        for attempt in ("first", "repeat"):
            first = attempt == "first"
            answer = self._ask(question.id, question.text.get(self.locale), attempt, "number",
                               preamble if first else (), rest_seconds if first else 0.0)
            if answer.kind == "number" and answer.value is not None and 0 <= answer.value <= top:
                return answer.value
        self.state.unknowns.append(question.id)
        return None

    # -- the walk ------------------------------------------------------------
    def run(self) -> Outcome:
        content, state, rules = self.content, self.state, self.content.pain_rules
        s1 = content.question("S1")
        if self.yes_no(s1.id, s1.text.get(self.locale)) != "no":
            state.sharp = True
            state.reasons.append(s1.reason)
        state.rating = self.rating(content.question("S2"))
        baseline = self.setup.baseline_rating
        if state.rating is not None and baseline is not None and state.rating >= baseline + rules.rise_stops_exercise:
            state.rose = True
            state.reasons.append("pain_rose_above_baseline")
        for question in self._questions():
            if question.tier == "A":
                verdict = self.tier_a(question)
                if verdict == "yes":
                    return self.outcome("a", (question.reason,))
                if verdict == "unknown":
                    return self.outcome("a-unconfirmed", ("no_answer_" + question.reason,))
            elif question.tier in ("B1", "B2"):
                if self.yes_no(question.id, question.text.get(self.locale)) == "no":
                    continue
                if question.tier == "B1":
                    return self.outcome("b1", (question.reason,))
                state.reasons.append(question.reason)
                state.routed_b2 = True
                state.b2_end = state.b2_end or question.session_action == "end"
        return self._finish()

    def _questions(self) -> list[Question]:
        profile = self.setup.profile
        asked = [q for q in self.content.questions if q.tier != "characterise" and applies(q, profile)]
        if self.setup.mode != "recheck":
            return asked
        recheck = self.content.recheck
        if self.yes_no(recheck.id, recheck.text.get(self.locale)) == "no":
            self.state.short = True
            return [q for q in asked if q.id in recheck.still_ask]
        return asked

    def _finish(self) -> Outcome:
        state, rules = self.state, self.content.pain_rules
        if state.rating is None:
            self._route_b2_end("pain_rating_unknown")
        elif state.rating >= rules.severe_at_least:
            state.after_rest = self.rating(
                self.content.question("S2R"), (self.content.line("rest", self.locale),), float(rules.rest_seconds))
            if state.after_rest is None or state.after_rest >= rules.severe_at_least:
                self._route_b2_end("severe_pain_persists_after_rest")
        if "S1" in state.unknowns:
            # S1 unheard counts as sharp pain, and a missing answer never gives c.
            self._route_b2_end("no_answer_S1")
        outcome = "b2" if state.routed_b2 else "c"
        previous = self.setup.previous_outcome
        if previous in ("b1", "b2") and URGENCY[previous] > URGENCY[outcome]:
            # advice given earlier today still stands, short path or not
            state.reasons.append("earlier_today_" + previous)
            outcome = previous
        return self.outcome(outcome, ())

    def _route_b2_end(self, reason: str) -> None:
        self.state.reasons.append(reason)
        self.state.routed_b2 = True
        self.state.b2_end = True

    def outcome(self, outcome: str, reasons: tuple[str, ...]) -> Outcome:
        state = self.state
        if outcome in LOCKING_OUTCOMES:
            action = "end"
        elif outcome == "b1":
            action = "end-today"
        elif outcome == "b2":
            action = "end" if state.b2_end else "skip-exercise"
        else:
            action = "continue"
        signs = tuple(q.id for q in self.content.questions if q.tier == "A" and applies(q, self.setup.profile))
        all_reasons = tuple(dict.fromkeys((*reasons, *state.reasons)))
        return Outcome(
            outcome=outcome, reasons=all_reasons, session_action=action,
            exercise_locked=outcome in LOCKING_OUTCOMES, complete=outcome not in ("a-unconfirmed", "incomplete"),
            sharp_or_shooting=state.sharp, pain_rose=state.rose, pain_rating=state.rating,
            pain_after_rest=state.after_rest, unknowns=tuple(state.unknowns), sign_ids=signs,
            short_path=state.short)
