"""content/triage.yaml: it loads, obeys the lint rules of section 8.4, and broken
copies are reported as file:line: field: message."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from coach.errors import ContentError
from coach.triage.content import check_triage, load_triage
from coach.triage.lint import BANNED_WORDS, MAX_QUESTION_WORDS, placeholders
from coach.triage.model import FLAGS

CONTENT_PATH = Path(__file__).resolve().parents[2] / "content" / "triage.yaml"
ORIGINAL = CONTENT_PATH.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def content():
    return load_triage(CONTENT_PATH)


def broken(tmp_path: Path, old: str, new: str, count: int = 1) -> list[str]:
    assert ORIGINAL.count(old) >= count, old
    path = tmp_path / "triage.yaml"
    path.write_text(ORIGINAL.replace(old, new, count), encoding="utf-8")
    return check_triage(path)


def line_of(text: str) -> int:
    return ORIGINAL[: ORIGINAL.index(text)].count("\n") + 1


def test_real_file_is_clean():
    assert check_triage(CONTENT_PATH) == []


def test_every_question_the_decisions_keep(content):
    ids = {q.id for q in content.questions}
    expected = {"S1", "S2", *(f"A{i}" for i in range(1, 19)), *(f"B{i}" for i in range(1, 11)),
                *(f"C{i}" for i in range(1, 10))}
    assert expected <= ids
    assert content.recheck.still_ask == ("A4", "A5", "A7", "A10", "A11")
    profile_flags = {flag for q in content.profile_questions for flag in q.sets}
    assert profile_flags == set(FLAGS)


def test_gated_questions_need_their_flags(content):
    gates = {q.id: q.requires for q in content.questions if q.requires}
    assert gates == {"A14": "fracture_risk", "A17": "cancer_history", "A18": "hip_replacement",
                     "B1": "cancer_history", "B2": "immune_risk", "C8": "hip_replacement"}


def test_clarifiers_where_the_research_gives_them(content):
    assert {q.id for q in content.questions if q.clarifier} == {"A4", "A7", "A16"}


def test_lint_properties_hold_for_every_locale(content):
    for question in content.questions:
        assert question.sources and all(s in content.sources for s in question.sources)
        for text in question.text.all() + (question.clarifier.all() if question.clarifier else ()):
            assert len(text.split()) <= MAX_QUESTION_WORDS
            assert not set(re.findall(r"[a-z]+", text.lower())) & set(BANNED_WORDS)
        if question.tier == "A":
            assert question.route == "a"
    for locale in content.locales:
        disclaimer = content.line("disclaimer", locale)
        for name, script in content.outcomes.items():
            assert script.get(locale).endswith(disclaimer), name
        for name in ("b1", "b2", "c", "incomplete"):
            assert content.line("safety_net", locale) in content.outcomes[name].get(locale)
        assert "{signs}" in content.outcomes["a-unconfirmed"].get(locale)
    assert (content.locale("en-US").emergency_number, content.locale("en-GB").emergency_number) == ("911", "999")
    assert content.locale("en-GB").urgent_line == "111"
    assert content.default_locale == "en-US"


def test_pain_rule_numbers_are_data(content):
    rules = content.pain_rules
    assert (rules.scale_max, rules.rise_stops_exercise, rules.severe_at_least, rules.rest_seconds) == (10, 2, 7, 120)


def test_placeholders():
    assert placeholders("Call {emergency_number} or {urgent_line}.") == {"emergency_number", "urgent_line"}


@pytest.mark.parametrize("old, new, field, message", [
    ('    sources: [nhs-back-pain]\n  - id: A2', '    sources: []\n  - id: A2', "questions[3].sources",
     "at least 1"),
    ('    sources: [nhs-back-pain]\n  - id: A2', '    sources: [nowhere]\n  - id: A2', "questions[3].sources",
     "'nowhere'"),
    ('text: "Do you have any chest pain right now?"',
     'text: "Do you have any chest pain right now, or any pain at all in your chest or arms or jaw or neck today?"',
     "questions[3].text", "words"),
    ('text: "Do you feel generally unwell?"', 'text: "Do you have sciatica?"', "questions[28].text",
     "jargon 'sciatica'"),
    ('clarifier: "Do you feel feverish?"', 'clarifier: "Any saddle numbness?"', "questions[20].clarifier",
     "jargon 'saddle'"),
    ('    sign: "chest pain"\n    route: a', '    sign: "chest pain"\n    route: b1', "questions[3].route",
     "route to a"),
    ('emergency_number: "999"', 'emergency_number: ""', "locales.en-GB.emergency_number", "empty"),
    ('  c:\n    script: "Thanks.', '  c:\n    script: "Bye. {emergency_number}" # "Thanks.', "outcomes.c.script",
     "disclaimer"),
    ("    sources: [red-flags-3-4, red-flags-3-5, seed-a]", "    sources: []", "outcomes.c.sources", "at least 1"),
    ('    tier: B2\n    text: "Does pain shoot down one leg', '    tier: B1\n    text: "Does pain shoot down one leg',
     "questions[", "route to b1"),
    ("    requires: cancer_history\n    text: \"Is this pain new", "    requires: cancer\n    text: \"Is this pain new",
     "questions[21].requires", "expected one of"),
])
def test_broken_copies_name_file_line_and_field(tmp_path, old, new, field, message):
    problems = broken(tmp_path, old, new)
    assert problems, "the broken copy was accepted"
    matching = [p for p in problems if field in p and message in p]
    assert matching, problems
    assert re.match(r"^.*triage\.yaml:\d+: ", matching[0])


def test_problem_line_points_at_the_broken_text(tmp_path):
    problems = broken(tmp_path, 'text: "Do you feel generally unwell?"', 'text: "Any incontinence?"')
    expected_line = line_of('text: "Do you feel generally unwell?"')
    assert any(p.endswith("jargon 'incontinence': use plain words") and f":{expected_line}:" in p for p in problems)


def test_missing_safety_net_in_b2(tmp_path):
    old = ("in the next week or two. If you ever get numbness around your genitals or bottom, trouble peeing, "
           "leaking, or weakness in your legs, get emergency help straight away. I'm")
    problems = broken(tmp_path, old, "in the next week or two. I'm")
    assert any("outcomes.b2.script" in p and "safety-net" in p for p in problems), problems


def test_missing_locale_text_and_unknown_locale(tmp_path):
    problems = broken(tmp_path, '      en-GB: "Is this a sudden', '      fr-FR: "Is this a sudden')
    assert any("questions[4].text" in p and "fr-FR" in p for p in problems)
    assert any("questions[4].text.en-GB" in p and "missing" in p for p in problems)


def test_tier_order_most_urgent_first(tmp_path):
    text = ORIGINAL
    block_start = text.index("  - id: B3\n")
    block_end = text.index("  - id: B4\n")
    block = text[block_start:block_end]
    moved = text[:block_start] + text[block_end:]
    moved = moved.replace("  - id: A1\n", block + "  - id: A1\n", 1)
    path = tmp_path / "triage.yaml"
    path.write_text(moved, encoding="utf-8")
    problems = check_triage(path)
    assert any(".tier" in p and "order most urgent first" in p for p in problems), problems


def test_yaml_syntax_error_is_one_line(tmp_path):
    path = tmp_path / "triage.yaml"
    path.write_text("questions: [\n  - id: A1\n", encoding="utf-8")
    with pytest.raises(ContentError) as error:
        load_triage(path)
    assert re.match(r"^.*triage\.yaml:\d+: yaml: ", error.value.problems[0])


def test_unknown_field_is_named(tmp_path):
    problems = broken(tmp_path, "    reason: chest_pain\n", "    reason: chest_pain\n    rout: a\n")
    assert any("questions[3].rout" in p and "unknown field" in p for p in problems)
