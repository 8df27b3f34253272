"""The whole history as one file, for a clinician or a backup: JSON (exported and
imported) or CSV (exported).

JSON: ``{"format": "coach-history", "version": 1, "sessions": [...], "pain_ratings": [...],
"morning_reports": [...], "triages": [... each with its "answers"], "safety_outcomes": [...],
"locks": [...], "profile": [...]}``, every row with its stored id and fields. A session also
shows its pain before, after and next morning (read from the ratings and reports; ignored
on import). Export, import into an empty data folder and export again give the same bytes.

Import restores a backup into an empty history only (ids are per history, so two
histories cannot be merged without renumbering; refusing is the safe choice). The file
is checked whole before anything is written, then written in one transaction; a problem
is reported as ``FILE:LINE: sessions[3].dose: ...``.

CSV: one table, one row per record; the ``record`` column says which (session, rating,
morning, triage, answer, outcome, lock, profile), the other columns are the union of the
records' fields (empty where a record has no such field; lists as JSON, true/false as 1/0).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

from coach.errors import UsageError
from coach.store.history import LOCK_KINDS, History
from coach.store.jsonlines import Path as JsonPath, parse_with_lines, path_text
from coach.store.records import MORNING_ANSWERS, session_records

FORMAT = "coach-history"
VERSION = 1
DOSES = ("low", "mid", "high")
DERIVED = ("pain_before", "pain_after", "next_morning")       # shown on sessions, not imported

# export key -> (table, ORDER BY, csv record name, ((field, type), ...)); "?" allows null
TABLES: dict[str, tuple[str, str, str, tuple[tuple[str, str], ...]]] = {
    "sessions": ("sessions", "started_at, rowid", "session", (
        ("id", "text"), ("started_at", "time"), ("ended_at", "time?"), ("routine_id", "text?"),
        ("dose", "dose?"), ("end_reason", "text?"))),
    "pain_ratings": ("pain_ratings", "id", "rating", (
        ("id", "int"), ("at", "time"), ("session_id", "text?"), ("triage_id", "text?"), ("value", "pain"),
        ("context", "text"))),
    "morning_reports": ("morning_reports", "id", "morning", (
        ("id", "int"), ("at", "time"), ("day", "day"), ("answer", "morning"))),
    "triages": ("triages", "started_at, rowid", "triage", (
        ("id", "text"), ("started_at", "time"), ("session_id", "text?"), ("exercise_id", "text?"),
        ("trigger", "text?"), ("mode", "text?"))),
    "safety_outcomes": ("triage_outcomes", "id", "outcome", (
        ("id", "int"), ("at", "time"), ("triage_id", "text"), ("session_id", "text?"), ("exercise_id", "text?"),
        ("outcome", "text"), ("session_action", "text"), ("reasons", "list"), ("complete", "bool"),
        ("mode", "text?"))),
    "locks": ("locks", "id", "lock", (
        ("id", "int"), ("created_at", "time"), ("kind", "lock"), ("until", "time?"), ("reason", "text"),
        ("session_id", "text?"), ("exercise_id", "text?"), ("triage_id", "text?"), ("released_at", "time?"))),
    "profile": ("profile", "key", "profile", (("key", "text"), ("value", "text"), ("updated_at", "time"))),
}
ANSWERS: tuple[tuple[str, str], ...] = (
    ("id", "int"), ("at", "time"), ("question_id", "text"), ("attempt", "text"), ("answer", "text"),
    ("value", "int?"), ("confidence", "real?"), ("heard_text", "text?"))


# -- export ---------------------------------------------------------------------------

def export_data(history: History) -> dict[str, Any]:
    data: dict[str, Any] = {"format": FORMAT, "version": VERSION}
    derived = {r.session_id: r for r in session_records(history)}
    for key, (table, order, _record, fields) in TABLES.items():
        rows = [_row(r, fields) for r in history._rows(f"SELECT * FROM {table} ORDER BY {order}")]
        if key == "sessions":
            for row in rows:
                rec = derived[row["id"]]
                row.update(pain_before=rec.pain_before, pain_after=rec.pain_after, next_morning=rec.next_morning)
        if key == "triages":
            for row in rows:
                row["answers"] = [_row(a, ANSWERS) for a in history._rows(
                    "SELECT * FROM triage_answers WHERE triage_id = ? ORDER BY id", (row["id"],))]
        data[key] = rows
    return data


def _row(row: Any, fields: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    out = {}
    for name, kind in fields:
        value = row[name]
        if kind == "list":
            value = json.loads(value)
        elif kind == "bool":
            value = bool(value)
        out[name] = value
    return out


def export_json(history: History) -> str:
    return json.dumps(export_data(history), indent=1, ensure_ascii=False) + "\n"


def export_csv(history: History) -> str:
    data = export_data(history)
    records: list[tuple[str, dict[str, Any]]] = []
    for key, (_table, _order, record, _fields) in TABLES.items():
        for row in data[key]:
            answers = row.pop("answers", [])
            records.append((record, row))
            records.extend(("answer", {"triage_id": row["id"], **a}) for a in answers)
    columns: dict[str, None] = {"record": None}
    for _record, row in records:
        columns.update(dict.fromkeys(row))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for record, row in records:
        writer.writerow([record, *(_cell(row.get(c)) for c in list(columns)[1:])])
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def export_file(history: History, path: Path) -> None:
    suffix = path.suffix.lower()
    if suffix not in (".json", ".csv"):
        raise UsageError("export-format", f"{path}: export writes .json or .csv")
    path.write_text(export_json(history) if suffix == ".json" else export_csv(history), encoding="utf-8")


# -- import ---------------------------------------------------------------------------

class _Problem(Exception):
    def __init__(self, path: JsonPath, message: str) -> None:
        super().__init__(message)
        self.path, self.message = path, message


def import_file(history: History, path: Path) -> dict[str, int]:
    """Restore ``path`` (a JSON export) into an empty history; how many rows of each kind."""
    text = path.read_text(encoding="utf-8")
    try:
        data, lines = parse_with_lines(text)
    except json.JSONDecodeError as error:
        raise UsageError("import-invalid", f"{path}:{error.lineno}: not JSON: {error.msg}") from None
    try:
        rows = validate(data)
    except _Problem as problem:
        line = _line_of(lines, problem.path)
        raise UsageError("import-invalid", f"{path}:{line}: {path_text(problem.path) or '(top)'}: "
                                           f"{problem.message}; nothing was imported") from None
    _write(history, rows)
    return {key: len(rows[key]) for key in (*TABLES, "triage_answers")}


def _line_of(lines: dict[JsonPath, int], path: JsonPath) -> int:
    while path not in lines:
        path = path[:-1]
    return lines[path]


def validate(data: Any) -> dict[str, list[dict[str, Any]]]:
    """Every row checked (types, values, unique ids); the rows to insert, per table."""
    if not isinstance(data, dict):
        raise _Problem((), "expected an object")
    if data.get("format") != FORMAT:
        raise _Problem(("format",), f"expected {FORMAT!r}")
    if data.get("version") != VERSION:
        raise _Problem(("version",), f"expected {VERSION}")
    unknown = set(data) - {"format", "version", *TABLES}
    if unknown:
        raise _Problem((sorted(unknown)[0],), "unknown field")
    out: dict[str, list[dict[str, Any]]] = {"triage_answers": []}
    for key, (_table, _order, _record, fields) in TABLES.items():
        items = data.get(key, [])
        if not isinstance(items, list):
            raise _Problem((key,), "expected a list")
        extra = DERIVED if key == "sessions" else ("answers",) if key == "triages" else ()
        out[key] = [_check(item, (key, i), fields, extra) for i, item in enumerate(items)]
        _unique(out[key], key, fields[0][0])
        if key == "triages":
            for i, item in enumerate(items):
                answers = item.get("answers", [])
                if not isinstance(answers, list):
                    raise _Problem((key, i, "answers"), "expected a list")
                for j, answer in enumerate(answers):
                    row = _check(answer, (key, i, "answers", j), ANSWERS, ())
                    out["triage_answers"].append({**row, "triage_id": item["id"]})
            _unique(out["triage_answers"], "triages", "id")
    return out


def _unique(rows: list[dict[str, Any]], key: str, id_field: str) -> None:
    seen: set[Any] = set()
    for i, row in enumerate(rows):
        if row[id_field] in seen:
            raise _Problem((key, i, id_field), f"{row[id_field]!r} appears twice")
        seen.add(row[id_field])


def _check(item: Any, path: JsonPath, fields: tuple[tuple[str, str], ...], extra: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise _Problem(path, "expected an object")
    names = {name for name, _kind in fields}
    for name in item:
        if name not in names and name not in extra:
            raise _Problem((*path, name), "unknown field")
    row = {}
    for name, kind in fields:
        if name not in item:
            raise _Problem(path, f"{name} is missing")
        row[name] = _value(item[name], kind, (*path, name))
    for name in extra:
        if name in DERIVED and name in item:
            _value(item[name], "morning?" if name == "next_morning" else "pain?", (*path, name))
    return row


def _value(value: Any, kind: str, path: JsonPath) -> Any:
    if value is None:
        if kind.endswith("?"):
            return None
        raise _Problem(path, "must not be null")
    kind = kind.rstrip("?")
    if kind in ("int", "pain"):
        if not isinstance(value, int) or isinstance(value, bool):
            raise _Problem(path, f"expected a whole number, got {json.dumps(value)}")
        if kind == "pain" and not 0 <= value <= 10:
            raise _Problem(path, f"pain is 0 to 10, got {value}")
        return value
    if kind == "real":
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise _Problem(path, f"expected a number, got {json.dumps(value)}")
        return float(value)
    if kind == "bool":
        if not isinstance(value, bool):
            raise _Problem(path, f"expected true or false, got {json.dumps(value)}")
        return value
    if kind == "list":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _Problem(path, "expected a list of strings")
        return value
    if not isinstance(value, str):
        raise _Problem(path, f"expected a string, got {json.dumps(value)}")
    choices = {"dose": DOSES, "morning": MORNING_ANSWERS, "lock": LOCK_KINDS}.get(kind)
    if choices is not None and value not in choices:
        raise _Problem(path, f"{value!r} is not one of {', '.join(choices)}")
    try:
        if kind == "time":
            datetime.fromisoformat(value)
        elif kind == "day":
            date.fromisoformat(value)
    except ValueError:
        raise _Problem(path, f"{value!r} is not an ISO 8601 {'date' if kind == 'day' else 'time'}") from None
    return value


def _write(history: History, rows: dict[str, list[dict[str, Any]]]) -> None:
    tables = {key: spec[0] for key, spec in TABLES.items()} | {"triage_answers": "triage_answers"}
    with history._write() as conn:
        for table in tables.values():
            if conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone():
                raise UsageError("import-not-empty", f"the history in {history.path.parent} is not empty: "
                                 "import restores a backup into an empty data folder (COACH_DATA_DIR)")
        for key, table in tables.items():
            for row in rows[key]:
                values = [json.dumps(v) if isinstance(v, list) else int(v) if isinstance(v, bool) else v
                          for v in row.values()]
                conn.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", values)
