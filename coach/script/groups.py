"""How cues group into steps a person can skip, replay or count down (pure).

"next" skips to the next group and "repeat" replays a spoken group (see
``coach.session.commands``); the view counts down over a whole group.
"""

from __future__ import annotations

from coach.script.timeline import Cue, Timeline

# Which step of an exercise a cue belongs to.
PHASE_BY_PURPOSE: dict[str, str] = {
    "intro": "intro",
    "name": "preamble", "setup": "preamble", "caution": "preamble", "note": "preamble",
    "tip-name": "tip", "tip": "tip",
    "listen": "listen",
    "breathing": "lead", "side": "lead", "set": "lead", "step": "lead",
    "hold-start": "hold", "hold": "hold", "halfway": "hold", "five-more": "hold",
    "release": "release", "release-pause": "release",
    "count": "count",
    "rest-say": "rest", "rest": "rest",
    "timed-start": "timed", "timed": "timed", "time-left": "timed", "timed-end": "timed",
    "rest-between-say": "between", "rest-between": "between",
    "outro": "outro",
}
SPOKEN_PHASES = frozenset({"intro", "preamble", "tip", "lead", "outro"})
PER_REP_PHASES = frozenset({"lead", "hold", "release"})


def group_key(cue: Cue) -> tuple:
    """Cues with equal keys in a row form one group (one step the user can skip)."""
    phase = PHASE_BY_PURPOSE.get(cue.purpose, cue.purpose)
    if phase == "lead" and cue.purpose != "breathing":
        # "Now the left side.", "Set 1 of 2." and the first rep's steps are one group
        return (cue.item_index, cue.side, cue.set_number or 1, cue.rep_number or 1, phase)
    rep = cue.rep_number if phase in PER_REP_PHASES else None
    return (cue.item_index, cue.side, cue.set_number, rep, phase)


def phase_of(cue: Cue) -> str:
    return PHASE_BY_PURPOSE.get(cue.purpose, cue.purpose)


def item_starts(timeline: Timeline) -> list[int]:
    """Index of the first cue of each routine item, in order."""
    starts: list[int] = []
    seen: set[int] = set()
    for i, cue in enumerate(timeline.cues):
        if cue.item_index is not None and cue.item_index not in seen:
            seen.add(cue.item_index)
            starts.append(i)
    return starts


def group_rest_seconds(timeline: Timeline) -> list[float]:
    """For each cue, the seconds of the cues after it in the same group (a countdown
    over a whole hold, rest or set of counts)."""
    rest = [0.0] * len(timeline.cues)
    for i in range(len(timeline.cues) - 2, -1, -1):
        following = timeline.cues[i + 1]
        if group_key(following) == group_key(timeline.cues[i]):
            rest[i] = rest[i + 1] + following.seconds
    return rest
