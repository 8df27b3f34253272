"""The speech cache stays under its size cap, dropping what was used least recently."""

from __future__ import annotations

import os
from pathlib import Path

from coach.speak.tts.cache import SpeechCache, VoiceKey

KEY = VoiceKey("fake", "v", 160, 1.0)
ONE_SECOND = b"\x01\x00" * 16_000          # 32,000 bytes of PCM (+ a 44-byte header on disk)


def age(cache: SpeechCache, text: str, seconds_ago: float) -> None:
    path = cache.path(KEY, text)
    stamp = path.stat().st_mtime - seconds_ago
    os.utime(path, (stamp, stamp))


def test_a_read_leaves_the_file_as_written(tmp_path: Path) -> None:
    cache = SpeechCache(tmp_path)
    cache.put(KEY, "a", ONE_SECOND)
    age(cache, "a", 50)
    written = cache.path(KEY, "a").stat().st_mtime_ns
    assert cache.get(KEY, "a") == ONE_SECOND
    assert cache.path(KEY, "a").stat().st_mtime_ns == written


def test_writes_past_the_cap_drop_the_least_recently_used(tmp_path: Path) -> None:
    cache = SpeechCache(tmp_path, max_bytes=100_000)       # room for three entries
    for n, text in enumerate(("a", "b", "c")):
        cache.put(KEY, text, ONE_SECOND)
        age(cache, text, 100 - n)                          # a oldest, then b, then c
    assert cache.get(KEY, "a") == ONE_SECOND               # reading a makes it recent
    cache.put(KEY, "d", ONE_SECOND)                        # 4 entries > cap: prune to 80 kB
    present = {t for t in "abcd" if cache.get(KEY, t) is not None}
    assert present == {"a", "d"}
    assert sum(p.stat().st_size for p in tmp_path.rglob("*.wav")) <= 80_000


def test_an_existing_store_is_counted_and_the_new_entry_always_kept(tmp_path: Path) -> None:
    SpeechCache(tmp_path, max_bytes=10**9).put(KEY, "old", ONE_SECOND * 3)
    small = SpeechCache(tmp_path, max_bytes=50_000)        # a later run with a smaller cap
    small.put(KEY, "new", ONE_SECOND * 2)                  # itself over the cap
    assert small.get(KEY, "new") is not None and small.get(KEY, "old") is None


def test_under_the_cap_nothing_is_removed(tmp_path: Path) -> None:
    cache = SpeechCache(tmp_path, max_bytes=10**6)
    for text in ("a", "b", "c", "d"):
        cache.put(KEY, text, ONE_SECOND)
    assert all(cache.get(KEY, t) == ONE_SECOND for t in "abcd")


def test_the_cap_comes_from_the_environment(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("COACH_SPEECH_CACHE_MB", "0.05")
    assert SpeechCache(tmp_path).max_bytes == 50_000
    monkeypatch.setenv("COACH_SPEECH_CACHE_MB", "lots")
    assert SpeechCache(tmp_path).max_bytes == 500_000_000
