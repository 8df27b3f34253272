"""The command head: decides what one endpointed speech segment is.

A standardised multinomial logistic regression (weights in numpy; an MLP layout
loads too) over pooled Whisper tiny.en encoder states (``coach.listen.asr.whisper``).
Its main job is rejection: a segment becomes a command only when the best of the
context's commands reaches the context's threshold (urgent words have their
own); everything else is "other" or "noise". Inference is numpy, no scikit-learn.
Segments are passed as the endpointer cuts them; training cut its clips the same
way (scripts/train/train_head.py).
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from coach.errors import ModelError

DEFAULT_WEIGHTS = Path(__file__).parent / "data" / "whisper_head.npz"
REJECT_LABELS = ("other", "noise")
NUMBER_LABELS = ("zero", "one", "two", "three", "four", "five",
                 "six", "seven", "eight", "nine", "ten")
URGENT_LABELS = ("stop", "pain")
SESSION_LABELS = ("stop", "pain", "next", "back", "repeat", "pause", "resume",
                  "slower", "faster", "time_left", "help")
CONTEXTS: dict[str, tuple[str, ...]] = {
    "session": SESSION_LABELS,
    "yesno": ("yes", "no", "not_sure", "repeat", "stop", "pain"),
    "number": NUMBER_LABELS + ("not_sure", "repeat", "stop", "pain"),
}


def label_to_command(label: str) -> tuple[str | None, int | None]:
    """Classifier label -> (command name in commands.yaml, value); (None, None) if rejected."""
    if label in REJECT_LABELS:
        return None, None
    if label in NUMBER_LABELS:
        return "number", NUMBER_LABELS.index(label)
    return label, None


@dataclass(frozen=True)
class Decision:
    label: str                  # a context label, or "other"/"noise" when rejected
    probability: float
    scores: dict[str, float]    # context labels + other + noise, summing to 1

    @property
    def accepted(self) -> bool:
        return self.label not in REJECT_LABELS


@dataclass(frozen=True)
class KeywordModel:
    """Exported classifier weights: standardiser, layers, labels, thresholds."""

    labels: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    layers: tuple[tuple[np.ndarray, np.ndarray], ...]   # (W, b); ReLU between layers
    thresholds: dict[str, float]                         # context -> minimum probability
    info: dict

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """(n, labels) class probabilities for (n, d) pooled features."""
        h = (np.atleast_2d(features).astype(np.float64) - self.mean) / self.scale
        for i, (w, b) in enumerate(self.layers):
            h = h @ w + b
            if i < len(self.layers) - 1:
                h = np.maximum(h, 0.0)
        h = h - h.max(axis=1, keepdims=True)
        e = np.exp(h)
        return e / e.sum(axis=1, keepdims=True)

    def save(self, path: Path) -> None:
        arrays = {"mean": self.mean.astype(np.float32), "scale": self.scale.astype(np.float32)}
        for i, (w, b) in enumerate(self.layers):
            arrays[f"w{i}"] = w.astype(np.float32)
            arrays[f"b{i}"] = b.astype(np.float32)
        meta = {"labels": list(self.labels), "thresholds": self.thresholds,
                "n_layers": len(self.layers), "info": self.info}
        np.savez_compressed(path, meta=np.array(json.dumps(meta)), **arrays)

    @classmethod
    def read_default(cls) -> "KeywordModel":
        """The head that ships in the package."""
        return cls.read(DEFAULT_WEIGHTS)

    @classmethod
    def read(cls, path: Path) -> "KeywordModel":
        if not Path(path).is_file():
            raise ModelError("head-missing", f"the command head's weights are missing: {path}")
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                layers = tuple((z[f"w{i}"].astype(np.float64), z[f"b{i}"].astype(np.float64))
                               for i in range(int(meta["n_layers"])))
                mean, scale = z["mean"].astype(np.float64), z["scale"].astype(np.float64)
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            raise ModelError("head-broken",
                             f"the command head's weights are unreadable: {path}: {exc}") from None
        return cls(tuple(meta["labels"]), mean, scale, layers,
                   {k: float(v) for k, v in meta["thresholds"].items()}, meta.get("info", {}))


def threshold_for(thresholds: dict[str, float], context: str, label: str) -> float:
    """Urgent words may have their own (lower) threshold: missing "stop" costs more
    than a false one."""
    if label in URGENT_LABELS and f"{context}:urgent" in thresholds:
        return thresholds[f"{context}:urgent"]
    return thresholds.get(context, 0.5)


def decide(model: KeywordModel, probs: np.ndarray, context: str,
           threshold: float | None = None) -> Decision:
    """Restrict one probability row to the context; accept its best command only
    when that command's probability reaches the context's threshold.

    Probability of labels outside the context counts as "other": a word that is a
    command elsewhere ("go" while answering yes/no) is not a command here. The
    threshold may be below 0.5: a command need not outscore "other" to be heard,
    which is how recall is traded against false accepts per context.
    """
    if context not in CONTEXTS:
        raise ValueError(f"unknown context {context!r}; expected one of {sorted(CONTEXTS)}")
    index = {label: i for i, label in enumerate(model.labels)}
    scores = {label: float(probs[index[label]]) for label in CONTEXTS[context] if label in index}
    scores["noise"] = float(probs[index["noise"]]) if "noise" in index else 0.0
    scores["other"] = float(max(0.0, 1.0 - sum(scores.values())))
    commands = [k for k in scores if k not in REJECT_LABELS]
    best = max(commands, key=lambda k: scores[k]) if commands else "other"
    limit = threshold if threshold is not None else threshold_for(model.thresholds, context, best)
    if best in REJECT_LABELS or scores[best] < limit:
        best = "other" if scores["other"] >= scores["noise"] else "noise"
    return Decision(best, scores[best], scores)
