"""Run settings from command-line arguments and the environment, decided once.

Environment: COACH_CONTENT_DIR, COACH_DATA_DIR (else ~/.local/share/coach),
COACH_CACHE_DIR (else ~/.cache/coach), COACH_LOCALE (else from LANG, else en-US).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coach.errors import UsageError
from coach.session.policy import DEFAULT_IDLE_TIMEOUT_SECONDS

CLOCKS = ("real", "virtual")
INPUTS = ("auto", "keyboard", "none", "voice")
DOSES = ("low", "mid", "high")


@dataclass(frozen=True)
class Settings:
    content_dir: Path
    data_dir: Path
    cache_dir: Path
    dose: str = "low"
    idle_timeout_seconds: float = DEFAULT_IDLE_TIMEOUT_SECONDS
    clock: str = "real"              # real | virtual
    input: str = "none"              # keyboard | none | voice (auto is resolved here)
    input_auto: bool = False         # auto: the coach may add a live microphone when it can
    text: bool = False               # print cues instead of speaking them
    plain: bool = False              # plain lines even on a terminal (no live screen)
    events_path: Path | None = None  # None: <data dir>/sessions/<timestamp>-<routine>.jsonl
    locale: str = "en-US"
    mic_path: Path | None = None     # a WAV file as the microphone (virtual time)
    speaker_path: Path | None = None  # write what the coach plays to a WAV file
    echo_db: float | None = None
    echo_delay_ms: float = 40.0
    echo_room_seconds: float = 0.0   # RT60 of the echo's room (0: the direct path only)
    voice: str | None = None         # speech engine (None: $COACH_VOICE, else pyttsx3)
    voice_id: str | None = None
    rate_wpm: int | None = None
    baseline_rating: int | None = None   # the pain rating before the session, given instead of asked
    engine: str | None = None        # recognizer: auto | whisper | vosk (None: $COACH_ENGINE, else auto)
    debug_recording: Path | None = None  # store what the listener hears there (only when asked)


def default_data_dir(env: Mapping[str, str] = os.environ) -> Path:
    return Path(env["COACH_DATA_DIR"]) if env.get("COACH_DATA_DIR") else Path.home() / ".local/share/coach"


def default_cache_dir(env: Mapping[str, str] = os.environ) -> Path:
    return Path(env["COACH_CACHE_DIR"]) if env.get("COACH_CACHE_DIR") else Path.home() / ".cache/coach"


def default_locale(env: Mapping[str, str] = os.environ) -> str:
    if env.get("COACH_LOCALE"):
        return env["COACH_LOCALE"]
    lang = env.get("LANG", "").split(".")[0]
    if lang.startswith("en_") and len(lang) == 5:
        return lang.replace("_", "-")
    return "en-US"


def content_dir_from(args: Any, env: Mapping[str, str] = os.environ) -> Path:
    given = getattr(args, "content_dir", None)
    if given:
        return Path(given)
    from coach.content.library import default_content_dir

    return default_content_dir()


def settings_from_args(args: Any, env: Mapping[str, str] = os.environ, stdin_is_tty: bool | None = None) -> Settings:
    """Resolve defaults and check combinations; one-line UsageError when they clash.

    Clock: virtual when the microphone is a file, else real. Input ``auto``:
    the keyboard when standard input is a terminal and the clock is real, else
    none. ``--input keyboard`` needs a terminal and the real clock.
    """
    mic = Path(args.mic) if getattr(args, "mic", None) else None
    clock = getattr(args, "clock", None) or ("virtual" if mic else "real")
    if mic and clock == "real":
        raise UsageError("bad-args", "--mic reads a WAV file in virtual time; leave out --clock real")
    tty = sys.stdin.isatty() if stdin_is_tty is None else stdin_is_tty
    wanted = getattr(args, "input", None) or "auto"
    if wanted == "auto":
        chosen = "voice" if mic else ("keyboard" if tty and clock == "real" else "none")
    elif wanted == "keyboard" and not tty:
        raise UsageError("no-terminal", "--input keyboard needs a terminal on standard input; use --input none")
    elif wanted == "keyboard" and clock == "virtual":
        raise UsageError("bad-args", "--input keyboard needs --clock real (virtual time does not wait for keys)")
    else:
        chosen = wanted
    idle = float(getattr(args, "idle_timeout", None) or DEFAULT_IDLE_TIMEOUT_SECONDS)
    if idle <= 0:
        raise UsageError("bad-args", "--idle-timeout must be a positive number of seconds")
    events = getattr(args, "events", None)
    speaker = getattr(args, "speaker", None)
    return Settings(
        content_dir=content_dir_from(args, env),
        data_dir=default_data_dir(env),
        cache_dir=default_cache_dir(env),
        dose=getattr(args, "dose", None) or "low",
        idle_timeout_seconds=idle,
        clock=clock,
        input=chosen,
        input_auto=wanted == "auto",
        text=bool(getattr(args, "text", False)),
        plain=bool(getattr(args, "plain", False)),
        events_path=Path(events) if events else None,
        locale=default_locale(env),
        mic_path=mic,
        speaker_path=Path(speaker) if speaker else None,
        echo_db=getattr(args, "echo_db", None),
        echo_delay_ms=float(getattr(args, "echo_delay_ms", None) or 40.0),
        echo_room_seconds=float(getattr(args, "echo_room", None) or 0.0),
        engine=getattr(args, "engine", None),
        debug_recording=Path(args.debug_recording) if getattr(args, "debug_recording", None) else None,
        voice=getattr(args, "voice", None),
        voice_id=getattr(args, "voice_id", None),
        rate_wpm=getattr(args, "rate", None),
        baseline_rating=_rating(getattr(args, "baseline", None)),
    )


def _rating(value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or not 0 <= value <= 10:
        raise UsageError("bad-args", "--baseline is a pain rating from 0 to 10")
    return value
