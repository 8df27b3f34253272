"""Content-addressed store of rendered speech: one 16 kHz mono WAV per text and voice.

The key is a sha256 of everything that changes the sound (engine, voice, rate,
volume, text), so a changed setting renders afresh and an unchanged one never
renders twice. Files are written to a temp name and renamed into place, so a
crash never leaves a half-written entry.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from coach.audio import SAMPLE_RATE_HZ, SAMPLE_WIDTH_BYTES
from coach.audio.wav import read_wav_raw, write_wav

KEY_VERSION = 1     # bump when rendering changes in a way the key does not show


@dataclass(frozen=True)
class VoiceKey:
    """What besides the text makes a rendering different."""

    engine: str
    voice: str
    rate_wpm: int
    volume: float

    def digest(self, text: str) -> str:
        fields = [KEY_VERSION, self.engine, self.voice, self.rate_wpm, round(self.volume, 4), text]
        return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode("utf-8")).hexdigest()


def default_cache_dir() -> Path:
    """$COACH_CACHE_DIR/speech, else ~/.cache/coach/speech."""
    base = os.environ.get("COACH_CACHE_DIR")
    return (Path(base) if base else Path.home() / ".cache" / "coach") / "speech"


class SpeechCache:
    def __init__(self, directory: str | Path | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()

    def path(self, key: VoiceKey, text: str) -> Path:
        digest = key.digest(text)
        return self.directory / digest[:2] / f"{digest}.wav"

    def get(self, key: VoiceKey, text: str) -> bytes | None:
        """The cached PCM, or None when absent or unreadable (it is then rendered again)."""
        path = self.path(key, text)
        if not path.is_file():
            return None
        try:
            pcm, rate_hz, channels = read_wav_raw(path)
        except Exception:
            return None
        if rate_hz != SAMPLE_RATE_HZ or channels != 1 or len(pcm) % SAMPLE_WIDTH_BYTES:
            return None
        return pcm

    def put(self, key: VoiceKey, text: str, pcm: bytes) -> Path:
        path = self.path(key, text)
        write_wav(path, pcm, SAMPLE_RATE_HZ)
        return path
