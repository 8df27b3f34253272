"""The YAML node layer: every malformed input becomes one located line, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coach.errors import ContentError
from coach.content.yamlfile import Problems, display_path, load_document, read_document
from coach.content.yamlnodes import Fields


def write(tmp_path: Path, text: str | bytes, name: str = "doc.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def fields_of(tmp_path: Path, text: str) -> tuple[Fields, Problems]:
    problems = Problems()
    document = load_document(write(tmp_path, text))
    return Fields.top(document, problems), problems


def load_error(path: Path) -> list[str]:
    with pytest.raises(ContentError) as caught:
        load_document(path)
    return caught.value.problems


# -- whole-document errors ----------------------------------------------------

@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("a: [1\nb: 2\n", 2, "expected ','"),
        ("a:\n\tb: 1\n", 2, "tabs"),
        ("", 1, "empty"),
        ("# only a comment\n", 1, "empty"),
        ("- 1\n- 2\n", 1, "got a list of 2 items"),
        ("just text\n", 1, "expected a mapping of fields at the top level"),
        ("a: 1\n---\nb: 2\n", 2, "single document"),
        ("a: \x01\n", 1, "unacceptable character"),
        ("a: 1\nb: 'unterminated\n", 3, "quoted scalar"),
    ],
)
def test_malformed_document_gives_one_located_line(tmp_path, text, line, words):
    path = write(tmp_path, text)
    problems = load_error(path)
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}:{line}: yaml: "), problems[0]
    assert words in problems[0]
    assert "Traceback" not in problems[0]


def test_non_utf8_bytes_name_their_line(tmp_path):
    path = write(tmp_path, b"a: 1\nb: caf\xe9\n")
    assert load_error(path) == [f"{path}:2: yaml: not UTF-8 text (byte 0xe9); save the file as UTF-8"]


def test_utf8_bom_is_accepted(tmp_path):
    document = load_document(write(tmp_path, "\ufeffa: b\n"))
    assert Fields.top(document, Problems()).required_str("a") == "b"


def test_missing_file_is_a_line_not_an_exception(tmp_path):
    problems = Problems()
    assert read_document(tmp_path / "absent.yaml", problems) is None
    assert len(problems) == 1 and "absent.yaml: cannot read" in problems.lines[0]


def test_display_path_is_relative_under_cwd_else_as_given(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert display_path(tmp_path / "content" / "x.yaml") == str(Path("content") / "x.yaml")
    assert display_path("/elsewhere/x.yaml") == "/elsewhere/x.yaml"


def test_raise_if_any_carries_all_lines():
    problems = Problems()
    problems.raise_if_any()
    problems.add("f.yaml", 3, "reps", "bad")
    problems.add("f.yaml", None, "", "no line")
    with pytest.raises(ContentError) as caught:
        problems.raise_if_any()
    assert caught.value.problems == ["f.yaml:3: reps: bad", "f.yaml: no line"]


# -- fields -----------------------------------------------------------------------

def test_duplicate_key_reported_at_second_occurrence(tmp_path):
    fields, problems = fields_of(tmp_path, "name: a\nid: x\nname: b\n")
    assert problems.lines == [f"{fields.path}:3: name: duplicate key (first at line 1)"]
    assert fields.required_str("name") == "a"


def test_required_str_missing_wrong_and_empty(tmp_path):
    fields, problems = fields_of(tmp_path, "\nnumber: 12\nblank: '  '\nflag: yes\nnothing:\n")
    assert fields.required_str("absent") is None
    assert fields.required_str("number") is None
    assert fields.required_str("blank") is None
    assert fields.required_str("flag") is None
    assert fields.required_str("nothing") is None
    lines = problems.lines
    assert lines[0] == f"{fields.path}:2: absent: required field is missing"
    assert lines[1].startswith(f"{fields.path}:2: number: expected text, got '12'")
    assert lines[2] == f"{fields.path}:3: blank: expected text, got empty text"
    assert lines[3].startswith(f"{fields.path}:4: flag: expected text, got 'yes'")
    assert lines[4] == f"{fields.path}:5: nothing: expected text, got nothing"


def test_str_lists(tmp_path):
    text = "a: [one, two]\nb: one\nc:\n  - ok\n  - 3\nd: [x, z]\ne: []\n"
    fields, problems = fields_of(tmp_path, text)
    assert fields.required_str_list("a") == ("one", "two")
    assert fields.required_str_list("b") == ()
    assert fields.optional_str_list("c") == ()
    assert fields.optional_str_list("d", choices=("x", "y")) == ()
    assert fields.required_str_list("e") == ()
    assert fields.optional_str_list("e") == ()
    assert fields.optional_str_list("absent") == ()
    assert [line.split(": ")[0:2] for line in problems.lines] == [
        [f"{fields.path}:2", "b"],
        [f"{fields.path}:5", "c[1]"],
        [f"{fields.path}:6", "d[1]"],
        [f"{fields.path}:7", "e"],
    ]


def test_number_rejects_booleans_text_nan_and_out_of_range(tmp_path):
    text = "a: true\nb: '5'\nc: .nan\nd: .inf\ne: 601\nf: 10.5\ng: 10.0\nh: 600\ni: 2.5\n"
    fields, problems = fields_of(tmp_path, text)
    got = {key: fields.number(key, 1, 600, "seconds", integer=key in "fg") for key in "abcdefghi"}
    assert got == {"a": None, "b": None, "c": None, "d": None, "e": None, "f": None, "g": 10, "h": 600, "i": 2.5}
    assert isinstance(got["g"], int)
    assert [line.split(": ")[1] for line in problems.lines] == list("abcdef")
    assert problems.lines[0] == f"{fields.path}:1: a: expected a number of seconds from 1 to 600, got 'true'"
    assert "expected a whole number of seconds" in problems.lines[5]


def test_number_required(tmp_path):
    fields, problems = fields_of(tmp_path, "a: 1\n")
    assert fields.number("b", 0, 10, "seconds", required=True) is None
    assert fields.number("c", 0, 10, "seconds") is None
    assert problems.lines == [f"{fields.path}:1: b: required field is missing"]


def test_number_or_range(tmp_path):
    text = "a: 5\nb: [3, 5]\nc: [5, 3]\nd: [1, 2, 3]\ne: [1, x]\nf:\n  - 1\n  - 900\ng: {low: 1}\nh: [0, '7']\n"
    fields, problems = fields_of(tmp_path, text)
    assert fields.number_or_range("a", 1, 600, "seconds") == (5, 5)
    assert fields.number_or_range("b", 1, 600, "seconds") == (3, 5)
    assert fields.number_or_range("h", 1, 50, "repetitions", integer=True) is None
    for key in "cdefg":
        assert fields.number_or_range(key, 1, 600, "seconds") is None
    path = fields.path
    assert problems.lines == [
        f"{path}:10: h: expected a whole number or a range [low, high] of repetitions from 1 to 50, got [0, 7]",
        f"{path}:3: c: range low end 5 is above high end 3",
        f"{path}:4: d: expected a number or a range [low, high] of seconds from 1 to 600, got a list of 3 items",
        f"{path}:5: e[1]: expected a number of seconds from 1 to 600, got 'x'",
        f"{path}:8: f[1]: expected a number of seconds from 1 to 600, got '900'",
        f"{path}:9: g: expected a number of seconds from 1 to 600, got a mapping",
    ]


def test_enum_and_boolean(tmp_path):
    fields, problems = fields_of(tmp_path, "side: left\nsides: one\nflag: false\nbad: 1\n")
    assert fields.enum("sides", ("one", "both")) == "one"
    assert fields.enum("side", ("one", "both")) is None
    assert fields.enum("absent", ("one",), required=False, default="one") == "one"
    assert fields.boolean("flag") is False
    assert fields.boolean("bad") is None
    assert problems.lines == [
        f"{fields.path}:1: side: expected one of one, both, got 'left'",
        f"{fields.path}:4: bad: expected true or false, got '1'",
    ]


def test_nested_fields_have_dotted_names_and_lines(tmp_path):
    text = (
        "items:\n"
        "  - exercise: a\n"
        "  - 3\n"
        "  - exercise: c\n"
        "    reps: 99\n"
        "    extra: 1\n"
        "outcomes:\n"
        "  a: {script: [Call now.]}\n"
        "  b: nope\n"
    )
    fields, problems = fields_of(tmp_path, text)
    items = fields.list_of_mappings("items")
    assert [item.prefix for item in items] == ["items[0]", "items[2]"]
    assert items[1].number("reps", 1, 50, "repetitions", integer=True) is None
    items[1].reject_unknown(("exercise", "reps"))
    outcomes = fields.mapping_of_mappings("outcomes")
    assert list(outcomes) == ["a"]
    assert outcomes["a"].required_str_list("script") == ("Call now.",)
    path = fields.path
    assert problems.lines == [
        f"{path}:3: items[1]: expected a mapping of fields, got '3'",
        f"{path}:5: items[2].reps: expected a whole number of repetitions from 1 to 50, got '99'",
        f"{path}:6: items[2].extra: unknown field",
        f"{path}:9: outcomes.b: expected a mapping of fields, got 'nope'",
    ]


def test_list_of_mappings_wrong_type_and_too_short(tmp_path):
    fields, problems = fields_of(tmp_path, "a: x\nb: []\n")
    assert fields.list_of_mappings("a") == []
    assert fields.list_of_mappings("b") == []
    assert fields.list_of_mappings("c", required=False) == []
    assert [line.split(": ")[1] for line in problems.lines] == ["a", "b"]


def test_reject_unknown_suggests_close_key(tmp_path):
    fields, problems = fields_of(tmp_path, "id: x\nhold_second: 3\n")
    fields.reject_unknown(("id", "hold_seconds"))
    assert problems.lines == [f"{fields.path}:2: hold_second: unknown field; did you mean hold_seconds?"]


def test_anchors_aliases_and_merge_keys(tmp_path):
    text = "base: &b {reps: 3, sets: 2}\nwords: &w [one, two]\nitem:\n  <<: *b\n  sets: 4\nagain: *w\n"
    fields, problems = fields_of(tmp_path, text)
    assert fields.required_str_list("again") == ("one", "two")
    item = fields.mapping("item")
    assert item.number("reps", 1, 50, "repetitions") == 3
    assert item.number("sets", 1, 10, "sets") == 4
    assert fields.value("base") == {"reps": 3, "sets": 2}
    assert problems.lines == []


def test_non_text_keys_are_problems(tmp_path):
    fields, problems = fields_of(tmp_path, "a: 1\n3: x\n")
    assert problems.lines == [f"{fields.path}:2: keys must be text, got '3'"]


def test_custom_problem_uses_value_line(tmp_path):
    fields, problems = fields_of(tmp_path, "a: 1\ntext:\n  - Hello.\n")
    fields.problem("text", "too many words")
    fields.problem("absent", "needed")
    assert problems.lines == [f"{fields.path}:3: text: too many words", f"{fields.path}:1: absent: needed"]
    assert fields.where("text") == f"{fields.path}:3"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=st.sampled_from(list("ab:- \t\n[]{},'\"#&*!|>%@`?\\0123456789.\x00é")), max_size=60))
def test_any_text_gives_a_document_or_content_error(tmp_path, text):
    path = write(tmp_path, text.encode("utf-8", "surrogatepass"))
    try:
        document = load_document(path)
    except ContentError as error:
        assert len(error.problems) == 1 and error.problems[0].startswith(f"{path}:")
        return
    problems = Problems()
    fields = Fields.top(document, problems)
    for key in fields.keys():
        fields.required_str(key)
        fields.number_or_range(key, 1, 600, "seconds")
        fields.list_of_mappings(key)
        fields.required_str_list(key)
    fields.reject_unknown(())
    assert all(line.startswith(f"{path}:") for line in problems)
