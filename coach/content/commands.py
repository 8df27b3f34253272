"""The spoken command vocabulary: loaded from content/commands.yaml, it drives the
parser and every recognizer grammar, so adding a phrase is a content change only."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from coach.content.model import Heard
from coach.content.pain_intents import FIELD as PAIN_FIELD, PainIntents
from coach.content.pain_rules import read_pain_intents
from coach.content.words import normalise
from coach.errors import ContentError

NUMBER_COMMAND = "number"
MAX_NUMBER_VALUE = 10
_NAME_RE = re.compile(r"^[a-z][a-z_]*$")


@dataclass(frozen=True)
class Phrase:
    """One way of saying a command; ``words`` are normalised tokens."""

    command: str
    words: tuple[str, ...]
    value: int | None = None

    @property
    def text(self) -> str:
        return " ".join(self.words)


@dataclass(frozen=True)
class CommandSet:
    """Commands, their phrases, and which commands each context allows; ``pain_intents``
    tells a pain report in free speech (None when the file has no such section)."""

    phrases: tuple[Phrase, ...]
    urgent: frozenset[str]
    contexts: Mapping[str, tuple[str, ...]]
    pain_intents: PainIntents | None = None

    def commands(self, context: str) -> tuple[str, ...]:
        if context not in self.contexts:
            raise KeyError(f"unknown context {context!r}; known: {', '.join(sorted(self.contexts))}")
        return self.contexts[context]

    def context_phrases(self, context: str, urgent_only: bool = False) -> tuple[Phrase, ...]:
        allowed = set(self.commands(context))
        if urgent_only:
            allowed &= self.urgent
        return tuple(p for p in self.phrases if p.command in allowed)

    def is_urgent(self, command: str) -> bool:
        return command in self.urgent

    def words(self) -> frozenset[str]:
        return frozenset(w for p in self.phrases for w in p.words)


class CommandParser:
    """Text → the command it says in a context, preferring the longest phrase."""

    def __init__(self, command_set: CommandSet) -> None:
        self.command_set = command_set

    def __call__(self, text: str, context: str, urgent_only: bool = False) -> Heard | None:
        return self.parse(text, context, urgent_only)

    def match(self, text: str, context: str, urgent_only: bool = False) -> Phrase | None:
        tokens = normalise(text)
        best: tuple[int, int, Phrase] | None = None
        for phrase in self.command_set.context_phrases(context, urgent_only):
            size = len(phrase.words)
            for start in range(len(tokens) - size + 1):
                if tokens[start:start + size] == phrase.words:
                    key = (size, -start)
                    if best is None or key > best[:2]:
                        best = (size, -start, phrase)
                    break
        return best[2] if best else None

    def parse(self, text: str, context: str, urgent_only: bool = False) -> Heard | None:
        phrase = self.match(text, context, urgent_only)
        if phrase is None:
            return None
        return Heard(command=phrase.command, value=phrase.value, text=phrase.text, source="text")


def vosk_grammar(command_set: CommandSet, context: str, urgent_only: bool = False) -> str:
    """The JSON phrase list for Vosk grammar mode; "[unk]" soaks up everything else."""
    texts = sorted({p.text for p in command_set.context_phrases(context, urgent_only)})
    return json.dumps(texts + ["[unk]"], ensure_ascii=False)


# ---------------------------------------------------------------- loading

def default_commands_path(content_dir: Path | str | None = None) -> Path:
    if content_dir is None:
        import coach
        content_dir = Path(coach.__file__).resolve().parent.parent / "content"
    return Path(content_dir) / "commands.yaml"


def load_commands(path: Path | str | None = None) -> CommandSet:
    path = Path(path) if path is not None else default_commands_path()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ContentError([f"{path}: cannot read: {error.strerror or error}"]) from error
    return parse_commands(text, str(path))


def parse_commands(text: str, where: str = "commands.yaml") -> CommandSet:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise ContentError([f"{where}{line}: not valid YAML: {getattr(error, 'problem', error)}"]) from error
    return _Validator(where).run(root)


class _Validator:
    """Walks the YAML nodes so every problem names file, line and field."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.problems: list[str] = []

    def fail(self, node: yaml.Node | None, field: str, message: str) -> None:
        line = f":{node.start_mark.line + 1}" if node is not None else ""
        self.problems.append(f"{self.where}{line}: {field}: {message}")

    def mapping(self, node: yaml.Node | None, field: str) -> list[tuple[yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, field, "must be a mapping")
            return []
        return list(node.value)

    def strings(self, node: yaml.Node, field: str) -> list[tuple[yaml.Node, str]]:
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            self.fail(node, field, "must be a non-empty list")
            return []
        out = []
        for item in node.value:
            if isinstance(item, yaml.ScalarNode) and item.value.strip():
                out.append((item, item.value))
            else:
                self.fail(item, field, "each item must be a non-empty string")
        return out

    def run(self, root: yaml.Node | None) -> CommandSet:
        keys = dict((k.value, (k, v)) for k, v in self.mapping(root, "(top)"))
        for name, (key, _) in keys.items():
            if name not in ("commands", "contexts", "pain_intents"):
                self.fail(key, name, "unknown key (expected commands, contexts, pain_intents)")
        phrases: list[Phrase] = []
        urgent: set[str] = set()
        contexts: dict[str, tuple[str, ...]] = {}
        if "commands" not in keys:
            self.fail(root, "commands", "missing")
        else:
            for key, body in self.mapping(keys["commands"][1], "commands"):
                self.command(key, body, phrases, urgent)
        if "contexts" not in keys:
            self.fail(root, "contexts", "missing")
        else:
            known = {p.command for p in phrases}
            for key, body in self.mapping(keys["contexts"][1], "contexts"):
                contexts[key.value] = self.context(key, body, known)
        pain_intents = None
        if "pain_intents" in keys:
            pain_intents = read_pain_intents(keys["pain_intents"][1], self.fail)
        if self.problems:
            raise ContentError(self.problems)
        return CommandSet(tuple(phrases), frozenset(urgent), contexts, pain_intents)

    def command(self, key: yaml.Node, body: yaml.Node, phrases: list[Phrase], urgent: set[str]) -> None:
        name = key.value
        field = f"commands.{name}"
        if not _NAME_RE.match(name):
            self.fail(key, field, "command names are lower-case words joined by _")
        fields = dict((k.value, (k, v)) for k, v in self.mapping(body, field))
        allowed = {"phrases", "urgent", "values"}
        for unknown in sorted(set(fields) - allowed):
            self.fail(fields[unknown][0], f"{field}.{unknown}", "unknown key (expected phrases, urgent, values)")
        if "urgent" in fields:
            node = fields["urgent"][1]
            if not (isinstance(node, yaml.ScalarNode) and node.tag.endswith(":bool")):
                self.fail(node, f"{field}.urgent", "must be true or false")
            elif node.value.lower() == "true":
                urgent.add(name)
        if ("phrases" in fields) == ("values" in fields):
            self.fail(key, field, "needs exactly one of phrases or values")
        if "phrases" in fields:
            for node, text in self.strings(fields["phrases"][1], f"{field}.phrases"):
                self.phrase(node, f"{field}.phrases", text, name, None, phrases)
        if "values" in fields:
            for vkey, vbody in self.mapping(fields["values"][1], f"{field}.values"):
                vfield = f"{field}.values.{vkey.value}"
                try:
                    value = int(vkey.value)
                except ValueError:
                    value = -1
                if not 0 <= value <= MAX_NUMBER_VALUE:
                    self.fail(vkey, vfield, f"values must be whole numbers 0-{MAX_NUMBER_VALUE}")
                    continue
                for node, text in self.strings(vbody, vfield):
                    self.phrase(node, vfield, text, name, value, phrases)

    def phrase(self, node: yaml.Node, field: str, text: str, command: str, value: int | None,
               phrases: list[Phrase]) -> None:
        words = normalise(text)
        if " ".join(words) != text.strip().lower():
            self.fail(node, field, f"phrase {text!r} must be lower-case words only")
            return
        other = next((p for p in phrases if p.words == words), None)
        if other is not None:
            self.fail(node, field, f"phrase {text!r} already means {other.command}")
            return
        phrases.append(Phrase(command, words, value))

    def context(self, key: yaml.Node, body: yaml.Node, known: set[str]) -> tuple[str, ...]:
        field = f"contexts.{key.value}"
        names = []
        for node, name in self.strings(body, field):
            if name not in known:
                self.fail(node, field, f"unknown command {name!r}")
            elif name in names:
                self.fail(node, field, f"command {name!r} listed twice")
            else:
                names.append(name)
        return tuple(names)


def load_pain_intents(path: Path | str | None = None) -> PainIntents:
    """The section from commands.yaml (default: the packaged content); ContentError when
    it is missing or malformed."""
    command_set = load_commands(path)
    if command_set.pain_intents is None:
        where = str(path) if path is not None else "commands.yaml"
        raise ContentError([f"{where}: {PAIN_FIELD}: missing"])
    return command_set.pain_intents
