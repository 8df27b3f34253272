"""Draw the README's pictures of the session screen from real virtual-time sessions.

Both run the packaged gentle-floor routine through the real runner, in text mode,
with a quiet room as the microphone (coach.testing.screenrun), on an 80x24
recording console:

- session-screen.svg: mid-hold in knee-to-chest, 'next' heard at the first prompt;
- safety-screen.svg: 'pain' in the first exercise, answered so that triage ends
  with its urgent advice: what stays on the terminal after the session.

Usage: scripts/readme/make_screenshots.py [--out scripts/readme]   (about a minute)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from rich.text import Text  # noqa: E402

from coach.session.screen import LiveView  # noqa: E402
from coach.testing.screenrun import HEIGHT, WIDTH, in_hold, new_console, run_on_screen  # noqa: E402

HERE = Path(__file__).resolve().parent
NEXT_AT, PAIN_AT = 36.0, 75.0


def session_screen(out: Path) -> Path:
    """Mid-hold, a dozen seconds to go."""
    taken: list[bool] = []

    def capture(view: LiveView) -> bool:
        if taken or not in_hold(view, "knee-to-chest", left_at_most=12.0):
            return False
        taken.append(True)
        return True

    run = run_on_screen("gentle-floor", capture=capture, heard=[(NEXT_AT, "next")])
    path = out / "session-screen.svg"
    run.view.snapshots[0].save_svg(str(path), title="coach run gentle-floor")
    return path


def safety_screen(out: Path) -> Path:
    """The end of a session that triage stopped: the advice printed above, the last frame below."""
    run = run_on_screen("gentle-floor", heard=[(NEXT_AT, "next"), (PAIN_AT, "pain")], answers={"A1": "yes"})
    frame = new_console()
    frame.print(run.view.render())
    room = HEIGHT - len(frame.export_text().rstrip("\n").split("\n"))
    said = [e["text"] for e in run.events.of_type("said") if e.get("purpose") in ("triage", "pain")]
    above: list[str] = []
    for text in reversed(said):
        height = len(new_console(WIDTH).render_lines(Text(text), pad=False))
        if height > room:
            break
        above.insert(0, text)
        room -= height
    screen = new_console()
    for text in above:
        screen.print(Text(text, style="bold yellow"))
    screen.print(run.view.render())
    path = out / "safety-screen.svg"
    screen.save_svg(str(path), title="coach run gentle-floor: pain reported")
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for path in (session_screen(args.out), safety_screen(args.out)):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
