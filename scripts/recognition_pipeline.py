"""Held-out development clips through the whole listening pipeline, as a session hears them.

Each clip is played into the listener exactly as ``coach hear`` plays a file (quiet
room tone before and after, 100 ms blocks, the endpointer, the default engine:
PocketSphinx verified by the keyword classifier), so what is measured is the
decision the coach would act on, with its audio time. Latency is that decision's
audio time minus the end of the word, taken from the clip's own levels
(``coach.asr.embedding.speech_span``: the last 10 ms frame louder than the clip's
background and a tenth of its peak). Urgent words (stop) are decided from the
endpointer's early candidate; the others from the final segment, which waits for
quiet or for the level to fall back to the room the word rose from (a clip whose
background starts with the word can hold it until the clip ends).

``heard_segment`` cuts a clip the same way for training (train_keywords --shape
segment), and ``shaped`` for the file-level benchmark.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import make_training_set as mts
from coach.asr.embedding import speech_span
from coach.commands_listen import LEAD_SECONDS, TRAIL_SECONDS, hear_pcm, open_recognizer, room_tone
from coach.endpoint import Endpointer

DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
# context -> development word -> command it must give
PIPELINE_WORDS = {"session": {"stop": "stop", "go": "resume"},
                  "yesno": {"yes": "yes", "no": "no"},
                  "number": {w: "number" for w in DIGITS}}
URGENT_WORDS = ("stop",)


def pct(k: int, n: int) -> str:
    return f"{100.0 * k / n:5.1f}% ({k}/{n})" if n else "   n/a"


def heard_segments(x: np.ndarray) -> list[np.ndarray]:
    """The clip as the listener would cut it: played after quiet room tone, as
    ``coach hear`` does, through the endpointer; its final segments in order."""
    endpointer = Endpointer()
    audio = room_tone(LEAD_SECONDS) + np.asarray(x, dtype="<i2").tobytes() + room_tone(TRAIL_SECONDS, seed=1)
    finals = [s for s in endpointer.feed(audio, 0.0) + endpointer.flush() if not s.early]
    return [np.frombuffer(s.pcm, dtype="<i2").astype(np.int16) for s in finals]


def heard_segment(x: np.ndarray) -> np.ndarray:
    """The loudest of ``heard_segments`` (the whole clip when no speech is found, as
    for steady noise)."""
    pieces = heard_segments(x)
    if not pieces:
        return x
    return max(pieces, key=lambda p: float(np.sum(p.astype(np.float64) ** 2)))


def shape_of(info: dict) -> str:
    """How the classifier's training clips were cut (older weights only say "trim")."""
    return str(info.get("shape", "trim" if info.get("trim") else "clip"))


def shaped(samples: np.ndarray, info: dict) -> np.ndarray:
    """A whole clip cut the way the classifier's training clips were (``shape_of``)."""
    if shape_of(info) == "segment":
        return heard_segment(samples)
    return samples   # "trim" weights trim at run time themselves


def word_end_seconds(samples: np.ndarray) -> float:
    """Where the word ends in the listener's audio time (the clip follows the lead-in)."""
    return LEAD_SECONDS + speech_span(samples)[1] / mts.RATE_HZ


def pipeline_bench(rows: list[dict], engine_name: str = "auto") -> dict[str, list[float]]:
    """Print recall and decision latency per context; return the latencies (ms) by kind."""
    engine, parser, sentence = open_recognizer(argparse.Namespace(engine=engine_name, content_dir=None))
    print(f"\n== Whole pipeline (endpointer + {engine.name}), held-out speakers ==\n  {sentence}")
    latencies: dict[str, list[float]] = {"urgent": [], "other": []}
    for context, words in PIPELINE_WORDS.items():
        heard_right = total = 0
        for row in (r for r in rows if r["word"] in words):
            samples = mts.read_wav(Path(row["path"]))
            heard, _, _ = hear_pcm(engine, parser, samples.astype("<i2").tobytes(), context)
            total += 1
            value = DIGITS.index(row["word"]) if row["word"] in DIGITS else None
            if heard is None or heard.command != words[row["word"]] or heard.value != value:
                continue
            heard_right += 1
            kind = "urgent" if row["word"] in URGENT_WORDS else "other"
            latencies[kind].append(1000.0 * (heard.decided_seconds - word_end_seconds(samples)))
        print(f"  [{context}] {'/'.join(words) if len(words) < 4 else 'digits'}: "
              f"heard right {heard_right}/{total}")
    for kind, target in (("urgent", 300), ("other", 700)):
        values = np.array(latencies[kind])
        if len(values):
            print(f"  decision latency after the end of the word, {kind} words (n={len(values)}): "
                  f"p50 {np.percentile(values, 50):.0f} ms, p95 {np.percentile(values, 95):.0f} ms, "
                  f"max {values.max():.0f} ms (target p95 <= {target} ms)")
    return latencies


def pipeline_synthetic_bench(clips: list[tuple[str, str, str, np.ndarray]], engine_name: str = "auto") -> None:
    """The unseen synthetic renders (label, text, voice, samples) through the whole
    pipeline: each command heard in each context that has it, and commands fired on
    running speech (label "other")."""
    engine, parser, _ = open_recognizer(argparse.Namespace(engine=engine_name, content_dir=None))
    print(f"\n== Whole pipeline (endpointer + {engine.name}), synthetic voices never used in training "
          f"— NOT real speech ==")
    numbers = DIGITS + ("ten",)
    for context in parser.command_set.contexts:
        wanted = {p.command for p in parser.command_set.context_phrases(context)}
        fired = 0
        counts: dict[str, list[int]] = {}
        for label, _, _, samples in clips:
            command = "number" if label in numbers else label
            if command != "other" and command not in wanted:
                continue
            heard, _, _ = hear_pcm(engine, parser, samples.astype("<i2").tobytes(), context)
            if command == "other":
                fired += heard is not None
                continue
            value = numbers.index(label) if command == "number" else None
            tally = counts.setdefault(command, [0, 0])
            tally[0] += heard is not None and heard.command == command and heard.value == value
            tally[1] += 1
        parts = [f"{command} {k}/{n}" for command, (k, n) in counts.items()]
        others = sum(label == "other" for label, *_ in clips)
        print(f"  [{context}] " + ", ".join(parts))
        print(f"  [{context}] commands fired on running speech: {pct(fired, others)}")
