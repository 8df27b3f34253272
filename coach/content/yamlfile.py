"""Read a YAML content file into nodes that keep the line of every key and value.

Content authors need errors that name file, line and field, and a malformed file
must never end in a traceback. PyYAML's node API (``yaml.compose``) keeps the
marks that ``yaml.safe_load`` throws away; ``coach.content.yamlnodes.Fields`` then checks
the nodes field by field.

API
---
``Problems()``
    Collector of problem lines. ``add(path, line, field, message)``, ``extend``,
    ``lines`` (list of str), ``len()``/``bool()``, ``raise_if_any()`` (raises
    ``coach.errors.ContentError(lines)``).

``load_document(path) -> Document``
    Parses one file. Raises ``ContentError`` with one line ``path:line: yaml: ...``
    for unreadable files, bytes that are not UTF-8, YAML syntax errors (tabs get
    a hint), an empty file, or a top level that is not a mapping.
``read_document(path, problems) -> Document | None``
    The same, but records the line in ``problems`` and returns None.
``display_path(path) -> str``
    The path relative to the working directory when it is under it, else as given.

``Document(path, root)``: ``path`` is the display path, ``root`` the MappingNode;
``Fields.top(doc, problems)`` (in ``coach.content.yamlnodes``) reads the top-level mapping
(once per document: duplicate keys are reported when a ``Fields`` is made).

Node helpers: ``line_of(node)`` (1-based line), ``to_python(node)`` (plain
value), ``describe(node)`` (how a wrong value reads after "got").
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from coach.errors import ContentError

YAML_TAG = "tag:yaml.org,2002:"
STR_TAG, NULL_TAG = YAML_TAG + "str", YAML_TAG + "null"
_MAX_SHOWN_CHARS = 40


class Problems:
    """Problem lines collected across files, reported together."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, path: str, line: int | None, field: str, message: str) -> None:
        where = f"{path}:{line}" if line else path
        self.lines.append(f"{where}: {field}: {message}" if field else f"{where}: {message}")

    def extend(self, lines: Iterable[str]) -> None:
        self.lines.extend(lines)

    def raise_if_any(self) -> None:
        if self.lines:
            raise ContentError(list(self.lines))

    def __len__(self) -> int:
        return len(self.lines)

    def __bool__(self) -> bool:
        return bool(self.lines)

    def __iter__(self):
        return iter(self.lines)


def display_path(path: str | os.PathLike[str]) -> str:
    given = os.fspath(path)
    absolute = os.path.abspath(given)
    cwd = os.getcwd()
    if absolute == cwd or absolute.startswith(cwd.rstrip(os.sep) + os.sep):
        return os.path.relpath(absolute, cwd)
    return given


def line_of(node: Node) -> int:
    return node.start_mark.line + 1


def to_python(node: Node) -> Any:
    """Plain Python value of a node (dicts, lists, str, int, float, bool, None)."""
    return yaml.constructor.SafeConstructor().construct_document(node)


def describe(node: Node) -> str:
    """How a wrong value is shown after "got"."""
    if isinstance(node, SequenceNode):
        count = len(node.value)
        return f"a list of {count} item{'' if count == 1 else 's'}" if count else "an empty list"
    if isinstance(node, MappingNode):
        return "a mapping"
    if node.tag == NULL_TAG and node.value in ("", "~", "null", "Null", "NULL"):
        return "nothing"
    shown = str(node.value)
    if len(shown) > _MAX_SHOWN_CHARS:
        shown = shown[: _MAX_SHOWN_CHARS - 3] + "..."
    shown = shown.replace("\n", " ")
    if node.tag == STR_TAG and node.style in ("'", '"'):
        return f"'{shown}' (text in quotes)"
    return f"'{shown}'"


@dataclass(frozen=True)
class Document:
    """One parsed file: its display path and top-level mapping node."""

    path: str
    root: MappingNode



def _yaml_problem(error: yaml.YAMLError, text: str) -> tuple[int, str]:
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 1
        message = error.problem or "not valid YAML"
        if error.context:
            message = f"{message} ({error.context})"
        lines = text.splitlines()
        if "'\\t'" in message:
            message = "found a tab character where YAML expects spaces; use spaces, not tabs"
        elif line <= len(lines) and "\t" in lines[line - 1]:
            message += "; this line has a tab: use spaces, not tabs"
        return line, message
    if isinstance(error, yaml.reader.ReaderError):
        line = text[: error.position].count("\n") + 1
        return line, f"unacceptable character #x{error.character:04x}"
    return 1, str(error).splitlines()[0] if str(error) else "not valid YAML"


def load_document(path: str | os.PathLike[str]) -> Document:
    shown = display_path(path)
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise ContentError([f"{shown}: cannot read: {error.strerror or error}"]) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        byte = data[error.start]
        raise ContentError([f"{shown}:{line}: yaml: not UTF-8 text (byte 0x{byte:02x}); save the file as UTF-8"]) from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        line, message = _yaml_problem(error, text)
        raise ContentError([f"{shown}:{line}: yaml: {message}"]) from None
    except RecursionError:
        raise ContentError([f"{shown}:1: yaml: nested too deeply"]) from None
    if root is None:
        raise ContentError([f"{shown}:1: yaml: the file is empty; expected a mapping of fields"])
    if not isinstance(root, MappingNode):
        raise ContentError([f"{shown}:{line_of(root)}: yaml: expected a mapping of fields at the top level, got {describe(root)}"])
    return Document(shown, root)


def read_document(path: str | os.PathLike[str], problems: Problems) -> Document | None:
    try:
        return load_document(path)
    except ContentError as error:
        problems.extend(error.problems)
        return None
