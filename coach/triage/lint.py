"""The lint rules of the clinical research (section 8.4) for content/triage.yaml.

Triage wording is safety content: a claim without a known source, a question out
of tier order or too long to follow, a jargon word or a script without the
disclaimer or safety net must never reach a user. ``coach.triage.content`` reads
the file and runs these checks on it.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from coach.content.yamlfile import line_of
from coach.content.yamlnodes import Fields

if TYPE_CHECKING:
    from coach.triage.model import Question, TriageContent

TIERS: tuple[str, ...] = ("characterise", "A", "B1", "B2")     # asked in this order
ROUTE_OF_TIER: dict[str, str] = {"characterise": "none", "A": "a", "B1": "b1", "B2": "b2"}
SAFETY_NET_OUTCOMES: tuple[str, ...] = ("incomplete", "b1", "b2", "b2-end", "c")
PLACEHOLDERS: frozenset[str] = frozenset({"emergency_number", "urgent_line", "reason", "ces_line", "signs"})
REQUIRED_PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "a": ("emergency_number", "reason", "ces_line"),
    "a-unconfirmed": ("emergency_number", "signs"),
    "incomplete": ("emergency_number", "signs"),
    "b1": ("urgent_line",),
}
CHARACTERISE_IDS: tuple[str, ...] = ("S1", "S2", "S2R")
BANNED_WORDS: tuple[str, ...] = ("incontinence", "saddle", "sciatica", "perineum")
MAX_QUESTION_WORDS = 20

_WORD = re.compile(r"[a-z]+")


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def lint_sources(uses: Iterable[tuple[Fields, str, tuple[str, ...]]], sources: Mapping[str, object]) -> None:
    """Every source cited (``(fields, key, names)`` per citing field) must be in the sources map."""
    for fields, key, keys in uses:
        for index, name in enumerate(keys):
            if name not in sources:
                fields.problem(key, f"source '{name}' (item {index}) is not in the sources map")


def lint(content: TriageContent, questions: list[tuple[Question, Fields]], top: Fields) -> None:
    """Report every rule broken by a structurally sound file onto ``top``'s problems."""
    _lint_questions(questions)
    _lint_spoken(top)
    disclaimer = content.lines["disclaimer"]
    safety_net = content.lines["safety_net"]
    outcomes = top.mapping("outcomes")
    for name, script in content.outcomes.items():
        field = outcomes.mapping(name)
        for locale in content.locales:
            text = script.get(locale)
            if not text.rstrip().endswith(disclaimer.get(locale)):
                field.problem("script", f"{locale}: must end with the disclaimer line")
            if name in SAFETY_NET_OUTCOMES and safety_net.get(locale) not in text:
                field.problem("script", f"{locale}: must contain the safety-net line")
            used = placeholders(text)
            for unknown in sorted(used - PLACEHOLDERS):
                field.problem("script", f"{locale}: unknown placeholder {{{unknown}}}")
            for needed in REQUIRED_PLACEHOLDERS.get(name, ()):
                if needed not in used:
                    field.problem("script", f"{locale}: needs the placeholder {{{needed}}}")
    advice = top.mapping("profile").mapping("advice")
    for flag, item in content.profile_advice.items():
        for locale in content.locales:
            if not item.script.get(locale).rstrip().endswith(disclaimer.get(locale)):
                advice.mapping(flag).problem("script", f"{locale}: must end with the disclaimer line")


def _lint_questions(questions: list[tuple[Question, Fields]]) -> None:
    ids = {q.id for q, _ in questions}
    for needed in CHARACTERISE_IDS:
        if needed not in ids:
            top_line = questions[0][1] if questions else None
            if top_line:
                top_line.problem_at(top_line.line, "questions", f"question {needed} is missing")
    last_rank = 0
    for question, fields in questions:
        rank = TIERS.index(question.tier)
        if rank < last_rank:
            fields.problem("tier", f"{question.id} is tier {question.tier} after a tier {TIERS[last_rank]} question;"
                           " order most urgent first")
        last_rank = max(last_rank, rank)
        if question.route != ROUTE_OF_TIER[question.tier]:
            fields.problem("route", f"tier {question.tier} questions route to {ROUTE_OF_TIER[question.tier]}")
        wanted_context = "number" if question.id in ("S2", "S2R") else "yesno"
        if question.context != wanted_context:
            fields.problem("context", f"{question.id} is answered in the {wanted_context} context")
        if question.tier == "A" and question.sign is None:
            fields.problem("sign", "tier-A questions need the sign spoken when an answer is missing")
        if question.tier == "B2" and question.session_action is None:
            fields.problem("session_action", "tier-B2 questions need end or skip-exercise")
        for key, text in (("text", question.text), ("clarifier", question.clarifier)):
            for sentence in (text.all() if text else ()):
                words = len(sentence.split())
                if words > MAX_QUESTION_WORDS:
                    fields.problem(key, f"{words} words; at most {MAX_QUESTION_WORDS}")


def _lint_spoken(top: Fields) -> None:
    """Banned jargon anywhere a user could hear it."""
    for line, field, text in _strings(top.mapping_node, ""):
        if field.startswith("sources") or field.endswith(".sources") or ".sources[" in field:
            continue
        for word in _WORD.findall(text.lower()):
            if word in BANNED_WORDS:
                top.problem_at(line, field, f"jargon '{word}': use plain words")


def _strings(node: Node, field: str) -> Iterator[tuple[int, str, str]]:
    if isinstance(node, ScalarNode) and node.tag.endswith(":str"):
        yield line_of(node), field, node.value
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            yield from _strings(item, f"{field}[{index}]")
    elif isinstance(node, MappingNode):
        for key, value in node.value:
            name = f"{field}.{key.value}" if field else str(key.value)
            yield from _strings(value, name)
