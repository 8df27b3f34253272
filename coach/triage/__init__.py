"""Safety questions: the model of content/triage.yaml, its loading and lint, the
pure walker (answers in, next question or outcome out), the dialog that drives it
over a session's DialogIO, and the person's profile.
"""

__all__ = ["content", "dialog", "lint", "model", "profile", "walker"]
