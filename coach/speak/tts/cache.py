"""Content-addressed store of rendered speech: one 16 kHz mono WAV per text and voice.

The key is a sha256 of everything that changes the sound (engine, voice, rate,
volume, text), so a changed setting renders afresh and an unchanged one never
renders twice. Files are written to a temp name and renamed into place, so a
crash never leaves a half-written entry. The store is capped (500 MB unless
$COACH_SPEECH_CACHE_MB says otherwise): when a write passes the cap, the least
recently used entries go first (a read sets an entry's access time), down to 80 %.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from coach.audio import SAMPLE_RATE_HZ, SAMPLE_WIDTH_BYTES
from coach.audio.wav import read_wav_raw, write_wav

KEY_VERSION = 1     # bump when rendering changes in a way the key does not show
DEFAULT_MAX_MEGABYTES = 500
PRUNE_TO_SHARE = 0.8


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


def default_max_bytes() -> int:
    megabytes = os.environ.get("COACH_SPEECH_CACHE_MB", "")
    try:
        return int(float(megabytes) * 1_000_000) if megabytes else DEFAULT_MAX_MEGABYTES * 1_000_000
    except ValueError:
        return DEFAULT_MAX_MEGABYTES * 1_000_000


class SpeechCache:
    def __init__(self, directory: str | Path | None = None, max_bytes: int | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()
        self.max_bytes = max_bytes if max_bytes is not None else default_max_bytes()
        self._stored_bytes: int | None = None      # counted on the first write

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
        try:                                        # used now: pruned last (the access
            os.utime(path, ns=(time.time_ns(), path.stat().st_mtime_ns))   # time; it stays as written)
        except OSError:
            pass
        return pcm

    def put(self, key: VoiceKey, text: str, pcm: bytes) -> Path:
        path = self.path(key, text)
        write_wav(path, pcm, SAMPLE_RATE_HZ)
        if self._stored_bytes is None:
            self._stored_bytes = sum(size for _, size, _ in self._entries())
        else:
            self._stored_bytes += path.stat().st_size
        if self._stored_bytes > self.max_bytes:
            self._prune(keep=path)
        return path

    def _entries(self) -> list[tuple[float, int, Path]]:
        entries = []
        for entry in self.directory.glob("??/*.wav"):
            try:
                stat = entry.stat()
            except OSError:
                continue
            entries.append((max(stat.st_atime, stat.st_mtime), stat.st_size, entry))
        return entries

    def _prune(self, keep: Path) -> None:
        """Remove the least recently used entries until the store is under 80 % of its cap."""
        total = 0
        target = self.max_bytes * PRUNE_TO_SHARE
        entries = sorted(self._entries(), key=lambda e: e[0], reverse=True)
        for _, size, entry in entries:
            if entry != keep and total + size > target:
                entry.unlink(missing_ok=True)
            else:
                total += size
        self._stored_bytes = total
