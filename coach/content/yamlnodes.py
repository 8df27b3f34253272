"""Typed, problem-recording reading of the fields of YAML content.

Content authors need errors that name file, line and field, and a malformed file
must never end in a traceback. ``coach.content.yamlfile`` keeps the line of every node;
this module checks the nodes field by field, recording one line per problem::

    content/exercises/pelvic-tilt.yaml:7: hold_seconds: expected a number of seconds from 1 to 600, got '-seven'

``Fields`` wraps one mapping node (where things are and recording problems come from
``coach.content.yamlmapping.MappingFields``) (``Fields.top(document, problems)`` for the
top level of a ``coach.content.yamlfile.Document``). Field names in messages are dotted paths from
the top of the file, with 0-based list indexes: ``items[2].reps``. Every reader
records a problem and returns None (or an empty tuple/list) when the value is
missing or wrong, so a caller can keep going and report everything at once.

- ``has(key)``, ``keys()``, ``line`` (line of the mapping), ``key_line(key)``,
  ``value_line(key)``, ``name(key)`` (dotted field name), ``where(key=None)``
  (``"path:line"``), ``node(key)`` (raw node or None), ``value(key)`` (plain
  Python value, aliases resolved, or None).
- ``required_str(key)`` / ``optional_str(key, default=None)``: non-empty text
  (numbers, booleans and nulls are not text).
- ``required_str_list(key, min_items=1, choices=None)`` /
  ``optional_str_list(key, choices=None)``: a list of non-empty texts, returned
  as a tuple; a single text where a list is expected is a problem.
- ``boolean(key, required=False, default=None)``.
- ``number(key, low, high, unit_phrase, integer=False, required=False)``:
  int or float within [low, high]; booleans, text and NaN are rejected.
- ``number_or_range(key, low, high, unit_phrase, integer=False, required=False)``:
  a number or a two-item list ``[low, high]`` with low <= high; returns a
  ``(low, high)`` tuple (a single number gives ``(n, n)``). At most one
  problem per field: on the bad end (``hold_seconds[1]``) or on the whole list.
- ``enum(key, choices, required=True, default=None)``.
- ``mapping(key, required=True) -> Fields | None``.
- ``list_of_mappings(key, required=True, min_items=1) -> list[Fields]``.
- ``mapping_of_mappings(key, required=True) -> dict[str, Fields]``.
- ``reject_unknown(allowed_keys)``: one problem per key not allowed.
- ``problem(key, message)``: record your own check (a lint rule, a bad
  reference) at the key's value line (the mapping line if the key is absent).
  ``problem_at(line, field, message)`` for anything else.

Attributes: ``path`` (display path), ``prefix`` (this mapping's dotted name,
"" at the top), ``problems`` (the shared ``Problems``), ``mapping_node``.

``unit_phrase`` reads after "a number of": ``"seconds"`` gives "expected a number
of seconds from 1 to 600"; with ``integer=True`` it is "a whole number of ...".

Anchors and aliases work (an alias reports the anchor's line); merge keys
(``<<: *base``) are merged, explicit keys winning. Duplicate keys are problems.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Sequence

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from coach.content.yamlfile import NULL_TAG, STR_TAG, YAML_TAG, describe, line_of, to_python
from coach.content.yamlmapping import MappingFields

_INT, _FLOAT, _BOOL = (YAML_TAG + t for t in ("int", "float", "bool"))


class Fields(MappingFields):
    """Typed, problem-recording access to one mapping node."""

    # -- scalars -------------------------------------------------------------
    def _text(self, node: Node, field: str) -> str | None:
        if not isinstance(node, ScalarNode) or node.tag != STR_TAG:
            hint = " (put it in quotes if it is meant as text)" if isinstance(node, ScalarNode) and node.tag != NULL_TAG else ""
            self.problem_at(line_of(node), field, f"expected text, got {describe(node)}{hint}")
            return None
        if not node.value.strip():
            self.problem_at(line_of(node), field, "expected text, got empty text")
            return None
        return node.value

    def required_str(self, key: str) -> str | None:
        if self._missing(key, True):
            return None
        return self._text(self._pairs[key][1], self.name(key))

    def optional_str(self, key: str, default: str | None = None) -> str | None:
        if self._missing(key, False):
            return default
        return self._text(self._pairs[key][1], self.name(key))

    def _str_list(self, key: str, min_items: int, choices: Sequence[str] | None) -> tuple[str, ...]:
        node = self._pairs[key][1]
        if not isinstance(node, SequenceNode):
            self.problem(key, f"expected a list of texts, got {describe(node)}")
            return ()
        if len(node.value) < min_items:
            self.problem(key, f"expected at least {min_items} item{'s' if min_items > 1 else ''}, got {describe(node)}")
            return ()
        texts: list[str] = []
        for index, item in enumerate(node.value):
            field = f"{self.name(key)}[{index}]"
            text = self._text(item, field)
            if text is not None and choices is not None and text not in choices:
                self.problem_at(line_of(item), field, f"expected one of {', '.join(choices)}, got {describe(item)}")
                text = None
            if text is not None:
                texts.append(text)
        return tuple(texts) if len(texts) == len(node.value) else ()

    def required_str_list(self, key: str, min_items: int = 1, choices: Sequence[str] | None = None) -> tuple[str, ...]:
        if self._missing(key, True):
            return ()
        return self._str_list(key, min_items, choices)

    def optional_str_list(self, key: str, choices: Sequence[str] | None = None) -> tuple[str, ...]:
        if self._missing(key, False):
            return ()
        return self._str_list(key, 0, choices)

    def boolean(self, key: str, required: bool = False, default: bool | None = None) -> bool | None:
        if self._missing(key, required):
            return default
        node = self._pairs[key][1]
        if not isinstance(node, ScalarNode) or node.tag != _BOOL:
            self.problem(key, f"expected true or false, got {describe(node)}")
            return None
        return bool(to_python(node))

    def enum(self, key: str, choices: Sequence[str], required: bool = True, default: str | None = None) -> str | None:
        if self._missing(key, required):
            return default
        node = self._pairs[key][1]
        if not isinstance(node, ScalarNode) or node.tag != STR_TAG or node.value not in choices:
            self.problem(key, f"expected one of {', '.join(choices)}, got {describe(node)}")
            return None
        return node.value

    # -- numbers -------------------------------------------------------------
    @staticmethod
    def _expected(low: float, high: float, unit_phrase: str, integer: bool) -> str:
        kind = "a whole number" if integer else "a number"
        return f"{kind} of {unit_phrase} from {_num(low)} to {_num(high)}"

    def _number(self, node: Node, low: float, high: float, integer: bool) -> int | float | None:
        if not isinstance(node, ScalarNode) or node.tag not in (_INT, _FLOAT):
            return None
        value = to_python(node)
        if not math.isfinite(value):
            return None
        if integer:
            if isinstance(value, float) and not value.is_integer():
                return None
            value = int(value)
        return value if low <= value <= high else None

    def number(self, key: str, low: float, high: float, unit_phrase: str,
               integer: bool = False, required: bool = False) -> int | float | None:
        if self._missing(key, required):
            return None
        node = self._pairs[key][1]
        value = self._number(node, low, high, integer)
        if value is None:
            self.problem(key, f"expected {self._expected(low, high, unit_phrase, integer)}, got {describe(node)}")
        return value

    def number_or_range(self, key: str, low: float, high: float, unit_phrase: str,
                        integer: bool = False, required: bool = False) -> tuple[int | float, int | float] | None:
        if self._missing(key, required):
            return None
        node = self._pairs[key][1]
        expected = self._expected(low, high, unit_phrase, integer)
        if not isinstance(node, SequenceNode):
            value = self._number(node, low, high, integer)
            if value is None:
                self.problem(key, f"expected {expected}, got {describe(node)}")
                return None
            return (value, value)
        kind = "a whole number" if integer else "a number"
        expected_range = f"{kind} or a range [low, high] of {unit_phrase} from {_num(low)} to {_num(high)}"
        if len(node.value) != 2:
            self.problem(key, f"expected {expected_range}, got {describe(node)}")
            return None
        ends = [self._number(item, low, high, integer) for item in node.value]
        bad = [index for index, value in enumerate(ends) if value is None]
        if len(bad) == 2:
            self.problem(key, f"expected {expected_range}, got [{', '.join(_shown(item) for item in node.value)}]")
            return None
        if bad:
            item = node.value[bad[0]]
            self.problem_at(line_of(item), f"{self.name(key)}[{bad[0]}]", f"expected {expected}, got {describe(item)}")
            return None
        if ends[0] > ends[1]:
            self.problem(key, f"range low end {_num(ends[0])} is above high end {_num(ends[1])}")
            return None
        return (ends[0], ends[1])

    # -- nesting -------------------------------------------------------------
    def mapping(self, key: str, required: bool = True) -> Fields | None:
        if self._missing(key, required):
            return None
        node = self._pairs[key][1]
        if not isinstance(node, MappingNode):
            self.problem(key, f"expected a mapping of fields, got {describe(node)}")
            return None
        return Fields(node, self.path, self.problems, self.name(key))

    def list_of_mappings(self, key: str, required: bool = True, min_items: int = 1) -> list[Fields]:
        if self._missing(key, required):
            return []
        node = self._pairs[key][1]
        if not isinstance(node, SequenceNode):
            self.problem(key, f"expected a list of mappings, got {describe(node)}")
            return []
        if len(node.value) < min_items:
            self.problem(key, f"expected at least {min_items} item{'s' if min_items > 1 else ''}, got {describe(node)}")
            return []
        result: list[Fields] = []
        for index, item in enumerate(node.value):
            field = f"{self.name(key)}[{index}]"
            if isinstance(item, MappingNode):
                result.append(Fields(item, self.path, self.problems, field))
            else:
                self.problem_at(line_of(item), field, f"expected a mapping of fields, got {describe(item)}")
        return result

    def mapping_of_mappings(self, key: str, required: bool = True) -> dict[str, Fields]:
        inner = self.mapping(key, required)
        if inner is None:
            return {}
        result: dict[str, Fields] = {}
        for name in inner.keys():
            child = inner.mapping(name)
            if child is not None:
                result[name] = child
        return result

    def reject_unknown(self, allowed_keys: Iterable[str]) -> None:
        allowed = set(allowed_keys)
        for key, (key_node, _value) in self._pairs.items():
            if key not in allowed:
                close = difflib.get_close_matches(key, sorted(allowed), n=1)
                hint = f"; did you mean {close[0]}?" if close else ""
                self.problem_at(line_of(key_node), self.name(key), f"unknown field{hint}")


def _shown(node: Node) -> str:
    if isinstance(node, ScalarNode):
        return describe(node).split(" (")[0].strip("'") if node.tag != NULL_TAG else "null"
    return "[...]" if isinstance(node, SequenceNode) else "{...}"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
