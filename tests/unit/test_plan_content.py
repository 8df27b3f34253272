"""content/progression.yaml loads, and a broken copy names file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from coach.errors import ContentError
from coach.plan.rules import check_rules, load_rules
from plan_records import CONTENT

SOURCE = (CONTENT / "progression.yaml").read_text(encoding="utf-8")
ROUTINE_IDS = [p.stem for p in (CONTENT / "routines").glob("*.yaml")]


def test_the_shipped_rules_load_with_their_routines() -> None:
    rules = load_rules(CONTENT / "progression.yaml", ROUTINE_IDS)
    assert rules.routines["cold"] == "cold-pack" and rules.routines["heat"] == "heat"
    assert rules["pain_monitoring"]["acceptable_pain_max"] == 5
    assert set(rules["pain_monitoring"].sources) >= {"thomee-1997", "silbernagel-2007"}
    for rule in rules.rules.values():
        assert rule.sources and all(source in rules.sources for source in rule.sources)


def _line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


BROKEN = [
    ("a number out of range", "acceptable_pain_max: 5", "acceptable_pain_max: 12",
     "rules.pain_monitoring.acceptable_pain_max", "expected a whole number of points from 0 to 10"),
    ("text where a number goes", "cold_hours: 72", "cold_hours: three days", "rules.flare_up.cold_hours",
     "got 'three days'"),
    ("an unknown field", "rise_points: 2", "rise_point: 2", "rules.pain_monitoring.rise_point",
     "unknown field; did you mean rise_points?"),
    ("an unknown routine", "heat: heat\n", "heat: hot-bath\n", "routines.heat", "no routine 'hot-bath'"),
    ("an unknown outcome", "carry_on: [c]", "carry_on: [c, d]", "rules.after_safety_questions.carry_on[1]",
     "expected one of a, a-unconfirmed"),
    ("an unknown source", "sources: [seed-b, consistency]", "sources: [seed-b, seed-c]",
     "rules.schedule.sources[1]", "no source 'seed-c'"),
    ("an unknown placeholder", "was {days} days ago", "was {weeks} weeks ago", "rules.pain_monitoring.says.break",
     "unknown placeholder {weeks}"),
    ("carry on sending to a clinician", "see_clinician: [a, a-unconfirmed, b1, b2, b2-end]",
     "see_clinician: [a, c]", "rules.after_safety_questions.see_clinician", "c means carry on"),
]


@pytest.mark.parametrize("label, old, new, field, message", BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_file_names_file_line_and_field(tmp_path: Path, label: str, old: str, new: str, field: str,
                                                 message: str) -> None:
    assert old in SOURCE, label
    text = SOURCE.replace(old, new, 1)
    path = tmp_path / "progression.yaml"
    path.write_text(text, encoding="utf-8")
    problems = check_rules(path, ROUTINE_IDS)
    line = _line_of(text, new)
    assert any(p.startswith(f"{path}:{line}: {field}: ") and message in p for p in problems), problems
    with pytest.raises(ContentError):
        load_rules(path, ROUTINE_IDS)


def test_a_missing_rule_and_a_yaml_error(tmp_path: Path) -> None:
    path = tmp_path / "progression.yaml"
    path.write_text(SOURCE.replace("  rising_pain:", "  rising_pains:", 1), encoding="utf-8")
    problems = check_rules(path, ROUTINE_IDS)
    assert any(": rules.rising_pain: required field is missing" in p for p in problems), problems
    path.write_text("rules: [\n", encoding="utf-8")
    assert check_rules(path)[0].startswith(f"{path}:") and ": yaml: " in check_rules(path)[0]
