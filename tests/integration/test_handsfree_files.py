"""Whole sessions driven by microphone recordings, in virtual time, through the real CLI.

Real recognizers hear real recordings (development-set speakers and espeak-ng
phrases) mixed into a microphone WAV; the test reads the event log and the
speaker WAV. Timings come from a first run with a silent microphone: the session
is deterministic and causal, so a cue that started at 23.4 s with nobody talking
starts at 23.4 s again when the user speaks only later.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from coach.testing import eventlog, micmix

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
RATE = 16_000
RUN_TIMEOUT_SECONDS = 300
SILENT_TAIL_SECONDS = 2.0        # mic input past the last placed word
HALT_SLACK_SECONDS = 0.05        # cancel() silences within one block; allow two or three
CLOSING_WORDS_SECONDS = 2.0      # "Stopped." plays out after session-ended
NOTICE_MARKER = "notice-shown"   # coach.cli.app: the first-run notice is spoken once per data folder
# From the end of the coach's words to the start of the user's. The listener hears
# only urgent words until ~0.3 s after the played audio ends, and rendered speech
# carries some trailing silence, so a reply sooner than this may not count.
ANSWER_AFTER_SECONDS = 1.0
VOICES = ("en-us", "en-gb", "en-us+f3", "en-gb-scotland", "en-029", "en-us+m7")


# ------------------------------------------------------------------ running the coach


def coach_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def coach(*args: str, timeout: float = RUN_TIMEOUT_SECONDS, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "coach", *args],
        cwd=REPO, env=env or coach_env(), capture_output=True, text=True, timeout=timeout,
    )


@functools.cache
def run_options() -> str:
    done = coach("run", "--help", timeout=60)
    return done.stdout if done.returncode == 0 else ""


def require_run_options(*options: str) -> None:
    help_text = run_options()
    if not help_text:
        pytest.skip("`coach run` does not exist yet (coach.cli.routines not registered)")
    missing = [o for o in options if o not in help_text]
    if missing:
        pytest.skip(f"`coach run` lacks {', '.join(missing)}")


def require_dev_set() -> None:
    try:
        micmix.dev_set_dir()
    except micmix.MissingTestData as missing:
        pytest.skip(str(missing))
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")


@functools.cache
def routine_id() -> str:
    """$COACH_TEST_ROUTINE, else desk-break: short (8 minutes), with rests, a listen
    cue, counting, and "pain" in its own cautions (a good self-hearing test)."""
    chosen = os.environ.get("COACH_TEST_ROUTINE")
    if chosen:
        return chosen
    routines = sorted(p.stem for p in (REPO / "content" / "routines").glob("*.yaml"))
    if not routines:
        pytest.skip("no routine in content/routines")
    return "desk-break" if "desk-break" in routines else routines[0]


@dataclass(frozen=True)
class Run:
    events: list[dict]
    speaker: np.ndarray
    returncode: int
    stderr: str
    folder: Path | None = None


def fresh_data_dir(folder: Path) -> Path:
    """A data folder of its own per run: no history (triage reads it), first-run notice already shown."""
    data = folder / "data"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    (data / NOTICE_MARKER).write_text("shown\n")
    return data


def run_session(folder: Path, mic: np.ndarray, *extra: str, name: str = "run") -> Run:
    """`coach run ROUTINE --mic --speaker --events` on this microphone, in virtual time."""
    folder.mkdir(parents=True, exist_ok=True)
    env = coach_env()
    env["COACH_DATA_DIR"] = str(fresh_data_dir(folder / f"{name}-state"))
    mic_path = micmix.write_wav(folder / f"{name}-mic.wav", mic)
    out_path, events_path = folder / f"{name}-out.wav", folder / f"{name}-events.jsonl"
    events_path.unlink(missing_ok=True)          # the log appends
    out_path.unlink(missing_ok=True)
    done = coach(
        "run", routine_id(), "--mic", str(mic_path), "--speaker", str(out_path),
        "--events", str(events_path), *extra, env=env,
    )
    if not events_path.exists():
        pytest.fail(f"coach run wrote no event log (exit {done.returncode}): {done.stderr.strip()[-800:]}")
    if "no recognizer" in done.stderr:
        pytest.skip(f"the session runs without a recognizer: {done.stderr.strip().splitlines()[-1]}")
    speaker = micmix.read_wav(out_path) if out_path.exists() else np.zeros(0, np.int16)
    return Run(eventlog.read_events(events_path), speaker, done.returncode, done.stderr, folder)


def audio_start(event: dict) -> float | None:
    for key in ("audio_start_seconds", "audio_start", "start_seconds"):
        if event.get(key) is not None:
            return float(event[key])
    return None


# ------------------------------------------------------------------ clips that the recognizer knows


def first_heard_as(paths: list[Path], context: str, command: str, value: int | None = None) -> int | None:
    """Index of the first file that `coach hear` maps to ``command`` (and value), or None."""
    done = coach("hear", "--context", context, "--json", *[str(p) for p in paths], timeout=300)
    if done.returncode not in (0, 1) or not done.stdout.strip():
        pytest.skip(f"`coach hear` is not usable yet: {done.stderr.strip()[-300:]}")
    for index, line in enumerate(done.stdout.strip().splitlines()):
        result = json.loads(line)
        if result.get("command") == command and (value is None or result.get("value") == value):
            return index
    return None


@functools.cache
def recognised_clip(label: str, context: str, command: str, value: int | None = None) -> micmix.DevClip:
    """The first development clip of ``label`` that `coach hear` maps to ``command``.

    Recall is the benchmark's business; these tests are about what the session
    does once a word is heard, so they use clips the engine hears in isolation.
    """
    clips = micmix.dev_clips(label)[:40]
    if not clips:
        pytest.skip(f"no development clip labelled {label!r}")
    index = first_heard_as([c.path for c in clips], context, command, value)
    if index is None:
        pytest.skip(f"`coach hear` recognised none of {len(clips)} {label!r} clips as {command}")
    return clips[index]


@functools.cache
def recognised_phrase(text: str, context: str, command: str) -> np.ndarray:
    """``text`` spoken by the first espeak-ng voice whose rendering `coach hear` maps to ``command``."""
    folder = Path(tempfile.mkdtemp(prefix="coach-phrases-"))
    paths = [micmix.write_wav(folder / f"{i}.wav", espeak(text, voice)) for i, voice in enumerate(VOICES)]
    index = first_heard_as(paths, context, command)
    if index is None:
        pytest.skip(f"`coach hear` recognised {text!r} as {command} in none of the voices {VOICES}")
    return micmix.read_wav(paths[index])


def espeak(text: str, voice: str = "en-us") -> np.ndarray:
    return np.frombuffer(micmix.espeak_pcm(text, voice=voice), np.int16)


# ------------------------------------------------------------------ the schedule of a silent session


@pytest.fixture(scope="module")
def quiet_run(tmp_path_factory) -> Run:
    """A session nobody talks to: when each cue starts, and what is spoken when."""
    require_run_options("--mic", "--speaker", "--events")
    folder = tmp_path_factory.mktemp("quiet")
    run = run_session(folder, np.zeros(RATE, np.int16), name="quiet")
    assert eventlog.first(run.events, "session-started") is not None, run.stderr[-800:]
    assert eventlog.command_names(run.events) == [], "a silent microphone fired commands"
    return run


def cue_spans(run: Run) -> list[tuple[dict, float]]:
    """(cue-started event, end seconds = the next cue's start)."""
    cues = eventlog.of_type(run.events, "cue-started")
    ends = [float(c["t"]) for c in cues[1:]] + [float(eventlog.last(run.events, "session-ended")["t"])]
    return list(zip(cues, ends))


def speaking_at(run: Run, t_seconds: float) -> bool:
    start = int(t_seconds * RATE)
    window = run.speaker[start : start + int(0.2 * RATE)]
    return window.size > 0 and int(np.max(np.abs(window))) > 300


def spoken_cue(run: Run, after_seconds: float, min_seconds: float = 2.5) -> tuple[dict, float]:
    for cue, end in cue_spans(run):
        if cue.get("kind") in ("say", "count") and float(cue["t"]) >= after_seconds and end - float(cue["t"]) >= min_seconds:
            return cue, end
    pytest.skip(f"no spoken cue of {min_seconds} s after {after_seconds} s in {routine_id()}")


def quiet_cue(run: Run, after_seconds: float, min_seconds: float = 4.0) -> tuple[dict, float, float]:
    """A listen or pause cue with ``min_seconds`` of silence at its end: (cue, end, silence start)."""
    for cue, end in cue_spans(run):
        t = float(cue["t"])
        if cue.get("kind") not in ("pause", "listen") or t < after_seconds:
            continue
        window = np.abs(run.speaker[int(t * RATE) : int(end * RATE)])
        loud = np.flatnonzero(window > 300)
        silent_from = t + ((loud[-1] + 1) / RATE if loud.size else 0.0)
        if end - silent_from >= min_seconds:
            return cue, end, silent_from
    pytest.skip(f"no silent cue of {min_seconds} s after {after_seconds} s in {routine_id()}")


def silent_after(speaker: np.ndarray, start_seconds: float, end_seconds: float) -> bool:
    window = speaker[int(start_seconds * RATE) : int(end_seconds * RATE)]
    return window.size == 0 or int(np.max(np.abs(window))) == 0


# ------------------------------------------------------------------ stop


@pytest.mark.parametrize("echo", [(), ("--echo-db", "-6", "--echo-delay-ms", "40")], ids=["dry", "echo-6dB"])
def test_stop_over_the_coach_voice_halts_and_ends(quiet_run, tmp_path, echo) -> None:
    """Also with the coach's own voice in the microphone: the guard must not hide the user."""
    require_dev_set()
    if echo:
        require_run_options("--echo-db", "--echo-delay-ms")
    cue, cue_end = spoken_cue(quiet_run, after_seconds=15.0)
    clip = recognised_clip("stop", "session", "stop")
    word_start, word_end = micmix.speech_bounds(clip)
    place = float(cue["t"]) + 0.6 - word_start           # the word starts 0.6 s into the cue
    if place + word_end >= cue_end:
        pytest.skip("the spoken cue is too short to say stop over it")
    mic = micmix.compose_mic_samples(place + 1.0 + SILENT_TAIL_SECONDS, [(place, clip.path, 0.0)])
    run = run_session(tmp_path, mic, *echo)

    heard = eventlog.first(run.events, "command-heard", command="stop")
    assert heard is not None, f"stop not heard; commands: {eventlog.commands_heard(run.events)}"
    end_of_word = place + word_end
    assert end_of_word - 0.3 <= float(heard["t"]) <= end_of_word + 0.7
    if audio_start(heard) is not None:
        assert abs(audio_start(heard) - (place + word_start)) < 0.35
    assert [c for c, _ in eventlog.commands_heard(run.events)] == ["stop"]

    cancelled = eventlog.first(run.events, "audio-cancelled", after_seconds=float(heard["t"]) - 1e-6)
    assert cancelled is not None, "stop over speech did not cancel the audio"
    assert float(cancelled["t"]) - float(heard["t"]) <= HALT_SLACK_SECONDS
    assert eventlog.end_reason(run.events) == "stopped"
    assert run.returncode == 10, run.stderr[-500:]

    # What the speaker emitted: the cue exactly as in the quiet run up to the cancel,
    # then (at once) only the closing words, then silence to the end.
    halt_sample = int(round(float(cancelled["t"]) * RATE)) - 16       # event times are rounded to 1 ms
    assert speaking_at(quiet_run, float(cancelled["t"]) + 0.05), "the cue should still have been speaking"
    assert np.array_equal(run.speaker[:halt_sample], quiet_run.speaker[:halt_sample])
    after = run.speaker[halt_sample : halt_sample + int(0.5 * RATE)]
    before = quiet_run.speaker[halt_sample : halt_sample + int(0.5 * RATE)]
    assert not np.array_equal(after, before), "the cue went on playing after the cancel"
    ended = float(eventlog.last(run.events, "session-ended")["t"])      # at once; the closing words play out after
    assert ended - float(cancelled["t"]) <= 0.1
    assert silent_after(run.speaker, ended + CLOSING_WORDS_SECONDS, run.speaker.size / RATE)
    assert not [e for e in eventlog.of_type(run.events, "cue-started") if float(e["t"]) > float(heard["t"])]


# ------------------------------------------------------------------ next


def test_next_skips_ahead(quiet_run, tmp_path) -> None:
    require_dev_set()
    cue, cue_end, silent_from = quiet_cue(quiet_run, after_seconds=5.0)
    word = recognised_phrase("next", "session", "next")
    word_start, word_end = micmix.speech_bounds(word)
    place = silent_from + ANSWER_AFTER_SECONDS - word_start
    mic = micmix.compose_mic_samples(place + 1.0 + SILENT_TAIL_SECONDS, [(place, word, 0.0)])
    run = run_session(tmp_path, mic)

    heard = eventlog.first(run.events, "command-heard", command="next")
    assert heard is not None, f"next not heard; commands: {eventlog.commands_heard(run.events)}"
    assert place + word_end - 0.3 <= float(heard["t"]) <= place + word_end + 1.0
    following = eventlog.first(run.events, "cue-started", after_seconds=float(heard["t"]))
    assert following is not None
    assert int(following["index"]) > int(cue["index"])
    assert float(following["t"]) - float(heard["t"]) < 1.0
    assert float(following["t"]) < cue_end - 1.0, "the cue was not cut short"
    assert eventlog.end_reason(run.events) not in ("stopped", None)


# ------------------------------------------------------------------ pain and triage


def question_end_seconds(run: Run, question: dict, max_seconds: float = 30.0) -> float:
    """Where the coach stopped speaking the question: 0.5 s of silence after some speech."""
    t = float(question["t"])
    frame = int(0.01 * RATE)
    start = int(t * RATE)
    stop = min(run.speaker.size, int((t + max_seconds) * RATE))
    levels = [int(np.max(np.abs(run.speaker[i : i + frame]))) for i in range(start, stop - frame, frame)]
    spoke, quiet = False, 0
    for i, level in enumerate(levels):
        if level > 200:
            spoke, quiet = True, 0
        elif spoke:
            quiet += 1
            if quiet >= 50:
                return t + (i - quiet + 1) * 0.01
    return t + len(levels) * 0.01


def mic_for(placements: list) -> np.ndarray:
    """The microphone for these placements, a little past the last one."""
    end = max(t + micmix.as_samples(clip).size / RATE for t, clip, _ in placements)
    return micmix.compose_mic_samples(end + SILENT_TAIL_SECONDS, placements)


def spoken_answer(context: str, want: str) -> np.ndarray:
    """A recording of the answer: a development-set clip the engine hears, else espeak-ng."""
    label, command, value = ("three", "number", 3) if context == "number" else (want, want, None)
    clips = micmix.dev_clips(label)[:40]
    index = first_heard_as([c.path for c in clips], context, command, value) if clips else None
    if index is not None:
        return micmix.as_samples(clips[index])
    return recognised_phrase(label, context, command)


def drive_triage(folder: Path, base: list, pain_end: float, answers: list[str], max_rounds: int = 10) -> tuple[Run, list]:
    """Answer each question a second after the coach finished asking it, one run per answer.

    Run k answers the first question that run k-1 left unanswered: the session is
    causal, so audio added after a question changes nothing before it. Number
    questions get "three"; yes/no questions get ``answers`` in order.
    """
    placements = list(base)
    remaining = list(answers)
    last: tuple[tuple[str, str], str, float] | None = None      # (question key, wanted answer, placed at)
    run = run_session(folder, mic_for(placements), name="round0")
    for round_number in range(1, max_rounds + 1):
        answered = {(a["id"], a["attempt"]): a for a in eventlog.of_type(run.events, "triage-answer")}
        if last is not None:
            key, wanted, at = last
            got = answered.get(key, {})
            if got.get("answer") != wanted:
                pytest.fail(f"the spoken {wanted!r} placed at {at:.2f} s for question {key} was taken as "
                            f"{got.get('answer')!r} (heard {got.get('heard')!r}, command {got.get('heard_command')!r}, "
                            f"confidence {got.get('confidence')})")
        open_questions = [q for q in eventlog.of_type(run.events, "triage-question")
                          if float(q["t"]) > pain_end and answered.get((q["id"], q["attempt"]), {}).get("answer", "unknown") == "unknown"]
        if not open_questions or (not remaining and open_questions[0].get("context") != "number"):
            break
        question = open_questions[0]
        want = "number" if question.get("context") == "number" else remaining.pop(0)
        answer = spoken_answer(question.get("context", "yesno"), want)
        place = question_end_seconds(run, question) + ANSWER_AFTER_SECONDS - micmix.speech_bounds(answer)[0]
        placements.append((place, answer, 0.0))
        last = ((question["id"], question["attempt"]), want, place)
        run = run_session(folder, mic_for(placements), name=f"round{round_number}")
    return run, placements


def test_pain_starts_triage_and_spoken_answers_reach_an_outcome(quiet_run, tmp_path) -> None:
    require_dev_set()
    _, _, silent_from = quiet_cue(quiet_run, after_seconds=5.0)
    phrase = recognised_phrase("it hurts", "session", "pain")
    phrase_start, phrase_end = micmix.speech_bounds(phrase)
    place = silent_from + ANSWER_AFTER_SECONDS - phrase_start
    base = [(place, phrase, 0.0)]

    run, placements = drive_triage(tmp_path, base, place + phrase_end, answers=["no", "no", "no", "yes"])

    pain = eventlog.first(run.events, "command-heard", command="pain")
    assert pain is not None, f"pain not heard; commands: {eventlog.commands_heard(run.events)}"
    assert float(pain["t"]) <= place + phrase_end + 0.7
    assert eventlog.first(run.events, "audio-cancelled", after_seconds=float(pain["t"]) - 1e-6) is not None
    triage = eventlog.first(run.events, "triage-started", after_seconds=float(pain["t"]))
    assert triage is not None and triage.get("trigger") == "voice"
    questions = [q for q in eventlog.of_type(run.events, "triage-question") if q.get("triage_id") == triage["triage_id"]]
    assert questions, "triage asked nothing"
    given = [a for a in eventlog.of_type(run.events, "triage-answer")
             if a.get("triage_id") == triage["triage_id"] and a["answer"] != "unknown"]
    assert [a["answer"] for a in given if a["answer"] != "number"] == ["no", "no", "no", "yes"], given
    assert all(a["value"] == 3 for a in given if a["answer"] == "number")
    yes = given[-1]
    outcome = eventlog.last(run.events, "triage-outcome")
    assert outcome is not None, "triage reached no outcome"
    if yes["id"].startswith("A"):               # a yes to an emergency question
        assert outcome["outcome"] == "a"
    assert float(outcome["t"]) > float(yes["t"])
    assert eventlog.end_reason(run.events) is not None

    # The same recording twice gives the same log.
    again = run_session(tmp_path, mic_for(placements), name="again")
    assert eventlog.without_wall_time(again.events) == eventlog.without_wall_time(run.events)
    assert np.array_equal(again.speaker, run.speaker)


# ------------------------------------------------------------------ determinism


def test_the_same_recording_gives_the_same_events(quiet_run, tmp_path) -> None:
    require_dev_set()
    _, _, silent_from = quiet_cue(quiet_run, after_seconds=5.0)
    clip = recognised_clip("stop", "session", "stop")
    mic = micmix.compose_mic_samples(silent_from + 4.0, [(silent_from + 0.5, clip.path, -3.0)])
    first = run_session(tmp_path, mic, name="first")
    second = run_session(tmp_path, mic, name="second")
    assert eventlog.command_names(first.events), "nothing was heard, so nothing was compared"
    assert eventlog.without_wall_time(first.events) == eventlog.without_wall_time(second.events)
    assert np.array_equal(first.speaker, second.speaker)


def test_a_debug_recording_replays_to_the_decision_taken_in_the_session(quiet_run, tmp_path) -> None:
    """What the listener was given, stored only on request, gives the same decision offline."""
    require_dev_set()
    cue, cue_end = spoken_cue(quiet_run, after_seconds=15.0)
    clip = recognised_clip("stop", "session", "stop")
    word_start, word_end = micmix.speech_bounds(clip)
    place = float(cue["t"]) + 0.6 - word_start
    mic = micmix.compose_mic_samples(place + 1.0 + SILENT_TAIL_SECONDS, [(place, clip.path, 0.0)])
    folder = tmp_path / "recording"
    run = run_session(tmp_path, mic, "--echo-db", "-6", "--debug-recording", str(folder))
    heard = eventlog.first(run.events, "command-heard", command="stop")
    assert heard is not None, f"stop not heard; commands: {eventlog.commands_heard(run.events)}"

    done = subprocess.run([sys.executable, str(REPO / "scripts" / "replay_listening.py"), str(folder)],
                          cwd=REPO, env=coach_env(), capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS)
    assert done.returncode == 0, done.stderr[-800:]
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("1 command(s): stop at "), done.stdout[-800:]
    assert abs(float(last.split(" at ")[1].split()[0]) - audio_start(heard)) <= 0.01
    assert "guarded=True" in done.stdout, "the stop was said over the coach's voice"
    with wave.open(str(folder / "microphone.wav")) as recorded:
        assert recorded.getnframes() >= round(float(heard["t"]) * RATE) - RATE // 10
    assert not list((tmp_path / "run-state").rglob("*.wav")), "the session stored audio in its data folder"
    assert quiet_run.folder is not None
    unasked = [p.name for p in quiet_run.folder.rglob("*") if p.suffix in (".wav", ".jsonl")]
    assert sorted(unasked) == ["quiet-events.jsonl", "quiet-mic.wav", "quiet-out.wav"], "stored without being asked"


# ------------------------------------------------------------------ the coach hears itself


@pytest.mark.parametrize("echo_db,room", [(-6.0, 0.0), (-12.0, 0.0), (-6.0, 0.5)],
                         ids=["-6dB", "-12dB", "-6dB-room0.5s"])
def test_own_voice_echo_fires_no_command_over_a_whole_routine(quiet_run, tmp_path, echo_db, room) -> None:
    """Through a room too: reflections a single echo path cannot remove (before the
    room stage, the coach heard itself say "pain" and "stop" there within a minute)."""
    require_run_options("--echo-db", "--echo-delay-ms")
    in_room = ("--echo-room", str(room)) if room else ()
    run = run_session(tmp_path, np.zeros(RATE, np.int16), "--echo-db", str(echo_db), "--echo-delay-ms", "40", *in_room)
    assert eventlog.commands_heard(run.events) == []
    assert eventlog.end_reason(run.events) == eventlog.end_reason(quiet_run.events)
    cues = eventlog.of_type(run.events, "cue-started")
    assert len(cues) == len(eventlog.of_type(quiet_run.events, "cue-started")) > 3
    assert eventlog.of_type(run.events, "audio-cancelled") == []


def test_echo_without_a_microphone_file_is_refused_before_anything_is_done(tmp_path: Path) -> None:
    data, cache = tmp_path / "data", tmp_path / "cache"
    env = {**coach_env(), "COACH_DATA_DIR": str(data), "COACH_CACHE_DIR": str(cache)}
    done = coach("run", routine_id(), "--clock", "virtual", "--echo-db", "-6",
                 "--speaker", str(tmp_path / "out.wav"), timeout=60, env=env)
    assert done.returncode == 2, done.stderr
    assert "--mic" in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (tmp_path / "out.wav").exists()
    assert not (data / NOTICE_MARKER).exists()                      # the first run is still to come
    assert not cache.exists() or not any(cache.rglob("*.wav"))      # nothing was rendered
