"""The person's answers at onboarding, and the flags that change triage.

Flags: cancer_history, fracture_risk (65 or over, osteoporosis, or long-term
steroid tablets), immune_risk, hip_replacement, pregnant, under_16. Under 16 or
pregnant means no programme (b2 advice); cancer history means clinician
clearance first (decision 6). An unclear answer counts as "yes".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from coach.session.dialog import DialogIO
from coach.errors import UsageError
from coach.store.history import History
from coach.triage.model import FLAGS, ProfileAdvice, TriageContent
from coach.triage.dialog import heard_to_answer

_FLAG_KEY = "flag."
_ANSWER_KEY = "answer."
_YES = {"yes", "y", "true", "1", "on"}
_NO = {"no", "n", "false", "0", "off"}


@dataclass(frozen=True)
class Profile:
    flags: frozenset[str] = frozenset()
    answers: Mapping[str, str] = field(default_factory=dict)   # question id -> yes | no | not_sure | unknown
    known: bool = False                                       # anything stored at all

    def advice(self, content: TriageContent) -> list[ProfileAdvice]:
        return [content.profile_advice[flag] for flag in FLAGS
                if flag in self.flags and flag in content.profile_advice]

    def blocks_programme(self, content: TriageContent) -> bool:
        return any(item.blocks_programme for item in self.advice(content))


def flags_from_answers(content: TriageContent, answers: Mapping[str, str]) -> dict[str, bool]:
    """Each flag a question can set: yes when any of its questions was not a clear "no"."""
    result: dict[str, bool] = {}
    for question in content.profile_questions:
        if question.id not in answers:
            continue
        concerning = answers[question.id] != "no"
        for flag in question.sets:
            result[flag] = result.get(flag, False) or concerning
    return result


def parse_flags(text: str) -> frozenset[str]:
    """"cancer_history,fracture_risk" (for ``--profile``)."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in FLAGS]
    if unknown:
        raise UsageError("profile-flag", f"unknown profile flag {', '.join(unknown)}; expected {', '.join(FLAGS)}")
    return frozenset(names)


def parse_settings(text: str) -> dict[str, bool]:
    """"pregnant=no,fracture_risk=yes" (for ``coach profile --set``)."""
    result: dict[str, bool] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, _, value = item.partition("=")
        name, value = name.strip(), value.strip().lower()
        if name not in FLAGS:
            raise UsageError("profile-flag", f"unknown profile flag '{name}'; expected {', '.join(FLAGS)}")
        if value not in _YES | _NO:
            raise UsageError("profile-value", f"'{item}': expected {name}=yes or {name}=no")
        result[name] = value in _YES
    return result


def load_profile(history: History) -> Profile:
    values = history.profile_values()
    flags = frozenset(key[len(_FLAG_KEY):] for key, value in values.items()
                      if key.startswith(_FLAG_KEY) and value == "yes" and key[len(_FLAG_KEY):] in FLAGS)
    answers = {key[len(_ANSWER_KEY):]: value for key, value in values.items() if key.startswith(_ANSWER_KEY)}
    return Profile(flags, answers, bool(values))


def save_flags(history: History, flags: Mapping[str, bool]) -> None:
    history.set_profile({_FLAG_KEY + name: "yes" if on else "no" for name, on in flags.items()})


def save_answers(history: History, content: TriageContent, answers: Mapping[str, str]) -> None:
    values = {_ANSWER_KEY + qid: answer for qid, answer in answers.items()}
    values.update({_FLAG_KEY + name: "yes" if on else "no"
                   for name, on in flags_from_answers(content, answers).items()})
    history.set_profile(values)


@dataclass(frozen=True)
class Onboarding:
    answers: dict[str, str]
    stopped: bool = False        # "stop" ended the questions: the answers so far are kept


def ask_onboarding(io: DialogIO, content: TriageContent, locale: str,
                   only: Iterable[str] | None = None) -> Onboarding:
    """Ask the profile questions; one repeat, then an unclear answer counts as yes."""
    wanted = set(only) if only is not None else None
    io.say(content.line("profile_intro", locale))
    answers: dict[str, str] = {}
    for question in content.profile_questions:
        if wanted is not None and question.id not in wanted:
            continue
        text = question.text.get(locale)
        answer = "unknown"
        for attempt in ("first", "repeat"):
            if attempt == "repeat":
                io.say(content.line("not_understood", locale))
            heard = io.ask(text, "yesno", content.timeout_seconds)
            kind = heard_to_answer(heard).kind
            io.log("profile-answer", id=question.id, attempt=attempt, answer=kind,
                   confidence=heard.confidence if heard else None)
            if kind == "stop":
                return Onboarding(answers, stopped=True)
            if kind in ("yes", "no", "not_sure"):
                answer = kind
                break
        answers[question.id] = answer
    return Onboarding(answers)


def advice_scripts(profile: Profile, content: TriageContent, locale: str) -> list[str]:
    return [item.script.get(locale) for item in profile.advice(content)]
