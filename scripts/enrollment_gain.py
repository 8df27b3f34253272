"""Enrollment gain on held-out development speakers (``bench_recognition.py --enroll``
and ``--enroll-runtime``): a few of each speaker's own clips adapt the classifier,
and recall is compared on their other clips, before and after."""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path

import numpy as np

import make_training_set as mts
from coach.asr.keyword import CONTEXTS, KeywordClassifier, KeywordModel, decide
from recognition_pipeline import DIGITS, pct, shape_of, shaped

WORD_CONTEXT = {"stop": "session", "go": "session", "yes": "yesno", "no": "yesno",
                **{w: "number" for w in DIGITS}}


def split_clips(items: list, word_of, shots: int) -> tuple[list, list]:
    """(enrolled, test): up to ``shots`` of a speaker's clips per command word, always
    keeping at least one of each word to test; words said once are left out."""
    per_word = defaultdict(list)
    for item in items:
        if word_of(item) in WORD_CONTEXT:
            per_word[word_of(item)].append(item)
    enrolled, test = [], []
    for clips in per_word.values():
        if len(clips) >= 2:
            k = min(shots, len(clips) - 1)
            enrolled += clips[:k]
            test += clips[k:]
    return enrolled, test


def enroll_bench(clf: KeywordClassifier, synth: Path, cache: Path, shots: int = 3,
                 weight: float = 5.0) -> None:
    """Per held-out speaker: add up to `shots` of their clips per command word to the
    training set (keeping at least one clip to test) and compare recall on the rest.

    The base model is refitted here exactly as shipped; each speaker's model is a
    warm-started refit with their clips added (weight `weight`)."""
    import copy
    from sklearn.linear_model import LogisticRegression
    import train_keywords as tk
    data = tk.dataset(synth, cache, shape=shape_of(clf.model.info))
    x, y, w = tk.training_arrays(data, lambda r: not r["held_out"])
    rows, embs = data["dev"]
    feats = tk.pooled(embs)
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    c = float(clf.model.info.get("c", 0.03))
    base = LogisticRegression(C=c, max_iter=1000).fit((x - mean) / scale, y, sample_weight=w)

    def as_model(fitted) -> KeywordModel:
        return KeywordModel(tuple(tk.LABELS[i] for i in fitted.classes_), mean, scale,
                            ((fitted.coef_.T, fitted.intercept_),), clf.model.thresholds, {})

    before_model = as_model(base)
    by_speaker = defaultdict(list)
    for i, r in enumerate(rows):
        if r["held_out"] and r["speaker"] != "noise":
            by_speaker[r["speaker"]].append(i)
    counts = defaultdict(int)
    speakers = n_enrolled = 0
    for speaker, idx in sorted(by_speaker.items()):
        enrolled, test = split_clips(sorted(idx, key=lambda i: rows[i]["path"]),
                                     lambda i: rows[i]["word"], shots)
        if not test:
            continue
        speakers += 1; n_enrolled += len(enrolled)
        others = [i for i in idx if rows[i]["label"] == "other"]
        adapted = copy.deepcopy(base).set_params(warm_start=True, max_iter=40)
        adapted.fit(np.concatenate([(x - mean) / scale, (feats[enrolled] - mean) / scale]),
                    np.concatenate([y, tk.label_ids([rows[i] for i in enrolled])]),
                    sample_weight=np.concatenate([w, np.full(len(enrolled), weight)]))
        for m, tag in ((before_model, "before"), (as_model(adapted), "after")):
            p = m.probabilities(feats[test + others])
            counts[tag] += sum(decide(m, p[k], WORD_CONTEXT[rows[i]["word"]]).label == rows[i]["label"]
                               for k, i in enumerate(test))
            counts[tag + "_fa"] += sum(decide(m, p[len(test) + k], "session").accepted
                                       for k in range(len(others)))
        counts["test"] += len(test); counts["others"] += len(others)
    print(f"\n== Enrollment: up to {shots} clips per command word (stop, go, yes, no, digits; "
          f"{n_enrolled} clips) from {speakers} held-out speakers, tested on their other clips ==")
    print(f"  recall on their remaining command clips: before {pct(counts['before'], counts['test'])}, "
          f"after {pct(counts['after'], counts['test'])}")
    print(f"  their other words accepted (session context): before "
          f"{pct(counts['before_fa'], counts['others'])}, after {pct(counts['after_fa'], counts['others'])}")


def enroll_runtime_bench(clf: KeywordClassifier, shots: int = 3, pull: float | None = None,
                         held_out: bool = True, cache: dict | None = None) -> None:
    """The run-time enrollment path (``KeywordClassifier.adapt``, numpy only): per
    held-out speaker, enrol up to `shots` clips per command word (keeping at least one
    to test), then compare recall on their remaining command clips, false accepts
    on their other words (session context) and on held-out noise, before/after."""
    from coach.asr.adapt import PULL, adapt_model
    pull = PULL if pull is None else pull
    rows = [r for r in mts.dev_manifest() if r["held_out"] == held_out]
    noise = [r for r in rows if r["speaker"] == "noise"][:200]
    by_speaker = defaultdict(list)
    for r in rows:
        if r["speaker"] != "noise":
            by_speaker[r["speaker"]].append(r)
    feats: dict[str, np.ndarray] = {} if cache is None else cache

    def feature(r: dict) -> np.ndarray:
        if r["path"] not in feats:
            feats[r["path"]] = clf.features(shaped(mts.read_wav(Path(r["path"])), clf.model.info).tobytes())
        return feats[r["path"]]

    noise_x = np.stack([feature(r) for r in noise]) if noise else None
    counts = defaultdict(int)
    speakers = n_enrolled = 0
    t_adapt = 0.0
    for speaker, srows in sorted(by_speaker.items()):
        enrolled, test = split_clips(sorted(srows, key=lambda r: r["path"]), lambda r: r["word"], shots)
        if not test:
            continue
        speakers += 1; n_enrolled += len(enrolled)
        others = [r for r in srows if r["label"] == "other"]
        t0 = time.perf_counter()
        x_enrolled = np.stack([feature(r) for r in enrolled])
        adapted = adapt_model(clf.model, x_enrolled, [r["label"] for r in enrolled], pull=pull)
        t_adapt += time.perf_counter() - t0
        for m, tag in ((clf.model, "before"), (adapted, "after")):
            for r in test:
                ok = decide(m, m.probabilities(feature(r))[0], WORD_CONTEXT[r["word"]]).label == r["label"]
                counts[tag] += ok
                counts[f"{tag}:{r['word']}"] += ok
            for r in others:
                counts[tag + "_fa"] += decide(m, m.probabilities(feature(r))[0], "session").accepted
            if noise_x is not None:
                p = m.probabilities(noise_x)
                counts[tag + "_noise"] += sum(decide(m, p[k], c).accepted
                                              for k in range(len(p)) for c in CONTEXTS)
        for r in test:
            counts[f"test:{r['word']}"] += 1
        counts["test"] += len(test); counts["others"] += len(others)
        counts["noise"] += len(noise) * len(CONTEXTS)
    print(f"\n== Enrollment at run time (KeywordClassifier.adapt, pull {pull}): up to {shots} clips "
          f"per command word (stop, go, yes, no, digits; {n_enrolled} clips) from {speakers} "
          f"{'held-out' if held_out else 'training'} speakers, tested on their other clips ==")
    print(f"  recall on their remaining command clips: before {pct(counts['before'], counts['test'])}, "
          f"after {pct(counts['after'], counts['test'])}")
    for word in WORD_CONTEXT:
        n = counts[f"test:{word}"]
        if n:
            print(f"    {word:>6}: before {pct(counts['before:' + word], n)}, after {pct(counts['after:' + word], n)}")
    print(f"  their other words accepted (session context): before "
          f"{pct(counts['before_fa'], counts['others'])}, after {pct(counts['after_fa'], counts['others'])}")
    print(f"  noise accepted (each speaker's model x {len(noise)} noise clips x every context): before "
          f"{pct(counts['before_noise'], counts['noise'])}, after {pct(counts['after_noise'], counts['noise'])}")
    if speakers:
        print(f"  adaptation time per speaker (embedding its clips included): {1000 * t_adapt / speakers:.0f} ms")
