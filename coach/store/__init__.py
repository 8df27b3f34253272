"""What the coach keeps on this machine: where its data lives, and the SQLite history
of sessions, pain ratings, morning reports, triage outcomes and locks, committed event
by event; read back as records (``records``), and exported or restored whole
(``exchange``, JSON with line numbers from ``jsonlines``).
"""

__all__ = ["history"]
