"""Single-key commands from a terminal, for people without a microphone.

During a routine: n next, b back, r repeat, space or p pause/resume, s stop,
+ faster, - slower, t time left, h help, ! pain, and a digit (x for ten) to give
a pain rating: 2 or more above the session's baseline counts as pain.
While a question waits for an answer: y yes, n no, ? not sure, digits 0-9 and
x for ten, r repeat the question, s stop, ! pain.

The terminal is put in cbreak mode (keys arrive at once, Ctrl-C still works) and
always restored on close, also after an exception or Ctrl-C.
"""

from __future__ import annotations

import os
import select
import sys
from typing import TextIO

from coach.content.model import Heard
from coach.clock import Clock
from coach.errors import UsageError

SESSION_KEYS: dict[str, str] = {
    "n": "next", "b": "back", "r": "repeat", " ": "pause", "p": "pause", "s": "stop",
    "+": "faster", "=": "faster", "-": "slower", "_": "slower", "t": "time_left",
    "h": "help", "?": "help", "!": "pain",
}
ANSWER_KEYS: dict[str, str] = {"y": "yes", "n": "no", "?": "not_sure", "r": "repeat", "s": "stop", "!": "pain"}
NUMBER_KEYS: dict[str, str] = {"?": "not_sure", "r": "repeat", "s": "stop", "!": "pain"}

KEY_HELP = ("keys: n next, b back, r repeat, space pause/resume, s stop, + faster, - slower, "
            "t time left, h help, ! pain, 0-9 or x pain rating; answers: y yes, n no, ? not sure, 0-9 and x for ten")


def key_to_heard(key: str, context: str, now_seconds: float | None = None) -> Heard | None:
    """The command a key means in a listening context (``session`` | ``yesno`` | ``number``)."""
    key = key if key == " " else key.lower()
    value: int | None = None
    if context in ("number", "session"):
        if key.isdigit() and len(key) == 1:
            command, value = "number", int(key)
        elif key == "x":
            command, value = "number", 10
        else:
            command = (NUMBER_KEYS if context == "number" else SESSION_KEYS).get(key, "")
    elif context == "yesno":
        command = ANSWER_KEYS.get(key, "")
    else:
        command = SESSION_KEYS.get(key, "")
    if not command:
        return None
    return Heard(command, value, text=key, confidence=1.0, decided_seconds=now_seconds, source="keyboard")


class KeyInput:
    """Non-blocking key reader over a terminal's standard input."""

    def __init__(self, clock: Clock, stream: TextIO | None = None) -> None:
        self.clock = clock
        self.stream = stream or sys.stdin
        self.fd = self.stream.fileno()
        if not os.isatty(self.fd):
            raise UsageError("no-terminal", "keyboard input needs a terminal; use --input none")
        self.context = "session"
        self.ended = False
        self._saved: list | None = None

    def start(self) -> "KeyInput":
        import termios
        import tty

        self._saved = termios.tcgetattr(self.fd)
        tty.setcbreak(self.fd)
        return self

    def set_context(self, context: str) -> None:
        self.context = context

    def poll(self) -> list[Heard]:
        if self.ended:
            return []
        out: list[Heard] = []
        while select.select([self.fd], [], [], 0)[0]:
            data = os.read(self.fd, 64)
            if not data:
                self.ended = True
                break
            for key in data.decode("utf-8", "ignore"):
                heard = key_to_heard(key, self.context, self.clock.now())
                if heard is not None:
                    out.append(heard)
        return out

    def close(self) -> None:
        if self._saved is not None:
            import termios

            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
            self._saved = None

    def __enter__(self) -> "KeyInput":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
