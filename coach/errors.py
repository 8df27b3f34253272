"""Errors the user can act on.

Every error carries a stable ``code`` (kebab-case) and an exit status, so the CLI
prints one line and exits without a traceback.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2          # bad arguments or bad content
EXIT_AUDIO = 3          # audio device problem
EXIT_MODEL = 4          # recognizer model missing or broken
EXIT_SAFETY_STOP = 10   # session ended by stop, pain or triage


class CoachError(Exception):
    """Base of all errors that end a command with a one-line message."""

    exit_code = EXIT_FAILURE

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(CoachError):
    exit_code = EXIT_USAGE


class ContentError(CoachError):
    """One or more problems in content files; ``problems`` holds one line each."""

    exit_code = EXIT_USAGE

    def __init__(self, problems: list[str]) -> None:
        super().__init__("content-invalid", "\n".join(problems))
        self.problems = problems


class AudioDeviceError(CoachError):
    exit_code = EXIT_AUDIO


class ModelError(CoachError):
    exit_code = EXIT_MODEL
