"""Train the keyword classifier and export its weights to coach/asr/data/keywords.npz.

Data: the development recordings of the speakers NOT held out for reporting (see
make_training_set.is_held_out), augmented copies of them, and the espeak-ng
synthetic set (run make_training_set.py first; synthetic examples weigh 0.1).
Thresholds per context (and for the urgent words stop/pain in each context) are
tuned on out-of-fold predictions of a 5-fold speaker-grouped cross-validation on
the same non-held-out speakers, for the most recall within 1.5 % false accepts on
other words and 0.5 % on noise. Held-out speakers are never used here except to
cache their embeddings (for the benchmark). First run: ~8 min of embedding
(cached in --cache), then ~4 min of fitting.

Usage: nice -n 10 train_keywords.py [--synth /tmp/kw/synth] [--cache /tmp/kw]
       [--model lr|mlp] [--out coach/asr/data/keywords.npz] [--no-cv] [--urgent-copies N]
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from multiprocessing import Pool
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import make_training_set as mts  # noqa: E402
from coach.asr.embedding import SpeechEmbedder, pad_segment, pool  # noqa: E402
from coach.asr.keyword import CONTEXTS, URGENT_LABELS as URGENT, KeywordModel, decide  # noqa: E402

LABELS = tuple(mts.COMMAND_PHRASES) + ("other", "noise")
SYNTH_WEIGHT = 0.1   # measured: equal weight cost 10+ points of real-speech recall
FA_OTHER_BUDGET, FA_NOISE_BUDGET = 0.015, 0.005   # tuning margins under the 3 % / 1 % targets
AUGMENT_MORE = ("stop", "resume")   # real clips with extra augmented copies
URGENT_AUG_COPIES = 6   # extra augmented copies of real stop/go clips: better in grouped CV
_EMBEDDER: SpeechEmbedder | None = None


# ---------------------------------------------------------------- features

def _init_worker() -> None:
    global _EMBEDDER
    _EMBEDDER = SpeechEmbedder.load(threads=1)


def _embed_job(job: tuple) -> np.ndarray:
    path, aug_seed, noise_paths = job
    x = mts.read_wav(Path(path))
    if aug_seed is not None:
        rng = random.Random(aug_seed)
        noises = [mts.read_wav(Path(p)) for p in rng.sample(noise_paths, min(3, len(noise_paths)))]
        x = mts.augment(x, noises, rng)
    return _EMBEDDER.embeddings(pad_segment(x)).astype(np.float32)


def embed_set(name: str, rows: list[dict], cache: Path, aug_seed: int | None,
              noise_paths: list[str], workers: int = 2) -> list[np.ndarray]:
    """Window embeddings per clip, cached in ``cache/name.npz``."""
    path = cache / f"{name}.npz"
    if path.exists():
        with np.load(path) as z:
            if len(z["offsets"]) == len(rows) + 1:
                w, o = z["windows"], z["offsets"]
                return [w[o[i]:o[i + 1]] for i in range(len(rows))]
    jobs = [(r["path"], None if aug_seed is None else mts.stable_hash(f"{aug_seed}:{r['path']}"),
             noise_paths) for r in rows]
    with Pool(workers, initializer=_init_worker) as p:
        out = p.map(_embed_job, jobs, chunksize=32)
    offsets = np.cumsum([0] + [len(e) for e in out])
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(path, windows=np.concatenate(out), offsets=offsets)
    return out


def read_synth(folder: Path) -> list[dict]:
    with open(folder / "manifest.csv", newline="") as f:
        return [dict(r, held_out=False) for r in csv.DictReader(f)]


def dataset(synth_dir: Path, cache: Path, aug_copies: int = 2,
            urgent_copies: int = URGENT_AUG_COPIES) -> dict:
    """All rows with their pooled features; keys: dev, dev_aug, synth, synth_aug.
    dev_aug also holds ``urgent_copies`` extra augmented copies of the real clips of
    the labels in AUGMENT_MORE (stop, go). Six copies raised grouped-CV recall
    (stop 94->95 % session, 91->94-95 % yes/no and number; go 89->92 %) at lower
    false accepts, but not stop on the held-out speakers (79/90 either way), so
    the shipped weights were trained without them."""
    dev = mts.dev_manifest()
    train_dev = [r for r in dev if not r["held_out"]]
    noise_paths = [r["path"] for r in train_dev if r["label"] == "noise"]
    synth = read_synth(synth_dir)
    out = {"dev": (dev, embed_set("dev_clean", dev, cache, None, noise_paths))}
    aug_rows, aug_emb = [], []
    for k in range(aug_copies):
        aug_rows += train_dev
        aug_emb += embed_set(f"dev_aug{k}", train_dev, cache, 100 + k, noise_paths)
    more = [r for r in train_dev if r["label"] in AUGMENT_MORE]
    for k in range(urgent_copies):
        aug_rows += more
        aug_emb += embed_set(f"urg_aug{k}", more, cache, 300 + k, noise_paths)
    out["dev_aug"] = (aug_rows, aug_emb)
    out["synth"] = (synth, embed_set("synth_clean", synth, cache, None, noise_paths))
    out["synth_aug"] = (synth, embed_set("synth_aug0", synth, cache, 200, noise_paths))
    return out


def pooled(embs: list[np.ndarray]) -> np.ndarray:
    return np.stack([pool(e) for e in embs])


# ---------------------------------------------------------------- training

def fit(x: np.ndarray, y: np.ndarray, kind: str = "lr", c: float = 0.1, seed: int = 0,
        sample_weight: np.ndarray | None = None) -> KeywordModel:
    """Fit a standardiser + classifier and export it as a numpy KeywordModel."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    z = (x - mean) / scale
    present = sorted(set(y.tolist()))
    if kind == "lr":
        clf = LogisticRegression(C=c, max_iter=1000)
        clf.fit(z, y, sample_weight=sample_weight)
        layers = ((clf.coef_.T.copy(), clf.intercept_.copy()),)
    else:
        clf = MLPClassifier(hidden_layer_sizes=(128,), alpha=c, max_iter=300,
                            early_stopping=False, random_state=seed)
        clf.fit(z, y, sample_weight=sample_weight)
        layers = tuple((w, b) for w, b in zip(clf.coefs_, clf.intercepts_))
    labels = tuple(LABELS[i] for i in clf.classes_)
    assert len(labels) == len(present)
    return KeywordModel(labels, mean, scale, layers, {}, {"kind": kind, "c": c})


def best_commands(model_probs, rows, context: str):
    """Per row: the context's best command, its score, and whether it is right."""
    out = []
    for (model, p), r in zip(model_probs, rows):
        d = decide(model, p, context, threshold=0.0)
        best = max((k for k in d.scores if k not in ("other", "noise")), key=lambda k: d.scores[k])
        out.append((best, d.scores[best], best == r["label"]))
    return out


def tune_thresholds(model_probs: list[tuple[KeywordModel, np.ndarray]], rows: list[dict]
                    ) -> dict[str, float]:
    """Per context, the (urgent, regular) thresholds with the most recall on the
    context's real command clips (urgent words counted twice) whose false
    accepts stay within the budgets."""
    grid = np.round(np.arange(0.10, 0.96, 0.02), 2)
    out: dict[str, float] = {}
    for context, labels in CONTEXTS.items():
        best_cmd = best_commands(model_probs, rows, context)
        urgent = np.array([b in URGENT for b, _, _ in best_cmd])
        score = np.array([s for _, s, _ in best_cmd])
        right = np.array([ok for _, _, ok in best_cmd])
        kind = np.array([r["label"] for r in rows])
        pos = np.isin(kind, labels)
        neg_o = ~pos & (kind != "noise")
        neg_n = kind == "noise"
        weight = np.where(np.isin(kind, URGENT), 2.0, 1.0)
        chosen, value = (0.95, 0.95), -1.0
        for tu in grid:
            for tr in grid:
                limit = np.where(urgent, tu, tr)
                acc = score >= limit
                if acc[neg_o].mean() > FA_OTHER_BUDGET or acc[neg_n].mean() > FA_NOISE_BUDGET:
                    continue
                v = float((weight * (acc & right))[pos].sum())
                if v > value + 1e-9:
                    chosen, value = (float(tu), float(tr)), v
        out[f"{context}:urgent"], out[context] = chosen
    return out


def label_ids(rows: list[dict]) -> np.ndarray:
    return np.array([LABELS.index(r["label"]) for r in rows])


def training_arrays(data: dict, keep, synth_weight: float = SYNTH_WEIGHT
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Synthetic data + the dev rows (clean and augmented) for which keep(row) is true,
    with sample weights (synthetic examples count less than real speech)."""
    xs, ys, ws = [], [], []
    for key in ("synth", "synth_aug"):
        rows, embs = data[key]
        xs.append(pooled(embs)); ys.append(label_ids(rows))
        ws.append(np.full(len(rows), synth_weight))
    for key in ("dev", "dev_aug"):
        rows, embs = data[key]
        sel = [i for i, r in enumerate(rows) if keep(r)]
        xs.append(pooled([embs[i] for i in sel])); ys.append(label_ids([rows[i] for i in sel]))
        ws.append(np.ones(len(sel)))
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(ws)


def cross_validate(data: dict, kind: str, c: float, folds: int = 5):
    """Out-of-fold (model, probs) for every non-held-out dev clip, grouped by speaker."""
    rows, embs = data["dev"]
    feats = pooled(embs)
    fold_of = {r["speaker"]: mts.stable_hash("fold:" + r["speaker"]) % folds for r in rows}
    oof: list = [None] * len(rows)
    for f in range(folds):
        def keep(r, f=f):
            key = r["path"] if r["speaker"] == "noise" else r["speaker"]
            return not r["held_out"] and mts.stable_hash("fold:" + key) % folds != f
        x, y, w = training_arrays(data, keep)
        model = fit(x, y, kind, c, sample_weight=w)
        idx = [i for i, r in enumerate(rows) if not r["held_out"] and not keep(r)]
        probs = model.probabilities(feats[idx])
        for i, p in zip(idx, probs):
            oof[i] = (model, p)
    sel = [i for i in range(len(rows)) if oof[i] is not None]
    return [oof[i] for i in sel], [rows[i] for i in sel]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--synth", type=Path, default=Path("/tmp/kw/synth"))
    ap.add_argument("--cache", type=Path, default=Path("/tmp/kw"))
    ap.add_argument("--model", choices=["lr", "mlp"], default="lr")
    ap.add_argument("--c", type=float, default=0.03)
    ap.add_argument("--out", type=Path, default=mts.ROOT / "coach/asr/data/keywords.npz")
    ap.add_argument("--no-cv", action="store_true", help="keep thresholds at 0.5")
    ap.add_argument("--urgent-copies", type=int, default=URGENT_AUG_COPIES,
                    help="extra augmented copies of the real stop/go clips")
    args = ap.parse_args(argv)
    data = dataset(args.synth, args.cache, urgent_copies=args.urgent_copies)
    thresholds = {c: 0.5 for c in CONTEXTS}
    if not args.no_cv:
        oof, rows = cross_validate(data, args.model, args.c)
        np.savez(args.cache / "oof.npz", probs=np.stack([p for _, p in oof]),
                 paths=np.array([r["path"] for r in rows]))
        thresholds = tune_thresholds(oof, rows)
        print("thresholds (grouped CV):", thresholds)
    x, y, w = training_arrays(data, lambda r: not r["held_out"])
    model = fit(x, y, args.model, args.c, sample_weight=w)
    model = KeywordModel(model.labels, model.mean, model.scale, model.layers, thresholds,
                         dict(model.info, n_train=int(len(y)), pooling="max,mean,std",
                              held_out="md5('coach-heldout:'+speaker) % 4 == 0"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e3:.0f} kB, {len(y)} examples)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
