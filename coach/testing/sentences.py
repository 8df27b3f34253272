"""The sentence test set: what a person in pain might say in their own words, and
what they (or the coach) say otherwise, as text and as speech in held-out voices.

The sentences are in tests/fixtures/sentences/ (pain.txt, other.txt). They measure
the free-speech pain matcher and recognizers; they must never be used to train or
tune a recognizer, and the voices here are used for nothing else, so a score on
them says how the coach does on words and voices it has not seen.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from coach.audio import SAMPLE_RATE_HZ
from coach.audio.resample import convert_pcm
from coach.audio.wav import write_wav
from coach.testing.micmix import espeak_pcm, repo_dir

PAIN, OTHER = "pain", "other"
CACHE_ENV = "COACH_SENTENCE_CACHE"
DEFAULT_CACHE = Path("/tmp/coach-sentences")
ESPEAK_BASE = "en-us"
# espeak-ng voice variants kept for testing only: no training set may use them.
ESPEAK_VARIANTS: tuple[str, ...] = ("Alex", "Annie", "Andy", "belinda", "boris", "caleb", "david", "edward",
                                    "linda", "max", "paul", "quincy", "robert", "steph", "victor", "zac")
ESPEAK_VOICES_PER_SENTENCE = 2
ESPEAK_WORDS_PER_MINUTE = 150
PIPER_VOICE = "joe-us"
PIPER_LENGTH_SCALES: tuple[float, ...] = (0.8, 1.0, 1.25)


@dataclass(frozen=True)
class RenderedSentence:
    """One sentence spoken in one voice: a 16 kHz mono int16 WAV."""

    path: Path
    label: str        # "pain" | "other"
    text: str
    voice: str        # "en-us+Alex", "piper-joe-us@0.8"

    def __iter__(self):
        """Unpacks as (path, label, text, voice)."""
        return iter((self.path, self.label, self.text, self.voice))


def sentences_dir() -> Path:
    return repo_dir() / "tests" / "fixtures" / "sentences"


def read_sentences(path: Path) -> list[str]:
    """One sentence per line; blank lines and lines starting with # are skipped."""
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def pain_sentences() -> list[str]:
    return read_sentences(sentences_dir() / "pain.txt")


def other_sentences() -> list[str]:
    return read_sentences(sentences_dir() / "other.txt")


def labelled_sentences() -> list[tuple[str, str]]:
    """(label, text): the pain sentences, then the others."""
    return [(PAIN, s) for s in pain_sentences()] + [(OTHER, s) for s in other_sentences()]


def cache_dir_from_env() -> Path:
    return Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE)


def _digest(text: str, voice: str) -> str:
    return hashlib.sha1(f"{voice}\n{text}".encode()).hexdigest()[:10]


def _file_name(label: str, index: int, text: str, voice: str) -> str:
    """Named by content, so an edited sentence never reuses a stale file."""
    slug = re.sub(r"[^A-Za-z0-9.]+", "-", voice).strip("-")
    return f"{label}-{index:03d}-{slug}-{_digest(text, voice)}.wav"


def _piper_pcm(text: str, length_scale: float, seed: int) -> bytes | None:
    """``text`` in the Piper voice (loaded the way coach.speak.tts.piper loads it), or None when
    Piper or the voice is not installed.

    Piper draws noise inside its ONNX graph from a generator seeded when the session is
    made, so each rendering gets a session of its own, seeded from the file it becomes:
    the same sentence always sounds the same, whatever else is rendered or cached.
    """
    try:
        import onnxruntime
        from piper import PiperVoice
        from piper.config import SynthesisConfig

        from coach.speak.tts.piper import NATURAL_VOICES
        package = __import__(NATURAL_VOICES[PIPER_VOICE])
    except ImportError:
        return None
    onnxruntime.set_seed(seed)
    voice = PiperVoice.load(package.model_path(), package.config_path())
    chunks = list(voice.synthesize(text, syn_config=SynthesisConfig(length_scale=length_scale)))
    pcm = b"".join(chunk.audio_int16_bytes for chunk in chunks)
    return convert_pcm(pcm, chunks[0].sample_rate, SAMPLE_RATE_HZ) if chunks else b""


def render_plan(sentences: Sequence[tuple[str, str]], piper: bool = True) -> list[tuple[int, str, str, str]]:
    """(index, label, text, voice) for every rendering: sentence i gets espeak variants
    2i and 2i+1 (cycling through all of them) and Piper length scale i (cycling)."""
    plan = []
    for index, (label, text) in enumerate(sentences):
        for k in range(ESPEAK_VOICES_PER_SENTENCE):
            variant = ESPEAK_VARIANTS[(ESPEAK_VOICES_PER_SENTENCE * index + k) % len(ESPEAK_VARIANTS)]
            plan.append((index, label, text, f"{ESPEAK_BASE}+{variant}"))
        if piper:
            scale = PIPER_LENGTH_SCALES[index % len(PIPER_LENGTH_SCALES)]
            plan.append((index, label, text, f"piper-{PIPER_VOICE}@{scale}"))
    return plan


def render_sentences(cache_dir: Path | str | None = None,
                     sentences: Sequence[tuple[str, str]] | None = None,
                     piper: bool = True) -> list[RenderedSentence]:
    """Every sentence (default: the whole set) as 16 kHz mono int16 WAVs in held-out voices.

    Files already in ``cache_dir`` (default $COACH_SENTENCE_CACHE or /tmp/coach-sentences)
    are reused. Piper renders are left out when ``piper`` is False or Piper and its
    voice are not installed. Raises ``MissingTestData`` when espeak-ng is missing.
    """
    folder = Path(cache_dir) if cache_dir is not None else cache_dir_from_env()
    chosen = list(sentences) if sentences is not None else labelled_sentences()
    piper_missing = False
    out: list[RenderedSentence] = []
    for index, label, text, voice in render_plan(chosen, piper):
        path = folder / _file_name(label, index, text, voice)
        if not path.exists():
            if voice.startswith("piper-"):
                rendered = None if piper_missing else _piper_pcm(
                    text, float(voice.rsplit("@", 1)[1]), int(_digest(text, voice), 16) % 2**31)
                if rendered is None:
                    piper_missing = True
                    continue
                pcm = rendered
            else:
                pcm = espeak_pcm(text, voice=voice, words_per_minute=ESPEAK_WORDS_PER_MINUTE)
            write_wav(path, pcm)
        out.append(RenderedSentence(path, label, text, voice))
    return out
