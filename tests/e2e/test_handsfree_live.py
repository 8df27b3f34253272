"""Live sessions on a virtual sound card: real sounddevice streams, real time.

The coach plays to the null sink ``coach_speaker`` and listens to
``user_mouth.monitor``; the test speaks into ``user_mouth`` with paplay and
watches ``coach_speaker.monitor`` with parec. Few tests, tolerant timings.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from coach.testing import eventlog, micmix

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
RATE = 16_000
WARM_UP_SECONDS = 1.0
SILENCE_PEAK = 200                 # a null sink's monitor is exactly 0 when nothing plays


@pytest.fixture(scope="module")
def rig() -> Iterator[object]:
    require_live_run()
    pulse = pytest.importorskip("coach.testing.pulse", reason="coach.testing.pulse is missing")
    missing = pulse.missing_tools() + ([] if shutil.which("parec") else ["parec"])
    if missing:
        pytest.skip(f"PulseAudio rig needs {', '.join(missing)} (apt install pulseaudio pulseaudio-utils)")
    with contextlib.ExitStack() as stack:
        try:
            running = stack.enter_context(pulse.pulse_rig())
        except RuntimeError as error:
            pytest.skip(f"PulseAudio rig did not start: {error}")
        yield running


def require_live_run() -> None:
    done = subprocess.run([sys.executable, "-m", "coach", "run", "--help"], cwd=REPO, env=coach_env({}),
                          capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        pytest.skip("`coach run` does not exist yet")
    if "--events" not in done.stdout:
        pytest.skip("`coach run` lacks --events")
    if importlib.util.find_spec("coach.listen.listener") is None:
        pytest.skip("coach.listen.listener is not there yet: nothing to hear with")
    composition = "".join(p.read_text() for p in (REPO / "coach" / "cli").glob("*.py"))
    if "DeviceSource" not in composition:
        pytest.skip("the composition root (coach/cli/) opens no microphone device for live sessions yet")
    try:
        micmix.dev_set_dir()
    except micmix.MissingTestData as missing:
        pytest.skip(str(missing))
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")


def coach_env(rig_env: dict[str, str]) -> dict[str, str]:
    env = {**os.environ, **rig_env}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env["PULSE_SINK"] = "coach_speaker"
    env["PULSE_SOURCE"] = "user_mouth.monitor"
    return env


class SpeakerWatch:
    """Peak level of a monitor (the coach's speaker by default) in 20 ms blocks, stamped with arrival time."""

    def __init__(self, rig, device: str = "coach_speaker.monitor") -> None:
        self.levels: list[tuple[float, int]] = []
        self._process = subprocess.Popen(
            ["parec", f"--device={device}", "--rate=16000", "--channels=1",
             "--format=s16le", "--raw", "--latency-msec=20"],
            stdout=subprocess.PIPE, env=coach_env(rig.env()),
        )
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        assert self._process.stdout is not None
        while block := self._process.stdout.read(640):
            samples = np.frombuffer(block[: len(block) // 2 * 2], np.int16)
            self.levels.append((time.monotonic(), int(np.max(np.abs(samples))) if samples.size else 0))

    def loud_between(self, start: float, end: float) -> bool:
        return any(start <= t < end and level > SILENCE_PEAK for t, level in list(self.levels))

    def last_loud(self) -> float | None:
        loud = [t for t, level in list(self.levels) if level > SILENCE_PEAK]
        return loud[-1] if loud else None

    def wait_quiet(self, quiet_seconds: float, timeout: float, spoken_since: float | None = None) -> bool:
        """Wait until the coach has been silent for quiet_seconds, after speaking (since a time)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            last = self.last_loud()
            if last is not None and (spoken_since is None or last >= spoken_since) \
                    and time.monotonic() - last >= quiet_seconds:
                return True
            time.sleep(0.05)
        return False

    def close(self) -> None:
        self._process.terminate()     # our own parec, by its handle
        self._process.wait(timeout=10)


class LiveSession:
    """`coach run` on the rig's devices, its event log read as it grows."""

    def __init__(self, rig, folder: Path, routine: str, *extra: str) -> None:
        self.events_path = folder / "events.jsonl"
        data = folder / "data"                       # no history, first-run notice already shown
        data.mkdir(parents=True, exist_ok=True)
        (data / "notice-shown").write_text("shown\n")
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "coach", "run", routine, "--input", "voice", "--events", str(self.events_path), *extra],
            cwd=REPO, env={**coach_env(rig.env()), "COACH_DATA_DIR": str(data)}, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )

    def events(self) -> list[dict]:
        return eventlog.read_events(self.events_path) if self.events_path.exists() else []

    def wait_for(self, predicate: Callable[[list[dict]], object], timeout: float) -> object:
        return eventlog.wait_for(self.events, predicate, timeout, lambda: self.process.poll() is not None)

    def finish(self, timeout: float = 30.0) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGINT)        # Ctrl-C: ends cleanly with the log written
            try:
                return self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                return self.process.wait()

    def diagnostics(self) -> str:
        return f"events: {[eventlog.event_type(e) for e in self.events()][-12:]}"


def lead_in(samples: np.ndarray, seconds: float = 0.3) -> np.ndarray:
    return np.concatenate([np.zeros(int(RATE * seconds), np.int16), samples])


def say(rig, folder: Path, name: str, pcm: bytes | np.ndarray, wait: bool = True) -> float:
    """Speak into the coach's microphone (after a short lead-in); returns when the word ended."""
    samples = np.frombuffer(pcm, np.int16) if isinstance(pcm, bytes) else pcm
    path = micmix.write_wav(folder / f"{name}.wav", lead_in(samples))
    rig.say_into_mic(path, wait=wait)
    return time.monotonic()


VOICES = ("en-us", "en-gb", "en-us+f3", "en-gb-scotland", "en-029", "en-us+m7")


@functools.cache
def heard_recording(label: str, context: str, command: str, value: int | None = None) -> np.ndarray:
    """A recording of ``label`` that `coach hear` maps to ``command`` robustly: as it
    is, and with the lead-in ``say`` gives it less or more a capture block (an idle
    null sink's monitor starts delivering when something plays, so a block may be
    lost). A development clip, else an espeak-ng voice. The live tests check the
    session, not recall."""
    folder = Path(tempfile.mkdtemp(prefix="coach-live-words-"))
    candidates = [micmix.as_samples(c) for c in micmix.dev_clips(label)[:20]]
    candidates += [np.frombuffer(micmix.espeak_pcm(label, voice=v, words_per_minute=wpm), np.int16)
                   for wpm in (150, 175, 120) for v in VOICES]
    variants = lambda x: (x, lead_in(x)[320:], lead_in(x))  # noqa: E731
    paths = [micmix.write_wav(folder / f"{i}-{j}.wav", v)
             for i, x in enumerate(candidates) for j, v in enumerate(variants(x))]
    done = subprocess.run([sys.executable, "-m", "coach", "hear", "--context", context, "--json", *map(str, paths)],
                          cwd=REPO, env=coach_env({}), capture_output=True, text=True, timeout=600)
    results = [json.loads(line) for line in done.stdout.strip().splitlines()]
    for i, x in enumerate(candidates):
        trio = results[3 * i : 3 * i + 3]
        if len(trio) == 3 and all(r.get("command") == command and (value is None or r.get("value") == value) for r in trio):
            return x
    pytest.skip(f"`coach hear` maps no recording of {label!r} to {command} robustly: {done.stderr.strip()[-200:]}")


def stop_clip() -> np.ndarray:
    return heard_recording("stop", "session", "stop")


def routine() -> str:
    return os.environ.get("COACH_TEST_ROUTINE", "desk-break")


def cue_of_kind(kinds: tuple[str, ...], after_seconds: float,
                min_seconds: float = 0.0) -> Callable[[list[dict]], dict | None]:
    def find(events: list[dict]) -> dict | None:
        for event in eventlog.of_type(events, "cue-started"):
            if event.get("kind") in kinds and float(event.get("t", 0)) >= after_seconds \
                    and float(event.get("seconds") or 0) >= min_seconds:
                return event
        return None
    return find


@pytest.fixture
def watch(rig) -> Iterator[SpeakerWatch]:
    speaker = SpeakerWatch(rig)
    yield speaker
    speaker.close()


def test_stop_over_speech_silences_the_speaker(rig, watch, tmp_path) -> None:
    stop = stop_clip()
    session = LiveSession(rig, tmp_path, routine())
    try:
        cue = session.wait_for(cue_of_kind(("say",), WARM_UP_SECONDS, min_seconds=2.5), timeout=120)
        assert cue, f"no spoken cue; {session.diagnostics()}"
        time.sleep(0.5)
        assert watch.loud_between(time.monotonic() - 0.5, time.monotonic()), "the coach is not audible on its sink"
        said_at = say(rig, tmp_path, "stop", stop)
        code = session.finish(timeout=20)
    finally:
        session.finish(timeout=1)
    events = session.events()
    assert eventlog.first(events, "command-heard", command="stop"), session.diagnostics()
    assert eventlog.end_reason(events) == "stopped"
    assert code == 10
    last = watch.last_loud()
    assert last is not None and last - said_at < 1.5, "the speaker kept talking after stop"


def test_pain_phrase_starts_triage_and_an_answer_is_heard(rig, watch, tmp_path) -> None:
    phrase = heard_recording("it hurts", "session", "pain")
    answers = {"number": heard_recording("three", "number", "number", 3), "yesno": heard_recording("no", "yesno", "no")}
    stop_clip()
    session = LiveSession(rig, tmp_path, routine())
    try:
        assert session.wait_for(cue_of_kind(("pause", "listen"), WARM_UP_SECONDS, min_seconds=6.0), timeout=120)
        time.sleep(0.3)
        watch.wait_quiet(1.0, timeout=10)
        say(rig, tmp_path, "pain", phrase)
        triage = session.wait_for(lambda ev: eventlog.first(ev, "triage-started", trigger="voice"), timeout=20)
        assert triage, f"the pain phrase started no triage; {session.diagnostics()}"
        assert eventlog.first(session.events(), "command-heard", command="pain")
        answered = None
        for attempt in ("first", "repeat"):        # tolerant: answer the repeated question too
            question = session.wait_for(lambda ev: eventlog.first(
                ev, "triage-question", triage_id=triage["triage_id"], attempt=attempt), timeout=30)
            asked_at = time.monotonic()
            assert question, f"no triage question; {session.diagnostics()}"
            assert watch.wait_quiet(1.2, timeout=20, spoken_since=asked_at), "the coach never finished the question"
            say(rig, tmp_path, "answer", answers["number" if question.get("context") == "number" else "yesno"])
            answered = session.wait_for(lambda ev: [a for a in eventlog.of_type(ev, "triage-answer")
                                                    if a.get("triage_id") == triage["triage_id"]
                                                    and a["answer"] != "unknown"], timeout=10)
            if answered:
                break
        assert answered, f"the spoken answer was not taken; {session.diagnostics()}"
        watch.wait_quiet(1.2, timeout=20, spoken_since=time.monotonic())
        say(rig, tmp_path, "stop", stop_clip())
        session.wait_for(lambda ev: eventlog.end_reason(ev), timeout=20)
    finally:
        session.finish(timeout=20)
    assert eventlog.end_reason(session.events()) is not None


def test_next_moves_on(rig, watch, tmp_path) -> None:
    word = heard_recording("next", "session", "next")
    stop_clip()
    session = LiveSession(rig, tmp_path, routine())
    try:
        pause = session.wait_for(cue_of_kind(("pause", "listen"), WARM_UP_SECONDS, min_seconds=6.0), timeout=120)
        assert pause, f"no silent cue; {session.diagnostics()}"
        time.sleep(0.3)
        watch.wait_quiet(1.0, timeout=10)         # a listen cue speaks first; then reply after a second
        heard = None
        for _ in range(2):                          # tolerant: a second try within the same pause
            say(rig, tmp_path, "next", word)
            heard = session.wait_for(lambda ev: eventlog.first(ev, "command-heard", command="next"), timeout=2.5)
            if heard:
                break
        moved = session.wait_for(
            lambda ev: eventlog.first(ev, "cue-started", after_seconds=float(pause["t"]) + 1e-6), timeout=5)
        say(rig, tmp_path, "stop", stop_clip())
        session.wait_for(lambda ev: eventlog.end_reason(ev), timeout=20)
    finally:
        session.finish(timeout=20)
    assert heard, f"next not heard; {session.diagnostics()}"
    assert moved and int(moved["index"]) > int(pause["index"])
    assert float(moved["t"]) - float(heard["t"]) < 1.0, "the pause went on after next"


def test_own_voice_looped_back_never_triggers(rig, watch, tmp_path) -> None:
    module = rig.pactl("load-module", "module-loopback", "source=coach_speaker.monitor",
                       "sink=user_mouth", "latency_msec=40")
    try:
        for line in rig.pactl("list", "short", "sink-inputs").splitlines():
            fields = line.split("\t")
            if len(fields) > 2 and fields[2] == module:
                rig.pactl("set-sink-input-volume", fields[0], "80%")      # about -6 dB (cubic volume)
        mic = SpeakerWatch(rig, device="user_mouth.monitor")
        recording = tmp_path / "recording"          # to replay a failure: scripts/replay_listening.py
        session = LiveSession(rig, tmp_path, routine(), "--debug-recording", str(recording))
        try:
            session.wait_for(lambda ev: eventlog.end_reason(ev), timeout=float(os.environ.get("COACH_E2E_LOOP_SECONDS", "90")))
        finally:
            session.finish(timeout=1)
            mic.close()
    finally:
        rig.pactl("unload-module", module)
    assert mic.last_loud() is not None, "the loopback never brought the coach's voice to its microphone"
    events = session.events()
    assert eventlog.first(events, "session-started"), session.diagnostics()
    assert eventlog.commands_heard(events) == [], f"the coach heard itself; replay {recording}"
    assert len(eventlog.of_type(events, "cue-started")) >= 3, session.diagnostics()
    assert watch.last_loud() is not None, "the coach was never heard on its sink"
