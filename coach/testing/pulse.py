"""A private PulseAudio server with two null sinks, for tests without a sound card.

``coach_speaker`` is what the coach plays to; ``user_mouth`` is what a test
"says", and the coach's microphone is ``user_mouth.monitor``. Use::

    with pulse_rig() as rig:          # or reuse a running one: PulseRig.attach()
        rig.apply_env()               # BEFORE sounddevice is imported
        ...

PortAudio lists the ALSA ``pulse`` device only if the server is reachable when
it initialises (ALSA's ``pulse_load_if_running`` hook), so the environment must
be set before ``sounddevice`` is imported in this process; otherwise call
``coach.audio.device.refresh_devices()``, or run the device code in a
subprocess with ``rig.env()``. Two more facts from these machines: the first
input stream a process opens delivers nothing for about 2 s (``wait_for_capture``),
and a monitor delivers nothing while its sink is idle, so sample counts of a
capture do not measure wall time; block arrival times do.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

SPEAKER_SINK = "coach_speaker"
MOUTH_SINK = "user_mouth"
MIC_SOURCE = f"{MOUTH_SINK}.monitor"
SPEAKER_MONITOR = f"{SPEAKER_SINK}.monitor"


def missing_tools() -> list[str]:
    """Programs the rig needs that are not installed (empty when it can run)."""
    return [tool for tool in ("pulseaudio", "pactl", "paplay") if shutil.which(tool) is None]


@dataclass
class PulseRig:
    runtime_dir: Path
    pid: int | None = None              # set when this rig started the server
    module_ids: list[str] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        """Environment for this process or subprocesses to reach the server."""
        return {"XDG_RUNTIME_DIR": str(self.runtime_dir), "PULSE_SERVER": f"unix:{self.socket}"}

    @property
    def socket(self) -> Path:
        return self.runtime_dir / "pulse" / "native"

    def apply_env(self) -> None:
        os.environ.update(self.env())

    def pactl(self, *args: str) -> str:
        done = subprocess.run(
            ["pactl", *args], env={**os.environ, **self.env()}, capture_output=True, text=True, timeout=10
        )
        if done.returncode != 0:
            raise RuntimeError(f"pactl {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout.strip()

    def sinks(self) -> list[str]:
        return [line.split("\t")[1] for line in self.pactl("list", "short", "sinks").splitlines() if "\t" in line]

    def ensure_sinks(self) -> None:
        present = self.sinks()
        for name in (SPEAKER_SINK, MOUTH_SINK):
            if name not in present:
                self.module_ids.append(self.pactl("load-module", "module-null-sink", f"sink_name={name}"))
        self.pactl("set-default-sink", SPEAKER_SINK)
        self.pactl("set-default-source", MIC_SOURCE)

    def say_into_mic(self, wav_path: str | Path, wait: bool = True) -> subprocess.Popen[bytes]:
        """Play a WAV into ``user_mouth`` (heard by the coach's microphone)."""
        process = subprocess.Popen(
            ["paplay", f"--device={MOUTH_SINK}", str(wav_path)], env={**os.environ, **self.env()}
        )
        if wait:
            process.wait(timeout=120)
        return process

    def stop(self) -> None:
        """Stop the server if this rig started it (by its pid), and remove its folder."""
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGTERM)
                for _ in range(50):
                    os.kill(self.pid, 0)
                    time.sleep(0.05)
            except ProcessLookupError:
                pass
            shutil.rmtree(self.runtime_dir, ignore_errors=True)
            self.pid = None

    @classmethod
    def attach(cls, runtime_dir: str | Path) -> "PulseRig":
        """Use a server someone else started (e.g. ``scripts/audio-rig start``)."""
        rig = cls(Path(runtime_dir))
        rig.ensure_sinks()
        return rig

    @classmethod
    def start(cls) -> "PulseRig":
        problems = missing_tools()
        if problems:
            raise RuntimeError(f"PulseAudio test rig needs {', '.join(problems)} (apt install pulseaudio pulseaudio-utils)")
        runtime_dir = Path(tempfile.mkdtemp(prefix="coach-pulse-"))
        runtime_dir.chmod(0o700)
        env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime_dir)}
        env.pop("PULSE_SERVER", None)
        command = [
            "pulseaudio", "--daemonize=yes", "--exit-idle-time=-1", "--disallow-exit", "-n",
            "--load=module-native-protocol-unix", "--load=module-always-sink",
            f"--log-target=file:{runtime_dir / 'pulse.log'}",
        ]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30)
        pid_file = runtime_dir / "pulse" / "pid"
        rig = cls(runtime_dir)
        for _ in range(100):
            if pid_file.exists() and pid_file.read_text().strip() and rig.socket.exists():
                break
            time.sleep(0.05)
        else:
            shutil.rmtree(runtime_dir, ignore_errors=True)
            raise RuntimeError(f"pulseaudio did not start: {done.stderr.strip()[-300:]}")
        rig.pid = int(pid_file.read_text().strip())
        try:
            rig.ensure_sinks()
        except Exception:
            rig.stop()
            raise
        return rig


@contextmanager
def pulse_rig() -> Iterator[PulseRig]:
    """A running rig: reuses ``$COACH_PULSE_RUNTIME_DIR`` if set, else starts a private server."""
    existing = os.environ.get("COACH_PULSE_RUNTIME_DIR")
    rig = PulseRig.attach(existing) if existing else PulseRig.start()
    try:
        yield rig
    finally:
        rig.stop()


# --- measuring what the speaker did -------------------------------------------------

LOUD_THRESHOLD = 500            # int16; the test tone peaks at 8,000, an idle monitor gives 0
SEGMENT_GAP_SECONDS = 0.1
MATCH_SECONDS = 0.25          # a cancelled sound's end reaches the capture within this of cancel()


@dataclass(frozen=True)
class CancelTrial:
    """One play-then-cancel. ``*_stream_seconds`` are PortAudio stream time, the rest monotonic."""

    onset_stream_seconds: float  # PulseAudio's play-out (DAC) time of the sound's first sample
    cancel_stream_seconds: float
    cancel_seconds: float        # time.monotonic() just before cancel()
    sounded_seconds: float      # how long the sound lasted in the capture, counted in samples
    last_arrival_seconds: float  # time.monotonic() when the sound's last sample reached the capture

    @property
    def latency_seconds(self) -> float:
        """From cancel() to the last loud sample reaching the capture (callback time).

        This includes the capture path's delay; on the other hand a null sink
        renders a few milliseconds ahead of its clock, so a sample can reach
        the monitor slightly before its nominal play time (small negative
        values). ``estimated_latency_seconds`` is the cross-check.
        """
        return self.last_arrival_seconds - self.cancel_seconds

    @property
    def estimated_latency_seconds(self) -> float:
        """The same from PulseAudio's reported play-out time of the first sample plus the sound's length."""
        return self.onset_stream_seconds + self.sounded_seconds - self.cancel_stream_seconds


def tone_pcm(seconds: float, hz: float = 330.0, amplitude: int = 8000, rate_hz: int = 16_000) -> bytes:
    import numpy as np

    t = np.arange(round(seconds * rate_hz)) / rate_hz
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype("<i2").tobytes()


def loud_segments(pcm: bytes, rate_hz: int = 16_000) -> list[tuple[int, int]]:
    """(first, last) sample index of each stretch of sound separated by silence."""
    import numpy as np

    loud = np.flatnonzero(np.abs(np.frombuffer(pcm, "<i2").astype(np.int32)) > LOUD_THRESHOLD)
    if len(loud) == 0:
        return []
    breaks = np.flatnonzero(np.diff(loud) > SEGMENT_GAP_SECONDS * rate_hz)
    starts = [int(loud[0])] + [int(loud[i + 1]) for i in breaks]
    ends = [int(loud[i]) for i in breaks] + [int(loud[-1])]
    return list(zip(starts, ends))


def open_speaker_capture(rate_hz: int = 16_000) -> object:
    """A Recorder on ``coach_speaker.monitor`` (the rig's env must already be applied)."""
    from coach.audio.recorder import Recorder

    previous = os.environ.get("PULSE_SOURCE")
    os.environ["PULSE_SOURCE"] = SPEAKER_MONITOR        # read by the ALSA pulse plugin at open
    try:
        return Recorder(device="pulse", rate_hz=rate_hz)
    finally:
        if previous is None:
            os.environ.pop("PULSE_SOURCE", None)
        else:
            os.environ["PULSE_SOURCE"] = previous


def wait_for_capture(capture: object, sleep: object = time.sleep, timeout_seconds: float = 10.0) -> None:
    """Wait for the first captured block: a process's first input stream on
    PulseAudio's ALSA plugin delivers nothing for about 2 s."""
    waited = 0.0
    while capture.samples_received == 0:                                # type: ignore[attr-defined]
        if waited > timeout_seconds:
            raise RuntimeError(f"the capture delivered nothing for {timeout_seconds:.0f} s")
        sleep(0.05)                                                     # type: ignore[operator]
        waited += 0.05


def measure_cancel(trials: int, play_seconds: float = 0.5, sleep: object = time.sleep,
                   warm_up_seconds: float = 0.5, flush_on_cancel: bool = True) -> tuple[list[CancelTrial], bytes]:
    """Play a long tone on the default output, cancel after ``play_seconds``, repeat.

    The capture of ``coach_speaker.monitor`` is sample-continuous while sound
    plays, so each sound's length is counted in samples; its start is the
    play-out time PulseAudio reports for the first block. Returns the trials
    and the capture. A short warm-up tone goes first and is not counted.
    """
    from coach.audio.device import DeviceSink

    sink = DeviceSink(flush_on_cancel=flush_on_cancel)
    capture = open_speaker_capture()
    notes: list[tuple[float, float, float]] = []
    try:
        wait_for_capture(capture, sleep)
        sleep(warm_up_seconds)                                          # type: ignore[operator]
        sink.play(tone_pcm(0.3))
        sleep(0.8)                                                      # type: ignore[operator]
        for trial in range(trials):
            sink.play(tone_pcm(3.0))
            sleep(play_seconds + 0.013 * (trial % 7))                   # type: ignore[operator]
            cancel_stream_seconds, cancel_seconds = sink.stream_time, time.monotonic()
            sink.cancel()
            notes.append((sink.onset_stream_seconds, cancel_stream_seconds, cancel_seconds))
            sleep(0.4)                                                  # type: ignore[operator]
        sleep(0.8)                                                      # type: ignore[operator]
    finally:
        recording = capture.stop()                                      # type: ignore[attr-defined]
        sink.close()
    return _match(notes, recording), recording.pcm


def _match(notes: list[tuple[float, float, float]], recording: object) -> list[CancelTrial]:
    """Pair each trial with the one sound whose end reached the capture near its cancel.

    The monitor delivers nothing while the sink is idle, so sample counts
    cannot place sounds in time; the capture callbacks' arrival times can.
    """
    ends = [(recording.sample_arrival_seconds(last), first, last)              # type: ignore[attr-defined]
            for first, last in loud_segments(recording.pcm)]                   # type: ignore[attr-defined]
    results = []
    for index, (onset_stream, cancel_stream, cancel) in enumerate(notes):
        found = [(arrival, first, last) for arrival, first, last in ends if -0.1 < arrival - cancel < MATCH_SECONDS]
        if len(found) != 1:
            raise RuntimeError(f"trial {index}: expected one sound ending near its cancel, found {len(found)}")
        arrival, first, last = found[0]
        sounded_seconds = (last - first + 1) / recording.rate_hz                 # type: ignore[attr-defined]
        results.append(CancelTrial(onset_stream, cancel_stream, cancel, sounded_seconds, arrival))
    return results
