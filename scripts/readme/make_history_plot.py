"""Render the README's progress plot from a generated, realistic three-week history.

    PYTHONPATH=. .venv/bin/python scripts/readme/make_history_plot.py

writes scripts/readme/history.png (and leaves no history behind).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from coach.report.plot import plot_history
from coach.store.history import History
from coach.testing.histories import three_weeks

OUT = Path(__file__).resolve().parent / "history.png"


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        path = three_weeks(Path(folder) / "history.sqlite3")
        with History(path) as history:
            plot_history(history, OUT, title="Three weeks of sessions: pain before and after")
    print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
