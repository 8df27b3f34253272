"""``coach enroll``: the user says each command a few times; the clips stay on the
device and adapt the command head (on Whisper's encoder) to that voice.

Folder layout (read back by ``load_enrolled`` whenever the recognizer is loaded,
which adapts it to this voice; see coach.listen.asr.adapt):

    <data dir>/enroll/<label>/<n>.wav      16 kHz mono 16-bit PCM, one utterance,
                                           n = 1, 2, 3 ... (existing files are kept;
                                           new clips take the next free numbers)

``<label>`` is a command name from content/commands.yaml (``stop``, ``pain``,
``resume`` ...) or, for numbers, the number word (``zero`` ... ``ten``): the same
labels the command head uses. The person says the first phrase of the command,
which is shown and spoken as the prompt.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from coach.audio import SAMPLE_RATE_HZ
from coach.content.commands import NUMBER_COMMAND, CommandSet
from coach.listen.endpoint import EndpointConfig, Endpointer, Segment
from coach.errors import EXIT_SAFETY_STOP

NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
WAIT_SECONDS = 5.0          # for each clip
MARGIN_SECONDS = 0.15       # kept around the endpointed speech


@dataclass(frozen=True)
class Prompt:
    label: str      # folder name
    phrase: str     # what to say


def prompts(command_set: CommandSet, only: Iterable[str] = ()) -> list[Prompt]:
    """One prompt per label: a command's first phrase, or each number word."""
    wanted = set(only)
    out: list[Prompt] = []
    seen: set[str] = set()
    for phrase in command_set.phrases:
        if phrase.command == NUMBER_COMMAND:
            label = NUMBER_WORDS[phrase.value] if phrase.value is not None else phrase.text
        else:
            label = phrase.command
        if label in seen or (wanted and label not in wanted):
            continue
        seen.add(label)
        out.append(Prompt(label, phrase.text))
    return out


def enroll_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "enroll"


def next_clip_path(data_dir: Path, label: str) -> Path:
    folder = enroll_dir(data_dir) / label
    taken = {int(p.stem) for p in folder.glob("*.wav") if p.stem.isdigit()} if folder.is_dir() else set()
    n = 1
    while n in taken:
        n += 1
    return folder / f"{n}.wav"


def enrolled_clips(data_dir: Path) -> dict[str, list[Path]]:
    """label → its clips, oldest first."""
    root = enroll_dir(data_dir)
    if not root.is_dir():
        return {}
    return {d.name: sorted(d.glob("*.wav"), key=lambda p: (len(p.stem), p.stem))
            for d in sorted(root.iterdir()) if d.is_dir()}


def load_enrolled(data_dir: Path, warn: Callable[[str], None] | None = None) -> list[tuple[str, bytes]]:
    """(label, 16 kHz int16 pcm) of every readable enrolled clip; a clip that cannot be
    read (broken file, wrong format) is skipped with a one-line warning."""
    from coach.audio.wav import read_wav
    out: list[tuple[str, bytes]] = []
    for label, paths in enrolled_clips(data_dir).items():
        for path in paths:
            try:
                pcm = read_wav(path, SAMPLE_RATE_HZ)
            except Exception as error:      # any unreadable clip is only skipped
                if warn:
                    reason = (str(error) or type(error).__name__).splitlines()[0]
                    reason = reason.removeprefix(f"{path}: ")
                    warn(f"skipping enrolled clip {path}: {reason}")
                continue
            if not pcm:
                if warn:
                    warn(f"skipping enrolled clip {path}: no audio")
                continue
            out.append((label, pcm))
    return out


def capture_utterance(read: Callable[[float], Any], on_level: Callable[[bytes], None] | None = None,
                      wait_seconds: float = WAIT_SECONDS, block_seconds: float = 0.05) -> Segment | None:
    """Read the source until one utterance has been endpointed (or time runs out)."""
    endpointer = Endpointer(EndpointConfig(preroll_seconds=MARGIN_SECONDS, tail_seconds=MARGIN_SECONDS,
                                           hangover_seconds=0.4, early_seconds=10.0))
    heard_seconds = 0.0
    while heard_seconds < wait_seconds:
        chunk = read(block_seconds)
        if chunk is None:
            return None
        heard_seconds += chunk.seconds
        if on_level:
            on_level(chunk.pcm)
        for segment in endpointer.feed(chunk.pcm, chunk.start_seconds):
            if not segment.early:
                return segment
    final = endpointer.flush()
    return final[0] if final else None


def level_meter(pcm: bytes, width: int = 30) -> str:
    """A text bar for the input level: -60 dBFS empty, 0 dBFS full."""
    import numpy as np

    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    rms = float(np.sqrt(np.mean(samples * samples))) / 32768.0 if len(samples) else 0.0
    db = 20.0 * np.log10(max(rms, 1e-6))
    filled = int(round(width * min(max((db + 60.0) / 60.0, 0.0), 1.0)))
    return f"[{'#' * filled}{' ' * (width - filled)}] {db:5.0f} dBFS"


def run_enrollment(args: Any, times: int = 3, only: Iterable[str] = (), out: TextIO | None = None,
                   source: Any = None, say: Callable[[str], None] | None = None,
                   is_stop: Callable[[bytes], bool] | None = None) -> int:
    """Record the clips; "stop" said when another word is asked for ends enrolment
    (exit status 10), keeping the clips saved so far. ``is_stop`` decides that
    (the composition root passes the recognizer's; None: only Ctrl-C stops)."""
    from coach.audio.wav import write_wav
    from coach.content.commands import default_commands_path, load_commands
    from coach.store.history import default_data_dir

    out = out or sys.stderr
    data_dir = Path(getattr(args, "data_dir", None) or default_data_dir())
    command_set = load_commands(default_commands_path(getattr(args, "content_dir", None)))
    items = prompts(command_set, only)
    if source is None:
        from coach.audio.microphone import DeviceSource
        from coach.clock import SystemClock
        source = DeviceSource(SystemClock())    # AudioDeviceError (exit 3) without a microphone
    say = say or _voice_or_nothing(out)
    is_stop = is_stop or (lambda pcm: False)
    out.write(f"Recording {times} clips of {len(items)} commands into {enroll_dir(data_dir)} "
              "(kept on this device only).\n")
    saved = 0
    try:
        for item in items:
            for attempt in range(1, times + 1):
                text = f'Say "{item.phrase}"' + (f" ({attempt} of {times})" if times > 1 else "")
                out.write(text + "\n")
                say(f"Say: {item.phrase}.")
                segment = capture_utterance(source.read, lambda pcm: out.write("\r" + level_meter(pcm)))
                out.write("\n")
                if segment is None:
                    out.write("  nothing heard; moving on\n")
                    continue
                if item.label != "stop" and is_stop(segment.pcm):
                    out.write(f"stopped; the {saved} clips recorded so far are kept\n")
                    return EXIT_SAFETY_STOP
                path = next_clip_path(data_dir, item.label)
                write_wav(path, segment.pcm, SAMPLE_RATE_HZ)
                saved += 1
                out.write(f"  saved {path} ({segment.seconds:.2f} s)\n")
    except KeyboardInterrupt:
        out.write("\nstopped; the clips recorded so far are kept\n")
    finally:
        source.close()
    out.write(f"{saved} clips saved.\n")
    return 0


def _voice_or_nothing(out: TextIO) -> Callable[[str], None]:
    """Speak prompts when a speech engine and a speaker exist; else print only."""
    try:
        from coach.audio.device import DeviceSink
        from coach.speak.speaker import open_synthesizer
        synth = open_synthesizer("pyttsx3")
        sink = DeviceSink()
    except Exception as error:      # no voice is fine: the prompt is printed too
        out.write(f"(prompts are not spoken: {error})\n")
        return lambda text: None

    def say(text: str) -> None:
        import time
        pcm = synth.synthesize(text)
        sink.play(pcm)
        time.sleep(len(pcm) / 2 / getattr(synth, "rate_hz", SAMPLE_RATE_HZ) + 0.2)  # not the prompt itself
    return say
