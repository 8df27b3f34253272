"""Microphone recordings for tests and benchmarks: real clips and rendered phrases on a timeline.

A test says "a dev-set 'stop' at 20 s, 'it hurts' at 31 s" and gets the 16 kHz mono
int16 PCM a microphone would have captured, ready for ``coach run --mic``.
"""

from __future__ import annotations

import csv
import os
import random
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import coach
from coach.audio import SAMPLE_RATE_HZ, wav
from coach.audio.echo import db_to_gain
from coach.audio.resample import resample_int16, to_int16
from coach.audio.wav import pcm_rms, read_wav_samples

DEV_SET = "speech/commands-dev"


class MissingTestData(RuntimeError):
    """A shared recording or tool is not on this machine; tests turn this into a skip."""


def repo_dir() -> Path:
    return Path(coach.__file__).resolve().parent.parent


def shared_dir() -> Path:
    """$COACH_SHARED_DIR, else ../shared beside the repo (how CI clones it)."""
    configured = os.environ.get("COACH_SHARED_DIR")
    folder = Path(configured) if configured else repo_dir().parent / "shared"
    if not folder.is_dir():
        raise MissingTestData(f"shared data folder not found at {folder} (set COACH_SHARED_DIR)")
    return folder


def dev_set_dir() -> Path:
    folder = shared_dir() / DEV_SET
    if not (folder / "manifest.csv").is_file():
        raise MissingTestData(f"development recordings not found: {folder / 'manifest.csv'}")
    return folder


@dataclass(frozen=True)
class DevClip:
    path: Path
    label: str
    speaker: str


PcmLike = bytes | np.ndarray | str | Path | DevClip
Placement = tuple[float, PcmLike, float]      # (t_seconds, clip, gain_db)


def dev_clips(label: str | None = None, speakers: Iterable[str] | None = None) -> list[DevClip]:
    """Clips of the development set, optionally one label and some speakers, in manifest order."""
    folder = dev_set_dir()
    wanted = set(speakers) if speakers is not None else None
    with open(folder / "manifest.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [
        DevClip(folder / row["path"], row["label"], row["speaker"])
        for row in rows
        if (label is None or row["label"] == label) and (wanted is None or row["speaker"] in wanted)
    ]


def pick_dev_clip(label: str, index: int = 0, speaker: str | None = None) -> DevClip:
    """A stable choice: the index-th clip of that label (and speaker) in manifest order."""
    clips = dev_clips(label, [speaker] if speaker else None)
    if not clips:
        raise MissingTestData(f"no development clip labelled {label!r}" + (f" by {speaker}" if speaker else ""))
    return clips[index % len(clips)]


def sample_dev_clips(label: str, count: int, seed: int) -> list[DevClip]:
    """``count`` clips of a label from distinct speakers where possible, chosen by seed."""
    clips = dev_clips(label)
    if not clips:
        raise MissingTestData(f"no development clip labelled {label!r}")
    rng = random.Random(seed)
    by_speaker: dict[str, list[DevClip]] = {}
    for clip in clips:
        by_speaker.setdefault(clip.speaker, []).append(clip)
    speakers = sorted(by_speaker)
    rng.shuffle(speakers)
    return [rng.choice(by_speaker[speakers[i % len(speakers)]]) for i in range(count)]


def read_wav(path: str | Path, rate_hz: int = SAMPLE_RATE_HZ) -> np.ndarray:
    """A PCM WAV as mono int16 at ``rate_hz`` (channels averaged, resampled if needed)."""
    return read_wav_samples(path, rate_hz)


resample = resample_int16          # int16 in, int16 out, as the mixes need


def write_wav(path: str | Path, pcm: bytes | np.ndarray, rate_hz: int = SAMPLE_RATE_HZ) -> Path:
    """Mono int16 PCM (bytes or array) to a WAV; returns the path for chaining."""
    wav.write_wav(path, pcm.astype("<i2").tobytes() if isinstance(pcm, np.ndarray) else pcm, rate_hz)
    return Path(path)


def as_samples(clip: PcmLike, rate_hz: int = SAMPLE_RATE_HZ) -> np.ndarray:
    if isinstance(clip, (str, Path)):
        return read_wav(clip, rate_hz)
    if isinstance(clip, DevClip):
        return read_wav(clip.path, rate_hz)
    if isinstance(clip, np.ndarray):
        return clip.astype(np.int16, copy=False)
    return np.frombuffer(clip, dtype=np.int16)


def compose_mic_samples(
    duration_seconds: float,
    placements: Sequence[Placement] = (),
    noise: tuple[PcmLike, float] | None = None,
    rate_hz: int = SAMPLE_RATE_HZ,
) -> np.ndarray:
    """Silence of ``duration_seconds`` with each clip added at its time and gain.

    ``noise`` = (clip, gain_db) is looped under the whole recording. Clips that run
    past the end are cut; sums are clipped to int16.
    """
    total = int(round(duration_seconds * rate_hz))
    mix = np.zeros(total, dtype=np.float64)
    if noise is not None:
        bed = as_samples(noise[0], rate_hz).astype(np.float64)
        if bed.size:
            mix += np.resize(bed, total) * db_to_gain(noise[1])
    for t_seconds, clip, gain_db in placements:
        samples = as_samples(clip, rate_hz).astype(np.float64) * db_to_gain(gain_db)
        start = int(round(t_seconds * rate_hz))
        if start < 0 or start >= total:
            raise ValueError(f"placement at {t_seconds} s is outside the {duration_seconds} s recording")
        end = min(total, start + samples.size)
        mix[start:end] += samples[: end - start]
    return to_int16(mix)


def compose_mic(
    duration_seconds: float,
    placements: Sequence[Placement] = (),
    noise: tuple[PcmLike, float] | None = None,
    rate_hz: int = SAMPLE_RATE_HZ,
) -> bytes:
    """As ``compose_mic_samples``, as PCM bytes."""
    return compose_mic_samples(duration_seconds, placements, noise, rate_hz).tobytes()


def espeak_pcm(
    text: str,
    voice: str = "en-us",
    words_per_minute: int = 150,
    pitch: int | None = None,
    rate_hz: int = SAMPLE_RATE_HZ,
) -> bytes:
    """``text`` spoken by espeak-ng, as 16 kHz mono int16 PCM (espeak renders at 22.05 kHz)."""
    command = ["espeak-ng", "-v", voice, "-s", str(words_per_minute)]
    if pitch is not None:
        command += ["-p", str(pitch)]
    with tempfile.TemporaryDirectory(prefix="coach-espeak-") as folder:
        out = Path(folder) / "phrase.wav"
        try:
            subprocess.run(command + ["-w", str(out), text], check=True, capture_output=True, timeout=30)
        except FileNotFoundError as error:
            raise MissingTestData("espeak-ng is not installed") from error
        return read_wav(out, rate_hz).tobytes()


def speech_bounds(
    pcm: PcmLike, rate_hz: int = SAMPLE_RATE_HZ, frame_ms: float = 10.0, range_db: float = 25.0,
    bridge_seconds: float = 0.12,
) -> tuple[float, float]:
    """Start and end (seconds into the clip) of its word: the loud region around the loudest frame.

    The region grows from the loudest frame over frames within ``range_db`` of it
    (and 6 dB above the clip's 10th-percentile background), bridging gaps up to
    ``bridge_seconds`` (the stop before a "p"), so a noise burst elsewhere in a
    real recording does not stretch the word. Used to measure latency from the
    end of an inserted word. A clip with no energy gives (0, 0).
    """
    samples = as_samples(pcm, rate_hz).astype(np.float64)
    frame = max(1, int(rate_hz * frame_ms / 1000))
    n_frames = samples.size // frame
    if n_frames == 0:
        return 0.0, 0.0
    energy = np.sqrt(np.mean(samples[: n_frames * frame].reshape(n_frames, frame) ** 2, axis=1))
    peak_index = int(np.argmax(energy))
    peak = float(energy[peak_index])
    if peak < 30.0:
        return 0.0, 0.0
    background = float(np.percentile(energy, 10))
    loud = energy >= max(peak * 10 ** (-range_db / 20), background * 10 ** (6 / 20), 30.0)
    bridge = max(1, int(round(bridge_seconds * 1000 / frame_ms)))
    first = last = peak_index
    i, gap = peak_index - 1, 0
    while i >= 0 and gap <= bridge:
        gap = 0 if loud[i] else gap + 1
        first = i if loud[i] else first
        i -= 1
    i, gap = peak_index + 1, 0
    while i < n_frames and gap <= bridge:
        gap = 0 if loud[i] else gap + 1
        last = i if loud[i] else last
        i += 1
    return first * frame / rate_hz, (last + 1) * frame / rate_hz


def rms_dbfs(pcm: PcmLike, rate_hz: int = SAMPLE_RATE_HZ) -> float:
    rms = pcm_rms(as_samples(pcm, rate_hz).astype("<i2").tobytes())
    return -120.0 if rms <= 0 else 20 * np.log10(rms / 32768.0)
