"""What the coach keeps on this machine: where its data lives, and the SQLite history
of sessions, pain ratings, triage outcomes and locks, committed event by event.
"""

__all__ = ["history"]
