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
subprocess with ``rig.env()``.
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
