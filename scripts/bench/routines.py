#!/usr/bin/env python3
"""Wall time of `coach run R --text --clock virtual` for every routine (target < 5 s each).

Each run is a separate process, as a person would start it, with a throwaway data dir.
Usage: scripts/bench/routines.py [--dose low|mid|high]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET_SECONDS = 5.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dose", default="low", choices=("low", "mid", "high"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        env = dict(os.environ, PYTHONPATH=str(ROOT), COACH_DATA_DIR=data)
        listing = subprocess.run([sys.executable, "-m", "coach", "list", "--json"], cwd=ROOT, env=env,
                                 capture_output=True, text=True, check=True)
        routines = json.loads(listing.stdout)["routines"]
        print(f"{'routine':<28} {'session':>9} {'cues':>5} {'wall s':>7}  result")
        worst = 0.0
        for r in routines:
            log = Path(data) / f"{r['id']}.jsonl"
            start = time.perf_counter()
            run = subprocess.run([sys.executable, "-m", "coach", "run", r["id"], "--text", "--clock", "virtual",
                                  "--dose", args.dose, "--events", str(log)],
                                 cwd=ROOT, env=env, capture_output=True, text=True)
            wall = time.perf_counter() - start
            worst = max(worst, wall)
            events = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
            cues = sum(1 for e in events if e["type"] == "cue-started")
            end = events[-1] if events else {}
            session = f"{end.get('t', 0) / 60:.1f} min"
            status = end.get("reason", "no log") if run.returncode == 0 else f"exit {run.returncode}"
            print(f"{r['id']:<28} {session:>9} {cues:>5} {wall:7.2f}  {status}")
        print(f"slowest: {worst:.2f} s (target < {TARGET_SECONDS:.0f} s): {'ok' if worst < TARGET_SECONDS else 'TOO SLOW'}")
    return 0 if worst < TARGET_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
