"""The whole guided session as one audio track, exactly as a session plays it uninterrupted.

Speech comes from the Speaker (cached PCM), pauses are silence, a listen cue
is its spoken prompt then silence until its time is up, a chime is a short
soft tone. Cue boundaries are sample positions in the track,
so the JSON and the WAV agree to the sample.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from coach.audio import SAMPLE_RATE_HZ, SAMPLE_WIDTH_BYTES
from coach.audio.resample import to_int16
from coach.speak.speaker import ProgressCallback, Speaker
from coach.script.timeline import Cue, Timeline

SPOKEN_KINDS = ("say", "count", "listen")     # a listen cue speaks its prompt, then waits
CHIME_HZ = (660.0, 880.0)
CHIME_PEAK = 0.18           # of full scale: a soft tone, quieter than speech
CHIME_FADE_SECONDS = 0.02


@dataclass(frozen=True)
class RenderedCue:
    kind: str
    text: str
    start_sample: int
    end_sample: int
    rate_hz: int = SAMPLE_RATE_HZ

    @property
    def start_seconds(self) -> float:
        return self.start_sample / self.rate_hz

    @property
    def end_seconds(self) -> float:
        return self.end_sample / self.rate_hz


@dataclass(frozen=True)
class Rendering:
    pcm: bytes
    cues: tuple[RenderedCue, ...]
    rate_hz: int = SAMPLE_RATE_HZ

    @property
    def seconds(self) -> float:
        return len(self.pcm) / SAMPLE_WIDTH_BYTES / self.rate_hz

    def to_json(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 7),
            "cues": [
                {"kind": c.kind, "text": c.text,
                 "start_seconds": round(c.start_seconds, 7), "end_seconds": round(c.end_seconds, 7)}
                for c in self.cues
            ],
        }


def chime_pcm(seconds: float, rate_hz: int = SAMPLE_RATE_HZ) -> bytes:
    """Two soft sine partials with short fades (no click at either end)."""
    count = max(0, round(seconds * rate_hz))
    if count == 0:
        return b""
    t = np.arange(count) / rate_hz
    wave = sum(np.sin(2 * np.pi * hz * t) for hz in CHIME_HZ) / len(CHIME_HZ)
    decay = np.exp(-3.0 * t / max(seconds, 1e-3))
    fade = np.minimum(1.0, np.minimum(t, (count - 1) / rate_hz - t) / CHIME_FADE_SECONDS)
    return to_int16(wave * decay * np.clip(fade, 0, 1) * CHIME_PEAK * 32767).astype("<i2").tobytes()


def cue_pcm(cue: Cue, speaker: Speaker, rate_hz: int = SAMPLE_RATE_HZ) -> bytes:
    """What a cue sounds like, as the session runner plays it.

    Spoken cues (say, count, and a listen cue's prompt) last as long as their
    speech or their ``seconds``, whichever is longer, as the runner waits;
    a chime is ``seconds`` of tone; pauses and silent listens are silence.
    """
    samples = max(0, round(cue.seconds * rate_hz))
    if cue.kind in SPOKEN_KINDS and cue.text:
        speech = speaker.pcm(cue.text)
        return speech + b"\x00\x00" * max(0, samples - len(speech) // SAMPLE_WIDTH_BYTES)
    if cue.kind == "chime":
        return chime_pcm(cue.seconds, rate_hz)
    return b"\x00\x00" * samples


def render_timeline(timeline: Timeline, speaker: Speaker, rate_hz: int = SAMPLE_RATE_HZ) -> Rendering:
    parts: list[bytes] = []
    cues: list[RenderedCue] = []
    position = 0
    for cue in timeline.cues:
        pcm = cue_pcm(cue, speaker, rate_hz)
        samples = len(pcm) // SAMPLE_WIDTH_BYTES
        cues.append(RenderedCue(cue.kind, cue.text, position, position + samples, rate_hz))
        parts.append(pcm)
        position += samples
    return Rendering(b"".join(parts), tuple(cues), rate_hz)


def spoken_texts(timeline: Timeline) -> list[str]:
    return list(dict.fromkeys(c.text for c in timeline.cues if c.kind in SPOKEN_KINDS and c.text))


def prepared_timeline(build: Callable[..., Timeline], speaker: Speaker,
                      progress: ProgressCallback | None = None) -> Timeline:
    """Render all speech first (with progress), then rebuild with measured durations.

    ``build(speech_seconds=None)`` estimates; ``build(speech_seconds=f)`` uses f.
    Texts the second pass adds (rare: fitting can change with real lengths)
    are rendered on demand.
    """
    speaker.prepare(spoken_texts(build(speech_seconds=None)), progress=progress)
    return build(speech_seconds=speaker.seconds)
