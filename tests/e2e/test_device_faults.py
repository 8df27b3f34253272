"""Missing and lost audio devices on the PulseAudio rig never crash a live session.

Each test runs `coach run` in real time as a subprocess on the rig (the coach
plays to ``coach_speaker`` and listens to ``user_mouth.monitor``), then takes a
device away with ``pactl unload-module`` (a microphone or speaker unplugged),
or never creates it, or presses Ctrl-C (SIGINT). The session must go on, log
what happened, and end cleanly with its history written. Sinks are restored
after each test. Tolerant timings: about a second of warm-up is allowed.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from coach.testing import eventlog

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
ROUTINE = "desk-break"
WARM_UP_SECONDS = 1.0
EXIT_INTERRUPTED = 130


@pytest.fixture(scope="module")
def rig() -> Iterator[object]:
    pulse = pytest.importorskip("coach.testing.pulse", reason="coach.testing.pulse is missing")
    missing = pulse.missing_tools()
    if missing:
        pytest.skip(f"PulseAudio rig needs {', '.join(missing)} (apt install pulseaudio pulseaudio-utils)")
    try:
        context = pulse.pulse_rig()
        running = context.__enter__()
    except RuntimeError as error:
        pytest.skip(f"PulseAudio rig did not start: {error}")
    try:
        yield running
    finally:
        context.__exit__(None, None, None)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One speech cache for the module: the routine is rendered once."""
    return tmp_path_factory.mktemp("speech-cache")


@pytest.fixture
def devices(rig) -> Iterator[object]:
    """The rig with both sinks; whatever a test unloaded is loaded again after it."""
    rig.ensure_sinks()
    yield rig
    rig.ensure_sinks()


def sink_module(rig, sink_name: str) -> str:
    """The id of the null-sink module that made ``sink_name``."""
    for line in rig.pactl("list", "short", "modules").splitlines():
        fields = line.split("\t")
        if len(fields) > 2 and fields[1] == "module-null-sink" and f"sink_name={sink_name}" in fields[2]:
            return fields[0]
    raise AssertionError(f"no module-null-sink for {sink_name}: {rig.pactl('list', 'short', 'modules')}")


def unload_sink(rig, sink_name: str) -> None:
    rig.pactl("unload-module", sink_module(rig, sink_name))
    assert sink_name not in rig.sinks()


def kill_streams(rig, kind: str) -> list[str]:
    """End every ``kind`` stream ("source-output" or "sink-input") on the rig, as
    PulseAudio does when a device goes away and no other device can take its
    streams (this module's tests run no other client than the coach).
    ``pactl`` has no kill command; ``pacmd`` (in the pulseaudio package) has."""
    if shutil.which("pacmd") is None:
        pytest.skip("pacmd is not installed (apt install pulseaudio): cannot end a stream")
    ids = [line.split("\t")[0] for line in rig.pactl("list", "short", f"{kind}s").splitlines() if "\t" in line]
    for stream in ids:
        subprocess.run(["pacmd", f"kill-{kind}", stream], env={**os.environ, **rig.env()},
                       capture_output=True, text=True, timeout=10, check=True)
    return ids


def _hear_ctrl_c() -> None:
    """In the child: Ctrl-C back to its default. A suite started in the background
    (as CI runners and `cmd &` do) ignores SIGINT, and children inherit that, so
    the Ctrl-C test would test nothing but the launcher."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Session:
    """`coach run` on the rig, its event log read as it grows."""

    def __init__(self, rig, folder: Path, cache: Path, *extra: str) -> None:
        self.events_path = folder / "events.jsonl"
        self.data = folder / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        (self.data / "notice-shown").write_text("shown\n")
        env = {**os.environ, **rig.env(), "COACH_DATA_DIR": str(self.data), "COACH_CACHE_DIR": str(cache),
               "PULSE_SINK": "coach_speaker", "PULSE_SOURCE": "user_mouth.monitor",
               "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "coach", "run", ROUTINE, "--baseline", "0",
             "--events", str(self.events_path), *extra],
            cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            preexec_fn=_hear_ctrl_c,
        )
        self.stdout = ""
        self.stderr = ""

    def events(self) -> list[dict]:
        return eventlog.read_events(self.events_path) if self.events_path.exists() else []

    def wait_for(self, predicate: Callable[[list[dict]], object], timeout: float) -> object:
        return eventlog.wait_for(self.events, predicate, timeout, lambda: self.process.poll() is not None)

    def interrupt(self, timeout: float = 15) -> int:
        """Ctrl-C, then collect the output; killed (by its handle) only if it hangs."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            self.stdout, self.stderr = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.stdout, self.stderr = self.process.communicate()
            raise AssertionError(f"`coach run` did not end on SIGINT; {self.diagnostics()}")
        return self.process.returncode

    def history_end_reason(self) -> str | None:
        path = self.data / "history.sqlite3"
        if not path.exists():
            return None
        with sqlite3.connect(path) as db:
            rows = db.execute("SELECT end_reason FROM sessions").fetchall()
        return rows[-1][0] if rows else None

    def diagnostics(self) -> str:
        return (f"events: {[eventlog.event_type(e) for e in self.events()][-12:]}; "
                f"stderr: {self.stderr.strip()[-600:]}")


def first_spoken_cue(events: list[dict]) -> dict | None:
    return next((e for e in eventlog.of_type(events, "cue-started") if e.get("kind") == "say"), None)


def cue_started_after(seconds: float) -> Callable[[list[dict]], dict | None]:
    return lambda events: next((e for e in eventlog.of_type(events, "cue-started")
                                if float(e.get("t", 0)) > seconds), None)


def microphone_ended(events: list[dict]) -> dict | None:
    return eventlog.first(events, "input-ended", source="microphone")


def assert_clean_interrupt(session: Session, code: int) -> None:
    assert "Traceback" not in session.stderr, session.stderr
    assert code == EXIT_INTERRUPTED, session.diagnostics()
    assert eventlog.end_reason(session.events()) == "interrupted", session.diagnostics()
    assert session.history_end_reason() == "interrupted", "the history does not record the interrupted session"


@pytest.fixture
def session_factory(devices, tmp_path: Path, cache_dir: Path) -> Iterator[Callable[..., Session]]:
    started: list[Session] = []

    def start(*extra: str) -> Session:
        session = Session(devices, tmp_path, cache_dir, *extra)
        started.append(session)
        return session

    yield start
    for session in started:                     # a failed test still ends its own session
        if session.process.poll() is None:
            try:
                session.interrupt(timeout=10)
            except AssertionError:
                pass


def started_speaking(session: Session) -> dict:
    cue = session.wait_for(first_spoken_cue, timeout=60)     # the first run renders the routine's speech
    assert cue, f"the session never started speaking; {session.diagnostics()}"
    time.sleep(WARM_UP_SECONDS)
    assert session.process.poll() is None, f"the session ended early; {session.diagnostics()}"
    return cue


def test_microphone_lost_mid_session_goes_on(devices, session_factory) -> None:
    session = session_factory("--input", "voice")
    started_speaking(session)
    started = eventlog.first(session.events(), "session-started")
    assert started and "voice" in str(started.get("input")), f"no microphone at start; {session.diagnostics()}"
    unload_sink(devices, "user_mouth")              # PulseAudio moves the stream to another source...
    time.sleep(1.0)
    assert session.process.poll() is None, f"the session ended with the microphone; {session.diagnostics()}"
    assert kill_streams(devices, "source-output"), "the coach had no microphone stream"
    lost = session.wait_for(microphone_ended, timeout=10)   # ...or ends it when there is none
    assert lost, f"the lost microphone was not logged; {session.diagnostics()}"
    went_on = session.wait_for(cue_started_after(float(lost["t"])), timeout=15)
    assert session.process.poll() is None, f"the session ended with the microphone; {session.diagnostics()}"
    assert went_on, f"no cue after the microphone was lost; {session.diagnostics()}"
    code = session.interrupt()
    assert_clean_interrupt(session, code)


def test_microphone_lost_mid_session_is_said_and_printed(devices, session_factory) -> None:
    session = session_factory("--input", "voice")
    started_speaking(session)
    unload_sink(devices, "user_mouth")
    kill_streams(devices, "source-output")
    lost = session.wait_for(microphone_ended, timeout=10)
    assert lost, session.diagnostics()
    told = session.wait_for(lambda ev: [e for e in eventlog.of_type(ev, "said")
                                        if float(e.get("t", 0)) >= float(lost["t"]) and e.get("purpose") == "notice"],
                            timeout=5)
    session.interrupt()
    assert told, f"nothing said about the lost microphone; {session.diagnostics()}"
    assert "microphone" in session.stdout.lower() or "microphone" in session.stderr.lower()


def test_speaker_lost_mid_session_goes_on(devices, session_factory) -> None:
    session = session_factory("--input", "voice")
    cue = started_speaking(session)
    unload_sink(devices, "coach_speaker")           # PulseAudio moves the stream to another sink...
    time.sleep(1.0)
    assert session.process.poll() is None, f"the session ended with the speaker; {session.diagnostics()}"
    assert kill_streams(devices, "sink-input"), "the coach had no speaker stream"   # ...or ends it
    lost_at = float(session.events()[-1].get("t", cue["t"]))
    went_on = session.wait_for(cue_started_after(lost_at + 0.5), timeout=25)
    assert session.process.poll() is None, f"the session ended with the speaker; {session.diagnostics()}"
    assert went_on, f"no cue after the speaker was lost; {session.diagnostics()}"
    code = session.interrupt()
    assert_clean_interrupt(session, code)


def test_speaker_lost_mid_session_is_logged(devices, session_factory) -> None:
    session = session_factory("--input", "voice")
    started_speaking(session)
    unload_sink(devices, "coach_speaker")
    kill_streams(devices, "sink-input")
    logged = session.wait_for(lambda ev: eventlog.first(ev, "output-lost"), timeout=8)
    session.interrupt()
    assert logged, f"the lost speaker was not logged; {session.diagnostics()}"
    assert "speaker" in session.stderr.lower() or "audio output" in session.stderr.lower()


def test_no_microphone_at_start_falls_back(devices, session_factory) -> None:
    unload_sink(devices, "user_mouth")
    session = session_factory()                                  # --input auto
    cue = started_speaking(session)
    events = session.events()
    started = eventlog.first(events, "session-started")
    assert started and "voice" not in str(started.get("input")), session.diagnostics()
    assert session.wait_for(cue_started_after(float(cue["t"])), timeout=15), session.diagnostics()
    code = session.interrupt()
    assert "microphone" in session.stderr.lower(), f"no printed message about the microphone; {session.diagnostics()}"
    spoken = [e for e in eventlog.of_type(session.events(), "said") if "microphone" in str(e.get("text")).lower()]
    assert spoken, f"no spoken message about the microphone; {session.diagnostics()}"
    assert_clean_interrupt(session, code)


def test_ctrl_c_mid_session_ends_cleanly(devices, session_factory) -> None:
    session = session_factory("--input", "voice")
    started_speaking(session)
    code = session.interrupt()
    assert_clean_interrupt(session, code)
    assert session.events()[-1]["type"] == "session-ended", session.diagnostics()
