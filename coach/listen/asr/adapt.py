"""Adapting the command head to one voice from a few enrolled clips.

The shipped model is a multinomial logistic regression over standardised pooled
embeddings. Adaptation is a MAP fit with a Gaussian prior centred on the shipped
weights: minimise the summed cross-entropy of the user's clips plus
``pull / 2 * ||W - W0||^2`` (and the same for the biases). A handful of clips can
then only move the model as far as the evidence pays for, and with no clips the
minimum is the shipped model itself. Plain full-batch gradient descent with a
step of 1/L (L bounds the curvature), a fixed number of steps, no randomness:
the same clips always give the same model. Pure numpy.

A clip the shipped model hears mostly as noise (nothing said, too quiet, a bad
microphone moment) is not used: fitting it would teach the model that noise is
a command, which is the one mistake rejection exists to prevent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from coach.listen.asr.keyword import KeywordModel

PULL = 10.0         # prior strength toward the shipped weights (chosen on training speakers)
STEPS = 300
NOISE_GATE = 0.5    # clips the shipped model gives at least this noise probability are not used
REPORT_EVERY_STEPS = 10
Progress = Callable[[int, int], None]       # (done, total)


def adapt_model(model: KeywordModel, features: np.ndarray, labels: list[str],
                pull: float = PULL, steps: int = STEPS,
                progress: Progress | None = None) -> KeywordModel:
    """A copy of ``model`` fine-tuned on (n, d) pooled features with their labels.

    Only a single-layer (logistic regression) model is adapted; labels the model
    does not know are ignored. Thresholds and the standardiser stay as shipped.
    ``progress(step, steps)`` is told how far the descent has got.
    """
    index = {label: i for i, label in enumerate(model.labels)}
    features = np.atleast_2d(np.asarray(features, dtype=np.float64))
    keep = [k for k, label in enumerate(labels) if label in index]
    if keep and "noise" in index:
        noise = model.probabilities(features[keep])[:, index["noise"]]
        keep = [k for k, p in zip(keep, noise) if p < NOISE_GATE]
    if not keep or len(model.layers) != 1:
        return model
    z = (features[keep] - model.mean) / model.scale
    y = np.zeros((len(keep), len(model.labels)))
    y[np.arange(len(keep)), [index[labels[k]] for k in keep]] = 1.0
    w0, b0 = model.layers[0]
    w, b = w0.copy(), b0.copy()
    za = np.hstack([z, np.ones((len(z), 1))])
    # Softmax cross-entropy has curvature at most 1/2 * ||[z, 1]||^2 along any direction.
    step = 1.0 / (0.5 * np.linalg.norm(za, 2) ** 2 + pull)
    for done in range(steps):
        if progress is not None and done % REPORT_EVERY_STEPS == 0:
            progress(done, steps)
        h = z @ w + b
        h -= h.max(axis=1, keepdims=True)
        p = np.exp(h)
        p /= p.sum(axis=1, keepdims=True)
        g = p - y
        w -= step * (z.T @ g + pull * (w - w0))
        b -= step * (g.sum(axis=0) + pull * (b - b0))
    if progress is not None:
        progress(steps, steps)
    info = {**model.info, "adapted_clips": len(keep)}
    return replace(model, layers=((w, b),), info=info)


def adapt_head(model: KeywordModel, features: Callable[[bytes], np.ndarray],
               examples: list[tuple[str, bytes]], progress: Progress | None = None) -> KeywordModel:
    """``model`` fine-tuned on the user's own clips (label, 16 kHz int16 pcm), each
    turned into the head's input by ``features``; unchanged with no usable clip.
    ``progress(done, total)`` counts the clips encoded, then the descent's steps."""
    known = [(label, pcm) for label, pcm in examples if label in model.labels]
    if not known:
        return model
    total = len(known) + STEPS
    rows = []
    for done, (_, pcm) in enumerate(known):
        if progress is not None:
            progress(done, total)
        rows.append(np.reshape(features(pcm), -1))
    fit = None if progress is None else (lambda step, _steps: progress(len(known) + step, total))
    return adapt_model(model, np.stack(rows), [label for label, _ in known], progress=fit)
