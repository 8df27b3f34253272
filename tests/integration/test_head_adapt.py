"""Adapting the command head (on Whisper's encoder) to one voice with clips stored as ``coach enroll``
stores them: real recordings of one development-set speaker the shipped model was
not trained on, enrolled three per word; recall on their other clips must not drop
and noise must still be rejected."""

from __future__ import annotations

import csv
import wave
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from coach.listen.asr.adapt import adapt_head
from coach.listen.asr.keyword import CONTEXTS, Decision, KeywordModel, decide
from coach.listen.asr.select import build_engine, choose_engine
from coach.listen.asr.whisper import WhisperModel
from coach.content.commands import load_commands
from coach.listen.enroll import load_enrolled, next_clip_path
from coach.testing.devset import dev_dir_or_none, held_out, read_pcm

pytestmark = pytest.mark.integration

DEV_DIR = dev_dir_or_none() or Path(__file__).resolve().parents[3] / "shared" / "speech" / "commands-dev"
# development-set word -> (classifier label, context it is asked in)
WORDS = {"stop": ("stop", "session"), "go": ("resume", "session"), "yes": ("yes", "yesno"),
         "no": ("no", "yesno"), **{w: (w, "number") for w in ("zero", "one", "two", "three", "four",
                                                             "five", "six", "seven", "eight", "nine")}}
SHOTS = 3
NOISE_CLIPS = 30


def write_clip(path: Path, pcm: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(16000)
        w.writeframes(pcm)


@dataclass(frozen=True)
class Head:
    """The shipped head with the engine's features, as the engine uses them."""

    model: KeywordModel
    features: Callable[[bytes], np.ndarray]

    def decide(self, pcm: bytes, context: str) -> Decision:
        return decide(self.model, self.model.probabilities(self.features(pcm))[0], context)

    def adapt(self, examples: list[tuple[str, bytes]]) -> "Head":
        return Head(adapt_head(self.model, self.features, examples), self.features)


@pytest.fixture(scope="module")
def classifier() -> Head:
    model = WhisperModel()
    return Head(KeywordModel.read_default(),
                lambda pcm: model.encode(np.frombuffer(pcm, "<i2").astype(np.float32) / 32768).pooled())


@pytest.fixture(scope="module")
def speaker_clips() -> tuple[dict[str, list[Path]], list[Path]]:
    """word -> clips of the held-out speaker with the most words recorded at least
    SHOTS + 1 times; and some held-out noise clips."""
    if not (DEV_DIR / "manifest.csv").is_file():
        pytest.skip(f"development recordings not found in {DEV_DIR}")
    by_speaker: dict[str, dict[str, list[Path]]] = defaultdict(lambda: defaultdict(list))
    noise: list[Path] = []
    with open(DEV_DIR / "manifest.csv", newline="") as f:
        for r in csv.DictReader(f):
            if not held_out(r["speaker"], r["path"]):
                continue
            if r["speaker"] == "noise":
                noise.append(DEV_DIR / r["path"])
            elif r["label"] in WORDS:
                by_speaker[r["speaker"]][r["label"]].append(DEV_DIR / r["path"])

    def usable(words: dict[str, list[Path]]) -> dict[str, list[Path]]:
        return {w: sorted(p) for w, p in words.items() if len(p) > SHOTS}
    speaker = max(sorted(by_speaker), key=lambda s: len(usable(by_speaker[s])))
    words = usable(by_speaker[speaker])
    if len(words) < 2:
        pytest.skip("no held-out speaker has enough clips of two command words")
    return words, sorted(noise)[:NOISE_CLIPS]


def enroll(data_dir: Path, words: dict[str, list[Path]]) -> None:
    for word, paths in words.items():
        for path in paths[:SHOTS]:
            write_clip(next_clip_path(data_dir, WORDS[word][0]), read_pcm(path))


def recall(clf: Head, words: dict[str, list[Path]]) -> tuple[int, int]:
    tests = [(word, p) for word, paths in words.items() for p in paths[SHOTS:]]
    ok = sum(clf.decide(read_pcm(p), WORDS[word][1]).label == WORDS[word][0] for word, p in tests)
    return ok, len(tests)


def noise_accepts(clf: Head, noise: list[Path]) -> int:
    probs = clf.model.probabilities(np.stack([clf.features(read_pcm(p)) for p in noise]))
    return sum(decide(clf.model, row, context).accepted for row in probs for context in CONTEXTS)


def test_enrolled_speaker_keeps_recall_and_noise_is_still_rejected(classifier, speaker_clips, tmp_path):
    words, noise = speaker_clips
    enroll(tmp_path, words)
    warnings: list[str] = []
    examples = load_enrolled(tmp_path, warnings.append)
    assert len(examples) == SHOTS * len(words) and not warnings
    adapted = classifier.adapt(examples)
    assert adapted.model.info["adapted_clips"] > 0

    # The enrolled words became more likely on the enrolled clips themselves.
    index = {label: i for i, label in enumerate(classifier.model.labels)}
    for label, pcm in examples[:3]:
        before = classifier.model.probabilities(classifier.features(pcm))[0][index[label]]
        after = adapted.model.probabilities(adapted.features(pcm))[0][index[label]]
        assert after > before

    ok_before, n = recall(classifier, words)
    ok_after, _ = recall(adapted, words)
    assert ok_after >= ok_before, f"recall dropped from {ok_before}/{n} to {ok_after}/{n}"
    # The head alone, at its own thresholds (the engine's decoder check comes on top):
    # adapting it must not make it take more noise for a command.
    assert noise_accepts(adapted, noise) <= noise_accepts(classifier, noise) <= 1


def test_adaptation_is_deterministic(classifier, speaker_clips, tmp_path):
    words, _ = speaker_clips
    enroll(tmp_path, words)
    examples = load_enrolled(tmp_path)
    a, b = classifier.adapt(examples).model.layers[0], classifier.adapt(examples).model.layers[0]
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_no_clips_leaves_scores_identical(classifier, speaker_clips, tmp_path):
    words, noise = speaker_clips
    pcm = read_pcm(next(iter(words.values()))[0])
    for examples in ([], load_enrolled(tmp_path), [("not-a-label", pcm)]):
        adapted = classifier.adapt(examples)
        for clip in (pcm, read_pcm(noise[0])):
            assert np.array_equal(adapted.model.probabilities(adapted.features(clip)),
                                  classifier.model.probabilities(classifier.features(clip)))
    choice = choose_engine("whisper", data_dir=tmp_path)
    assert choice.enrolled_clips == 0 and "adapted" not in choice.reason


def test_corrupted_clip_is_skipped_with_one_warning(classifier, speaker_clips, tmp_path):
    words, _ = speaker_clips
    enroll(tmp_path, words)
    broken = next_clip_path(tmp_path, "stop")
    broken.write_bytes(b"RIFF\x00\x00not a wave file at all")
    warnings: list[str] = []
    examples = load_enrolled(tmp_path, warnings.append)
    assert len(examples) == SHOTS * len(words)
    assert len(warnings) == 1 and str(broken) in warnings[0] and "\n" not in warnings[0]

    choice = choose_engine("whisper", data_dir=tmp_path)
    assert choice.enrolled_clips == SHOTS * len(words) + 1
    assert f"adapted to your voice with {choice.enrolled_clips} clips" in choice.reason
    warnings.clear()
    engine = build_engine(choice, load_commands(), warn=warnings.append)
    assert len(warnings) == 1 and str(broken) in warnings[0]
    assert engine.head.info["adapted_clips"] == SHOTS * len(words)
