"""One mapping node of YAML content as named fields: where each field is (its dotted
name, key and value lines) and the problems recorded against it. Merge keys
(``<<: *base``) are merged with explicit keys winning; duplicate keys and keys
that are not text are problems. ``coach.content.yamlnodes.Fields`` adds the typed
readers on top.
"""

from __future__ import annotations

from typing import Any, Self

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from coach.content.yamlfile import STR_TAG, YAML_TAG, Document, Problems, describe, line_of, to_python

_MERGE = YAML_TAG + "merge"


class MappingFields:
    """One mapping node's fields: where each is, and the problems recorded against it."""

    def __init__(self, node: MappingNode, path: str, problems: Problems, prefix: str = "") -> None:
        self.mapping_node = node
        self.path = path
        self.problems = problems
        self.prefix = prefix
        self.line = line_of(node)
        self._pairs: dict[str, tuple[Node, Node]] = {}
        merged: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                self._merge_into(merged, value_node)
                continue
            if not isinstance(key_node, ScalarNode) or key_node.tag != STR_TAG:
                self.problem_at(line_of(key_node), prefix, f"keys must be text, got {describe(key_node)}")
                continue
            key = key_node.value
            if key in self._pairs:
                first = line_of(self._pairs[key][0])
                self.problem_at(line_of(key_node), self.name(key), f"duplicate key (first at line {first})")
                continue
            self._pairs[key] = (key_node, value_node)
        for key, pair in merged.items():
            self._pairs.setdefault(key, pair)

    def _merge_into(self, merged: dict[str, tuple[Node, Node]], value: Node) -> None:
        sources = value.value if isinstance(value, SequenceNode) else [value]
        for source in sources:
            if not isinstance(source, MappingNode):
                self.problem_at(line_of(source), self.name("<<"), f"can only merge mappings, got {describe(source)}")
                continue
            for key_node, value_node in source.value:
                if isinstance(key_node, ScalarNode) and key_node.tag == STR_TAG:
                    merged.setdefault(key_node.value, (key_node, value_node))

    @classmethod
    def top(cls, document: Document, problems: Problems) -> Self:
        """The file's top-level mapping; make it once per document (duplicate keys
        are reported when a ``Fields`` is made)."""
        return cls(document.root, document.path, problems)

    # -- where things are ------------------------------------------------
    def name(self, key: str) -> str:
        return f"{self.prefix}.{key}" if self.prefix else key

    def has(self, key: str) -> bool:
        return key in self._pairs

    def keys(self) -> list[str]:
        return list(self._pairs)

    def node(self, key: str) -> Node | None:
        pair = self._pairs.get(key)
        return pair[1] if pair else None

    def key_line(self, key: str) -> int:
        pair = self._pairs.get(key)
        return line_of(pair[0]) if pair else self.line

    def value_line(self, key: str) -> int:
        pair = self._pairs.get(key)
        return line_of(pair[1]) if pair else self.line

    def where(self, key: str | None = None) -> str:
        return f"{self.path}:{self.value_line(key) if key else self.line}"

    def value(self, key: str) -> Any:
        node = self.node(key)
        return None if node is None else to_python(node)

    # -- recording ---------------------------------------------------------
    def problem_at(self, line: int, field: str, message: str) -> None:
        self.problems.add(self.path, line, field, message)

    def problem(self, key: str, message: str) -> None:
        self.problem_at(self.value_line(key), self.name(key), message)

    def _missing(self, key: str, required: bool) -> bool:
        """True when the key is absent (recording a problem if it was required)."""
        if key in self._pairs:
            return False
        if required:
            self.problem_at(self.line, self.name(key), "required field is missing")
        return True
