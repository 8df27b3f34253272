"""The command vocabulary: loading, validation errors, parsing, grammars."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coach.content.commands import (
    CommandParser,
    load_commands,
    normalise,
    parse_commands,
    vosk_grammar,
)
from coach.errors import ContentError

COMMANDS = load_commands()
PARSER = CommandParser(COMMANDS)

ISSUE_PHRASES = {
    "next": ["next", "next one", "skip"],
    "back": ["back", "go back", "previous"],
    "repeat": ["repeat", "again", "say that again"],
    "pause": ["pause", "wait", "hold on"],
    "resume": ["go", "resume", "continue", "carry on"],
    "stop": ["stop", "stop the session", "enough"],
    "time_left": ["how long", "time left"],
    "pain": ["pain", "it hurts", "that hurts", "ouch", "sharp pain"],
    "yes": ["yes", "yeah", "yep"],
    "no": ["no", "nope"],
    "not_sure": ["not sure", "i don't know", "maybe"],
}
NUMBERS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]


def phrases_of(command: str) -> set[str]:
    return {p.text for p in COMMANDS.phrases if p.command == command}


@pytest.mark.parametrize("command", sorted(ISSUE_PHRASES))
def test_every_phrase_of_the_issue_is_in_the_vocabulary(command: str) -> None:
    assert set(ISSUE_PHRASES[command]) <= phrases_of(command)


def test_numbers_zero_to_ten_carry_their_values() -> None:
    values = {p.text: p.value for p in COMMANDS.phrases if p.command == "number"}
    assert values == {word: i for i, word in enumerate(NUMBERS)}


def test_urgent_commands_are_stop_and_pain() -> None:
    assert COMMANDS.urgent == frozenset({"stop", "pain"})


@pytest.mark.parametrize("context", ["session", "yesno", "number"])
def test_urgent_commands_can_be_heard_in_every_context(context: str) -> None:
    assert {"stop", "pain"} <= set(COMMANDS.commands(context))


def test_contexts_allow_what_the_issue_says() -> None:
    assert set(COMMANDS.commands("yesno")) == {"yes", "no", "not_sure", "repeat", "stop", "pain"}
    assert set(COMMANDS.commands("number")) == {"number", "not_sure", "repeat", "stop", "pain"}
    assert {"next", "back", "repeat", "pause", "resume", "stop", "slower", "faster",
            "time_left", "help", "pain"} == set(COMMANDS.commands("session"))


def test_unknown_context_is_an_error() -> None:
    with pytest.raises(KeyError):
        PARSER.parse("stop", "kitchen")


@pytest.mark.parametrize("text,context,command,value", [
    ("go", "session", "resume", None),
    ("go back", "session", "back", None),
    ("Go back, please!", "session", "back", None),
    ("stop the session", "session", "stop", None),
    ("it hurts", "yesno", "pain", None),
    ("Stop if you feel any sharp pain", "session", "pain", None),   # longest phrase wins
    ("I don\u2019t know", "number", "not_sure", None),
    ("seven", "number", "number", 7),
    ("10", "number", "number", 10),
    ("yes", "yesno", "yes", None),
    ("nope", "yesno", "no", None),
])
def test_parse(text: str, context: str, command: str, value: int | None) -> None:
    heard = PARSER.parse(text, context)
    assert heard is not None
    assert (heard.command, heard.value) == (command, value)


@pytest.mark.parametrize("text,context", [
    ("go", "yesno"), ("go", "number"), ("next", "yesno"), ("seven", "session"),
    ("yes", "session"), ("", "session"), ("the dog barked", "session"), ("note", "yesno"),
    ("going", "session"),
])
def test_parse_rejects_what_the_context_does_not_allow(text: str, context: str) -> None:
    assert PARSER.parse(text, context) is None


def test_urgent_only_parsing_hears_only_urgent_commands() -> None:
    assert PARSER.parse("next", "session", urgent_only=True) is None
    assert PARSER.parse("ouch", "session", urgent_only=True).command == "pain"


@given(st.sampled_from(COMMANDS.phrases), st.sampled_from(["session", "yesno", "number"]),
       st.lists(st.sampled_from(["um", "please", "okay", "the"]), max_size=3))
def test_every_phrase_parses_to_its_command_where_allowed(phrase, context, filler) -> None:
    heard = PARSER.parse(" ".join(filler + [phrase.text]), context)
    if phrase.command in COMMANDS.commands(context):
        assert heard is not None and heard.command == phrase.command and heard.value == phrase.value
    else:
        assert heard is None or heard.command != phrase.command


def test_normalise() -> None:
    assert normalise("Don\u2019t-STOP, 3!") == ("don't", "stop", "three")


def test_vosk_urgent_only_has_only_urgent_phrases() -> None:
    phrases = json.loads(vosk_grammar(COMMANDS, "session", urgent_only=True))
    assert "stop" in phrases and "ouch" in phrases and "next" not in phrases


def test_vosk_grammar_is_a_json_list_ending_with_unk() -> None:
    phrases = json.loads(vosk_grammar(COMMANDS, "yesno"))
    assert phrases[-1] == "[unk]"
    assert set(phrases[:-1]) == {p.text for p in COMMANDS.context_phrases("yesno")}


# ---------------------------------------------------------------- validation

GOOD = """\
commands:
  stop:
    urgent: true
    phrases: [stop]
  number:
    values:
      1: [one]
contexts:
  session: [stop, number]
"""


def problems(text: str) -> list[str]:
    with pytest.raises(ContentError) as caught:
        parse_commands(text, "x/commands.yaml")
    return caught.value.problems


def test_small_valid_file_loads() -> None:
    command_set = parse_commands(GOOD)
    assert command_set.is_urgent("stop")
    assert PARSER.__class__(command_set).parse("one", "session").value == 1


@pytest.mark.parametrize("bad,line,field", [
    (GOOD.replace("phrases: [stop]", "phrases: [Stop!]"), 4, "commands.stop.phrases"),
    (GOOD.replace("urgent: true", "urgent: maybe"), 3, "commands.stop.urgent"),
    (GOOD.replace("      1: [one]", "      11: [one]"), 7, "commands.number.values.11"),
    (GOOD.replace("[stop, number]", "[stop, jump]"), 9, "contexts.session"),
    (GOOD.replace("    urgent: true\n", "    urgnt: true\n"), 3, "commands.stop.urgnt"),
    (GOOD.replace("      1: [one]", "      1: [stop]"), 7, "commands.number.values.1"),
    (GOOD.replace("    phrases: [stop]\n", ""), 2, "commands.stop"),
])
def test_validation_errors_name_file_line_and_field(bad: str, line: int, field: str) -> None:
    found = problems(bad)
    assert any(p.startswith(f"x/commands.yaml:{line}: {field}") for p in found), found


def test_broken_yaml_names_the_line() -> None:
    found = problems("commands:\n  stop: [\n")
    assert found[0].startswith("x/commands.yaml:") and "YAML" in found[0]


def test_missing_sections_are_reported() -> None:
    found = problems("commands: {}\n")
    assert any("contexts: missing" in p for p in found)
