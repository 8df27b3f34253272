"""Choose when the constrained decoder confirms a command the head is unsure of.

Reads the head's out-of-fold probabilities on the training speakers (written by
train_head.py to <cache>/oof.npz; labels and thresholds from the shipped head), asks the decoder for the same clips (cut as the
listener cuts them; cached in <cache>/decoder.npz), and prints, per context, the
recall and false accepts of the rule in coach/listen/asr/whisper_engine.py for a grid of
``decoder_min``. Held-out speakers are never read here.

Usage: nice -n 10 tune_decoder.py [--cache /tmp/wh] [--other 400] [--fsdd 300]
"""

from __future__ import annotations

import argparse
import random
import sys
from multiprocessing import Pool
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import make_training_set as mts  # noqa: E402
from coach.cli.progress import track  # noqa: E402
from recognition_pipeline import heard_segment  # noqa: E402
from coach.listen.asr.keyword import CONTEXTS, KeywordModel, decide  # noqa: E402

WORDS = {"session": ("stop", "resume"), "yesno": ("yes", "no", "stop"),
         "number": ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "stop")}
_ENGINE = None


def _init() -> None:
    global _ENGINE
    from coach.listen.asr.whisper import WhisperModel
    from coach.listen.asr.whisper_engine import WhisperEngine
    from coach.content.commands import load_commands
    model = WhisperModel(threads=1)
    _ENGINE = WhisperEngine(model, None, load_commands())   # the head is not used here


def _decode(path: str) -> list[dict[str, float]]:
    x = heard_segment(mts.read_wav(Path(path)))
    encoded = _ENGINE.model.encode(x.astype(np.float32) / 32768.0)
    return [_ENGINE.command_probabilities(encoded, c) for c in CONTEXTS]


def decoder_probs(paths: list[str], cache: Path) -> dict[str, list[dict[str, float]]]:
    file = cache / "decoder.npz"
    known: dict[str, list[dict[str, float]]] = {}
    if file.exists():
        with np.load(file, allow_pickle=True) as z:
            known = dict(z["table"].item())
    todo = [p for p in paths if p not in known]
    if todo:
        with Pool(2, initializer=_init) as pool:
            decoded = track(pool.imap(_decode, todo, chunksize=16), "Decoding clips", len(todo))
            for p, r in zip(todo, decoded):
                known[p] = r
        np.savez(file, table=np.array(known, dtype=object))
    return known


def grid_cell(head: KeywordModel, probs, index, rows, table, pick, ci: int, context: str,
              head_min: float, sure: float, confirm: float) -> str:
    """Recall and false accepts of the engine's rule with these knobs."""
    hits: dict[str, list[int]] = {w: [0, 0] for w in WORDS[context]}
    fa = {"other": [0, 0], "noise": [0, 0]}
    for p in pick:
        label = rows[p]["label"]
        d = decide(head, probs[index[p]], context)
        out = d.label if d.accepted and d.probability >= head_min else None
        if out is not None and d.probability < sure and table[p][ci].get(out, 0.0) < confirm:
            out = None
        if label in hits:
            hits[label][0] += out == label
            hits[label][1] += 1
        elif label in fa:
            fa[label][0] += out is not None
            fa[label][1] += 1
    right = sum(k for k, _ in hits.values())
    total = sum(n for _, n in hits.values())
    return (f"recall {100 * right / max(total, 1):.2f}% ({right}/{total}), " +
            ", ".join(f"FA {k} {a}/{n}" for k, (a, n) in fa.items()))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, default=Path("/tmp/wh"))
    ap.add_argument("--other", type=int, default=400, help="other-word clips sampled")
    ap.add_argument("--fsdd", type=int, default=300, help="FSDD training clips sampled")
    args = ap.parse_args(argv)
    with np.load(args.cache / "oof.npz") as z:
        probs, paths = z["probs"], [str(p) for p in z["paths"]]
    head = KeywordModel.read_default()     # its labels and thresholds (tuned on the same folds)
    rows = {r["path"]: r for r in mts.dev_manifest() + mts.fsdd_manifest()}
    index = {p: i for i, p in enumerate(paths)}
    wanted = {w for ws in WORDS.values() for w in ws}
    rng = random.Random(0)
    fsdd = [p for p in paths if rows[p]["speaker"].startswith("fsdd:")]
    pick = [p for p in paths if (rows[p]["label"] in wanted or rows[p]["label"] == "noise")
            and not rows[p]["speaker"].startswith("fsdd:")]
    pick += rng.sample(fsdd, min(args.fsdd, len(fsdd)))
    other = [p for p in paths if rows[p]["label"] == "other"]
    pick += rng.sample(other, min(args.other, len(other)))
    table = decoder_probs(pick, args.cache)
    for ci, context in enumerate(CONTEXTS):
        print(f"[{context}]")
        for head_min in (0.0, 0.2, 0.3, 0.4, 0.5):
            for sure in (0.5, 0.7, 1.01):
                for confirm in (0.0, 0.001, 0.003, 0.01, 0.03):
                    cells = grid_cell(head, probs, index, rows, table, pick, ci, context, head_min, sure, confirm)
                    print(f"  head_min {head_min} sure_min {sure} confirm_min {confirm}: {cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
