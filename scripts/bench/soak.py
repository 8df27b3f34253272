#!/usr/bin/env python3
"""Soak: a two-hour session in virtual time, with room noise, the coach's own echo and
40 spoken commands, through the real composition (speech, echo, recognizer, policy,
triage content, history, event log on disk).

The routine is several routines back to back (one session, one timeline). The
microphone is a simulated person: a bed of room noise from the development set, the
coach's voice coming back through an echo path, and the next planned command said
once its time has come and the coach has been quiet for a moment (commands said over
the coach would only count if urgent). Commands: next, repeat, pause and go (15 s
later), in turn, then "stop" at the end; "go" and "stop" are development-set speakers,
the others espeak-ng voices; each clip is one the recognizer hears on its own, in
quiet and over the room's noise (a soak of the session, not of the recognizer).

Figures: commands said and acted on in order, commands fired that were not said,
memory (RSS) at session minute 10 and at the end, event log completeness, wall time.

    .venv/bin/python scripts/bench/soak.py [--minutes 120] [--echo-db -12] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from coach.audio import SAMPLE_RATE_HZ, AudioChunk  # noqa: E402
from coach.audio.echo import EchoSource, PlaybackTap, db_to_gain  # noqa: E402
from coach.audio.filesource import SilenceSource  # noqa: E402
from coach.audio.null import NullSink  # noqa: E402
from coach.clock import VirtualClock  # noqa: E402
from coach.testing import micmix  # noqa: E402

RATE = SAMPLE_RATE_HZ
ROUTINES = ("gentle-floor", "strength-stability", "hip-flexor-glute-release", "hamstring-glute-strength",
            "morning-mobility", "foam-rolling", "desk-break")
VOICES = ("en-us", "en-gb", "en-us+f3", "en-gb-scotland", "en-029", "en-us+m7")
QUIET_BEFORE_SECONDS = 1.5       # the person waits for the coach to be quiet this long
GO_AFTER_PAUSE_SECONDS = 15.0
FIRST_AT_SECONDS = 120.0
ACTED_WITHIN_SECONDS = 3.0       # from the end of the word to the command's effect
NOISE_DBFS = -60.0
NOISE_CHECKS = 8                 # offsets of the noise bed a clip must be heard over
FRAME_SAMPLES = 160              # the recognizer's frame grid (10 ms), crossed by those checks
WORD_ROOM_SECONDS = 3.0          # silence left in the cue when the person starts a word


@dataclass
class Said:
    command: str                 # next | repeat | pause | resume | stop
    start_seconds: float
    end_seconds: float


@dataclass
class Person:
    """The microphone's content: room noise, and the planned commands said in quiet moments."""

    plan: list[tuple[str, float]]                   # (command, seconds after the previous one)
    clips: dict[str, list[np.ndarray]]
    noise: np.ndarray
    tap: PlaybackTap
    clock: VirtualClock
    said: list[Said] = field(default_factory=list)
    quiet_since: float = 0.0
    due_seconds: float = FIRST_AT_SECONDS
    speaking: tuple[np.ndarray, int] | None = None  # the clip and its first sample
    ready: Callable[[float], bool] = lambda _now: True    # the session leaves room for a word now

    def samples(self, start: int, count: int) -> np.ndarray:
        now = start / RATE
        if self.tap.is_playing():
            self.quiet_since = now
        index = np.arange(start, start + count) % self.noise.size
        out = self.noise[index].astype(np.float64)
        if self.speaking is None and self.plan and now >= self.due_seconds and now - self.quiet_since >= QUIET_BEFORE_SECONDS \
                and self.ready(now):
            command, _gap = self.plan.pop(0)
            pool = self.clips[command]
            clip = pool[sum(1 for x in self.said if x.command == command) % len(pool)]   # each voice in turn
            self.speaking = (clip, start)
            self.said.append(Said(command, now, now + clip.size / RATE))
            self.due_seconds = now + (self.plan[0][1] if self.plan else 0.0)
        if self.speaking is not None:
            clip, first = self.speaking
            piece = clip[start - first:start - first + count]
            out[:piece.size] += piece
            if start - first + count >= clip.size:
                self.speaking = None
        return np.clip(out, -32768, 32767).astype(np.int16)


class PersonSource(SilenceSource):
    """A virtual-clock microphone whose samples come from a Person."""

    def __init__(self, clock: VirtualClock, person: Person) -> None:
        super().__init__(clock)
        self.person = person

    def _samples(self, start: int, count: int) -> np.ndarray:
        return self.person.samples(start, count)


def room_for_a_word(runner, now_seconds: float) -> bool:
    """Paused, or in a silent cue with a few seconds left: what a person waits for."""
    if runner.state.mode == "paused":
        return True
    index, deadline = runner.cue_index, runner.cue_deadline
    return (index is not None and deadline is not None and runner.timeline.cues[index].kind == "pause"
            and deadline - now_seconds >= WORD_ROOM_SECONDS
            and now_seconds - runner.state.cue_started_seconds >= QUIET_BEFORE_SECONDS)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def make_plan(minutes: float) -> list[tuple[str, float]]:
    """38 commands in turn (next, repeat, pause, go), one more next, then stop: 40."""
    cycle = ("next", "repeat", "pause", "resume")
    kinds = [cycle[i % 4] for i in range(38)] + ["next", "stop"]
    spaced = sum(1 for k in kinds if k != "resume")
    gap = max(30.0, (minutes * 60.0 - FIRST_AT_SECONDS - 9 * GO_AFTER_PAUSE_SECONDS) / (spaced - 1))
    return [(k, GO_AFTER_PAUSE_SECONDS if k == "resume" else gap) for k in kinds]


def heard_alone(listener_factory, pcm: np.ndarray, command: str, noise: np.ndarray | None = None,
                offset_seconds: float = 0.0, lead_samples: int = 0) -> bool:
    """Whether a fresh listener hears ``pcm`` as ``command``, padded with quiet (and
    ``lead_samples`` more before it), or with the room's noise bed from ``offset_seconds`` on."""
    clock = VirtualClock()
    listener = listener_factory(clock)
    listener.set_context("session")
    audio = np.concatenate([np.zeros(RATE // 2 + lead_samples, np.int16), pcm,
                            np.zeros(RATE * 2, np.int16)]).astype(np.float64)
    if noise is not None:
        first = int(offset_seconds * RATE)
        audio += noise[np.arange(first, first + audio.size) % noise.size]
    audio = np.clip(audio, -32768, 32767).astype(np.int16)
    block = int(0.03 * RATE)
    for start in range(0, audio.size, block):
        chunk = AudioChunk(audio[start:start + block].astype("<i2").tobytes(), RATE, start / RATE)
        clock.advance(block / RATE)
        if any(h.command == command for h in listener.feed(chunk, False)):
            return True
    return False


def heard_in_the_room(listener_factory, pcm: np.ndarray, command: str, noise: np.ndarray) -> bool:
    """Heard in quiet and over the noise bed at every one of its NOISE_CHECKS offsets,
    each starting at another place on the 10 ms frame grid: the soak tests the session
    over two hours, not the recognizer's accuracy (that is scripts/bench/recognition.py),
    so a word the recognizer only sometimes hears (espeak-ng's en-us "next" was heard in
    quiet and missed over a louder second of the bed; a "go" was missed when it began
    a few milliseconds later) is not one of its clips."""
    if not heard_alone(listener_factory, pcm, command):
        return False
    span = noise.size / RATE
    step = FRAME_SAMPLES // NOISE_CHECKS
    return all(heard_alone(listener_factory, pcm, command, noise, k * span / NOISE_CHECKS, k * step)
               for k in range(NOISE_CHECKS))


def command_clips(listener_factory, noise: np.ndarray, per_command: int = 4) -> dict[str, list[np.ndarray]]:
    """Clips the recognizer hears in the room: dev-set 'go' and 'stop', espeak-ng for the rest."""
    clips: dict[str, list[np.ndarray]] = {}
    for label, command in (("go", "resume"), ("stop", "stop")):
        pool = []
        for clip in micmix.dev_clips(label):
            pcm = micmix.as_samples(clip)
            if heard_in_the_room(listener_factory, pcm, command, noise):
                pool.append(pcm)
            if len(pool) == per_command:
                break
        clips[command] = pool
    for text, command in (("next", "next"), ("repeat", "repeat"), ("pause", "pause")):
        pool = []
        for voice in VOICES:
            pcm = np.frombuffer(micmix.espeak_pcm(text, voice=voice), np.int16)
            if heard_in_the_room(listener_factory, pcm, command, noise):
                pool.append(pcm)
            if len(pool) == per_command:
                break
        clips[command] = pool
    empty = [c for c, pool in clips.items() if not pool]
    if empty:
        raise SystemExit(f"no clip of {', '.join(empty)} is recognised in the room")
    print("clips: " + ", ".join(f"{c} {len(pool)}" for c, pool in clips.items()), file=sys.stderr)
    return clips


def noise_bed(dbfs: float) -> np.ndarray:
    """40 s of the development set's noise clips, scaled to ``dbfs`` RMS, looped under the session."""
    clips = micmix.dev_clips("_noise_")[:40]
    bed = np.concatenate([micmix.as_samples(c) for c in clips]).astype(np.float64)
    level = micmix.rms_dbfs(bed.astype(np.int16))
    return (bed * db_to_gain(dbfs - level)).astype(np.int16)


def soak_routine(library, minutes: float):
    """The routines' items back to back, repeated until the nominal length passes ``minutes`` * 1.3."""
    from coach.content.model import Routine
    from coach.script.engine import build_timeline

    first = library.routines[ROUTINES[0]]
    items: list = []
    while True:
        for rid in ROUTINES:
            items += list(library.routines[rid].items)
        routine = Routine("soak", "Soak", "Routines back to back.", first.intro, first.outro,
                          first.rest_between_seconds, tuple(items))
        if build_timeline(routine, library, "low").total_seconds > minutes * 60 * 1.3:
            return routine


def event_log_check(path: Path, said: list[Said]) -> tuple[bool, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    events = [json.loads(line) for line in lines]
    times = [e["t"] for e in events]
    started = [e["index"] for e in events if e["type"] == "cue-started"]
    ended = [e["index"] for e in events if e["type"] == "cue-ended"]
    problems = []
    if events[0]["type"] != "session-started" or events[-1]["type"] != "session-ended":
        problems.append("first/last event")
    if any(b < a for a, b in zip(times, times[1:])):
        problems.append("time goes back")
    if len(started) - len(ended) > 1:
        problems.append(f"{len(started) - len(ended)} cues never ended")
    return not problems, f"{len(events)} events, {len(started)} cues" + (f"; {', '.join(problems)}" if problems else "")


def match(said: list[Said], events: list[dict]) -> tuple[int, int, list[str]]:
    """(said commands acted on, in order; commands fired that were not said; notes)."""
    heard = [e for e in events if e["type"] == "command-heard" and e.get("source") == "voice"]
    used: set[int] = set()
    acted, notes = 0, []
    last_t = -1.0
    for s in said:
        hit = next((i for i, e in enumerate(heard) if i not in used and e["command"] == s.command
                    and s.start_seconds <= e["t"] <= s.end_seconds + ACTED_WITHIN_SECONDS), None)
        if hit is None:
            notes.append(f"{s.command} at {s.start_seconds:.1f} s not acted on")
            continue
        used.add(hit)
        t = heard[hit]["t"]
        if effect_seen(s.command, t, events) and t > last_t:
            acted += 1
            last_t = t
        else:
            notes.append(f"{s.command} at {s.start_seconds:.1f} s heard but no effect")
    unsaid = [e for i, e in enumerate(heard) if i not in used]
    notes += [f"fired, not said: {e['command']} at {e['t']:.1f} s ({e.get('text')!r})" for e in unsaid]
    return acted, len(unsaid), notes


def effect_seen(command: str, t: float, events: list[dict]) -> bool:
    near = [e for e in events if t - 1e-6 <= e["t"] <= t + 0.1]
    if command in ("next", "pause", "repeat"):
        return any(e["type"] in ("audio-cancelled", "said") and (e.get("reason") == command or e.get("purpose") == command)
                   for e in near)
    if command == "resume":
        return any(e["type"] == "cue-started" for e in near)
    return any(e["type"] == "session-ended" and e.get("reason") == "stopped" for e in near)


def segment_writer(out, clock: VirtualClock):
    """Every segment the listener decided on, as a JSON line: to see why a command was missed."""
    def write(segment, hyp, heard) -> None:
        out.write(json.dumps({"t": round(clock.now(), 3), "start": round(segment.start_seconds, 3),
                              "end": round(segment.end_seconds, 3), "early": segment.early,
                              "hyp": hyp.text if hyp else None, "confidence": round(hyp.confidence, 3) if hyp else None,
                              "transcript": hyp.transcript if hyp else None,
                              "heard": heard.command if heard else None}) + "\n")
    return write


def print_growth(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, top: int = 12) -> None:
    """Where Python-visible memory (numpy included) grew; what is not here is native."""
    stats = after.compare_to(before, "traceback")
    total = sum(s.size_diff for s in stats) / 2**20
    print(f"Python-visible growth since minute 10: {total:+.1f} MB", file=sys.stderr)
    for stat in stats[:top]:
        print(f"  {stat.size_diff / 2**20:+6.2f} MB  {stat.count_diff:+6d} blocks", file=sys.stderr)
        for line in stat.traceback.format()[-6:]:
            print("      " + line, file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=120.0)
    parser.add_argument("--echo-db", type=float, default=-12.0)
    parser.add_argument("--noise-dbfs", type=float, default=NOISE_DBFS, help="room noise level (RMS)")
    parser.add_argument("--keep", type=Path, help="keep the event log and data folder here")
    parser.add_argument("--segments", type=Path, metavar="FILE",
                        help="write every segment the listener decided on, with what it heard, as JSON lines")
    parser.add_argument("--memory-trace", action="store_true",
                        help="print RSS every 10 session minutes and where Python-visible memory grew")
    args = parser.parse_args()

    from coach.cli.app import compose_runner, load_library, open_output, prepared_timeline, safety_texts
    from coach.cli.safety import open_safety
    from coach.session.events import EventLog
    from coach.listen.listener import open_listener
    from coach.cli.settings import Settings
    from coach.session.view import View

    folder = args.keep or Path(tempfile.mkdtemp(prefix="coach-soak-"))
    shutil.rmtree(folder / "data", ignore_errors=True)
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "notice-shown").write_text("shown\n")
    cache = Path(os.environ.get("COACH_CACHE_DIR") or Path(tempfile.gettempdir()) / "coach-soak-cache")
    settings = Settings(content_dir=REPO / "content", data_dir=folder / "data", cache_dir=cache,
                        clock="virtual", input="voice", baseline_rating=3)

    def new_listener(clock: VirtualClock):
        return open_listener(settings, clock)

    noise = noise_bed(args.noise_dbfs)
    clips = command_clips(new_listener, noise)
    library = load_library(settings)
    session_id = "soak"
    safety = open_safety(settings, session_id)
    wall_start = time.monotonic()
    log_path = folder / "soak.jsonl"
    log_path.unlink(missing_ok=True)          # an event log is appended to: start this one anew
    memory: dict[str, float] = {}
    with ExitStack() as stack:
        a = open_output(settings, stack)
        routine = soak_routine(library, args.minutes)
        timeline = prepared_timeline(routine, library, settings.dose, a.speaker, safety_texts(safety))
        a.sink = PlaybackTap(a.sink if a.sink is not None else NullSink(a.clock), a.clock)
        person = Person(make_plan(args.minutes), clips, noise, a.sink, a.clock)
        a.source = EchoSource(PersonSource(a.clock, person), a.sink, args.echo_db, 40.0)
        a.listener = new_listener(a.clock)
        if args.segments:
            a.listener.observer = segment_writer(stack.enter_context(open(args.segments, "w", encoding="utf-8")),
                                                 a.clock)
        events = stack.enter_context(EventLog(log_path, a.clock, session_id))

        def on_event(record: dict) -> None:
            if "minute_10" not in memory and record["t"] >= 600.0:
                memory["minute_10"] = rss_mb()
                if args.memory_trace:
                    tracemalloc.start(8)
                    memory["snapshot"] = tracemalloc.take_snapshot()
            if args.memory_trace and record["t"] >= memory.get("next_mark", 0.0):
                memory["next_mark"] = record["t"] + 600.0
                print(f"minute {record['t'] / 60:5.1f}: RSS {rss_mb():6.1f} MB", file=sys.stderr, flush=True)

        events.subscribe(on_event)
        view = View(stack.enter_context(open(os.devnull, "w")), live=False)
        runner = compose_runner(settings, timeline, a, events, view, safety, stack)
        person.ready = lambda now: room_for_a_word(runner, now)
        result = runner.run()
        memory["end"] = rss_mb()
        if args.memory_trace and "snapshot" in memory:
            print_growth(memory["snapshot"], tracemalloc.take_snapshot())
    wall = time.monotonic() - wall_start
    logged = [json.loads(line) for line in log_path.read_text(encoding="utf-8").splitlines()]
    acted, unsaid, notes = match(person.said, logged)
    complete, summary = event_log_check(log_path, person.said)
    session_minutes = logged[-1]["t"] / 60.0
    growth = memory["end"] - memory.get("minute_10", float("nan"))
    rows = [
        ("microphone", f"room noise {args.noise_dbfs:g} dBFS, echo {args.echo_db:g} dB at 40 ms", "", None),
        ("session length (virtual)", f"{session_minutes:.1f} min, ended: {result.reason} (exit {result.exit_code})",
         ">= 120 min, stopped", session_minutes >= 120 and result.reason == "stopped"),
        ("commands said / acted on in order", f"{len(person.said)} / {acted}", "40 / 40",
         len(person.said) == 40 and acted == 40),
        ("commands fired, not said", str(unsaid), "0", unsaid == 0),
        ("memory at minute 10 / end (RSS)", f"{memory.get('minute_10', float('nan')):.1f} / {memory['end']:.1f} MB",
         "", None),
        ("memory growth minute 10 -> end", f"{growth:+.1f} MB", "< 20 MB", growth < 20),
        ("event log complete", summary, "complete", complete),
        ("wall time", f"{wall:.0f} s ({wall / max(1e-9, session_minutes):.1f} s per session minute)", "", None),
    ]
    print("| figure | value | target | ok |\n|---|---|---|---|")
    for name, value, target, ok in rows:
        print(f"| {name} | {value} | {target} | {'' if ok is None else ('yes' if ok else 'NO')} |")
    for note in notes:
        print(f"  {note}")
    print(f"event log: {log_path}" if args.keep else "")
    return 0 if all(ok is not False for *_, ok in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
