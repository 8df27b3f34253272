#!/usr/bin/env python3
"""Hands-free benchmark: halt latency, commands heard or missed, self-triggers, speed, CPU, memory.

Virtual time (every run is `coach run --mic IN.wav --speaker OUT.wav --events E.jsonl`):
- stop (development-set speakers) and "it hurts" (espeak-ng voices) inserted at
  seeded random moments over and between the cues of a routine; halt latency =
  audio-cancelled time (or the decision, when nothing was playing) minus the end
  of the inserted word;
- the coach's own voice echoed at -6 and -12 dB with 40 ms delay over a whole
  routine, by a single path and through rooms (`--echo-room`: a reverberant tail as
  strong as the direct sound, RT60 0.4 and 0.7 s): commands fired (target 0), and
  wall time per 20 session-minutes.
Live rig (PulseAudio null sinks, when installed): CPU share of one core used by the
coach process while it runs a routine, and its peak memory (VmHWM).

    .venv/bin/python scripts/bench/handsfree.py [--trials 24] [--seed 7] [--no-live] [--trial-echo-db -12
        [--trial-echo-room 0.4]] [--keep DIR [--record]]

Each trial prints its latency and end_gap_ms: where the listener put the end of the
words, after the word's end (a gap here is endpointing, the rest is the decision).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from coach.testing import eventlog, micmix  # noqa: E402

RATE = 16_000
VOICES = ("en-us", "en-gb", "en-us+f3", "en-gb-scotland", "en-029", "en-us+m7")
HEARD_WITHIN_SECONDS = 2.0


def coach_env(extra: dict[str, str] | None = None, data_dir: Path | None = None) -> dict[str, str]:
    """The coach's environment; a fresh data folder per run keeps runs independent
    (triage reads the history) and skips the first-run notice."""
    env = {**os.environ, **(extra or {})}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    if data_dir is not None:
        shutil.rmtree(data_dir, ignore_errors=True)
        data_dir.mkdir(parents=True)
        (data_dir / "notice-shown").write_text("shown\n")
        env["COACH_DATA_DIR"] = str(data_dir)
    return env


@dataclass(frozen=True)
class FileRun:
    events: list[dict]
    wall_seconds: float
    returncode: int
    stderr: str


def run_file_session(folder: Path, routine: str, mic: np.ndarray, *extra: str, name: str = "run") -> FileRun:
    mic_path = micmix.write_wav(folder / f"{name}-mic.wav", mic)
    events_path = folder / f"{name}-events.jsonl"
    events_path.unlink(missing_ok=True)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "coach", "run", routine, "--mic", str(mic_path),
         "--speaker", str(folder / f"{name}-out.wav"), "--events", str(events_path), *extra],
        cwd=REPO, env=coach_env(data_dir=folder / f"{name}-data"), capture_output=True, text=True, timeout=900,
    )
    wall = time.monotonic() - started
    events = eventlog.read_events(events_path) if events_path.exists() else []
    return FileRun(events, wall, done.returncode, done.stderr)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


# ------------------------------------------------------------------ halt latency


@dataclass(frozen=True)
class Trial:
    word: str              # "stop" | "pain"
    source: str            # speaker id or espeak voice
    place_seconds: float
    word_end_seconds: float
    during_speech: bool


@dataclass(frozen=True)
class TrialResult:
    trial: Trial
    heard: bool
    latency_seconds: float | None
    others: list[str]
    end_gap_seconds: float | None = None   # the listener's end of the words minus the word's end


def session_span(quiet: FileRun) -> tuple[float, float]:
    starts = eventlog.times(quiet.events, "cue-started")
    return (starts[0] if starts else 0.0), float(eventlog.last(quiet.events, "session-ended")["t"])


def spoken_intervals(out_wav: Path) -> list[tuple[float, float]]:
    """Where the coach is audible in its speaker WAV (20 ms resolution)."""
    speaker = micmix.read_wav(out_wav)
    frame = RATE // 50
    n = speaker.size // frame
    loud = np.abs(speaker[: n * frame].reshape(n, frame)).max(axis=1) > 300
    intervals, start = [], None
    for i, flag in enumerate(loud):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            intervals.append((start / 50, i / 50))
            start = None
    if start is not None:
        intervals.append((start / 50, n / 50))
    return intervals


def word_inside(clip: micmix.DevClip) -> bool:
    """The word's end is measurable: it is not cut by the clip's edges."""
    start, end = micmix.speech_bounds(clip)
    return start >= 0.02 and end <= 0.97


def make_trials(count: int, seed: int, span: tuple[float, float], speech: list[tuple[float, float]]) -> list[tuple[Trial, np.ndarray]]:
    rng = random.Random(seed)
    stops = [c for c in micmix.sample_dev_clips("stop", 3 * count, seed) if word_inside(c)][:count]
    trials = []
    for i in range(count):
        if i % 3 == 2:
            voice = VOICES[(i // 3) % len(VOICES)]
            samples = np.frombuffer(micmix.espeak_pcm("it hurts", voice=voice), np.int16)
            word, source = "pain", voice
        else:
            clip = stops[i]
            samples = micmix.as_samples(clip)
            word, source = "stop", clip.speaker
        start, end = micmix.speech_bounds(samples)
        place = rng.uniform(span[0] + 2.0, min(span[1] - 5.0, span[0] + 240.0))
        word_end = place + end
        during = any(a < word_end and place + start < b for a, b in speech)   # any overlap with the coach's voice
        trials.append((Trial(word, source, round(place, 3), round(word_end, 3), during), samples))
    return trials


def run_trial(folder: Path, routine: str, trial: Trial, samples: np.ndarray, index: int,
              echo_db: float | None = None, record: bool = False, room: float = 0.0) -> TrialResult:
    """One inserted word; with ``echo_db`` the coach's own voice is mixed into the
    microphone too (40 ms delay), as a loudspeaker in the room would. ``record``
    keeps a debug recording of the trial (``trialN-recording``) to replay."""
    mic = micmix.compose_mic_samples(trial.place_seconds + 4.0, [(trial.place_seconds, samples, 0.0)])
    echo = ("--echo-db", str(echo_db), "--echo-delay-ms", "40") if echo_db is not None else ()
    echo += ("--echo-room", str(room)) if echo and room else ()
    recording = ("--debug-recording", str(folder / f"trial{index}-recording")) if record else ()
    run = run_file_session(folder, routine, mic, *echo, *recording, name=f"trial{index}")
    heard = [e for e in eventlog.of_type(run.events, "command-heard") if float(e["t"]) >= trial.place_seconds]
    hit = next((e for e in heard if e.get("command") == trial.word
                and float(e["t"]) <= trial.word_end_seconds + HEARD_WITHIN_SECONDS), None)
    others = [str(e.get("command")) for e in eventlog.of_type(run.events, "command-heard") if e is not hit]
    if hit is None:
        return TrialResult(trial, False, None, others)
    cancelled = eventlog.first(run.events, "audio-cancelled", after_seconds=float(hit["t"]) - 1e-6)
    halt = float(cancelled["t"]) if cancelled is not None and float(cancelled["t"]) - float(hit["t"]) < 0.5 else float(hit["t"])
    audio_end = hit.get("audio_end")
    gap = float(audio_end) - trial.word_end_seconds if audio_end is not None else None
    return TrialResult(trial, True, halt - trial.word_end_seconds, others, gap)


# ------------------------------------------------------------------ live rig


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")   # utime + stime


def proc_peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def live_measure(routine: str, seconds: float, folder: Path, loopback_volume: str | None = None) -> dict[str, float | str]:
    """CPU and memory of a live `coach run` on the rig; with ``loopback_volume`` (e.g.
    "80%", about -6 dB) the speaker's monitor is looped into the microphone, so the
    listener works on the coach's own voice the whole time."""
    try:
        from coach.testing.pulse import missing_tools, pulse_rig
    except ImportError:
        return {"skipped": "coach.testing.pulse is missing"}
    if missing_tools():
        return {"skipped": f"needs {', '.join(missing_tools())}"}
    with pulse_rig() as rig:
        if loopback_volume is not None:
            module = rig.pactl("load-module", "module-loopback", "source=coach_speaker.monitor",
                               "sink=user_mouth", "latency_msec=40")
            for line in rig.pactl("list", "short", "sink-inputs").splitlines():
                fields = line.split("\t")
                if len(fields) > 2 and fields[2] == module:
                    rig.pactl("set-sink-input-volume", fields[0], loopback_volume)
        env = coach_env({**rig.env(), "PULSE_SINK": "coach_speaker", "PULSE_SOURCE": "user_mouth.monitor"},
                        data_dir=folder / f"live{'-loop' if loopback_volume else ''}-data")
        events_path = folder / f"live{'-loop' if loopback_volume else ''}-events.jsonl"
        process = subprocess.Popen(
            [sys.executable, "-m", "coach", "run", routine, "--events", str(events_path)],
            cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and process.poll() is None:
                if events_path.exists() and eventlog.first(eventlog.read_events(events_path), "session-started"):
                    break
                time.sleep(0.1)
            time.sleep(1.0)                                   # warm-up
            if process.poll() is not None:
                return {"skipped": f"coach run exited: {process.stderr.read()[-300:]}"}
            cpu0, wall0 = proc_cpu_seconds(process.pid), time.monotonic()
            peak = proc_peak_mb(process.pid)
            end = wall0 + seconds
            while time.monotonic() < end and process.poll() is None:
                peak = max(peak, proc_peak_mb(process.pid))
                time.sleep(0.5)
            if process.poll() is not None:
                return {"skipped": "coach run ended before the measurement window"}
            cpu1, wall1 = proc_cpu_seconds(process.pid), time.monotonic()
            peak = max(peak, proc_peak_mb(process.pid))
        finally:
            if process.poll() is None:
                process.send_signal(2)                        # Ctrl-C: clean end
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        events = eventlog.read_events(events_path) if events_path.exists() else []
        return {
            "cpu_share": (cpu1 - cpu0) / (wall1 - wall0),
            "peak_mb": peak,
            "window_seconds": wall1 - wall0,
            "commands": len(eventlog.commands_heard(events)),
            "fired": ", ".join(f"{c}@{t:.1f}s" for c, t in eventlog.commands_heard(events)),
        }


# ------------------------------------------------------------------ report


def row(name: str, value: str, target: str, ok: bool | None) -> str:
    mark = "" if ok is None else ("ok" if ok else "MISS")
    return f"| {name:<44} | {value:>22} | {target:>12} | {mark:>4} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routine", default="gentle-floor")
    parser.add_argument("--trials", type=int, default=24)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--live-seconds", type=float, default=60.0)
    parser.add_argument("--no-live", action="store_true")
    parser.add_argument("--trial-echo-db", type=float, metavar="DB",
                        help="also mix the coach's voice into the trials' microphone at this gain")
    parser.add_argument("--trial-echo-room", type=float, default=0.0, metavar="RT60",
                        help="with --trial-echo-db: that echo through a room with this reverberation time")
    parser.add_argument("--keep", help="keep the runs' files in this folder")
    parser.add_argument("--record", action="store_true",
                        help="with --keep: a debug recording of every trial, for scripts/replay_listening.py")
    args = parser.parse_args()
    if shutil.which("espeak-ng") is None:
        print("bench: espeak-ng is required", file=sys.stderr)
        return 2
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="coach-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    lines: list[str] = []

    quiet = run_file_session(folder, args.routine, np.zeros(RATE, np.int16), name="quiet")
    if not quiet.events:
        print(f"bench: coach run failed: {quiet.stderr[-600:]}", file=sys.stderr)
        return 1
    span = session_span(quiet)
    speech = spoken_intervals(folder / "quiet-out.wav")
    session_minutes = span[1] / 60
    lines.append(row(f"quiet session ({args.routine}), session length", f"{span[1]:.0f} s", "", None))
    lines.append(row("quiet session: commands fired", str(len(eventlog.commands_heard(quiet.events))), "0",
                     not eventlog.commands_heard(quiet.events)))
    per20 = quiet.wall_seconds * 20 / max(session_minutes, 1e-6)
    lines.append(row("wall time per 20 session-minutes (silent mic)", f"{per20:.1f} s ({quiet.wall_seconds:.1f} s)", "< 60 s", per20 < 60))

    for echo_db, room in ((-6.0, 0.0), (-12.0, 0.0), (-6.0, 0.4), (-12.0, 0.4), (-6.0, 0.7)):
        label = f"echo {echo_db:.0f} dB" + (f", room RT60 {room:g} s" if room else " / 40 ms")
        echo = run_file_session(folder, args.routine, np.zeros(RATE, np.int16), "--echo-db", str(echo_db),
                                "--echo-delay-ms", "40", *(("--echo-room", str(room)) if room else ()),
                                name=f"echo{int(-echo_db)}" + (f"-room{room:g}" if room else ""))
        fired = eventlog.command_names(echo.events)
        lines.append(row(f"self-triggers, {label}", f"{len(fired)} {sorted(set(fired)) or ''}", "0", not fired and bool(echo.events)))
        if echo.events:
            ended = eventlog.last(echo.events, "session-ended")
            minutes = float(ended["t"]) / 60 if ended else session_minutes
            per20 = echo.wall_seconds * 20 / max(minutes, 1e-6)
            lines.append(row(f"  wall per 20 session-min, {label}", f"{per20:.1f} s", "< 60 s", per20 < 60))
        else:
            lines.append(row(f"  {label} run failed", echo.stderr.strip()[-40:], "", False))

    results = []
    for index, (trial, samples) in enumerate(make_trials(args.trials, args.seed, span, speech)):
        result = run_trial(folder, args.routine, trial, samples, index, args.trial_echo_db, args.record,
                           args.trial_echo_room)
        results.append(result)
        print(json.dumps({"word": trial.word, "source": trial.source, "at": trial.place_seconds,
                          "during_speech": trial.during_speech, "heard": result.heard,
                          "latency_ms": None if result.latency_seconds is None else round(result.latency_seconds * 1000),
                          "end_gap_ms": None if result.end_gap_seconds is None else round(result.end_gap_seconds * 1000),
                          "others": result.others}), flush=True)
    for word in ("stop", "pain"):
        subset = [r for r in results if r.trial.word == word]
        heard = [r for r in subset if r.heard]
        lines.append(row(f"{word}: heard / inserted", f"{len(heard)}/{len(subset)}", "all", len(heard) == len(subset)))
    latencies = [r.latency_seconds * 1000 for r in results if r.latency_seconds is not None]
    over = [r.latency_seconds * 1000 for r in results if r.latency_seconds is not None and r.trial.during_speech]
    p95 = percentile(latencies, 95)
    echo_note = f", echo {args.trial_echo_db:.0f} dB" if args.trial_echo_db is not None else ""
    echo_note += f", room {args.trial_echo_room:g} s" if echo_note and args.trial_echo_room else ""
    lines.append(row(f"halt latency p50 / p95 / max (ms){echo_note}",
                     f"{percentile(latencies, 50):.0f} / {p95:.0f} / {max(latencies) if latencies else float('nan'):.0f}",
                     "p95 <= 300", bool(latencies) and p95 <= 300))
    lines.append(row("  over the coach's speech: n, p95 (ms)", f"{len(over)}, {percentile(over, 95):.0f}", "", None))
    wrong = sum(len(r.others) for r in results)
    lines.append(row("other commands fired in the trials", str(wrong), "0", wrong == 0))

    if args.no_live:
        lines.append(row("live rig", "skipped (--no-live)", "", None))
    else:
        for loop, label in ((None, "silent mic"), ("80%", "own voice looped back, ~-6 dB")):
            live = live_measure(args.routine, args.live_seconds, folder, loop)
            if "skipped" in live:
                lines.append(row(f"live rig ({label})", f"skipped: {live['skipped']}"[:22], "", None))
                continue
            lines.append(row(f"live CPU, one core ({label})", f"{100 * live['cpu_share']:.1f} %", "<= 15 %", live["cpu_share"] <= 0.15))
            lines.append(row(f"live peak memory ({label})", f"{live['peak_mb']:.0f} MB", "< 300 MB", live["peak_mb"] < 300))
            lines.append(row(f"live commands fired ({label})", str(live["commands"]), "0", live["commands"] == 0))
            if live["fired"]:
                print(f"live ({label}) fired: {live['fired']}")

    print()
    print(f"| {'measure':<44} | {'value':>22} | {'target':>12} | {'':>4} |")
    print(f"|{'-' * 46}|{'-' * 24}|{'-' * 14}|{'-' * 6}|")
    for line in lines:
        print(line)
    print(f"\nruns kept in {folder}" if args.keep else "")
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
