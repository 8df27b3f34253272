"""Load content/triage.yaml into plain data and check it, naming file, line and field.

Triage wording is safety content: besides the shape of the file, the lint rules of
the clinical research (section 8.4, in ``coach.triage.lint``) are enforced on load,
so a question without a source, a jargon word or a script without the disclaimer
never reaches a user.
"""

from __future__ import annotations

from pathlib import Path

from coach.errors import ContentError
from coach.triage.lint import TIERS, lint, lint_sources
from coach.triage.model import (FLAGS, LINES, OUTCOMES, Locale, Localized, PainRules, ProfileAdvice,
                                ProfileQuestion, Question, Recheck, TriageContent)
from coach.content.yamlfile import Problems, load_document
from coach.content.yamlnodes import Fields

DEFAULT_PATH = Path("triage.yaml")

_TOP_KEYS = ("schema_version", "default_locale", "locales", "lines", "answers", "pain_rules",
             "recheck", "questions", "outcomes", "profile", "sources")
_QUESTION_KEYS = ("id", "tier", "context", "text", "clarifier", "sign", "route", "requires", "reason",
                  "sources", "intimate", "ces", "session_action")


def default_triage_path(content_dir: Path) -> Path:
    return Path(content_dir) / DEFAULT_PATH


def load_triage(path: str | Path) -> TriageContent:
    """Read, check and lint; raise ContentError listing every problem."""
    problems = Problems()
    content = _read(path, problems)
    problems.raise_if_any()
    assert content is not None
    return content


def check_triage(path: str | Path) -> list[str]:
    """Every problem line (empty when the file is fine)."""
    try:
        load_triage(path)
    except ContentError as error:
        return list(error.problems)
    return []


# -- reading -------------------------------------------------------------------

class _Reader:
    def __init__(self, locales: tuple[str, ...]) -> None:
        self.locales = locales
        self.source_uses: list[tuple[Fields, str, tuple[str, ...]]] = []

    def localized(self, fields: Fields, key: str, required: bool = True) -> Localized | None:
        node = fields.node(key)
        if node is None:
            if required:
                fields.problem(key, "required field is missing")
            return None
        if fields.value(key) is None or isinstance(fields.value(key), str):
            text = fields.required_str(key)
            return Localized({"*": text}) if text else None
        inner = fields.mapping(key)
        if inner is None:
            return None
        texts: dict[str, str] = {}
        for locale in inner.keys():
            if locale not in self.locales:
                inner.problem(locale, f"unknown locale; expected one of {', '.join(self.locales)}")
            text = inner.required_str(locale)
            if text:
                texts[locale] = text
        for locale in self.locales:
            if locale not in inner.keys():
                inner.problem_at(inner.line, inner.name(locale), "text for this locale is missing")
        return Localized(texts) if texts else None

    def sources(self, fields: Fields) -> tuple[str, ...]:
        keys = fields.required_str_list("sources", min_items=1)
        self.source_uses.append((fields, "sources", keys))
        return keys


def _read(path: str | Path, problems: Problems) -> TriageContent | None:
    try:
        document = load_document(path)
    except ContentError as error:
        problems.extend(error.problems)
        return None
    top = Fields.top(document, problems)
    top.reject_unknown(_TOP_KEYS)
    top.number("schema_version", 1, 1, "versions", integer=True, required=True)
    locales = _read_locales(top)
    default_locale = top.required_str("default_locale")
    if default_locale and locales and default_locale not in locales:
        top.problem("default_locale", f"not one of the locales ({', '.join(locales)})")
    reader = _Reader(tuple(locales))
    lines = _read_text_map(reader, top.mapping("lines"), LINES)
    answers = top.mapping("answers")
    low_no = answers.number("low_confidence_no_below", 0, 1, "confidence", required=True) if answers else None
    timeout = answers.number("timeout_seconds", 1, 60, "seconds", required=True) if answers else None
    if answers:
        reader.sources(answers)
    pain = _read_pain_rules(reader, top.mapping("pain_rules"))
    questions = _read_questions(reader, top)
    recheck = _read_recheck(reader, top.mapping("recheck"), questions)
    outcomes = _read_outcomes(reader, top.mapping_of_mappings("outcomes"), top)
    profile_questions, advice = _read_profile(reader, top.mapping("profile"))
    sources = _read_sources(top)
    lint_sources(reader.source_uses, sources)
    if problems or None in (default_locale, low_no, timeout, pain, recheck):
        return None  # lint needs a complete file; structure problems come first
    content = TriageContent(
        path=document.path, default_locale=default_locale, locales=locales, lines=lines,
        low_confidence_no_below=float(low_no), timeout_seconds=float(timeout), pain_rules=pain,
        recheck=recheck, questions=tuple(q for q, _ in questions), outcomes=outcomes,
        profile_questions=profile_questions, profile_advice=advice, sources=sources)
    lint(content, questions, top)
    return content


def _read_locales(top: Fields) -> dict[str, Locale]:
    result: dict[str, Locale] = {}
    for locale_id, fields in top.mapping_of_mappings("locales").items():
        fields.reject_unknown(("name", "emergency_number", "urgent_line"))
        name = fields.required_str("name")
        emergency = fields.required_str("emergency_number")
        urgent = fields.required_str("urgent_line")
        if emergency and not emergency.isdigit():
            fields.problem("emergency_number", f"expected digits, got '{emergency}'")
        if name and emergency and urgent:
            result[locale_id] = Locale(locale_id, name, emergency, urgent)
    return result


def _read_text_map(reader: _Reader, fields: Fields | None, required: tuple[str, ...]) -> dict[str, Localized]:
    if fields is None:
        return {}
    fields.reject_unknown(required)
    result: dict[str, Localized] = {}
    for key in required:
        text = reader.localized(fields, key)
        if text:
            result[key] = text
    return result


def _read_pain_rules(reader: _Reader, fields: Fields | None) -> PainRules | None:
    if fields is None:
        return None
    fields.reject_unknown(("scale_max", "rise_stops_exercise", "severe_at_least", "rest_seconds",
                           "resume_within", "sources"))
    values = (
        fields.number("scale_max", 10, 10, "points", integer=True, required=True),
        fields.number("rise_stops_exercise", 1, 10, "points", integer=True, required=True),
        fields.number("severe_at_least", 1, 10, "points", integer=True, required=True),
        fields.number("rest_seconds", 0, 600, "seconds", required=True),
        fields.number("resume_within", 0, 10, "points", integer=True, required=True),
    )
    reader.sources(fields)
    return None if None in values else PainRules(*values)


def _read_questions(reader: _Reader, top: Fields) -> list[tuple[Question, Fields]]:
    result: list[tuple[Question, Fields]] = []
    seen: dict[str, int] = {}
    for fields in top.list_of_mappings("questions"):
        fields.reject_unknown(_QUESTION_KEYS)
        qid = fields.required_str("id")
        if qid in seen:
            fields.problem("id", f"duplicate question id (first at line {seen[qid]})")
        elif qid:
            seen[qid] = fields.value_line("id")
        tier = fields.enum("tier", TIERS)
        route = fields.enum("route", ("none", "a", "b1", "b2"))
        text = reader.localized(fields, "text")
        question = Question(
            id=qid or "", tier=tier or "", text=text or Localized({"*": ""}), route=route or "",
            reason=fields.required_str("reason") or "", sources=reader.sources(fields),
            context=fields.enum("context", ("yesno", "number"), required=False, default="yesno") or "yesno",
            clarifier=reader.localized(fields, "clarifier", required=False),
            sign=reader.localized(fields, "sign", required=False),
            requires=fields.enum("requires", FLAGS, required=False),
            intimate=bool(fields.boolean("intimate", default=False)),
            ces=bool(fields.boolean("ces", default=False)),
            session_action=fields.enum("session_action", ("end", "skip-exercise"), required=False))
        result.append((question, fields))
    return result


def _read_recheck(reader: _Reader, fields: Fields | None,
                  questions: list[tuple[Question, Fields]]) -> Recheck | None:
    if fields is None:
        return None
    fields.reject_unknown(("id", "text", "still_ask", "sources"))
    tier_a = {q.id for q, _ in questions if q.tier == "A"}
    still = fields.required_str_list("still_ask")
    for index, qid in enumerate(still):
        if qid not in tier_a:
            fields.problem("still_ask", f"item {index} '{qid}' is not a tier-A question")
    qid, text = fields.required_str("id"), reader.localized(fields, "text")
    reader.sources(fields)
    return Recheck(qid, text, still) if qid and text else None


def _read_outcomes(reader: _Reader, outcomes: dict[str, Fields], top: Fields) -> dict[str, Localized]:
    result: dict[str, Localized] = {}
    for name, fields in outcomes.items():
        if name not in OUTCOMES:
            fields.problem_at(fields.line, fields.prefix, f"unknown outcome; expected one of {', '.join(OUTCOMES)}")
        fields.reject_unknown(("script", "sources"))
        script = reader.localized(fields, "script")
        reader.sources(fields)
        if script:
            result[name] = script
    for name in OUTCOMES:
        if name not in outcomes and top.has("outcomes"):
            top.problem("outcomes", f"outcome '{name}' is missing")
    return result


def _read_profile(reader: _Reader, fields: Fields | None) -> tuple[tuple[ProfileQuestion, ...], dict[str, ProfileAdvice]]:
    if fields is None:
        return (), {}
    fields.reject_unknown(("questions", "advice"))
    questions: list[ProfileQuestion] = []
    for item in fields.list_of_mappings("questions"):
        item.reject_unknown(("id", "text", "sets", "sources"))
        qid, text = item.required_str("id"), reader.localized(item, "text")
        sets = item.required_str_list("sets", choices=FLAGS)
        reader.sources(item)
        if qid and text and sets:
            questions.append(ProfileQuestion(qid, text, sets))
    advice: dict[str, ProfileAdvice] = {}
    for flag, item in fields.mapping_of_mappings("advice").items():
        if flag not in FLAGS:
            item.problem_at(item.line, item.prefix, f"unknown profile flag; expected one of {', '.join(FLAGS)}")
        item.reject_unknown(("blocks_programme", "script", "sources"))
        blocks = item.boolean("blocks_programme", required=True)
        script = reader.localized(item, "script")
        reader.sources(item)
        if blocks is not None and script:
            advice[flag] = ProfileAdvice(flag, blocks, script)
    return tuple(questions), advice


def _read_sources(top: Fields) -> dict[str, tuple[str, str]]:
    result: dict[str, tuple[str, str]] = {}
    for key, fields in top.mapping_of_mappings("sources").items():
        fields.reject_unknown(("title", "address"))
        title, address = fields.required_str("title"), fields.required_str("address")
        if title and address:
            result[key] = (title, address)
    return result
