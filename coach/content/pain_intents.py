"""Does a free-text transcript report pain? Rules as data (``pain_intents`` in
content/commands.yaml), applied by a pure matcher.

A recognizer that writes out whole sentences hears more than the five pain
commands: "my back really hurts", "ow, that's painful". The coach's own cues are
full of pain words too ("stop if you feel sharp pain", "is the pain worse?"), and
its voice reaches the microphone, so the rules tell a report from a cue: a
report is about the speaker, here and now, and is not negated, conditional,
a question or about someone else. The YAML's header says what each key does.

Reading and checking the section is ``coach.content.pain_rules``.

``match(text, intents)`` returns the first pain word or phrase that survives the
rules (``PainMatch``, for logs) or None; ``hits(text, intents)`` returns every
candidate with the rule that cancelled it, to explain a decision.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from coach.content.words import normalise

FIELD = "pain_intents"
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
