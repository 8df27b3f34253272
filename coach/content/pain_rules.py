"""Reading the ``pain_intents`` section of content/commands.yaml into ``PainIntents``.

Every word list, spelling, ending, slot and phrase is checked node by node, so a
problem names its file, line and field (through the commands validator's ``fail``).
The matching itself is ``coach.content.pain_intents``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import yaml

from coach.content.pain_intents import FIELD, PainIntents, Pattern, collapse

Fail = Callable[[yaml.Node | None, str, str], None]

_WORD_LIST_KEYS = ("strong", "weak", "anchors", "exclamations", "negations", "relief", "conditionals",
                   "someone_else", "quoting", "question_words", "clause_breaks")
_KEYS = _WORD_LIST_KEYS + ("spellings", "endings", "short_words", "phrases", "slots", "set_phrases")
_WORD_RE = re.compile(r"^[a-z]+(?:'[a-z]+)?$")
_ENDING_RE = re.compile(r"^[a-z]*'[a-z]+$")
_SLOT_RE = re.compile(r"^\{([a-z_]+)\}$")


class _Reader:
    """Checks the section node by node, so a problem names its line and field."""

    def __init__(self, fail: Fail) -> None:
        self.fail = fail

    def fields(self, node: yaml.Node) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, FIELD, "must be a mapping")
            return {}
        fields = {k.value: (k, v) for k, v in node.value}
        for name in sorted(set(fields) - set(_KEYS)):
            self.fail(fields[name][0], f"{FIELD}.{name}", f"unknown key (expected {', '.join(_KEYS)})")
        for name in ("strong",):
            if name not in fields:
                self.fail(node, f"{FIELD}.{name}", "missing")
        return fields

    def texts(self, node: yaml.Node | None, field: str) -> list[tuple[yaml.Node, str]]:
        if node is None:
            return []
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            self.fail(node, field, "must be a non-empty list")
            return []
        out = []
        for item in node.value:
            if isinstance(item, yaml.ScalarNode) and item.tag.endswith(":str") and item.value.strip():
                out.append((item, item.value.strip()))
            else:
                self.fail(item, field, "each item must be a non-empty string")
        return out

    def words(self, node: yaml.Node | None, field: str) -> frozenset[str]:
        out = set()
        for item, text in self.texts(node, field):
            if not _WORD_RE.match(text):
                self.fail(item, field, f"{text!r} must be one lower-case word")
            elif text in out:
                self.fail(item, field, f"{text!r} listed twice")
            else:
                out.add(text)
        return frozenset(out)

    def sequence(self, item: yaml.Node, field: str, text: str) -> tuple[str, ...] | None:
        words = tuple(text.split())
        bad = next((w for w in words if not _WORD_RE.match(w)), None)
        if bad is not None:
            self.fail(item, field, f"{text!r}: {bad!r} is not a lower-case word")
            return None
        return words

    def mapping(self, node: yaml.Node | None, field: str, key_re: re.Pattern[str]) -> list[tuple[str, tuple[str, ...]]]:
        if node is None:
            return []
        if not isinstance(node, yaml.MappingNode) or not node.value:
            self.fail(node, field, "must be a non-empty mapping")
            return []
        out = []
        for key, value in node.value:
            if not key_re.match(key.value):
                self.fail(key, f"{field}.{key.value}", "must be one lower-case word or ending")
            elif not (isinstance(value, yaml.ScalarNode) and value.tag.endswith(":str") and value.value.strip()):
                self.fail(value, f"{field}.{key.value}", "must be the words it stands for")
            else:
                words = self.sequence(value, f"{field}.{key.value}", value.value)
                if words is not None:
                    out.append((key.value, words))
        return out

    def short_words(self, node: yaml.Node | None) -> int:
        if node is None:
            return 0
        if not (isinstance(node, yaml.ScalarNode) and node.tag.endswith(":int") and 0 <= int(node.value) <= 10):
            self.fail(node, f"{FIELD}.short_words", "must be a whole number 0-10")
            return 0
        return int(node.value)

    def slots(self, node: yaml.Node | None) -> dict[str, frozenset[str]]:
        if node is None:
            return {}
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, f"{FIELD}.slots", "must be a mapping")
            return {}
        return {k.value: self.words(v, f"{FIELD}.slots.{k.value}") for k, v in node.value}

    def phrases(self, node: yaml.Node | None, slots: Mapping[str, frozenset[str]]) -> tuple[Pattern, ...]:
        field = f"{FIELD}.phrases"
        out = []
        for item, text in self.texts(node, field):
            positions: list[frozenset[str]] = []
            for word in text.split():
                slot = _SLOT_RE.match(word)
                if slot is not None and slot.group(1) not in slots:
                    self.fail(item, field, f"{text!r}: no slot {slot.group(1)!r} under {FIELD}.slots")
                    break
                if slot is None and not _WORD_RE.match(word):
                    self.fail(item, field, f"{text!r}: {word!r} is not a lower-case word or {{slot}}")
                    break
                positions.append(slots[slot.group(1)] if slot else frozenset([word]))
            else:
                out.append(Pattern(text, tuple(positions)))
        return tuple(out)

    def read(self, node: yaml.Node) -> PainIntents:
        fields = self.fields(node)

        def value(name: str) -> yaml.Node | None:
            return fields[name][1] if name in fields else None

        lists = {name: self.words(value(name), f"{FIELD}.{name}") for name in _WORD_LIST_KEYS}
        endings = self.mapping(value("endings"), f"{FIELD}.endings", _ENDING_RE)
        set_phrases = []
        for item, text in self.texts(value("set_phrases"), f"{FIELD}.set_phrases"):
            words = self.sequence(item, f"{FIELD}.set_phrases", text)
            if words is not None:
                set_phrases.append(words)
        return PainIntents(
            spellings=dict(self.mapping(value("spellings"), f"{FIELD}.spellings", _WORD_RE)),
            endings=tuple(sorted(endings, key=lambda e: -len(e[0]))),
            strong=lists["strong"], weak=lists["weak"], anchors=lists["anchors"],
            short_words=self.short_words(value("short_words")),
            exclamations=frozenset(collapse(w) for w in lists["exclamations"]),
            phrases=self.phrases(value("phrases"), self.slots(value("slots"))),
            set_phrases=tuple(set_phrases),
            negations=lists["negations"], relief=lists["relief"], conditionals=lists["conditionals"],
            someone_else=lists["someone_else"], quoting=lists["quoting"],
            question_words=lists["question_words"], clause_breaks=lists["clause_breaks"],
        )


def read_pain_intents(node: yaml.Node, fail: Fail) -> PainIntents:
    """The section from its YAML node; each problem goes to ``fail(node, field, message)``
    (the commands.yaml validator's, so it names file and line)."""
    return _Reader(fail).read(node)
