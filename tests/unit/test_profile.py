"""Onboarding answers → flags → advice (T43, T44, decision 6) and storage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from coach.listen.asr import Heard
from coach.errors import UsageError
from coach.store.history import History
from coach.triage.profile import (Profile, advice_scripts, ask_onboarding, flags_from_answers, load_profile, parse_flags,
                           parse_settings, save_answers, save_flags)
from coach.triage.content import load_triage
from coach.triage.model import FLAGS

CONTENT = load_triage(Path(__file__).resolve().parents[2] / "content" / "triage.yaml")
ALL_NO = {q.id: "no" for q in CONTENT.profile_questions}


class ScriptedIO:
    def __init__(self, answers: list[Heard | None]) -> None:
        self.answers = list(answers)
        self.asked: list[tuple[str, str]] = []
        self.said: list[str] = []

    def say(self, text: str) -> None:
        self.said.append(text)

    def ask(self, text: str, context: str, timeout_seconds: float) -> Heard | None:
        self.asked.append((text, context))
        return self.answers.pop(0) if self.answers else None

    def log(self, event_type: str, **fields: Any) -> None:
        pass


def test_questions_the_decisions_keep():
    texts = " ".join(q.text.get("en-US") for q in CONTENT.profile_questions).lower()
    for words in ("under sixteen", "pregnant", "cancer", "osteoporosis", "steroid", "sixty-five", "immune",
                  "hip replacement"):
        assert words in texts


@pytest.mark.parametrize("qid, flags", [
    ("P4", {"fracture_risk"}), ("P5", {"fracture_risk", "immune_risk"}), ("P6", {"fracture_risk"}),
    ("P3", {"cancer_history"}), ("P7", {"immune_risk"}), ("P10", {"hip_replacement"}),
    ("P1", {"under_16"}), ("P2", {"pregnant"}),
])
def test_each_answer_sets_its_flags(qid, flags):
    result = flags_from_answers(CONTENT, {**ALL_NO, qid: "yes"})
    assert {flag for flag, on in result.items() if on} == flags
    assert set(result) == set(FLAGS)


def test_unclear_answers_count_as_yes():
    result = flags_from_answers(CONTENT, {**ALL_NO, "P6": "not_sure", "P2": "unknown"})
    assert result["fracture_risk"] and result["pregnant"]


@pytest.mark.parametrize("flag", ["under_16", "pregnant"])
def test_t43_t44_no_programme_and_b2_advice(flag):
    profile = Profile(frozenset({flag}))
    assert profile.blocks_programme(CONTENT)
    [script] = advice_scripts(profile, CONTENT, "en-GB")
    assert "won't start a programme" in script and "next week or two" in script
    assert script.endswith(CONTENT.line("disclaimer", "en-GB"))


def test_cancer_history_advises_clearance_but_allows_the_programme():
    profile = Profile(frozenset({"cancer_history"}))
    assert not profile.blocks_programme(CONTENT)
    [script] = advice_scripts(profile, CONTENT, "en-US")
    assert "check with your doctor" in script


def test_other_flags_give_no_advice():
    assert advice_scripts(Profile(frozenset({"fracture_risk", "immune_risk"})), CONTENT, "en-US") == []


def test_onboarding_by_dialog_and_storage(tmp_path):
    heard = [Heard("no")] * 2 + [Heard("yes")] + [None, None] + [Heard("no")] * 4
    io = ScriptedIO(heard)
    onboarding = ask_onboarding(io, CONTENT, "en-US")
    answers = onboarding.answers
    assert not onboarding.stopped
    assert io.said[0] == CONTENT.line("profile_intro", "en-US")
    assert all(context == "yesno" for _, context in io.asked)
    assert answers["P3"] == "yes" and answers["P4"] == "unknown" and answers["P1"] == "no"
    with History(tmp_path / "h.sqlite3") as history:
        save_answers(history, CONTENT, answers)
        profile = load_profile(history)
    assert profile.flags == {"cancer_history", "fracture_risk"} and profile.known
    assert profile.answers["P4"] == "unknown"


def test_stop_ends_onboarding_early():
    onboarding = ask_onboarding(ScriptedIO([Heard("no"), Heard("stop")]), CONTENT, "en-US")
    assert onboarding.answers == {"P1": "no"} and onboarding.stopped


def test_set_flags_directly(tmp_path):
    with History(tmp_path / "h.sqlite3") as history:
        assert load_profile(history) == Profile()
        save_flags(history, parse_settings("pregnant=yes, hip_replacement=no"))
        assert load_profile(history).flags == {"pregnant"}
        save_flags(history, parse_settings("pregnant=no"))
        assert load_profile(history).flags == frozenset()


@pytest.mark.parametrize("text", ["pregnant", "pregnant=maybe", "cancer=yes"])
def test_bad_settings_are_usage_errors(text):
    with pytest.raises(UsageError):
        parse_settings(text)


def test_parse_flags():
    assert parse_flags("cancer_history, fracture_risk") == {"cancer_history", "fracture_risk"}
    assert parse_flags("") == frozenset()
    with pytest.raises(UsageError):
        parse_flags("cancer_hx")
