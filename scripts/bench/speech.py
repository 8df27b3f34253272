"""Speech benchmark: render speed per engine, cache speed, and cancel latency on a virtual device.

    python scripts/bench/speech.py [--trials 20] [--cores 1] [--engines pyttsx3,piper]

For each engine: the cold render time of every spoken text of the routine with
the most speech (fresh cache, engine start-up shown apart), as a ratio to the
spoken length (targets: <= 0.1x espeak-ng, <= 0.3x Piper), then the warm time
(everything from the cache). Then the cancel latency of a DeviceSink on a
private PulseAudio null sink (target p95 <= 20 ms); see coach.testing.pulse.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from coach.content.library import default_content_dir, load_library  # noqa: E402
from coach.speak.render import spoken_texts  # noqa: E402
from coach.script.engine import build_timeline  # noqa: E402
from coach.speak.speaker import Speaker, open_synthesizer  # noqa: E402
from coach.speak.tts.cache import SpeechCache  # noqa: E402

TARGET_RATIO = {"pyttsx3": 0.1, "piper": 0.3}


def most_spoken_routine() -> tuple[str, list[str]]:
    library = load_library(default_content_dir())
    best: tuple[float, str, list[str]] = (0.0, "", [])
    for routine in library.routines.values():
        timeline = build_timeline(routine, library)
        texts = spoken_texts(timeline)
        spoken = sum(c.seconds for c in timeline.cues if c.kind in ("say", "count"))
        best = max(best, (spoken, routine.id, texts))
    return best[1], best[2]


def bench_engine(engine: str, texts: list[str]) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as cache_dir:
        started = time.perf_counter()
        synth = open_synthesizer(engine)
        if engine == "pyttsx3":
            synth.synthesize("Ready.")                     # start the worker process
        startup = time.perf_counter() - started
        speaker = Speaker(synth, SpeechCache(cache_dir))
        started = time.perf_counter()
        seconds = speaker.prepare(texts)
        cold = time.perf_counter() - started
        started = time.perf_counter()
        Speaker(synth, SpeechCache(cache_dir)).prepare(texts)
        warm = time.perf_counter() - started
        getattr(synth, "close", lambda: None)()
    spoken = sum(seconds.values())
    return {"texts": len(texts), "spoken": spoken, "startup": startup, "cold": cold, "warm": warm}


def bench_cancel(trials: int) -> list[float] | str:
    from coach.testing import pulse

    if pulse.missing_tools():
        return f"skipped: needs {', '.join(pulse.missing_tools())}"
    with pulse.pulse_rig() as rig:
        rig.apply_env()                                    # before sounddevice is imported
        results, _ = pulse.measure_cancel(trials)
    return sorted(1000 * r.latency_seconds for r in results), sorted(1000 * r.estimated_latency_seconds for r in results)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20, help="cancel trials (default 20)")
    parser.add_argument("--cores", type=int, default=1, help="CPU cores to render on (default 1)")
    parser.add_argument("--engines", default="pyttsx3,piper")
    args = parser.parse_args()
    if args.cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[: args.cores]))
    routine, texts = most_spoken_routine()
    print(f"routine with the most speech: {routine} ({len(texts)} distinct texts), {args.cores} core(s)\n")
    print(f"{'engine':10} {'spoken s':>9} {'start-up s':>10} {'cold s':>8} {'cold ratio':>10} {'target':>7} "
          f"{'warm s':>8}")
    for engine in args.engines.split(","):
        if engine == "piper" and importlib.util.find_spec("piper") is None:
            print(f"{engine:10} skipped: pip install .[natural]")
            continue
        r = bench_engine(engine, texts)
        ratio = r["cold"] / r["spoken"]
        verdict = "ok" if ratio <= TARGET_RATIO[engine] else "MISSED"
        print(f"{engine:10} {r['spoken']:9.1f} {r['startup']:10.2f} {r['cold']:8.2f} {ratio:9.3f}x "
              f"{TARGET_RATIO[engine]:6.1f}x {r['warm']:8.3f}  {verdict}")
    cancel = bench_cancel(args.trials)
    print()
    if isinstance(cancel, str):
        print(f"cancel latency: {cancel}")
        return 0
    bound, estimate = cancel
    for name, values in (("capture arrival", bound), ("PulseAudio play-out estimate", estimate)):
        p95 = percentile(values, 0.95)
        print(f"cancel latency, {name}: p50 {percentile(values, 0.5):.1f} ms, p95 {p95:.1f} ms, "
              f"max {max(values):.1f} ms over {len(values)} trials (target p95 <= 20 ms: "
              f"{'ok' if p95 <= 20 else 'MISSED'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
