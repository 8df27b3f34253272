"""Load content/ (exercises, tips, routines) into a Library, reporting every problem.

All files are read and checked before anything is reported, so an author sees
the whole list at once: one line per problem naming file, line and field.
The format is described in the README (content format) and the fields below.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import coach
from coach.errors import ContentError
from coach.content.model import POSITIONS, Exercise, Library, Range, Routine, RoutineItem, SourceRef, Tip
from coach.content.yamlfile import Problems, display_path, read_document
from coach.content.yamlnodes import Fields

FOLDERS: tuple[str, ...] = ("exercises", "tips", "routines")
KINDS: tuple[str, ...] = ("exercise", "self-care")
SIDES: tuple[str, ...] = ("one", "both", "none")

# (low, high, unit phrase, whole numbers only)
DOSE_LIMITS: dict[str, tuple[float, float, str, bool]] = {
    "hold_seconds": (1, 600, "seconds", False),
    "reps": (1, 50, "repetitions", True),
    "sets": (1, 10, "sets", True),
    "rest_seconds": (0, 600, "seconds", False),
    "duration_seconds": (10, 3600, "seconds", False),
}
TEMPO_LIMITS: tuple[float, float] = (1, 30)
REST_BETWEEN_LIMITS: tuple[float, float] = (0, 600)
OVERRIDE_KEYS: tuple[str, ...] = ("hold_seconds", "reps", "sets", "rest_seconds", "duration_seconds")

EXERCISE_KEYS = (
    "id", "name", "kind", "source", "position", "equipment", "sides", "alternate_sides",
    "hold_seconds", "reps", "sets", "rest_seconds", "tempo_seconds", "duration_seconds",
    "setup", "steps", "breathing", "cautions", "notes",
)
TIP_KEYS = ("id", "name", "source", "text")
ROUTINE_KEYS = ("id", "name", "description", "intro", "outro", "rest_between_seconds", "items")
ITEM_KEYS = ("exercise", "tip", *OVERRIDE_KEYS)
SOURCE_KEYS = ("file", "section")

KEBAB_ID = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
# Spoken lines go to a speech synthesizer: no symbols, brackets or abbreviations.
UNSPEAKABLE = re.compile(r"[()\[\]{}<>/\\&%+=#@*_|~^°§$€£]")
ABBREVIATION = re.compile(r"\b(e\.g|i\.e|etc|approx|vs|mins?|secs?|hrs?)\b\.?", re.IGNORECASE)

T = TypeVar("T")
_LINE = re.compile(r"^.*?:(\d+):")


def default_content_dir() -> Path:
    configured = os.environ.get("COACH_CONTENT_DIR")
    if configured:
        return Path(configured)
    return Path(coach.__file__).resolve().parent.parent / "content"


def load_library(content_dir: Path) -> Library:
    """Read and check everything; raise ContentError listing all problems."""
    content_dir = Path(content_dir)
    if not content_dir.is_dir():
        raise ContentError([f"{display_path(content_dir)}: content folder not found"])
    missing = [f"{display_path(content_dir / name)}: content folder not found" for name in FOLDERS
               if not (content_dir / name).is_dir()]
    if missing:
        raise ContentError(missing)
    problems = Problems()
    exercises, exercise_ids = _load_folder(content_dir / "exercises", _read_exercise, problems)
    tips, tip_ids = _load_folder(content_dir / "tips", _read_tip, problems)

    def read_routine(fields: Fields, where: str) -> Routine | None:
        return _read_routine(fields, where, References(exercise_ids, tip_ids))

    routines, _ = _load_folder(content_dir / "routines", read_routine, problems)
    problems.raise_if_any()
    return Library(exercises=exercises, tips=tips, routines=routines)


def _load_folder(folder: Path, read: Callable[[Fields, str], T | None],
                 problems: Problems) -> tuple[dict[str, T], set[str]]:
    """Read every *.yaml of a folder; ids must be unique and equal the file stem.

    Returns the items that loaded cleanly and every id or file stem seen, so a
    reference to a broken file is not reported a second time.
    """
    loaded: dict[str, T] = {}
    seen_at: dict[str, str] = {}
    for path in sorted(folder.glob("*.yml")):
        problems.add(display_path(path), None, "", "content files must end in .yaml")
    for path in sorted(folder.glob("*.yaml")):
        file_problems = Problems()
        document = read_document(path, file_problems)
        if document is not None:
            fields = Fields.top(document, file_problems)
            item_id = _read_id(fields, path.stem)
            item = read(fields, f"{document.path}:{fields.line}")
            if item_id is not None and item_id in seen_at:
                fields.problem("id", f"duplicate id '{item_id}' (also in {seen_at[item_id]})")
            elif item_id is not None:
                seen_at[item_id] = fields.where("id")
                if item is not None and not file_problems:
                    loaded[item_id] = item
        problems.extend(sorted(file_problems.lines, key=_line_number))
    return loaded, set(seen_at) | {path.stem for path in folder.glob("*.yaml")}


def _line_number(problem: str) -> int:
    match = _LINE.match(problem)
    return int(match.group(1)) if match else 0


def _read_id(fields: Fields, stem: str) -> str | None:
    item_id = fields.required_str("id")
    if item_id is None:
        return None
    if not KEBAB_ID.fullmatch(item_id):
        fields.problem("id", f"expected a kebab-case id such as 'pelvic-tilt', got '{item_id}'")
        return None
    if item_id != stem:
        fields.problem("id", f"id '{item_id}' must equal the file name '{stem}.yaml'")
    return item_id


def _sources(fields: Fields) -> tuple[SourceRef, ...]:
    refs = []
    for entry in fields.list_of_mappings("source", min_items=1):
        entry.reject_unknown(SOURCE_KEYS)
        file, section = entry.required_str("file"), entry.required_str("section")
        if file is not None and section is not None:
            refs.append(SourceRef(file=file, section=section))
    return tuple(refs)


def _spoken(fields: Fields, key: str, required: bool) -> tuple[str, ...]:
    lines = fields.required_str_list(key) if required else fields.optional_str_list(key)
    node = fields.node(key)
    for index, line in enumerate(lines):
        where = node.value[index].start_mark.line + 1 if node is not None else fields.line
        name = f"{fields.name(key)}[{index}]"
        symbol = UNSPEAKABLE.search(line)
        if symbol:
            fields.problem_at(where, name, f"spoken text must not contain '{symbol.group()}'; write it in words")
        short = ABBREVIATION.search(line)
        if short:
            fields.problem_at(where, name, f"spoken text must not abbreviate ('{short.group()}'); write it in full")
    return lines


def _dose(fields: Fields, key: str) -> Range | None:
    low, high, unit, integer = DOSE_LIMITS[key]
    pair = fields.number_or_range(key, low, high, unit, integer=integer)
    return None if pair is None else Range(pair[0], pair[1])


def _read_exercise(fields: Fields, where: str) -> Exercise | None:
    fields.reject_unknown(EXERCISE_KEYS)
    if not any(fields.has(key) for key in ("hold_seconds", "reps", "duration_seconds")):
        fields.problem_at(fields.line, "", "expected at least one of hold_seconds, reps or duration_seconds")
    doses = {key: _dose(fields, key) for key in DOSE_LIMITS}
    exercise = Exercise(
        id=fields.value("id"),
        name=fields.required_str("name"),
        kind=fields.enum("kind", KINDS),
        sources=_sources(fields),
        position=fields.enum("position", POSITIONS),
        equipment=fields.optional_str_list("equipment"),
        sides=fields.enum("sides", SIDES),
        alternate_sides=bool(fields.boolean("alternate_sides", default=False)),
        tempo_seconds=fields.number("tempo_seconds", *TEMPO_LIMITS, "seconds"),
        setup=_spoken(fields, "setup", required=True),
        steps=_spoken(fields, "steps", required=True),
        breathing=_spoken(fields, "breathing", required=False),
        cautions=_spoken(fields, "cautions", required=False),
        notes=_spoken(fields, "notes", required=False),
        where=where,
        **doses,
    )
    return exercise


def _read_tip(fields: Fields, where: str) -> Tip | None:
    fields.reject_unknown(TIP_KEYS)
    return Tip(
        id=fields.value("id"),
        name=fields.required_str("name"),
        sources=_sources(fields),
        text=_spoken(fields, "text", required=True),
        where=where,
    )


@dataclass(frozen=True)
class References:
    """Ids a routine may name."""

    exercise_ids: set[str]
    tip_ids: set[str]


def _read_item(item: Fields, known: References) -> RoutineItem | None:
    item.reject_unknown(ITEM_KEYS)
    has_exercise, has_tip = item.has("exercise"), item.has("tip")
    if has_exercise == has_tip:
        which = "both" if has_exercise else "neither"
        item.problem_at(item.line, item.prefix, f"expected exactly one of exercise or tip, got {which}")
    exercise_id = item.required_str("exercise") if has_exercise else None
    tip_id = item.required_str("tip") if has_tip else None
    if exercise_id is not None and exercise_id not in known.exercise_ids:
        item.problem("exercise", f"no exercise with id '{exercise_id}' in exercises/")
    if tip_id is not None and tip_id not in known.tip_ids:
        item.problem("tip", f"no tip with id '{tip_id}' in tips/")
    overrides = {}
    for key in OVERRIDE_KEYS:
        if has_tip and item.has(key):
            item.problem(key, "dose overrides apply to exercises only")
            continue
        low, high, unit, integer = DOSE_LIMITS[key]
        overrides[key] = item.number(key, low, high, unit, integer=integer)
    return RoutineItem(exercise_id=exercise_id, tip_id=tip_id, where=f"{item.path}:{item.line}", **overrides)


def _read_routine(fields: Fields, where: str, known: References) -> Routine | None:
    fields.reject_unknown(ROUTINE_KEYS)
    return Routine(
        id=fields.value("id"),
        name=fields.required_str("name"),
        description=fields.required_str("description"),
        intro=_spoken(fields, "intro", required=True),
        outro=_spoken(fields, "outro", required=True),
        rest_between_seconds=fields.number("rest_between_seconds", *REST_BETWEEN_LIMITS, "seconds", required=True),
        items=tuple(item for entry in fields.list_of_mappings("items", min_items=1)
                    if (item := _read_item(entry, known)) is not None),
        where=where,
    )
