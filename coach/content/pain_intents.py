"""Does a free-text transcript report pain? Rules as data (``pain_intents`` in
content/commands.yaml), applied by a pure matcher.

A recognizer that writes out whole sentences hears more than the five pain
commands: "my back really hurts", "ow, that's painful". The coach's own cues are
full of pain words too ("stop if you feel sharp pain", "is the pain worse?"), and
its voice reaches the microphone, so the rules tell a report from a cue: a
report is about the speaker, here and now, and is not negated, conditional,
a question or about someone else. The YAML's header says what each key does.

``match(text, intents)`` returns the first pain word or phrase that survives the
rules (``PainMatch``, for logs) or None; ``hits(text, intents)`` returns every
candidate with the rule that cancelled it, to explain a decision.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from coach.content.commands import normalise

Fail = Callable[[yaml.Node | None, str, str], None]

FIELD = "pain_intents"
_WORD_LIST_KEYS = ("strong", "weak", "anchors", "exclamations", "negations", "relief", "conditionals",
                   "someone_else", "quoting", "question_words", "clause_breaks")
_KEYS = _WORD_LIST_KEYS + ("spellings", "endings", "short_words", "phrases", "slots", "set_phrases")
_WORD_RE = re.compile(r"^[a-z]+(?:'[a-z]+)?$")
_ENDING_RE = re.compile(r"^[a-z]*'[a-z]+$")
_SLOT_RE = re.compile(r"^\{([a-z_]+)\}$")
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+|\n+")
_CLAUSE_BREAK_RE = re.compile(r"[,;:\u2013\u2014()\"]|\.\.\.|\u2026")
_RUN_RE = re.compile(r"(.)\1+")


@dataclass(frozen=True)
class Pattern:
    """A phrase: each position accepts any of its words (one word, or a slot's list)."""

    text: str
    positions: tuple[frozenset[str], ...]


@dataclass(frozen=True)
class PainIntents:
    """The ``pain_intents`` section, checked and ready to match."""

    spellings: Mapping[str, tuple[str, ...]]
    endings: tuple[tuple[str, tuple[str, ...]], ...]    # longest ending first
    strong: frozenset[str]
    weak: frozenset[str]
    anchors: frozenset[str]
    short_words: int
    exclamations: frozenset[str]                         # with drawn-out letters collapsed
    phrases: tuple[Pattern, ...]
    set_phrases: tuple[tuple[str, ...], ...]
    negations: frozenset[str]
    relief: frozenset[str]
    conditionals: frozenset[str]
    someone_else: frozenset[str]
    quoting: frozenset[str]
    question_words: frozenset[str]
    clause_breaks: frozenset[str]


@dataclass(frozen=True)
class PainMatch:
    """What made a transcript a pain report: the rule kind, the word or phrase, its clause."""

    kind: str          # "strong" | "weak" | "exclamation" | "phrase"
    matched: str       # the word as heard, or the phrase as written in the YAML
    clause: str        # the clause's words after spelling out, for logs

    def __str__(self) -> str:
        return f"{self.kind} {self.matched!r} in {self.clause!r}"


@dataclass(frozen=True)
class Hit:
    """A candidate pain word or phrase and the rule that cancelled it (None: it counts)."""

    match: PainMatch
    cancelled_by: str | None


# ---------------------------------------------------------------- matching

def collapse(word: str) -> str:
    """Drawn-out letters as one ("owww" -> "ow", "aaarrgh" -> "argh")."""
    return _RUN_RE.sub(r"\1", word)


def spell_out(tokens: tuple[str, ...], intents: PainIntents) -> tuple[str, ...]:
    """Contractions and unpunctuated spellings written out, so "doesn't", "doesnt"
    and "does not" are the same words to every rule."""
    out: list[str] = []
    for token in tokens:
        if token in intents.spellings:
            out.extend(intents.spellings[token])
            continue
        for ending, words in intents.endings:
            if token.endswith(ending) and len(token) > len(ending):
                out.append(token[: -len(ending)])
                out.extend(words)
                break
        else:
            out.append(token)
    return tuple(out)


def _without_set_phrases(tokens: tuple[str, ...], intents: PainIntents) -> tuple[str, ...]:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        for phrase in intents.set_phrases:
            if tokens[i:i + len(phrase)] == phrase:
                i += len(phrase)
                break
        else:
            out.append(tokens[i])
            i += 1
    return tuple(out)


def _clauses(text: str, intents: PainIntents) -> list[tuple[tuple[str, ...], bool]]:
    """(words, ends a question with someone else in it) for every clause."""
    clauses: list[tuple[tuple[str, ...], bool]] = []
    for sentence in _SENTENCE_END_RE.split(text):
        parts = [_without_set_phrases(spell_out(normalise(p), intents), intents)
                 for p in _CLAUSE_BREAK_RE.split(sentence)]
        asked = sentence.rstrip().endswith("?") and any(w in intents.someone_else for p in parts for w in p)
        for words in parts:
            current: list[str] = []
            for word in words:
                if word in intents.clause_breaks and current:
                    clauses.append((tuple(current), asked))
                    current = []
                elif word not in intents.clause_breaks:
                    current.append(word)
            if current:
                clauses.append((tuple(current), asked))
    return clauses


def _candidates(words: tuple[str, ...], intents: PainIntents) -> list[tuple[int, int, str, str]]:
    """(start, length, kind, matched) for every pain word or phrase in a clause."""
    found: list[tuple[int, int, str, str]] = []
    for i, word in enumerate(words):
        if word in intents.strong:
            found.append((i, 1, "strong", word))
        elif word in intents.weak:
            found.append((i, 1, "weak", word))
        elif collapse(word) in intents.exclamations:
            found.append((i, 1, "exclamation", word))
        for pattern in intents.phrases:
            size = len(pattern.positions)
            if len(words) - i >= size and all(words[i + k] in allowed for k, allowed in enumerate(pattern.positions)):
                found.append((i, size, "phrase", pattern.text))
    return found


def _cancelled(words: tuple[str, ...], start: int, size: int, kind: str, asked: bool,
               short: bool, intents: PainIntents) -> str | None:
    """The rule that says this pain word is not a report, or None."""
    before, after = words[:start], words[start + size:]
    if asked:
        return "question to someone else"
    if words[0] in intents.question_words:
        return f"question ({words[0]!r})"
    if before and before[-1] in intents.quoting:
        return f"quoting ({before[-1]!r})"
    for rule, names in (("someone else", intents.someone_else), ("conditional", intents.conditionals),
                        ("negation", intents.negations)):
        word = next((w for w in before if w in names), None)
        if word is not None:
            return f"{rule} ({word!r})"
    word = next((w for w in after if w in intents.relief), None)
    if word is not None:
        return f"relief ({word!r})"
    if kind == "weak" and not short and not any(w in intents.anchors for w in words):
        return "no anchor"
    return None


def hits(text: str, intents: PainIntents) -> list[Hit]:
    """Every pain word or phrase in ``text``, each with the rule that cancelled it."""
    short = len(normalise(text)) <= intents.short_words
    out: list[Hit] = []
    for words, asked in _clauses(text, intents):
        clause = " ".join(words)
        for start, size, kind, matched in _candidates(words, intents):
            reason = _cancelled(words, start, size, kind, asked, short, intents)
            out.append(Hit(PainMatch(kind, matched, clause), reason))
    return out


def match(text: str, intents: PainIntents) -> PainMatch | None:
    """The first pain word or phrase in ``text`` that no rule cancels, or None."""
    return next((h.match for h in hits(text, intents) if h.cancelled_by is None), None)


def load_pain_intents(path: Path | str | None = None) -> PainIntents:
    """The section from commands.yaml (default: the packaged content); ContentError when
    it is missing or malformed."""
    from coach.content.commands import load_commands
    from coach.errors import ContentError

    command_set = load_commands(path)
    if command_set.pain_intents is None:
        where = str(path) if path is not None else "commands.yaml"
        raise ContentError([f"{where}: {FIELD}: missing"])
    return command_set.pain_intents


# ---------------------------------------------------------------- reading

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
