"""content/progression.yaml: the rules that pick today's routine and dose, as data.

Each rule has its numbers, the texts the plan says (with ``{placeholders}``) and the
sources it comes from. Loading checks every field, so a broken file gives one
``file:line: field: problem`` line per problem (``ContentError``), like the other content.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from coach.content.yamlfile import Problems, read_document
from coach.content.yamlnodes import Fields
from coach.errors import ContentError

FILE_NAME = "progression.yaml"
OUTCOMES: tuple[str, ...] = ("a", "a-unconfirmed", "incomplete", "b1", "b2", "b2-end", "c")
ROUTINE_ROLES: tuple[str, ...] = ("default", "after_flare_up", "cold", "heat")

# name -> (numbers: key -> (low, high, unit, integer), outcome lists, says: key -> placeholders)
_Numbers = Mapping[str, tuple[float, float, str, bool]]
RULES: dict[str, tuple[_Numbers, tuple[str, ...], Mapping[str, frozenset[str]]]] = {
    "safety_lock": ({}, (), {"locked_exercise": frozenset(), "locked_today": frozenset()}),
    "profile": ({}, (), {"blocked": frozenset()}),
    "flare_up": (
        {"severe_pain": (1, 10, "points", True), "same_flare_up_days": (1, 14, "days", True),
         "cold_hours": (24, 168, "hours", True), "settled_pain_max": (0, 10, "points", True),
         "not_improved_days": (1, 42, "days", True)},
        (),
        {"cold": frozenset({"pain", "date"}), "heat": frozenset({"date"}), "not_improved": frozenset({"days"}),
         "after": frozenset()}),
    "pain_monitoring": (
        {"acceptable_pain_max": (0, 10, "points", True), "rise_points": (1, 10, "points", True),
         "sessions_to_progress": (1, 20, "sessions", True), "break_days": (1, 90, "days", True)},
        (),
        {"start": frozenset({"routine"}), "progress": frozenset({"count", "dose", "new_dose", "max_pain", "rise"}),
         "top": frozenset({"count"}), "building": frozenset({"count", "dose", "needed"}),
         "missing": frozenset({"what", "dose"}), "stopped": frozenset({"dose"}),
         "regress": frozenset({"why", "new_dose"}), "regress_routine": frozenset({"why"}),
         "recent": frozenset({"why", "dose"}), "morning": frozenset({"date"}), "break": frozenset({"days"})}),
    "after_safety_questions": (
        {"hold_hours": (1, 336, "hours", True), "see_clinician_days": (0, 90, "days", True)},
        ("carry_on", "see_clinician"),
        {"hold": frozenset({"date"}), "see_clinician": frozenset({"date"})}),
    "rising_pain": (
        {"window_days": (4, 60, "days", True), "min_days": (2, 60, "days", True),
         "rise_points": (0.5, 10, "points", False)},
        (),
        {"see_clinician": frozenset({"before", "after"})}),
    "schedule": (
        {"every_days": (1, 7, "days", True), "flare_up_every_days": (1, 7, "days", True)},
        (),
        {"projection": frozenset()}),
}


@dataclass(frozen=True)
class Rule:
    name: str
    numbers: Mapping[str, float]
    outcomes: Mapping[str, tuple[str, ...]]
    says: Mapping[str, str]
    sources: tuple[str, ...]

    def __getitem__(self, key: str) -> float:
        return self.numbers[key]

    def text(self, key: str, **values: object) -> str:
        return self.says[key].format(**values)


@dataclass(frozen=True)
class Source:
    title: str
    address: str


@dataclass(frozen=True)
class Rules:
    notice: str
    routines: Mapping[str, str]          # default, after_flare_up, cold, heat -> routine id
    rules: Mapping[str, Rule]
    sources: Mapping[str, Source]
    path: str = FILE_NAME

    def __getitem__(self, name: str) -> Rule:
        return self.rules[name]

    @property
    def self_care_routines(self) -> frozenset[str]:
        """Cold and heat: timed self-care, not exercise sessions."""
        return frozenset((self.routines["cold"], self.routines["heat"]))


def default_rules_path(content_dir: Path | str) -> Path:
    return Path(content_dir) / FILE_NAME


def load_rules(path: Path | str, routine_ids: Iterable[str] | None = None) -> Rules:
    """The rules, or ``ContentError`` with every problem; ``routine_ids`` checks the routine names."""
    problems = Problems()
    rules = read_rules(path, problems, routine_ids)
    problems.raise_if_any()
    assert rules is not None
    return rules


def check_rules(path: Path | str, routine_ids: Iterable[str] | None = None) -> list[str]:
    """Every problem as a ``file:line: field: problem`` line (for ``coach validate``)."""
    problems = Problems()
    try:
        read_rules(path, problems, routine_ids)
    except ContentError as error:
        problems.extend(error.problems)
    return list(problems)


def read_rules(path: Path | str, problems: Problems, routine_ids: Iterable[str] | None) -> Rules | None:
    document = read_document(path, problems)
    if document is None:
        return None
    before = len(problems)
    top = Fields.top(document, problems)
    top.reject_unknown(("schema_version", "notice", "routines", "rules", "sources"))
    top.number("schema_version", 1, 1, "version", integer=True, required=True)
    notice = top.required_str("notice")
    if notice is not None and "not a medical device" not in notice:
        top.problem("notice", "must say the coach is not a medical device")
    routines = _routines(top, routine_ids)
    sources = _sources(top)
    rules: dict[str, Rule] = {}
    where: dict[str, Fields] = {}
    block = top.mapping("rules")
    if block is not None:
        block.reject_unknown(RULES)
        for name in RULES:
            fields = block.mapping(name)
            if fields is not None:
                where[name] = fields
                rules[name] = _rule(name, fields, sources)
    _check_consistent(where, rules)
    if len(problems) > before or notice is None:
        return None
    return Rules(notice, routines, rules, sources, document.path)


def _routines(top: Fields, routine_ids: Iterable[str] | None) -> dict[str, str]:
    fields = top.mapping("routines")
    if fields is None:
        return {}
    fields.reject_unknown(ROUTINE_ROLES)
    known = set(routine_ids) if routine_ids is not None else None
    result = {}
    for role in ROUTINE_ROLES:
        value = fields.required_str(role)
        if value is not None and known is not None and value not in known:
            fields.problem(role, f"no routine '{value}' in routines/ (known: {', '.join(sorted(known))})")
        elif value is not None:
            result[role] = value
    return result


def _sources(top: Fields) -> dict[str, Source]:
    result = {}
    for name, fields in top.mapping_of_mappings("sources").items():
        fields.reject_unknown(("title", "address"))
        title, address = fields.required_str("title"), fields.required_str("address")
        if title and address:
            result[name] = Source(title, address)
    return result


def _rule(name: str, fields: Fields, sources: Mapping[str, Source]) -> Rule:
    numbers_spec, list_keys, says_spec = RULES[name]
    fields.reject_unknown((*numbers_spec, *list_keys, "sources", "says"))
    numbers = {}
    for key, (low, high, unit, integer) in numbers_spec.items():
        value = fields.number(key, low, high, unit, integer=integer, required=True)
        if value is not None:
            numbers[key] = value
    outcomes = {key: fields.required_str_list(key, choices=OUTCOMES) for key in list_keys}
    cited = fields.required_str_list("sources")
    for index, source in enumerate(cited):
        if sources and source not in sources:
            fields.problem_at(fields.value_line("sources"), f"{fields.name('sources')}[{index}]",
                              f"no source '{source}' under sources")
    return Rule(name, numbers, outcomes, _says(fields, says_spec), cited)


def _says(fields: Fields, spec: Mapping[str, frozenset[str]]) -> dict[str, str]:
    block = fields.mapping("says")
    if block is None:
        return {}
    block.reject_unknown(spec)
    result = {}
    for key, allowed in spec.items():
        text = block.required_str(key)
        if text is None:
            continue
        try:
            used = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
        except ValueError as error:
            block.problem(key, f"bad placeholder: {error}")
            continue
        unknown = sorted(used - allowed)
        if unknown:
            choices = ", ".join("{" + a + "}" for a in sorted(allowed)) or "none"
            block.problem(key, f"unknown placeholder {{{unknown[0]}}} (this text can use: {choices})")
            continue
        result[key] = text
    return result


def _check_consistent(where: Mapping[str, Fields], rules: Mapping[str, Rule]) -> None:
    rising = rules.get("rising_pain")
    if rising and {"window_days", "min_days"} <= set(rising.numbers) and rising["min_days"] > rising["window_days"]:
        where["rising_pain"].problem("min_days", f"must be at most window_days ({rising['window_days']})")
    after = rules.get("after_safety_questions")
    if after and "c" in after.outcomes.get("see_clinician", ()):
        where["after_safety_questions"].problem("see_clinician", "c means carry on; it cannot send anyone to a clinician")
    if after and "c" not in after.outcomes.get("carry_on", ("c",)):
        where["after_safety_questions"].problem("carry_on", "must include c (carry on)")
