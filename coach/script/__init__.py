"""The pure script engine: a Routine becomes a Timeline of cues (say, pause, count,
chime, listen), grouped into steps a person can skip, replay or count down.
No I/O and no clock: time is passed in as numbers.
"""

__all__ = ["engine", "groups", "timeline"]
