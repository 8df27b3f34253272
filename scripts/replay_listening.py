"""Replay a debug recording (``coach run --debug-recording DIR``) through a fresh listener.

Prints every segment the endpointer closed, with what the engine heard, whether
the self-hearing guard was up, how much of it the coach's own playback explains,
and the decision; then the commands heard. A live decision can so be reproduced
offline and examined, and a change to the listener tried on real live audio.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from types import SimpleNamespace

from coach.listen.debug_recording import replay
from coach.listen.listener import open_listener


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--engine", default="auto", choices=("auto", "whisper", "vosk"))
    args = parser.parse_args(argv)
    listener = open_listener(SimpleNamespace(engine=args.engine, content_dir=None))

    def show(segment, hyp, heard) -> None:
        kind = "early" if segment.early else "final"
        said = f"{hyp.text!r} {hyp.confidence:.2f}" if hyp is not None else "-"
        print(f"{segment.start_seconds:8.2f}-{segment.end_seconds:6.2f} s {kind} {listener.context:7} "
              f"guarded={listener.guarded(segment)!s:5} explained={listener.explained(segment):.2f} "
              f"removed={listener.echo_removed_db(segment):6.1f} dB "
              f"heard {said:28} -> {heard.command if heard else 'none'}")

    listener.observer = show
    heard = [h for _, decided in replay(args.folder, listener) for h in decided]
    print(f"{len(heard)} command(s): " + ", ".join(f"{h.command} at {h.audio_start_seconds:.2f} s" for h in heard))
    return 0


if __name__ == "__main__":
    sys.exit(main())
