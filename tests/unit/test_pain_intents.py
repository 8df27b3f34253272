"""Pain in free speech: the pain_intents rules, the coach's own cues, the sentence set,
and errors in a malformed section."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from coach.content.commands import load_commands, parse_commands
from coach.content.library import default_content_dir, load_library
from coach.errors import ContentError
from coach.content.commands import load_pain_intents
from coach.content.pain_intents import PainIntents, PainMatch, collapse, hits, match, spell_out
from coach.script.engine import build_timeline
from coach.testing.sentences import other_sentences, pain_sentences

INTENTS: PainIntents = load_pain_intents()


def why_not(text: str) -> list[str | None]:
    return [h.cancelled_by for h in hits(text, INTENTS)]


@pytest.mark.parametrize("text,kind,matched", [
    ("my back really hurts", "strong", "hurts"),
    ("It HURTS!", "strong", "hurts"),
    ("Ow!", "exclamation", "ow"),
    ("OWWW", "exclamation", "owww"),
    ("Ouch.", "exclamation", "ouch"),
    ("ouuuuch", "exclamation", "ouuuuch"),
    ("Aaargh, my hip.", "exclamation", "aaargh"),
    ("Ow-ow-ow", "exclamation", "ow"),
    ("I'm in pain", "weak", "pain"),
    ("im in pain", "weak", "pain"),
    ("My pain is 8 now", "weak", "pain"),
    ("That\u2019s sore", "weak", "sore"),
    ("sharp pain", "weak", "pain"),
    ("my hip is killing me", "phrase", "killing me"),
    ("this is too much", "phrase", "{be} too much"),
    ("That's too much.", "phrase", "{be} too much"),
    ("oh my back", "phrase", "oh my {body}"),
    ("I can't take this pain", "phrase", "cannot take this"),
    ("I can't stand the pain", "weak", "pain"),
    ("It didn't hurt before, but now it hurts", "strong", "hurts"),
    ("No, it hurts.", "strong", "hurts"),
    ("Can we stop? It hurts.", "strong", "hurts"),
    ("it hurts you know", "strong", "hurts"),
    ("the pain is getting worse", "weak", "pain"),
])
def test_pain_reports_match(text: str, kind: str, matched: str) -> None:
    found = match(text, INTENTS)
    assert found is not None, why_not(text)
    assert (found.kind, found.matched) == (kind, matched)


@pytest.mark.parametrize("text,reason", [
    ("It doesn't hurt anymore.", "negation ('not')"),
    ("it does not hurt", "negation ('not')"),
    ("it dont hurt", "negation ('not')"),
    ("It doesnt hurt at all", "negation ('not')"),
    ("No pain at all today", "negation ('no')"),
    ("0 pain", "negation ('zero')"),
    ("I'm moving without pain", "negation ('without')"),
    ("It's not sore", "negation ('not')"),
    ("pain-free range", "relief ('free')"),
    ("the pain is gone", "relief ('gone')"),
    ("If it hurts, stop.", "conditional ('if')"),
    ("If you feel sharp pain, stop.", "someone else ('you')"),
    ("how bad is the pain right now", "question ('how')"),
    ("How bad is your pain right now?", "question to someone else"),
    ("Is the pain spreading down both legs?", "question ('is')"),
    ("does it hurt", "question ('does')"),
    ("Since this pain started, can you walk?", "question to someone else"),
    ("his back hurts", "someone else ('his')"),
    ("say pain", "quoting ('say')"),
    ("Heat is the option with better evidence for back pain.", "no anchor"),
    ("Place the wrapped cold pack on the sore area.", "no anchor"),
])
def test_what_is_not_a_report_and_why(text: str, reason: str) -> None:
    assert match(text, INTENTS) is None
    assert reason in why_not(text)


@pytest.mark.parametrize("text", [
    "I took a pain killer this morning", "oh no, I forgot the towel", "keep going", "stop by the shop",
    "I'm fine", "next", "", "...", "How are you?",
])
def test_everyday_talk_does_not_match(text: str) -> None:
    assert match(text, INTENTS) is None


def test_without_the_spelling_rules_a_contraction_would_not_negate() -> None:
    plain = PainIntents(**{**INTENTS.__dict__, "spellings": {}, "endings": ()})
    assert match("it doesn't hurt", plain) is not None
    assert match("it doesn't hurt", INTENTS) is None


def test_spelling_out_and_collapsing() -> None:
    assert spell_out(("it's", "doesn't", "can't", "dont"), INTENTS) == ("it", "is", "does", "not", "cannot",
                                                                       "do", "not")
    assert collapse("owwww") == "ow" and collapse("aaarrrgh") == "argh"


def test_match_names_what_matched_for_logs() -> None:
    found = match("Ow, my back. It really hurts.", INTENTS)
    assert found == PainMatch("exclamation", "ow", "ow")
    assert str(found) == "exclamation 'ow' in 'ow'"


# ---------------------------------------------------------------- the coach's own words

_NOT_SPOKEN = {"id", "name", "kind", "source", "sources", "file", "section", "title", "address", "position",
               "equipment", "sides", "tier", "route", "reason", "context", "requires", "sets", "sign",
               "still_ask", "session_action", "default_locale"}


def _strings(node: Any, key: str | None = None) -> list[str]:
    if key in _NOT_SPOKEN:
        return []
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in _strings(v, str(k))]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v, key)]
    return [node] if isinstance(node, str) and " " in node.strip() else []


def _triage_texts(folder: Path) -> list[str]:
    """Every spoken string of triage.yaml, the outcome scripts with their signs filled in."""
    data = yaml.safe_load((folder / "triage.yaml").read_text(encoding="utf-8"))
    signs = [s for q in data["questions"] if "sign" in q for s in _strings(q["sign"])]
    ces_line = data["lines"]["ces_line"]
    out = []
    for text in _strings(data):
        for locale in data["locales"].values():
            for reason in signs if "{reason}" in text else [""]:
                out.append(text.format(emergency_number=locale["emergency_number"],
                                       urgent_line=locale["urgent_line"], reason=reason,
                                       ces_line=ces_line, signs="; ".join(signs)))
    return out


def coach_texts() -> list[str]:
    """Everything the coach says from content/: every cue of every routine, every exercise
    and tip line, and the safety questions and scripts."""
    folder = default_content_dir()
    library = load_library(folder)
    texts = [cue.text for routine in library.routines.values()
             for cue in build_timeline(routine, library).cues if cue.text]
    for sub in ("exercises", "tips", "routines"):
        for path in sorted((folder / sub).glob("*.yaml")):
            texts += _strings(yaml.safe_load(path.read_text(encoding="utf-8")))
    return sorted(set(texts + _triage_texts(folder)))


def test_the_coach_never_reports_pain_to_itself() -> None:
    texts = coach_texts()
    assert len(texts) > 400                       # the walk found the content
    assert sum("pain" in t.lower() for t in texts) > 40
    matched = {t: str(m) for t in texts if (m := match(t, INTENTS)) is not None}
    assert matched == {}


# ---------------------------------------------------------------- the sentence set

PAIN_MIN_SHARE = 0.95
OTHER_MAX_SHARE = 0.02


def test_the_sentence_set_is_big_enough_and_has_no_duplicates() -> None:
    pain, other = pain_sentences(), other_sentences()
    assert len(pain) >= 50 and len(other) >= 90
    assert len(set(pain)) == len(pain) and len(set(other)) == len(other) and not set(pain) & set(other)


def test_pain_sentences_match() -> None:
    missed = [s for s in pain_sentences() if match(s, INTENTS) is None]
    assert len(missed) <= (1 - PAIN_MIN_SHARE) * len(pain_sentences()), missed


def test_other_sentences_do_not_match() -> None:
    wrong = {s: str(m) for s in other_sentences() if (m := match(s, INTENTS)) is not None}
    assert len(wrong) <= OTHER_MAX_SHARE * len(other_sentences()), wrong


def test_other_sentences_include_the_coach_verbatim() -> None:
    spoken = set(coach_texts())
    assert sum(s in spoken for s in other_sentences()) >= 20


# ---------------------------------------------------------------- a malformed section

GOOD = """\
commands:
  pain:
    phrases: [pain]
contexts:
  session: [pain]
pain_intents:
  strong: [hurts]
  weak: [pain]
  anchors: [my]
  short_words: 2
  negations: [not]
  phrases: ["{be} too much"]
  slots:
    be: [is]
  spellings:
    dont: do not
  endings:
    "n't": not
"""


def problems(text: str) -> list[str]:
    with pytest.raises(ContentError) as caught:
        parse_commands(text, "x/commands.yaml")
    return caught.value.problems


def test_a_small_section_loads_and_matches() -> None:
    intents = parse_commands(GOOD).pain_intents
    assert intents is not None
    assert match("it hurts", intents) is not None and match("it dont hurt", intents) is None
    assert match("that is too much", intents) is not None
    assert match("back pain in the evening", intents) is None and match("my pain", intents) is not None


def test_the_section_is_optional() -> None:
    assert parse_commands(GOOD.split("pain_intents:")[0]).pain_intents is None
    assert load_commands().pain_intents == INTENTS


@pytest.mark.parametrize("bad,line,field", [
    (GOOD.replace("strong: [hurts]", "strong: [Hurts!]"), 7, "pain_intents.strong"),
    (GOOD.replace("strong: [hurts]", "strong: hurts"), 7, "pain_intents.strong"),
    (GOOD.replace("negations: [not]", "negations: [no]"), 11, "pain_intents.negations"),
    (GOOD.replace("short_words: 2", "short_words: two"), 10, "pain_intents.short_words"),
    (GOOD.replace("{be} too much", "{am} too much"), 12, "pain_intents.phrases"),
    (GOOD.replace("  anchors: [my]", "  anchor: [my]"), 9, "pain_intents.anchor"),
    (GOOD.replace("dont: do not", "dont: [do, not]"), 16, "pain_intents.spellings.dont"),
    (GOOD.replace('"n\'t": not', "nt: not"), 18, "pain_intents.endings.nt"),
    (GOOD.replace("  strong: [hurts]\n", ""), 7, "pain_intents.strong"),
    (GOOD.replace("weak: [pain]", "weak: [pain, pain]"), 8, "pain_intents.weak"),
])
def test_a_malformed_section_names_file_line_and_field(bad: str, line: int, field: str) -> None:
    found = problems(bad)
    assert any(p.startswith(f"x/commands.yaml:{line}: {field}") for p in found), found


def test_a_section_that_is_not_a_mapping_is_reported() -> None:
    found = problems(GOOD.split("pain_intents:")[0] + "pain_intents: [hurts]\n")
    assert found == ["x/commands.yaml:6: pain_intents: must be a mapping"]


def test_load_pain_intents_without_the_section_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "commands.yaml"
    path.write_text(GOOD.split("pain_intents:")[0], encoding="utf-8")
    with pytest.raises(ContentError, match="pain_intents: missing"):
        load_pain_intents(path)
