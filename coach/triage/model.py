"""What content/triage.yaml holds, as plain data: questions, scripts per locale,
pain rules and outcomes. ``coach.triage.content`` reads and checks the file into it;
the triage, the profile and the session only ever see these types."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

FLAGS: tuple[str, ...] = ("cancer_history", "fracture_risk", "immune_risk", "hip_replacement", "pregnant", "under_16")
OUTCOMES: tuple[str, ...] = ("a", "a-unconfirmed", "incomplete", "b1", "b2", "b2-end", "c")
LINES: tuple[str, ...] = ("halt", "instruction", "privacy", "not_understood", "rest", "resume_prompt",
                          "session_ended", "ces_line", "safety_net", "disclaimer", "profile_intro",
                          "locked_exercise", "locked_today", "baseline_question", "after_question",
                          "morning_question")


@dataclass(frozen=True)
class Localized:
    """Text for each locale; the key "*" holds text shared by every locale."""

    texts: Mapping[str, str]

    def get(self, locale: str) -> str:
        if locale in self.texts:
            return self.texts[locale]
        if "*" in self.texts:
            return self.texts["*"]
        return next(iter(self.texts.values()))

    def all(self) -> tuple[str, ...]:
        return tuple(self.texts.values())


@dataclass(frozen=True)
class Question:
    id: str
    tier: str
    text: Localized
    route: str
    reason: str
    sources: tuple[str, ...]
    context: str = "yesno"
    clarifier: Localized | None = None
    sign: Localized | None = None
    requires: str | None = None
    intimate: bool = False
    ces: bool = False
    session_action: str | None = None


@dataclass(frozen=True)
class Locale:
    id: str
    name: str
    emergency_number: str
    urgent_line: str


@dataclass(frozen=True)
class PainRules:
    scale_max: int
    rise_stops_exercise: int
    severe_at_least: int
    rest_seconds: float
    resume_within: int


@dataclass(frozen=True)
class Recheck:
    id: str
    text: Localized
    still_ask: tuple[str, ...]


@dataclass(frozen=True)
class ProfileQuestion:
    id: str
    text: Localized
    sets: tuple[str, ...]


@dataclass(frozen=True)
class ProfileAdvice:
    flag: str
    blocks_programme: bool
    script: Localized


@dataclass(frozen=True)
class TriageContent:
    path: str
    default_locale: str
    locales: Mapping[str, Locale]
    lines: Mapping[str, Localized]
    low_confidence_no_below: float
    timeout_seconds: float
    pain_rules: PainRules
    recheck: Recheck
    questions: tuple[Question, ...]
    outcomes: Mapping[str, Localized]
    profile_questions: tuple[ProfileQuestion, ...]
    profile_advice: Mapping[str, ProfileAdvice]
    sources: Mapping[str, tuple[str, str]]

    def question(self, question_id: str) -> Question:
        for question in self.questions:
            if question.id == question_id:
                return question
        raise KeyError(question_id)

    def line(self, key: str, locale: str) -> str:
        return self.lines[key].get(locale)

    def locale(self, locale_id: str | None) -> Locale:
        return self.locales[locale_id or self.default_locale]
