"""pyttsx3 speech (espeak-ng on Linux, SAPI5 on Windows, NSSpeechSynthesizer on macOS).

pyttsx3 keeps process-wide engine state, prints to stdout and is known to hang
on a later ``runAndWait`` with some drivers. So rendering happens in one
long-lived worker subprocess (``python -m coach.speak.tts.pyttsx3 --worker``) spoken
to over pipes: the coach's own process never touches the engine, a hung render
is killed after a timeout and the worker restarted. Output is always
``save_to_file`` to a temporary WAV, never live speech.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

from coach.audio import SAMPLE_RATE_HZ
from coach.audio.wav import read_wav
from coach.errors import CoachError

DEFAULT_RATE_WPM = 160
RENDER_TIMEOUT_SECONDS = 30.0
STARTUP_TIMEOUT_SECONDS = 20.0
WORKER_ATTEMPTS = 4
WORKER_POLLS = 5
WORKER_POLL_SECONDS = 0.01
WAV_HEADER_BYTES = 44


class SpeechEngineError(CoachError):
    """The speech engine failed or is missing."""


class Pyttsx3Synthesizer:
    """Renders text to 16 kHz mono int16 through a pyttsx3 worker process."""

    engine = "pyttsx3"
    rate_hz = SAMPLE_RATE_HZ

    def __init__(self, voice: str = "", rate_wpm: int = DEFAULT_RATE_WPM, volume: float = 1.0,
                 timeout_seconds: float = RENDER_TIMEOUT_SECONDS) -> None:
        self.voice = voice              # pyttsx3 voice id; "" = the engine's default
        self.rate_wpm = int(rate_wpm)
        self.volume = float(volume)
        self.renders = 0                # synthesize() calls that reached the engine
        self._timeout_seconds = timeout_seconds
        self._worker: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[str] = queue.Queue()
        self._temp = tempfile.TemporaryDirectory(prefix="coach-tts-")   # removed at close or exit
        self._dir = Path(self._temp.name)

    def synthesize(self, text: str) -> bytes:
        if not text.strip():
            return b""
        self.renders += 1
        path = self._dir / f"{self.renders}.wav"
        request = {"text": text, "path": str(path), "voice": self.voice,
                   "rate_wpm": self.rate_wpm, "volume": self.volume}
        try:
            reply = self._ask(request)
        except SpeechEngineError:
            self._stop_worker()          # a hang or crash: one retry on a fresh worker
            reply = self._ask(request)
        if not reply.get("ok"):
            raise SpeechEngineError("tts-failed", f"pyttsx3 could not render {text[:40]!r}: {reply.get('error')}")
        try:
            return read_wav(path)
        finally:
            path.unlink(missing_ok=True)

    def voices(self) -> list[dict[str, str]]:
        """Voice ids and names the engine offers."""
        return list(self._ask({"list_voices": True}).get("voices", []))

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        worker = self._ensure_worker()
        assert worker.stdin is not None and worker.stdout is not None
        try:
            worker.stdin.write(json.dumps(request) + "\n")
            worker.stdin.flush()
        except (BrokenPipeError, OSError) as error:
            raise SpeechEngineError("tts-worker", f"pyttsx3 worker died: {error}") from error
        line = self._read_line(self._timeout_seconds)
        if line is None:
            self._stop_worker()
            raise SpeechEngineError("tts-timeout", f"pyttsx3 did not answer within {self._timeout_seconds:.0f} s")
        return dict(json.loads(line))

    def _read_line(self, timeout_seconds: float) -> str | None:
        """The worker's next reply, or None after the timeout or when it died."""
        try:
            return self._lines.get(timeout=timeout_seconds) or None
        except queue.Empty:
            return None

    def _ensure_worker(self) -> subprocess.Popen[str]:
        if self._worker is not None and self._worker.poll() is None:
            return self._worker
        root = str(Path(__file__).resolve().parents[3])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
        self._worker = subprocess.Popen(
            [sys.executable, "-m", "coach.speak.tts.pyttsx3", "--worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, bufsize=1, env=env,
        )
        assert self._worker.stdout is not None
        self._lines = queue.Queue()
        threading.Thread(target=_pump, args=(self._worker.stdout, self._lines), daemon=True).start()
        ready = self._read_line(STARTUP_TIMEOUT_SECONDS)
        status = json.loads(ready) if ready else {"ok": False, "error": "no answer"}
        if not status.get("ok"):
            self._stop_worker()
            raise SpeechEngineError("tts-unavailable", f"pyttsx3 cannot start: {status.get('error')}")
        return self._worker

    def _stop_worker(self) -> None:
        if self._worker is None:
            return
        worker, self._worker = self._worker, None
        if worker.poll() is None:
            worker.kill()
        worker.wait(timeout=5)
        if worker.stdin is not None:
            worker.stdin.close()        # stdout belongs to the pump thread, which closes it at EOF

    def close(self) -> None:
        self._stop_worker()
        self._temp.cleanup()

    def __del__(self) -> None:
        try:
            self._stop_worker()
        except Exception:
            pass


def _pump(stream: IO[str], lines: queue.Queue[str]) -> None:
    """Move the worker's replies into a queue (a pipe cannot be polled on every OS)."""
    try:
        for line in stream:
            lines.put(line)
    finally:
        lines.put("")                   # end of file: the worker is gone
        stream.close()


def _worker_main() -> int:
    """Serve render requests, one JSON line in and one out. stdout is reserved for replies."""
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)                 # pyttsx3 prints "Audio saved to ..." on stdout
    try:
        import pyttsx3

        engine = pyttsx3.init()
    except Exception as error:  # missing driver or espeak library
        replies.write(json.dumps({"ok": False, "error": f"{type(error).__name__}: {error}"}) + "\n")
        return 1
    replies.write(json.dumps({"ok": True}) + "\n")
    known_voices = {str(v.id) for v in engine.getProperty("voices")}
    current: dict[str, Any] = {}
    for line in sys.stdin:
        request = json.loads(line)
        try:
            if request.get("list_voices"):
                voices = [{"id": str(v.id), "name": str(v.name)} for v in engine.getProperty("voices")]
                replies.write(json.dumps({"ok": True, "voices": voices}) + "\n")
                continue
            if request["voice"] and known_voices and request["voice"] not in known_voices:
                english = sorted(v for v in known_voices if "/en" in v)[:6]
                raise ValueError(f"unknown voice {request['voice']!r} (English voices: {', '.join(english)})")
            settings = {"voice": request["voice"] or None, "rate": request["rate_wpm"], "volume": request["volume"]}
            for name, value in settings.items():
                if value is not None and current.get(name) != value:
                    engine.setProperty(name, value)
                    current[name] = value
            ok = _render_with_retries(engine, request["text"], Path(request["path"]))
            replies.write(json.dumps({"ok": ok, "error": "" if ok else "no audio written"}) + "\n")
        except Exception as error:
            replies.write(json.dumps({"ok": False, "error": f"{type(error).__name__}: {error}"}) + "\n")
    return 0


def _complete_wav(path: Path) -> bool:
    """True once the WAV's header agrees with its size (the writer has closed it)."""
    import wave

    try:
        with wave.open(str(path), "rb") as wav:
            frames = wav.getnframes()
            size = wav.getsampwidth() * wav.getnchannels() * frames
        return frames > 0 and path.stat().st_size >= WAV_HEADER_BYTES + size
    except (OSError, EOFError, wave.Error):
        return False


def _render_with_retries(engine: Any, text: str, path: Path, attempts: int = WORKER_ATTEMPTS) -> bool:
    """espeak's driver runs its callback on its own thread; about one render in a
    hundred returns from ``runAndWait`` without writing the file. Try again."""
    for _ in range(attempts):
        path.unlink(missing_ok=True)
        engine.save_to_file(text, str(path))
        engine.runAndWait()
        for _ in range(WORKER_POLLS):
            if _complete_wav(path):
                return True
            time.sleep(WORKER_POLL_SECONDS)
    return False


if __name__ == "__main__" and "--worker" in sys.argv:
    sys.exit(_worker_main())
