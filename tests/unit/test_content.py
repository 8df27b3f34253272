"""Content loading: the real content is valid, and every kind of mistake is one clear line."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import coach
from coach.content.library import default_content_dir, load_library
from coach.errors import ContentError
from coach.content.model import Range

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "content"
VALID = FIXTURES / "valid"
BROKEN = FIXTURES / "broken"
REPO_CONTENT = Path(coach.__file__).resolve().parent.parent / "content"
PELVIC = "content/exercises/pelvic-tilt.yaml"
ROUTINE = "content/routines/gentle-floor.yaml"


@pytest.fixture
def content(tmp_path, monkeypatch) -> Path:
    """A writable copy of the valid fixture, with the working directory above it."""
    shutil.copytree(VALID, tmp_path / "content")
    monkeypatch.chdir(tmp_path)
    return Path("content")


def problems_of(content_dir: Path) -> list[str]:
    with pytest.raises(ContentError) as caught:
        load_library(content_dir)
    return caught.value.problems


def edit(path: str, change: Callable[[str], str]) -> None:
    file = Path(path)
    file.write_text(change(file.read_text(encoding="utf-8")), encoding="utf-8")


def replace(old: str, new: str) -> Callable[[str], str]:
    def change(text: str) -> str:
        assert old in text, f"fixture no longer contains {old!r}"
        return text.replace(old, new, 1)
    return change


# -- the real content and the valid fixture -----------------------------------------

def test_repo_content_loads_without_problems():
    exercises = sorted((REPO_CONTENT / "exercises").glob("*.yaml"))
    if not exercises:
        pytest.skip("content/exercises has no files yet")
    try:
        library = load_library(REPO_CONTENT)
    except ContentError as error:
        pytest.fail("content problems:\n" + "\n".join(error.problems))
    assert sorted(library.exercises) == sorted(path.stem for path in exercises)
    assert sorted(library.tips) == sorted(path.stem for path in (REPO_CONTENT / "tips").glob("*.yaml"))
    assert sorted(library.routines) == sorted(path.stem for path in (REPO_CONTENT / "routines").glob("*.yaml"))


def test_valid_fixture_loads_into_model(content):
    library = load_library(content)
    assert sorted(library.exercises) == ["cold-pack", "knee-to-chest", "pelvic-tilt"]
    pelvic = library.exercises["pelvic-tilt"]
    assert pelvic.hold_seconds == Range(3, 5)
    assert pelvic.rest_seconds == Range(30, 30)
    assert pelvic.duration_seconds is None
    assert pelvic.sources[1].file == "releasing-lower-back-and-hip-tightness.txt"
    assert pelvic.where == f"{PELVIC}:1"
    assert library.exercises["cold-pack"].kind == "self-care"
    assert library.exercises["cold-pack"].equipment == ("cold pack", "thin towel")
    assert library.tips["chair-setup"].text[0] == "Sit with your feet flat on the floor."
    routine = library.routines["gentle-floor"]
    assert [item.exercise_id or item.tip_id for item in routine.items] == [
        "pelvic-tilt", "knee-to-chest", "chair-setup", "cold-pack"]
    assert (routine.items[0].sets, routine.items[0].reps, routine.items[0].hold_seconds) == (2, 10, 3)
    assert routine.items[3].duration_seconds == 600
    assert routine.items[1].where == f"{ROUTINE}:12"


# -- the acceptance examples -------------------------------------------------------

def test_hold_seconds_minus_seven_names_file_line_and_field(content):
    edit(PELVIC, replace("hold_seconds: [3, 5]", "hold_seconds: -seven"))
    assert problems_of(content) == [
        f"{PELVIC}:7: hold_seconds: expected a number of seconds from 1 to 600, got '-seven'"]


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        ("reps: [10, fifteen]", "content/exercises/pelvic-tilt.yaml:8: reps[1]: expected a whole number of repetitions from 1 to 50, got 'fifteen'"),
        ("reps: 0", "content/exercises/pelvic-tilt.yaml:8: reps: expected a whole number of repetitions from 1 to 50, got '0'"),
        ("reps: 12.5", "content/exercises/pelvic-tilt.yaml:8: reps: expected a whole number of repetitions from 1 to 50, got '12.5'"),
        ("reps: true", "content/exercises/pelvic-tilt.yaml:8: reps: expected a whole number of repetitions from 1 to 50, got 'true'"),
        ("reps: [15, 10]", "content/exercises/pelvic-tilt.yaml:8: reps: range low end 15 is above high end 10"),
    ],
)
def test_broken_reps(content, new, expected):
    edit(PELVIC, replace("reps: [10, 15]", new))
    assert problems_of(content) == [expected]


# The limits the format promises (issue text), not read back from the loader.
LIMITS = {"hold_seconds": (1, 600), "reps": (1, 50), "sets": (1, 10), "rest_seconds": (0, 600),
          "tempo_seconds": (1, 30), "duration_seconds": (10, 3600)}


@pytest.mark.parametrize("key", sorted(LIMITS))
def test_dose_limits_are_inclusive_and_enforced(content, key):
    low, high = LIMITS[key]
    text = (VALID / "exercises" / "pelvic-tilt.yaml").read_text(encoding="utf-8")
    text = re.sub(rf"^{key}: .*\n", "", text, flags=re.M)
    line = text.count("\n") + 1
    for value, ok in ((low, True), (high, True), (low - 1, False), (high + 1, False), (high + 0.5, False)):
        Path(PELVIC).write_text(text + f"{key}: {value}\n", encoding="utf-8")
        if ok:
            load_library(content)
        else:
            problems = problems_of(content)
            assert len(problems) == 1 and problems[0].startswith(f"{PELVIC}:{line}: {key}: "), (value, problems)


# -- every kind of malformed file: one clear line each, never a traceback ----------

CASES = {
    "syntax error": (PELVIC, replace("reps: [10, 15]", "reps: [10, 15"), [(PELVIC, 9, "yaml", "expected ','")]),
    "tab indentation": (PELVIC, replace("  - Lie on", "\t- Lie on"), [(PELVIC, 17, "yaml", "tabs")]),
    "top-level list": (PELVIC, lambda text: "- id: pelvic-tilt\n", [(PELVIC, 1, "yaml", "got a list")]),
    "empty file": (PELVIC, lambda text: "", [(PELVIC, 1, "yaml", "empty")]),
    "not utf-8": (PELVIC, replace("Pelvic tilts", "Pelvic tilts \udce9"), [(PELVIC, 2, "yaml", "UTF-8")]),
    "text instead of a list": (PELVIC, replace("setup:\n  - Lie", "setup: Lie"),
                               [(PELVIC, 16, "setup", "expected a list of texts")]),
    "unknown key": (PELVIC, lambda text: text + "colour: red\n", [(PELVIC, 23, "colour", "unknown field")]),
    "missing required key": (PELVIC, replace("kind: exercise\n", ""), [(PELVIC, 1, "kind", "required field is missing")]),
    "duplicate key": (PELVIC, lambda text: text + "reps: 12\n", [(PELVIC, 23, "reps", "duplicate key (first at line 8)")]),
    "bad enum": (PELVIC, replace("position: lying_on_back", "position: sitting"), [(PELVIC, 4, "position", "expected one of")]),
    "bad sides": (PELVIC, replace("sides: none", "sides: left"), [(PELVIC, 5, "sides", "expected one of one, both, none")]),
    "id not kebab-case": (PELVIC, replace("id: pelvic-tilt", "id: Pelvic_Tilt"), [(PELVIC, 1, "id", "kebab-case")]),
    "id differs from file name": (PELVIC, replace("id: pelvic-tilt", "id: pelvic-tilts"), [(PELVIC, 1, "id", "file name")]),
    "no dose": (PELVIC, lambda text: re.sub(r"(hold_seconds|reps|sets): .*\n", "", text),
                [(PELVIC, 1, "", "at least one of hold_seconds, reps or duration_seconds")]),
    "empty spoken line": (PELVIC, replace("- Flatten your lower back against the floor.", "- ''"),
                          [(PELVIC, 20, "steps[1]", "empty text")]),
    "no steps": (PELVIC, replace("steps:\n  - Gently tighten your tummy and buttock muscles.\n  - Flatten your lower back against the floor.",
                                 "steps: []"), [(PELVIC, 18, "steps", "at least 1 item")]),
    "symbol in spoken text": (PELVIC, replace("Breathe out as you tilt.", "Breathe out (slowly) as you tilt."),
                              [(PELVIC, 21, "breathing[0]", "'('")]),
    "abbreviation in spoken text": (PELVIC, replace("Breathe out as you tilt.", "Breathe out for 3 secs."),
                                    [(PELVIC, 21, "breathing[0]", "abbreviate")]),
    "source without section": (PELVIC, replace("    section: Targeted Stretching and Mobility Exercises\n", ""),
                               [(PELVIC, 14, "source[1].section", "required field is missing")]),
    "rest out of range": (PELVIC, replace("rest_seconds: 30", "rest_seconds: 601"), [(PELVIC, 10, "rest_seconds", "from 0 to 600")]),
    "tempo out of range": (PELVIC, lambda text: text + "tempo_seconds: 0\n", [(PELVIC, 23, "tempo_seconds", "from 1 to 30")]),
    "duration out of range": ("content/exercises/cold-pack.yaml", replace("[600, 900]", "[5, 900]"),
                              [("content/exercises/cold-pack.yaml", 7, "duration_seconds[0]", "from 10 to 3600")]),
    "bad routine reference": (ROUTINE, replace("exercise: knee-to-chest", "exercise: knee-to-chin"),
                              [(ROUTINE, 12, "items[1].exercise", "no exercise with id 'knee-to-chin'")]),
    "bad tip reference": (ROUTINE, replace("tip: chair-setup", "tip: chair"), [(ROUTINE, 13, "items[2].tip", "no tip with id 'chair'")]),
    "item with both": (ROUTINE, replace("  - tip: chair-setup", "  - tip: chair-setup\n    exercise: cold-pack"),
                       [(ROUTINE, 13, "items[2]", "exactly one of exercise or tip, got both")]),
    "item with neither": (ROUTINE, replace("  - tip: chair-setup", "  - reps: 3"),
                          [(ROUTINE, 13, "items[2]", "exactly one of exercise or tip, got neither")]),
    "override on a tip": (ROUTINE, replace("  - tip: chair-setup", "  - tip: chair-setup\n    reps: 3"),
                          [(ROUTINE, 14, "items[2].reps", "exercises only")]),
    "override as range": (ROUTINE, replace("    reps: 10", "    reps: [10, 12]"),
                          [(ROUTINE, 10, "items[0].reps", "got a list of 2 items")]),
    "unknown item key": (ROUTINE, replace("    reps: 10", "    repetitions: 10"), [(ROUTINE, 10, "items[0].repetitions", "unknown field")]),
    "missing rest between": (ROUTINE, replace("rest_between_seconds: 15\n", ""),
                             [(ROUTINE, 1, "rest_between_seconds", "required field is missing")]),
    "items not a list": (ROUTINE, lambda text: text.split("items:")[0] + "items: pelvic-tilt\n",
                         [(ROUTINE, 7, "items", "expected a list of mappings")]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_content_gives_one_clear_line(content, case):
    path, change, expected = CASES[case]
    if case == "not utf-8":
        file = Path(path)
        file.write_bytes(file.read_bytes().replace(b"Pelvic tilts", b"Pelvic tilts \xe9", 1))
    else:
        edit(path, change)
    problems = problems_of(content)
    assert len(problems) == len(expected), problems
    for line, (file, number, field, fragment) in zip(problems, expected):
        prefix = f"{file}:{number}: {field}: " if field else f"{file}:{number}: "
        assert line.startswith(prefix), (line, prefix)
        assert fragment in line, (line, fragment)
        assert "\n" not in line and "Traceback" not in line


def test_duplicate_id_names_both_files(content):
    shutil.copy("content/exercises/knee-to-chest.yaml", "content/exercises/zz-copy.yaml")
    problems = problems_of(content)
    assert problems == [
        "content/exercises/zz-copy.yaml:1: id: id 'knee-to-chest' must equal the file name 'zz-copy.yaml'",
        "content/exercises/zz-copy.yaml:1: id: duplicate id 'knee-to-chest' (also in content/exercises/knee-to-chest.yaml:1)",
    ]


def test_broken_exercise_file_does_not_cascade_into_routine_references(content):
    edit(PELVIC, lambda text: "")
    assert problems_of(content) == [f"{PELVIC}:1: yaml: the file is empty; expected a mapping of fields"]


def test_yml_extension_is_reported(content):
    shutil.copy("content/tips/chair-setup.yaml", "content/tips/posture.yml")
    assert problems_of(content) == ["content/tips/posture.yml: content files must end in .yaml"]


def test_all_problems_across_files_are_collected_in_line_order(tmp_path, monkeypatch):
    shutil.copytree(BROKEN, tmp_path / "content")
    monkeypatch.chdir(tmp_path)
    problems = problems_of(Path("content"))
    located = [tuple(line.split(": ")[:2]) for line in problems]
    assert located == [
        ("content/exercises/bad-hold.yaml:4", "sides"),
        ("content/exercises/bad-hold.yaml:5", "hold_seconds"),
        ("content/exercises/bad-hold.yaml:9", "steps"),
        ("content/exercises/tabbed.yaml:4", "yaml"),
        ("content/tips/no-text.yaml:1", "text"),
        ("content/tips/no-text.yaml:3", "spoken"),
        ("content/routines/bad-ref.yaml:9", "items[1].exercise"),
        ("content/routines/bad-ref.yaml:10", "items[1].hold_seconds"),
    ]


# -- folders -------------------------------------------------------------------------

def test_missing_content_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert problems_of(Path("nowhere")) == ["nowhere: content folder not found"]


def test_missing_subfolder_is_named(content):
    shutil.rmtree("content/tips")
    assert problems_of(content) == ["content/tips: content folder not found"]


def test_default_content_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("COACH_CONTENT_DIR", raising=False)
    assert default_content_dir() == REPO_CONTENT
    monkeypatch.setenv("COACH_CONTENT_DIR", str(tmp_path))
    assert default_content_dir() == tmp_path


# -- property: any bad hold is exactly one problem on its line ---------------------

def _bad_holds():
    numbers = st.one_of(
        st.integers(max_value=0), st.integers(min_value=601),
        st.floats(max_value=0.999, allow_nan=False), st.floats(min_value=600.001, allow_nan=False),
        st.sampled_from([float("nan"), float("inf"), float("-inf")]),
    )
    ok = st.integers(min_value=1, max_value=600)
    return st.one_of(
        numbers,
        st.booleans(),
        st.none(),
        st.text(max_size=20),
        st.lists(numbers | ok, min_size=2, max_size=2).filter(lambda pair: not all(1 <= v <= 600 for v in pair)),
        st.tuples(st.integers(301, 600), st.integers(1, 300)).map(list),
        st.lists(ok, max_size=5).filter(lambda items: len(items) != 2),
        st.dictionaries(st.text(alphabet="abc", min_size=1, max_size=3), ok, min_size=1, max_size=2),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bad=_bad_holds())
def test_any_bad_hold_gives_exactly_one_problem_on_its_line(content, bad):
    flow = yaml.safe_dump([bad], default_flow_style=True, width=10**6, allow_unicode=True).strip()
    dumped = f"hold_seconds: {flow[1:-1]}\n"
    parsed = yaml.safe_load(dumped)
    assume(isinstance(parsed, dict) and list(parsed) == ["hold_seconds"])
    text = (VALID / "exercises" / "pelvic-tilt.yaml").read_text(encoding="utf-8")
    Path(PELVIC).write_text(text.replace("hold_seconds: [3, 5]\n", dumped, 1), encoding="utf-8")
    assert dumped.count("\n") == 1, dumped  # the value stays on line 7
    problems = problems_of(content)
    assert len(problems) == 1, problems
    assert re.match(rf"{re.escape(PELVIC)}:7: hold_seconds(\[[01]\])?: ", problems[0]), problems[0]


# -- property: no edit of a file ever ends in a traceback ---------------------------

_YAMLISH = st.text(alphabet=st.sampled_from(list("ab-:[]{},'\"#&*!|> \t0123456789.é")), max_size=30)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(target=st.sampled_from([PELVIC, ROUTINE]), line_index=st.integers(0, 25), new=_YAMLISH)
def test_any_line_edit_loads_or_gives_located_lines(content, target, line_index, new):
    for each in (PELVIC, ROUTINE):
        shutil.copy(VALID / Path(each).relative_to("content"), each)
    source = VALID / Path(target).relative_to("content")
    lines = source.read_text(encoding="utf-8").splitlines()
    lines[min(line_index, len(lines) - 1)] = new
    Path(target).write_text("\n".join(lines) + "\n", encoding="utf-8")
    try:
        load_library(content)
    except ContentError as error:
        assert error.problems
        assert all(re.match(rf"{re.escape(target)}:\d+: ", line) for line in error.problems), error.problems


def test_alternate_sides_must_be_true_or_false(tmp_path):
    import shutil

    from coach.content.library import load_library
    from coach.errors import ContentError

    tree = tmp_path / "content"
    shutil.copytree(Path(__file__).parent.parent / "fixtures" / "content" / "valid", tree)
    target = next((tree / "exercises").glob("*.yaml"))
    target.write_text(target.read_text() + "alternate_sides: sometimes\n")
    with pytest.raises(ContentError) as raised:
        load_library(tree)
    (line,) = raised.value.problems
    assert "alternate_sides" in line and "true or false" in line
